"""CoreSet: greedy k-center on last-layer embeddings."""

from ..base import BaseQueryStrategy
from ..kernels._kcenter import _kcenter_greedy


class CoreSet(BaseQueryStrategy):
    """Greedy k-center selection on last-layer embeddings (Sener & Savarese, 2018).

    Each pick is the pool row farthest (Euclidean) from its nearest centre,
    where the centres are the labelled rows seen in :meth:`fit` and the rows
    picked so far (the "furthest first" rule of the BADGE authors' code).
    Lowest index on ties; with no labelled rows the first pick is the row of
    largest norm. Works for classification and regression.

    Parameters
    ----------
    estimator : estimator object
        A model with an adapter (see :mod:`skactive.adapters`); cloned in
        :meth:`fit`.
    random_state : int, RandomState instance or None, default=None
        Unused (the strategy is deterministic); kept for a uniform interface.
    device : str, default="auto"
        Where the kernel runs: ``"auto"``, ``"numpy"``, ``"cpu"``, ``"cuda"``
        or ``"cuda:<i>"``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter
        The adapter of ``estimator_``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Notes
    -----
    Cost: O(n·d) per pick plus an O(n·L·d) start computed in chunks bounded
    by scikit-learn's ``working_memory``; memory O(n·d) for the embeddings.
    The labelled embeddings are computed once in :meth:`fit` with the fitted
    model, so they live in the same space as the pool's.

    References
    ----------
    .. [1] O. Sener and S. Savarese, "Active Learning for Convolutional Neural
       Networks: A Core-Set Approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skactive import CoreSet
    >>> X = np.array([[0.0], [1.0], [5.0], [6.0]])
    >>> al = CoreSet(Ridge()).fit(X[:1], [0.0])
    >>> al.query(X, batch_size=2)
    array([3, 1])
    """

    _needs_labeled = True

    def _uses_proba(self):
        return False

    def _select(self, X_pool, batch_size, rng, backend):
        H, _ = self._outputs(X_pool, backend)
        return _kcenter_greedy(H, self._labeled(backend)[0], batch_size, backend.xp)
