"""Uncertainty scores from class probabilities (higher = more informative).

Each public score validates ``P`` and calls its private twin, which the
strategies call directly on model output they have already checked.
"""

import numbers

from ..backends import namespace as _xp
from ..utils._validation import Interval, validate_params
from ._common import _device_kw, array_backend, check_kernel_array


def _least_confidence(P):
    xp = _xp(P)
    return 1.0 - xp.max(P, axis=1)


def _margin(P):
    xp = _xp(P)
    if P.shape[1] < 2:
        # One class: no runner-up, every row equally (un)certain. On P's
        # device: a CUDA P must give CUDA scores.
        return xp.zeros((P.shape[0],), dtype=P.dtype, **_device_kw(P))
    top = xp.sort(P, axis=1)
    return top[:, -2] - top[:, -1]


def _entropy(P):
    xp = _xp(P)
    # 0·log 0 = 0: log(1) = 0 stands in where p = 0, so no NaN arises.
    safe = xp.where(P > 0, P, xp.ones_like(P))
    return -xp.sum(P * xp.log(safe), axis=1)


def _top_k(scores, k):
    xp = _xp(scores)
    # A stable sort of -scores keeps equal scores in index order.
    return xp.argsort(-scores, stable=True)[:k]


def _checked(P, name="P"):
    """``P`` as a finite 2-D float64 array, left on its device if a tensor."""
    return check_kernel_array(P, name, array_backend(P))


_PROBA = {"P": ["array-like"]}


@validate_params(_PROBA, prefer_skip_nested_validation=True)
def least_confidence_scores(P):
    """``1 - max_c p_c`` for each row of ``P``.

    Parameters
    ----------
    P : array-like of shape (n, K)
        Class probabilities: a numpy array, anything ``check_array`` takes,
        or a torch tensor (the scores stay on its device).

    Returns
    -------
    scores : ndarray or torch.Tensor of shape (n,)
        Least-confidence score of each row, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import least_confidence_scores
    >>> least_confidence_scores(np.array([[0.9, 0.1], [0.6, 0.4]])).round(2).tolist()
    [0.1, 0.4]
    """
    return _least_confidence(_checked(P))


@validate_params(_PROBA, prefer_skip_nested_validation=True)
def margin_scores(P):
    """Minus the gap between the two largest probabilities of each row.

    Parameters
    ----------
    P : array-like of shape (n, K)
        Class probabilities: a numpy array, anything ``check_array`` takes,
        or a torch tensor (the scores stay on its device).

    Returns
    -------
    scores : ndarray or torch.Tensor of shape (n,)
        ``p_(2) − p_(1)`` of each row (0 for every row when K = 1), float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import margin_scores
    >>> margin_scores(np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])).round(2).tolist()
    [-0.5, -0.05]
    """
    return _margin(_checked(P))


@validate_params(_PROBA, prefer_skip_nested_validation=True)
def entropy_scores(P):
    """Predictive entropy ``-sum_c p_c log p_c`` of each row (``0 log 0 = 0``).

    Parameters
    ----------
    P : array-like of shape (n, K)
        Class probabilities: a numpy array, anything ``check_array`` takes,
        or a torch tensor (the scores stay on its device).

    Returns
    -------
    scores : ndarray or torch.Tensor of shape (n,)
        Entropy of each row in nats, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import entropy_scores
    >>> entropy_scores(np.array([[1.0, 0.0], [0.5, 0.5]])).round(4).tolist()
    [0.0, 0.6931]
    """
    return _entropy(_checked(P))


@validate_params(
    {"scores": ["array-like"], "k": [Interval(numbers.Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def top_k(scores, k):
    """Indices of the ``k`` largest scores, largest first, lowest index on ties.

    Parameters
    ----------
    scores : array-like of shape (n,)
        One score per row: a numpy array or a torch tensor.
    k : int
        How many indices to return, in ``[1, n]``.

    Returns
    -------
    indices : ndarray or torch.Tensor of shape (k,)
        Integer indices into ``scores``, on ``scores``' device.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import top_k
    >>> top_k(np.array([0.1, 0.5, 0.5, 0.2]), 3).tolist()
    [1, 2, 3]
    """
    backend = array_backend(scores)
    xp = backend.xp
    scores = check_kernel_array(xp.reshape(backend.asarray(scores), (-1, 1)), "scores", backend)
    if k > scores.shape[0]:
        raise ValueError(f"k={k} should be in [1, n_samples={scores.shape[0]}].")
    return _top_k(scores[:, 0], k)
