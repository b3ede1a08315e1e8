"""ALBL: the EXP4.P bandit against direct computations, the ask/tell loop, reproducibility."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from skactive import ALBL, BADGE, CoreSet, LeastConfidence, MarginSampling, RandomSampling
from skactive.strategies._albl import arm_probabilities, exp4p_update
from skactive.utils._validation import InvalidParameterError


@settings(max_examples=60)
@given(
    log_w=st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=6),
    frac=st.floats(0.0, 1.0),
)
def test_arm_probabilities_sum_to_one_above_the_floor(log_w, frac):
    p_min = frac / len(log_w)
    p = arm_probabilities(np.array(log_w), p_min)
    assert math.isclose(p.sum(), 1.0, rel_tol=1e-12)
    assert np.all(p >= p_min * (1 - 1e-12))


def _exp4p_dense(weights, advice, arm_probs, played, reward, p_min, delta):
    """EXP4.P as Beygelzimer et al. write it: experts with advice vectors over K actions.

    ``advice[i]`` is expert i's distribution over the actions; the played
    action's reward is importance weighted; every expert gets its estimated
    reward plus the variance bonus. Here T = 1 (see ``exp4p_update``).
    """
    n_experts, K = advice.shape
    r_hat = np.zeros(K)
    r_hat[played] = reward / arm_probs[played]
    y_hat = advice @ r_hat
    v_hat = advice @ (1.0 / arm_probs)
    return weights * np.exp(p_min / 2 * (y_hat + v_hat * np.sqrt(np.log(n_experts / delta) / K)))


@settings(max_examples=60)
@given(
    log_w=st.lists(st.floats(-5, 5), min_size=2, max_size=5),
    reward=st.floats(0, 2),
    played=st.integers(0, 4),
    delta=st.floats(0.01, 0.9),
)
def test_update_is_exp4p_with_arms_as_self_advising_experts(log_w, reward, played, delta):
    log_w = np.array(log_w)
    n = len(log_w)
    played %= n
    p_min = 1.0 / (10 * n)
    p = arm_probabilities(log_w, p_min)
    # The probabilities are EXP4.P's: (1 − K p_min) Σ_i w_i ξ_i / W + p_min with ξ = I.
    w = np.exp(log_w)
    assert np.allclose(p, (1 - n * p_min) * (np.eye(n).T @ w) / w.sum() + p_min)
    new = exp4p_update(log_w, p, played, reward, p_min, delta)
    expected = _exp4p_dense(w, np.eye(n), p, played, reward, p_min, delta)
    assert np.allclose(np.exp(new - new.max()), expected / expected.max(), rtol=1e-10)


# --------------------------------------------------------------------------
# The loop


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X[:300], y[:300], X[300:], y[300:]


def _loop(al, X, y, n_rounds, batch=8, initial=20, record=None):
    """The ask/tell loop; returns the batches (pool row ids) and, per round, p before the query."""
    labeled = list(range(initial))
    batches, probs = [], []
    for _ in range(n_rounds):
        al.fit(X[labeled], y[labeled])
        pool = np.setdiff1d(np.arange(len(X)), labeled)
        idx = al.query(X[pool], batch_size=batch)
        # The probabilities the arm was drawn from (after the reward was credited).
        probs.append(al.probabilities_.copy())
        picks = pool[idx]
        al.tell(y[picks])
        labeled.extend(picks.tolist())
        batches.append(picks)
        if record is not None:
            record.append(list(labeled))
    return batches, probs


def test_importance_weights_and_reward_match_a_direct_computation(data):
    X, y, _, _ = data
    al = ALBL(LogisticRegression(), random_state=0)
    labeled_after = []
    batches, probs = _loop(al, X, y, 5, record=labeled_after)
    arms = al.arm_history_
    # Importance weight of each queried row: 1 / p(arm that picked it) when it was picked.
    expected_w = np.concatenate([np.full(8, 1.0 / p[a]) for p, a in zip(probs, arms, strict=True)])
    assert np.allclose(al.importance_weights(), expected_w)
    # The next query credits round 5 with IW-ACC of the refitted model on all queried rows.
    al.fit(X[labeled_after[-1]], y[labeled_after[-1]])
    pool = np.setdiff1d(np.arange(len(X)), labeled_after[-1])
    al.query(X[pool], 8)
    rows = np.concatenate(batches)
    hits = al.estimator_.predict(X[rows]) == y[rows]
    expected_reward = np.sum(expected_w * hits) / (len(al.arms_) * len(rows))
    assert len(al.rewards_) == 5
    assert math.isclose(al.rewards_[-1], expected_reward, rel_tol=1e-12)


def test_weights_follow_exp4p_round_by_round(data):
    X, y, _, _ = data
    al = ALBL(LogisticRegression(), random_state=1, delta=0.2)
    _loop(al, X, y, 2)
    before = al.log_weights_.copy()
    p = al.probabilities_
    arm = al.arm_history_[-1]
    al.fit(X[:60], y[:60])  # more rows than before: the bandit is kept
    al.query(X[60:], 8)
    expected = exp4p_update(before, p, arm, al.rewards_[-1], 1.0 / 30, 0.2)
    assert np.allclose(al.log_weights_, expected)


def test_int_seed_makes_every_round_reproducible(data):
    X, y, _, _ = data
    runs = [_loop(ALBL(LogisticRegression(), random_state=5), X, y, 6)[0] for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a, b)


def test_query_again_before_tell_repeats_the_round(data):
    X, y, _, _ = data
    al = ALBL(LogisticRegression(), random_state=2)
    _loop(al, X, y, 2)
    al.fit(X[:40], y[:40])
    first = al.query(X[40:], 8)
    assert np.array_equal(first, al.query(X[40:], 8))
    assert len(al.rewards_) == 2  # the reward was credited once


def test_clone_is_a_fresh_learner_and_fewer_rows_restart(data):
    X, y, _, _ = data
    al = ALBL(LogisticRegression(), random_state=3)
    _loop(al, X, y, 3)
    assert al.n_rounds_ == 3
    fresh = clone(al)
    assert not hasattr(fresh, "log_weights_")
    assert fresh.fit(X[:20], y[:20]).n_rounds_ == 0
    al.fit(X[:10], y[:10])  # fewer labelled rows than the last fit: a new experiment
    assert al.n_rounds_ == 0 and np.all(al.log_weights_ == 0) and al.arm_history_ == []


def test_arms_share_the_fitted_estimator_and_keep_their_parameters(data):
    X, y, _, _ = data
    al = ALBL(
        LogisticRegression(C=0.5),
        strategies=[BADGE(LogisticRegression(), init="random"), MarginSampling],
        uniform=False,
    ).fit(X[:30], y[:30])
    assert [type(a).__name__ for a in al.arms_] == ["BADGE", "MarginSampling"]
    assert al.arms_[0].init == "random"
    assert all(a.estimator_ is al.estimator_ for a in al.arms_)
    assert all(a.estimator.C == 0.5 for a in al.arms_)


def test_default_arms_and_floor(data):
    X, y, _, _ = data
    al = ALBL(LogisticRegression()).fit(X[:30], y[:30])
    assert [type(a) for a in al.arms_] == [CoreSet, LeastConfidence, RandomSampling]
    assert np.allclose(al.probabilities_, 1 / 3)
    assert al._p_min == pytest.approx(1 / 30)


def test_one_arm_always_plays_it(data):
    X, y, _, _ = data
    al = ALBL(LogisticRegression(), strategies=[MarginSampling], uniform=False, random_state=0)
    batches, _ = _loop(al, X, y, 2)
    assert al.arm_history_ == [0, 0]
    margin = MarginSampling(LogisticRegression()).fit(X[:20], y[:20])
    pool = np.arange(20, len(X))
    assert np.array_equal(batches[0], pool[margin.query(X[pool], 8)])


@pytest.mark.parametrize(
    "params, err, msg",
    [
        ({"delta": 0.0}, InvalidParameterError, "The 'delta' parameter of ALBL"),
        ({"delta": 1.5}, InvalidParameterError, "The 'delta' parameter of ALBL"),
        ({"p_min": -0.1}, InvalidParameterError, "The 'p_min' parameter of ALBL"),
        ({"uniform": "yes"}, InvalidParameterError, "The 'uniform' parameter of ALBL"),
        ({"strategies": "CoreSet"}, InvalidParameterError, "The 'strategies' parameter of ALBL"),
        ({"p_min": 0.5}, ValueError, "p_min=0.5 should be <= 1/n_arms = 0.333333 for 3 arms."),
        ({"strategies": [LogisticRegression()]}, TypeError, "strategies[0] should be a skactive"),
        ({"strategies": [ALBL(None)]}, TypeError, "strategies[0] is an ALBL"),
        (
            {"strategies": [], "uniform": False},
            ValueError,
            "strategies is empty and uniform=False; ALBL needs at least one arm.",
        ),
        (
            {"strategies": [BADGE(LogisticRegression(), init="nope")]},
            InvalidParameterError,
            "The 'init' parameter of BADGE",
        ),
    ],
)
def test_invalid_parameters_raise(params, err, msg, data):
    X, y, _, _ = data
    with pytest.raises(err, match=re.escape(msg)):
        ALBL(LogisticRegression(), **params).fit(X[:30], y[:30])


# --------------------------------------------------------------------------
# tell() on every strategy


@pytest.mark.parametrize("cls", [RandomSampling, MarginSampling, BADGE, ALBL])
def test_tell_checks_the_batch(cls, data):
    X, y, _, _ = data
    al = cls(LogisticRegression(), random_state=0)
    with pytest.raises(NotFittedError):
        al.tell(y[:3])
    al.fit(X[:30], y[:30])
    msg = f"tell was called without a new query; {cls.__name__} has no untold batch."
    with pytest.raises(ValueError, match=re.escape(msg)):
        al.tell(y[:3])
    idx = al.query(X[30:], 4)
    with pytest.raises(ValueError, match=re.escape("y_queried has 3 labels, but the last query")):
        al.tell(y[30:][idx[:3]])
    assert al.tell(y[30:][idx]) is al
    with pytest.raises(ValueError, match=re.escape(msg)):
        al.tell(y[30:][idx])  # each batch is told once
