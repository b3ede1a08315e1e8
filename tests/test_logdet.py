"""Greedy log-det: the Woodbury kernels against explicit determinants, and the strategy."""

import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge

from skactive import GreedyLogDet
from skactive.kernels import logdet_select
from skactive.kernels._logdet import _logdet_bounds, _logdet_select
from skactive.utils._validation import InvalidParameterError

# --------------------------------------------------------------------------
# Dense oracle: Algorithms 2 and 3 with explicit Kd×Kd matrices and slogdet.


def dense_phi(h, p, embedding):
    """The matrix a row adds to M: g gᵀ (gradient) or Σ_k v_k v_kᵀ (Fisher; h hᵀ if p is None)."""
    if p is None:
        return np.outer(h, h)
    eye = np.eye(len(p))
    if embedding == "gradient":
        g = np.kron(p - eye[np.argmax(p)], h)
        return np.outer(g, g)
    V = np.stack([np.sqrt(p[k]) * np.kron(eye[k] - p, h) for k in range(len(p))])
    return V.T @ V


def dense_logdet(H, P, B, H_lab, P_lab, embedding, lam):
    """Greedy picks and the log-det gain of each, from explicit determinants."""
    rows = [dense_phi(H[i], None if P is None else P[i], embedding) for i in range(len(H))]
    M = lam * np.eye(rows[0].shape[0])
    if H_lab is not None:
        lab = [
            dense_phi(H_lab[i], None if P is None else P_lab[i], embedding)
            for i in range(len(H_lab))
        ]
        M = M + sum(lab) / len(lab)
    base = np.linalg.slogdet(M)[1]
    picks, gains = [], []
    for _ in range(B):
        vals = [-np.inf if j in picks else np.linalg.slogdet(M + rows[j])[1] for j in range(len(H))]
        j = int(np.argmax(vals))  # first maximum: lowest index on ties
        picks.append(j)
        gains.append(vals[j] - base)
        base, M = vals[j], M + rows[j]
    return picks, gains


@st.composite
def problems(draw, task):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.RandomState(seed)
    n, d = draw(st.integers(4, 18)), draw(st.integers(1, 4))
    K = draw(st.integers(2, 4))
    L = draw(st.sampled_from([0, 3]))
    scale = draw(st.sampled_from([0.3, 1.0, 3.0]))
    H, H_lab = scale * rng.normal(size=(n, d)), scale * rng.normal(size=(L, d))
    if task == "regression":
        P = P_lab = None
    else:
        P = softmax(2 * rng.normal(size=(n, K)), axis=1)
        P_lab = softmax(2 * rng.normal(size=(L, K)), axis=1)
    return {
        "H": H,
        "P": P,
        "B": draw(st.integers(1, n)),
        "H_lab": H_lab if L else None,
        "P_lab": P_lab if L and P is not None else None,
        "lam": draw(st.sampled_from([0.1, 1.0])),
    }


CASES = [("classification", "fisher"), ("classification", "gradient"), ("regression", "fisher")]


def _fast(pb, embedding, xp=np, n_jobs=1):
    if xp is np:
        args = [pb["H"], pb["P"], pb["H_lab"], pb["P_lab"]]
    else:
        args = [
            None if a is None else xp.asarray(a)
            for a in (pb["H"], pb["P"], pb["H_lab"], pb["P_lab"])
        ]
    H, P, H_lab, P_lab = args
    return _logdet_select(
        H, P, pb["B"], H_lab, P_lab, embedding, pb["lam"], xp, return_gains=True, n_jobs=n_jobs
    )


