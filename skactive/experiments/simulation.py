"""Simulated active learning: the papers' experimental protocol as functions.

:func:`active_learning_curve` runs one strategy from a random initial set:
query a batch, reveal its labels, refit the model from scratch, score it on a
held-out test set, and repeat. :func:`compare_strategies` does that for
several strategies and repeats (optionally in parallel) and returns a
:class:`ResultCollection`, the input of :mod:`skactive.experiments.evaluation` and
:mod:`skactive.experiments.plotting`. Results are saved as JSON, never pickled.
"""

import copy
import json
import numbers
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.metrics import get_scorer
from sklearn.utils import check_array, check_consistent_length, check_random_state

__all__ = [
    "ActiveLearningResult",
    "ResultCollection",
    "active_learning_curve",
    "compare_strategies",
]

_FORMAT = "skactive-simulation"
_FORMAT_VERSION = 1


class ActiveLearningResult:
    """The learning curve of one strategy in one simulated run.

    Entry ``r`` of each per-round array describes round ``r``; round 0 is
    the model fitted on the random initial set (no query, so its query time
    is 0).

    Parameters
    ----------
    strategy : str
        Name of the strategy (a label for tables and plots).
    n_labels : array-like of shape (n_rounds + 1,)
        Number of labelled rows after each round.
    scores : array-like of shape (n_rounds + 1,)
        Test score after each round (higher is better).
    query_time : array-like of shape (n_rounds + 1,)
        Seconds spent in ``query`` in each round.
    fit_time : array-like of shape (n_rounds + 1,)
        Seconds spent in ``fit`` in each round.
    selected : list of array-like of int
        ``selected[0]`` holds the initial rows, ``selected[r]`` the batch
        queried in round ``r``, in pick order; indices are rows of the
        training pool ``X``.
    scoring : str, default="score"
        Name of the test score.
    setting : str or None, default=None
        Label of the experimental setting (data set, batch size, model) the
        run belongs to; :mod:`skactive.experiments.evaluation` groups runs by it.
    repeat : int or None, default=None
        Index of the repeat; runs with the same setting and repeat share their
        initial set, which is what makes the paired tests paired.
    info : dict or None, default=None
        Other JSON-serialisable facts about the run.
    stopped_at : dict of str to int or None, default=None
        For each stopping rule watched during the run, the number of labels
        at the first round where it said stop (None if it never did).

    Examples
    --------
    >>> from skactive.experiments.simulation import ActiveLearningResult
    >>> res = ActiveLearningResult("random", [10, 20], [0.5, 0.7], [0.0, 0.1],
    ...                            [0.2, 0.2], [[0, 1], [5, 6]])
    >>> res.final_score
    0.7
    >>> ActiveLearningResult.from_dict(res.to_dict()).n_labels
    array([10, 20])
    """

    def __init__(
        self,
        strategy,
        n_labels,
        scores,
        query_time,
        fit_time,
        selected,
        *,
        scoring="score",
        setting=None,
        repeat=None,
        info=None,
        stopped_at=None,
    ):
        self.strategy = str(strategy)
        self.n_labels = np.asarray(n_labels, dtype=np.int64)
        self.scores = np.asarray(scores, dtype=np.float64)
        self.query_time = np.asarray(query_time, dtype=np.float64)
        self.fit_time = np.asarray(fit_time, dtype=np.float64)
        self.selected = [np.asarray(s, dtype=np.int64) for s in selected]
        self.scoring = scoring
        self.setting = setting
        self.repeat = repeat
        self.info = dict(info or {})
        self.stopped_at = dict(stopped_at or {})
        n = len(self.n_labels)
        lengths = [len(self.scores), len(self.query_time), len(self.fit_time), len(self.selected)]
        if any(m != n for m in lengths):
            raise ValueError(
                "n_labels, scores, query_time, fit_time and selected should have the same "
                f"length; got {[n, *lengths]}."
            )

    @property
    def final_score(self):
        """Test score after the last round."""
        return float(self.scores[-1])

    def to_dict(self):
        """Plain Python form (lists, numbers, strings): what :meth:`save` writes."""
        return {
            "strategy": self.strategy,
            "n_labels": self.n_labels.tolist(),
            "scores": self.scores.tolist(),
            "query_time": self.query_time.tolist(),
            "fit_time": self.fit_time.tolist(),
            "selected": [s.tolist() for s in self.selected],
            "scoring": self.scoring,
            "setting": self.setting,
            "repeat": self.repeat,
            "info": self.info,
            "stopped_at": self.stopped_at,
        }

    @classmethod
    def from_dict(cls, data):
        """Rebuild a result from :meth:`to_dict`'s output."""
        data = dict(data)
        positional = [
            data.pop(k)
            for k in ("strategy", "n_labels", "scores", "query_time", "fit_time", "selected")
        ]
        return cls(*positional, **data)

    def save(self, path):
        """Write the result to ``path`` as JSON (no pickle)."""
        _write_json(path, {"result": self.to_dict()})

    @classmethod
    def load(cls, path):
        """Read a result written by :meth:`save`."""
        return cls.from_dict(_read_json(path, "result"))

    def __repr__(self):
        return (
            f"ActiveLearningResult(strategy={self.strategy!r}, rounds={len(self.n_labels) - 1}, "
            f"n_labels={int(self.n_labels[-1])}, final {self.scoring}={self.final_score:.4g})"
        )


