"""k-DPP swap chain: ratios against explicit determinants, its law on a tiny pool, the strategy."""

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax
from scipy.stats import chi2
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge

from skactive import BADGE, KDPP
from skactive.kernels import kdpp_select, kmeanspp_select
from skactive.kernels._kdpp import _jitter, _kdpp_select, default_n_steps
from skactive.utils._validation import InvalidParameterError


def _pool(rng, n, K, d, sharp=2.0):
    H = rng.normal(size=(n, d))
    P = softmax(sharp * rng.normal(size=(n, K)), axis=1)
    return P - np.eye(K)[P.argmax(axis=1)], H


def dense_kernel(A, H):
    """The explicit n × n kernel ``G Gᵀ + εI`` with ``g_i = a_i ⊗ h_i`` (the oracle)."""
    G = np.stack([np.kron(a, h) for a, h in zip(A, H, strict=True)])
    return G @ G.T + _jitter((G * G).sum(axis=1)) * np.eye(len(G))


def _det(L, S):
    return np.linalg.det(L[np.ix_(S, S)])


@settings(max_examples=40)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(5, 25),
    K=st.integers(2, 4),
    d=st.integers(2, 5),
    k=st.integers(1, 5),
    steps=st.integers(0, 60),
)
def test_swap_ratio_and_inverse_match_explicit_determinants(seed, n, K, d, k, steps):
    rng = np.random.RandomState(seed)
    A, H = _pool(rng, n, K, d)
    # Well-posed swaps only: g = a ⊗ h spans (K − 1)·d dimensions (a sums to
    # 0); with k + 1 rows beyond that, the Schur complement of the proposed
    # row is the 1e-9 jitter alone (the degenerate tests cover that case).
    k = min(k, n - 1, (K - 1) * d - 1)
    _, chain = _kdpp_select(
        A, H, k, np.random.RandomState(seed), np, n_steps=steps, return_chain=True
    )
    L = dense_kernel(A, H)
    S = list(chain.inside)
    # The kept inverse is the inverse of L_S after every accepted swap.
    assert np.allclose(chain.Minv @ L[np.ix_(S, S)], np.eye(k), atol=1e-6)
    for _ in range(5):
        slot, pos = rng.randint(k), rng.randint(n - k)
        v = chain.outside[pos]
        swapped = S[:slot] + [v] + S[slot + 1 :]
        expected = _det(L, swapped) / _det(L, S)
        got = chain.ratio(slot, chain.propose(v))
        assert math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)


def test_chain_samples_the_exact_kdpp_on_a_tiny_pool():
    # n = 6, k = 2: 15 possible batches. 3,000 independent chains of 40 steps
    # from a uniform start; their final batches should follow
    # P(S) ∝ det(L_S). Fixed seed, so the test is deterministic; tolerances:
    # total variation < 0.04 and a chi-square goodness-of-fit p-value > 1e-3
    # (cells with expected count < 5 pooled).
    rng = np.random.RandomState(3)
    A, H = _pool(rng, 6, 2, 2, sharp=1.0)
    L = dense_kernel(A, H)
    subsets = list(itertools.combinations(range(6), 2))
    p = np.array([_det(L, list(s)) for s in subsets])
    p /= p.sum()
    draws, counts = 3000, dict.fromkeys(subsets, 0)
    chain_rng = np.random.RandomState(0)
    for _ in range(draws):
        counts[tuple(sorted(_kdpp_select(A, H, 2, chain_rng, np, "random", 40)))] += 1
    observed = np.array([counts[s] for s in subsets], dtype=float)
    expected = p * draws
    assert 0.5 * np.abs(observed / draws - p).sum() < 0.04
    big = expected >= 5
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    stat = ((obs - exp) ** 2 / exp).sum()
    assert chi2.sf(stat, len(obs) - 1) > 1e-3


def test_default_steps_are_the_papers():
    assert [default_n_steps(k) for k in (1, 2, 10, 100)] == [0, 6, 115, 2302]


def test_zero_steps_from_kmeanspp_is_badges_batch(rng):
    A, H = _pool(rng, 60, 3, 4)
    assert kdpp_select(A, H, 8, n_steps=0, random_state=5) == kmeanspp_select(
        A, H, 8, random_state=5
    )


