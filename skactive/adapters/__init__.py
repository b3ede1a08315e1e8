"""Adapters: the small protocol between models and query strategies.

A strategy never inspects a model directly. :func:`get_adapter` returns an
object that gives the input of the model's last linear layer (``embed``), its
class probabilities (``predict_proba``) or both from one forward pass
(``embed_predict``).
"""

from ._base import Adapter, BaseAdapter, get_adapter, register_adapter
from ._sklearn import (
    LinearClassifierAdapter,
    LinearRegressorAdapter,
    MLPAdapter,
    PipelineAdapter,
    SearchCVAdapter,
)
from ._skorch import SkorchAdapter

__all__ = [
    "Adapter",
    "BaseAdapter",
    "LinearClassifierAdapter",
    "LinearRegressorAdapter",
    "MLPAdapter",
    "PipelineAdapter",
    "SearchCVAdapter",
    "SkorchAdapter",
    "get_adapter",
    "register_adapter",
]
