"""Uncertainty scores from class probabilities (higher = more informative)."""

from ..backends import namespace as _xp


def least_confidence_scores(P):
    """``1 - max_c p_c`` for each row of ``P``.

    Parameters
    ----------
    P : array of shape (n, K)
        Class probabilities (numpy array or torch tensor).

    Returns
    -------
    scores : array of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import least_confidence_scores
    >>> least_confidence_scores(np.array([[0.9, 0.1], [0.6, 0.4]])).round(2).tolist()
    [0.1, 0.4]
    """
    xp = _xp(P)
    return 1.0 - xp.max(P, axis=1)


def margin_scores(P):
    """Minus the gap between the two largest probabilities of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import margin_scores
    >>> margin_scores(np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])).round(2).tolist()
    [-0.5, -0.05]
    """
    xp = _xp(P)
    if P.shape[1] < 2:
        return xp.zeros((P.shape[0],), dtype=P.dtype)
    top = xp.sort(P, axis=1)
    return top[:, -2] - top[:, -1]


def entropy_scores(P):
    """Predictive entropy ``-sum_c p_c log p_c`` of each row (``0 log 0 = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import entropy_scores
    >>> entropy_scores(np.array([[1.0, 0.0], [0.5, 0.5]])).round(4).tolist()
    [0.0, 0.6931]
    """
    xp = _xp(P)
    safe = xp.where(P > 0, P, xp.ones_like(P))
    return -xp.sum(P * xp.log(safe), axis=1)


def top_k(scores, k):
    """Indices of the ``k`` largest scores, largest first, lowest index on ties.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import top_k
    >>> top_k(np.array([0.1, 0.5, 0.5, 0.2]), 3).tolist()
    [1, 2, 3]
    """
    xp = _xp(scores)
    # A stable sort of -scores keeps equal scores in index order.
    return xp.argsort(-scores, stable=True)[:k]
