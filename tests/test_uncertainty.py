"""Uncertainty strategies on multiclass pools, against scores computed from ``predict_proba``.

With two classes least confidence, margin and entropy order the rows alike;
with more they do not, so these tests would notice two strategies swapped.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from skactive import EntropySampling, LeastConfidence, MarginSampling

from ._oracles import top_rows


def least_confidence(p):
    return 1.0 - max(p)


def margin(p):
    first, second = sorted(p, reverse=True)[:2]
    return -(first - second)


def entropy(p):
    return -sum(q * np.log(q) for q in p if q > 0)


SCORES = {LeastConfidence: least_confidence, MarginSampling: margin, EntropySampling: entropy}


@pytest.fixture(scope="module")
def four_classes():
    X, y = make_classification(
        n_samples=460, n_features=6, n_informative=5, n_redundant=0, n_classes=4, random_state=0
    )
    # Repeated rows have equal scores: the lower index must come first.
    X_pool = np.vstack([X[60:], X[60:100]])
    return X[:60], y[:60], X_pool


def _model(kind):
    if kind == "logistic":
        return LogisticRegression(max_iter=1000)
    return MLPClassifier(hidden_layer_sizes=(10,), max_iter=400, random_state=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["logistic", "mlp"])
def test_multiclass_picks_follow_each_definition_and_differ(kind, four_classes):
    X, y, X_pool = four_classes
    batches = {}
    for cls, score in SCORES.items():
        al = cls(_model(kind), device="numpy").fit(X, y)
        P = al.estimator_.predict_proba(X_pool)
        assert P.shape[1] == 4
        expected = top_rows([score(p) for p in P], 30)
        assert al.query(X_pool, batch_size=30).tolist() == expected
        np.testing.assert_allclose(al.score_pool(X_pool), [score(p) for p in P], atol=1e-12)
        batches[cls] = set(expected)
    # Each pair of strategies disagrees on some of the 30 rows.
    lc, mg, en = batches.values()
    assert lc != mg and mg != en and lc != en


@pytest.mark.parametrize("device", ["numpy", "cpu"])
def test_ties_go_to_the_lowest_index(device, four_classes):
    if device == "cpu":
        pytest.importorskip("torch")
    X, y, X_pool = four_classes
    X_pool = np.repeat(X_pool[:10], 3, axis=0)  # each row three times in a row
    for cls in SCORES:
        al = cls(LogisticRegression(max_iter=1000), device=device).fit(X, y)
        picks = al.query(X_pool, batch_size=9).tolist()
        # Copies of one row are taken together and in index order.
        for first in picks[::3]:
            assert picks[picks.index(first) : picks.index(first) + 3] == [
                first,
                first + 1,
                first + 2,
            ]


def test_two_classes_rank_alike():
    X, y = make_classification(n_samples=200, n_features=4, random_state=1)
    P = LogisticRegression().fit(X[:40], y[:40]).predict_proba(X[40:])
    # All three are decreasing functions of the larger probability when K = 2.
    order = [top_rows([score(p) for p in P], 20) for score in SCORES.values()]
    assert order[0] == order[1] == order[2]
    picks = [cls(LogisticRegression()).fit(X[:40], y[:40]).query(X[40:], 20) for cls in SCORES]
    assert all(p.tolist() == order[0] for p in picks)
