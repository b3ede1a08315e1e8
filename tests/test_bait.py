"""BAIT: the fast kernel against a dense oracle, invariants, and the strategy end to end."""

import pickle
import re
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax
from sklearn import config_context
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skactive.kernels._bait import (
    _bait_select,
    _cholesky_inverse_factor,
    _class_basis,
    _dense_metric,
    _DenseMetric,
    _half_bounds,
    _LinearRows,
    _SoftmaxRows,
    _spd_inverse,
    _state_trace_solve,
    _step_directions,
    bait_select,
    compute_probabilities,
    sums_to_one,
)
from skactive.kernels._parallel import Workers
from skactive.strategies._bait import BAIT
from skactive.utils._validation import InvalidParameterError

from ._oracles import last_layer_input

# --------------------------------------------------------------------------
# Dense oracle: REFERENCE.md §3.3 written out with full Kd×Kd matrices.


def dense_factor(h, p):
    """X_x (K × Kd): row k is √p_k (e_k − p) ⊗ h; regression (p None): hᵀ."""
    if p is None:
        return h[None, :]
    eye = np.eye(len(p))
    return np.stack([np.sqrt(p[k]) * np.kron(eye[k] - p, h) for k in range(len(p))])


def dense_bait(H, P, B, H_lab=None, P_lab=None, lam=1.0, oversample=2, fisher="pool"):
    """Forward then backward greedy with explicit inverses; returns (picks, forward traces)."""
    n, L = len(H), 0 if H_lab is None else len(H_lab)
    X = [dense_factor(H[i], None if P is None else P[i]) for i in range(n)]
    X_lab = [dense_factor(H_lab[i], None if P is None else P_lab[i]) for i in range(L)]
    D = X[0].shape[1]
    if fisher == "identity":
        F = np.eye(D)
    else:
        F = sum(x.T @ x for x in X + X_lab) / (n + L)
    M = lam * np.eye(D) + sum((x.T @ x for x in X_lab), np.zeros((D, D))) / (L + B)
    w = B / (L + B)  # each candidate's Fisher is scaled by √(B/(L+B)) squared
    picks, traces = [], [np.trace(np.linalg.inv(M) @ F)]
    for _ in range(min(oversample * B, n)):
        vals = [
            np.inf if j in picks else np.trace(np.linalg.inv(M + w * X[j].T @ X[j]) @ F)
            for j in range(n)
        ]
        j = int(np.argmin(vals))  # first minimum: lowest index on ties
        picks.append(j)
        traces.append(vals[j])
        M = M + w * X[j].T @ X[j]
    while len(picks) > B:
        vals = [np.trace(np.linalg.inv(M - w * X[j].T @ X[j]) @ F) for j in picks]
        j = picks.pop(int(np.argmin(vals)))  # first in pick order on ties
        M = M - w * X[j].T @ X[j]
    return picks, traces


@st.composite
def problems(draw, task):
    """Small random BAIT problems (continuous data: no exact ties)."""
    n = draw(st.integers(2, 40))
    K = 1 if task == "regression" else draw(st.integers(2, 4))
    d = draw(st.integers(1, 5))
    L = draw(st.sampled_from([0, 0, 1, 3, 6]))
    rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    H = rng.normal(size=(n, d)) * draw(st.sampled_from([0.3, 1.0, 3.0]))
    H_lab = rng.normal(size=(L, d)) if L else None
    P = P_lab = None
    if task == "classification":
        temp = draw(st.sampled_from([0.5, 2.0, 5.0]))
        P = softmax(temp * rng.normal(size=(n, K)), axis=1)
        P_lab = softmax(temp * rng.normal(size=(L, K)), axis=1) if L else None
    return {
        "H": H,
        "P": P,
        "n_select": draw(st.integers(1, n)),
        "H_labeled": H_lab,
        "P_labeled": P_lab,
        "lam": draw(st.sampled_from([1.0, 0.1, 3.0])),
        "oversample": draw(st.sampled_from([1, 2])),
        "fisher": draw(st.sampled_from(["pool", "identity"])),
    }


def fast(pb, xp=np, **kwargs):
    return _bait_select(
        pb["H"],
        pb["P"],
        pb["n_select"],
        pb["H_labeled"],
        pb["P_labeled"],
        pb["lam"],
        pb["oversample"],
        pb["fisher"],
        xp,
        **kwargs,
    )


def oracle(pb):
    return dense_bait(
        pb["H"],
        pb["P"],
        pb["n_select"],
        pb["H_labeled"],
        pb["P_labeled"],
        pb["lam"],
        pb["oversample"],
        pb["fisher"],
    )


# --------------------------------------------------------------------------
# Kernel properties


