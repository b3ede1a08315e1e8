"""Issue 11.1: strategies that need only probabilities take any classifier with predict_proba."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import entropy
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skactive import (
    BADGE,
    BAIT,
    CoreSet,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    RandomSampling,
)
from skactive.adapters import ProbabilityAdapter
from skactive.exceptions import UnsupportedEstimatorError

# SVC(probability=True) is what users write; scikit-learn 1.9 deprecates the flag.
pytestmark = pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=90, n_features=5, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    return X[:30], y[:30], X[30:]


def _forest():
    return RandomForestClassifier(n_estimators=8, max_depth=3, random_state=0)


def _svc():
    return SVC(probability=True, random_state=0)


MODELS = {
    "forest": _forest,
    "svc": _svc,
    "pipeline": lambda: make_pipeline(StandardScaler(), _forest()),
    "grid": lambda: GridSearchCV(_svc(), {"C": [0.5, 2.0]}, cv=2),
    "calibrated": lambda: CalibratedClassifierCV(SVC(), ensemble=False, cv=2),
}


def _scores(name, P):
    """The uncertainty scores, written out from predict_proba independently of skactive."""
    top = np.sort(P, axis=1)[:, ::-1]
    return {
        "LeastConfidence": 1.0 - top[:, 0],
        "MarginSampling": top[:, 1] - top[:, 0],
        "EntropySampling": entropy(P.T),
    }[name]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("cls", [LeastConfidence, MarginSampling, EntropySampling])
def test_uncertainty_takes_any_probabilistic_classifier(cls, model, data):
    X, y, X_pool = data
    al = cls(MODELS[model]()).fit(X, y)
    assert isinstance(al.adapter_, ProbabilityAdapter)
    assert al.adapter_.n_outputs == 3
    P = al.predict_proba(X_pool)
    scores = _scores(cls.__name__, P)
    assert_allclose(al.score_pool(X_pool), scores, atol=1e-12)
    expected = np.argsort(-scores, kind="stable")[:6]
    # Ties are exact for a forest: compare the multiset of scores, not only the order.
    idx = al.query(X_pool, batch_size=6)
    assert len(set(idx.tolist())) == 6
    assert_allclose(np.sort(scores[idx]), np.sort(scores[expected]), atol=1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_random_sampling_takes_any_classifier(model, data):
    X, y, X_pool = data
    al = RandomSampling(MODELS[model](), random_state=0).fit(X, y)
    assert_array_equal(al.query(X_pool, 5), np.random.RandomState(0).permutation(60)[:5])


@pytest.mark.parametrize("cls", [CoreSet, BADGE, BAIT])
@pytest.mark.parametrize("model", ["forest", "pipeline"])
def test_embedding_strategies_say_what_is_missing(cls, model, data):
    X, y, _ = data
    msg = (
        f"{cls.__name__} needs the embeddings (input of the last linear layer) of its "
        f"estimator, but skactive has no adapter for "
    )
    with pytest.raises(UnsupportedEstimatorError, match=re.escape(msg)) as error:
        cls(MODELS[model]()).fit(X, y)
    assert str(error.value).endswith(
        "Register an adapter for it with skactive.adapters.register_adapter."
    )


@pytest.mark.parametrize("container", [list, tuple])
def test_random_sampling_takes_a_list_or_tuple_pool(container, data):
    """Issue 14.3: a list pool raised AttributeError ('list' has no 'shape')."""
    X, y, X_pool = data
    al = RandomSampling(_forest(), random_state=0).fit(X, y)
    pool = container(map(tuple, X_pool)) if container is tuple else X_pool.tolist()
    assert_array_equal(al.query(pool, 5), al.query(X_pool, 5))
