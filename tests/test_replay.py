"""A simulated run can be replayed by hand, and a pickled strategy continues the same run."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

from skactive import BADGE, BAIT, CoreSet, MarginSampling, RandomSampling
from skactive.experiments.simulation import active_learning_curve


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1):
        yield


def _data(task):
    if task == "classification":
        X, y = make_classification(
            n_samples=230,
            n_features=5,
            n_informative=4,
            n_redundant=0,
            n_classes=3,
            random_state=0,
        )
    else:
        X, y = make_regression(n_samples=230, n_features=5, noise=1.0, random_state=0)
    return X[:180], y[:180], X[180:], y[180:]


CASES = [
    ("classification", lambda: MarginSampling(LogisticRegression())),
    ("classification", lambda: CoreSet(LogisticRegression())),
    ("classification", lambda: BAIT(LogisticRegression())),
    ("classification", lambda: BADGE(LogisticRegression(), random_state=np.random.RandomState(5))),
    ("classification", lambda: RandomSampling(LogisticRegression(), random_state=3)),
    ("regression", lambda: CoreSet(Ridge())),
    ("regression", lambda: BAIT(Ridge())),
]


@pytest.mark.parametrize(
    "task, make", CASES, ids=[f"{t[:3]}-{type(m()).__name__}" for t, m in CASES]
)
def test_recorded_picks_replay_round_by_round(task, make):
    X, y, X_test, y_test = _data(task)
    res = active_learning_curve(
        make(),
        X,
        y,
        X_test,
        y_test,
        initial_size=12,
        batch_size=6,
        n_rounds=4,
        random_state=0,
        progress=False,
    )
    # The replay refits a fresh strategy on the recorded labelled rows, then
    # queries the rows not yet labelled, in index order.
    strategy = make()
    labelled = list(res.selected[0])
    for r in range(1, len(res.selected)):
        strategy.fit(X[labelled], y[labelled])
        pool = np.setdiff1d(np.arange(len(X)), labelled)
        np.testing.assert_array_equal(res.selected[r], pool[strategy.query(X[pool], 6)])
        labelled += res.selected[r].tolist()
    final = clone(strategy.estimator).fit(X[labelled], y[labelled])
    assert res.scores[-1] == pytest.approx(final.score(X_test, y_test))


@pytest.mark.parametrize("name", ["BADGE", "RandomSampling"])
def test_pickled_strategy_continues_the_same_run(name):
    X, y, _, _ = _data("classification")
    cls = {"BADGE": BADGE, "RandomSampling": RandomSampling}[name]
    al = cls(LogisticRegression(), random_state=np.random.RandomState(0))

    def round_(strategy, labelled):
        strategy.fit(X[labelled], y[labelled])
        pool = np.setdiff1d(np.arange(len(X)), labelled)
        return labelled + pool[strategy.query(X[pool], 8)].tolist()

    labelled = round_(al, list(range(15)))
    copy = pickle.loads(pickle.dumps(al))  # the RandomState travels with its state
    # It has advanced: a fresh RandomState(0) would pick other rows next round.
    fresh = cls(LogisticRegression(), random_state=np.random.RandomState(0))
    assert round_(fresh, labelled) != round_(pickle.loads(pickle.dumps(al)), labelled)
    straight = resumed = labelled
    for _ in range(3):
        straight, resumed = round_(al, straight), round_(copy, resumed)
        assert resumed == straight
