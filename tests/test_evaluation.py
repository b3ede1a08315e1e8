import re

import numpy as np
import pytest
from scipy import stats

from skactive.experiments.evaluation import comparison_budgets, normalized_error_cdf, penalty_matrix
from skactive.experiments.simulation import ActiveLearningResult, ResultCollection

N_LABELS = np.arange(10, 170, 10)  # M = 10, B = 10: budgets 20, 30, 50, 90, ...


def _random_curve(rng, n_repeats=5, rate=60.0):
    """Random sampling's accuracy: rises and saturates at 0.9 within 160 labels."""
    mean = 0.9 - 0.6 * np.exp(-N_LABELS / rate)
    return mean + rng.normal(0, 0.003, size=(n_repeats, len(N_LABELS)))


def _settings(rates=(40.0, 60.0, 80.0), seed=0):
    """Settings with a strategy always better than random and one identical to it."""
    rng = np.random.RandomState(seed)
    curves = {}
    for s, rate in enumerate(rates):
        rand = _random_curve(rng, rate=rate)
        gain = 0.03 + rng.uniform(0, 0.01, size=rand.shape)
        curves[f"setting{s}"] = {
            "RandomSampling": (N_LABELS, rand),
            "Best": (N_LABELS, rand + gain),
            "Twin": (N_LABELS, rand.copy()),
        }
    return curves


def test_comparison_budgets_doubling_until_random_saturates():
    rand = np.minimum(N_LABELS / 100.0, 1.0)[None, :]  # final 1.0, reached at 100 labels
    assert comparison_budgets(N_LABELS, rand).tolist() == [20, 30, 50, 90]
    # 99 % of the final score is reached at 99 labels: 90 stays, nothing after it.
    assert comparison_budgets(N_LABELS, rand, stop_fraction=0.5).tolist() == [20, 30]


def test_comparison_budgets_empty_when_random_is_flat():
    flat = np.full((3, len(N_LABELS)), 0.8)
    assert comparison_budgets(N_LABELS, flat).size == 0
    assert comparison_budgets([10], [[0.5]]).size == 0


def test_always_better_strategy_gets_the_whole_row():
    res = penalty_matrix(_settings())
    assert res.names == ["RandomSampling", "Best", "Twin"]
    assert res.n_settings == 3
    best = res.names.index("Best")
    # Beats both others at every budget of every setting: 1 per setting.
    np.testing.assert_allclose(res.matrix[best], [3.0, 0.0, 3.0])
    # Nobody beats it, and the identical twin of random ties with it (no penalty).
    np.testing.assert_allclose(res.matrix[:, best], 0.0)
    assert res.matrix[0, 2] == 0 and res.matrix[2, 0] == 0
    np.testing.assert_allclose(res.column_means, res.matrix.mean(axis=0))


def test_ties_give_nothing():
    rng = np.random.RandomState(1)
    rand = _random_curve(rng)
    curves = {"s": {"RandomSampling": (N_LABELS, rand), "Same": (N_LABELS, rand.copy())}}
    np.testing.assert_array_equal(penalty_matrix(curves).matrix, np.zeros((2, 2)))


def test_each_budget_weighs_one_over_the_number_of_budgets():
    rng = np.random.RandomState(2)
    rand = _random_curve(rng)
    budgets = comparison_budgets(N_LABELS, rand)
    assert len(budgets) == 4
    better = rand.copy()
    first = np.flatnonzero(N_LABELS == budgets[0])[0]
    better[:, first] += [0.05, 0.06, 0.04, 0.05, 0.07]  # better at one budget only
    curves = {"s": {"RandomSampling": (N_LABELS, rand), "Once": (N_LABELS, better)}}
    assert penalty_matrix(curves).matrix[1, 0] == pytest.approx(0.25)


def test_threshold_normal_vs_student_t():
    diff = np.array([0.02, 0.03, -0.01, 0.04, 0.01])
    t = np.sqrt(5) * diff.mean() / diff.std(ddof=1)
    assert 1.96 < t < 2.776
    rand = np.tile(np.linspace(0.5, 0.9, len(N_LABELS)), (5, 1))
    other = rand + diff[:, None]
    curves = {"s": {"RandomSampling": (N_LABELS, rand), "A": (N_LABELS, other)}}
    assert penalty_matrix(curves, threshold="normal").matrix[1, 0] > 0
    assert penalty_matrix(curves, threshold="t").matrix[1, 0] == 0
    assert penalty_matrix(curves, threshold=2.0).matrix[1, 0] > 0
    assert stats.t.ppf(0.975, 4) == pytest.approx(2.776, abs=1e-3)


