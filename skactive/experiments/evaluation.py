"""Aggregate comparisons of active-learning strategies, as in the BADGE and BAIT papers.

Both functions take learning curves grouped by experimental setting, either
a :class:`~skactive.experiments.simulation.ResultCollection` or the mapping its
:meth:`~skactive.experiments.simulation.ResultCollection.curves` returns::

    {setting: {algorithm: (n_labels, scores)}}

with ``n_labels`` of shape ``(n_points,)`` (labels used at each point) and
``scores`` of shape ``(n_repeats, n_points)`` (higher is better; repeat
``r`` of every algorithm shares its initial set). A setting is one
(data set, batch size, model) combination; each setting weighs the same.

Budgets compared in a setting with initial size M and batch size B:
``M + 2**(k-1) * B`` for k = 1, 2, …, taken from the baseline's curve while
its mean score has not yet reached ``stop_fraction`` (99 %) of its final
mean score, the point after which the papers find the curves uninformative.
"""

import numpy as np
from scipy import stats
from sklearn.utils import Bunch

__all__ = ["comparison_budgets", "normalized_error_cdf", "penalty_matrix"]


def _as_curves(curves):
    if hasattr(curves, "curves"):
        curves = curves.curves()
    if not isinstance(curves, dict) or not curves:
        raise ValueError(
            "curves should be a ResultCollection or a non-empty dict "
            "{setting: {algorithm: (n_labels, scores)}}."
        )
    out = {}
    for setting, algs in curves.items():
        out[setting] = {}
        for name, (n_labels, scores) in algs.items():
            n_labels = np.asarray(n_labels)
            scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
            if n_labels.ndim != 1 or scores.shape[1] != n_labels.shape[0]:
                raise ValueError(
                    f"curves[{setting!r}][{name!r}] should hold n_labels of shape (n_points,) "
                    f"and scores of shape (n_repeats, n_points); got {n_labels.shape} and "
                    f"{scores.shape}."
                )
            out[setting][name] = (n_labels, scores)
    return out


def _algorithms(curves, baseline, algorithms):
    if algorithms is None:
        algorithms = list(dict.fromkeys(a for algs in curves.values() for a in algs))
    algorithms = list(algorithms)
    if baseline not in algorithms:
        raise ValueError(f"baseline={baseline!r} is not among the algorithms {algorithms}.")
    return algorithms


def comparison_budgets(n_labels, baseline_scores, *, stop_fraction=0.99):
    """The label budgets at which a setting's algorithms are compared.

    ``M + 2**(k-1) * B`` for k = 1, 2, …, where M is the first and
    ``M + B`` the second entry of ``n_labels``, kept while they lie on the
    curve and the baseline's mean score there is below ``stop_fraction`` of
    its final mean score. The initial size M itself is not a budget.

    Parameters
    ----------
    n_labels : array-like of shape (n_points,)
        Labels used at each point of the baseline's curve, increasing.
    baseline_scores : array-like of shape (n_repeats, n_points)
        The baseline's (random sampling's) scores, higher is better.
    stop_fraction : float, default=0.99
        Stop at the first budget where the baseline's mean score reaches
        this fraction of its final mean. For a negative final score (e.g. a
        ``neg_*`` scorer) the target is ``final - (1 - stop_fraction) * |final|``.

    Returns
    -------
    budgets : ndarray of int64
        The budgets, increasing; may be empty.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.experiments.evaluation import comparison_budgets
    >>> n = np.arange(10, 110, 10)                  # M = 10, B = 10
    >>> random = np.minimum(n / 60, 1.0)[None, :]   # reaches its final score at 60
    >>> comparison_budgets(n, random)
    array([20, 30, 50])
    """
    n_labels = np.asarray(n_labels, dtype=np.int64)
    mean = np.atleast_2d(np.asarray(baseline_scores, dtype=np.float64)).mean(axis=0)
    if len(n_labels) < 2:
        return np.array([], dtype=np.int64)
    m, b = int(n_labels[0]), int(n_labels[1] - n_labels[0])
    final = mean[-1]
    target = final - (1.0 - stop_fraction) * abs(final)
    position = {int(n): i for i, n in enumerate(n_labels)}
    budgets = []
    k = 1
    while (budget := m + 2 ** (k - 1) * b) <= n_labels[-1]:
        k += 1
        if budget not in position:
            continue
        if mean[position[budget]] >= target:
            break
        budgets.append(budget)
    return np.array(budgets, dtype=np.int64)


