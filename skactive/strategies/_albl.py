"""ALBL: Active Learning by Learning (Hsu & Lin, 2015), an EXP4.P bandit over strategies."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone

from ..base import BaseQueryStrategy
from ..utils._validation import Interval, _fit_context, _num_samples, _safe_indexing
from ._coreset import CoreSet
from ._random import RandomSampling
from ._uncertainty import LeastConfidence


def arm_probabilities(log_weights, p_min):
    """EXP4.P's distribution over arms: ``(1 − N·p_min)·w/Σw + p_min``.

    Computed from log-weights (a softmax), so weights never overflow however
    many rounds the bandit runs. Every entry is ``>= p_min``; they sum to 1.
    """
    z = np.exp(log_weights - np.max(log_weights))
    return (1.0 - len(z) * p_min) * z / z.sum() + p_min


def exp4p_update(log_weights, probabilities, arm, reward, p_min, delta):
    """EXP4.P's weight update after ``reward`` was observed for ``arm``.

    Each arm is an expert advising itself, so with N arms (and N actions)
    every expert ``i`` gets ``(p_min/2)·(r̂_i + v̂_i·√(ln(N/δ)/N))`` added to
    its log-weight: ``r̂_i = reward/p_i`` for the arm played and 0 otherwise,
    ``v̂_i = 1/p_i``. The horizon T of the bound is unknown to a fit/query
    loop and taken as 1, as in the BADGE authors' ALBL.
    """
    n_arms = len(log_weights)
    r_hat = np.zeros(n_arms)
    r_hat[arm] = reward / probabilities[arm]
    v_hat = 1.0 / probabilities
    bonus = math.sqrt(math.log(n_arms / delta) / n_arms)
    return log_weights + 0.5 * p_min * (r_hat + v_hat * bonus)


class ALBL(BaseQueryStrategy):
    """Active Learning by Learning (Hsu & Lin, 2015): a bandit that learns which strategy to use.

    Each round an EXP4.P bandit draws one arm, a query strategy, and that
    strategy selects the whole batch (the batch use of the BADGE paper). The
    bandit is rewarded by the importance-weighted accuracy of the refitted
    model on every row ALBL has queried, so strategies whose batches keep the
    model right on the rows they pick gain probability. Every arm keeps at
    least probability ``p_min``, and a uniform-sampling arm (Hsu & Lin's
    exploration component) is added by default. Classification only.

    The bandit needs the labels of its batches: report them with
    :meth:`tell` after each :meth:`query` (the ask/tell loop; see the user
    guide). :func:`skactive.simulation.active_learning_curve` and
    ``skactive compare`` do this.

    Parameters
    ----------
    estimator : estimator object
        A classifier with an adapter (see :mod:`skactive.adapters`); cloned in
        :meth:`fit` and shared by every arm.
    strategies : list of strategy classes or instances, default=None
        The arms. A class is instantiated around ``estimator`` with its
        defaults; an instance is cloned and its ``estimator`` replaced by
        ALBL's. None means ``[CoreSet, LeastConfidence]``, the BADGE paper's
        ALBL.
    uniform : bool, default=True
        Add :class:`RandomSampling` as a further arm (Hsu & Lin's uniform
        exploration expert). ``False`` with the default arms is the BADGE
        authors' two-arm ALBL.
    delta : float, default=0.1
        Confidence parameter δ in (0, 1) of EXP4.P's variance bonus.
    p_min : float or None, default=None
        Smallest probability of any arm, at most ``1/n_arms``. None means
        ``1/(10·n_arms)``, as in the BADGE authors' ALBL.
    random_state : int, RandomState instance or None, default=None
        Seeds the arm draw and the chosen arm's own draws (the arms'
        ``random_state`` is not used). With an int, round r uses
        ``RandomState([random_state, r])``, r counting the batches told so
        far: every round is reproducible, and repeating :meth:`query`
        before :meth:`tell` asks the same round again (same arm, same
        batch). A RandomState advances from call to call.
    device : str, default="auto"
        Where the arms' kernels run (the arms' own ``device`` is not used).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter
        The adapter of ``estimator_``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    arms_ : list of BaseQueryStrategy
        The arms, set up around ``estimator_`` (not fitted separately).
    log_weights_ : ndarray of shape (n_arms,)
        The bandit's log-weights.
    probabilities_ : ndarray of shape (n_arms,)
        The current arm probabilities (sum 1, each ``>= p_min``).
    arm_history_ : list of int
        The arm drawn for each batch told so far.
    rewards_ : list of float
        The reward credited for each of those batches (one fewer than
        ``arm_history_`` until the next :meth:`query`, which computes it).
    n_rounds_ : int
        Batches told since the bandit (re)started.

    See Also
    --------
    CoreSet, LeastConfidence, RandomSampling : The default arms.

    Notes
    -----
    *Reward.* After round t's batch is told and the model refitted, the
    next :meth:`query` credits the arm of round t with Hsu & Lin's IW-ACC,
    ``(1/(N·m)) Σ_τ W_τ·1[f(x_τ) = y_τ]`` over the m rows queried so far,
    ``W_τ = 1/p`` with p the probability of the arm that picked row τ when it
    picked it, and N the number of arms. Hsu & Lin divide by ``n·T`` (pool
    size and budget), which a fit/query loop does not know; since
    ``E[W] = N`` this normalisation keeps the reward near the accuracy.

    *Update.* EXP4.P (Beygelzimer et al., 2011) with each arm an expert that
    advises itself; see :func:`exp4p_update`. The weights live in log space.

    *State across rounds.* :meth:`fit` refits the estimator and the arms'
    set-up but keeps the bandit (weights, history, queried rows) when it is
    given at least as many labelled rows as the previous :meth:`fit` and the
    number of arms is unchanged; fewer rows (a new experiment) or another
    number of arms restarts it. :func:`~sklearn.base.clone` always gives a
    fresh bandit.

    References
    ----------
    .. [1] W.-N. Hsu and H.-T. Lin, "Active Learning by Learning", AAAI 2015.
    .. [2] A. Beygelzimer, J. Langford, L. Li, L. Reyzin and R. Schapire,
       "Contextual Bandit Algorithms with Supervised Learning Guarantees",
       AISTATS 2011.
    .. [3] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import ALBL
    >>> X, y = load_iris(return_X_y=True)
    >>> labeled = list(range(0, 150, 15))
    >>> al = ALBL(LogisticRegression(), random_state=0)
    >>> for _ in range(3):
    ...     pool = np.setdiff1d(np.arange(150), labeled)
    ...     _ = al.fit(X[labeled], y[labeled])
    ...     picks = pool[al.query(X[pool], batch_size=5)]
    ...     _ = al.tell(y[picks])  # the labels of the batch, in query order
    ...     labeled.extend(picks.tolist())
    >>> len(al.arm_history_), round(float(al.probabilities_.sum()), 12)
    (3, 1.0)
    """

    _parameter_constraints = {
        **BaseQueryStrategy._parameter_constraints,
        "strategies": [list, tuple, None],
        "uniform": ["boolean"],
        "delta": [Interval(Real, 0, 1, closed="neither")],
        "p_min": [Interval(Real, 0, None, closed="neither"), None],
    }
    _tasks = frozenset({"classification"})

    def __init__(
        self,
        estimator,
        *,
        strategies=None,
        uniform=True,
        delta=0.1,
        p_min=None,
        random_state=None,
        device="auto",
    ):
        super().__init__(estimator, random_state=random_state, device=device)
        self.strategies = strategies
        self.uniform = uniform
        self.delta = delta
        self.p_min = p_min

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the estimator, set up the arms around it, keep the bandit (see Notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labelled samples.
        y : array-like of shape (n_samples,)
            Their labels.
        **fit_params : dict
            Passed to the wrapped estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted strategy.
        """
        arms = self._make_arms()
        p_min = 1.0 / (10 * len(arms)) if self.p_min is None else float(self.p_min)
        if p_min > 1.0 / len(arms):
            raise ValueError(
                f"p_min={self.p_min} should be <= 1/n_arms = {1.0 / len(arms):.6g} "
                f"for {len(arms)} arms."
            )
        super().fit(X, y, **fit_params)
        for arm in arms:
            arm.estimator_ = self.estimator_
            arm._attach(X)
        self.arms_, self._p_min = arms, p_min
        n = _num_samples(X)
        if (
            getattr(self, "_fit_rows", None) is None
            or n < self._fit_rows
            or (len(self.log_weights_) != len(arms))
        ):
            self._restart(len(arms))
        self._fit_rows = n
        return self

    def _make_arms(self):
        specs = [CoreSet, LeastConfidence] if self.strategies is None else list(self.strategies)
        if self.uniform:
            specs.append(RandomSampling)
        if not specs:
            raise ValueError("strategies is empty and uniform=False; ALBL needs at least one arm.")
        arms = []
        for i, spec in enumerate(specs):
            if isinstance(spec, type) and issubclass(spec, BaseQueryStrategy):
                arm = spec(self.estimator)
            elif isinstance(spec, BaseQueryStrategy):
                arm = clone(spec).set_params(estimator=self.estimator)
            else:
                raise TypeError(
                    f"strategies[{i}] should be a skactive strategy class or instance; "
                    f"got {spec!r}."
                )
            if isinstance(arm, ALBL):
                raise TypeError(f"strategies[{i}] is an ALBL; an arm cannot be a bandit.")
            arm._validate_params()
            arms.append(arm)
        return arms

    def _restart(self, n_arms):
        self.log_weights_ = np.zeros(n_arms)
        self.arm_history_, self.rewards_ = [], []
        self.n_rounds_ = 0
        self._queried = []  # (rows of X, labels, importance weight) per told batch
        self._pending = None  # the last query's (rows, arm, probabilities)
        self._reward_due = None  # (arm, probabilities) of the last told batch
        self._last_query_size = None

    @property
    def probabilities_(self):
        """Current arm probabilities (sum 1, each at least ``p_min``)."""
        return arm_probabilities(self.log_weights_, self._p_min)

    def importance_weights(self):
        """``1/p`` of every row queried and told so far, in query order.

        Returns
        -------
        weights : ndarray of shape (n_queried,)
        """
        if not getattr(self, "_queried", None):
            return np.zeros(0)
        return np.concatenate([np.full(len(y), w) for _, y, w in self._queried])

    def _round_rng(self, rng):
        if isinstance(self.random_state, Integral):
            return np.random.RandomState([int(self.random_state), self.n_rounds_])
        return rng

    def _reward(self):
        """IW-ACC of the current model on every queried row (see Notes)."""
        hits = sum(w * np.sum(self.estimator_.predict(X) == y) for X, y, w in self._queried)
        m = sum(len(y) for _, y, _ in self._queried)
        return float(hits) / (len(self.arms_) * m)

    def _learn(self):
        """Credit the arm of the last told batch, with the model refitted since."""
        if self._reward_due is None:
            return
        arm, probabilities = self._reward_due
        reward = self._reward()
        self.log_weights_ = exp4p_update(
            self.log_weights_, probabilities, arm, reward, self._p_min, self.delta
        )
        self.rewards_.append(reward)
        self._reward_due = None

    def _select(self, X_pool, batch_size, rng, backend):
        rng = self._round_rng(rng)
        self._learn()
        probabilities = self.probabilities_
        # One host uniform, inverse CDF over the arms (last arm if u rounds past 1).
        arm = min(
            int(np.searchsorted(np.cumsum(probabilities), rng.uniform())), len(self.arms_) - 1
        )
        picks = self.arms_[arm]._select(X_pool, batch_size, rng, backend)
        picks = np.asarray(backend.to_numpy(picks), dtype=np.int64)
        self._pending = (_safe_indexing(X_pool, picks), arm, probabilities)
        return picks

    def _tell(self, y_queried):
        rows, arm, probabilities = self._pending
        self._queried.append((rows, np.asarray(y_queried), 1.0 / probabilities[arm]))
        self.arm_history_.append(arm)
        self._reward_due = (arm, probabilities)
        self._pending = None
        self.n_rounds_ += 1
