"""BADGE: the factored k-means++ kernel against a dense oracle, and the strategy."""

import contextlib
import math
import pickle
import re
import tracemalloc
from unittest import mock

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skactive.kernels import _kmeanspp
from skactive.kernels._kmeanspp import _gradient_factor, _kmeanspp_select, kmeanspp_select
from skactive.strategies._badge import BADGE
from skactive.utils._validation import InvalidParameterError

from ._oracles import gradient_embeddings, gradient_factor, last_layer_input

# --------------------------------------------------------------------------
# Oracles, written for clarity, not speed.


def _position(u, m):
    """First position j (0-based) whose equal-weight cumulative sum j + 1 reaches u·m."""
    return min(max(math.ceil(u * m) - 1, 0), m - 1)


def dense_kmeanspp(A, H, n_select, rng, init="max_norm"):
    """k-means++ on the explicit n × Kd gradient embeddings; picks and D² after each pick."""
    n = A.shape[0]
    G = np.stack([np.kron(A[i], H[i]) for i in range(n)])
    if init == "max_norm":
        first = int(np.argmax(np.sum(G**2, axis=1)))
    else:
        first = _position(rng.uniform(), n)
    picks = [first]
    D2 = np.sum((G - G[first]) ** 2, axis=1)
    D2[picks] = 0.0
    history = [D2.copy()]
    while len(picks) < n_select:
        cum = np.cumsum(D2)
        if cum[-1] == 0:
            free = [i for i in range(n) if i not in picks]
            idx = free[_position(rng.uniform(), len(free))]
        else:
            idx = picks[0]
            while idx in picks:
                idx = int(np.flatnonzero(cum >= rng.uniform() * cum[-1])[0])
        picks.append(idx)
        D2 = np.minimum(D2, np.sum((G - G[idx]) ** 2, axis=1))
        D2[picks] = 0.0
        history.append(D2.copy())
    return picks, history


def authors_badge(H, P, n_select, seed):
    """BADGE as REFERENCE.md §2.1 and §2.3 describe the authors' code, in float64.

    Global ``np.random.seed``, distances D (not squared) from the factored
    formula, weights D²/sum(D²) with Python's sum, one
    ``rv_discrete(...).rvs()`` per draw and a redraw while the index is chosen.
    """
    # The global legacy state is the point: it is what the authors' code draws from.
    saved = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        m = P.shape[0]
        a = -P.copy()
        a[np.arange(m), np.argmax(P, axis=1)] += 1.0
        a_sq, h_sq = np.sum(a * a, axis=1), np.sum(H * H, axis=1)

        def dist(c):
            d2 = a_sq * h_sq + a_sq[c] * h_sq[c] - 2.0 * (a @ a[c]) * (H @ H[c])
            return np.sqrt(np.maximum(d2, 0.0))

        chosen = [int(np.argmax(a_sq * h_sq))]
        D = dist(chosen[0])
        D[chosen[0]] = 0.0
        while len(chosen) < n_select:
            D = np.minimum(D, dist(chosen[-1]))
            D[chosen] = 0.0
            w = D**2 / sum(D**2)
            law = scipy.stats.rv_discrete(values=(np.arange(m), w))
            idx = int(law.rvs(size=1)[0])
            while idx in chosen:
                idx = int(law.rvs(size=1)[0])
            chosen.append(idx)
        return chosen
    finally:
        np.random.set_state(saved)  # noqa: NPY002


def _softmax_pool(n, K, d, seed):
    rs = np.random.RandomState(seed)
    logits = 2.0 * rs.normal(size=(n, K))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return P, rs.normal(size=(n, d))


def _check_batch(picks, n, n_select):
    picks = np.asarray(picks)
    assert picks.shape == (n_select,)
    assert len(set(picks.tolist())) == n_select
    assert picks.min() >= 0 and picks.max() < n


@contextlib.contextmanager
def recorded_d2():
    """Record, as host float64 arrays, each D² vector the kernel draws a centre from.

    Test-side instrumentation: it wraps the kernel's draw step instead of
    asking the kernel to return its internals.
    """
    seen, real = [], _kmeanspp._draw

    def spy(d2, *args, **kwargs):
        host = d2.cpu().numpy() if hasattr(d2, "cpu") else d2
        seen.append(np.array(host, dtype=np.float64))
        return real(d2, *args, **kwargs)

    with mock.patch.object(_kmeanspp, "_draw", spy):
        yield seen


