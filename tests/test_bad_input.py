"""SPEC §6: bad input gets a clear error; degenerate data never hangs or repeats."""

import re

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier

from skactive import BADGE, RandomSampling
from skactive.adapters import register_adapter
from skactive.adapters._sklearn import LinearClassifierAdapter
from skactive.exceptions import NonFiniteOutputError, UnsupportedEstimatorError
from skactive.utils._validation import InvalidParameterError

from ._strategies import CLASSIFICATION, make


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=60, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=1
    )
    return X[:20], y[:20], X[20:]


def _fitted(name, data, **params):
    return make(name, **params).fit(data[0], data[1])


def _nan_pool(X):
    X = X.copy()
    X[3, 1] = np.nan
    return X


def _inf_pool(X):
    X = X.copy()
    X[0, 0] = np.inf
    return X


POOL_CASES = [
    ("nan", _nan_pool, ValueError, "Input X_pool contains NaN."),
    ("inf", _inf_pool, ValueError, "Input X_pool contains infinity or a value too large"),
    ("1d", lambda X: X[:, 0], ValueError, "Expected 2D array, got 1D array instead"),
    ("empty", lambda X: X[:0], ValueError, "Found array with 0 sample(s)"),
    ("n_features", lambda X: X[:, :3], ValueError, "X has 3 features, but"),
]


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_bad_pool_raises(name, case, data):
    _, transform, error, message = case
    with pytest.raises(error, match=re.escape(message)):
        _fitted(name, data).query(transform(data[2]), batch_size=1)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_wrong_n_features_names_the_strategy(name, data):
    msg = f"X has 3 features, but {name} is expecting 4 features as input."
    with pytest.raises(ValueError, match=re.escape(msg)):
        _fitted(name, data).query(data[2][:, :3])


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_query_before_fit(name, data):
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        make(name).query(data[2])


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize(
    "param, value, message",
    [
        (
            "device",
            "tpu",
            "The 'device' parameter of {name} must be 'auto', 'numpy', 'cpu', "
            "'cuda' or 'cuda:<index>'. Got 'tpu' instead.",
        ),
        (
            "device",
            3,
            "The 'device' parameter of {name} must be 'auto', 'numpy', 'cpu', "
            "'cuda' or 'cuda:<index>'. Got 3 instead.",
        ),
        ("random_state", "seed", "The 'random_state' parameter of {name} must be"),
        (
            "estimator",
            "not a model",
            "The 'estimator' parameter of {name} must be an object implementing 'fit'",
        ),
    ],
)
def test_invalid_parameters(name, param, value, message, data):
    al = make(name).set_params(**{param: value})
    with pytest.raises(InvalidParameterError, match=re.escape(message.format(name=name))):
        al.fit(data[0], data[1])


@pytest.mark.parametrize("name", ["CoreSet", "BADGE", "BAIT"])
def test_unsupported_estimator(name, data):
    msg = (
        f"{name} needs the embeddings (input of the last linear layer) of its estimator, "
        "but skactive has no adapter for KNeighborsClassifier; supported are: "
    )
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)) as error:
        make(name, KNeighborsClassifier(n_neighbors=2)).fit(data[0], data[1])
    assert "Register an adapter for it with skactive.adapters.register_adapter." in str(error.value)


class _FitReturnsNone(LogisticRegression):
    def fit(self, X, y):
        super().fit(X, y)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_fit_returning_none_is_named(name, data):
    msg = "_FitReturnsNone.fit returned None; it must return the fitted estimator (self)"
    with pytest.raises(TypeError, match=re.escape(msg)):
        make(name, _FitReturnsNone()).fit(data[0], data[1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["LeastConfidence", "MarginSampling", "EntropySampling"])
def test_multilabel_y_says_multilabel_is_unsupported(name, data):
    X, y = data[0], data[1]
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    msg = (
        f"{name} needs class probabilities (predict_proba) from its estimator, but skactive "
        "cannot use MLPClassifier: multilabel and multi-output classifiers are not supported."
    )
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)):
        make(name, mlp).fit(X, Y)


@pytest.mark.parametrize("name", ["LeastConfidence", "MarginSampling", "EntropySampling"])
def test_hinge_sgd_names_the_losses_that_work(name, data):
    msg = (
        f"{name} needs class probabilities (predict_proba) from its estimator, but skactive "
        "cannot use SGDClassifier: SGDClassifier with loss='hinge' has no predict_proba; "
        "use loss='log_loss' or loss='modified_huber'."
    )
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)):
        make(name, SGDClassifier(loss="hinge", random_state=0)).fit(data[0], data[1])


def test_random_sampling_needs_no_adapter(data):
    al = RandomSampling(KNeighborsClassifier(n_neighbors=2), random_state=0).fit(data[0], data[1])
    assert al.adapter_ is None
    assert len(np.unique(al.query(data[2], 5))) == 5


