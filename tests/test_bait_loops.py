"""BAIT's compiled per-row loops against dense formulas and against the numpy path."""

import os
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from skactive.kernels import _compiled
from skactive.kernels._bait import _bait_select, _State

from .test_bait import fast, oracle, problems

loops = _compiled.kernels()
needs_loops = pytest.mark.skipif(loops is None, reason="numba is not installed")


def numpy_path():
    """Run BAIT's numpy twins of the compiled loops inside this block."""
    return mock.patch.dict(os.environ, {"SKACTIVE_NUMBA": "0"})


def dense_update(Y, P, w, S, k, reduced):
    """``S + [Ũ;Ẽ]Ũᵀ`` row by row, with ``Ũ, Ẽ = L_xᵀŶ`` as explicit products.

    ``L_xᵀ = (I − p1ᵀ)ᵀdiag(w)`` (K × K); for reduced rows ``Bᵀdiag(w)``
    ((K − 1) × K), ``B`` the first K − 1 columns of the reflection
    ``I − 2vvᵀ/vᵀv``, ``v = √p + e_K``, and ``Y`` holds the first K − 1 class
    blocks of ``k`` columns (the last block is zero).
    """
    K, m = P.shape
    Ka = Y.shape[0] // (2 * k)
    out = S.copy()
    for x in range(m):
        if reduced:
            v = np.sqrt(P[:, x]) + np.eye(K)[K - 1]
            B = (np.eye(K) - 2.0 * np.outer(v, v) / (v @ v))[:, : K - 1]
            L_t = B.T @ np.diag(w[:, x])
        else:
            L_t = np.diag(w[:, x]) @ (np.eye(K) - np.outer(np.ones(K), P[:, x]))
        Yx = np.zeros((2, K, k))
        Yx[:, :Ka, :] = Y[:, x].reshape(2, Ka, k)
        U, E = L_t @ Yx[0], L_t @ Yx[1]
        out[:, :, x] += np.concatenate([U @ U.T, E @ U.T])
    return out


def dense_gains(S):
    """``tr((I − S_G)⁻¹(R½ + R½ᵀ))`` of each row of a rows-last state, by LAPACK."""
    K = S.shape[1]
    return np.array(
        [
            np.trace(np.linalg.solve(np.eye(K) - S[:K, :, x], S[K:, :, x] + S[K:, :, x].T))
            for x in range(S.shape[2])
        ]
    )


def random_state(rng, K, n, sign):
    """A rows-last ``[−sign·G ; R½]`` with SPD ``I + sign·G`` and a non-symmetric ``R½``."""
    A = rng.normal(size=(n, K, K))
    G = A @ A.mT
    if sign < 0:  # eigenvalues of G in [0, 1): a picked row's, backward
        G /= 1.0 + np.linalg.eigvalsh(G)[:, -1:, None] * (1 + rng.uniform(size=(n, 1, 1)))
    B = rng.normal(size=(n, K, K))
    skew = rng.normal(size=(n, K, K))
    half = 0.5 * (B @ B.mT) + (skew - skew.mT)
    return np.ascontiguousarray(np.moveaxis(np.concatenate([-sign * G, half], axis=1), 0, -1))


@st.composite
def row_ranges(draw):
    """(K, n, lo, hi, rng): up to 300 rows (blocks of 64 or 128 and a remainder), a sub-range."""
    K, n = draw(st.integers(2, 6)), draw(st.integers(1, 300))
    lo = draw(st.integers(0, n - 1))
    hi = draw(st.integers(lo + 1, n))
    return K, n, lo, hi, np.random.RandomState(draw(st.integers(0, 2**31 - 1)))


@needs_loops
@settings(max_examples=50)
@given(case=row_ranges(), sign=st.sampled_from([1.0, -1.0]))
def test_solve_rows_matches_dense_solve(case, sign):
    # A sub-range of the rows is solved; the other rows are left alone.
    K, n, lo, hi, rng = case
    S = random_state(rng, K, n, sign)
    out = np.full(n, -7.0)
    loops.solve_rows(S, lo, hi, out)
    np.testing.assert_allclose(out[lo:hi], dense_gains(S[:, :, lo:hi]), rtol=1e-9)
    assert np.all(out[:lo] == -7.0) and np.all(out[hi:] == -7.0)