def draws_expected(history, n_select):
    """The oracle's D² before each drawn pick: until all are 0 (then the fill is uniform)."""
    out = []
    for d2 in history[: n_select - 1]:
        out.append(d2)
        if d2.sum() == 0:
            break
    return out


# --------------------------------------------------------------------------
# Hypothesis inputs.


@st.composite
def dyadic_pools(draw, max_n=20):
    """Pools whose every product and sum is exact in float64.

    Probabilities are multiples of 1/8 and embeddings small integers, so the
    factored and the dense D² must agree bit for bit, and exact ties (equal
    gradient embeddings, one-hot rows) come up often.
    """
    n = draw(st.integers(1, max_n))
    K = draw(st.integers(2, 4))
    d = draw(st.integers(1, 4))
    cuts = np.sort(draw(arrays(np.int64, (n, K - 1), elements=st.integers(0, 8))), axis=1)
    counts = np.diff(np.hstack([np.zeros((n, 1)), cuts, np.full((n, 1), 8)]), axis=1)
    P = counts / 8.0
    H = draw(arrays(np.float64, (n, d), elements=st.integers(-3, 3).map(float)))
    n_select = draw(st.integers(1, n))
    seed = draw(st.integers(0, 2**32 - 1))
    return gradient_factor(P), H, n_select, seed


finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@st.composite
def float_pools(draw):
    n = draw(st.integers(1, 15))
    A = draw(arrays(np.float64, (n, draw(st.integers(1, 4))), elements=finite))
    H = draw(arrays(np.float64, (n, draw(st.integers(1, 4))), elements=finite))
    return A, H, draw(st.integers(1, n)), draw(st.integers(0, 2**32 - 1))


# --------------------------------------------------------------------------
# Kernel against the dense oracle.


@given(dyadic_pools(), st.sampled_from(["max_norm", "random"]))
def test_kernel_matches_dense_oracle_exactly(pool, init):
    A, H, n_select, seed = pool
    with recorded_d2() as seen:
        picks = _kmeanspp_select(A, H, n_select, np.random.RandomState(seed), np, init=init)
    want, want_hist = dense_kmeanspp(A, H, n_select, np.random.RandomState(seed), init=init)
    assert picks == want
    expected = draws_expected(want_hist, n_select)
    assert len(seen) == len(expected)
    for got, ref in zip(seen, expected, strict=True):
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("seed", range(4))
def test_kernel_matches_dense_oracle_on_continuous_data(seed):
    P, H = _softmax_pool(150, 5, 6, seed)
    A = gradient_factor(P)
    with recorded_d2() as seen:
        picks = _kmeanspp_select(A, H, 30, np.random.RandomState(seed), np)
    want, want_hist = dense_kmeanspp(A, H, 30, np.random.RandomState(seed))
    assert picks == want
    assert len(seen) == 29
    for got, ref in zip(seen, want_hist, strict=False):
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_gradient_factor_is_p_minus_onehot_of_the_first_argmax():
    P = np.array([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.0, 0.0, 1.0], [0.25, 0.25, 0.5]])
    np.testing.assert_array_equal(_gradient_factor(P, np), gradient_factor(P))
    # ‖a ⊗ h‖ from the factor equals the norm of the explicit embedding.
    H = np.arange(12.0).reshape(4, 3)
    G = gradient_embeddings(P, H)
    np.testing.assert_allclose(
        np.sum(G**2, axis=1), np.sum(gradient_factor(P) ** 2, axis=1) * np.sum(H**2, axis=1)
    )


@given(dyadic_pools())
def test_first_pick_is_lowest_index_of_largest_gradient_norm(pool):
    A, H, n_select, seed = pool
    norms = np.sum(A**2, axis=1) * np.sum(H**2, axis=1)
    picks = kmeanspp_select(A, H, n_select, random_state=seed)
    assert picks[0] == np.flatnonzero(norms == norms.max())[0]


def test_init_random_first_pick_is_one_uniform():
    P, H = _softmax_pool(50, 3, 4, 0)
    u = np.random.RandomState(7).uniform()
    picks = kmeanspp_select(gradient_factor(P), H, 5, init="random", random_state=7)
    assert picks[0] == math.ceil(u * 50) - 1


