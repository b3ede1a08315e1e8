"""CoreSet end to end: the picks equal a direct greedy k-center on the model's own embeddings."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skactive import CoreSet

from ._oracles import last_layer_input


def furthest_first(H, H_labeled, n_select):
    """Greedy k-center: the centres are the labelled rows and the picks so far."""
    centres = list(H_labeled)
    picks = []
    for _ in range(n_select):
        # Each row's Euclidean distance to its nearest centre, by direct differences.
        dist = np.min([np.sqrt(np.sum((H - c) ** 2, axis=1)) for c in centres], axis=0)
        dist[picks] = -1.0
        best = int(np.argmax(dist))  # first of the largest: lowest index on ties
        picks.append(best)
        centres.append(H[best])
    return picks


def _classification():
    X, y = make_classification(
        n_samples=150, n_features=5, n_informative=3, n_classes=3, random_state=3
    )
    return X, y


def _regression():
    X, y = make_regression(n_samples=150, n_features=5, noise=1.0, random_state=3)
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "data, estimator",
    [
        (_classification, LogisticRegression()),
        (_classification, MLPClassifier(hidden_layer_sizes=(6,), max_iter=200, random_state=0)),
        (_classification, make_pipeline(StandardScaler(), LogisticRegression())),
        (_regression, Ridge()),
        (_regression, MLPRegressor(hidden_layer_sizes=(6,), max_iter=200, random_state=0)),
    ],
    ids=["logistic", "mlp-classifier", "pipeline", "ridge", "mlp-regressor"],
)
@pytest.mark.parametrize("device", ["numpy", "cpu"])
def test_picks_equal_a_direct_greedy_k_center(data, estimator, device):
    if device == "cpu":
        pytest.importorskip("torch")
    X, y = data()
    al = CoreSet(estimator, device=device).fit(X[:15], y[:15])
    H, H_lab = last_layer_input(al.estimator_, X[15:]), last_layer_input(al.estimator_, X[:15])
    assert al.query(X[15:], batch_size=12).tolist() == furthest_first(H, H_lab, 12)


def test_labelled_rows_are_centres():
    # Pool rows that duplicate a labelled row are at distance 0: picked last.
    X, y = _classification()
    X_pool = np.vstack([X[:15], X[100:110]])
    al = CoreSet(LogisticRegression()).fit(X[:15], y[:15])
    picks = al.query(X_pool, batch_size=len(X_pool)).tolist()
    assert sorted(picks[:10]) == list(range(15, 25))
