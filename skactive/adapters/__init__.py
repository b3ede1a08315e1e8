"""Adapters: the small protocol between models and query strategies.

A strategy never inspects a model directly. :func:`get_adapter` returns an
object that gives the input of the model's last linear layer (``embed``), its
class probabilities (``predict_proba``) or both from one forward pass
(``embed_predict``).
"""

from ._base import (
    BaseAdapter,
    convert_data,
    explain_fit_error,
    get_adapter,
    model_validates_input,
    register_adapter,
    unsupported_message,
)
from ._sklearn import (
    LinearClassifierAdapter,
    LinearRegressorAdapter,
    MLPAdapter,
    PipelineAdapter,
    ProbabilityAdapter,
    SearchCVAdapter,
)
from ._skorch import SkorchAdapter

__all__ = [
    "BaseAdapter",
    "LinearClassifierAdapter",
    "LinearRegressorAdapter",
    "MLPAdapter",
    "PipelineAdapter",
    "ProbabilityAdapter",
    "SearchCVAdapter",
    "SkorchAdapter",
    "convert_data",
    "explain_fit_error",
    "get_adapter",
    "model_validates_input",
    "register_adapter",
    "unsupported_message",
]
