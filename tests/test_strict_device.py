"""The torch path is GPU-safe: checked on CPU under the strict rules of ``_strict``.

Every public kernel and every strategy runs with ``device="cpu"`` while any
implicit tensor -> numpy conversion, or any tensor created off the backend's
device (the default device is "meta" meanwhile), fails the test; the picks
must equal the numpy backend's. Host syncs per pick are counted so that
none creep into the greedy loops.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from skactive import (
    ALBL,
    BADGE,
    BAIT,
    KDPP,
    CoreSet,
    EntropySampling,
    GreedyLogDet,
    LeastConfidence,
    MarginSampling,
    RandomSampling,
)
from skactive.kernels import (
    bait_select,
    entropy_scores,
    kcenter_greedy,
    kdpp_select,
    kmeanspp_select,
    least_confidence_scores,
    logdet_select,
    margin_scores,
    top_k,
)

from ._strict import StrictDeviceError, SyncCounter, as_device, strict_device

torch = pytest.importorskip("torch")


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@pytest.fixture
def pool():
    rng = np.random.RandomState(3)
    H = rng.normal(size=(60, 4))
    P = _softmax(rng.normal(size=(60, 3)) * 2)
    return H, P


def test_strict_mode_catches_implicit_conversion_and_off_device_tensors():
    # The rules themselves: without them this file would prove nothing.
    t = torch.ones(3, dtype=torch.float64)
    with strict_device():
        with pytest.raises(StrictDeviceError):
            np.asarray(t)
        with pytest.raises(StrictDeviceError):
            t.numpy()
        assert t.cpu().numpy().tolist() == [1.0, 1.0, 1.0]  # explicit is fine
        with pytest.raises(RuntimeError, match="meta"):
            t + torch.zeros(3, dtype=torch.float64)  # created without device=


def test_sync_counter_counts_host_reads():
    t = torch.arange(4.0)
    counter = SyncCounter()
    with strict_device(counter, default_device=None):
        int(t.argmax()), bool(t[0] > 0), float(t.sum()), t.nonzero()
    assert counter.counts == {"__int__": 1, "__bool__": 1, "__float__": 1, "nonzero": 1}


@pytest.mark.parametrize("init", ["max_norm", "random"])
def test_kmeanspp_kernel_on_tensors(pool, init):
    H, P = pool
    A = P - np.eye(3)[P.argmax(axis=1)]
    want = kmeanspp_select(A, H, 12, init=init, random_state=4)
    A_t, H_t = as_device(A), as_device(H)
    with strict_device():
        got = kmeanspp_select(A_t, H_t, 12, init=init, random_state=4, device="cpu")
    assert got == want


@pytest.mark.parametrize("labeled", [False, True])
def test_kcenter_kernel_on_tensors(pool, labeled):
    H, _ = pool
    H_lab = H[:5] + 0.5 if labeled else None
    want = kcenter_greedy(H, 10, H_labeled=H_lab)
    args = [as_device(H)], {"H_labeled": None if H_lab is None else as_device(H_lab)}
    with strict_device():
        got = kcenter_greedy(*args[0], 10, device="cpu", **args[1])
    assert got == want


@pytest.mark.parametrize("oversample", [1, 2])
@pytest.mark.parametrize("fisher", ["pool", "identity"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_bait_kernel_on_tensors(pool, oversample, fisher, task):
    H, P = pool
    P = P if task == "classification" else None
    kw = {"oversample": oversample, "fisher": fisher, "H_labeled": H[:6] * 0.5}
    if P is not None:
        kw["P_labeled"] = P[:6]
    want = bait_select(H, P, 5, **kw)
    kw_t = {k: as_device(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    H_t, P_t = as_device(H), None if P is None else as_device(P)
    with strict_device():
        got = bait_select(H_t, P_t, 5, device="cpu", **kw_t)
    assert got == want


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_kdpp_kernel_on_tensors(pool, init):
    H, P = pool
    A = P - np.eye(3)[P.argmax(axis=1)]
    want = kdpp_select(A, H, 6, init=init, n_steps=40, random_state=4)
    A_t, H_t = as_device(A), as_device(H)
    with strict_device():
        got = kdpp_select(A_t, H_t, 6, init=init, n_steps=40, random_state=4, device="cpu")
    assert got == want


@pytest.mark.parametrize(
    "task, embedding",
    [("classification", "fisher"), ("classification", "gradient"), ("regression", "fisher")],
)
def test_logdet_kernel_on_tensors(pool, task, embedding):
    H, P = pool
    P = P if task == "classification" else None
    kw = {"embedding": embedding, "H_labeled": H[:6] * 0.5}
    if P is not None:
        kw["P_labeled"] = P[:6]
    want = logdet_select(H, P, 5, **kw)
    kw_t = {k: as_device(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    H_t, P_t = as_device(H), None if P is None else as_device(P)
    with strict_device():
        got = logdet_select(H_t, P_t, 5, device="cpu", **kw_t)
    assert got == want


@pytest.mark.parametrize(
    "score", [least_confidence_scores, margin_scores, entropy_scores], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("K", [1, 3])
def test_uncertainty_kernels_on_tensors(pool, score, K):
    P = pool[1][:, :K] if K > 1 else np.ones((60, 1))
    want = score(P)
    P_t = as_device(P)
    with strict_device():
        got = score(P_t)
        assert got.device == P_t.device
        idx = top_k(got, 7)
        got, idx = got.cpu().numpy(), idx.cpu().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert idx.tolist() == top_k(want, 7).tolist()


def _clf_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5])  # three classes
    return X, y


_CLASSIFICATION = [
    BADGE(LogisticRegression(), random_state=1),
    BADGE(LogisticRegression(), init="random", random_state=1),
    BAIT(LogisticRegression(), oversample=1),
    BAIT(LogisticRegression(), oversample=2),
    BAIT(LogisticRegression(), fisher="identity"),
    CoreSet(LogisticRegression()),
    LeastConfidence(LogisticRegression()),
    MarginSampling(LogisticRegression()),
    EntropySampling(LogisticRegression()),
    RandomSampling(LogisticRegression(), random_state=2),
    KDPP(LogisticRegression(), random_state=1),
    KDPP(LogisticRegression(), init="random", random_state=1),
    GreedyLogDet(LogisticRegression()),
    GreedyLogDet(LogisticRegression(), embedding="gradient"),
    ALBL(LogisticRegression(), strategies=[BADGE, CoreSet, BAIT], random_state=1),
]
_REGRESSION = [
    BAIT(Ridge(), oversample=1),
    BAIT(Ridge(), oversample=2),
    BAIT(Ridge(), fisher="identity"),
    CoreSet(Ridge()),
    GreedyLogDet(Ridge()),
]


def _query_strict(strategy, X, y, batch_size=8):
    want = strategy.set_params(device="numpy").fit(X[:20], y[:20]).query(X[20:], batch_size)
    strategy.set_params(device="cpu").fit(X[:20], y[:20])
    with strict_device():
        got = strategy.query(X[20:], batch_size)
    assert got.dtype == np.int64
    return got, want


@pytest.mark.parametrize("strategy", _CLASSIFICATION, ids=repr)
def test_classification_strategies_strict(strategy):
    X, y = _clf_data()
    got, want = _query_strict(strategy, X, y)
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("strategy", _REGRESSION, ids=repr)
def test_regression_strategies_strict(strategy):
    X, y = _clf_data()
    got, want = _query_strict(strategy, X, X @ [1.0, -2.0, 0.5, 0.0])
    assert got.tolist() == want.tolist()


def _count_syncs(select, sizes):
    """Host syncs of ``select(n)`` for each ``n`` in ``sizes``."""
    out = []
    for n in sizes:
        counter = SyncCounter()
        with strict_device(counter, default_device=None):
            select(n)
        out.append(counter.total)
    return out


def test_badge_syncs_per_pick(pool):
    H, P = pool
    A_t, H_t = as_device(P - np.eye(3)[P.argmax(axis=1)]), as_device(H)
    counts = _count_syncs(
        lambda n: kmeanspp_select(A_t, H_t, n, random_state=0, device="cpu"), [5, 15]
    )
    # One read of ΣD², one of the searchsorted index per draw.
    assert (counts[1] - counts[0]) / 10 <= 2


def test_kcenter_syncs_per_pick(pool):
    H_t = as_device(pool[0])
    counts = _count_syncs(lambda n: kcenter_greedy(H_t, n, device="cpu"), [5, 15])
    assert (counts[1] - counts[0]) / 10 <= 1  # the argmax


@pytest.mark.parametrize("task, most", [("classification", 5), ("regression", 3)])
def test_bait_syncs_per_forward_step(pool, task, most):
    H, P = pool
    H_t, P_t = as_device(H), None if task == "regression" else as_device(P)
    counts = _count_syncs(
        lambda n: bait_select(H_t, P_t, n, oversample=1, device="cpu"),
        [4, 12],
    )
    # Classification: candidate mask, argmax, finiteness check, index and
    # the K×K solve; regression needs no candidate mask nor index.
    assert (counts[1] - counts[0]) / 8 <= most


def _tiny_net(regression=False):
    skorch = pytest.importorskip("skorch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.hidden = torch.nn.Linear(4, 6)
            self.head = torch.nn.Linear(6, 1 if regression else 3)

        def forward(self, X):
            return self.head(torch.tanh(self.hidden(X)))

    kind = skorch.NeuralNetRegressor if regression else skorch.NeuralNetClassifier
    extra = {} if regression else {"criterion": torch.nn.CrossEntropyLoss}
    return kind(Net, max_epochs=3, lr=0.1, batch_size=32, train_split=None, verbose=0, **extra)


@pytest.mark.parametrize(
    "make",
    [
        lambda net: BADGE(net, random_state=0),
        lambda net: BAIT(net),
        lambda net: CoreSet(net),
        lambda net: MarginSampling(net),
    ],
    ids=["BADGE", "BAIT", "CoreSet", "MarginSampling"],
)
def test_skorch_outputs_on_device_strict(monkeypatch, make):
    # On CUDA the skorch adapter hands back device tensors; emulate that on
    # CPU by keeping its CPU tensors as they are, then forbid host copies.
    # Only the conversion rule applies: torch's own DataLoader creates its
    # seed tensor on the default device, so a "meta" default breaks skorch's
    # forward pass whatever skactive does.
    from skactive.adapters import _skorch

    X, y = _clf_data()
    strategy = make(_tiny_net()).set_params(device="numpy").fit(X[:30], y[:30])
    want = strategy.query(X[30:], 6)
    monkeypatch.setattr(_skorch, "_host_or_device", lambda t: t.to(torch.float64))
    strategy.set_params(device="cpu").fit(X[:30], y[:30])
    with strict_device(default_device=None):
        got = strategy.query(X[30:], 6)
    assert got.tolist() == want.tolist()
