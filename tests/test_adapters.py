import re

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import (
    BayesianRidge,
    ElasticNet,
    HuberRegressor,
    Lasso,
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skactive.adapters import BaseAdapter, get_adapter, register_adapter
from skactive.exceptions import UnsupportedEstimatorError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(
        n_samples=80, n_features=5, n_informative=3, n_classes=3, random_state=0
    )


@pytest.fixture(scope="module")
def reg_data():
    return make_regression(n_samples=60, n_features=4, n_targets=1, random_state=0)


def _logistic_cv():
    """LogisticRegressionCV with the settings that its newer releases stop defaulting.

    scikit-learn 1.9 warns (FutureWarning) about three changing defaults;
    setting them, where the release knows them, keeps the suite quiet and
    the model the same.
    """
    if "use_legacy_attributes" not in LogisticRegressionCV().get_params():
        return LogisticRegressionCV(cv=3)  # before 1.9: nothing to silence
    return LogisticRegressionCV(
        cv=3, l1_ratios=(0.0,), scoring="accuracy", use_legacy_attributes=False
    )


def _ones(X):
    return np.hstack([X, np.ones((len(X), 1))])


@pytest.mark.parametrize(
    "clf",
    [
        LogisticRegression(),
        _logistic_cv(),
        SGDClassifier(loss="log_loss", random_state=0),
    ],
    ids=lambda c: type(c).__name__,
)
def test_linear_classifier_embedding_is_x_with_ones(clf, clf_data):
    X, y = clf_data
    clf.fit(X, y)
    adapter = get_adapter(clf)
    H, P = adapter.embed_predict(X)
    assert adapter.task == "classification" and adapter.n_outputs == 3
    assert np.array_equal(H, _ones(X))
    assert np.allclose(P, clf.predict_proba(X))
    # The last layer really is linear in H: logits are H @ [coef, intercept].
    W = np.hstack([clf.coef_, clf.intercept_[:, None]])
    assert np.allclose(H @ W.T, clf.decision_function(X))


def test_no_intercept_means_no_ones_column(clf_data):
    X, y = clf_data
    clf = LogisticRegression(fit_intercept=False).fit(X, y)
    assert np.array_equal(get_adapter(clf).embed(X), X)


def test_binary_classifier_has_two_outputs(clf_data):
    X, y = clf_data
    clf = LogisticRegression().fit(X, y > 0)
    adapter = get_adapter(clf)
    assert adapter.n_outputs == 2
    assert adapter.predict_proba(X).shape == (len(X), 2)


@pytest.mark.parametrize(
    "reg",
    [
        LinearRegression(),
        Ridge(),
        RidgeCV(),
        Lasso(alpha=0.1),
        ElasticNet(alpha=0.1),
        BayesianRidge(),
        SGDRegressor(random_state=0),
        HuberRegressor(),
    ],
    ids=lambda r: type(r).__name__,
)
def test_linear_regressors(reg, reg_data):
    X, y = reg_data
    reg.fit(X, y)
    adapter = get_adapter(reg)
    H, pred = adapter.embed_predict(X)
    assert adapter.task == "regression" and adapter.n_outputs == 1
    assert np.array_equal(H, _ones(X))
    assert np.allclose(pred[:, 0], reg.predict(X))


def test_multi_output_regressor_counts_outputs(reg_data):
    X, y = reg_data
    reg = Ridge().fit(X, np.column_stack([y, 2 * y]))
    assert get_adapter(reg).n_outputs == 2


@pytest.mark.parametrize("n_classes", [2, 3])
def test_mlp_classifier_embedding_is_last_hidden_layer(n_classes, clf_data):
    X, y = clf_data
    y = y if n_classes == 3 else (y > 0).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(7, 4), max_iter=200, random_state=0).fit(X, y)
    H, P = get_adapter(mlp).embed_predict(X)
    assert H.shape == (len(X), 5) and np.all(H[:, -1] == 1.0)
    assert np.allclose(P, mlp.predict_proba(X))
    # The output layer applied to H reproduces the model's own probabilities.
    W = np.vstack([mlp.coefs_[-1], mlp.intercepts_[-1]])
    logits = H @ W
    if n_classes == 3:
        expected = softmax(logits, axis=1)
    else:  # one logistic output unit
        expected = np.column_stack([1 - expit(logits[:, 0]), expit(logits[:, 0])])
    assert np.allclose(expected, mlp.predict_proba(X))


