import json
import re

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

from skactive import ALBL, CoreSet, MarginSampling, RandomSampling
from skactive.experiments.simulation import (
    ActiveLearningResult,
    ResultCollection,
    active_learning_curve,
    compare_strategies,
)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # Tiny fits run far faster single-threaded, above all on a busy machine.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=260, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    return X[:200], y[:200], X[200:], y[200:]


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=150, n_features=4, noise=1.0, random_state=0)
    return X[:100], y[:100], X[100:], y[100:]


def _curve(data, strategy=None, **kwargs):
    kwargs = {"initial_size": 10, "batch_size": 5, "n_rounds": 4, "progress": False, **kwargs}
    strategy = strategy or MarginSampling(LogisticRegression())
    return active_learning_curve(strategy, *data, **kwargs)


def test_loop_records_every_round(clf_data):
    X, y, _, _ = clf_data
    res = _curve(clf_data, random_state=0)
    assert res.strategy == "MarginSampling" and res.scoring == "accuracy"
    np.testing.assert_array_equal(res.n_labels, [10, 15, 20, 25, 30])
    assert res.scores.shape == res.query_time.shape == res.fit_time.shape == (5,)
    assert np.all((0 <= res.scores) & (res.scores <= 1))
    assert res.query_time[0] == 0 and np.all(res.query_time[1:] > 0)
    assert np.all(res.fit_time > 0)
    assert [len(s) for s in res.selected] == [10, 5, 5, 5, 5]
    picked = np.concatenate(res.selected)
    assert picked.dtype == np.int64
    assert len(np.unique(picked)) == len(picked)  # never a row twice
    assert picked.min() >= 0 and picked.max() < len(y)


def test_score_matches_a_model_refit_on_the_labelled_rows(clf_data):
    X, y, X_test, y_test = clf_data
    res = _curve(clf_data, random_state=3)
    labelled = np.concatenate(res.selected)
    model = LogisticRegression().fit(X[labelled], y[labelled])
    assert res.scores[-1] == pytest.approx(model.score(X_test, y_test))


def test_int_random_state_reproduces_the_run(clf_data):
    strategy = RandomSampling(LogisticRegression())
    a = _curve(clf_data, strategy, random_state=7)
    b = _curve(clf_data, strategy, random_state=7)
    np.testing.assert_array_equal(a.scores, b.scores)
    for sa, sb in zip(a.selected, b.selected, strict=True):
        np.testing.assert_array_equal(sa, sb)
    c = _curve(clf_data, strategy, random_state=8)
    assert not np.array_equal(np.concatenate(a.selected), np.concatenate(c.selected))
    assert strategy.random_state is None  # the caller's strategy is left alone


def test_budget_and_rounds(clf_data):
    assert _curve(clf_data, n_rounds=None, budget=22).n_labels[-1] == 20
    assert len(_curve(clf_data, n_rounds=2, budget=100).n_labels) == 3
    whole = _curve(clf_data, n_rounds=None, batch_size=60)  # until the pool runs out
    np.testing.assert_array_equal(whole.n_labels, [10, 70, 130, 190])


def test_initial_set_always_holds_two_classes():
    X = np.arange(60.0).reshape(30, 2)
    y = np.r_[np.zeros(29, dtype=int), 1]
    for seed in range(10):
        res = active_learning_curve(
            RandomSampling(LogisticRegression()),
            X,
            y,
            X,
            y,
            initial_size=2,
            batch_size=1,
            n_rounds=1,
            random_state=seed,
            progress=False,
        )
        assert set(y[res.selected[0]]) == {0, 1}


def test_regression_defaults_to_r2(reg_data):
    res = _curve(reg_data, CoreSet(Ridge()), random_state=0)
    assert res.scoring == "r2"
    assert res.scores[-1] > 0.9


def test_scoring_by_name_and_callable(clf_data):
    assert _curve(clf_data, scoring="balanced_accuracy", n_rounds=1).scoring == "balanced_accuracy"

    def zero(estimator, X, y):
        return 0.0

    res = _curve(clf_data, scoring=zero, n_rounds=1)
    assert res.scoring == "zero" and np.all(res.scores == 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"initial_size": 1}, "The 'initial_size' parameter must be an int in the range [2, inf)"),
        ({"initial_size": 200}, "initial_size=200 should be < n_samples=200 in X."),
        ({"batch_size": 0}, "The 'batch_size' parameter must be an int in the range [1, inf)"),
        ({"n_rounds": 100}, "n_rounds=100 rounds of batch_size=5 need 510 rows, but X has 200."),
        ({"budget": 5}, "The 'budget' parameter must be an int in the range [10, inf)"),
        ({"scoring": 3}, "scoring should be None, a scorer name or a callable; got 3."),
    ],
)
def test_bad_parameters_raise(clf_data, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _curve(clf_data, **kwargs)


def test_single_class_raises():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="single class"):
        active_learning_curve(
            RandomSampling(LogisticRegression()),
            X,
            np.zeros(10),
            X,
            np.zeros(10),
            initial_size=2,
            batch_size=1,
            progress=False,
        )


def test_progress_bar_runs(clf_data, capsys):
    res = _curve(clf_data, n_rounds=2, progress=True)
    assert len(res.n_labels) == 3
    # tqdm draws on stderr: the strategy's name, the rounds done and the score.
    err = capsys.readouterr().err
    assert "MarginSampling" in err and "2/2" in err
    assert f"accuracy={res.scores[-1]:.3f}" in err
    _curve(clf_data, n_rounds=2, progress=False)
    assert capsys.readouterr().err == ""


