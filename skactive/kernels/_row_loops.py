"""numba loops over the rows of a matrix (see :func:`._compiled.row_loops`).

``A @ x`` for a tall matrix of 64-128 columns ran at 8-9 GB/s in OpenBLAS's
mat-vec on this project's 2-core machine, against 24-27 GB/s for one dot
product per row here (the same bytes, n = 25,600-50,000, d = 128): BAIT's
per-step pass over ``M⁻¹`` and ``N`` and BADGE's pass over ``H`` are such
products. Each row's sum is vectorised (reassociated), so it may differ from
BLAS's in the last bits; every row is summed the same way whatever the
chunking or the number of threads.
"""

import numba

_jit = numba.njit(nogil=True, cache=True, fastmath={"contract", "reassoc"})


@_jit
def row_dots(A, x, out, lo, hi):
    """``out[r] = A[r, :] · x`` for the rows ``lo:hi`` of a C-contiguous ``A``."""
    d = A.shape[1]
    for r in range(lo, hi):
        acc = 0.0
        for j in range(d):
            acc += A[r, j] * x[j]
        out[r] = acc


@_jit
def pair_products(Ht, out):
    """``out[p] = Ht[j] * Ht[k]`` for the pairs ``p = (j <= k)`` in ``np.triu_indices`` order."""
    d, m = Ht.shape
    p = 0
    for j in range(d):
        for k in range(j, d):
            for r in range(m):
                out[p, r] = Ht[j, r] * Ht[k, r]
            p += 1


@_jit
def mirror_upper(A, lo, hi):
    """``A[j, i] = A[i, j]`` for ``j > i`` and the rows ``i`` in ``lo:hi`` of a square ``A``.

    In 32 × 32 tiles, so that a tile's column writes stay in L1 (a plain
    transposed copy in numpy ran at a third of the speed, and ``np.triu``
    temporaries at a tenth).
    """
    D = A.shape[0]
    for t0 in range(lo, hi, 32):
        t1 = min(t0 + 32, hi)
        for u0 in range(t0, D, 32):
            u1 = min(u0 + 32, D)
            for i in range(t0, t1):
                for j in range(max(u0, i + 1), u1):
                    A[j, i] = A[i, j]
