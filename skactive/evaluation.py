"""Former home of :mod:`skactive.experiments.evaluation`, kept so that old imports work."""

from .experiments.evaluation import (
    comparison_budgets,
    normalized_error_cdf,
    penalty_matrix,
)

__all__ = [
    "comparison_budgets",
    "normalized_error_cdf",
    "penalty_matrix",
]
