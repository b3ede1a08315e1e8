"""Small helpers shared by kernels."""

import numpy as np
from sklearn.utils import check_array, check_random_state

from ..backends import resolve_backend
from ..utils._validation import chunk_n_rows


def row_chunks(n_rows, row_bytes):
    """Yield slices of ``n_rows`` rows, each chunk within ``working_memory``."""
    step = chunk_n_rows(row_bytes, n_rows)
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def sq_norms(H, xp):
    """Row-wise squared norms of ``H`` computed in working-memory chunks."""
    n, d = H.shape
    out = xp.empty((n,), dtype=H.dtype, **_device_kw(H))
    for sl in row_chunks(n, 8 * d):
        # vecdot forms no n × d temporary (about 7x faster than sum(block*block)).
        out[sl] = xp.vecdot(H[sl, :], H[sl, :])
    return out


def _device_kw(x):
    dev = getattr(x, "device", None)
    return {} if isinstance(x, np.ndarray) or dev is None else {"device": dev}


def prepare(arrays, names, device, random_state=None, allow_empty=()):
    """Validate public-kernel input and move it onto the backend for ``device``.

    Arrays named in ``allow_empty`` may have zero rows (e.g. no labelled set).
    """
    backend = resolve_backend(device, "kernel")
    out = [
        backend.asarray(
            check_array(
                a, input_name=n, dtype=np.float64, ensure_min_samples=int(n not in allow_empty)
            )
        )
        for a, n in zip(arrays, names, strict=True)
    ]
    return backend, out, check_random_state(random_state)
