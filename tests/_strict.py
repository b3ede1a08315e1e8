"""A CPU stand-in for a GPU: fail on what would fail, or cost a sync, on CUDA.

No GPU runs in CI, so the torch path is checked on CPU under two rules that
make CUDA-only failures visible:

* no implicit tensor -> numpy conversion: ``np.asarray(t)``, ``t.numpy()``
  raise unless the tensor went through an explicit ``.cpu()`` first (on CUDA
  the implicit forms raise "can't convert cuda:0 device type tensor");
* no tensor created off the backend's device: the default device is "meta"
  while the library runs, so a ``torch.zeros(n)`` without ``device=`` lands
  on meta and the first operation mixing it with real data raises.

:class:`SyncCounter` counts the calls that make the host wait for a device
(``int(t)``, ``bool(t)``, ``t.item()``, ``torch.nonzero``, checked solves...).
"""

import contextlib
import sys

import numpy as np
import pytest


class StrictDeviceError(AssertionError):
    """A tensor was converted to numpy implicitly (it would fail on CUDA)."""


_HOST_FLAG = "_skactive_strict_host"

# Tensor methods that copy a value to the host and wait for the device.
_SYNC_METHODS = ("item", "tolist", "__bool__", "__int__", "__float__", "__index__")
# torch functions whose output size or error check needs the device's result.
_SYNC_FUNCTIONS = (
    ("torch", "nonzero"),
    ("torch.Tensor", "nonzero"),
    ("torch", "masked_select"),
    ("torch", "unique"),
    ("torch.linalg", "solve"),
    ("torch.linalg", "inv"),
    ("torch.linalg", "cholesky"),
)


class SyncCounter:
    """Counts host synchronisations by kind while installed."""

    def __init__(self):
        self.counts = {}

    @property
    def total(self):
        return sum(self.counts.values())

    def add(self, kind):
        self.counts[kind] = self.counts.get(kind, 0) + 1


def _resolve(path):
    import torch

    obj = torch
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


@contextlib.contextmanager
def strict_device(counter=None, default_device="meta"):
    """Run the body under the strict rules above, counting syncs into ``counter``.

    Every patch is undone on exit. ``default_device=None`` keeps torch's
    default device: count syncs that way, since the "meta" default
    re-dispatches every torch function through a mode and would count each
    twice.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _strict(monkeypatch, counter, default_device)


def _strict(monkeypatch, counter, default_device):
    import torch

    Tensor = torch.Tensor
    cpu, numpy, array = Tensor.cpu, Tensor.numpy, Tensor.__array__

    def marked_cpu(self, *args, **kwargs):
        out = cpu(self, *args, **kwargs)
        if out is self:  # a CPU tensor: return a view we may mark
            out = self.view_as(self)
        setattr(out, _HOST_FLAG, True)
        return out

    def checked(conversion):
        def convert(self, *args, **kwargs):
            if not getattr(self, _HOST_FLAG, False):
                raise StrictDeviceError(
                    "implicit tensor -> numpy conversion (call .cpu() first); on CUDA this raises"
                )
            return conversion(self, *args, **kwargs)

        return convert

    monkeypatch.setattr(Tensor, "cpu", marked_cpu)
    monkeypatch.setattr(Tensor, "numpy", checked(numpy))
    monkeypatch.setattr(Tensor, "__array__", checked(array))
    if counter is not None:
        for name in _SYNC_METHODS:
            monkeypatch.setattr(Tensor, name, _counting(getattr(Tensor, name), counter, name))
        for owner, name in _SYNC_FUNCTIONS:
            obj = _resolve(owner)
            monkeypatch.setattr(obj, name, _counting(getattr(obj, name), counter, name))
    if default_device is None:
        yield counter
        return
    previous = torch.get_default_device()
    torch.set_default_device(default_device)
    try:
        yield counter
    finally:
        # None, not "cpu": an explicit default device installs a function
        # mode that re-dispatches (and would double-count) every call.
        torch.set_default_device(None if previous == torch.device("cpu") else previous)


def _counting(func, counter, kind):
    def wrapper(*args, **kwargs):
        counter.add(kind)
        return func(*args, **kwargs)

    return wrapper


def as_device(x):
    """A float64 torch tensor of ``x`` (made outside the strict block)."""
    import torch

    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def torch_loaded():
    return "torch" in sys.modules