def dense_objective(pb):
    """``picks ↦ tr(M_S⁻¹F)`` for the problem ``pb``, with explicit Kd × Kd matrices."""
    H, P, B = pb["H"], pb["P"], pb["n_select"]
    H_lab, P_lab = pb["H_labeled"], pb["P_labeled"]
    L = 0 if H_lab is None else len(H_lab)
    X = [dense_factor(H[i], None if P is None else P[i]) for i in range(len(H))]
    X_lab = [dense_factor(H_lab[i], None if P is None else P_lab[i]) for i in range(L)]
    I_pool, I_lab = [x.T @ x for x in X], [x.T @ x for x in X_lab]
    D = I_pool[0].shape[0]
    F = np.eye(D) if pb["fisher"] == "identity" else sum(I_pool + I_lab) / (len(H) + L)
    M0 = pb["lam"] * np.eye(D) + sum(I_lab, np.zeros((D, D))) / (L + B)

    def objective(picks):
        M = M0 + B / (L + B) * sum((I_pool[j] for j in picks), np.zeros((D, D)))
        return np.trace(np.linalg.solve(M, F))

    return objective


@pytest.mark.parametrize("task", ["classification", "regression"])
@given(data=st.data())
def test_matches_dense_oracle(task, data):
    pb = data.draw(problems(task))
    assert fast(pb) == oracle(pb)[0]


@pytest.mark.parametrize("task", ["classification", "regression"])
@given(data=st.data())
def test_forward_pass_is_greedy_and_its_trace_never_increases(task, data):
    # With oversample=1 the picks are the forward pass, in order: recompute its
    # objective densely after every pick.
    pb = {**data.draw(problems(task)), "oversample": 1}
    picks, objective = fast(pb), dense_objective(pb)
    traces = np.array([objective(picks[:t]) for t in range(len(picks) + 1)])
    assert np.all(np.diff(traces) <= 1e-12 * traces[0])
    # At a step drawn by hypothesis, no other row would have lowered the
    # objective more (the full comparison is test_matches_dense_oracle).
    t = data.draw(st.integers(0, len(picks) - 1))
    best = min(objective([*picks[:t], i]) for i in range(len(pb["H"])) if i not in picks[:t])
    assert traces[t + 1] <= best + 1e-9 * traces[0]


@pytest.mark.parametrize("task", ["classification", "regression"])
@given(data=st.data())
def test_numpy_and_torch_cpu_pick_the_same(task, data):
    pytest.importorskip("torch")
    pb = data.draw(problems(task))
    assert bait_select(device="numpy", **pb) == bait_select(device="cpu", **pb)


@given(
    K=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
    log_scale=st.floats(-3.0, 4.0),
    rank=st.integers(0, 5),
)
def test_gain_bounds_bracket_the_exact_gain(K, seed, log_scale, rank):
    # The pruning is exact only if lower <= tr((I + G)⁻¹R) <= upper for PSD G, R.
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(30, K, K)) * 10.0 ** (log_scale * rng.uniform(size=(30, 1, 1)))
    Bm = rng.normal(size=(30, K, min(rank, K)))
    G, R = A @ A.mT, Bm @ Bm.mT
    exact = np.array(
        [np.trace(np.linalg.solve(np.eye(K) + g, r)) for g, r in zip(G, R, strict=True)]
    )
    lower, upper = _half_bounds(np.concatenate([-G, 0.5 * R], axis=1), K, np)
    assert np.all(lower <= exact * (1 + 1e-9) + 1e-300)
    assert np.all(exact <= upper)


@given(K=st.integers(1, 5), seed=st.integers(0, 2**31 - 1), log_scale=st.floats(-3.0, 4.0))
def test_stacked_state_bounds_bracket_the_exact_gain(K, seed, log_scale):
    # The state keeps [−G ; R½] with R = R½ + R½ᵀ and R½ not symmetric (it
    # accumulates ẼŨᵀ); the bounds read from it must still bracket the gain
    # and equal the bounds' formulas on explicit traces of (G, R).
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(30, K, K)) * 10.0 ** (log_scale * rng.uniform(size=(30, 1, 1)))
    Bm = rng.normal(size=(30, K, K))
    G, R = A @ A.mT, Bm @ Bm.mT
    skew = rng.normal(size=(30, K, K)) * np.abs(R).max()
    half = 0.5 * R + (skew - skew.mT)
    S = np.concatenate([-G, half], axis=1)
    exact = np.array(
        [np.trace(np.linalg.solve(np.eye(K) + g, r)) for g, r in zip(G, R, strict=True)]
    )
    lower, upper = _half_bounds(S, K, np)
    assert np.all(lower <= exact * (1 + 1e-9) + 1e-300)
    assert np.all(exact <= upper * (1 + 1e-9))
    m0 = np.trace(R, axis1=1, axis2=2)
    m1 = np.trace(G @ R, axis1=1, axis2=2)
    m2 = np.trace(G @ G @ R, axis1=1, axis2=2)
    want_lower = m0 * m0 / (m0 + m1)
    want_upper = m0 - m1 * m1 / (m1 + m2) + 1e-10 * np.abs(m0)
    np.testing.assert_allclose(lower, want_lower, rtol=1e-8)
    np.testing.assert_allclose(upper, want_upper, rtol=1e-8, atol=1e-12 * np.abs(want_upper).max())


