"""Compiled per-row loops of the BAIT kernel (numba), for numpy float32/float64 arrays.

Each step of BAIT touches every candidate's two K×K matrices. In numpy that is
a dozen passes over the pool's (n, 2K, K) state, and batched K×K products
that cost one BLAS call per row; together they took as long as the step's
GEMM. Here one pass per cache-sized chunk does the lot, on a state stored
rows-last (``_State.S_last``, (2K, K, n)): every inner loop runs over 64
contiguous rows and vectorises, and a block's temporaries stay in L2.

The update is the numpy path's (``_SoftmaxRows.left`` and the ``[Ũ;Ẽ]Ũᵀ``
product); the gains are exact for every row, by the elimination of
:func:`_eliminate` on the upper triangles, where the numpy path bounds every
gain (:func:`_half_bounds`) and solves only for the rows that could win.
Only the order of some sums differs, so the results agree to round-off and
the tests compare the two paths with the dense oracle.

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