@pytest.mark.parametrize("task, embedding", CASES)
@settings(max_examples=30)
@given(data=st.data(), n_jobs=st.sampled_from([1, 2]))
def test_matches_explicit_determinants(task, embedding, data, n_jobs):
    # n_jobs=2 splits the passes over the pool between threads: same picks.
    pb = data.draw(problems(task))
    picks, gains = _fast(pb, embedding, n_jobs=n_jobs)
    expected, expected_gains = dense_logdet(
        pb["H"], pb["P"], pb["B"], pb["H_lab"], pb["P_lab"], embedding, pb["lam"]
    )
    assert picks == expected  # same indices, same order
    assert np.allclose(gains, expected_gains, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("task, embedding", CASES)
@settings(max_examples=30)
@given(data=st.data())
def test_gains_never_increase(task, embedding, data):
    # log det is submodular: a row's gain can only shrink as M grows, so the
    # greedy gains are non-increasing.
    pb = data.draw(problems(task))
    _, gains = _fast(pb, embedding)
    gains = np.asarray(gains)
    assert np.all(np.diff(gains) <= 1e-9 * np.maximum(1.0, np.abs(gains[:-1])))
    assert all(g >= -1e-12 for g in gains)


@pytest.mark.parametrize("task, embedding", CASES)
@settings(max_examples=10)
@given(data=st.data())
def test_numpy_and_torch_cpu_pick_the_same(task, embedding, data):
    pytest.importorskip("torch")
    import array_api_compat.torch as xp_torch

    pb = data.draw(problems(task))
    assert _fast(pb, embedding)[0] == _fast(pb, embedding, xp_torch)[0]


@settings(max_examples=40)
@given(seed=st.integers(0, 2**31 - 1), K=st.integers(1, 5), rank=st.integers(1, 5))
def test_bounds_bracket_the_exact_logdet(seed, K, rank):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(6, K, min(rank, K)))
    G = X @ X.transpose(0, 2, 1)
    lower, upper = _logdet_bounds(G, np)
    exact = np.linalg.slogdet(np.eye(K) + G)[1]
    assert np.all(lower <= exact + 1e-10) and np.all(exact <= upper + 1e-10)


@pytest.mark.parametrize("embedding", ["fisher", "gradient"])
@pytest.mark.parametrize(
    "kind", ["identical rows", "one-hot probabilities", "zero embeddings", "duplicates"]
)
def test_degenerate_inputs_never_crash_or_repeat(embedding, kind, rng):
    H, P = rng.normal(size=(12, 3)), softmax(rng.normal(size=(12, 3)), axis=1)
    if kind == "identical rows":
        H, P = np.repeat(H[:1], 12, axis=0), np.repeat(P[:1], 12, axis=0)
    elif kind == "one-hot probabilities":
        P = np.eye(3)[P.argmax(axis=1)]
    elif kind == "zero embeddings":
        H = np.zeros_like(H)
    else:
        H, P = np.vstack([H[:4]] * 3), np.vstack([P[:4]] * 3)
    picks = logdet_select(H, P, 12, embedding=embedding)
    assert sorted(picks) == list(range(12))


def test_identical_rows_pick_lowest_indices_first():
    H = np.ones((6, 2))
    P = np.tile([[0.3, 0.7]], (6, 1))
    assert logdet_select(H, P, 4) == [0, 1, 2, 3]
    assert logdet_select(H, P, 4, embedding="gradient") == [0, 1, 2, 3]


def test_gradient_variant_prefers_uncertain_rows():
    # With M₀ = λI and orthogonal h, the first pick maximises ‖g‖² = ‖a‖²‖h‖².
    H = np.eye(3)
    P = np.array([[0.98, 0.02], [0.5, 0.5], [0.8, 0.2]])
    assert logdet_select(H, P, 3, embedding="gradient") == [1, 2, 0]


@pytest.mark.parametrize(
    "kwargs, err, msg",
    [
        ({"n_select": 0}, InvalidParameterError, "The 'n_select' parameter of logdet_select"),
        ({"n_select": 6}, ValueError, "n_select=6 should be in [1, n_samples=5]."),
        ({"n_select": 2.0}, InvalidParameterError, "The 'n_select' parameter of logdet_select"),
        (
            {"embedding": "kron"},
            InvalidParameterError,
            "The 'embedding' parameter of logdet_select",
        ),
        ({"lam": 0.0}, InvalidParameterError, "The 'lam' parameter of logdet_select"),
        ({"P": None, "embedding": "gradient"}, ValueError, "embedding='gradient' needs class"),
        ({"H": np.full((5, 2), np.nan)}, ValueError, "Input H contains NaN."),
    ],
)
def test_public_kernel_rejects_bad_input(kwargs, err, msg):
    args = {"H": np.ones((5, 2)), "P": np.full((5, 2), 0.5), "n_select": 2, **kwargs}
    with pytest.raises(err, match=re.escape(msg)):
        logdet_select(args.pop("H"), args.pop("P"), args.pop("n_select"), **args)


