"""Kernels against small independent dense oracles where numerics bite.

Magnitudes (1e±150 and beyond), large offsets (1e7), and degenerate or tied
pools (duplicates, identical rows, one-hot probabilities, zero rows). The
oracles below are written from the papers' definitions with explicit
matrices and direct differences; none calls skactive.

Every property runs 50 examples (the "ci" profile's count, set here so that
a local profile cannot thin them).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge

from skactive import BADGE, BAIT, CoreSet, RandomSampling
from skactive.exceptions import NumericalRangeError
from skactive.kernels import (
    bait_select,
    entropy_scores,
    kcenter_greedy,
    kmeanspp_select,
    least_confidence_scores,
    margin_scores,
    top_k,
)

PROPERTY = settings(max_examples=50, deadline=None)


# --------------------------------------------------------------------------
# Independent dense oracles.


def oracle_kcenter(H, n_select, H_labeled=None):
    """Greedy k-center with direct ``((H − c)²).sum()`` distances.

    Centres: the labelled rows and the picks; with none labelled, the first
    pick is the row of largest norm. Lowest index on ties.
    """
    picks = []
    if H_labeled is not None and len(H_labeled):
        min_d2 = np.min([((H - c) ** 2).sum(axis=1) for c in H_labeled], axis=0)
    else:
        norms = (H**2).sum(axis=1)
        picks.append(int(np.flatnonzero(norms == norms.max())[0]))
        min_d2 = ((H - H[picks[0]]) ** 2).sum(axis=1)
    while len(picks) < n_select:
        masked = min_d2.copy()
        masked[picks] = -1.0
        best = int(np.flatnonzero(masked == masked.max())[0])
        picks.append(best)
        min_d2 = np.minimum(min_d2, ((H - H[best]) ** 2).sum(axis=1))
    return picks


def oracle_kmeanspp(A, H, n_select, seed, init="max_norm"):
    """k-means++ seeding on the explicit gradient embeddings ``g = a ⊗ h``.

    The draw rule of SPEC §3: one ``uniform()`` per pick, the first row in
    pool order whose cumulative D² reaches ``u·ΣD²`` (again if that row was
    chosen); once every D² is 0, the unchosen row at position ``ceil(u·m) − 1``.
    """
    rng = np.random.RandomState(seed)
    G = (A[:, :, None] * H[:, None, :]).reshape(len(A), -1)
    n = len(G)
    if init == "max_norm":
        norms = (G**2).sum(axis=1)
        first = int(np.flatnonzero(norms == norms.max())[0])
    else:
        first = min(max(math.ceil(rng.uniform() * n) - 1, 0), n - 1)
    picks = [first]
    d2 = ((G - G[first]) ** 2).sum(axis=1)
    d2[picks] = 0.0
    while len(picks) < n_select and d2.sum() > 0:
        cum = np.cumsum(d2)
        idx = picks[0]
        while idx in picks:
            idx = int(np.searchsorted(cum, rng.uniform() * cum[-1], side="left"))
        picks.append(idx)
        d2 = np.minimum(d2, ((G - G[idx]) ** 2).sum(axis=1))
        d2[picks] = 0.0
    free = [i for i in range(n) if i not in picks]
    while len(picks) < n_select:
        pos = min(max(math.ceil(rng.uniform() * len(free)) - 1, 0), len(free) - 1)
        picks.append(free.pop(pos))
    return picks


def _fisher(H, P):
    """Per-row last-layer Fisher matrices: ``(diag p − p pᵀ) ⊗ h hᵀ`` or ``h hᵀ``."""
    hh = H[:, :, None] * H[:, None, :]
    if P is None:
        return hh
    S = np.stack([np.diag(p) - np.outer(p, p) for p in P])
    return np.stack([np.kron(s, o) for s, o in zip(S, hh, strict=True)])


def oracle_bait(H, P, B, H_lab=None, P_lab=None, lam=1.0, oversample=2, fisher="pool"):
    """BAIT with dense Kd × Kd matrices and a solve per candidate (SPEC §3).

    Forward: add the row whose addition leaves the least ``tr(M⁻¹F)``
    (lowest index on ties); backward: remove the pick whose removal leaves the
    least, first in pick order on ties; survivors in pick order.
    """
    I_pool = _fisher(H, P)
    L = 0 if H_lab is None else len(H_lab)
    I_lab = _fisher(H_lab, P_lab) if L else np.zeros((0, *I_pool.shape[1:]))
    D = I_pool.shape[1]
    F = np.eye(D) if fisher == "identity" else np.concatenate([I_pool, I_lab]).mean(axis=0)
    M = lam * np.eye(D) + I_lab.sum(axis=0) / (L + B)
    w = B / (L + B)

    def objective(Mx):
        return np.trace(np.linalg.solve(Mx, F))

    picks = []
    for _ in range(min(oversample * B, len(H))):
        scores = [np.inf if i in picks else objective(M + w * I_pool[i]) for i in range(len(H))]
        best = int(np.argmin(scores))
        picks.append(best)
        M = M + w * I_pool[best]
    while len(picks) > B:
        scores = [objective(M - w * I_pool[j]) for j in picks]
        j = int(np.argmin(scores))
        M = M - w * I_pool[picks.pop(j)]
    return picks


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _pool(seed, n, K, d):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, d)), _softmax(2.0 * rng.normal(size=(n, K)))


def _factor(P):
    return P - np.eye(P.shape[1])[P.argmax(axis=1)]


def _assert_batch(picks, n, n_select):
    assert len(picks) == n_select == len(set(picks))
    assert all(0 <= i < n for i in picks)


# --------------------------------------------------------------------------
# Magnitudes: exact power-of-two scales from 2**-520 to 2**520 (1e±156), and
# decimal scales 1e±150 and 1e±155. A power of two makes the oracle's
# unscaled picks the exact answer; a decimal scale is compared directly
# where the oracle itself stays finite.

pow2_scales = st.integers(-520, 520)
shapes = st.tuples(st.integers(0, 2**16), st.integers(2, 25), st.integers(1, 5))


@PROPERTY
@given(shapes, pow2_scales, st.booleans())
def test_kcenter_is_scale_free(shape, k, labeled):
    seed, n, d = shape
    H, _ = _pool(seed, n, 2, d)
    H_lab = _pool(seed + 1, 3, 2, d)[0] if labeled else None
    n_select = max(1, n // 2)
    s = math.ldexp(1.0, k)
    got = kcenter_greedy(H * s, n_select, H_labeled=None if H_lab is None else H_lab * s)
    _assert_batch(got, n, n_select)
    assert got == oracle_kcenter(H, n_select, H_lab)


@PROPERTY
@given(shapes, st.sampled_from([1.0, 1e3, 1e5, 1e7, -1e7]), st.booleans())
def test_kcenter_is_offset_free(shape, offset, labeled):
    seed, n, d = shape
    H, _ = _pool(seed, n, 2, d)
    H_lab = _pool(seed + 1, 3, 2, d)[0] + offset if labeled else None
    H = H + offset
    n_select = max(1, n // 2)
    got = kcenter_greedy(H, n_select, H_labeled=H_lab)
    _assert_batch(got, n, n_select)
    assert got == oracle_kcenter(H, n_select, H_lab)


@PROPERTY
@given(shapes, st.integers(2, 4), pow2_scales, pow2_scales, st.sampled_from(["max_norm", "random"]))
def test_kmeanspp_is_scale_free(shape, K, k_a, k_h, init):
    seed, n, d = shape
    H, P = _pool(seed, n, K, d)
    A = _factor(P)
    n_select = max(1, n // 2)
    got = kmeanspp_select(
        A * math.ldexp(1.0, k_a), H * math.ldexp(1.0, k_h), n_select, init=init, random_state=seed
    )
    _assert_batch(got, n, n_select)
    assert got == oracle_kmeanspp(A, H, n_select, seed, init)


@PROPERTY
@given(shapes, st.integers(2, 4), st.sampled_from([1.0, 1e3, 1e5, 1e7, -1e7]))
def test_kmeanspp_is_offset_safe(shape, K, offset):
    seed, n, d = shape
    H, P = _pool(seed, n, K, d)
    H, A = H + offset, _factor(P)
    n_select = max(1, n // 2)
    got = kmeanspp_select(A, H, n_select, random_state=seed)
    _assert_batch(got, n, n_select)
    assert got == oracle_kmeanspp(A, H, n_select, seed)


@PROPERTY
@given(
    st.tuples(st.integers(0, 2**16), st.integers(3, 14), st.integers(1, 3)),
    st.sampled_from([None, 2, 3]),
    st.integers(-500, 500),
    st.floats(0.5, 2.0),
    st.sampled_from(["pool", "identity"]),
)
def test_bait_depends_on_h_over_sqrt_lam_only(shape, K, k, lam, fisher):
    # Scaling H by 2**k and lam by 4**k changes nothing in exact arithmetic;
    # the kernel must get the well-scaled problem's picks at 1e±150.
    seed, n, d = shape
    H, P = _pool(seed, n, K or 2, d)
    P = None if K is None else P
    n_lab, B = 2, max(1, (n - 2) // 3)
    lab = {} if P is None else {"P_labeled": P[:n_lab]}
    got = bait_select(
        H[n_lab:] * math.ldexp(1.0, k),
        None if P is None else P[n_lab:],
        B,
        H_labeled=H[:n_lab] * math.ldexp(1.0, k),
        lam=math.ldexp(lam, 2 * k),
        fisher=fisher,
        **lab,
    )
    _assert_batch(got, n - n_lab, B)
    want = oracle_bait(
        H[n_lab:],
        None if P is None else P[n_lab:],
        B,
        H[:n_lab],
        lab.get("P_labeled"),
        lam,
        fisher=fisher,
    )
    assert got == want


@PROPERTY
@given(
    st.integers(0, 2**16),
    st.sampled_from([1e-300, 1e-155, 1e-150, 1e-80, 1e80, 1e150, 1e155, 1e300]),
    st.sampled_from([None, 3]),
)
def test_bait_at_extreme_scales_picks_or_says_why(seed, scale, K):
    # With lam = 1 these pools are far outside what float64 gains can hold
    # (‖h‖/√λ beyond 2**±240): a clear ValueError, never a hang or a batch
    # decided by inf, NaN or zeros. Within range it must match the oracle.
    H, P = _pool(seed, 12, K or 2, 2)
    P = None if K is None else P
    try:
        got = bait_select(H * scale, P, 3)
    except NumericalRangeError as exc:
        assert isinstance(exc, ValueError)
        assert abs(math.log2(scale * np.abs(H).max())) > 200
        return
    _assert_batch(got, 12, 3)
    assert got == oracle_bait(H * scale, P, 3)


@pytest.mark.parametrize("scale", [1e150, 1e155, 1e300, 1e-150, 1e-300])
@pytest.mark.parametrize("kernel", ["kcenter", "kmeanspp"])
def test_decimal_extreme_scales(kernel, scale):
    # The inputs: 1e155 made CoreSet repeat [0, 1, 0, 1, ...] and
    # BADGE hang; now the picks are those of the unscaled pool.
    H, P = _pool(7, 40, 3, 4)
    if kernel == "kcenter":
        got, want = kcenter_greedy(H * scale, 12), oracle_kcenter(H, 12)
    else:
        A = _factor(P)
        got = kmeanspp_select(A, H * scale, 12, random_state=3)
        want = oracle_kmeanspp(A, H, 12, 3)
    _assert_batch(got, 40, 12)
    assert got == want


@PROPERTY
@given(st.integers(0, 2**16), st.integers(1, 30), st.integers(1, 4), st.integers(-1074, 0))
def test_uncertainty_kernels_on_tiny_probabilities(seed, n, K, k):
    # Probabilities down to the subnormal 2**-1074 and exact ties: every
    # score equals a direct numpy formula, and top_k a stable argsort.
    rng = np.random.RandomState(seed)
    P = rng.choice([0.0, math.ldexp(1.0, k), 0.25, 0.5], size=(n, K))
    P[:, 0] += 1.0 - P.sum(axis=1).clip(None, 1.0)
    top = np.sort(P, axis=1)
    logs = np.log(np.where(P > 0, P, 1.0))
    want = {
        least_confidence_scores: 1.0 - P.max(axis=1),
        margin_scores: (top[:, -2] - top[:, -1]) if K > 1 else np.zeros(n),
        entropy_scores: -(P * logs).sum(axis=1),
    }
    for score, expected in want.items():
        got = score(P)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
        b = int(rng.randint(1, n + 1))
        assert top_k(got, b).tolist() == np.argsort(-got, kind="stable")[:b].tolist()


# --------------------------------------------------------------------------
# Degenerate and tied pools: indices and order against the oracles.


def _degenerate_pools():
    rng = np.random.RandomState(11)
    base = rng.normal(size=(6, 3))
    P6 = _softmax(rng.normal(size=(6, 3)))
    onehot = np.eye(3)[rng.randint(0, 3, size=12)]
    return {
        # each row twice, interleaved: the second copy is 0 away from the first
        "duplicates": (np.repeat(base, 2, axis=0), np.repeat(P6, 2, axis=0)),
        "identical": (np.ones((10, 3)), np.tile(P6[:1], (10, 1))),
        "one_hot": (rng.normal(size=(12, 3)), onehot),
        "zero_rows": (np.vstack([np.zeros((4, 3)), base]), np.vstack([P6[:4], P6])),
        "two_clusters": (
            np.vstack([np.zeros((5, 3)), np.full((5, 3), 2.0)]),
            np.vstack([np.tile(P6[:1], (5, 1)), np.tile(P6[1:2], (5, 1))]),
        ),
    }


DEGENERATE = _degenerate_pools()


@pytest.mark.parametrize("name", DEGENERATE)
@pytest.mark.parametrize("labeled", [False, True])
def test_kcenter_degenerate_matches_oracle(name, labeled):
    H, _ = DEGENERATE[name]
    H_lab = H[:2] if labeled else None
    for b in (1, len(H) // 2, len(H)):
        assert kcenter_greedy(H, b, H_labeled=H_lab) == oracle_kcenter(H, b, H_lab)


@pytest.mark.parametrize("name", DEGENERATE)
@pytest.mark.parametrize("init", ["max_norm", "random"])
def test_kmeanspp_degenerate_matches_oracle(name, init):
    H, P = DEGENERATE[name]
    A = _factor(P)
    for seed in range(3):
        for b in (len(H) // 2, len(H)):
            got = kmeanspp_select(A, H, b, init=init, random_state=seed)
            assert got == oracle_kmeanspp(A, H, b, seed, init)


@pytest.mark.parametrize("name", DEGENERATE)
@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("fisher", ["pool", "identity"])
def test_bait_degenerate_matches_oracle(name, task, fisher):
    # oversample=2: the backward pass runs, and with duplicates its ties
    # ("first in pick order") decide which copy survives.
    H, P = DEGENERATE[name]
    P = P if task == "classification" else None
    for b in (2, len(H) // 2):
        got = bait_select(H, P, b, oversample=2, fisher=fisher)
        assert got == oracle_bait(H, P, b, oversample=2, fisher=fisher)


def test_bait_backward_tie_removes_the_first_pick():
    # Two exact copies of the best row are both picked forward (0, then 1).
    # Removing either raises the trace equally; the rule breaks the tie to
    # the first in pick order, so row 0 goes and row 1 survives.
    H = np.array([[3.0, 0.0], [3.0, 0.0], [0.0, 0.1], [0.1, 0.1]])
    assert bait_select(H, None, 2, oversample=1, fisher="identity") == [0, 1]
    got = bait_select(H, None, 1, oversample=2, fisher="identity")
    assert got == oracle_bait(H, None, 1, oversample=2, fisher="identity") == [1]


# --------------------------------------------------------------------------
# Strategies on huge-but-finite pools (the reproduction).


@pytest.mark.parametrize("scale", [1e155, 1e200])
@pytest.mark.parametrize(
    "make", [lambda: CoreSet(LogisticRegression()), lambda: CoreSet(Ridge())], ids=["clf", "reg"]
)
def test_coreset_huge_pool_no_repeats(make, scale):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int) if "Logistic" in repr(make()) else X[:, 0]
    al = make().set_params(device="numpy").fit(X[:10], y[:10])
    got = al.query(X[10:] * scale, 8)
    _assert_batch(got.tolist(), 50, 8)


def test_badge_huge_pool_ends_without_repeats():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    al = BADGE(LogisticRegression(), random_state=0, device="numpy").fit(X[:10], y[:10])
    _assert_batch(al.query(X[10:] * 1e155, 8).tolist(), 50, 8)


def test_bait_huge_pool_raises_a_value_error():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    al = BAIT(Ridge(), device="numpy").fit(X[:10], X[:10, 0])
    with pytest.raises(ValueError, match="BAIT's gains leave float64's range"):
        al.query(X[10:] * 1e155, 4)


@pytest.mark.parametrize("container", [list, tuple])
def test_random_sampling_takes_lists_and_tuples(container):
    X = np.arange(40.0).reshape(20, 2)
    al = RandomSampling(LogisticRegression(), random_state=0).fit(X[:4], [0, 1, 0, 1])
    pool = container(container(row) for row in X)
    assert al.query(pool, 5).tolist() == al.query(X, 5).tolist()
