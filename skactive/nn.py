"""The BADGE/BAIT papers' network training setup, for skorch nets.

This module needs torch and skorch and is imported only on demand
(``import skactive`` never imports it). It provides

* :class:`TrainAccuracyThreshold`, a skorch callback that stops training once
  the training accuracy of an epoch reaches a threshold (the papers train to
  99 %);
* :class:`GradientValueClipping`, which clamps every gradient entry (the
  papers clamp to ±0.1);
* :class:`PaperMLP` and the factories :func:`make_paper_mlp` (classification)
  and :func:`make_paper_mlp_regressor`: one hidden ReLU layer and a bias-free
  linear head, trained with Adam from scratch at every ``fit``.

A query strategy's ``fit`` clones the wrapped net and skorch re-initialises
the module at every ``fit`` (unless ``warm_start=True``), so each active
learning round retrains from scratch, as the papers did.
"""

import math
import numbers

try:
    import torch
    from skorch import NeuralNetClassifier, NeuralNetRegressor
    from skorch.callbacks import Callback
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "skactive.nn needs torch and skorch; install them with pip install 'skactive[skorch]'."
    ) from exc
from sklearn.base import is_classifier

__all__ = [
    "GradientValueClipping",
    "PaperMLP",
    "TrainAccuracyThreshold",
    "make_paper_mlp",
    "make_paper_mlp_regressor",
]


class TrainAccuracyThreshold(Callback):
    """Stop training once an epoch's training accuracy reaches ``threshold``.

    The accuracy is the running accuracy of the epoch: the predictions the
    module made on each training batch, in train mode, during the pass (as in
    the BADGE/BAIT authors' code), counted against the batch labels. It is
    recorded in the net's history under ``name`` every epoch.

    Parameters
    ----------
    threshold : float, default=0.99
        Stop after the first epoch whose training accuracy is at least this,
        in (0, 1].
    name : str, default="train_acc"
        History key for the epoch's training accuracy.

    Notes
    -----
    The net's ``max_epochs`` is the cap: training stops at the threshold or
    after ``max_epochs`` epochs, whichever comes first. The papers have no cap
    (they re-initialise a net stuck below 20 % accuracy every 1000 epochs);
    set ``max_epochs`` high enough that the threshold, not the cap, ends
    training, and read ``net.history[-1, name]`` to check which did. Stopping
    raises ``KeyboardInterrupt`` inside skorch's training loop, which skorch
    catches, as its ``EarlyStopping`` does; the other callbacks'
    ``on_epoch_end`` (``PrintLog`` among them) do not run for the final epoch.
    Classifiers only.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skactive.nn import PaperMLP, TrainAccuracyThreshold
    >>> X = np.repeat(np.eye(4, dtype=np.float32), 5, axis=0)
    >>> y = np.arange(20) // 5
    >>> net = NeuralNetClassifier(
    ...     PaperMLP, module__n_features=4, module__n_outputs=4, module__seed=0,
    ...     criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=0.05,
    ...     max_epochs=100, train_split=None, verbose=0,
    ...     callbacks=[TrainAccuracyThreshold(0.99)],
    ... ).fit(X, y)
    >>> len(net.history) < 100, net.history[-1, "train_acc"] >= 0.99
    (True, True)
    """

    def __init__(self, threshold=0.99, name="train_acc"):
        self.threshold = threshold
        self.name = name

    def initialize(self):
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 < t <= 1:
            raise ValueError(
                "The 'threshold' parameter of TrainAccuracyThreshold must be a float in the "
                f"range (0, 1]. Got {t!r} instead."
            )
        self.n_correct_, self.n_seen_ = 0, 0
        return self

    def on_train_begin(self, net, **kwargs):
        if not is_classifier(net):
            raise TypeError(
                f"TrainAccuracyThreshold needs a classifier net; got {type(net).__name__}."
            )

    def on_epoch_begin(self, net, **kwargs):
        self.n_correct_, self.n_seen_ = 0, 0

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if not training or y_pred is None:
            return
        y_true = batch[1]
        with torch.no_grad():
            # The net's own nonlinearity, so that a binary net's 1-D logits
            # become two columns and argmax is what net.predict would give.
            proba = net._get_predict_nonlinearity()(y_pred.detach())
            pred = proba.argmax(dim=-1) if proba.ndim > 1 else (proba > 0.5).long()
            correct = pred.cpu() == torch.as_tensor(y_true).reshape(pred.shape).cpu()
        self.n_correct_ += int(correct.sum())
        self.n_seen_ += correct.numel()

    def on_epoch_end(self, net, **kwargs):
        accuracy = self.n_correct_ / max(self.n_seen_, 1)
        net.history.record(self.name, accuracy)
        if accuracy >= self.threshold:
            raise KeyboardInterrupt  # skorch's way to end training early


