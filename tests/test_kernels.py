"""Kernels against small, obviously-correct dense oracles."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn import config_context

from skactive.kernels import (
    entropy_scores,
    kcenter_greedy,
    least_confidence_scores,
    margin_scores,
    top_k,
)


def naive_kcenter(H, n_select, H_labeled=None):
    """O(n²) greedy k-center on the full distance matrix.

    The centres are the labelled rows and the picks so far; with no labelled
    rows the first pick is the row of largest norm (the origin is no centre).
    """
    D = cdist(H, H)
    if H_labeled is not None and len(H_labeled):
        picks, min_d = [], cdist(H, H_labeled).min(axis=1)
    else:
        norms = np.linalg.norm(H, axis=1)
        picks = [int(np.flatnonzero(norms == norms.max())[0])]
        min_d = D[picks[0]]
    while len(picks) < n_select:
        masked = min_d.copy()
        masked[picks] = -1.0
        best = int(np.flatnonzero(masked == masked.max())[0])
        picks.append(best)
        min_d = np.minimum(min_d, D[best])
    return picks


@st.composite
def integer_pools(draw):
    # Integer coordinates make every distance exact in float64, so exact ties
    # (and the lowest-index rule) are exercised, not blurred by rounding.
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 4))
    n_lab = draw(st.integers(0, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    rs = np.random.RandomState(seed)
    H = rs.randint(-3, 4, size=(n, d)).astype(float)
    H_lab = rs.randint(-3, 4, size=(n_lab, d)).astype(float)
    n_select = draw(st.integers(1, n))
    return H, H_lab, n_select


@given(integer_pools())
def test_kcenter_equals_naive_oracle(case):
    H, H_lab, n_select = case
    assert kcenter_greedy(H, n_select, H_labeled=H_lab) == naive_kcenter(H, n_select, H_lab)


@given(integer_pools())
def test_kcenter_torch_cpu_equals_numpy(case):
    pytest.importorskip("torch")
    H, H_lab, n_select = case
    expected = kcenter_greedy(H, n_select, H_labeled=H_lab)
    assert kcenter_greedy(H, n_select, H_labeled=H_lab, device="cpu") == expected


def test_kcenter_is_chunked_by_working_memory():
    rs = np.random.RandomState(0)
    H, H_lab = rs.randn(3000, 8), rs.randn(400, 8)
    expected = naive_kcenter(H, 20, H_lab)
    with config_context(working_memory=1):  # 1 MiB: several chunks
        assert kcenter_greedy(H, 20, H_labeled=H_lab) == expected


def test_kcenter_validates_n_select():
    with pytest.raises(ValueError, match=r"n_select=5 should be in \[1, n_samples=3\]\."):
        kcenter_greedy(np.zeros((3, 2)), 5)


@st.composite
def probabilities(draw):
    n, k = draw(st.integers(1, 30)), draw(st.integers(2, 6))
    rs = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    P = rs.dirichlet(np.full(k, draw(st.sampled_from([0.1, 1.0, 10.0]))), size=n)
    return P


@given(probabilities())
def test_uncertainty_scores_match_definitions(P):
    assert np.allclose(least_confidence_scores(P), [1 - max(p) for p in P])
    assert np.allclose(margin_scores(P), [-(sorted(p)[-1] - sorted(p)[-2]) for p in P])
    expected = [-sum(q * np.log(q) for q in p if q > 0) for p in P]
    assert np.allclose(entropy_scores(P), expected)


@given(st.lists(st.integers(0, 4), min_size=1, max_size=30), st.data())
def test_top_k_largest_first_lowest_index_on_ties(values, data):
    scores = np.array(values, dtype=float)
    k = data.draw(st.integers(1, len(values)))
    expected = sorted(range(len(values)), key=lambda i: (-values[i], i))[:k]
    assert top_k(scores, k).tolist() == expected


def test_uncertainty_kernels_run_on_torch():
    torch = pytest.importorskip("torch")
    P = np.random.RandomState(0).dirichlet(np.ones(4), size=50)
    for score in (least_confidence_scores, margin_scores, entropy_scores):
        expected = top_k(score(P), 10)
        got = top_k(score(torch.as_tensor(P)), 10)
        assert np.array_equal(got.numpy(), expected)
