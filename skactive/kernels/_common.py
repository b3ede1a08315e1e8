"""Small helpers shared by kernels."""

import math

import numpy as np
from sklearn.utils import check_array, check_random_state

from ..backends import resolve_backend
from ..backends._dispatch import _numpy_backend, _torch_backend
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


def _check_tensor(x, name, backend, allow_empty):
    """Validate a torch tensor on its device, with scikit-learn's wording.

    ``check_array`` would call ``np.asarray`` (a failure on CUDA, a host
    round trip on CPU); this checks the same things with one reduction on
    the device.
    """
    if x.ndim != 2:
        raise ValueError(f"Expected a 2D array for {name}, got {x.ndim}D array instead.")
    if x.dtype.is_complex:
        raise ValueError(f"Complex data not supported for {name}.")
    if x.shape[0] < int(not allow_empty) or x.shape[1] < 1:
        raise ValueError(
            f"Found array with shape {tuple(x.shape)} while a minimum of "
            f"{int(not allow_empty)} sample(s) and 1 feature(s) is required for {name}."
        )
    x = backend.asarray(x)
    xp = backend.xp
    if x.shape[0] and not bool(xp.all(xp.isfinite(x))):
        what = "NaN" if bool(xp.any(xp.isnan(x))) else "infinity or a value too large"
        raise ValueError(f"Input {name} contains {what}.")
    return x


def _is_tensor(x):
    return type(x).__module__.startswith("torch") and hasattr(x, "device")


def check_kernel_array(x, name, backend, allow_empty=False):
    """``x`` validated as a 2-D finite float array on ``backend`` (the one helper
    every public kernel uses).

    Host input goes through :func:`sklearn.utils.check_array`; torch tensors
    are checked where they are, so CUDA input never leaves the device.
    """
    if backend.name == "torch" and _is_tensor(x):
        return _check_tensor(x, name, backend, allow_empty)
    if _is_tensor(x):
        x = backend.to_numpy(x)  # an explicit copy to the host, for numpy
    x = check_array(x, input_name=name, dtype=np.float64, ensure_min_samples=int(not allow_empty))
    return backend.asarray(x)


def array_backend(x):
    """The backend ``x`` lives on: torch on its device for a tensor, numpy otherwise."""
    return _torch_backend(x.device) if _is_tensor(x) else _numpy_backend()


def prepare(arrays, names, device, random_state=None, allow_empty=()):
    """Validate public-kernel input and move it onto the backend for ``device``.

    Arrays named in ``allow_empty`` may have zero rows (e.g. no labelled set).
    """
    backend = resolve_backend(device, "kernel")
    out = [
        check_kernel_array(a, n, backend, allow_empty=n in allow_empty)
        for a, n in zip(arrays, names, strict=True)
    ]
    return backend, out, check_random_state(random_state)


def check_n_select(n_select, n):
    """Raise if ``n_select`` (already an int >= 1) exceeds the ``n`` pool rows."""
    if n_select > n:
        raise ValueError(f"n_select={n_select} should be in [1, n_samples={n}].")


# Inputs whose largest magnitude lies outside [2**-_SAFE_EXP, 2**_SAFE_EXP] are
# rescaled: products of two such factors, summed over a row, stay far inside
# float64 (max 2**1024, smallest normal 2**-1022).
_SAFE_EXP = 128


def pow2_exponent(arrays, xp):
    """Exponent ``e`` that brings the largest magnitude in ``arrays`` into ``[0.5, 1)``.

    0 when every entry already lies within ``2**±128`` (or all are 0), so
    ordinary data is computed bit for bit as before. One host read per
    array per call, never per pick.
    """
    return pow2_exponent_of(max((abs_max(X, xp) for X in arrays if X is not None), default=0.0))


def abs_max(X, xp):
    """Largest magnitude in ``X`` (0 for an empty array), as a host float."""
    if not math.prod(X.shape):
        return 0.0
    # max and -min rather than max(abs(X)): no temporary the size of X.
    return max(float(xp.max(X)), -float(xp.min(X)))


def pow2_exponent_of(top):
    """:func:`pow2_exponent` from the largest magnitude ``top`` of the arrays.

    A pool split into partitions (Dask) reduces ``top`` over them first, so
    every partition is scaled by the one exponent the whole pool would get.
    """
    if top == 0.0 or 2.0**-_SAFE_EXP <= top <= 2.0**_SAFE_EXP:
        return 0
    return math.frexp(top)[1]  # top = m · 2**e with 0.5 <= m < 1


def pow2_scale(X, e):
    """``X · 2**-e``, exact in floating point (short of the subnormal range).

    k-center and k-means++ picks depend only on ratios of distances, so a
    pool rescaled this way gives exactly the picks of a well-scaled copy,
    where squared norms of entries near 1e155 would overflow to inf (and
    ``0·inf`` to NaN).
    """
    if not e or X is None:
        return X
    # Two factors: 2**-e alone overflows for subnormal-sized input.
    half = -e // 2
    return (X * math.ldexp(1.0, half)) * math.ldexp(1.0, -e - half)
