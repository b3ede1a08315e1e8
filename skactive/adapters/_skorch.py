"""Adapter for skorch networks: a forward hook on the last ``nn.Linear``.

Neither torch nor skorch is imported here at module level: ``import skactive``
must stay free of torch, and a skorch net is recognised only when the user's
code has already imported skorch (``"skorch" in sys.modules``).
"""

import sys
import threading
import weakref

import numpy as np
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseAdapter, _register_builtin

#: Name of the attribute, on the torch module, that names the embedding layer.
LAYER_ATTRIBUTE = "skactive_layer"


def _skorch_types(*names):
    skorch = sys.modules.get("skorch")
    if skorch is None:
        return ()
    return tuple(t for t in (getattr(skorch, n, None) for n in names) if t is not None)


def _net_modules(net):
    """Every torch module and criterion the net owns (skorch switches all of their modes)."""
    import torch

    owned = [getattr(net, name + "_", None) for name in (*net._modules, *net._criteria)]
    return [m for m in owned if isinstance(m, torch.nn.Module)]


def _last_linear(module):
    import torch

    linears = [(n, m) for n, m in module.named_modules() if isinstance(m, torch.nn.Linear)]
    return linears[-1] if linears else (None, None)


#: One lock per torch module: a hooked forward pass must not interleave with
#: another on the same module (the hook would record the other call's
#: activations, and the two would fight over train/eval modes).
_LOCKS = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _module_lock(module):
    with _LOCKS_GUARD:
        lock = _LOCKS.get(module)
        if lock is None:
            lock = _LOCKS[module] = threading.RLock()
        return lock


def _float_dtype(net):
    """The numpy dtype of the net's floating parameters (torch's default before fit)."""
    import torch

    module = getattr(net, "module_", None)
    params = [] if module is None else [p for p in module.parameters() if p.is_floating_point()]
    dtype = params[0].dtype if params else torch.get_default_dtype()
    # By name, not through a tensor: torch.empty(()) would land on the default
    # device, and .numpy() fails there when that is CUDA.
    return np.dtype(str(dtype).removeprefix("torch."))


def _array_like(y):
    return isinstance(y, (list, tuple)) or hasattr(y, "__array__")


def _classifier_target(net, y):
    """Class labels as the int64 indices skorch's classifiers train on."""
    y = np.asarray(y)
    if y.dtype == object:
        y = np.asarray(y.tolist())  # e.g. integers stored as objects
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    if y.dtype.kind == "f" and np.array_equal(y, np.round(y)):
        y = y.astype(np.int64)  # whole-number floats are labels too (lossless)
    if y.dtype.kind not in "biu":
        raise ValueError(
            f"{type(net).__name__} needs integer class labels 0..K-1 in y (the index of the "
            f"net's output column), got dtype {y.dtype}; encode them first, e.g. with "
            "sklearn.preprocessing.LabelEncoder."
        )
    if isinstance(net, _skorch_types("NeuralNetBinaryClassifier")):
        return y.astype(_float_dtype(net))  # a BCE loss takes float targets
    return y.astype(np.int64)


def _first_input(args, kwargs):
    if args:
        return args[0]
    return next(iter(kwargs.values()))