def test_mlp_regressor(reg_data):
    X, y = reg_data
    mlp = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", max_iter=200, random_state=0)
    mlp.fit(X, y)
    H, pred = get_adapter(mlp).embed_predict(X)
    W = np.vstack([mlp.coefs_[-1], mlp.intercepts_[-1]])
    assert np.allclose((H @ W)[:, 0], mlp.predict(X))
    assert np.allclose(pred[:, 0], mlp.predict(X))


def test_pipeline_transforms_then_delegates(clf_data):
    X, y = clf_data
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    H, P = get_adapter(pipe).embed_predict(X)
    assert np.allclose(H, _ones(pipe[0].transform(X)))
    assert np.allclose(P, pipe.predict_proba(X))


@pytest.mark.parametrize("search", [GridSearchCV, RandomizedSearchCV])
def test_search_cv_delegates_to_best_estimator(search, clf_data):
    X, y = clf_data
    params = {"C": [0.1, 1.0]}
    kwargs = {"n_iter": 2, "random_state": 0} if search is RandomizedSearchCV else {}
    cv = search(LogisticRegression(), params, cv=3, **kwargs).fit(X, y)
    H, P = get_adapter(cv).embed_predict(X)
    assert np.array_equal(H, _ones(X))
    assert np.allclose(P, cv.predict_proba(X))


@pytest.mark.parametrize(
    "estimator",
    [KNeighborsClassifier(n_neighbors=3), LinearSVC()],
    ids=lambda e: type(e).__name__,
)
def test_unsupported_estimator_error_says_what_to_do(estimator, clf_data):
    X, y = clf_data
    estimator.fit(X, y)
    name = type(estimator).__name__
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(f"no adapter for {name}")) as exc:
        get_adapter(estimator)
    assert isinstance(exc.value, TypeError)
    assert "LogisticRegression" in str(exc.value) and "register_adapter" in str(exc.value)


@pytest.mark.parametrize("loss", ["hinge", "perceptron"])
def test_sgd_without_probabilities_names_the_losses_that_work(loss, clf_data):
    sgd = SGDClassifier(loss=loss, random_state=0).fit(*clf_data)
    msg = (
        f"skactive cannot use SGDClassifier: SGDClassifier with loss={loss!r} has no "
        "predict_proba; use loss='log_loss' or loss='modified_huber'."
    )
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)):
        get_adapter(sgd)
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)):
        get_adapter(make_pipeline(StandardScaler(), sgd).fit(*clf_data))


def test_multilabel_mlp_says_multilabel_is_unsupported(clf_data):
    X, y = clf_data
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, Y)
    msg = (
        "skactive cannot use MLPClassifier: multilabel and multi-output classifiers "
        "are not supported."
    )
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)):
        get_adapter(mlp)


def test_none_is_named_as_a_fit_that_returned_none():
    msg = (
        "skactive cannot use NoneType: got None, not a fitted estimator "
        "(does its fit return self?)."
    )
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)):
        get_adapter(None)


class _KNNAdapter(BaseAdapter):
    description = "KNeighborsClassifier"
    task = "classification"

    @classmethod
    def supports(cls, estimator):
        return isinstance(estimator, KNeighborsClassifier)

    @property
    def n_outputs(self):
        return len(self.estimator.classes_)

    def embed_predict(self, X):
        return np.asarray(X, dtype=float), self.estimator.predict_proba(X)


def test_register_adapter_adds_and_removes(clf_data):
    X, y = clf_data
    knn = KNeighborsClassifier().fit(X, y)
    register_adapter(_KNNAdapter)
    try:
        assert isinstance(get_adapter(knn), _KNNAdapter)
        assert "KNeighborsClassifier" in str(
            pytest.raises(UnsupportedEstimatorError, get_adapter, object()).value
        )
    finally:
        register_adapter(_KNNAdapter, remove=True)
    with pytest.raises(UnsupportedEstimatorError):
        get_adapter(knn)


def test_user_adapter_takes_precedence(clf_data):
    X, y = clf_data

    class Override(_KNNAdapter):
        @classmethod
        def supports(cls, estimator):
            return isinstance(estimator, LogisticRegression)

    register_adapter(Override)
    try:
        assert isinstance(get_adapter(LogisticRegression().fit(X, y)), Override)
    finally:
        register_adapter(Override, remove=True)


def test_register_adapter_rejects_non_adapters():
    msg = "register_adapter expects a subclass of skactive.adapters.BaseAdapter."
    with pytest.raises(TypeError, match=re.escape(msg)):
        register_adapter(object)
