"""Uniform random sampling."""

from ..base import BaseQueryStrategy
from ..utils._validation import _num_samples


class RandomSampling(BaseQueryStrategy):
    """Pick pool rows uniformly at random without replacement.

    The baseline of every active-learning comparison. Works with any
    estimator, supported by an adapter or not.

    Parameters
    ----------
    estimator : estimator object
        The model to wrap; cloned in :meth:`fit`.
    random_state : int, RandomState instance or None, default=None
        An int gives the same batch on every call; a RandomState advances.
    device : str, default="auto"
        Accepted for a uniform interface; the draw always happens on the host.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter or None
        The adapter of ``estimator_``, or None if it has none.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import RandomSampling
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> al = RandomSampling(LogisticRegression(), random_state=0).fit(X[:4], [0, 1, 0, 1])
    >>> al.query(X, batch_size=3)
    array([2, 8, 4])
    """

    _needs = "nothing"
    _auto_device = "numpy"

    def _select(self, X_pool, batch_size, rng, backend):
        # A permutation's head, as the reference code draws it.
        # _num_samples: a list or tuple pool has no .shape.
        return rng.permutation(_num_samples(X_pool))[:batch_size]