def test_same_seed_same_batch_and_numpy_equals_torch_cpu(rng):
    pytest.importorskip("torch")
    A, H = _pool(rng, 80, 4, 5)
    picks = [kdpp_select(A, H, 10, random_state=1, device=dev) for dev in ("numpy", "cpu")]
    assert picks[0] == picks[1] == kdpp_select(A, H, 10, random_state=1)
    random_init = [
        kdpp_select(A, H, 10, init="random", random_state=1, device=dev) for dev in ("numpy", "cpu")
    ]
    assert random_init[0] == random_init[1]


@pytest.mark.parametrize("init", ["kmeans++", "random"])
@pytest.mark.parametrize(
    "kind", ["one-hot", "identical rows", "rank below k", "k == n", "zero embeddings"]
)
def test_degenerate_pools_give_unique_indices(init, kind, rng):
    A, H = _pool(rng, 20, 2, 2)
    k = 8
    if kind == "one-hot":
        A = np.zeros_like(A)
    elif kind == "identical rows":
        A, H = np.repeat(A[:1], 20, axis=0), np.repeat(H[:1], 20, axis=0)
    elif kind == "k == n":
        k = 20
    elif kind == "zero embeddings":
        H = np.zeros_like(H)
    # "rank below k": K·d = 4 < k = 8 independent directions.
    picks = kdpp_select(A, H, k, init=init, n_steps=200, random_state=0)
    assert len(set(picks)) == k and all(0 <= i < 20 for i in picks)


@pytest.mark.parametrize(
    "kwargs, err, msg",
    [
        ({"n_select": 0}, InvalidParameterError, "The 'n_select' parameter of kdpp_select"),
        ({"n_select": 9}, ValueError, "n_select=9 should be in [1, n_samples=5]."),
        ({"n_steps": -1}, InvalidParameterError, "The 'n_steps' parameter of kdpp_select"),
        ({"n_steps": 2.5}, InvalidParameterError, "The 'n_steps' parameter of kdpp_select"),
        ({"init": "max_norm"}, InvalidParameterError, "The 'init' parameter of kdpp_select"),
        ({"A": np.ones((4, 2))}, ValueError, "A and H should have the same number of rows"),
        ({"H": np.full((5, 2), np.inf)}, ValueError, "Input H contains infinity"),
    ],
)
def test_public_kernel_rejects_bad_input(kwargs, err, msg):
    args = {"A": np.ones((5, 2)), "H": np.ones((5, 2)), "n_select": 2, **kwargs}
    with pytest.raises(err, match=re.escape(msg)):
        kdpp_select(args.pop("A"), args.pop("H"), args.pop("n_select"), **args)


# --------------------------------------------------------------------------
# The strategy


@pytest.fixture(scope="module")
def clf():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X[:30], y[:30], X[30:]


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_strategy_matches_kernel(init, clf):
    X, y, X_pool = clf
    al = KDPP(LogisticRegression(), init=init, n_steps=50, random_state=4).fit(X, y)
    P = al.predict_proba(X_pool)
    A, H = P - np.eye(3)[P.argmax(axis=1)], np.hstack([X_pool, np.ones((len(X_pool), 1))])
    expected = kdpp_select(A, H, 12, init=init, n_steps=50, random_state=4)
    assert al.query(X_pool, 12).tolist() == expected


def test_zero_steps_strategy_equals_badge(clf):
    X, y, X_pool = clf
    kdpp = KDPP(LogisticRegression(), n_steps=0, random_state=2).fit(X, y)
    badge = BADGE(LogisticRegression(), random_state=2).fit(X, y)
    assert np.array_equal(kdpp.query(X_pool, 15), badge.query(X_pool, 15))


@pytest.mark.parametrize("param, value", [("init", "max_norm"), ("n_steps", -1), ("n_steps", 1.5)])
def test_invalid_parameters_raise(param, value, clf):
    al = KDPP(LogisticRegression()).set_params(**{param: value})
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter of KDPP"):
        al.fit(clf[0], clf[1])


def test_regressor_rejected(clf):
    msg = "KDPP supports classification only, but the wrapped estimator Ridge is a regressor."
    with pytest.raises(ValueError, match=re.escape(msg)):
        KDPP(Ridge()).fit(clf[0], clf[1].astype(float))
