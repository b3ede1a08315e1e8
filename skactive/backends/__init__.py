"""Array backends: numpy on the host, torch on CPU or CUDA.

Kernels are written once against the array API (``backend.xp``); this module
supplies what the standard lacks: choosing a device, moving arrays there and
back, and the host-side random numbers that make every backend pick the same
rows for the same ``random_state``.
"""

from ._dispatch import (
    Backend,
    backend_from_array,
    check_device,
    namespace,
    resolve_backend,
    to_numpy,
)

__all__ = [
    "Backend",
    "backend_from_array",
    "check_device",
    "namespace",
    "resolve_backend",
    "to_numpy",
]