# --------------------------------------------------------------------------
# The strategy


@pytest.fixture(scope="module")
def clf():
    X, y = make_classification(
        n_samples=200, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    return X[:30], y[:30], X[30:]


@pytest.mark.parametrize("embedding", ["fisher", "gradient"])
def test_strategy_matches_kernel_and_oracle(embedding, clf):
    X, y, X_pool = clf
    al = GreedyLogDet(LogisticRegression(), embedding=embedding, lam=0.5).fit(X, y)
    lr = al.estimator_
    ones = np.ones((len(X), 1))
    H_lab, H = np.hstack([X, ones]), np.hstack([X_pool, np.ones((len(X_pool), 1))])
    P_lab, P = lr.predict_proba(X), lr.predict_proba(X_pool)
    picks = al.query(X_pool, 6)
    assert picks.tolist() == logdet_select(
        H, P, 6, H_labeled=H_lab, P_labeled=P_lab, embedding=embedding, lam=0.5
    )
    assert picks.tolist() == dense_logdet(H, P, 6, H_lab, P_lab, embedding, 0.5)[0]


def test_regression_fisher_ignores_targets():
    X, y = make_regression(n_samples=80, n_features=4, random_state=0)
    first = GreedyLogDet(Ridge()).fit(X[:10], y[:10]).query(X[10:], 5)
    second = GreedyLogDet(Ridge()).fit(X[:10], -3 * y[:10] + 1).query(X[10:], 5)
    assert np.array_equal(first, second)


def test_gradient_embedding_with_a_regressor_raises():
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    msg = (
        "GreedyLogDet supports classification only, but the wrapped estimator Ridge is a regressor."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        GreedyLogDet(Ridge(), embedding="gradient").fit(X, y)


@pytest.mark.parametrize("embedding", ["fisher", "gradient"])
def test_threads_float32_and_progress(embedding, clf, capsys, monkeypatch):
    X, y, X_pool = clf
    want = GreedyLogDet(LogisticRegression(), embedding=embedding, n_jobs=1).fit(X, y)
    want = want.query(X_pool, 8)
    al = GreedyLogDet(LogisticRegression(), embedding=embedding, n_jobs=2).fit(X, y)
    assert np.array_equal(al.query(X_pool, 8), want)
    # Without tqdm the progress goes to stderr as lines.
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    al.set_params(dtype="float32", verbose=1)
    picks = al.query(X_pool, 8)
    assert len(set(picks.tolist())) == 8 and picks.dtype == np.int64
    assert "Greedy log-det: step 8/8" in capsys.readouterr().err
    # On a pool with well-separated gains float32 picks the same rows.
    assert set(picks.tolist()) == set(want.tolist())


@pytest.mark.parametrize(
    "param, value",
    [("embedding", "kron"), ("lam", 0), ("lam", -1.0), ("lam", "1"), ("n_jobs", 1.5),
     ("dtype", "float16"), ("verbose", -1)],
)  # fmt: skip
def test_invalid_parameters_raise(param, value, clf):
    al = GreedyLogDet(LogisticRegression()).set_params(**{param: value})
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter of GreedyLogDet"):
        al.fit(clf[0], clf[1])


@pytest.mark.gpu
@pytest.mark.parametrize("embedding", ["fisher", "gradient"])
def test_cuda_picks_match_numpy(embedding, clf):
    X, y, X_pool = clf
    picks = [
        GreedyLogDet(LogisticRegression(), embedding=embedding, device=device)
        .fit(X, y)
        .query(X_pool, 10)
        for device in ("numpy", "cuda")
    ]
    assert np.array_equal(*picks)
