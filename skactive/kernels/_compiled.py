"""Loaders of the compiled (numba) loops, for numpy float32/float64 arrays.

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

:func:`row_loops` are mat-vec loops (one dot product per row) for the
memory-bound passes of BAIT's metric and of BADGE, where OpenBLAS's mat-vec
on tall, 64-128-column matrices moves a third of the bytes per second.

Set ``SKACTIVE_NUMBA=0`` in the environment to use the numpy twins instead
(read at each query). Without numba installed they are used anyway.
"""

import functools
import importlib
import os


def kernels():
    """BAIT's compiled loops (a module), or ``None`` without numba or when disabled."""
    return _load("_bait_loops") if _enabled() else None


def row_loops():
    """The compiled mat-vec loops (a module), or ``None`` without numba or when disabled."""
    return _load("_row_loops") if _enabled() else None


def _enabled():
    return os.environ.get("SKACTIVE_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off")


@functools.cache
def _load(name):
    try:
        return importlib.import_module(f".{name}", __package__)
    except ImportError:  # numba is not installed
        return None
