"""skorch nets get scikit-learn's input checks and the types they train on (11.5, 12.8, 14)."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression

from skactive import BADGE, CoreSet, MarginSampling, RandomSampling

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skorch import NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

from skactive.adapters import SkorchAdapter  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class Net(torch.nn.Module):
    """Linear -> ReLU -> Linear with seeded weights; refuses anything but float32 input."""

    def __init__(self, n_outputs=3, width=8):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.hidden = torch.nn.Linear(4, width)
        self.head = torch.nn.Linear(width, n_outputs)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-0.5, 0.5, generator=gen)

    def forward(self, X):
        return self.head(torch.relu(self.hidden(X)))  # float64 X: torch's dtype error


class BadLayerNet(Net):
    skactive_layer = "fc9"


def _classifier(module=Net, **kwargs):
    params = dict(max_epochs=3, lr=0.1, batch_size=16, train_split=None, verbose=0)
    return NeuralNetClassifier(module, **{**params, **kwargs})


def _regressor(**kwargs):
    params = dict(module__n_outputs=1, max_epochs=3, lr=0.05, train_split=None, verbose=0)
    return NeuralNetRegressor(Net, **{**params, **kwargs})


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    y = np.arange(60) % 3
    X = rng.randn(60, 4) + 2.0 * np.eye(3, 4)[y]
    return X[:30].astype(np.float32), y[:30], X[30:].astype(np.float32)


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _ = data
    return MarginSampling(_classifier()).fit(X, y)


# --------------------------------------------------------------------------
# X is checked as scikit-learn would, in fit, query and the delegated methods


@pytest.mark.parametrize(
    "make_X, message",
    [
        (lambda X: np.where(np.arange(4) == 1, np.nan, X), "Input X contains NaN."),
        (lambda X: np.where(np.arange(4) == 2, np.inf, X), "Input X contains infinity"),
        (lambda X: X[:, 0], "Expected 2D array, got 1D array instead"),
        (lambda X: X[:0], "Found array with 0 sample(s)"),
        (lambda X: X + 1j, "Complex data not supported"),
    ],
    ids=["nan", "inf", "1d", "empty", "complex"],
)
def test_fit_checks_x(make_X, message, data):
    X, y, _ = data
    with pytest.raises(ValueError, match=re.escape(message)):
        MarginSampling(_classifier()).fit(make_X(X), y[: len(make_X(X))])


def test_fit_records_n_features_and_query_predict_check_it(fitted, data):
    _, _, X_pool = data
    assert fitted.n_features_in_ == 4
    msg = "X has 3 features, but MarginSampling is expecting 4 features as input."
    for method in (fitted.predict, fitted.predict_proba):
        with pytest.raises(ValueError, match=re.escape(msg)):
            method(X_pool[:, :3])
    with pytest.raises(ValueError, match=re.escape(msg)):
        fitted.query(X_pool[:, :3])


def test_random_sampling_checks_n_features_as_with_a_linear_model(data):
    """Issue 14: RandomSampling with a net accepted a pool a linear model rejects."""
    X, y, X_pool = data
    for estimator in (_classifier(), LogisticRegression()):
        al = RandomSampling(estimator, random_state=0).fit(X, y)
        msg = "X has 3 features, but RandomSampling is expecting 4 features as input."
        with pytest.raises(ValueError, match=re.escape(msg)):
            al.query(X_pool[:, :3], 2)


def test_y_none_is_rejected_in_scikit_learn_words(data):
    msg = "MarginSampling requires y to be passed, but the target y is None."
    with pytest.raises(ValueError, match=re.escape(msg)):
        MarginSampling(_classifier()).fit(data[0], None)


def test_object_and_list_input_are_arrays(fitted, data):
    X, y, X_pool = data
    expected = fitted.query(X_pool, 4)
    from_lists = MarginSampling(_classifier()).fit(X.tolist(), y.tolist())
    assert_array_equal(from_lists.query(X_pool.astype(object), 4), expected)
    assert_array_equal(from_lists.query(X_pool.tolist(), 4), expected)


# --------------------------------------------------------------------------
# Types: what skorch trains on, converted losslessly or explained


def test_float64_pool_and_training_set_are_fed_as_float32(fitted, data):
    X, y, X_pool = data
    expected = fitted.query(X_pool, 5)
    assert_array_equal(fitted.query(X_pool.astype(np.float64), 5), expected)
    assert_allclose(fitted.predict_proba(X_pool.astype(np.float64)), fitted.predict_proba(X_pool))
    # float64 in fit too (the values are float32-exact, so the net is the same).
    refit = MarginSampling(_classifier()).fit(X.astype(np.float64), y)
    assert_array_equal(refit.query(X_pool.astype(np.float64), 5), expected)
    # The adapter used on its own converts as well.
    H, P = SkorchAdapter(refit.estimator_).embed_predict(X_pool.astype(np.float64))
    assert H.shape == (30, 9) and P.shape == (30, 3)


@pytest.mark.parametrize("dtype", [np.int32, np.int16, np.uint8, np.float64, np.int64])
def test_integer_labels_of_any_width_train_the_same_net(dtype, fitted, data):
    X, y, X_pool = data
    al = MarginSampling(_classifier()).fit(X, y.astype(dtype))
    assert_array_equal(al.query(X_pool, 5), fitted.query(X_pool, 5))
    assert_array_equal(al.predict_proba(X_pool), fitted.predict_proba(X_pool))


@pytest.mark.parametrize(
    "labels", [np.array(["a", "b", "c"]), np.array(["a", "b", "c"], dtype=object)], ids=str
)
def test_non_integer_labels_say_what_to_pass(labels, data):
    X, y, _ = data
    msg = (
        "NeuralNetClassifier needs integer class labels 0..K-1 in y (the index of the net's "
        "output column), got dtype <U1; encode them first, e.g. with "
        "sklearn.preprocessing.LabelEncoder."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        BADGE(_classifier()).fit(X, labels[y])


def test_more_outputs_than_labelled_classes(data):
    """K is the number of output columns: n_outputs, predict_proba and the kernels agree."""
    X, y, X_pool = data
    al = BADGE(_classifier(module__n_outputs=5), random_state=0).fit(X, y)
    P = al.predict_proba(X_pool)
    assert P.shape == (30, 5) and al.adapter_.n_outputs == 5
    H, P_adapter = al.adapter_.embed_predict(X_pool)
    assert_array_equal(P_adapter, P)
    assert len(set(al.query(X_pool, 8).tolist())) == 8
    assert len(al.classes_) == 3  # skorch infers classes_ from the labels seen
    named = BADGE(_classifier(module__n_outputs=5, classes=list(range(5))), random_state=0)
    assert len(named.fit(X, y).classes_) == 5


def test_one_dimensional_regression_target_trains_as_a_column(data):
    X, y, X_pool = data
    target = X.sum(axis=1)
    al = CoreSet(_regressor()).fit(X, target)
    direct = _regressor().fit(X, target.reshape(-1, 1))
    pred = al.predict(X_pool)
    assert pred.shape == (30,)
    assert_allclose(pred, direct.predict(X_pool).ravel(), rtol=1e-6)
    assert al.adapter_.n_outputs == 1
    with pytest.raises(ValueError, match=re.escape("Input y contains NaN.")):
        CoreSet(_regressor()).fit(X, np.where(np.arange(30) == 3, np.nan, target))


# --------------------------------------------------------------------------
# Messages


def test_bad_skactive_layer_attribute_is_named_as_such(data):
    X, y, _ = data
    msg = (
        "The 'skactive_layer' attribute of BadLayerNet must name a submodule of BadLayerNet "
        "(one of 'hidden', 'head'). Got 'fc9' instead."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        CoreSet(_classifier(module=BadLayerNet)).fit(X, y)


class _BinaryNet(Net):
    def __init__(self):
        super().__init__(n_outputs=1)

    def forward(self, X):
        return super().forward(X).squeeze(-1)


def test_binary_classifier_takes_integer_labels(data):
    X, y, X_pool = data
    labels = (y == 0).astype(np.int32)
    net = skorch.NeuralNetBinaryClassifier(
        _BinaryNet, max_epochs=3, lr=0.1, train_split=None, verbose=0
    )
    al = BADGE(net, random_state=0).fit(X, labels)
    direct = skorch.NeuralNetBinaryClassifier(
        _BinaryNet, max_epochs=3, lr=0.1, train_split=None, verbose=0
    ).fit(X, labels.astype(np.float32))
    assert_allclose(al.predict_proba(X_pool), direct.predict_proba(X_pool))
    assert al.adapter_.n_outputs == 2
    assert len(set(al.query(X_pool.astype(np.float64), 6).tolist())) == 6


@pytest.mark.parametrize("shift", [2, -1], ids=["too-large", "negative"])
def test_labels_outside_the_outputs_say_so(shift, data):
    # torch's own message is "Target 4 is out of bounds" from inside the loss.
    X, y, _ = data
    bad = y + shift if shift > 0 else np.where(y == 0, shift, y)
    lo, hi = int(bad.min()), int(bad.max())
    msg = (
        "NeuralNetClassifier's module has 3 outputs, so y should hold the class indices 0..2, "
        f"but it holds labels from {lo} to {hi}; encode them with "
        "sklearn.preprocessing.LabelEncoder or give the module one output per class."
    )
    with pytest.raises(ValueError, match=re.escape(msg)) as info:
        MarginSampling(_classifier()).fit(X, bad)
    assert isinstance(info.value.__cause__, (IndexError, RuntimeError))


def test_other_fit_errors_pass_through(data):
    # A failure with labels in range is not relabelled.
    X, y, _ = data

    class Broken(Net):
        def forward(self, X):
            raise RuntimeError("broken module")

    with pytest.raises(RuntimeError, match="broken module"):
        MarginSampling(_classifier(module=Broken)).fit(X, y)