@settings(max_examples=50)
@given(
    K=st.integers(1, 6),
    m=st.integers(1, 20),
    seed=st.integers(0, 2**31 - 1),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_trace_solve_matches_dense_solve(K, m, seed, sign):
    # tr((I ± G)⁻¹R) by elimination vectorised over the rows, against LAPACK one
    # matrix at a time; backward (−) uses G with eigenvalues in [0, 1), as
    # M ⪰ λI + V Vᵀ guarantees for a picked row.
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(m, K, K))
    G = A @ A.mT
    if sign < 0:
        G /= 1.0 + np.linalg.eigvalsh(G)[:, -1:, None] * (1 + rng.uniform(size=(m, 1, 1)))
    Bm = rng.normal(size=(m, K, K))
    R = Bm @ Bm.mT
    want = [np.trace(np.linalg.solve(np.eye(K) + sign * g, r)) for g, r in zip(G, R, strict=True)]
    # From a state block [−sign·G ; R½], with R½ = R/2 and with a non-symmetric R½.
    S = np.concatenate([-sign * G, 0.5 * R], axis=1)
    S0 = S.copy()
    np.testing.assert_allclose(_state_trace_solve(S, K, sign, np), want, rtol=1e-10)
    # The input is left alone (a one-row permuted view counts as contiguous).
    np.testing.assert_array_equal(S, S0)
    skew = rng.normal(size=(m, K, K))
    S = np.concatenate([-sign * G, 0.5 * R + (skew - skew.mT)], axis=1)
    np.testing.assert_allclose(_state_trace_solve(S, K, sign, np), want, rtol=1e-9)


@pytest.mark.parametrize("task", ["classification", "regression"])
@given(data=st.data(), n_jobs=st.sampled_from([1, 2]))
def test_low_rank_path_matches_dense_oracle(task, data, n_jobs):
    # The wide-input form of M⁻¹ (λ⁻¹I minus Woodbury columns, F applied
    # through its factors), forced on small problems.
    pb = data.draw(problems(task))
    assert fast(pb, low_rank=True, n_jobs=n_jobs) == oracle(pb)[0]


@pytest.mark.parametrize("fold_columns", [1, 7])
@pytest.mark.parametrize("task", ["classification", "regression"])
@given(data=st.data())
def test_folding_the_dense_metric_changes_no_pick(task, fold_columns, data):
    # Fold the pending Woodbury columns into D and N_D after every step (1:
    # K columns) or every few steps, instead of every 120 columns.
    pb = data.draw(problems(task))
    with mock.patch.object(_DenseMetric, "fold_columns", fold_columns):
        assert fast(pb, n_jobs=2) == oracle(pb)[0]