class ResultCollection:
    """Learning curves of several strategies, settings and repeats.

    A list of :class:`ActiveLearningResult` with grouping helpers and a JSON
    file form. Iterating yields the results in the order they were added.

    Parameters
    ----------
    results : iterable of ActiveLearningResult, default=()
        The runs.

    Examples
    --------
    >>> from skactive.experiments.simulation import ActiveLearningResult, ResultCollection
    >>> runs = [ActiveLearningResult("random", [10, 20], [0.5, s], [0, 0], [0, 0],
    ...                              [[0], [1]], repeat=r) for r, s in enumerate([0.6, 0.8])]
    >>> col = ResultCollection(runs)
    >>> n_labels, scores = col.curves()[None]["random"]
    >>> scores
    array([[0.5, 0.6],
           [0.5, 0.8]])
    """

    def __init__(self, results=()):
        self.results = list(results)

    def __iter__(self):
        return iter(self.results)

    def __len__(self):
        return len(self.results)

    def __getitem__(self, i):
        return self.results[i]

    def append(self, result):
        """Add one result."""
        self.results.append(result)

    def extend(self, results):
        """Add several results (e.g. another collection)."""
        self.results.extend(results)

    @property
    def strategies(self):
        """Strategy names, in order of first appearance."""
        return list(dict.fromkeys(r.strategy for r in self.results))

    @property
    def settings(self):
        """Setting labels, in order of first appearance."""
        return list(dict.fromkeys(r.setting for r in self.results))

    def curves(self):
        """Group the runs into ``{setting: {strategy: (n_labels, scores)}}``.

        ``scores`` has shape ``(n_repeats, n_points)``, rows sorted by
        ``repeat``; this is the form :mod:`skactive.experiments.evaluation` takes. Runs of
        one strategy and setting are cut to their shortest run's length.
        """
        grouped = {}
        for res in self.results:
            grouped.setdefault(res.setting, {}).setdefault(res.strategy, []).append(res)
        out = {}
        for setting, by_strategy in grouped.items():
            out[setting] = {}
            for name, runs in by_strategy.items():
                runs = sorted(runs, key=lambda r: -1 if r.repeat is None else r.repeat)
                n = min(len(r.n_labels) for r in runs)
                scores = np.array([r.scores[:n] for r in runs])
                out[setting][name] = (runs[0].n_labels[:n].copy(), scores)
        return out

    def to_dict(self):
        """Plain Python form: ``{"results": [result.to_dict(), ...]}``."""
        return {"results": [r.to_dict() for r in self.results]}

    @classmethod
    def from_dict(cls, data):
        """Rebuild a collection from :meth:`to_dict`'s output."""
        return cls(ActiveLearningResult.from_dict(d) for d in data["results"])

    def save(self, path):
        """Write all results to ``path`` as one JSON file (no pickle)."""
        _write_json(path, self.to_dict())

    @classmethod
    def load(cls, path):
        """Read a collection written by :meth:`save`."""
        return cls.from_dict({"results": _read_json(path, "results")})

    def __repr__(self):
        return (
            f"ResultCollection({len(self.results)} runs, strategies={self.strategies}, "
            f"settings={self.settings})"
        )