@given(float_pools(), st.sampled_from(["max_norm", "random"]))
def test_unique_in_range_and_deterministic(pool, init):
    A, H, n_select, seed = pool
    picks = kmeanspp_select(A, H, n_select, init=init, random_state=seed)
    _check_batch(picks, A.shape[0], n_select)
    assert picks == kmeanspp_select(A, H, n_select, init=init, random_state=seed)


# --------------------------------------------------------------------------
# The screen (float32 and Cauchy–Schwarz bounds) changes no D².


@st.composite
def screen_pools(draw):
    """Softmax pools at any scale, with duplicated and zero rows (exact ties)."""
    n, K, d = draw(st.integers(2, 120)), draw(st.integers(2, 6)), draw(st.integers(1, 12))
    rs = np.random.RandomState(draw(st.integers(0, 2**32 - 1)))
    P, H = _softmax_pool(n, K, d, rs.randint(2**31))
    H *= 2.0 ** draw(st.integers(-140, 140))
    if draw(st.booleans()):  # non-negative features, as after a ReLU
        H = np.abs(H)
    dup = rs.randint(n, size=rs.randint(n // 2 + 1))
    H[dup], P[dup] = H[rs.randint(n, size=dup.size)], P[rs.randint(n, size=dup.size)]
    H[rs.randint(n, size=rs.randint(3))] = 0.0
    return gradient_factor(P), H, rs.permutation(n)


@given(screen_pools())
def test_screen_rules_out_only_rows_the_centre_cannot_lower(pool):
    A, H, centres = pool
    dist = _kmeanspp._Distances(A, H, np)
    assume(dist.screen is not None)  # a dominant offset takes the centred form instead
    d2 = dist.to(centres[0])
    for c in centres[1:]:
        full = dist.to(c)
        rows = dist.screen.candidates(d2, dist.A @ dist.A[c], dist.H[c], dist.g_sq[c])
        assert np.isin(np.flatnonzero(full < d2), rows).all()
        screened = dist.lower(d2.copy(), c)
        want = np.minimum(d2, full)
        skipped = np.setdiff1d(np.arange(d2.size), rows)
        np.testing.assert_array_equal(screened[skipped], d2[skipped])
        np.testing.assert_allclose(screened, want, rtol=1e-13, atol=0)
        d2 = want


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [2, 16, 128])
def test_screen_keeps_near_ties(seed, d):
    # Rows almost equidistant from two centres ±v, nudged toward +v by relative
    # gaps from 1e-15 to 1e-3: float32 alone would misjudge the gaps under 1e-7.
    rs = np.random.RandomState(seed)
    v = rs.normal(size=d)
    u = rs.normal(size=(400, d))
    u -= np.outer(u @ v / (v @ v), v)  # ⊥ v: equidistant from ±v
    gaps = np.geomspace(1e-15, 1e-3, 200)
    H = np.vstack([-v, v, u + np.outer(np.concatenate([gaps, -gaps]), v)])
    A = np.tile(gradient_factor(np.array([[0.7, 0.2, 0.1]])), (H.shape[0], 1))
    dist = _kmeanspp._Distances(A, H, np)
    assert dist.screen is not None
    d2 = dist.to(0)
    full = dist.to(1)
    rows = dist.screen.candidates(d2, dist.A @ dist.A[1], dist.H[1], dist.g_sq[1])
    assert np.flatnonzero(full < d2).size > 100
    assert np.isin(np.flatnonzero(full < d2), rows).all()
    np.testing.assert_array_equal(dist.lower(d2.copy(), 1), np.minimum(d2, full))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(3))
def test_screen_changes_no_pick(seed, dtype):
    # float32 pools have the first bound only (they are their own float32 copy).
    P, H = _softmax_pool(3000, 10, 16, seed)
    A, H = gradient_factor(P).astype(dtype), H.astype(dtype)
    plain = mock.patch.object(
        _kmeanspp._Distances,
        "lower_to_centre",
        lambda self, d2, *centre: np.minimum(d2, self.to_centre(*centre)),
    )
    with plain:
        want = _kmeanspp_select(A, H, 300, np.random.RandomState(seed), np)
    with recorded_d2() as seen:
        assert _kmeanspp_select(A, H, 300, np.random.RandomState(seed), np) == want
    # Late picks are where the screen rules out most rows: still one D² per pick.
    assert len(seen) == 299