@needs_loops
@settings(max_examples=50)
@given(
    case=row_ranges(),
    score=st.booleans(),
    reduced=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_update_rows_matches_dense_products(case, score, reduced, dtype):
    K, n, lo, hi, rng = case
    rank = K - 1 if reduced else K
    S = random_state(rng, rank, n, 1.0)
    P = np.ascontiguousarray(softmax(rng.normal(size=(n, K)) * 3, axis=1).T)
    w = 0.7 * np.sqrt(P)
    if reduced:
        beta = 2.0 / (P[: K - 1].sum(axis=0) + (np.sqrt(P[K - 1]) + 1.0) ** 2)
    else:
        beta = np.ones(n)
    Y = rng.normal(size=(2 * rank * rank, hi - lo)) * 0.1
    want = S.copy()
    want[:, :, lo:hi] = dense_update(Y, P[:, lo:hi], w[:, lo:hi], S[:, :, lo:hi], rank, reduced)
    gains = np.full(n, -7.0, dtype=dtype)
    S, Y, P, w, beta = (np.ascontiguousarray(a, dtype=dtype) for a in (S, Y, P, w, beta))
    loops.update_rows(Y, P, w, beta, S, lo, hi, gains, score, rank)
    # The solves read only the upper triangle of G: that is what must be current.
    upper = np.triu(np.ones((rank, rank), dtype=bool))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(S[:rank][upper], want[:rank][upper], rtol=tol, atol=tol)
    np.testing.assert_allclose(S[rank:], want[rank:], rtol=tol, atol=tol)
    if score and dtype == np.float64:  # want's G is symmetric: its lower triangle mirrors
        np.testing.assert_allclose(gains[lo:hi], dense_gains(want[:, :, lo:hi]), rtol=1e-9)
    elif score:  # float32 rounding of S: the gains of the rounded state
        got_S = S.astype(np.float64)
        got_S[:rank] = np.where(upper[:, :, None], got_S[:rank], np.swapaxes(got_S[:rank], 0, 1))
        np.testing.assert_allclose(gains[lo:hi], dense_gains(got_S[:, :, lo:hi]), rtol=2e-3)
    outside = np.ones(n, dtype=bool)
    outside[lo:hi] = False
    assert np.all(gains[outside] == -7.0) and (score or np.all(gains == -7.0))


@needs_loops
@pytest.mark.parametrize("task", ["classification", "regression"])
@given(data=st.data())
def test_numpy_path_matches_the_compiled_loops_and_the_oracle(task, data):
    pb = data.draw(problems(task))
    with numpy_path():
        slow = fast(pb)
    assert fast(pb) == slow == oracle(pb)[0]


@needs_loops
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_state_is_rows_last_for_the_loops_and_not_without(dtype):
    rng = np.random.RandomState(0)
    H = rng.normal(size=(50, 4)).astype(dtype)
    P = softmax(rng.normal(size=(50, 3)), axis=1).astype(dtype)
    seen = []
    real = _State.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        seen.append((self.loops is not None, self.S_last is not None, self.S.strides[0]))

    with mock.patch.object(_State, "__init__", spy):
        picks = _bait_select(H, P, 5, None, None, 1.0, 2, "pool", np)
        with numpy_path():
            assert _bait_select(H, P, 5, None, None, 1.0, 2, "pool", np) == picks
    item = np.dtype(dtype).itemsize
    assert seen[0] == (True, True, item)  # forward: rows-last, no copy of the state
    assert seen[-1][:2] == (False, False)  # the numpy path


@pytest.mark.parametrize("value", ["0", "false", "off", " No "])
def test_environment_switch_disables_the_loops(value):
    with mock.patch.dict(os.environ, {"SKACTIVE_NUMBA": value}):
        assert _compiled.kernels() is None