class GradientValueClipping(Callback):
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` before each step.

    The BADGE/BAIT authors' training loop clamps each entry to ±0.1 (value
    clipping, not norm clipping as skorch's ``GradientNormClipping``).

    Parameters
    ----------
    clip_value : float, default=0.1
        Positive bound on the absolute value of each gradient entry.

    Examples
    --------
    >>> from skactive.nn import GradientValueClipping
    >>> GradientValueClipping(0.1).clip_value
    0.1
    """

    def __init__(self, clip_value=0.1):
        self.clip_value = clip_value

    def initialize(self):
        c = self.clip_value
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not c > 0:
            raise ValueError(
                "The 'clip_value' parameter of GradientValueClipping must be a float in the "
                f"range (0, inf). Got {c!r} instead."
            )
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        params = [p for _, p in named_parameters if p.grad is not None]
        torch.nn.utils.clip_grad_value_(params, self.clip_value)


class PaperMLP(torch.nn.Module):
    """One hidden ReLU layer and a bias-free linear head (the papers' ``mlp``).

    The embedding used by BADGE, BAIT and CoreSet is the head's input: the
    ``width`` hidden activations (no ones column, since the head has no bias).
    Input is flattened per sample and cast to the parameters' dtype, so
    float64 arrays and images work unchanged.

    Parameters
    ----------
    n_features : int
        Number of input features (after flattening).
    n_outputs : int
        Number of classes (logits) or regression outputs.
    width : int, default=128
        Hidden units: 128 in the BAIT code, 256 (and 1024) in BADGE's.
    seed : int or None, default=None
        Seeds the initial weights through a private torch generator (PyTorch's
        default ``nn.Linear`` distribution); ``None`` uses torch's global RNG,
        as the papers did.

    Examples
    --------
    >>> import torch
    >>> from skactive.nn import PaperMLP
    >>> module = PaperMLP(n_features=784, n_outputs=10, seed=0)
    >>> module(torch.zeros(2, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(self, n_features, n_outputs, width=128, seed=None):
        super().__init__()
        self.hidden = torch.nn.Linear(n_features, width)
        self.head = torch.nn.Linear(width, n_outputs, bias=False)
        if seed is not None:
            gen = torch.Generator().manual_seed(int(seed))
            for layer in (self.hidden, self.head):
                # PyTorch's default init is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
                bound = 1.0 / math.sqrt(layer.in_features)
                with torch.no_grad():
                    for p in layer.parameters():
                        p.uniform_(-bound, bound, generator=gen)

    def forward(self, X):
        X = X.reshape(len(X), -1).to(self.hidden.weight.dtype)
        return self.head(torch.relu(self.hidden(X)))


def _paper_net(net_cls, n_features, n_outputs, params, *, criterion, callbacks, **settings):
    """A ``net_cls`` around :class:`PaperMLP` with the papers' defaults; ``params`` win.

    ``settings`` are the factories' shared keywords (``width``, ``lr``,
    ``max_epochs``, ``batch_size``, ``clip_value``, ``device``,
    ``random_state``); ``callbacks`` run before the gradient clipping.
    """
    random_state = settings["random_state"]
    defaults = dict(
        module=PaperMLP,
        module__n_features=n_features,
        module__n_outputs=n_outputs,
        module__width=settings["width"],
        module__seed=random_state,
        criterion=criterion,
        optimizer=torch.optim.Adam,
        lr=settings["lr"],
        max_epochs=settings["max_epochs"],
        batch_size=settings["batch_size"],
        device=settings["device"],
        callbacks=[*callbacks, ("grad_clip", GradientValueClipping(settings["clip_value"]))],
        train_split=None,  # the papers train on every label
        iterator_train__shuffle=True,
        verbose=0,
    )
    if random_state is not None:
        # clone deep-copies the generator, so every fit of a clone shuffles alike.
        gen = torch.Generator().manual_seed(int(random_state))
        defaults["iterator_train__generator"] = gen
    return net_cls(**{**defaults, **params})


def make_paper_mlp(
    n_features,
    n_classes,
    *,
    width=128,
    lr=1e-4,
    threshold=0.99,
    max_epochs=1000,
    batch_size=64,
    clip_value=0.1,
    device="cpu",
    random_state=None,
    **kwargs,
):
    """The papers' MLP classifier as a skorch ``NeuralNetClassifier``.

    :class:`PaperMLP` trained with cross-entropy and Adam (no weight decay),
    every gradient entry clamped to ±``clip_value``, on all the labels (no
    validation split), until the epoch's training accuracy reaches
    ``threshold`` or ``max_epochs`` epochs have run. Wrapped in a strategy,
    the net is cloned and retrained from scratch in every round.

    Parameters
    ----------
    n_features : int
        Input features (784 for MNIST).
    n_classes : int
        Number of classes; labels must be the integers ``0 .. n_classes - 1``
        (int64), as skorch expects.
    width : int, default=128
        Hidden units (BAIT: 128; BADGE: 256, and 1024 in some experiments).
    lr : float, default=1e-4
        Adam learning rate (the authors' default; 1e-3 in their 2020 code).
    threshold : float, default=0.99
        Training accuracy at which training stops (:class:`TrainAccuracyThreshold`).
    max_epochs : int, default=1000
        Cap on the epochs per ``fit``; the papers have none.
    batch_size : int, default=64
        Mini-batch size for training and inference.
    clip_value : float, default=0.1
        Bound on each gradient entry (:class:`GradientValueClipping`).
    device : str, default="cpu"
        Torch device of the net, e.g. ``"cuda"``.
    random_state : int or None, default=None
        Seeds the initial weights and the shuffling, so every fit gives the
        same net; ``None`` uses torch's global RNG, as the papers did.
    **kwargs
        Further ``NeuralNetClassifier`` parameters; they override the above.

    Returns
    -------
    net : skorch.NeuralNetClassifier
        Unfitted.

    See Also
    --------
    make_paper_mlp_regressor : The regression variant.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive import MarginSampling
    >>> from skactive.nn import make_paper_mlp
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(200, 8)
    >>> y = (X[:, 0] > 0.5).astype(np.int64)
    >>> net = make_paper_mlp(8, 2, width=16, lr=0.05, max_epochs=30, random_state=0)
    >>> al = MarginSampling(net).fit(X[:40], y[:40])
    >>> al.query(X[40:], batch_size=5).shape
    (5,)
    >>> al.estimator_.history[-1, "train_acc"] >= 0.99  # reached before the cap
    True
    """
    return _paper_net(
        NeuralNetClassifier,
        n_features,
        n_classes,
        kwargs,
        criterion=torch.nn.CrossEntropyLoss,
        callbacks=[("train_acc_threshold", TrainAccuracyThreshold(threshold))],
        width=width,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        clip_value=clip_value,
        device=device,
        random_state=random_state,
    )


def make_paper_mlp_regressor(
    n_features,
    n_outputs=1,
    *,
    width=128,
    lr=1e-3,
    max_epochs=200,
    batch_size=64,
    clip_value=0.1,
    device="cpu",
    random_state=None,
    **kwargs,
):
    """The papers' MLP as a skorch ``NeuralNetRegressor`` (squared error).

    Same network and optimiser as :func:`make_paper_mlp`; with no accuracy
    to reach, training runs for ``max_epochs`` epochs.

    Parameters
    ----------
    n_features : int
        Input features.
    n_outputs : int, default=1
        Regression targets; ``y`` must have shape ``(n_samples, n_outputs)``
        (a column vector for one target), as skorch expects.
    width : int, default=128
        Hidden units.
    lr : float, default=1e-3
        Adam learning rate.
    max_epochs : int, default=200
        Epochs per ``fit``.
    batch_size : int, default=64
        Mini-batch size.
    clip_value : float, default=0.1
        Bound on each gradient entry.
    device : str, default="cpu"
        Torch device of the net.
    random_state : int or None, default=None
        Seeds the initial weights and the shuffling.
    **kwargs
        Further ``NeuralNetRegressor`` parameters.

    Returns
    -------
    net : skorch.NeuralNetRegressor
        Unfitted.

    See Also
    --------
    make_paper_mlp : The classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive import CoreSet
    >>> from skactive.nn import make_paper_mlp_regressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(100, 3)
    >>> y = X.sum(axis=1, keepdims=True)  # a column, as skorch expects
    >>> net = make_paper_mlp_regressor(3, width=16, max_epochs=5, random_state=0)
    >>> CoreSet(net).fit(X[:10], y[:10]).query(X[10:], batch_size=3).shape
    (3,)
    """
    return _paper_net(
        NeuralNetRegressor,
        n_features,
        n_outputs,
        kwargs,
        criterion=torch.nn.MSELoss,
        callbacks=[],
        width=width,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        clip_value=clip_value,
        device=device,
        random_state=random_state,
    )
