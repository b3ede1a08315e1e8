"""The compiled mat-vec loops against numpy, and BAIT's use of them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skactive.kernels import _compiled
from skactive.kernels._bait import _matvec, _mirror_upper, _pair_products
from skactive.kernels._parallel import Workers

loops = _compiled.row_loops()
pytestmark = pytest.mark.skipif(loops is None, reason="numba is not installed")

finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@st.composite
def matrices(draw):
    n, d = draw(st.integers(1, 40)), draw(st.integers(1, 70))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    A = draw(arrays(np.float64, (n, d), elements=finite)).astype(dtype)
    x = draw(arrays(np.float64, (d,), elements=finite)).astype(dtype)
    return A, x


def _close(got, A, x):
    # Any order of summation: within (d + 2)ε of Σ|a_j x_j| per row.
    exact = A.astype(np.float64) @ x.astype(np.float64)
    bound = np.abs(A.astype(np.float64)) @ np.abs(x.astype(np.float64))
    eps = np.finfo(A.dtype).eps
    assert np.all(np.abs(got - exact) <= (A.shape[1] + 2) * eps * bound + 1e-300)


@given(matrices(), st.data())
def test_row_dots_is_a_mat_vec_of_the_rows_asked(pair, data):
    A, x = pair
    lo = data.draw(st.integers(0, A.shape[0]))
    hi = data.draw(st.integers(lo, A.shape[0]))
    out = np.full(A.shape[0], np.nan, dtype=A.dtype)
    loops.row_dots(A, x, out, lo, hi)
    _close(out[lo:hi], A[lo:hi], x)
    assert np.isnan(out[:lo]).all() and np.isnan(out[hi:]).all()  # untouched


@pytest.mark.parametrize("n_jobs", [2, 3])
def test_matvec_is_the_same_on_any_number_of_threads(n_jobs):
    # Large enough (> 16 MB) to be split over the threads.
    A = np.random.RandomState(0).normal(size=(20_000, 128))
    x = np.random.RandomState(1).normal(size=128)
    with Workers(n_jobs) as workers:
        got = _matvec(A, x, workers)
    with Workers(1) as workers:
        one = _matvec(A, x, workers)
    np.testing.assert_array_equal(got, one)
    _close(got, A, x)


@given(matrices())
def test_pair_products_are_the_numpy_ones(pair):
    # Both the loops (into a buffer) and numpy: h_j h_k for j <= k, rows last.
    H, _ = pair
    d = H.shape[1]
    want = np.stack([H[:, j] * H[:, k] for j, k in zip(*np.triu_indices(d), strict=True)])
    np.testing.assert_array_equal(_pair_products(H, np), want)
    out = np.full((d * (d + 1) // 2, H.shape[0]), np.nan, dtype=H.dtype)
    assert _pair_products(H, np, out) is out
    np.testing.assert_array_equal(out, want)


@given(D=st.integers(1, 100), seed=st.integers(0, 2**31 - 1), data=st.data())
def test_mirror_upper_copies_the_rows_asked_and_nothing_else(D, seed, data):
    A = np.random.RandomState(seed).normal(size=(D, D))
    lo = data.draw(st.integers(0, D))
    hi = data.draw(st.integers(lo, D))
    want = A.copy()
    for i in range(lo, hi):
        want[i + 1 :, i] = A[i, i + 1 :]
    loops.mirror_upper(A, lo, hi)
    np.testing.assert_array_equal(A, want)


@pytest.mark.parametrize("workers", [None, 2])
def test_mirror_upper_makes_a_stack_symmetric(workers):
    A = np.random.RandomState(0).normal(size=(2, 300, 300))
    want = np.triu(A) + np.swapaxes(np.triu(A, 1), 1, 2)
    with Workers(workers or 1, np) as pool:
        _mirror_upper(A, pool if workers else None, np)
    np.testing.assert_array_equal(A, want)
