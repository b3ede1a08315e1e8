"""Resolve ``device`` strings to a :class:`Backend` (torch is imported lazily)."""

import importlib.util
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..utils._validation import check_device


@dataclass(frozen=True)
class Backend:
    """An array namespace on one device.

    Attributes
    ----------
    name : {"numpy", "torch"}
    device : torch.device or None
        ``None`` for numpy.
    xp : module
        Array-API namespace: numpy itself (numpy >= 2.1 implements the
        standard) or ``array_api_compat.torch``.
    dtype : dtype
        Floating dtype used for kernel arithmetic (float64 on every device:
        selections must not depend on the backend).
    """

    name: str
    device: Any
    xp: Any
    dtype: Any

    def asarray(self, x, dtype=None):
        """Return ``x`` as a floating array on this backend's device (no copy if already there)."""
        dtype = self.dtype if dtype is None else dtype
        if self.name == "numpy":
            if not isinstance(x, np.ndarray):
                x = to_numpy(x)
            return np.asarray(x, dtype=dtype)
        import torch

        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=dtype)
        return torch.as_tensor(np.asarray(x), dtype=dtype, device=self.device)

    def to_numpy(self, x):
        """Return ``x`` as a numpy array on the host."""
        return to_numpy(x)


def to_numpy(x):
    """Return ``x`` (numpy array, torch tensor on any device, array-like) as a host numpy array."""
    if isinstance(x, np.ndarray):
        return x
    if "torch" in sys.modules:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    return np.asarray(x)


def _numpy_backend():
    return Backend("numpy", None, np, np.float64)


def _torch_backend(device):
    import array_api_compat.torch as xp_torch
    import torch

    return Backend("torch", torch.device(device), xp_torch, torch.float64)


def _torch_importable():
    return "torch" in sys.modules or importlib.util.find_spec("torch") is not None


def resolve_backend(device="auto", owner="estimator"):
    """Turn a ``device`` parameter into a :class:`Backend`.

    Parameters
    ----------
    device : str, default="auto"
        ``"auto"`` (torch on CUDA when torch imports and a GPU is visible,
        numpy otherwise), ``"numpy"``, ``"cpu"`` (torch on CPU), ``"cuda"`` or
        ``"cuda:<index>"``.
    owner : str, default="estimator"
        Name used in error messages.

    Returns
    -------
    backend : Backend

    Examples
    --------
    >>> from skactive.backends import resolve_backend
    >>> resolve_backend("numpy").name
    'numpy'
    """
    check_device(device, owner)
    if device == "numpy":
        return _numpy_backend()
    if device == "auto":
        if _torch_importable():
            import torch

            if torch.cuda.is_available():
                return _torch_backend("cuda")
        return _numpy_backend()
    if not _torch_importable():
        raise ImportError(
            f"device={device!r} needs torch; install it (pip install torch) or use device='numpy'."
        )
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but torch sees no CUDA device.")
    return _torch_backend(device)


def namespace(x):
    """Array-API namespace of ``x``: numpy for host arrays, array_api_compat.torch for tensors."""
    if isinstance(x, np.ndarray) or "torch" not in sys.modules:
        return np
    import array_api_compat.torch as xp_torch
    import torch

    return xp_torch if isinstance(x, torch.Tensor) else np


def backend_from_array(x, default):
    """The backend an array already lives on, or ``default`` for numpy input.

    Device-resident torch tensors (from a skorch net on CUDA) stay where they
    are instead of taking a round trip through the host.
    """
    if isinstance(x, np.ndarray) or "torch" not in sys.modules:
        return default
    import torch

    if isinstance(x, torch.Tensor) and default.name == "torch":
        return default
    if isinstance(x, torch.Tensor) and x.device.type == "cuda":
        return _torch_backend(x.device)
    return default
