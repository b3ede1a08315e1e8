"""Compiled per-row loops of the BAIT kernel (numba), for numpy float32/float64 arrays.

Each step of BAIT touches every candidate's two K×K matrices. In numpy that is
a dozen passes over the pool's (n, 2K, K) state, and batched K×K products
that cost one BLAS call per row; together they took as long as the step's
GEMM. Here one pass per cache-sized chunk does the lot: the rows are copied
into a rows-last scratch block of 64 rows, so every inner loop runs over
contiguous rows and vectorises, and the block stays in L1/L2 throughout.

The arithmetic is that of the numpy twins in ``_bait`` (``_SoftmaxRows.left``,
the ``[Ũ;Ẽ]Ũᵀ`` update, :func:`_half_bounds`, :func:`_eliminate`), operation
by operation; only the order of some sums differs, so results agree to
round-off and the tests compare the two paths.

Set ``SKACTIVE_NUMBA=0`` in the environment to use the numpy twins instead
(read at each BAIT query). Without numba installed they are used
anyway.
"""

import functools
import os


def kernels():
    """The compiled kernels (a module), or ``None`` without numba or when disabled."""
    if os.environ.get("SKACTIVE_NUMBA", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return _load()


@functools.cache
def _load():
    try:
        from . import _bait_loops
    except ImportError:  # numba is not installed
        return None
    return _bait_loops