@_register_builtin
class SkorchAdapter(BaseAdapter):
    """skorch ``NeuralNetClassifier`` / ``NeuralNetRegressor``: the input of the last linear layer.

    One pass of ``net.forward_iter(X, training=False)`` (batched, eval mode,
    no gradients) yields both outputs: a forward hook records the input of the
    embedding layer, with a column of ones appended when that layer is an
    ``nn.Linear`` with a bias (the bias is a last-layer parameter too), and the
    module's output goes through the net's own prediction nonlinearity, so
    ``P`` is what ``net.predict_proba`` returns (for a regressor: what
    ``net.predict`` returns). The hook is removed and every submodule's
    train/eval mode restored afterwards, also when the pass fails.

    Subclasses of the three skorch nets (``NeuralNetBinaryClassifier``
    included, as the two-class model its ``predict_proba`` describes) are
    supported. skorch is never imported by skactive: a net is recognised only
    once the user's code has imported skorch.

    Parameters
    ----------
    estimator : skorch.NeuralNetClassifier, NeuralNetRegressor or NeuralNetBinaryClassifier
        A fitted (initialised) net.
    layer : str or None, default=None
        Name of the submodule whose input is the embedding, as listed by
        ``net.module_.named_modules()``. ``None`` takes the module's
        ``skactive_layer`` attribute when it has one, else the last
        ``nn.Linear`` in registration order (the head, in the usual
        module that defines its head last).

    Notes
    -----
    Inside a strategy the adapter is built by :func:`get_adapter` without
    arguments; to pick the layer there, give the torch module an attribute
    ``skactive_layer = "name"`` (a class attribute, or set on an instance
    passed as ``module=``). It survives ``clone`` and pickling with the net.

    ``n_outputs`` of a classifier, K, is the number of columns of the net's
    output, which is what ``predict_proba`` returns: the ``out_features`` of
    the last ``nn.Linear`` until a forward pass has measured it. skorch infers
    ``classes_`` from the labels seen in ``fit``, so a net with more outputs
    than the labelled set has classes has K larger than ``len(classes_)``;
    the probability columns, and K, follow the net. Pass
    ``classes=list(range(K))`` to the net to make ``classes_`` agree.

    Arrays go to the net in the types it trains on (see
    :meth:`convert_data`): a float64 pool is fed as float32 to a float32 net.
    Concurrent calls on the same net are serialised by a lock per module, so
    that each call records its own activations.

    When the net computes on CUDA, ``H`` and ``P`` are returned as torch
    tensors on that device, so the strategies' torch backend uses them
    without a round trip through the host; on the CPU they are float64
    numpy arrays.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skactive.adapters import SkorchAdapter, get_adapter
    >>> class Net(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = torch.nn.Linear(4, 8)
    ...         self.head = torch.nn.Linear(8, 3)
    ...     def forward(self, x):
    ...         return self.head(torch.relu(self.hidden(x)))
    >>> X = np.random.RandomState(0).rand(30, 4).astype(np.float32)
    >>> y = np.arange(30) % 3
    >>> net = NeuralNetClassifier(
    ...     Net, criterion=torch.nn.CrossEntropyLoss, max_epochs=2,
    ...     train_split=None, verbose=0
    ... ).fit(X, y)
    >>> H, P = get_adapter(net).embed_predict(X)
    >>> H.shape, P.shape  # 8 hidden units + the head's bias column
    ((30, 9), (30, 3))
    >>> SkorchAdapter(net, layer="hidden").embed(X).shape
    (30, 5)
    """

    description = (
        "skorch NeuralNetClassifier/NeuralNetRegressor/NeuralNetBinaryClassifier "
        "(input of the last nn.Linear, or of the module's 'skactive_layer')"
    )
    # skorch hands arrays to torch unchecked: the strategies validate them.
    validates_input = False

    @classmethod
    def convert_data(cls, estimator, X, y=None):
        """Convert arrays to the types skorch nets train on.

        Floating ``X`` takes the dtype of the net's parameters (float64 →
        float32 for the usual net); integer ``X`` (e.g. token ids) is left as
        it is. Classifier labels become int64 class indices (float for
        ``NeuralNetBinaryClassifier``); labels that are not integers raise a
        ``ValueError`` saying to encode them. Regression targets are checked
        for NaN and inf, integer targets take the parameters' dtype, and a 1-D
        target becomes a column, the shape skorch regressors train on.
        Tensors, datasets and dicts are left to skorch.
        """
        if isinstance(X, np.ndarray) and X.dtype.kind == "f":
            X = X.astype(_float_dtype(estimator), copy=False)
        if y is None or type(y).__module__.startswith("torch") or not _array_like(y):
            return X, y
        if isinstance(estimator, _skorch_types("NeuralNetRegressor")):
            y = check_array(y, input_name="y", ensure_2d=False, dtype="numeric")
            if y.dtype.kind != "f":
                y = y.astype(_float_dtype(estimator))
            # skorch regressors train on (n, n_targets); a 1-D y would broadcast
            # against the (n, 1) output into an n × n loss.
            return X, y.reshape(len(y), -1)
        return X, _classifier_target(estimator, y)

    @classmethod
    def explain_fit_error(cls, estimator, y, error):
        """A ``ValueError`` when class labels fall outside the net's output columns.

        torch reports such a label as an index error deep in the loss
        ("Target 5 is out of bounds"); the net's outputs are known once
        ``fit`` has initialised the module.
        """
        if not isinstance(estimator, _skorch_types("NeuralNetClassifier")):
            return None
        y = np.asarray(y)
        module = getattr(estimator, "module_", None)
        _, head = (None, None) if module is None else _last_linear(module)
        if head is None or y.size == 0 or y.dtype.kind not in "iu":
            return None
        lo, hi, K = int(y.min()), int(y.max()), head.out_features
        if lo >= 0 and hi < K:
            return None
        return ValueError(
            f"{type(estimator).__name__}'s module has {K} outputs, so y should hold the class "
            f"indices 0..{K - 1}, but it holds labels from {lo} to {hi}; encode them with "
            "sklearn.preprocessing.LabelEncoder or give the module one output per class."
        )

    def __init__(self, estimator, layer=None):
        super().__init__(estimator)
        self.layer = layer
        if getattr(estimator, "initialized_", False):
            self._layer()  # a wrong layer name fails in fit, not at the first query

    @classmethod
    def supports(cls, estimator):
        types = _skorch_types(
            "NeuralNetClassifier", "NeuralNetRegressor", "NeuralNetBinaryClassifier"
        )
        return bool(types) and isinstance(estimator, types)

    @property
    def task(self):
        regressors = _skorch_types("NeuralNetRegressor")
        return "regression" if isinstance(self.estimator, regressors) else "classification"

    @property
    def n_outputs(self):
        net = self.estimator
        if isinstance(net, _skorch_types("NeuralNetBinaryClassifier")):
            return 2
        if getattr(self, "_n_columns", None) is not None:
            return self._n_columns  # measured on the last forward pass
        _, head = _last_linear(net.module_)
        if head is None and self.task == "classification" and hasattr(net, "classes_"):
            return len(net.classes_)
        if head is None:
            raise AttributeError(
                f"SkorchAdapter cannot tell the number of outputs of "
                f"{type(net.module_).__name__}: it has no nn.Linear head."
            )
        return head.out_features

    def _layer(self):
        """``(name, submodule)`` whose input is the embedding; validates the name."""
        module = self.estimator.module_
        name, source = self.layer, "The 'layer' parameter of SkorchAdapter"
        if name is None:
            name = getattr(module, LAYER_ATTRIBUTE, None)
            source = f"The '{LAYER_ATTRIBUTE}' attribute of {type(module).__name__}"
        if name is None:
            name, layer = _last_linear(module)
            if layer is None:
                raise ValueError(
                    f"SkorchAdapter found no nn.Linear in {type(module).__name__}; name the "
                    "layer whose input is the embedding with the 'layer' parameter or a "
                    f"'{LAYER_ATTRIBUTE}' attribute on the module."
                )
            return name, layer
        layers = dict(module.named_modules())
        if not isinstance(name, str) or name not in layers or name == "":
            known = ", ".join(repr(n) for n in layers if n)
            raise ValueError(
                f"{source} must name a submodule of {type(module).__name__} "
                f"(one of {known}). Got {name!r} instead."
            )
        return name, layers[name]

    def embed_predict(self, X):
        """Return ``(H, P)`` from one batched forward pass in eval mode.

        Parameters
        ----------
        X : input data accepted by the net (array, tensor, dict, Dataset)

        Returns
        -------
        H : ndarray or torch.Tensor of shape (n_samples, d)
            Input of the embedding layer (flattened per sample), plus a column
            of ones when that layer is an ``nn.Linear`` with a bias.
        P : ndarray or torch.Tensor of shape (n_samples, n_outputs)
            Class probabilities (classifier) or predictions (regressor).
        """
        import torch

        net = self.estimator
        net.check_is_fitted()  # skorch's NotInitializedError is a NotFittedError
        name, layer = self._layer()
        X = self.convert_data(net, X)[0]  # float64 arrays: the net's float dtype
        seen = []

        def record(mod, args, kwargs, output):
            # Only the last call per forward counts (a layer may be reused).
            seen[:] = [_first_input(args, kwargs).detach()]

        with _module_lock(net.module_):
            # Modes are read inside the lock: another call may have switched them.
            modes = [(m, m.training) for owner in _net_modules(net) for m in owner.modules()]
            handle = layer.register_forward_hook(record, with_kwargs=True)
            try:
                H, P = self._forward(X, name, seen)
            finally:
                handle.remove()
                for m, training in modes:
                    m.training = training
        if isinstance(layer, torch.nn.Linear) and layer.bias is not None:
            # The bias is a weight on a constant input 1: its gradient is the
            # ones column, which BADGE and BAIT count with the other weights.
            H = torch.cat([H, torch.ones_like(H[:, :1])], dim=1)
        self._n_columns = P.shape[1]
        return _host_or_device(H), _host_or_device(P)

    def _forward(self, X, name, seen):
        """Run the hooked batched pass; ``seen`` receives each batch's layer input."""
        import torch

        net = self.estimator
        nonlin = net._get_predict_nonlinearity()
        H, P = [], []
        # device=None leaves each output where the module computed it.
        for out in net.forward_iter(X, training=False, device=None):
            out = out[0] if isinstance(out, tuple) else out
            if not seen:
                raise ValueError(
                    f"SkorchAdapter's embedding layer {name!r} was not called in the "
                    "forward pass; name the layer to use with the 'layer' parameter or a "
                    f"'{LAYER_ATTRIBUTE}' attribute on the module."
                )
            # Conv or sequence inputs of the layer flatten to one row per sample.
            H.append(seen.pop().reshape(len(out), -1))
            P.append(nonlin(out).reshape(len(out), -1))
        return torch.cat(H), torch.cat(P)


def _host_or_device(t):
    """CUDA tensors stay on their device; anything else becomes float64 numpy."""
    if t.device.type == "cuda":
        return t
    return np.asarray(t.cpu().numpy(), dtype=np.float64)