def test_result_save_load_round_trip(clf_data, tmp_path):
    res = _curve(clf_data, random_state=0)
    res.setting, res.repeat = "toy/B=5/lr", 2
    path = tmp_path / "sub" / "res.json"
    res.save(path)
    json.loads(path.read_text())  # plain JSON, no pickle
    back = ActiveLearningResult.load(path)
    assert back.to_dict() == res.to_dict()
    np.testing.assert_array_equal(back.scores, res.scores)  # floats survive exactly
    assert back.selected[1].dtype == np.int64


def test_collection_save_load_round_trip(tmp_path):
    runs = [
        ActiveLearningResult(
            name,
            [5, 10],
            [0.5, s],
            [0, 0.1],
            [0.2, 0.2],
            [[0, 1], [2]],
            setting="s",
            repeat=r,
            info={"seed": r},
        )
        for name, s in [("a", 0.7), ("b", float("nan"))]
        for r in range(2)
    ]
    col = ResultCollection(runs)
    col.save(tmp_path / "col.json")
    back = ResultCollection.load(tmp_path / "col.json")
    assert len(back) == 4 and back.strategies == ["a", "b"] and back.settings == ["s"]
    assert back[0].to_dict() == runs[0].to_dict()
    assert np.isnan(back[2].scores[1])  # NaN written as null, read back as NaN


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not a skactive results file"):
        ResultCollection.load(path)
    path.write_text("not json")
    with pytest.raises(ValueError, match="not a skactive results file"):
        ActiveLearningResult.load(path)


def test_compare_strategies_pairs_repeats(clf_data):
    lr = LogisticRegression()
    kwargs = dict(initial_size=10, batch_size=5, n_rounds=2, n_repeats=2, progress=False)
    col = compare_strategies(
        {"rand": RandomSampling(lr), "margin": MarginSampling(lr)},
        *clf_data,
        setting="toy",
        random_state=0,
        **kwargs,
    )
    assert [(r.strategy, r.repeat) for r in col] == [
        ("rand", 0),
        ("rand", 1),
        ("margin", 0),
        ("margin", 1),
    ]
    assert all(r.setting == "toy" for r in col)
    # Repeat r of every strategy starts from the same initial set.
    np.testing.assert_array_equal(col[0].selected[0], col[2].selected[0])
    assert not np.array_equal(col[0].selected[0], col[1].selected[0])
    n_labels, scores = col.curves()["toy"]["margin"]
    assert scores.shape == (2, 3)
    # Parallel runs give the same results as sequential ones.
    with parallel_config(backend="threading"):
        par = compare_strategies(
            {"rand": RandomSampling(lr), "margin": MarginSampling(lr)},
            *clf_data,
            setting="toy",
            random_state=0,
            n_jobs=2,
            **kwargs,
        )
    assert [r.to_dict()["selected"] for r in par] == [r.to_dict()["selected"] for r in col]


def test_compare_strategies_names_from_classes(clf_data):
    lr = LogisticRegression()
    with pytest.raises(ValueError, match="two MarginSampling instances"):
        compare_strategies(
            [MarginSampling(lr), MarginSampling(lr)], *clf_data, initial_size=10, batch_size=5
        )


class _SlowFirstQuery(RandomSampling):
    """Random sampling whose first query in a process pays a one-time cost."""

    _started = False

    def _select(self, X_pool, batch_size, rng, backend):
        if not type(self)._started:
            type(self)._started = True
            import time

            time.sleep(0.5)
        return super()._select(X_pool, batch_size, rng, backend)


def test_query_time_leaves_out_one_time_start_up_costs(clf_data):
    _SlowFirstQuery._started = False
    slow = _curve(clf_data, _SlowFirstQuery(LogisticRegression()), random_state=0)
    assert slow.query_time[1:].max() < 0.25
    # The warm-up queries a copy: the picks are those of the plain strategy.
    plain = _curve(clf_data, RandomSampling(LogisticRegression()), random_state=0)
    for a, b in zip(slow.selected, plain.selected, strict=True):
        assert np.array_equal(a, b)


class _Recorder(MarginSampling):
    """MarginSampling that records what ``tell`` receives (class attribute: the loop clones)."""

    told = []

    def _tell(self, y_queried):
        type(self).told.append(np.asarray(y_queried).copy())


def test_loop_tells_each_batch_its_labels(clf_data):
    _Recorder.told = []
    res = _curve(clf_data, _Recorder(LogisticRegression()), random_state=0)
    y = clf_data[1]
    assert len(_Recorder.told) == 4
    for batch, told in zip(res.selected[1:], _Recorder.told, strict=True):
        np.testing.assert_array_equal(told, y[batch])


def test_albl_learns_across_the_rounds_and_records_its_arms(clf_data):
    a = _curve(clf_data, ALBL(LogisticRegression()), random_state=4, n_rounds=5)
    b = _curve(clf_data, ALBL(LogisticRegression()), random_state=4, n_rounds=5)
    assert len(a.info["arm_history"]) == 5 and set(a.info["arm_history"]) <= {0, 1, 2}
    assert a.info["arm_history"] == b.info["arm_history"]
    for sa, sb in zip(a.selected, b.selected, strict=True):
        np.testing.assert_array_equal(sa, sb)