def _setting_budgets(curves, baseline, stop_fraction):
    budgets = {}
    for setting, algs in curves.items():
        if baseline not in algs:
            raise ValueError(f"Setting {setting!r} has no curve of the baseline {baseline!r}.")
        n_labels, scores = algs[baseline]
        budgets[setting] = comparison_budgets(n_labels, scores, stop_fraction=stop_fraction)
    return budgets


def _at(curve, budget):
    """Scores of all repeats at ``budget``, or None if the curve misses it."""
    n_labels, scores = curve
    hit = np.flatnonzero(n_labels == budget)
    return scores[:, hit[0]] if len(hit) else None


def _threshold(threshold, n):
    if threshold == "normal":
        return 1.96
    if threshold == "t":
        return float(stats.t.ppf(0.975, n - 1))
    if isinstance(threshold, str):
        raise ValueError(f"threshold should be 'normal', 't' or a number; got {threshold!r}.")
    return float(threshold)


def _t_statistic(diff):
    """Paired t statistic sqrt(n)·mean/std (std with n - 1); ±inf for a constant nonzero gap."""
    mean = diff.mean()
    std = diff.std(ddof=1)
    if std == 0:
        return 0.0 if mean == 0 else np.copysign(np.inf, mean)
    return np.sqrt(len(diff)) * mean / std


def penalty_matrix(
    curves, *, baseline="RandomSampling", threshold="normal", stop_fraction=0.99, algorithms=None
):
    """The BADGE paper's pairwise penalty matrix.

    For each setting, each of its L budgets (see :func:`comparison_budgets`)
    and each ordered pair of algorithms (i, j), the paired differences
    ``d = score_i - score_j`` over the repeats give
    ``t = sqrt(n) * mean(d) / std(d)``. If ``t > threshold``, i beats j and
    ``1 / L`` is added to entry ``P[i, j]``: row i counts how often i beats
    the others, column j how often j is beaten. Each setting thus adds at
    most 1 to an entry, and the largest possible entry is the number of
    settings.

    Parameters
    ----------
    curves : ResultCollection or dict
        ``{setting: {algorithm: (n_labels, scores)}}`` (see the module
        docstring); ``scores`` has one row per repeat, paired by row.
    baseline : str, default="RandomSampling"
        The random-sampling algorithm whose curve sets the budgets.
    threshold : {"normal", "t"} or float, default="normal"
        Critical value of t: ``"normal"`` is 1.96 (the BADGE paper), ``"t"``
        the two-sided 5 % Student-t quantile for the setting's number of
        repeats (the BAIT paper: 2.776 for 5 repeats).
    stop_fraction : float, default=0.99
        See :func:`comparison_budgets`.
    algorithms : list of str, default=None
        Rows and columns, in order; default all algorithms found, in order of
        first appearance.

    Returns
    -------
    result : Bunch
        ``matrix`` (ndarray of shape (n_algorithms, n_algorithms)), ``names``,
        ``column_means`` (mean of each column over all rows, diagonal
        included, as in the authors' plots: lower is better), ``n_settings``
        (settings with at least one budget) and ``budgets``
        (``{setting: ndarray}``).

    Notes
    -----
    Repeats are paired by index; when two algorithms have different numbers
    of repeats in a setting, the first ``min(n_i, n_j)`` are compared. A pair
    with fewer than 2 repeats, or an algorithm whose curve misses a budget,
    contributes nothing there. A constant nonzero difference counts as
    ``t = ±inf``; identical scores give ``t = 0`` (a tie).

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.experiments.evaluation import penalty_matrix
    >>> n = np.array([10, 20, 30, 40, 50])
    >>> rand = np.array([[.5, .6, .7, .8, .9], [.5, .62, .71, .79, .9]])
    >>> good = rand + [[0, .05, .06, .02, 0], [0, .07, .05, .03, 0]]
    >>> res = penalty_matrix({"toy": {"RandomSampling": (n, rand), "Good": (n, good)}})
    >>> res.names, res.budgets["toy"]
    (['RandomSampling', 'Good'], array([20, 30]))
    >>> res.matrix
    array([[0., 0.],
           [1., 0.]])
    """
    curves = _as_curves(curves)
    names = _algorithms(curves, baseline, algorithms)
    budgets = _setting_budgets(curves, baseline, stop_fraction)
    P = np.zeros((len(names), len(names)))
    for setting, algs in curves.items():
        if len(budgets[setting]) == 0:
            continue
        weight = 1.0 / len(budgets[setting])
        for budget in budgets[setting]:
            at = {a: _at(algs[a], budget) for a in names if a in algs}
            for i, a in enumerate(names):
                for j, b in enumerate(names):
                    if i == j or at.get(a) is None or at.get(b) is None:
                        continue
                    n = min(len(at[a]), len(at[b]))
                    if n < 2:
                        continue
                    t = _t_statistic(at[a][:n] - at[b][:n])
                    if t > _threshold(threshold, n):
                        P[i, j] += weight
    return Bunch(
        matrix=P,
        names=names,
        column_means=P.mean(axis=0),
        n_settings=sum(len(b) > 0 for b in budgets.values()),
        budgets=budgets,
    )


