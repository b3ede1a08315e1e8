"""Stopping rules: when has labelling more rows stopped paying off?

Each rule is a small object with one method, :meth:`~BaseStoppingRule.check`,
called once per round after the model is refitted on the labelled set. It
returns True when the rule says stop and records its statistic in
``values_``, so one loop can watch several rules:

>>> import numpy as np
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from skactive import MarginSampling
>>> from skactive.stopping import LabelBudget, StabilizingPredictions
>>> X, y = load_iris(return_X_y=True)
>>> rng = np.random.RandomState(0)
>>> labeled = list(rng.choice(len(y), 6, replace=False))
>>> rules = [StabilizingPredictions(X[::5]), LabelBudget(60)]
>>> al = MarginSampling(LogisticRegression())
>>> while True:
...     _ = al.fit(X[labeled], y[labeled])
...     pool = np.setdiff1d(np.arange(len(y)), labeled)
...     if any([r.check(al, X_pool=X[pool], n_labels=len(labeled)) for r in rules]):
...         break
...     labeled += pool[al.query(X[pool], batch_size=6)].tolist()
>>> len(labeled) <= 60
True

Rules are scikit-learn style: parameters in ``__init__``, state in
attributes ending in ``_``, :func:`sklearn.base.clone` gives a fresh copy.
:func:`skactive.experiments.simulation.active_learning_curve` records when
each rule would have stopped, and ``skactive select`` prints what the rules
say about the current labelled set.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.metrics import cohen_kappa_score

from .kernels import entropy_scores, least_confidence_scores, margin_scores
from .utils._validation import Interval, StrOptions, _num_samples

__all__ = [
    "BaseStoppingRule",
    "LabelBudget",
    "MaxUncertainty",
    "OverallUncertainty",
    "StabilizingPredictions",
]


class BaseStoppingRule(BaseEstimator):
    """Base class of the stopping rules.

    Subclasses implement ``_measure(estimator, X_pool, n_labels)``, the
    statistic of one round, and ``_says_stop(values)``, the rule applied to
    the statistics of all rounds so far.

    Attributes
    ----------
    values_ : list of float
        The statistic of each :meth:`check`, oldest first (NaN where there
        was nothing to measure yet).
    stop_ : bool
        What the last :meth:`check` returned.
    """

    _parameter_constraints = {}

    def check(self, estimator, *, X_pool=None, n_labels=None):
        """Measure the freshly refitted ``estimator``; return whether to stop.

        Parameters
        ----------
        estimator : estimator object
            The model (or strategy wrapping it) fitted on the current
            labelled set.
        X_pool : array-like of shape (n_samples, n_features), default=None
            The unlabelled pool; needed by the uncertainty rules.
        n_labels : int, default=None
            How many rows are labelled; needed by :class:`LabelBudget`.

        Returns
        -------
        stop : bool
            True when the rule says that labelling may stop.

        Raises
        ------
        ValueError
            If the rule needs ``X_pool`` or ``n_labels`` and did not get it.
        """
        self._validate_params()
        value = float(self._measure(estimator, X_pool, n_labels))
        self.values_ = [*getattr(self, "values_", []), value]
        self.stop_ = bool(self._says_stop(self.values_))
        return self.stop_

    def reset(self):
        """Forget every round measured so far; return ``self``."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)
        return self

    def _require(self, name, value):
        if value is None:
            raise ValueError(f"{type(self).__name__}.check needs '{name}'; got None.")
        return value


class StabilizingPredictions(BaseStoppingRule):
    """Stop when successive models agree on a fixed stop set.

    After each round the model predicts the ``stop_set``; Cohen's κ between
    these predictions and the previous round's measures how much the last
    batch changed the model. Labelling stops when the mean κ of the last
    ``window`` rounds reaches ``threshold`` (Bloodgood & Vijay-Shanker, 2009:
    ``threshold=0.99``, ``window=3``). The stop set needs no labels and is
    never queried; a few hundred rows drawn once from the unlabelled data
    are enough. Classification only.

    Parameters
    ----------
    stop_set : array-like of shape (n_stop, n_features)
        Fixed unlabelled rows on which successive models are compared.
    threshold : float, default=0.99
        Mean agreement κ in (0, 1] at which to stop.
    window : int, default=3
        Number of most recent κ values averaged.

    Attributes
    ----------
    values_ : list of float
        κ of each round against the previous one (NaN for the first).
    predictions_ : ndarray of shape (n_stop,)
        The last model's predictions on ``stop_set``.
    stop_ : bool
        What the last :meth:`check` returned.

    Notes
    -----
    Two identical prediction vectors count as κ = 1, even when they hold a
    single class (κ itself is then undefined).

    References
    ----------
    .. [1] M. Bloodgood and K. Vijay-Shanker, "A method for stopping active
       learning based on stabilizing predictions and the need for
       user-adjustable stopping", CoNLL 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive.stopping import StabilizingPredictions
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> rule = StabilizingPredictions(X, window=2)
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> [rule.check(model) for _ in range(3)]
    [False, False, True]
    >>> rule.values_
    [nan, 1.0, 1.0]
    """

    _parameter_constraints = {
        "stop_set": ["array-like"],
        "threshold": [Interval(numbers.Real, 0, 1, closed="right")],
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, stop_set, *, threshold=0.99, window=3):
        self.stop_set = stop_set
        self.threshold = threshold
        self.window = window

    def _measure(self, estimator, X_pool, n_labels):
        if not is_classifier(estimator):
            raise ValueError(
                "StabilizingPredictions compares class predictions; "
                f"{type(estimator).__name__} is not a classifier."
            )
        current = np.asarray(estimator.predict(self.stop_set))
        previous = getattr(self, "predictions_", None)
        self.predictions_ = current
        if previous is None:
            return np.nan
        if np.array_equal(previous, current):
            return 1.0
        return cohen_kappa_score(previous, current)

    def _says_stop(self, values):
        recent = values[-self.window :]
        # The first round has no predecessor, so its κ (NaN) never counts.
        return (
            len(recent) == self.window
            and not np.isnan(recent).any()
            and (np.mean(recent) >= self.threshold)
        )


