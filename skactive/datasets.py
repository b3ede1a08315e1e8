"""Former home of :mod:`skactive.experiments.datasets`, kept so that old imports work."""

from .experiments.datasets import (
    DATASETS,
    load_dataset,
    load_npz,
)

__all__ = [
    "DATASETS",
    "load_dataset",
    "load_npz",
]
