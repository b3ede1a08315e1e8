"""The only module that imports private scikit-learn helpers.

scikit-learn moves these between releases (``validate_data`` left
``BaseEstimator`` in 1.6); keeping every such import here means one place to
mend when that happens again.
"""

import numbers
import re

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import _num_samples, validate_data

from ..exceptions import NonFiniteOutputError

__all__ = [
    "DEVICE",
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_fit_context",
    "_num_samples",
    "_safe_indexing",
    "check_batch_size",
    "check_device",
    "check_model_output",
    "chunk_n_rows",
    "validate_data",
    "validate_params",
]


class _DeviceOptions(StrOptions):
    """The ``device`` values: "auto", "numpy", "cpu", "cuda" and "cuda:<index>".

    A :class:`StrOptions` (so that scikit-learn's parameter validation takes
    it) whose membership test also admits every CUDA index.
    """

    _PATTERN = re.compile(r"^(auto|numpy|cpu|cuda(:\d+)?)$")

    def __init__(self):
        super().__init__({"auto", "numpy", "cpu", "cuda"})

    def is_satisfied_by(self, val):
        return isinstance(val, str) and self._PATTERN.match(val) is not None

    def __str__(self):
        return "'auto', 'numpy', 'cpu', 'cuda' or 'cuda:<index>'"


#: The one constraint on every ``device`` parameter: strategies'
#: ``_parameter_constraints``, the public kernels and :func:`check_device`.
DEVICE = _DeviceOptions()


def check_device(device, owner="estimator"):
    """Validate the form of a ``device`` string (without importing torch)."""
    validate_parameter_constraints({"device": [DEVICE]}, {"device": device}, caller_name=owner)
    return device


def check_batch_size(batch_size, n_samples):
    """Validate ``batch_size`` against a pool of ``n_samples`` rows."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise InvalidParameterError(
            "The 'batch_size' parameter of query must be an int in the range [1, inf). "
            f"Got {batch_size!r} instead."
        )
    if batch_size < 1:
        raise InvalidParameterError(
            "The 'batch_size' parameter of query must be an int in the range [1, inf). "
            f"Got {batch_size} instead."
        )
    if batch_size > n_samples:
        raise ValueError(f"batch_size={batch_size} should be <= n_samples={n_samples} in X_pool.")
    return int(batch_size)


def check_model_output(array, name):
    """Raise a clear error if a model returned non-finite ``array``.

    ``array`` may be a numpy array or a torch tensor; only its finiteness is
    checked, so no device copy of a tensor is made beyond one reduction.
    """
    if isinstance(array, np.ndarray):
        finite = bool(np.isfinite(array).all())
    else:  # torch tensor
        import torch

        finite = bool(torch.isfinite(array).all())
    if not finite:
        raise NonFiniteOutputError(
            f"The model returned non-finite {name} (NaN or inf); check the fitted "
            "estimator and its input scaling."
        )
    return array


def chunk_n_rows(row_bytes, n_rows):
    """Rows per chunk so that one chunk stays within sklearn's ``working_memory``."""
    return get_chunk_n_rows(row_bytes=max(int(row_bytes), 1), max_n_rows=n_rows)