def _one_hot_pool(n, K, d, seed):
    rs = np.random.RandomState(seed)
    return np.eye(K)[rs.randint(K, size=n)], rs.normal(size=(n, d))


def _three_distinct(n, seed):
    rs = np.random.RandomState(seed)
    P = np.array([[0.5, 0.3, 0.2], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    H = rs.normal(size=(3, 5))
    rows = rs.randint(3, size=n)
    rows[:3] = [0, 1, 2]
    return P[rows], H[rows]


@pytest.mark.parametrize(
    ("name", "P", "H", "n_select"),
    [
        ("zero H", _softmax_pool(12, 3, 4, 0)[0], np.zeros((12, 4)), 12),
        ("one-hot P", *_one_hot_pool(30, 4, 5, 1), 10),
        ("three distinct, B=8", *_three_distinct(20, 2), 8),
        ("three distinct, n==B", *_three_distinct(8, 3), 8),
        ("n == B", *_softmax_pool(9, 3, 2, 4), 9),
        ("one class, near certain", np.tile([1 - 1e-12, 1e-12], (15, 1)), np.ones((15, 3)), 7),
        ("single row", np.array([[0.6, 0.4]]), np.ones((1, 2)), 1),
    ],
)
@pytest.mark.parametrize("init", ["max_norm", "random"])
def test_degenerate_pools_never_hang_or_repeat(name, P, H, n_select, init):
    A = gradient_factor(P)
    for seed in range(5):
        picks = kmeanspp_select(A, H, n_select, init=init, random_state=seed)
        _check_batch(picks, P.shape[0], n_select)
        want, _ = dense_kmeanspp(A, H, n_select, np.random.RandomState(seed), init=init)
        assert picks == want


def test_distinct_embeddings_come_first_then_uniform_fill():
    P, H = _three_distinct(40, 5)
    A = gradient_factor(P)
    key = [tuple(r) for r in np.hstack([P, H])]
    for seed in range(10):
        picks = kmeanspp_select(A, H, 12, random_state=seed)
        # Exact duplicates of a centre have D² = 0: one of each distinct row first.
        assert len({key[i] for i in picks[:3]}) == 3
        _check_batch(picks, 40, 12)


def test_fill_rule_is_the_documented_one():
    A = np.zeros((6, 2))  # every gradient is 0: all D² are 0 from the start
    H = np.ones((6, 3))
    rs = np.random.RandomState(3)
    free, want = list(range(1, 6)), [0]
    for _ in range(4):
        want.append(free.pop(math.ceil(rs.uniform() * len(free)) - 1))
    assert kmeanspp_select(A, H, 5, random_state=3) == want


def test_kernel_never_forms_the_gradient_embedding():
    n, K, d = 20_000, 10, 100
    P, H = _softmax_pool(n, K, d, 0)
    A = gradient_factor(P)
    tracemalloc.start()
    try:
        _kmeanspp_select(A, H, 5, np.random.RandomState(0), np)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Beyond its input: the screen's float32 copy of H (half its size), its
    # gathers of at most n/2 float32 and n/8 float64 rows, and a few length-n
    # vectors: under one more H (16 MB), nowhere near n × Kd (160 MB).
    assert peak < n * d * 8 + 16 * n * 8


# --------------------------------------------------------------------------
# The authors' rule (REFERENCE.md §2.3).


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_kernel_reproduces_authors_rule(seed):
    P, H = _softmax_pool(2000, 10, 16, seed)
    picks = kmeanspp_select(gradient_factor(P), H, 40, random_state=seed)
    assert picks == authors_badge(H, P, 40, seed)


@pytest.mark.parametrize("seed", [0, 3])
def test_strategy_reproduces_authors_rule(seed):
    X, y = make_classification(
        n_samples=640, n_features=8, n_informative=6, n_classes=4, random_state=seed
    )
    al = BADGE(LogisticRegression(max_iter=500), random_state=seed).fit(X[:40], y[:40])
    # The model's own view: features plus the intercept's constant input.
    H, P = last_layer_input(al.estimator_, X[40:]), al.estimator_.predict_proba(X[40:])
    np.testing.assert_array_equal(al.query(X[40:], 25), authors_badge(H, P, 25, seed))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_strategy_on_an_mlp_uses_its_hidden_layer():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=1
    )
    mlp = MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=300, random_state=0)
    al = BADGE(mlp, random_state=4).fit(X[:60], y[:60])
    H, P = last_layer_input(al.estimator_, X[60:]), al.estimator_.predict_proba(X[60:])
    assert H.shape == (240, 6)  # 5 hidden units and the output bias's input
    want, _ = dense_kmeanspp(gradient_factor(P), H, 20, np.random.RandomState(4))
    assert al.query(X[60:], 20).tolist() == want


