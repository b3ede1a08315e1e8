"""Former home of :mod:`skactive.experiments.plotting`, kept so that old imports work."""

from .experiments.plotting import (
    plot_error_cdf,
    plot_learning_curves,
    plot_penalty_matrix,
)

__all__ = [
    "plot_error_cdf",
    "plot_learning_curves",
    "plot_penalty_matrix",
]