@pytest.mark.parametrize("name", ["LeastConfidence", "MarginSampling", "EntropySampling", "BADGE"])
def test_regressor_in_classification_only_strategy(name, data):
    if name not in CLASSIFICATION:
        pytest.skip(f"{name} is not available yet")
    msg = f"{name} supports classification only, but the wrapped estimator Ridge is a regressor."
    with pytest.raises(ValueError, match=re.escape(msg)):
        make(name, Ridge()).fit(data[0], data[1].astype(float))


class _BrokenAdapter(LinearClassifierAdapter):
    """NaN embeddings or inf probabilities for the pool (40 rows), not the labelled set (20).

    LogisticRegression(tol=...) sentinels pick which output breaks.
    """

    @classmethod
    def supports(cls, estimator):
        return isinstance(estimator, LogisticRegression) and estimator.tol in (0.123, 0.456)

    def embed(self, X):
        H = super().embed(X)
        if self.estimator.tol == 0.123 and len(H) > 20:
            H[0, 0] = np.nan
        return H

    def predict_proba(self, X):
        P = super().predict_proba(X)
        if self.estimator.tol == 0.456 and len(P) > 20:
            P[1, 0] = np.inf
        return P

    def embed_predict(self, X):
        return self.embed(X), self.predict_proba(X)


@pytest.fixture
def broken_adapter():
    register_adapter(_BrokenAdapter)
    yield
    register_adapter(_BrokenAdapter, remove=True)


@pytest.mark.parametrize("name", [n for n in CLASSIFICATION if n != "RandomSampling"])
@pytest.mark.parametrize("tol, what", [(0.123, "embeddings"), (0.456, "probabilities")])
def test_non_finite_model_output(name, tol, what, data, broken_adapter):
    # ALBL's arm is drawn at random: give it one arm that uses both outputs.
    params = {"strategies": [BADGE], "uniform": False} if name == "ALBL" else {}
    al = make(name, LogisticRegression(tol=tol), **params).fit(data[0], data[1])
    needs = {
        "CoreSet": "embeddings",
        "LeastConfidence": "probabilities",
        "MarginSampling": "probabilities",
        "EntropySampling": "probabilities",
    }
    if needs.get(name) not in (None, what):
        pytest.skip(f"{name} does not use the {what}")
    with pytest.raises(NonFiniteOutputError, match=f"The model returned non-finite {what}"):
        al.query(data[2], 3)


DEGENERATE = {
    "identical rows": lambda X: np.repeat(X[:1], 25, axis=0),
    "duplicate rows": lambda X: np.vstack([X[:5]] * 5),
    "batch == pool": lambda X: X[:7],
}


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("case", DEGENERATE, ids=list(DEGENERATE))
def test_degenerate_pools_give_unique_indices(name, case, data):
    X_pool = DEGENERATE[case](data[2])
    batch_size = min(7, len(X_pool))
    idx = _fitted(name, data, random_state=0).query(X_pool, batch_size)
    assert len(np.unique(idx)) == batch_size and idx.max() < len(X_pool)


class _OneHotAdapter(LinearClassifierAdapter):
    """A model certain everywhere: exactly one-hot probabilities."""

    @classmethod
    def supports(cls, estimator):
        return isinstance(estimator, LogisticRegression) and estimator.tol == 0.789

    def predict_proba(self, X):
        P = super().predict_proba(X)
        return np.eye(P.shape[1])[P.argmax(axis=1)]

    def embed_predict(self, X):
        return self.embed(X), self.predict_proba(X)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_one_hot_probabilities(name, data):
    register_adapter(_OneHotAdapter)
    try:
        al = make(name, LogisticRegression(tol=0.789), random_state=0).fit(data[0], data[1])
        idx = al.query(data[2], 10)
    finally:
        register_adapter(_OneHotAdapter, remove=True)
    assert len(np.unique(idx)) == 10


@pytest.mark.parametrize("name", ["CoreSet", "BAIT"])
def test_non_finite_labeled_embeddings_raise_in_fit(name, data, broken_adapter):
    X = np.vstack([data[0], data[0], data[0]])  # 60 rows: the adapter breaks them
    y = np.concatenate([data[1]] * 3)
    with pytest.raises(NonFiniteOutputError, match="The model returned non-finite embeddings"):
        make(name, LogisticRegression(tol=0.123)).fit(X, y)


@pytest.mark.parametrize("name", ["CoreSet", "BAIT"])
def test_labeled_outputs_do_not_follow_later_changes_to_x(name, data):
    X, y, X_pool = data
    X = X.copy()
    al = make(name).fit(X, y)
    expected = al.query(X_pool, 5)
    X[:] = 0.0  # the caller reuses its buffer
    assert np.array_equal(al.query(X_pool, 5), expected)