# --------------------------------------------------------------------------
# Backends.


@given(dyadic_pools())
def test_torch_cpu_gives_the_numpy_picks(pool):
    pytest.importorskip("torch")
    A, H, n_select, seed = pool
    for init in ("max_norm", "random"):
        np_picks = kmeanspp_select(A, H, n_select, init=init, random_state=seed)
        assert kmeanspp_select(A, H, n_select, init=init, random_state=seed, device="cpu") == (
            np_picks
        )


@pytest.mark.parametrize("seed", range(3))
def test_torch_cpu_matches_numpy_on_continuous_data(seed):
    pytest.importorskip("torch")
    P, H = _softmax_pool(3000, 10, 32, seed)
    A = gradient_factor(P)
    want = kmeanspp_select(A, H, 60, random_state=seed)
    assert kmeanspp_select(A, H, 60, random_state=seed, device="cpu") == want


def test_torch_gradient_factor_and_d2_match_numpy():
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as xpt

    P, H = _softmax_pool(200, 4, 5, 9)
    A_t = _gradient_factor(torch.as_tensor(P), xpt)
    np.testing.assert_array_equal(A_t.numpy(), gradient_factor(P))
    with recorded_d2() as seen_t:
        got = _kmeanspp_select(A_t, torch.as_tensor(H), 20, np.random.RandomState(1), xpt)
    want, hist = dense_kmeanspp(gradient_factor(P), H, 20, np.random.RandomState(1))
    assert got == want
    assert len(seen_t) == 19
    for a, b in zip(seen_t, hist, strict=False):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * b.max())


@pytest.mark.gpu
def test_cuda_gives_the_numpy_picks():
    pytest.importorskip("torch")
    P, H = _softmax_pool(5000, 10, 64, 0)
    A = gradient_factor(P)
    want = kmeanspp_select(A, H, 100, random_state=0)
    assert kmeanspp_select(A, H, 100, random_state=0, device="cuda") == want
    X, y = make_classification(n_samples=500, n_classes=3, n_informative=4, random_state=0)
    al = BADGE(LogisticRegression(), random_state=0, device="cuda").fit(X[:50], y[:50])
    np.testing.assert_array_equal(al.query(X, 20), al.set_params(device="numpy").query(X, 20))


# --------------------------------------------------------------------------
# Public kernel validation.


def test_kernel_rejects_bad_input():
    A, H = np.zeros((4, 2)), np.ones((4, 3))
    with pytest.raises(ValueError, match=re.escape("n_select=5 should be in [1, n_samples=4].")):
        kmeanspp_select(A, H, 5)
    with pytest.raises(InvalidParameterError, match=re.escape("must be an int in the range")):
        kmeanspp_select(A, H, 0)
    with pytest.raises(InvalidParameterError, match="'n_select' parameter"):
        kmeanspp_select(A, H, 2.0)
    with pytest.raises(ValueError, match=re.escape("same number of rows; got 3 and 4.")):
        kmeanspp_select(A[:3], H, 2)
    with pytest.raises(InvalidParameterError, match="'init' parameter of kmeanspp_select"):
        kmeanspp_select(A, H, 2, init="kmeans++")
    with pytest.raises(ValueError, match="Input H contains NaN"):
        kmeanspp_select(A, np.full((4, 3), np.nan), 2)


# --------------------------------------------------------------------------
# The strategy.


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X[:30], y[:30], X[30:]