def test_settings_weigh_equally_whatever_their_number_of_budgets():
    curves = _settings(rates=(10.0, 60.0))
    # Setting 0 saturates sooner, so it has fewer budgets than setting 1.
    budgets = penalty_matrix(curves).budgets
    assert len(budgets["setting0"]) != len(budgets["setting1"])
    cdf = normalized_error_cdf(curves)
    n0 = len(budgets["setting0"])
    np.testing.assert_allclose(cdf.weights[:n0].sum(), 0.5)
    np.testing.assert_allclose(cdf.weights.sum(), 1.0)


def test_cdf_of_random_is_a_step_at_one():
    cdf = normalized_error_cdf(_settings())
    x, F = cdf.cdf["RandomSampling"]
    np.testing.assert_array_equal(x, 1.0)
    assert F[-1] == pytest.approx(1.0)
    assert np.all(np.diff(F) > 0)
    assert cdf.mean["RandomSampling"] == pytest.approx(1.0)
    assert cdf.below_one["RandomSampling"] == 0.0
    assert cdf.below_one["Best"] == pytest.approx(1.0)
    np.testing.assert_allclose(cdf.errors["Twin"], 1.0)


def test_cdf_values_are_error_ratios():
    n = np.array([10, 20, 30, 40])
    rand = np.array([[0.5, 0.6, 0.7, 0.9]] * 2)
    half = 1 - (1 - rand) / 2  # half random's error everywhere
    cdf = normalized_error_cdf({"s": {"RandomSampling": (n, rand), "Half": (n, half)}})
    np.testing.assert_allclose(cdf.errors["Half"], 0.5)
    # Negated scores (neg_* scorers): error = -score.
    mse = {"s": {"RandomSampling": (n, -(1 - rand)), "Half": (n, -(1 - half))}}
    np.testing.assert_allclose(normalized_error_cdf(mse, error="negate").errors["Half"], 0.5)


def test_accepts_a_result_collection():
    curves = _settings(rates=(40.0,))["setting0"]
    runs = [
        ActiveLearningResult(
            name,
            N_LABELS,
            scores[r],
            np.zeros(16),
            np.zeros(16),
            [[r]] * 16,
            setting="s",
            repeat=r,
        )
        for name, (_, scores) in curves.items()
        for r in range(5)
    ]
    res = penalty_matrix(ResultCollection(runs))
    np.testing.assert_allclose(res.matrix, penalty_matrix({"s": curves}).matrix)


def test_bad_input_raises():
    curves = _settings(rates=(40.0,))
    with pytest.raises(ValueError, match=re.escape("baseline='Random' is not among")):
        penalty_matrix(curves, baseline="Random")
    with pytest.raises(ValueError, match="threshold should be"):
        penalty_matrix(curves, threshold="z")
    with pytest.raises(ValueError, match="error should be"):
        normalized_error_cdf(curves, error="abs")
    with pytest.raises(ValueError, match="curves should be"):
        penalty_matrix({})
    bad = {"s": {"RandomSampling": (N_LABELS, np.zeros((2, 3)))}}
    with pytest.raises(ValueError, match="n_labels of shape"):
        penalty_matrix(bad)


def test_nothing_compared_gives_nan_not_zero():
    flat = np.full((3, len(N_LABELS)), 0.8)
    curves = {"s": {"RandomSampling": (N_LABELS, flat), "Other": (N_LABELS, flat + 0.1)}}
    cdf = normalized_error_cdf(curves)
    assert cdf.baseline == "RandomSampling"
    assert all(np.isnan(v) for v in cdf.mean.values())
    assert all(np.isnan(v) for v in cdf.below_one.values())
    assert penalty_matrix(curves).n_settings == 0


def test_plots_title_settings_and_keep_random_visible():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from skactive.experiments.plotting import plot_error_cdf, plot_penalty_matrix

    one = {"s": _settings()["setting0"]}
    ax = plot_penalty_matrix(penalty_matrix(one), ax=Figure().add_subplot())
    assert ax.get_title() == "penalty matrix (1 setting)"
    flat = np.full((3, len(N_LABELS)), 0.8)
    empty = penalty_matrix({"s": {"RandomSampling": (N_LABELS, flat), "B": (N_LABELS, flat)}})
    ax = plot_penalty_matrix(empty, ax=Figure().add_subplot())
    assert ax.get_title() == "penalty matrix: no budgets compared"
    assert {t.get_text() for t in ax.texts} == {"n/a"}
    ax = plot_error_cdf(normalized_error_cdf(_settings()), ax=Figure().add_subplot())
    assert ax.get_title()
    lines = {line.get_label(): line for line in ax.get_lines()}
    random = lines["RandomSampling"]
    assert random.get_linestyle() == "--"
    assert random.get_zorder() > max(
        v.get_zorder() for k, v in lines.items() if k != "Best" and k != "RandomSampling"
    )
    lo, hi = ax.get_xlim()
    assert lo < 1.0 < hi and hi - 1.0 >= 0.05 - 1e-12
