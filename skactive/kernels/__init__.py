"""Selection kernels: pure math on (n, ·) arrays, no estimator, numpy or torch.

Each kernel has a validated public function and a private twin that assumes
valid input (``kcenter_greedy`` / ``_kcenter_greedy``).
"""

from ._kcenter import kcenter_greedy
from ._uncertainty import entropy_scores, least_confidence_scores, margin_scores, top_k

__all__ = [
    "entropy_scores",
    "kcenter_greedy",
    "least_confidence_scores",
    "margin_scores",
    "top_k",
]
