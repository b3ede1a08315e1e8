"""Checks every strategy must pass: scikit-learn's estimator checks and our battery."""

import inspect
import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skactive
from skactive.utils._validation import InvalidParameterError

from ._strategies import (
    CLASSIFICATION,
    DETERMINISTIC,
    REGRESSION,
    make,
)
from ._strategies import (
    make_regression as make_reg,
)

# No expected failures: every generated check passes for every strategy.
ESTIMATORS = [make(n, random_state=0) for n in CLASSIFICATION] + [
    make_reg(n, random_state=0) for n in REGRESSION
]


def test_battery_lists_every_exported_strategy():
    # A strategy exported without joining the lists would skip every check here.
    exported = {
        name
        for name in skactive.__all__
        if isinstance(getattr(skactive, name), type)
        and issubclass(getattr(skactive, name), skactive.BaseQueryStrategy)
        and name != "BaseQueryStrategy"
    }
    assert exported == set(CLASSIFICATION) | set(REGRESSION)


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=160, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X[:30], y[:30], X[30:]


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=120, n_features=5, random_state=0)
    return X[:20], y[:20], X[20:]


def _fitted(name, data, **params):
    X, y, _ = data
    return make(name, **params).fit(X, y)


def _check_indices(idx, n, batch_size):
    assert isinstance(idx, np.ndarray) and idx.dtype == np.int64
    assert idx.shape == (batch_size,)
    assert len(np.unique(idx)) == batch_size
    assert idx.min() >= 0 and idx.max() < n


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("batch_size", [1, 7, 130])
def test_indices_unique_in_range_int64(name, batch_size, clf_data):
    X_pool = clf_data[2]
    idx = _fitted(name, clf_data, random_state=0).query(X_pool, batch_size=batch_size)
    _check_indices(idx, len(X_pool), batch_size)


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("batch_size", [1, 9, 100])
def test_regression_indices_unique_in_range(name, batch_size, reg_data):
    X, y, X_pool = reg_data
    idx = make_reg(name, random_state=0).fit(X, y).query(X_pool, batch_size=batch_size)
    _check_indices(idx, len(X_pool), batch_size)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_batch_size_larger_than_pool_raises(name, clf_data):
    al = _fitted(name, clf_data)
    msg = "batch_size=131 should be <= n_samples=130 in X_pool."
    with pytest.raises(ValueError, match=re.escape(msg)):
        al.query(clf_data[2], batch_size=131)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("batch_size", [0, -2, 1.5, "3", True, None])
def test_batch_size_invalid_raises(name, batch_size, clf_data):
    al = _fitted(name, clf_data)
    with pytest.raises(InvalidParameterError, match="The 'batch_size' parameter of query"):
        al.query(clf_data[2], batch_size=batch_size)


@pytest.mark.parametrize("name", CLASSIFICATION + ["RandomSampling"])
def test_same_int_seed_same_batch(name, clf_data):
    X_pool = clf_data[2]
    first = _fitted(name, clf_data, random_state=3)
    second = _fitted(name, clf_data, random_state=3)
    assert np.array_equal(first.query(X_pool, 10), first.query(X_pool, 10))
    assert np.array_equal(first.query(X_pool, 10), second.query(X_pool, 10))


