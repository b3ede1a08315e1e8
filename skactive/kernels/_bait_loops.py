"""numba loops of the BAIT kernel; imported by :func:`skactive.kernels._compiled.kernels`."""

import numba
import numpy as np

# Bytes of each plane per block of rows: 64 rows in float64, 128 in float32.
# A block's 2k·k temporaries (100 KB at k = 10) stay in L2 while they are
# used, and each inner loop is long enough to amortise its set-up: 128
# float32 rows ran the update 1.3-1.4x faster than 64 (same bytes as float64's).
_BLOCK_BYTES = 512

# 'contract' only lets LLVM fuse a*b+c into FMAs (as BLAS does); no
# reassociation, so every sum keeps a fixed order. The numpy error model
# drops the zero check before each float division, which kept the solves'
# division loops scalar (a zero pivot cannot occur: I ± G is definite).
_jit = numba.njit(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy")


@_jit
def update_rows(Y, P, w, beta, S, lo, hi, gains, score, k):
    """``S += [Ũ;Ẽ]Ũᵀ`` for rows ``lo:hi``, then (if ``score``) their exact gains.

    Every array is rows-last, so each inner loop runs over contiguous rows.
    ``S`` (2r, r, n): the state ``[−sign·G ; R½]`` of rank-``r`` factors,
    updated in place. ``Y`` (2·r·k, hi − lo): row ``(j·r + a)·k + b`` holds
    ``Ŷ_j[a, b]``, the step's GEMM, for ``k`` Woodbury columns and ``r``
    class blocks: all K, or the first K − 1 of reduced rows, whose last block
    was subtracted from the others and reads as zero (``1ᵀL_x = 0``).
    ``P``, ``w`` (K, n): probabilities and ``scale·√p``; ``beta`` (n,):
    ``Ũ_a = w_a (Ŷ_a − β Σ_c p_c Ŷ_c)``, with ``β = 1`` unless reduced (see
    ``_SoftmaxRows.left``); ``gains`` (n,).
    """
    rk, block = S.shape[1], _BLOCK_BYTES // S.itemsize
    Yh = np.empty((2 * rk, k, block), dtype=S.dtype)
    acc = np.empty(block, dtype=S.dtype)
    sa, sr, sf, sg = solve_scratch(S, block)
    for s in range(lo, hi, block):
        e = min(s + block, hi)
        nb = e - s
        bt = beta[s:e]
        for jj in range(2):
            for b in range(k):
                acc[:nb] = 0.0
                for c in range(rk):
                    y, p = Y[(jj * rk + c) * k + b, s - lo : e - lo], P[c, s:e]
                    for r in range(nb):
                        acc[r] += p[r] * y[r]
                for r in range(nb):
                    acc[r] *= bt[r]
                for a in range(rk):
                    y = Y[(jj * rk + a) * k + b, s - lo : e - lo]
                    wa, o = w[a, s:e], Yh[jj * rk + a, b]
                    for r in range(nb):
                        o[r] = wa[r] * (y[r] - acc[r])
        # G's lower triangle is left stale: the solves read only its upper one.
        for i in range(2 * rk):
            for j in range(i if i < rk else 0, rk):
                t = S[i, j, s:e]
                # Two terms per pass over the rows, the same order of additions
                # as one at a time: measured 7-11 % faster per row than passes
                # of four (n = 20,480).
                q = 0
                while q + 2 <= k:
                    u0, v0, u1, v1 = Yh[i, q], Yh[j, q], Yh[i, q + 1], Yh[j, q + 1]
                    for r in range(nb):
                        t[r] = t[r] + u0[r] * v0[r] + u1[r] * v1[r]
                    q += 2
                for qq in range(q, k):
                    u0, v0 = Yh[i, qq], Yh[j, qq]
                    for r in range(nb):
                        t[r] += u0[r] * v0[r]
        if score:
            solve_block(S, s, e, gains, sa, sr, sf, sg)


@_jit
def solve_scratch(S, block):
    """The scratch arrays of :func:`solve_block` for ``block`` rows of a state like ``S``."""
    K = S.shape[1]
    a = np.empty((K, K, block), dtype=S.dtype)
    r = np.empty((K, K, block), dtype=S.dtype)
    return a, r, np.empty((K, block), dtype=S.dtype), np.empty((K, block), dtype=S.dtype)


@_jit
def solve_block(S, s, e, out, a, r, f, g):
    """``out[x] = tr((I + sign·G_x)⁻¹R_x)`` for rows ``s:e`` of a rows-last state ``S``.

    ``S = [−sign·G ; R½]``, so ``I + sign·G = I − S_G`` in either direction.

    The LDLᵀ elimination of :func:`_eliminate` with the rows innermost. As
    ``I + sign·G`` and ``R`` stay symmetric through it, only their upper
    triangles are eliminated. ``a``, ``r`` (K, K, ≥e−s), ``f``, ``g`` (K, ≥e−s)
    are scratch.
    """
    K, nb = S.shape[1], e - s
    # Each loop below stores to one array: fused, two stores and up to seven
    # loads per loop, they compiled to scalar code (one vector FMA in the
    # whole routine) and ran about 20 % slower (solve_rows, n = 20,480).
    for i in range(K):
        for j in range(i, K):
            ai, sg = a[i, j], S[i, j, s:e]
            for t in range(nb):
                ai[t] = -sg[t]
            ri, h1, h2 = r[i, j], S[K + i, j, s:e], S[K + j, i, s:e]
            for t in range(nb):
                ri[t] = h1[t] + h2[t]
        d = a[i, i]
        for t in range(nb):
            d[t] += 1.0
    for k in range(K - 1):
        akk, rkk = a[k, k], r[k, k]
        for i in range(k + 1, K):
            fi, aki = f[i], a[k, i]
            for t in range(nb):
                fi[t] = aki[t] / akk[t]
            gi, rki = g[i], r[k, i]
            for t in range(nb):
                gi[t] = rki[t] - (0.5 * rkk[t]) * fi[t]
        for i in range(k + 1, K):
            fi, gi = f[i], g[i]
            for j in range(i, K):
                aij, akj = a[i, j], a[k, j]
                for t in range(nb):
                    aij[t] -= fi[t] * akj[t]
                rij, fj, gj = r[i, j], f[j], g[j]
                for t in range(nb):
                    rij[t] -= fi[t] * gj[t] + gi[t] * fj[t]
    for t in range(nb):
        out[s + t] = 0.0
    for k in range(K):
        akk, rkk = a[k, k], r[k, k]
        for t in range(nb):
            out[s + t] += rkk[t] / akk[t]


@_jit
def solve_rows(S, lo, hi, out):
    """:func:`solve_block` for rows ``lo:hi``, block by block."""
    block = _BLOCK_BYTES // S.itemsize
    sa, sr, sf, sg = solve_scratch(S, block)
    for s in range(lo, hi, block):
        solve_block(S, s, min(s + block, hi), out, sa, sr, sf, sg)
