"""Uncertainty sampling: least confidence, margin and entropy."""

from ..base import BaseQueryStrategy
from ..kernels._uncertainty import _entropy, _least_confidence, _margin, _top_k


class _UncertaintySampling(BaseQueryStrategy):
    """Pick the rows with the highest uncertainty score; lowest index on ties."""

    _tasks = frozenset({"classification"})
    _needs = "probabilities"
    _score = None
    _auto_device = "numpy"

    def score_pool(self, X_pool):
        """Per-row uncertainty of ``X_pool`` (higher = more informative).

        Parameters
        ----------
        X_pool : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        X_pool, backend = self._prepare_query(X_pool)
        return backend.to_numpy(type(self)._score(self._pool_proba(X_pool, backend)))

    def _select(self, X_pool, batch_size, rng, backend):
        scores = type(self)._score(self._pool_proba(X_pool, backend))
        return _top_k(scores, batch_size)


_DOC = """{summary}

    Classification only. Deterministic: ties go to the lowest index.

    Parameters
    ----------
    estimator : estimator object
        Any classifier with ``predict_proba`` (also inside a ``Pipeline`` or a
        search CV): a forest, ``SVC(probability=True)``, a linear model, a
        skorch net, ...; cloned in :meth:`fit`.
    random_state : int, RandomState instance or None, default=None
        Unused (the strategy is deterministic); kept for a uniform interface.
    device : str, default="auto"
        Backend for the scoring, as in :class:`BADGE`, except that ``"auto"``
        means numpy: the scores are too cheap for a GPU to pay off, and torch
        is then never imported.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter
        The adapter of ``estimator_``; a
        :class:`~skactive.adapters.ProbabilityAdapter` when no registered
        adapter supports it.
    classes_ : ndarray
        Class labels of ``estimator_``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Examples
    --------
    With three classes the uncertainty strategies rank the same rows
    differently:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import {name}
    >>> X = np.array([[3.0, 3.0], [3.0, 0.0], [2.0, 2.0]])
    >>> al = {name}(LogisticRegression()).fit(X, [0, 1, 2])
    >>> X_pool = np.array([[2.0, 3.0], [2.0, 1.0], [3.0, 1.0]])
    >>> al.predict_proba(X_pool).round(2)
    array([[0.45, 0.08, 0.47],
           [0.16, 0.38, 0.46],
           [0.23, 0.48, 0.29]])
    >>> al.query(X_pool, batch_size=3)  # {why}
    array([{order}])
    """


class LeastConfidence(_UncertaintySampling):
    _score = staticmethod(_least_confidence)


class MarginSampling(_UncertaintySampling):
    _score = staticmethod(_margin)


class EntropySampling(_UncertaintySampling):
    _score = staticmethod(_entropy)


LeastConfidence.__doc__ = _DOC.format(
    name="LeastConfidence",
    summary="Pick the rows whose most likely class is least probable.",
    why="largest probability 0.46, then 0.47, then 0.48",
    order="1, 0, 2",
)
MarginSampling.__doc__ = _DOC.format(
    name="MarginSampling",
    summary="Pick the rows with the smallest gap between the two most likely classes.",
    why="top-two gaps 0.03, then 0.08, then 0.19",
    order="0, 1, 2",
)
EntropySampling.__doc__ = _DOC.format(
    name="EntropySampling",
    summary="Pick the rows with the highest predictive entropy.",
    why="entropies 1.05, then 1.02, then 0.92 nats",
    order="2, 1, 0",
)