def test_random_state_instance_advances(clf_data):
    al = _fitted("RandomSampling", clf_data, random_state=np.random.RandomState(0))
    X_pool = clf_data[2]
    assert not np.array_equal(al.query(X_pool, 10), al.query(X_pool, 10))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_pickle_and_joblib_round_trip(name, clf_data):
    al = _fitted(name, clf_data, random_state=0)
    X_pool = clf_data[2]
    expected = al.query(X_pool, 8)
    assert np.array_equal(pickle.loads(pickle.dumps(al)).query(X_pool, 8), expected)
    buffer = io.BytesIO()
    joblib.dump(al, buffer)
    buffer.seek(0)
    assert np.array_equal(joblib.load(buffer).query(X_pool, 8), expected)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_clone_round_trip(name, clf_data):
    X, y, X_pool = clf_data
    al = _fitted(name, clf_data, random_state=0)
    copy = clone(al)
    assert not hasattr(copy, "estimator_")
    assert copy.get_params()["random_state"] == 0
    assert np.array_equal(copy.fit(X, y).query(X_pool, 8), al.query(X_pool, 8))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_query_before_fit_raises(name):
    with pytest.raises(NotFittedError):
        make(name).query(np.zeros((4, 2)))


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize(
    "estimator",
    [
        make_pipeline(StandardScaler(), LogisticRegression()),
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
    ],
    ids=["pipeline", "mlp"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_works_with_pipeline_and_mlp(name, estimator, clf_data):
    X, y, X_pool = clf_data
    al = make(name, estimator, random_state=0).fit(X, y)
    _check_indices(al.query(X_pool, 12), len(X_pool), 12)
    assert al.score(X, y) > 0.5


@pytest.mark.parametrize("name", sorted(set(CLASSIFICATION + REGRESSION)))
def test_every_init_parameter_has_a_constraint(name):
    cls = type(make(name))
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert params == set(cls._parameter_constraints)


@pytest.mark.parametrize("name", DETERMINISTIC)
@pytest.mark.parametrize("seed", range(3))
def test_deterministic_strategies_are_permutation_equivariant(name, seed, clf_data):
    X, y, X_pool = clf_data
    perm = np.random.RandomState(seed).permutation(len(X_pool))
    al = make(name).fit(X, y)
    # Row perm[i] of the pool is row i of the permuted pool.
    assert np.array_equal(perm[al.query(X_pool[perm], 15)], al.query(X_pool, 15))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_delegates_prediction_methods(name, clf_data):
    X, y, X_pool = clf_data
    al = _fitted(name, clf_data)
    reference = clone(al.estimator).fit(X, y)
    assert np.array_equal(al.predict(X_pool), reference.predict(X_pool))
    assert np.allclose(al.predict_proba(X_pool), reference.predict_proba(X_pool))
    assert np.allclose(al.decision_function(X_pool), reference.decision_function(X_pool))
    assert al.score(X, y) == reference.score(X, y)
    assert np.array_equal(al.classes_, reference.classes_)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_dataframe_pool_keeps_feature_names(name, clf_data):
    pd = pytest.importorskip("pandas")
    X, y, X_pool = clf_data
    columns = [f"f{i}" for i in range(X.shape[1])]
    al = make(name, random_state=0).fit(pd.DataFrame(X, columns=columns), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        idx = al.query(pd.DataFrame(X_pool, columns=columns), 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bare array now warns, as in scikit-learn
        assert np.array_equal(idx, al.query(X_pool, 5))


def test_base_query_strategy_is_abstract():
    from skactive import BaseQueryStrategy

    with pytest.raises(TypeError, match="abstract"):
        BaseQueryStrategy(LogisticRegression())

    class NoSelect(BaseQueryStrategy):
        pass

    with pytest.raises(TypeError, match="_select"):
        NoSelect(LogisticRegression())

    class First(BaseQueryStrategy):
        _needs = "nothing"

        def _select(self, X_pool, batch_size, rng, backend):
            return np.arange(batch_size)

    X, y = make_classification(n_samples=20, n_features=3, n_informative=2, n_redundant=0)
    assert First(LogisticRegression()).fit(X, y).query(X, 3).tolist() == [0, 1, 2]


def test_private_sklearn_imports_live_in_one_module():
    import pathlib

    import skactive

    root = pathlib.Path(skactive.__file__).parent
    private = re.compile(r"^\s*(from|import) sklearn(\.\w+)*\._\w+|^\s*from sklearn\S* import _")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(private.search(line) for line in path.read_text().splitlines())
    ]
    assert offenders == ["utils/_validation.py"]