def _write_json(path, payload):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": _FORMAT, "version": _FORMAT_VERSION, **payload}
    # allow_nan=False: a NaN score would make a file other JSON readers reject.
    path.write_text(json.dumps(_finite(doc), allow_nan=False))


def _finite(obj):
    """Replace non-finite floats by None so the JSON stays standard."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _read_json(path, key):
    try:
        doc = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a skactive results file: {exc}.") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT or key not in doc:
        raise ValueError(f"{path} is not a skactive results file holding {key!r}.")
    return doc[key]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"The '{name}' parameter must be an int in the range [{minimum}, inf). "
            f"Got {value!r} instead."
        )
    return int(value)


def _initial_indices(y, initial_size, classification, rng):
    """Draw the random initial set (as the papers' code: uniform, no stratification)."""
    idx = rng.choice(len(y), size=initial_size, replace=False)
    if not classification or y.ndim != 1:
        return idx
    # A classifier cannot be fit on one class: swap one drawn row for a random
    # row of another class. Other missing classes stay missing, as in the papers.
    if len(np.unique(y[idx])) < 2:
        others = np.flatnonzero(y != y[idx[0]])
        idx[-1] = rng.choice(others)
    return idx


def _n_rounds(n_samples, initial_size, batch_size, n_rounds, budget):
    available = (n_samples - initial_size) // batch_size
    rounds = []
    if n_rounds is not None:
        rounds.append(_check_int(n_rounds, "n_rounds", 0))
    if budget is not None:
        budget = _check_int(budget, "budget", initial_size)
        rounds.append((budget - initial_size) // batch_size)
    if not rounds:
        return available
    if min(rounds) > available:
        raise ValueError(
            f"n_rounds={min(rounds)} rounds of batch_size={batch_size} need "
            f"{initial_size + min(rounds) * batch_size} rows, but X has {n_samples}."
        )
    return min(rounds)


def _seed_unset(strategy, rng):
    """Seed every ``random_state`` left at None so that a run is reproducible.

    The strategy gets a RandomState (its draws then advance from round to
    round); nested estimators get ints (each refit then starts the same way).
    Keys are visited in sorted order so strategies wrapping the same
    estimator give it the same seed.
    """
    params = strategy.get_params(deep=True)
    keys = sorted(k for k in params if k.split("__")[-1] == "random_state" and params[k] is None)
    updates = {k: int(rng.randint(np.iinfo(np.int32).max)) for k in keys}
    if "random_state" in updates:
        updates["random_state"] = np.random.RandomState(updates["random_state"])
    return strategy.set_params(**updates)


def _scorer(strategy, scoring):
    if scoring is None:
        scoring = "accuracy" if is_classifier(strategy) else "r2"
    if isinstance(scoring, str):
        return scoring, get_scorer(scoring)
    if not callable(scoring):
        raise ValueError(f"scoring should be None, a scorer name or a callable; got {scoring!r}.")
    return getattr(scoring, "__name__", type(scoring).__name__), scoring


def _progress_bar(total, desc, enabled):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is the optional "progress" extra
        return None
    return tqdm(total=total, desc=desc, leave=False)


def active_learning_curve(
    strategy,
    X,
    y,
    X_test,
    y_test,
    *,
    initial_size,
    batch_size,
    n_rounds=None,
    budget=None,
    scoring=None,
    random_state=None,
    stopping=None,
    progress=True,
):
    """Simulate batch active learning with one strategy and record its learning curve.

    The protocol of the BADGE and BAIT papers: draw ``initial_size`` rows of
    ``X`` uniformly at random and fit; then, each round, ``query`` a batch of
    ``batch_size`` rows from the rows not yet labelled, reveal their labels
    from ``y`` (and report them with the strategy's ``tell``, from which
    :class:`~skactive.ALBL` learns), refit the model from scratch on all labelled rows (the
    strategy's ``fit`` clones its estimator) and score it on the test set.

    Parameters
    ----------
    strategy : BaseQueryStrategy
        The strategy with its wrapped estimator; it is cloned, never changed.
    X : array-like of shape (n_samples, n_features)
        The training pool (labelled and unlabelled rows).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels of every pool row, revealed only for the rows picked.
    X_test : array-like of shape (n_test, n_features)
        Held-out rows to score on.
    y_test : array-like of shape (n_test,) or (n_test, n_outputs)
        Their labels.
    initial_size : int
        Size of the random initial labelled set (at least 2 for a classifier).
    batch_size : int
        Rows queried per round.
    n_rounds : int, default=None
        Number of query rounds.
    budget : int, default=None
        Total number of labels (initial set included) to stop at; the last
        round is the last full batch that fits. With both ``n_rounds`` and
        ``budget`` the run stops at whichever comes first; with neither it
        runs until fewer than ``batch_size`` unlabelled rows remain.
    scoring : str, callable or None, default=None
        A scikit-learn scorer name or a callable ``scorer(estimator, X, y)``
        (higher is better); None means accuracy for a classifier and R² for
        a regressor.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial draw and every ``random_state`` parameter of the
        strategy and its estimator left at None. An int makes the run
        reproducible (for models whose randomness those parameters control).
    stopping : stopping rule, list or dict of them, default=None
        Rules of :mod:`skactive.stopping` to watch (a dict names them; a
        list names them by class). Each is checked after every fit, on the
        rows not yet labelled; the run does not stop early, but the result's
        ``stopped_at`` records when each rule would have stopped it.
    progress : bool, default=True
        Show a tqdm progress bar over the rounds (when tqdm is installed).

    Returns
    -------
    result : ActiveLearningResult
        Labels used, test score, query and fit seconds and selected rows per
        round, round 0 being the initial fit; ``stopped_at`` for the rules.

    Raises
    ------
    ValueError
        If a size is out of range, or the rounds asked for need more rows than
        ``X`` has.

    Notes
    -----
    The initial set is drawn uniformly at random, as in the papers' code, so
    some classes may be missing from it: a scikit-learn classifier then knows
    only the classes it has seen (its ``classes_``) until a query reveals the
    others, whereas the papers' networks always have one output per class.
    A classifier cannot be fit on a single class, so if the draw holds only
    one class, its last row is swapped for a random row of another class.

    ``query_time`` measures the work of each query, not one-time start-up
    costs: before round 1 a copy of the strategy queries a few rows untimed.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import MarginSampling
    >>> from skactive.experiments.simulation import active_learning_curve
    >>> X, y = load_iris(return_X_y=True)
    >>> res = active_learning_curve(MarginSampling(LogisticRegression()), X[::2], y[::2],
    ...                             X[1::2], y[1::2], initial_size=6, batch_size=3,
    ...                             n_rounds=4, random_state=0, progress=False)
    >>> res.n_labels
    array([ 6,  9, 12, 15, 18])
    >>> len(res.selected[1]), res.scores.shape
    (3, (5,))
    """
    X = check_array(X, accept_sparse="csr", dtype=None, ensure_all_finite=False)
    y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False)
    check_consistent_length(X, y)
    check_consistent_length(X_test, y_test)
    n_samples = X.shape[0]
    strategy = clone(strategy)
    classification = is_classifier(strategy)
    initial_size = _check_int(initial_size, "initial_size", 2 if classification else 1)
    if initial_size >= n_samples:
        raise ValueError(f"initial_size={initial_size} should be < n_samples={n_samples} in X.")
    batch_size = _check_int(batch_size, "batch_size", 1)
    rounds = _n_rounds(n_samples, initial_size, batch_size, n_rounds, budget)
    scoring_name, scorer = _scorer(strategy, scoring)
    if classification and y.ndim == 1 and len(np.unique(y)) < 2:
        raise ValueError("y has a single class; a classifier needs at least two.")

    rng = check_random_state(random_state)
    labeled = list(_initial_indices(y, initial_size, classification, rng))
    _seed_unset(strategy, rng)
    is_labeled = np.zeros(n_samples, dtype=bool)
    is_labeled[labeled] = True

    record = {"n_labels": [], "scores": [], "query_time": [], "fit_time": []}
    selected = [np.array(labeled, dtype=np.int64)]
    rules = _fresh_rules(stopping)
    stopped_at = dict.fromkeys(rules)

    def fit_and_score(query_seconds):
        t0 = time.perf_counter()
        strategy.fit(X[labeled], y[labeled])
        record["fit_time"].append(time.perf_counter() - t0)
        record["query_time"].append(query_seconds)
        record["n_labels"].append(len(labeled))
        record["scores"].append(float(scorer(strategy, X_test, y_test)))
        for name, rule in rules.items():
            says_stop = rule.check(strategy, X_pool=X[~is_labeled], n_labels=len(labeled))
            if says_stop and stopped_at[name] is None:
                stopped_at[name] = len(labeled)

    bar = _progress_bar(rounds, type(strategy).__name__, progress)
    try:
        fit_and_score(0.0)
        if rounds:
            _warm_up(strategy, X[~is_labeled], batch_size)
        for _ in range(rounds):
            pool = np.flatnonzero(~is_labeled)
            t0 = time.perf_counter()
            picks = strategy.query(X[pool], batch_size=batch_size)
            query_seconds = time.perf_counter() - t0
            new = pool[np.asarray(picks, dtype=np.int64)]
            # Reveal the batch's labels: the one place per round where they
            # reach the strategy (ALBL learns from them; for the others tell
            # only checks the batch).
            if hasattr(strategy, "tell"):
                strategy.tell(y[new])
            is_labeled[new] = True
            labeled.extend(new.tolist())
            selected.append(new)
            fit_and_score(query_seconds)
            if bar is not None:
                bar.update()
                bar.set_postfix({scoring_name: f"{record['scores'][-1]:.3f}"})
    finally:
        if bar is not None:
            bar.close()
    info = {"initial_size": initial_size, "batch_size": batch_size}
    if hasattr(strategy, "arm_history_"):  # ALBL: which arm picked each batch
        info["arm_history"] = [int(a) for a in strategy.arm_history_]
    return ActiveLearningResult(
        type(strategy).__name__,
        selected=selected,
        scoring=scoring_name,
        info=info,
        stopped_at=stopped_at,
        **record,
    )


def _named(objects, what):
    """``{name: object}`` from a dict, or from a list named by class."""
    if isinstance(objects, dict):
        return dict(objects)
    named = {}
    for obj in objects:
        name = type(obj).__name__
        if name in named:
            raise ValueError(f"{what} holds two {name} instances; pass a dict to name them apart.")
        named[name] = obj
    return named


def _fresh_rules(stopping):
    """Unfitted copies of the stopping rules, by name (a run must not share their state)."""
    if stopping is None:
        return {}
    if hasattr(stopping, "check"):
        stopping = [stopping]
    return {name: clone(rule) for name, rule in _named(stopping, "stopping").items()}


def _warm_up(strategy, X_pool, batch_size):
    """Query a copy of ``strategy`` once, untimed, on a few rows.

    One-time costs (imports, a GPU's context, compiled kernels) then fall
    here and not on round 1's query time; the copy leaves the strategy's
    random state where it was.
    """
    n = min(X_pool.shape[0], 2 * batch_size)
    copy.deepcopy(strategy).query(X_pool[:n], batch_size=min(batch_size, n))


def _one_run(name, strategy, repeat, seed, setting, data, kwargs):
    res = active_learning_curve(strategy, *data, random_state=seed, progress=False, **kwargs)
    res.strategy, res.repeat, res.setting = name, repeat, setting
    res.info["seed"] = int(seed)
    return res


def compare_strategies(
    strategies,
    X,
    y,
    X_test,
    y_test,
    *,
    initial_size,
    batch_size,
    n_repeats=3,
    n_rounds=None,
    budget=None,
    scoring=None,
    setting=None,
    random_state=None,
    stopping=None,
    n_jobs=None,
    progress=True,
):
    """Run :func:`active_learning_curve` for several strategies and repeats.

    Repeat ``r`` of every strategy gets the same seed, hence the same initial
    set and the same estimator seeds: the runs are paired, as the papers'
    tests over repeats assume.

    Parameters
    ----------
    strategies : dict of str to BaseQueryStrategy, or list of BaseQueryStrategy
        The strategies, named by the dict's keys or by their class names.
    X, y, X_test, y_test : array-like
        Pool and test set, as in :func:`active_learning_curve`.
    initial_size : int
        Size of the random initial labelled set.
    batch_size : int
        Rows queried per round.
    n_repeats : int, default=3
        Runs per strategy, each from its own initial set.
    n_rounds : int, default=None
        Query rounds per run (see :func:`active_learning_curve`).
    budget : int, default=None
        Total labels to stop at (see :func:`active_learning_curve`).
    scoring : str, callable or None, default=None
        Test score; None means accuracy or R².
    setting : str, default=None
        Label stored in every result, e.g. ``"digits/B=10/logistic"``;
        :mod:`skactive.experiments.evaluation` weighs each setting equally.
    random_state : int, RandomState instance or None, default=None
        Seeds the per-repeat seeds. An int makes the whole comparison
        reproducible.
    stopping : stopping rule, list or dict of them, default=None
        Rules to watch in every run (see :func:`active_learning_curve`).
    n_jobs : int, default=None
        Runs executed in parallel by joblib; None means 1 unless in a
        ``joblib.parallel_config`` context, -1 means all cores.
    progress : bool, default=True
        Show a tqdm progress bar over the runs (when tqdm is installed).

    Returns
    -------
    results : ResultCollection
        One result per (strategy, repeat), strategies in the order given.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import MarginSampling, RandomSampling
    >>> from skactive.experiments.simulation import compare_strategies
    >>> X, y = load_iris(return_X_y=True)
    >>> lr = LogisticRegression()
    >>> col = compare_strategies([RandomSampling(lr), MarginSampling(lr)], X[::2], y[::2],
    ...                          X[1::2], y[1::2], initial_size=6, batch_size=3, n_rounds=1,
    ...                          n_repeats=2, random_state=0, progress=False)
    >>> col.strategies, len(col)
    (['RandomSampling', 'MarginSampling'], 4)
    """
    named = _named(strategies, "strategies")
    if not named:
        raise ValueError("strategies should hold at least one strategy.")
    n_repeats = _check_int(n_repeats, "n_repeats", 1)
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_repeats)
    data = (X, y, X_test, y_test)
    kwargs = dict(
        initial_size=initial_size,
        batch_size=batch_size,
        n_rounds=n_rounds,
        budget=budget,
        scoring=scoring,
        stopping=stopping,
    )
    jobs = [
        delayed(_one_run)(name, strategy, r, seeds[r], setting, data, kwargs)
        for r in range(n_repeats)
        for name, strategy in named.items()
    ]
    bar = _progress_bar(len(jobs), setting or "runs", progress)
    results = []
    try:
        for res in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
            results.append(res)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    order = {name: i for i, name in enumerate(named)}
    results.sort(key=lambda r: (order[r.strategy], r.repeat))
    return ResultCollection(results)