def _error(scores, error):
    if error == "one_minus":
        return 1.0 - scores
    if error == "negate":
        return -scores
    if callable(error):
        return np.asarray(error(scores), dtype=np.float64)
    raise ValueError(f"error should be 'one_minus', 'negate' or a callable; got {error!r}.")


def normalized_error_cdf(
    curves, *, baseline="RandomSampling", error="one_minus", stop_fraction=0.99, algorithms=None
):
    """Empirical CDF of each algorithm's error divided by random sampling's.

    At each setting's budgets (those of :func:`penalty_matrix`), the mean
    error over repeats of each algorithm is divided by the baseline's mean
    error at the same budget. Each setting weighs the same and its L budgets
    ``1 / L`` each, as in the BADGE paper's Fig. 4; the weights sum to 1.
    A curve to the left of (above) the baseline's step at 1 means lower error
    than random sampling.

    Parameters
    ----------
    curves : ResultCollection or dict
        ``{setting: {algorithm: (n_labels, scores)}}`` (see the module
        docstring).
    baseline : str, default="RandomSampling"
        The algorithm errors are divided by; its own normalised error is 1.
    error : {"one_minus", "negate"} or callable, default="one_minus"
        How a score becomes an error: ``1 - score`` (accuracy, R²),
        ``-score`` (scikit-learn's ``neg_*`` scorers) or a function of the
        score array.
    stop_fraction : float, default=0.99
        See :func:`comparison_budgets`.
    algorithms : list of str, default=None
        Algorithms to report; default all found.

    Returns
    -------
    result : Bunch
        ``names``; ``errors`` ``{name: ndarray}``, the normalised errors at
        every (setting, budget) point; ``weights``, their weights (the same
        for every algorithm); ``cdf`` ``{name: (x, F)}``, the sorted errors
        and the cumulative weight up to each; ``mean`` ``{name: float}``, the
        weighted mean normalised error; ``below_one`` ``{name: float}``, the
        weight of points with error below random's (both NaN when no budget
        could be compared); ``baseline``, the name of the baseline.

    Notes
    -----
    Points where the baseline's mean error is not positive, or where some
    algorithm's curve misses the budget, are left out and the weights
    renormalised.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.experiments.evaluation import normalized_error_cdf
    >>> n = np.array([10, 20, 30, 40, 50])
    >>> rand = np.array([[.5, .6, .7, .8, .9], [.5, .6, .7, .8, .9]])
    >>> cdf = normalized_error_cdf({"toy": {"RandomSampling": (n, rand), "Good": (n, rand + .1)}})
    >>> cdf.errors["Good"].round(3), cdf.weights
    (array([0.75 , 0.667]), array([0.5, 0.5]))
    >>> cdf.cdf["RandomSampling"]
    (array([1., 1.]), array([0.5, 1. ]))
    """
    curves = _as_curves(curves)
    names = _algorithms(curves, baseline, algorithms)
    budgets = _setting_budgets(curves, baseline, stop_fraction)
    errors = {a: [] for a in names}
    weights = []
    for setting, algs in curves.items():
        for budget in budgets[setting]:
            at = {a: _at(algs[a], budget) if a in algs else None for a in names}
            if any(v is None for v in at.values()):
                continue
            mean_err = {a: float(_error(v, error).mean()) for a, v in at.items()}
            if mean_err[baseline] <= 0:
                continue
            for a in names:
                errors[a].append(mean_err[a] / mean_err[baseline])
            weights.append(1.0 / len(budgets[setting]))
    weights = np.asarray(weights)
    if weights.sum() > 0:
        weights = weights / weights.sum()
    errors = {a: np.asarray(e) for a, e in errors.items()}
    cdf = {}
    for a, e in errors.items():
        order = np.argsort(e, kind="stable")
        cdf[a] = (e[order], np.cumsum(weights[order]))
    # With no point to compare, a mean of 0 would read as "no errors": say NaN.
    empty = len(weights) == 0
    return Bunch(
        names=names,
        baseline=baseline,
        errors=errors,
        weights=weights,
        cdf=cdf,
        mean={a: np.nan if empty else float(np.dot(weights, e)) for a, e in errors.items()},
        below_one={a: np.nan if empty else float(weights[e < 1].sum()) for a, e in errors.items()},
    )
