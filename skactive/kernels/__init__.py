"""Selection kernels: pure math on (n, ·) arrays, no estimator, numpy or torch.

Each kernel has a validated public function and a private twin that assumes
valid input (``kcenter_greedy`` / ``_kcenter_greedy``).
"""

from ._bait import bait_select
from ._kcenter import kcenter_greedy
from ._kdpp import kdpp_select
from ._kmeanspp import kmeanspp_select
from ._logdet import logdet_select
from ._uncertainty import entropy_scores, least_confidence_scores, margin_scores, top_k

__all__ = [
    "bait_select",
    "entropy_scores",
    "kcenter_greedy",
    "kdpp_select",
    "kmeanspp_select",
    "least_confidence_scores",
    "logdet_select",
    "margin_scores",
    "top_k",
]
