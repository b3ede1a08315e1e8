"""skorch nets inside skactive: the adapter, the strategies and the papers' training setup."""

import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.estimator_checks import estimator_checks_generator

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skorch import NeuralNetBinaryClassifier, NeuralNetClassifier, NeuralNetRegressor  # noqa: E402

from skactive import (  # noqa: E402
    BADGE,
    BAIT,
    CoreSet,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    RandomSampling,
)
from skactive.adapters import SkorchAdapter, get_adapter  # noqa: E402
from skactive.exceptions import UnsupportedEstimatorError  # noqa: E402
from skactive.kernels._bait import _bait_select  # noqa: E402
from skactive.kernels._kcenter import _kcenter_greedy  # noqa: E402
from skactive.kernels._kmeanspp import _gradient_factor, _kmeanspp_select  # noqa: E402
from skactive.nn import (  # noqa: E402
    GradientValueClipping,
    PaperMLP,
    TrainAccuracyThreshold,
    make_paper_mlp,
    make_paper_mlp_regressor,
)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    # Tiny nets on a shared CPU spend most of their time in OpenMP thread
    # hand-offs; one thread makes this file ~10x faster. Restored afterwards.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class TinyNet(torch.nn.Module):
    """hidden Linear -> ReLU -> head Linear, initialised from its own seeded generator.

    ``n_features=None`` makes the hidden layer lazy (for the estimator checks,
    whose inputs vary in width); it is initialised at the first forward.
    """

    def __init__(self, n_features=4, n_outputs=3, width=8, head_bias=True, seed=0, squeeze=False):
        super().__init__()
        self.seed, self.squeeze = seed, squeeze
        if n_features is None:
            self.hidden = torch.nn.LazyLinear(width)
        else:
            self.hidden = torch.nn.Linear(n_features, width)
        self.head = torch.nn.Linear(width, n_outputs, bias=head_bias)
        self._seeded = False
        if n_features is not None:
            self._seed_weights()

    def _seed_weights(self):
        gen = torch.Generator().manual_seed(self.seed)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-0.5, 0.5, generator=gen)
        self._seeded = True

    def forward(self, X):
        X = X.reshape(len(X), -1).to(torch.float32)
        hidden = torch.relu(self.hidden(X))
        if not self._seeded:
            self._seed_weights()
            hidden = torch.relu(self.hidden(X))
        out = self.head(hidden)
        return out.squeeze(-1) if self.squeeze else out


class HiddenInputNet(TinyNet):
    """Names its first layer as the embedding layer."""

    skactive_layer = "hidden"


class NoLinearNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(4, 3))

    def forward(self, X):
        return X.to(torch.float32) @ self.weight


class SpareLayerNet(TinyNet):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.spare = torch.nn.Linear(2, 2)  # registered, never called


def _classifier(module=TinyNet, **kwargs):
    params = dict(
        criterion=torch.nn.CrossEntropyLoss,
        lr=0.2,
        max_epochs=5,
        batch_size=16,  # several batches per pass: H and P are concatenated
        train_split=None,
        verbose=0,
    )
    return NeuralNetClassifier(module, **{**params, **kwargs})


def _regressor(module=TinyNet, n_outputs=2, **kwargs):
    params = dict(
        module__n_outputs=n_outputs,
        lr=0.05,
        max_epochs=5,
        batch_size=16,
        train_split=None,
        verbose=0,
    )
    return NeuralNetRegressor(module, **{**params, **kwargs})


def _blobs(n, seed):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    X = rng.randn(n, 4) + 2.0 * np.eye(3, 4)[y]
    return X.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="module")
def data():
    X_lab, y_lab = _blobs(30, 0)
    X_pool, _ = _blobs(40, 1)
    y_reg = np.column_stack([X_lab.sum(axis=1), X_lab[:, 0]]).astype(np.float32)
    return {"X_lab": X_lab, "y_clf": y_lab, "y_reg": y_reg, "X_pool": X_pool}


@pytest.fixture(scope="module")
def clf_net(data):
    return _classifier().fit(data["X_lab"], data["y_clf"])


@pytest.fixture(scope="module")
def reg_net(data):
    return _regressor().fit(data["X_lab"], data["y_reg"])


def _no_hooks(net):
    return all(
        not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks)
        for m in net.module_.modules()
    )