def test_query_multiclass(multiclass):
    X_lab, y_lab, X_pool = multiclass
    al = BADGE(LogisticRegression(), random_state=0).fit(X_lab, y_lab)
    idx = al.query(X_pool, batch_size=15)
    assert idx.dtype == np.int64
    _check_batch(idx, len(X_pool), 15)
    H, P = last_layer_input(al.estimator_, X_pool), al.estimator_.predict_proba(X_pool)
    want, _ = dense_kmeanspp(gradient_factor(P), H, 15, np.random.RandomState(0))
    assert idx.tolist() == want
    assert al.query(X_pool, batch_size=len(X_pool)).shape == (len(X_pool),)


def test_binary_is_a_two_class_softmax(multiclass):
    X_lab, y_lab, X_pool = multiclass
    al = BADGE(LogisticRegression(), random_state=1).fit(X_lab, y_lab % 2)
    idx = al.query(X_pool, batch_size=12)
    _check_batch(idx, len(X_pool), 12)
    H, P = last_layer_input(al.estimator_, X_pool), al.estimator_.predict_proba(X_pool)
    assert P.shape == (len(X_pool), 2)
    want, _ = dense_kmeanspp(gradient_factor(P), H, 12, np.random.RandomState(1))
    assert idx.tolist() == want
    # The single-logit gradient (p1 − ŷ1)·h scales every D² by 1/2: same picks.
    single = (P[:, 1] - (P[:, 1] > P[:, 0]))[:, None]
    assert dense_kmeanspp(single, H, 12, np.random.RandomState(1))[0] == want


def test_wraps_a_pipeline_and_sits_in_one(multiclass):
    X_lab, y_lab, X_pool = multiclass
    inner = make_pipeline(StandardScaler(), LogisticRegression())
    al = BADGE(inner, random_state=0).fit(X_lab, y_lab)
    _check_batch(al.query(X_pool, 10), len(X_pool), 10)
    assert al.score(X_lab, y_lab) == inner.fit(X_lab, y_lab).score(X_lab, y_lab)
    outer = make_pipeline(StandardScaler(), BADGE(LogisticRegression(), random_state=0))
    outer.fit(X_lab, y_lab)
    assert outer.predict(X_pool).shape == (len(X_pool),)
    _check_batch(outer[-1].query(outer[:-1].transform(X_pool), 10), len(X_pool), 10)


def test_determinism_clone_and_pickle(multiclass):
    X_lab, y_lab, X_pool = multiclass
    al = BADGE(LogisticRegression(), random_state=5).fit(X_lab, y_lab)
    first = al.query(X_pool, 20)
    np.testing.assert_array_equal(al.query(X_pool, 20), first)
    np.testing.assert_array_equal(clone(al).fit(X_lab, y_lab).query(X_pool, 20), first)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(al)).query(X_pool, 20), first)
    # A RandomState advances from call to call; the first pick is deterministic.
    moving = BADGE(LogisticRegression(), random_state=np.random.RandomState(5))
    moving.fit(X_lab, y_lab)
    a, b = moving.query(X_pool, 20), moving.query(X_pool, 20)
    assert a[0] == b[0] == first[0] and not np.array_equal(a, b)


def test_init_random_strategy(multiclass):
    X_lab, y_lab, X_pool = multiclass
    al = BADGE(LogisticRegression(), init="random", random_state=2).fit(X_lab, y_lab)
    idx = al.query(X_pool, 10)
    _check_batch(idx, len(X_pool), 10)
    assert idx[0] == math.ceil(np.random.RandomState(2).uniform() * len(X_pool)) - 1


def test_strategy_torch_cpu_matches_numpy(multiclass):
    pytest.importorskip("torch")
    X_lab, y_lab, X_pool = multiclass
    al = BADGE(LogisticRegression(), random_state=0, device="numpy").fit(X_lab, y_lab)
    want = al.query(X_pool, 25)
    np.testing.assert_array_equal(al.set_params(device="cpu").query(X_pool, 25), want)


def test_strategy_errors(multiclass):
    X_lab, y_lab, X_pool = multiclass
    with pytest.raises(InvalidParameterError, match="The 'init' parameter of BADGE"):
        BADGE(LogisticRegression(), init="farthest").fit(X_lab, y_lab)
    with pytest.raises(ValueError, match="BADGE supports classification only"):
        BADGE(Ridge()).fit(X_lab, y_lab.astype(float))
    al = BADGE(LogisticRegression()).fit(X_lab, y_lab)
    with pytest.raises(ValueError, match=re.escape("batch_size=371 should be <= n_samples=370")):
        al.query(X_pool, 371)