_UNCERTAINTY = {
    # Each maps probabilities to [0, 1] per row, so one threshold fits any K.
    "entropy": lambda P: entropy_scores(P) / np.log(P.shape[1]),
    "least_confidence": lambda P: least_confidence_scores(P) * P.shape[1] / (P.shape[1] - 1),
    "margin": lambda P: 1.0 + margin_scores(P),
}


class _PoolUncertainty(BaseStoppingRule):
    _parameter_constraints = {
        "threshold": [Interval(numbers.Real, 0, 1, closed="both")],
        "measure": [StrOptions(set(_UNCERTAINTY))],
    }
    _reduce = None

    def __init__(self, threshold=0.05, *, measure="entropy"):
        self.threshold = threshold
        self.measure = measure

    def _measure(self, estimator, X_pool, n_labels):
        X_pool = self._require("X_pool", X_pool)
        if not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"{type(self).__name__} needs class probabilities; "
                f"{type(estimator).__name__} has no predict_proba."
            )
        if _num_samples(X_pool) == 0:
            return 0.0  # every row is labelled: nothing uncertain is left
        P = np.asarray(estimator.predict_proba(X_pool), dtype=np.float64)
        if P.shape[1] < 2:
            return 0.0  # one known class: the model is certain everywhere
        return type(self)._reduce(_UNCERTAINTY[self.measure](P))

    def _says_stop(self, values):
        return values[-1] <= self.threshold


_UNCERTAINTY_DOC = """Stop when the {what} uncertainty of the pool falls to ``threshold``.

    {rule} Uncertainty is the model's ``measure`` of each pool row, scaled to
    [0, 1]: ``"entropy"`` divided by log K, ``"least_confidence"``
    (1 − max p) times K/(K − 1), or ``"margin"`` (1 minus the gap between the
    two most likely classes). Classification only. The papers tune the
    threshold per task; there is no universal value.

    Parameters
    ----------
    threshold : float, default={default}
        Stop once the statistic is at most this value, in [0, 1].
    measure : {{"entropy", "least_confidence", "margin"}}, default="entropy"
        Per-row uncertainty.

    Attributes
    ----------
    values_ : list of float
        The {what} uncertainty of the pool at each :meth:`check`.
    stop_ : bool
        What the last :meth:`check` returned.

    References
    ----------
    .. [1] J. Zhu, H. Wang and E. Hovy, "Multi-criteria-based strategy to stop
       active learning for data annotation", COLING 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive.stopping import {name}
    >>> X = np.array([[-3.0], [-2.0], [2.0], [3.0]])
    >>> model = LogisticRegression(C=100).fit(X, [0, 0, 1, 1])
    >>> {name}(threshold=0.2).check(model, X_pool=np.array([[-4.0], [4.0]]))
    True
    """


class MaxUncertainty(_PoolUncertainty):
    _reduce = staticmethod(np.max)

    def __init__(self, threshold=0.1, *, measure="entropy"):
        super().__init__(threshold, measure=measure)


class OverallUncertainty(_PoolUncertainty):
    _reduce = staticmethod(np.mean)


MaxUncertainty.__doc__ = _UNCERTAINTY_DOC.format(
    what="maximum",
    name="MaxUncertainty",
    default="0.1",
    rule="Max-uncertainty rule: even the most uncertain pool row, the one an "
    "uncertainty strategy would label next, is nearly certain.",
)
OverallUncertainty.__doc__ = _UNCERTAINTY_DOC.format(
    what="mean",
    name="OverallUncertainty",
    default="0.05",
    rule="Overall-uncertainty rule: the pool as a whole is nearly certain.",
)


class LabelBudget(BaseStoppingRule):
    """Stop once ``max_labels`` rows are labelled: the plain budget.

    Parameters
    ----------
    max_labels : int
        Number of labelled rows (initial set included) at which to stop.

    Attributes
    ----------
    values_ : list of float
        ``n_labels`` at each :meth:`check`.
    stop_ : bool
        What the last :meth:`check` returned.

    Examples
    --------
    >>> from skactive.stopping import LabelBudget
    >>> rule = LabelBudget(100)
    >>> rule.check(None, n_labels=80), rule.check(None, n_labels=100)
    (False, True)
    """

    _parameter_constraints = {"max_labels": [Interval(numbers.Integral, 1, None, closed="left")]}

    def __init__(self, max_labels):
        self.max_labels = max_labels

    def _measure(self, estimator, X_pool, n_labels):
        return self._require("n_labels", n_labels)

    def _says_stop(self, values):
        return values[-1] >= self.max_labels