def _modes(net):
    return [m.training for m in (*net.module_.modules(), net.criterion_)]


def _direct(net, X):
    """The last layer's input and the head's output, computed by hand."""
    module = net.module_
    with torch.no_grad():
        hidden = torch.relu(module.hidden(torch.as_tensor(X)))
        out = module.head(hidden)
    H = hidden.numpy().astype(np.float64)
    if module.head.bias is not None:
        H = np.hstack([H, np.ones((len(H), 1))])
    return H, out


# --------------------------------------------------------------------------
# The adapter


@pytest.mark.parametrize("head_bias", [True, False])
def test_embed_predict_equals_direct_computation(data, head_bias):
    net = _classifier(module__head_bias=head_bias).fit(data["X_lab"], data["y_clf"])
    adapter = get_adapter(net)
    assert isinstance(adapter, SkorchAdapter)
    assert (adapter.task, adapter.n_outputs) == ("classification", 3)
    H, P = adapter.embed_predict(data["X_pool"])
    H_ref, logits = _direct(net, data["X_pool"])
    assert H.dtype == P.dtype == np.float64
    assert H.shape == (40, 9 if head_bias else 8)
    assert_allclose(H, H_ref, rtol=1e-6)
    assert_allclose(P, torch.softmax(logits, dim=1).numpy(), rtol=1e-5)
    # P is exactly what the net's own predict_proba returns.
    assert_array_equal(P, net.predict_proba(data["X_pool"]))


def test_regressor_embed_predict(reg_net, data):
    adapter = get_adapter(reg_net)
    assert (adapter.task, adapter.n_outputs) == ("regression", 2)
    H, P = adapter.embed_predict(data["X_pool"])
    H_ref, out = _direct(reg_net, data["X_pool"])
    assert_allclose(H, H_ref, rtol=1e-6)
    assert_array_equal(P, reg_net.predict(data["X_pool"]))


def test_binary_classifier_is_two_class(data):
    y = (data["y_clf"] == 0).astype(np.float32)
    net = NeuralNetBinaryClassifier(
        TinyNet,
        module__n_outputs=1,
        module__squeeze=True,
        max_epochs=3,
        train_split=None,
        verbose=0,
    ).fit(data["X_lab"], y)
    adapter = get_adapter(net)
    H, P = adapter.embed_predict(data["X_pool"])
    assert (adapter.task, adapter.n_outputs, H.shape) == ("classification", 2, (40, 9))
    assert_array_equal(P, net.predict_proba(data["X_pool"]))


@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_train_eval_mode_restored(clf_net, data, mode):
    clf_net.module_.train(mode != "eval")
    clf_net.criterion_.train(mode != "eval")
    if mode == "mixed":
        clf_net.module_.hidden.eval()
    before = _modes(clf_net)
    SkorchAdapter(clf_net).embed_predict(data["X_pool"])
    assert _modes(clf_net) == before


def test_hook_removed_and_modes_restored_when_the_pass_fails(clf_net):
    clf_net.module_.train()
    before = _modes(clf_net)
    with pytest.raises(RuntimeError):
        SkorchAdapter(clf_net).embed_predict(np.zeros((5, 7), dtype=np.float32))
    assert _no_hooks(clf_net)
    assert _modes(clf_net) == before


def test_layer_parameter_overrides_the_last_linear(clf_net, data):
    H = SkorchAdapter(clf_net, layer="hidden").embed(data["X_pool"])
    # The hidden layer's input is X itself; that layer has a bias: ones column.
    expected = np.hstack([data["X_pool"].astype(np.float64), np.ones((40, 1))])
    assert_array_equal(H, expected)
    assert _no_hooks(clf_net)


def test_skactive_layer_attribute_survives_clone_and_pickle(data):
    al = CoreSet(_classifier(module=HiddenInputNet)).fit(data["X_lab"], data["y_clf"])
    assert al.adapter_.embed(data["X_pool"]).shape == (40, 5)
    refit = clone(al).fit(data["X_lab"], data["y_clf"])
    assert refit.adapter_.embed(data["X_pool"]).shape == (40, 5)
    assert pickle.loads(pickle.dumps(al)).adapter_.embed(data["X_pool"]).shape == (40, 5)