@given(
    K=st.integers(1, 4),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
    fold_columns=st.sampled_from([1, 5, 120]),
    identity=st.booleans(),
    reduced=st.booleans(),
)
def test_dense_metric_tracks_minv_and_n(K, d, seed, fold_columns, identity, reduced):
    # After adding rows and removing some of them again, the metric's M⁻¹ and
    # N = M⁻¹FM⁻¹ (folded or with terms pending) are the dense ones, whether
    # a step adds K Woodbury columns or K − 1 (reduced), or the steps mix
    # both widths (the same Fisher: a width change folds the pending steps).
    rng = np.random.RandomState(seed)
    H = rng.normal(size=(12, d))
    if K == 1:
        rows = _LinearRows(H, 0.7, np)
        widths = [rows]
    else:
        P = softmax(2.0 * rng.normal(size=(12, K)), axis=1)
        rows = _SoftmaxRows(H, P, 0.7, np, reduced=reduced)
        widths = [rows, _SoftmaxRows(H, P, 0.7, np, reduced=not reduced)]
    D = K * d
    A = rng.normal(size=(D, D))
    M = np.eye(D) + A @ A.T / D
    B = rng.normal(size=(D, 3 * D))
    F = None if identity else B @ B.T / (3 * D)
    metric = _DenseMetric(np.linalg.inv(M), F, np)
    metric.fold_columns = fold_columns
    metric.initial_matrices(None)
    added = rng.permutation(12)[: rng.randint(1, 13)].tolist()
    removed = added[: rng.randint(0, len(added) + 1)]
    for i, sign in [(i, 1.0) for i in added] + [(i, -1.0) for i in removed]:
        metric.step(widths[rng.randint(len(widths))], i, sign, None)
        V = rows.dense_factors([i])
        M = M + sign * V @ V.T
    Minv = np.linalg.inv(M)
    N = Minv @ (np.eye(D) if identity else F) @ Minv
    metric.fold(None)
    np.testing.assert_allclose(metric.DN[0], Minv, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(metric.DN[1], N, rtol=1e-8, atol=1e-10 * np.abs(N).max())


@given(K=st.integers(2, 6), seed=st.integers(0, 2**31 - 1), temp=st.sampled_from([0.1, 2.0, 30.0]))
def test_reduced_factor_has_the_fisher_and_left_right_apply_it(K, seed, temp):
    # With Σp = 1, the K × (K − 1) factor diag(√p)B has the Fisher's outer
    # product and 1ᵀL = 0; left and right apply it (and its transpose) to
    # every row, also to a class axis of K − 1 whose last block is zero.
    rng = np.random.RandomState(seed)
    P = softmax(temp * rng.normal(size=(3, K)), axis=1)
    H = rng.normal(size=(3, 2))
    full, rows = _SoftmaxRows(H, P, 0.7, np), _SoftmaxRows(H, P, 0.7, np, reduced=True)
    assert rows.rank == K - 1 and full.rank == K
    Ls = [rows.factor(i) for i in range(3)]
    for i, L in enumerate(Ls):
        assert L.shape == (K, K - 1)
        np.testing.assert_allclose(L @ L.T, full.factor(i) @ full.factor(i).T, atol=1e-14)
        np.testing.assert_allclose(L.sum(axis=0), 0.0, atol=1e-14)
    Y = rng.normal(size=(3, K, 4))
    want = np.stack([L.T @ y for L, y in zip(Ls, Y, strict=True)])
    np.testing.assert_allclose(rows.left(Y.copy(), slice(None)), want, atol=1e-14)
    shifted = Y[:, : K - 1, :] - Y[:, K - 1 :, :]
    np.testing.assert_allclose(rows.left(shifted, slice(None)), want, atol=1e-13)
    X = rng.normal(size=(3, K - 1, 4))
    want = np.stack([L @ x / 0.7 for L, x in zip(Ls, X, strict=True)])
    np.testing.assert_allclose(rows.right(X, slice(None)), want, atol=1e-14)


@given(data=st.data())
def test_reduced_steps_change_no_pick(data):
    pb = data.draw(problems("classification"))
    assert sums_to_one(pb["P"], np)
    want = oracle(pb)[0]
    assert fast(pb, reduced=False) == fast(pb, reduced=True) == want
    assert fast(pb, reduced=True, low_rank=True) == want


@given(K=st.integers(2, 5), d=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_reduced_start_state_matches_the_full_one(K, d, seed):
    # The start's quadratic forms over K − 1 classes (shifted blocks) give
    # every row a (K − 1) × (K − 1) G and R congruent to the full K × K ones:
    # the same traces, the same gains.
    rng = np.random.RandomState(seed)
    H, P = rng.normal(size=(30, d)), softmax(2.0 * rng.normal(size=(30, K)), axis=1)
    A, B = rng.normal(size=(2, K * d, K * d))
    Minv, N = np.eye(K * d) + A @ A.T / (K * d), B @ B.T
    full, reduced = (
        _SoftmaxRows(H, P, 0.7, np, reduced=r).initial_state(Minv, N) for r in (False, True)
    )
    assert full.shape == (30, 2 * K, K) and reduced.shape == (30, 2 * K - 2, K - 1)
    for S, k in [(full, K), (reduced, K - 1)]:
        traces = np.trace(S[:, :k, :], axis1=1, axis2=2), np.trace(S[:, k:, :], axis1=1, axis2=2)
        gains = _state_trace_solve(S.copy(), k, 1.0, np)
        if k == K:
            want = traces, gains
        else:
            atol = 1e-12 * np.abs(N).max()
            np.testing.assert_allclose(traces[0], want[0][0], rtol=1e-9)
            np.testing.assert_allclose(traces[1], want[0][1], rtol=1e-9, atol=atol)
            np.testing.assert_allclose(gains, want[1], rtol=1e-9, atol=atol)


@given(K=st.integers(2, 6), d=st.integers(1, 5), seed=st.integers(0, 2**31 - 1))
def test_reduced_fisher_sums_k_minus_one_classes_to_the_same_matrix(K, d, seed):
    # With Σp = 1 the last class's blocks of F follow from the others (S_x1 = 0).
    rng = np.random.RandomState(seed)
    H, P = rng.normal(size=(40, d)), softmax(3.0 * rng.normal(size=(40, K)), axis=1)
    full = _SoftmaxRows(H, P, 0.7, np)
    reduced = _SoftmaxRows(H, P, 0.7, np, reduced=True)
    assert reduced.fisher_part(slice(None)).shape[1] == (K - 1) * K // 2
    F = full.fisher_sum()
    np.testing.assert_allclose(reduced.fisher_sum(), F, rtol=1e-12, atol=1e-13 * np.abs(F).max())


@given(
    K=st.integers(2, 5),
    d=st.integers(1, 4),
    n_lab=st.integers(0, 4),
    seed=st.integers(0, 2**31 - 1),
    identity=st.booleans(),
)
def test_class_basis_metric_takes_the_same_steps(K, d, n_lab, seed, identity):
    # In the (K − 1)d coordinates of the class basis, the dense metric gives
    # every row the same start state and every step the same directions.
    rng = np.random.RandomState(seed)
    H, P = rng.normal(size=(15, d)), softmax(2.0 * rng.normal(size=(15, K)), axis=1)
    pool = _SoftmaxRows(H, P, 0.7, np, reduced=True)
    H_lab, P_lab = rng.normal(size=(n_lab, d)), softmax(rng.normal(size=(n_lab, K)), axis=1)
    lab = _SoftmaxRows(H_lab, P_lab, 1.0, np) if n_lab else None
    fisher = "identity" if identity else "pool"
    in_basis = _dense_metric(pool, lab, 3, 0.5, fisher, None)
    assert in_basis.D == (K - 1) * d
    B = in_basis.basis
    np.testing.assert_allclose(B.T @ B, np.eye(K - 1), atol=1e-14)
    np.testing.assert_allclose(B.sum(axis=0), 0.0, atol=1e-14)
    with mock.patch("skactive.kernels._bait._class_basis", return_value=None):
        plain = _dense_metric(pool, lab, 3, 0.5, fisher, None)
    assert plain.D == K * d
    states = [pool.initial_state(*m.initial_matrices(None)) for m in (in_basis, plain)]
    scale = np.abs(states[1]).max()
    np.testing.assert_allclose(states[0], states[1], rtol=1e-9, atol=1e-12 * scale)
    for i, sign in [(0, 1.0), (4, 1.0), (9, 1.0), (4, -1.0)]:
        got, want = (_step_directions(m, pool, i, sign, None) for m in (in_basis, plain))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_inverse_factor_is_an_upper_inverse_factor(dtype):
    # C = L⁻ᵀ: upper triangular with Cᵀ S C = I, as numpy's cholesky and inv give it.
    rng = np.random.RandomState(0)
    A = rng.normal(size=(9, 9))
    S = (np.eye(9) + A @ A.T).astype(dtype)
    C = _cholesky_inverse_factor(S, np)
    assert C.dtype == dtype
    np.testing.assert_array_equal(C, np.triu(C))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C.T @ S @ C, np.eye(9), atol=tol)
    want = np.linalg.inv(np.linalg.cholesky(S)).T
    np.testing.assert_allclose(C, want, rtol=10 * tol, atol=tol)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        _cholesky_inverse_factor(-S, np)


def test_class_basis_needs_every_factor_in_it():
    rng = np.random.RandomState(0)
    H, P = rng.normal(size=(6, 2)), softmax(rng.normal(size=(6, 3)), axis=1)
    pool = _SoftmaxRows(H, P, 1.0, np, reduced=True)
    assert _class_basis(pool, None).shape == (3, 2)
    assert _class_basis(_SoftmaxRows(H, P, 1.0, np), None) is None  # not reduced
    lab = _SoftmaxRows(H, 0.5 * P, 1.0, np)  # labelled probabilities not summing to one
    assert _class_basis(pool, lab) is None
    assert _dense_metric(pool, lab, 2, 1.0, "pool", None).D == 6


@given(data=st.data())
def test_unnormalised_probabilities_keep_all_k_columns(data):
    # Rows of P that do not sum to one: the Fisher factor has rank K, and the
    # kernel must keep every column to match the oracle.
    pb = data.draw(problems("classification"))
    rng = np.random.RandomState(data.draw(st.integers(0, 2**31 - 1)))
    pb["P"] = pb["P"] * rng.uniform(0.3, 1.0, size=(len(pb["P"]), 1))
    assert not sums_to_one(pb["P"], np)
    assert fast(pb) == oracle(pb)[0]


def test_reduced_steps_would_be_wrong_for_unnormalised_probabilities():
    # What sums_to_one guards against: with Σp ≠ 1, K − 1 columns miss part of
    # V_iV_iᵀ, and the metric drifts from the dense M⁻¹.
    rng = np.random.RandomState(0)
    P = 0.6 * softmax(rng.normal(size=(4, 3)), axis=1)
    H = rng.normal(size=(4, 2))
    V = _SoftmaxRows(H, P, 1.0, np).dense_factors([2])  # the Fisher's true factor
    for reduced, close in [(False, True), (True, False)]:
        rows = _SoftmaxRows(H, P, 1.0, np, reduced=reduced)
        metric = _DenseMetric(np.eye(6), None, np)
        metric.step(rows, 2, 1.0, None)
        metric.fold(None)
        assert np.allclose(metric.DN[0], np.linalg.inv(np.eye(6) + V @ V.T)) == close


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compute_probabilities_renormalises_only_rounded_rows(dtype):
    rng = np.random.RandomState(0)
    P64 = softmax(rng.normal(size=(50, 7)), axis=1)
    P = P64.astype(dtype)
    for raw in (P, P.astype(np.float64)):  # as the model gave it, and as a strategy has it
        out = compute_probabilities(raw, "float64", np)
        assert out.dtype == np.float64 and sums_to_one(out, np)
        np.testing.assert_allclose(out, P, rtol=1e-6)
    if dtype == np.float64:  # already summing to one in float64: untouched
        np.testing.assert_array_equal(compute_probabilities(P, "float64", np), P)
    else:
        assert not sums_to_one(P.astype(np.float64), np)
    # Probabilities that do not sum to one are cast as they are.
    np.testing.assert_array_equal(compute_probabilities(0.5 * P, "float64", np), 0.5 * P)
    # In float32, float32's round-off is the tolerance: nothing to renormalise.
    np.testing.assert_array_equal(compute_probabilities(P, "float32", np), P.astype(np.float32))
    assert compute_probabilities(None, "float64", np) is None


@pytest.mark.parametrize("task", ["classification", "regression"])
@given(data=st.data())
def test_threads_do_not_change_picks(task, data):
    pb = data.draw(problems(task))
    with config_context(working_memory=1):  # several chunks even on small pools
        assert fast(pb, n_jobs=2) == fast(pb, n_jobs=1) == oracle(pb)[0]


def _confident_large(seed):
    """A confident model on large, unscaled features: ill-conditioned Fisher matrices."""
    rs = np.random.RandomState(seed)
    n, K, d, L = rs.randint(20, 120), rs.randint(2, 6), rs.randint(2, 10), rs.randint(0, 20)
    s = 10.0 ** rs.uniform(0, 4)
    H = rs.normal(size=(n, d)) * s
    H[:, -1] = 1.0  # an intercept's input
    P_all = softmax(rs.normal(size=(n + L, K)) * 10.0 ** rs.uniform(0, 3), axis=1)
    H_lab = rs.normal(size=(L, d)) * s if L else None
    P_lab = P_all[n:] if L else None
    return H, P_all[:n], rs.randint(1, min(n, 15)), H_lab, P_lab


@pytest.mark.parametrize("seed", [32, 36, 56, 57, 59, 61, 67, 79, 111])
@pytest.mark.parametrize("device", ["numpy", "cpu"])
def test_confident_model_on_large_features_gives_a_batch(seed, device):
    # These raised "BAIT gains became non-finite" (numpy, torch or both):
    # round-off lifted a lower gain bound above every upper bound and the
    # candidate pruning kept no row at all.
    if device == "cpu":
        pytest.importorskip("torch")
    H, P, B, H_lab, P_lab = _confident_large(seed)
    picks = bait_select(H, P, B, H_labeled=H_lab, P_labeled=P_lab, device=device)
    assert len(picks) == B == len(set(picks))
    assert all(0 <= i < len(H) for i in picks)


def _degenerate(kind, rng):
    H = rng.normal(size=(12, 3))
    P = softmax(rng.normal(size=(12, 3)), axis=1)
    if kind == "duplicate rows":
        H[6:], P[6:] = H[:6], P[:6]
    elif kind == "identical rows":
        H[:], P[:] = H[0], P[0]
    elif kind == "one-hot P":
        P = np.eye(3)[rng.randint(3, size=12)]
    elif kind == "zero embeddings":
        H[:] = 0.0
    return H, P


@pytest.mark.parametrize(
    "kind", ["duplicate rows", "identical rows", "one-hot P", "zero embeddings"]
)
@pytest.mark.parametrize("n_select", [1, 5, 12])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_degenerate_inputs_never_crash_or_repeat(kind, n_select, task, rng):
    H, P = _degenerate(kind, rng)
    P = P if task == "classification" else None
    P_lab = P[:2] if P is not None else None
    for kwargs in ({}, {"H_labeled": H[:2], "P_labeled": P_lab}):
        picks = bait_select(H, P, n_select, **kwargs)
        assert len(picks) == n_select == len(set(picks))
        assert all(0 <= i < len(H) for i in picks)


def test_identical_rows_pick_lowest_indices_first():
    # Every gain ties exactly: the forward pass takes rows in index order.
    H = np.ones((6, 2))
    P = np.full((6, 3), 1 / 3)
    assert bait_select(H, P, 3, oversample=1) == [0, 1, 2]


def test_working_memory_chunks_do_not_change_picks():
    rng = np.random.RandomState(1)
    H = rng.normal(size=(1500, 20))
    P = softmax(rng.normal(size=(1500, 3)), axis=1)
    want = bait_select(H, P, 5, H_labeled=H[:10], P_labeled=P[:10])
    with config_context(working_memory=1):
        assert bait_select(H, P, 5, H_labeled=H[:10], P_labeled=P[:10]) == want


def _bad(name, expected, got):
    """scikit-learn's generated message for a bad parameter of bait_select."""
    return f"The {name!r} parameter of bait_select must be {expected}. Got {got!r} instead."


@pytest.mark.parametrize(
    "kwargs, err, msg",
    [
        ({"n_select": 0}, ValueError, _bad("n_select", "an int in the range [1, inf)", 0)),
        ({"n_select": 5}, ValueError, "n_select=5 should be in [1, n_samples=4]."),
        ({"n_select": 1.5}, TypeError, _bad("n_select", "an int in the range [1, inf)", 1.5)),
        ({"lam": 0.0}, ValueError, _bad("lam", "a float in the range (0.0, inf)", 0.0)),
        ({"oversample": 0}, ValueError, _bad("oversample", "an int in the range [1, inf)", 0)),
        ({"fisher": "none"}, ValueError, "The 'fisher' parameter of bait_select must be a str"),
        (
            {"device": "gpu"},
            ValueError,
            _bad("device", "'auto', 'numpy', 'cpu', 'cuda' or 'cuda:<index>'", "gpu"),
        ),
        ({"P": -np.eye(4, 2)}, ValueError, "P should hold probabilities, but it has negative"),
        ({"P": np.ones((3, 2))}, ValueError, "P has 3 rows but H has 4; they should match."),
        ({"H_labeled": np.ones((2, 3))}, ValueError, "H_labeled has 3 columns but H has 2."),
        ({"P": np.full((4, 2), np.nan)}, ValueError, "Input P contains NaN."),
    ],
)
def test_public_kernel_rejects_bad_input(kwargs, err, msg):
    args = {"H": np.ones((4, 2)), "P": np.full((4, 2), 0.5), "n_select": 2, **kwargs}
    with pytest.raises(err, match=re.escape(msg)):
        bait_select(**args)


def test_labeled_probabilities_must_come_with_labeled_embeddings():
    H, P = np.ones((4, 2)), np.full((4, 2), 0.5)
    with pytest.raises(ValueError, match="Pass P_labeled with H_labeled"):
        bait_select(H, P, 2, H_labeled=H[:1])


# --------------------------------------------------------------------------
# The strategy


def _classification(n_classes, seed=0):
    X, y = make_classification(
        200, 5, n_informative=4, n_redundant=0, n_classes=n_classes, random_state=seed
    )
    return X[:30], y[:30], X[30:]


@pytest.mark.parametrize("n_classes", [2, 4])
def test_strategy_matches_kernel_on_logistic_regression(n_classes):
    X_lab, y_lab, X_pool = _classification(n_classes)
    al = BAIT(LogisticRegression(max_iter=1000), device="numpy").fit(X_lab, y_lab)
    idx = al.query(X_pool, batch_size=10)
    assert idx.dtype == np.int64 and len(set(idx.tolist())) == 10
    clf = al.estimator_
    ones = np.ones((len(X_pool), 1))
    H, P = np.hstack([X_pool, ones]), clf.predict_proba(X_pool)
    H_lab, P_lab = np.hstack([X_lab, ones[:30]]), clf.predict_proba(X_lab)
    assert P.shape[1] == n_classes  # K from the model's classes
    assert idx.tolist() == dense_bait(H, P, 10, H_lab, P_lab)[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_strategy_on_an_mlp_uses_its_hidden_layer(task):
    if task == "classification":
        X, y = make_classification(120, 5, n_informative=3, n_classes=3, random_state=2)
        mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=200, random_state=0)
    else:
        X, y = make_regression(120, 5, random_state=2)
        mlp = MLPRegressor(hidden_layer_sizes=(6,), max_iter=200, random_state=0)
    al = BAIT(mlp, device="numpy").fit(X[:20], y[:20])
    est = al.estimator_
    H, H_lab = last_layer_input(est, X[20:]), last_layer_input(est, X[:20])
    P = P_lab = None
    if task == "classification":
        P, P_lab = est.predict_proba(X[20:]), est.predict_proba(X[:20])
    assert al.query(X[20:], batch_size=6).tolist() == dense_bait(H, P, 6, H_lab, P_lab)[0]


def test_strategy_in_a_pipeline():
    X_lab, y_lab, X_pool = _classification(3)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    al = BAIT(pipe, lam=0.5, oversample=1, fisher="identity", device="numpy")
    idx = al.fit(X_lab, y_lab).query(X_pool, batch_size=7)
    assert sorted(set(idx.tolist())) == sorted(idx.tolist()) and len(idx) == 7
    assert al.score(X_lab, y_lab) == pipe.fit(X_lab, y_lab).score(X_lab, y_lab)


def test_regression_picks_do_not_depend_on_the_targets():
    # I(x) = h hᵀ ⊗ Σ⁻¹: 1-D and 2-D targets, any values, select the same rows.
    X, y = make_regression(150, 4, n_targets=2, random_state=0)
    one = BAIT(Ridge(), device="numpy").fit(X[:20], y[:20, 0]).query(X[20:], batch_size=8)
    two = BAIT(Ridge(), device="numpy").fit(X[:20], y[:20]).query(X[20:], batch_size=8)
    assert one.tolist() == two.tolist()
    H = np.hstack([X, np.ones((150, 1))])
    assert one.tolist() == dense_bait(H[20:], None, 8, H[:20])[0]


def test_batch_equal_to_pool_and_oversample_beyond_pool():
    X_lab, y_lab, X_pool = _classification(3)
    al = BAIT(LogisticRegression(), oversample=5, device="numpy").fit(X_lab, y_lab)
    assert sorted(al.query(X_pool[:9], batch_size=9).tolist()) == list(range(9))
    assert len(set(al.query(X_pool[:9], batch_size=4).tolist())) == 4


def test_strategy_survives_pickle_and_is_deterministic():
    X_lab, y_lab, X_pool = _classification(3)
    al = BAIT(LogisticRegression(), device="numpy").fit(X_lab, y_lab)
    idx = al.query(X_pool, batch_size=5)
    assert pickle.loads(pickle.dumps(al)).query(X_pool, batch_size=5).tolist() == idx.tolist()
    assert al.query(X_pool, batch_size=5).tolist() == idx.tolist()


@pytest.mark.parametrize(
    "param, value",
    [("lam", 0.0), ("lam", -1.0), ("oversample", 0), ("oversample", 1.5), ("fisher", "x")],
)
def test_invalid_parameters_raise(param, value):
    X_lab, y_lab, _ = _classification(2)
    al = BAIT(LogisticRegression(), **{param: value})
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter of BAIT"):
        al.fit(X_lab, y_lab)


def test_batch_larger_than_pool_raises():
    X_lab, y_lab, X_pool = _classification(2)
    al = BAIT(LogisticRegression(), device="numpy").fit(X_lab, y_lab)
    with pytest.raises(ValueError, match=re.escape("batch_size=6 should be <= n_samples=5")):
        al.query(X_pool[:5], batch_size=6)


@pytest.mark.gpu
def test_cuda_picks_match_numpy():
    pytest.importorskip("torch")
    X_lab, y_lab, X_pool = _classification(4)
    base = BAIT(LogisticRegression(max_iter=1000), device="numpy").fit(X_lab, y_lab)
    cuda = BAIT(LogisticRegression(max_iter=1000), device="cuda").fit(X_lab, y_lab)
    assert cuda.query(X_pool, 10).tolist() == base.query(X_pool, 10).tolist()


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_spd_inverse_is_the_symmetric_inverse(n_jobs, dtype):
    rng = np.random.RandomState(0)
    B = rng.normal(size=(40, 60))
    A = (np.eye(40) + B @ B.T / 60).astype(dtype)
    with Workers(n_jobs) as workers:
        Ainv = _spd_inverse(A, workers, np)
        # An indefinite matrix (not reached for λ > 0) falls back to a plain inverse.
        C = np.diag(np.r_[1.0, -2.0, 3.0]).astype(dtype)
        np.testing.assert_allclose(_spd_inverse(C, workers, np), np.linalg.inv(C))
    assert Ainv.dtype == dtype and np.array_equal(Ainv, Ainv.T)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(Ainv @ A, np.eye(40), atol=tol)
