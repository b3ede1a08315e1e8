import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import Tags, TargetTags

from skactive import MarginSampling, RandomSampling
from skactive.experiments.simulation import ActiveLearningResult, active_learning_curve
from skactive.stopping import (
    LabelBudget,
    MaxUncertainty,
    OverallUncertainty,
    StabilizingPredictions,
)
from skactive.utils._validation import InvalidParameterError


class _Fixed:
    """A stand-in classifier whose predictions and probabilities are given."""

    def __init__(self, predictions=None, proba=None):
        self.predictions, self.proba = predictions, proba

    def predict(self, X):
        return self.predictions

    def predict_proba(self, X):
        return self.proba

    def __sklearn_tags__(self):
        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True))


def _kappa_oracle(a, b):
    """Cohen's kappa from the confusion matrix, written out."""
    labels = np.union1d(a, b)
    C = np.array([[np.sum((a == i) & (b == j)) for j in labels] for i in labels], float)
    n = C.sum()
    observed = np.trace(C) / n
    expected = (C.sum(0) @ C.sum(1)) / n**2
    return (observed - expected) / (1 - expected)


@settings(deadline=None, max_examples=60)
@given(
    st.lists(st.lists(st.integers(0, 2), min_size=12, max_size=12), min_size=2, max_size=6),
    st.floats(0.05, 1.0),
    st.integers(1, 4),
)
def test_stabilizing_predictions_matches_kappa_oracle(rounds, threshold, window):
    rule = StabilizingPredictions(np.zeros((12, 1)), threshold=threshold, window=window)
    said = [rule.check(_Fixed(np.array(p))) for p in rounds]
    expected = [np.nan]
    for prev, cur in zip(rounds, rounds[1:], strict=False):
        prev, cur = np.array(prev), np.array(cur)
        same = np.array_equal(prev, cur)
        expected.append(1.0 if same else _kappa_oracle(prev, cur))
    np.testing.assert_allclose(rule.values_, expected, atol=1e-12, equal_nan=True)
    for r, stop in enumerate(said):
        recent = rule.values_[max(0, r - window + 1) : r + 1]
        ok = len(recent) == window and not np.isnan(recent).any()
        assert stop == bool(ok and np.mean(recent) >= threshold)


def test_identical_single_class_predictions_count_as_agreement():
    rule = StabilizingPredictions(np.zeros((3, 1)), window=1)
    model = _Fixed(np.zeros(3, dtype=int))
    assert rule.check(model) is False  # nothing to compare with yet
    assert rule.check(model) is True
    assert rule.values_[1] == 1.0


@pytest.mark.parametrize(
    "measure, oracle",
    [
        ("entropy", lambda P: -(P * np.log(np.where(P > 0, P, 1))).sum(1) / np.log(P.shape[1])),
        ("least_confidence", lambda P: (1 - P.max(1)) * P.shape[1] / (P.shape[1] - 1)),
        ("margin", lambda P: 1 - np.diff(np.sort(P, 1)[:, -2:], axis=1)[:, 0]),
    ],
)
def test_pool_uncertainty_rules_match_oracles(measure, oracle):
    P = np.random.RandomState(0).dirichlet(np.ones(4), size=30)
    model = _Fixed(proba=P)
    u = oracle(P)
    assert 0 <= u.min() and u.max() <= 1 + 1e-12
    top, mean = MaxUncertainty(measure=measure), OverallUncertainty(measure=measure)
    top.check(model, X_pool=np.zeros((30, 1)))
    mean.check(model, X_pool=np.zeros((30, 1)))
    assert top.values_ == pytest.approx([u.max()])
    assert mean.values_ == pytest.approx([u.mean()])
    assert MaxUncertainty(u.max(), measure=measure).check(model, X_pool=P) is True
    assert MaxUncertainty(u.max() - 1e-9, measure=measure).check(model, X_pool=P) is False


def test_certain_or_empty_pool_says_stop():
    certain = _Fixed(proba=np.eye(3))
    assert MaxUncertainty(0.0).check(certain, X_pool=np.zeros((3, 2))) is True
    assert OverallUncertainty(0.0).check(certain, X_pool=np.zeros((0, 2))) is True


def test_label_budget():
    rule = LabelBudget(50)
    assert [rule.check(None, n_labels=n) for n in (20, 49, 50, 60)] == [False, False, True, True]


@pytest.mark.parametrize(
    "rule, kwargs, message",
    [
        (MaxUncertainty(), {}, "MaxUncertainty.check needs 'X_pool'; got None."),
        (LabelBudget(3), {}, "LabelBudget.check needs 'n_labels'; got None."),
    ],
)
def test_missing_input_is_named(rule, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        rule.check(LogisticRegression(), **kwargs)


def test_regressors_are_refused_with_one_sentence():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0)
    ridge = Ridge().fit(X, y)
    with pytest.raises(ValueError, match="Ridge is not a classifier"):
        StabilizingPredictions(X).check(ridge)
    with pytest.raises(ValueError, match="Ridge has no predict_proba"):
        OverallUncertainty().check(ridge, X_pool=X)


@pytest.mark.parametrize(
    "rule, name",
    [
        (StabilizingPredictions(np.zeros((2, 1)), threshold=1.5), "threshold"),
        (StabilizingPredictions(np.zeros((2, 1)), window=0), "window"),
        (MaxUncertainty(-0.1), "threshold"),
        (OverallUncertainty(measure="variance"), "measure"),
        (LabelBudget(0), "max_labels"),
    ],
)
def test_bad_parameters(rule, name):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of"):
        rule.check(_Fixed(np.zeros(2), np.full((2, 2), 0.5)), X_pool=np.zeros((2, 1)), n_labels=1)


def test_clone_and_reset_forget_state():
    rule = LabelBudget(5)
    rule.check(None, n_labels=6)
    assert not hasattr(clone(rule), "values_")
    assert rule.reset() is rule and not hasattr(rule, "stop_")


def test_active_learning_curve_records_when_each_rule_would_stop():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    rules = {"kappa": StabilizingPredictions(X[:40], window=2), "budget": LabelBudget(40)}
    res = active_learning_curve(
        MarginSampling(LogisticRegression()),
        X[40:],
        y[40:],
        X[:40],
        y[:40],
        initial_size=10,
        batch_size=10,
        n_rounds=6,
        stopping=rules,
        random_state=0,
        progress=False,
    )
    assert set(res.stopped_at) == {"kappa", "budget"}
    assert res.stopped_at["budget"] == 40
    kappa_stop = res.stopped_at["kappa"]
    assert kappa_stop is None or kappa_stop in res.n_labels[2:]
    assert not hasattr(rules["budget"], "values_"), "the caller's rules stay untouched"
    again = ActiveLearningResult.from_dict(res.to_dict())
    assert again.stopped_at == res.stopped_at


def test_rules_given_as_a_list_are_named_by_class():
    X, y = make_classification(n_samples=60, n_features=4, random_state=1)
    res = active_learning_curve(
        RandomSampling(LogisticRegression()),
        X[20:],
        y[20:],
        X[:20],
        y[:20],
        initial_size=6,
        batch_size=4,
        n_rounds=2,
        stopping=[MaxUncertainty(1.0), LabelBudget(1000)],
        random_state=0,
        progress=False,
    )
    assert res.stopped_at == {"MaxUncertainty": 6, "LabelBudget": None}