def test_missing_layer_raises(clf_net):
    msg = (
        "The 'layer' parameter of SkorchAdapter must name a submodule of TinyNet "
        "(one of 'hidden', 'head'). Got 'fc9' instead."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        SkorchAdapter(clf_net, layer="fc9")


def test_module_without_linear_raises_in_fit(data):
    net = _classifier(module=NoLinearNet, max_epochs=1)
    msg = (
        "SkorchAdapter found no nn.Linear in NoLinearNet; name the layer whose input is "
        "the embedding with the 'layer' parameter or a 'skactive_layer' attribute on the module."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        MarginSampling(net).fit(data["X_lab"], data["y_clf"])


def test_layer_never_called_raises(data):
    # 'spare' is the last nn.Linear registered, so also the automatic choice.
    net = _classifier(module=SpareLayerNet, max_epochs=1).fit(data["X_lab"], data["y_clf"])
    msg = "SkorchAdapter's embedding layer 'spare' was not called in the forward pass"
    for adapter in (SkorchAdapter(net), SkorchAdapter(net, layer="spare")):
        with pytest.raises(ValueError, match=re.escape(msg)):
            adapter.embed(data["X_pool"])
    assert _no_hooks(net)
    assert SkorchAdapter(net, layer="head").embed(data["X_pool"]).shape == (40, 9)


def test_unfitted_net_raises_not_fitted(data):
    with pytest.raises(NotFittedError):
        SkorchAdapter(_classifier()).embed(data["X_pool"])


def test_plain_neuralnet_is_unsupported(data):
    net = skorch.NeuralNet(TinyNet, criterion=torch.nn.MSELoss, max_epochs=1, verbose=0)
    with pytest.raises(UnsupportedEstimatorError, match="NeuralNet"):
        get_adapter(net)


def test_skorch_detected_without_importing_it():
    code = (
        "import sys; from skactive.adapters import SkorchAdapter, get_adapter\n"
        "assert not SkorchAdapter.supports(object())\n"
        "assert 'skorch' not in sys.modules and 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# The per-strategy battery on skorch-wrapped classifiers and regressors

CLF_STRATEGIES = [
    RandomSampling,
    MarginSampling,
    EntropySampling,
    LeastConfidence,
    CoreSet,
    BADGE,
    BAIT,
]
REG_STRATEGIES = [RandomSampling, CoreSet, BAIT]
CASES = [(cls, "clf") for cls in CLF_STRATEGIES] + [(cls, "reg") for cls in REG_STRATEGIES]


def _case_id(case):
    return f"{case[0].__name__}-{case[1]}"


def _unfitted(cls, task):
    return cls(_classifier() if task == "clf" else _regressor(), random_state=0)


def _fit(strategy, task, data):
    return strategy.fit(data["X_lab"], data["y_" + task])


@pytest.fixture(scope="module", params=CASES, ids=_case_id)
def fitted(request, data):
    cls, task = request.param
    return _fit(_unfitted(cls, task), task, data), task


def test_indices_unique_in_range_int64(fitted, data):
    strategy, _ = fitted
    idx = strategy.query(data["X_pool"], batch_size=7)
    assert idx.dtype == np.int64 and idx.shape == (7,)
    assert len(set(idx.tolist())) == 7
    assert idx.min() >= 0 and idx.max() < len(data["X_pool"])
    assert _no_hooks(strategy.estimator_)


def test_batch_size_bounds(fitted, data):
    strategy, _ = fitted
    n = len(data["X_pool"])
    assert sorted(strategy.query(data["X_pool"], batch_size=n).tolist()) == list(range(n))
    msg = f"batch_size={n + 1} should be <= n_samples={n} in X_pool."
    with pytest.raises(ValueError, match=re.escape(msg)):
        strategy.query(data["X_pool"], batch_size=n + 1)
    with pytest.raises(ValueError, match="'batch_size' parameter"):
        strategy.query(data["X_pool"], batch_size=0)


def test_int_seed_gives_the_same_batch(fitted, data):
    strategy, task = fitted
    first = strategy.query(data["X_pool"], batch_size=5)
    assert_array_equal(strategy.query(data["X_pool"], batch_size=5), first)
    # The seeded module and unshuffled loader make a refit reproduce the net.
    refit = _fit(clone(strategy), task, data)
    assert_array_equal(refit.query(data["X_pool"], batch_size=5), first)


def test_pickle_round_trip(fitted, data):
    strategy, _ = fitted
    restored = pickle.loads(pickle.dumps(strategy))
    assert_array_equal(
        restored.query(data["X_pool"], batch_size=5),
        strategy.query(data["X_pool"], batch_size=5),
    )


def test_clone_is_unfitted_with_equal_params(fitted):
    strategy, _ = fitted
    cloned = clone(strategy)
    assert not hasattr(cloned, "estimator_")
    assert sorted(cloned.get_params()) == sorted(strategy.get_params())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_query_before_fit_raises(case, data):
    with pytest.raises(NotFittedError):
        _unfitted(*case).query(data["X_pool"])


# --------------------------------------------------------------------------
# Selections equal the numpy kernels run on the adapter's H and P


def _pool_outputs(strategy, X):
    return SkorchAdapter(strategy.estimator_).embed_predict(X)


def test_coreset_equals_kcenter_kernel(data):
    al = CoreSet(_classifier(), device="numpy").fit(data["X_lab"], data["y_clf"])
    H, _ = _pool_outputs(al, data["X_pool"])
    H_lab, _ = _pool_outputs(al, data["X_lab"])
    expected = _kcenter_greedy(H, H_lab, 10, np)
    assert_array_equal(al.query(data["X_pool"], batch_size=10), expected)


@pytest.mark.parametrize("seed", [0, 7])
def test_badge_equals_kmeanspp_kernel(data, seed):
    al = BADGE(_classifier(), random_state=seed, device="numpy")
    al.fit(data["X_lab"], data["y_clf"])
    H, P = _pool_outputs(al, data["X_pool"])
    rng = check_random_state(seed)
    expected = _kmeanspp_select(_gradient_factor(P, np), H, 10, rng, np)
    assert_array_equal(al.query(data["X_pool"], batch_size=10), expected)


@pytest.mark.parametrize("task", ["clf", "reg"])
def test_bait_equals_fisher_kernel(data, task):
    al = _fit(BAIT(_classifier() if task == "clf" else _regressor(), device="numpy"), task, data)
    H, P = _pool_outputs(al, data["X_pool"])
    H_lab, P_lab = _pool_outputs(al, data["X_lab"])
    if task == "reg":
        P = P_lab = None  # regression: the Fisher information needs H only
    expected = _bait_select(H, P, 10, H_lab, P_lab, 1.0, 2, "pool", np)
    assert_array_equal(al.query(data["X_pool"], batch_size=10), expected)


# --------------------------------------------------------------------------
# scikit-learn's estimator checks

_SPARSE = (
    "skorch takes scipy sparse input (skactive leaves it to skorch); the tiny test module "
    "cannot compute on it"
)
_DATAFRAME = (
    "skorch feeds a DataFrame's columns to the module as separate keyword inputs (its "
    "convention), which the test module does not take"
)
_FIXED_HEAD = (
    "predict_proba has one column per output of the net (3 here), not per class in the "
    "check's y (2 or 4)"
)
_SKORCH_CANNOT = {
    # skactive validates array X for skorch nets as scikit-learn would; what is left
    # follows from skorch's own conventions or from the tiny test module:
    "check_estimator_sparse_array": _SPARSE,
    "check_estimator_sparse_matrix": _SPARSE,
    "check_estimator_sparse_tag": _SPARSE,
}
_SKORCH_CLASSIFIER_CANNOT = {
    "check_classifier_data_not_an_array": _DATAFRAME,
    "check_classifiers_train": _FIXED_HEAD,
    "check_dtype_object": _FIXED_HEAD,
    "check_classifiers_classes": (
        "skorch classifiers train on integer labels 0..K-1; string labels get skactive's "
        "error asking to encode them"
    ),
}
_SKORCH_REGRESSOR_CANNOT = {
    "check_regressor_data_not_an_array": _DATAFRAME,
    "check_supervised_y_2d": (
        "a column y is the natural target of a skorch regressor: no DataConversionWarning"
    ),
}


def _expected_failed_checks(strategy):
    if isinstance(strategy.estimator, NeuralNetClassifier):
        return {**_SKORCH_CANNOT, **_SKORCH_CLASSIFIER_CANNOT}
    return {**_SKORCH_CANNOT, **_SKORCH_REGRESSOR_CANNOT}


def _check_params():
    """The generated checks with ids that do not depend on the nets' repr.

    A skorch net's repr shows a set, whose order changes with hash
    randomisation; pytest-xdist workers would then collect different ids.
    """
    strategies = [
        MarginSampling(_classifier(module__n_features=None, batch_size=128)),
        # The same batch size for both: every check's data is one batch, so row order
        # cannot change the float32 sums (check_methods_sample_order_invariance);
        # one step per epoch, so the regressor takes 20 epochs to fit the checks' data.
        CoreSet(_regressor(module__n_features=None, n_outputs=1, batch_size=128, max_epochs=20)),
    ]
    params = []
    for strategy in strategies:
        kind = type(strategy.estimator).__name__
        for item in estimator_checks_generator(
            strategy,
            expected_failed_checks=_expected_failed_checks(strategy),
            mark="xfail",
            xfail_strict=True,
        ):
            values, marks = (item.values, item.marks) if hasattr(item, "marks") else (item, ())
            check = values[1]
            name = getattr(check, "func", check).__name__
            keywords = getattr(check, "keywords", {})
            suffix = (
                "(" + ",".join(f"{k}={v}" for k, v in keywords.items()) + ")" if keywords else ""
            )
            check_id = f"{type(strategy).__name__}-{kind}-{name}{suffix}"
            params.append(pytest.param(*values, marks=marks, id=check_id))
    return params


@pytest.mark.parametrize("estimator, check", _check_params())
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------
# skactive.nn: the papers' training setup


def test_train_accuracy_threshold_stops_before_the_cap(data):
    net = _classifier(max_epochs=200, lr=0.2, callbacks=[TrainAccuracyThreshold(0.95)]).fit(
        data["X_lab"], data["y_clf"]
    )
    assert len(net.history) < 200
    accuracies = net.history[:, "train_acc"]
    assert accuracies[-1] >= 0.95 and all(a < 0.95 for a in accuracies[:-1])


def test_train_accuracy_matches_the_running_predictions(data):
    # One full batch and lr=0: the module does not change during the epoch,
    # so the running accuracy is the train-mode accuracy of the initial net.
    net = _classifier(max_epochs=1, lr=0.0, batch_size=64, callbacks=[TrainAccuracyThreshold()])
    net.fit(data["X_lab"], data["y_clf"])
    expected = np.mean(net.predict(data["X_lab"]) == data["y_clf"])
    assert net.history[-1, "train_acc"] == pytest.approx(expected)


def test_epoch_cap_ends_training_when_the_threshold_is_out_of_reach(data):
    y = data["y_clf"].copy()
    X = np.vstack([data["X_lab"], data["X_lab"][:3]])  # duplicates with other labels
    y = np.concatenate([y, (y[:3] + 1) % 3])
    net = _classifier(max_epochs=4, callbacks=[TrainAccuracyThreshold(1.0)]).fit(X, y)
    assert len(net.history) == 4


@pytest.mark.parametrize("threshold", [0, 1.5, "high", True])
def test_threshold_validated(data, threshold):
    net = _classifier(callbacks=[TrainAccuracyThreshold(threshold)])
    with pytest.raises(ValueError, match="'threshold' parameter of TrainAccuracyThreshold"):
        net.fit(data["X_lab"], data["y_clf"])


def test_threshold_needs_a_classifier(data):
    net = _regressor(callbacks=[TrainAccuracyThreshold()])
    with pytest.raises(TypeError, match="needs a classifier net; got NeuralNetRegressor"):
        net.fit(data["X_lab"], data["y_reg"])


def test_gradient_value_clipping_bounds_every_entry(data):
    seen = []

    class Spy(skorch.callbacks.Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            seen.append(max(float(p.grad.abs().max()) for _, p in named_parameters))

    # Callbacks run in order: the spy sees the gradients after clipping.
    _classifier(max_epochs=2, lr=1.0, callbacks=[GradientValueClipping(2**-10), Spy()]).fit(
        data["X_lab"], data["y_clf"]
    )
    assert seen and max(seen) <= 2**-10  # exact in float32


def test_paper_mlp_layout_and_embedding(data):
    net = make_paper_mlp(4, 3, width=16, lr=0.05, max_epochs=50, random_state=0)
    al = BADGE(net, random_state=0)
    al.fit(data["X_lab"], data["y_clf"])
    module = al.estimator_.module_
    assert isinstance(module, PaperMLP) and module.head.bias is None
    # Bias-free head: the embedding is the 16 hidden units, no ones column.
    assert al.adapter_.embed(data["X_pool"]).shape == (40, 16)
    assert al.estimator_.history[-1, "train_acc"] >= 0.99
    # random_state fixes the initial weights and the shuffling: refits agree.
    again = clone(al).fit(data["X_lab"], data["y_clf"])
    assert_array_equal(again.query(data["X_pool"], 5), al.query(data["X_pool"], 5))


def test_paper_mlp_accepts_float64_and_images(data):
    X = data["X_lab"].astype(np.float64).reshape(30, 2, 2)
    net = make_paper_mlp(4, 3, width=8, max_epochs=2, random_state=0).fit(X, data["y_clf"])
    assert net.predict_proba(X).shape == (30, 3)


def test_paper_mlp_regressor(data):
    net = make_paper_mlp_regressor(4, 2, width=8, max_epochs=3, random_state=0)
    al = CoreSet(net).fit(data["X_lab"], data["y_reg"])
    assert al.adapter_.task == "regression" and al.adapter_.n_outputs == 2
    assert al.query(data["X_pool"], 4).shape == (4,)


# --------------------------------------------------------------------------
# CUDA: H and P stay on the device


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_outputs_stay_on_the_device(data):
    from skactive.backends import resolve_backend

    al = MarginSampling(_classifier(device="cuda"), device="cuda")
    al.fit(data["X_lab"], data["y_clf"])
    H, P = al.adapter_.embed_predict(data["X_pool"])
    assert isinstance(H, torch.Tensor) and H.device.type == "cuda"
    assert isinstance(P, torch.Tensor) and P.device.type == "cuda"
    H_b, P_b = al._outputs(data["X_pool"], resolve_backend("cuda"))
    assert H_b.device.type == P_b.device.type == "cuda"
    assert_allclose(P.cpu().numpy(), al.estimator_.predict_proba(data["X_pool"]), rtol=1e-5)
    # The kernels on the device pick what the numpy kernels pick from the same H, P.
    for cls in (MarginSampling, CoreSet, BADGE, BAIT):
        al = cls(_classifier(device="cuda"), random_state=0, device="cuda")
        al.fit(data["X_lab"], data["y_clf"])
        on_device = al.query(data["X_pool"], 8)
        # device is read at query time: the same fitted net, numpy kernels.
        assert_array_equal(al.set_params(device="numpy").query(data["X_pool"], 8), on_device)


@pytest.mark.parametrize(
    "pool, message",
    [
        (np.full((5, 4), np.nan, dtype=np.float32), "Input X_pool contains NaN."),
        (np.zeros(4, dtype=np.float32), "Expected 2D array, got 1D array instead"),
        (np.zeros((0, 4), dtype=np.float32), "Found array with 0 sample(s)"),
    ],
    ids=["nan", "1d", "empty"],
)
def test_bad_pool_gets_sklearn_messages_for_skorch_nets(pool, message):
    X = np.random.RandomState(0).rand(40, 4).astype(np.float32)
    al = MarginSampling(_classifier(module__n_features=4, max_epochs=1)).fit(X, np.arange(40) % 3)
    with pytest.raises(ValueError, match=re.escape(message)):
        al.query(pool, 1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bait_takes_a_float32_nets_probabilities_as_summing_to_one(data, dtype):
    # The net computes in float32; BAIT casts its probabilities to the compute
    # dtype and renormalises them there, so the kernel sees rows that sum to
    # one (its rank K − 1 steps) and picks as on the renormalised P.
    from unittest import mock

    from skactive.kernels import _bait as kernel

    strategy = _fit(BAIT(_classifier(), random_state=0, dtype=dtype), "clf", data)
    seen = []
    real = kernel._bait_select

    def spy(H, P, *args, **kwargs):
        seen.append(P)
        return real(H, P, *args, **kwargs)

    with mock.patch("skactive.strategies._bait._bait_select", spy):
        picks = strategy.query(data["X_pool"], batch_size=5)
    P = seen[0]
    raw = strategy.estimator_.predict_proba(data["X_pool"])
    assert raw.dtype == np.float32 and P.dtype == np.dtype(dtype)
    assert kernel.sums_to_one(P, np)
    np.testing.assert_allclose(P, raw, rtol=1e-6, atol=1e-7)
    assert len(set(picks)) == 5
