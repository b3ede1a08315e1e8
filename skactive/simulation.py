"""Former home of :mod:`skactive.experiments.simulation`, kept so that old imports work."""

from .experiments.simulation import (
    ActiveLearningResult,
    ResultCollection,
    active_learning_curve,
    compare_strategies,
)

__all__ = [
    "ActiveLearningResult",
    "ResultCollection",
    "active_learning_curve",
    "compare_strategies",
]
