"""The BAIT kernel as it was before issue 13 (main at 671b771), kept for same-run comparisons.

Benchmark-only: ``bench_bait.py`` and ``mnist_skorch.py`` time it next to the current
kernel. Not part of the package and not tested beyond the benchmarks' same-picks checks.
"""

import contextlib
import functools
import math
import numbers

import numpy as np
from threadpoolctl import threadpool_limits

from skactive.kernels._common import _device_kw, prepare, row_chunks

# Rows per chunk for the per-step passes, sized so that a chunk's K×K state
# and its slice of H stay in cache (measured: 2-3x faster than whole-pool
# passes); working_memory still caps it (see _chunks).
_CACHE_ENTRIES = 2**18
_CACHE_MAX_ROWS = 4096


def _chunks(n, row_bytes, max_rows):
    """Row slices within ``working_memory``, at most ``max_rows`` long and of even size."""
    for big in row_chunks(n, row_bytes):
        size = big.stop - big.start
        step = -(-size // -(-size // max_rows))  # ceil(size / ceil(size / max_rows))
        for start in range(big.start, big.stop, step):
            yield slice(start, min(start + step, big.stop))


def _index(a, xp, like):
    """A host integer array as an index array on ``like``'s device."""
    return xp.asarray(np.asarray(a, dtype=np.int64).reshape(-1), **_device_kw(like))


def _eye(K, like, xp):
    return xp.eye(K, dtype=like.dtype, **_device_kw(like))


def _mm(X, Y):
    """``X @ Y``; an outer product when the inner dimension is 1 (K = 1: no batched GEMM)."""
    return X * Y if X.shape[-1] == 1 else X @ Y


def _pair_positions(m):
    """Upper-triangle pairs ``(i <= j)`` of ``range(m)`` and an (m, m) lookup of their position."""
    i, j = np.triu_indices(m)
    pos = np.empty((m, m), dtype=np.int64)
    pos[i, j] = np.arange(i.size)
    pos[j, i] = np.arange(i.size)
    return i, j, pos


class _Rows:
    """Candidate rows with Fisher factors ``V_x = scale · L_x ⊗ h_x`` (class-major blocks).

    Subclasses define ``K``, :meth:`left` (``scale · L_xᵀ Ŷ_x``), :meth:`factor`
    (``scale · L_i``, K×K), :meth:`take`, :meth:`fisher_sum`, :meth:`quad_prepare`
    and :meth:`hat_quad`.
    """

    def __init__(self, H, scale, xp):
        self.H, self.scale, self.xp = H, scale, xp
        self.n, self.d = H.shape

    @property
    def cache_rows(self):
        return max(256, min(_CACHE_MAX_ROWS, _CACHE_ENTRIES // (self.K * self.K)))

    def hat_matrix(self, Y):
        """Rearrange ``Y`` (Kd × k) to (d, K·k) so that ``h_xᵀ Yr`` is ``(I_K ⊗ h_x)ᵀ Y``."""
        xp, K, d = self.xp, self.K, self.d
        k = Y.shape[1]
        return xp.reshape(xp.permute_dims(xp.reshape(Y, (K, d, k)), (1, 0, 2)), (d, K * k))

    def project(self, Yr, sl):
        """``V_xᵀ Y`` for the rows in ``sl`` from ``Yr = hat_matrix(Y)``: O(K·k·d) per row."""
        m = self.H[sl, :].shape[0]
        Y_hat = self.xp.reshape(self.H[sl, :] @ Yr, (m, self.K, Yr.shape[1] // self.K))
        return self.left(Y_hat, sl)

    def sandwich(self, A_hat, sl):
        """``scale² L_xᵀ Â_x L_x`` for symmetric ``Â_x``: the K×K form of a Kd×Kd matrix."""
        return self.left(self.left(A_hat, sl).mT, sl)

    def minv_factor(self, Minv, i):
        """``M⁻¹ V_i`` (Kd × K) from the block structure, O((Kd)²)."""
        xp, D = self.xp, Minv.shape[0]
        hats = xp.reshape(xp.reshape(Minv, (D * self.K, self.d)) @ self.H[i, :], (D, self.K))
        return _mm(hats, self.factor(i))

    def initial_state(self, Minv, N):
        """``G_x`` and ``R_x`` of every row from ``M⁻¹`` and ``N = M⁻¹FM⁻¹``."""
        xp, K = self.xp, self.K
        G = xp.empty((self.n, K, K), dtype=self.H.dtype, **_device_kw(self.H))
        R = xp.empty_like(G)
        packed = self.quad_prepare([Minv, N])
        for sl in _chunks(self.n, self.quad_row_bytes, self.quad_rows):
            G_hat, R_hat = self.hat_quad(packed, sl)
            G[sl, :, :] = self.sandwich(G_hat, sl)
            R[sl, :, :] = self.sandwich(R_hat, sl)
        return G, R


class _SoftmaxRows(_Rows):
    """Rows of a softmax classifier: ``L_x = (I − p 1ᵀ) diag(√p)``.

    Column c of ``L_x`` is ``√p_c (e_c − p)``, so ``V_x V_xᵀ = scale² S_x ⊗ h hᵀ``
    with ``S_x = L_x L_xᵀ = diag(p) − p pᵀ``: the expected Fisher information of
    the cross-entropy loss in the last layer's weights.
    """

    def __init__(self, H, P, scale, xp):
        super().__init__(H, scale, xp)
        # A probability is >= 0; clip round-off (-0.0, -1e-17) before the root.
        self.P = xp.clip(P, 0.0, None)
        self.sqrt_p = xp.sqrt(self.P)
        self.weight = scale * self.sqrt_p
        self.K = P.shape[1]
        nd2 = self.d * (self.d + 1) // 2
        self.quad_row_bytes = 8 * (3 * nd2 + 6 * self.K * self.K)
        # Pair-product chunks are d²/2 per row: keep them cache-sized.
        self.quad_rows = 512

    def take(self, rows):
        xp = self.xp
        idx = _index(rows, xp, self.H)
        H, P = xp.take(self.H, idx, axis=0), xp.take(self.P, idx, axis=0)
        return _SoftmaxRows(H, P, self.scale, xp)

    def left(self, Y_hat, sl):
        # L_xᵀ Ŷ = diag(√p)(Ŷ − 1 pᵀŶ): O(K·k) per row instead of a K×K product.
        # Overwrites Ŷ (always a fresh temporary here) to save n-sized copies.
        Y_hat -= self.P[sl, None, :] @ Y_hat
        Y_hat *= self.weight[sl, :, None]
        return Y_hat

    def factor(self, i):
        p, sqrt_p = self.P[i, :], self.sqrt_p[i, :]
        return self.scale * (_eye(self.K, p, self.xp) - p[:, None]) * sqrt_p[None, :]

    def weights(self, sl, ia, ib):
        """Entries ``(a, b)``, ``a <= b``, of ``S_x = L_x L_xᵀ`` for the rows in ``sl``."""
        xp = self.xp
        P = self.P[sl, :]
        Pa, Pb = xp.take(P, ia, axis=1), xp.take(P, ib, axis=1)
        # Σ_c p_c (e_c − p)(e_c − p)ᵀ = diag(p) + (Σp − 2) p pᵀ, exact even if Σp ≠ 1.
        excess = xp.sum(P, axis=1, keepdims=True) - 2.0
        return Pa * Pb * excess + xp.astype(ia == ib, P.dtype) * Pa

    @functools.cached_property
    def pairs(self):
        """Upper-triangle pairs of classes and of features: host lookups, device indices."""
        ia, ib, pos_k = _pair_positions(self.K)
        ja, jb, pos_d = _pair_positions(self.d)
        dev = [_index(a, self.xp, self.H) for a in (ia, ib, pos_k)]
        return (ia, ib, ja, jb, pos_k, pos_d), dev

    def fisher_sum(self):
        """``Σ_x S_x ⊗ h_x h_xᵀ`` (Kd × Kd), unscaled, from symmetric pair products.

        Block (a, b) entry (j, k) is ``Σ_x S_x[a,b] h_j h_k``: one GEMM per chunk
        over the pairs ``a <= b`` and ``j <= k`` (a quarter of the products), then
        mirrored. Never the reference's per-row Kd×Kd temporaries.
        """
        xp, K, d = self.xp, self.K, self.d
        (ia, _, ja, _, pos_k, pos_d), (ia_, ib_, _) = self.pairs
        T = xp.zeros((ia.size, ja.size), dtype=self.H.dtype, **_device_kw(self.H))
        for sl in _chunks(self.n, self.quad_row_bytes, self.quad_rows):
            T = T + (_pair_products(self.H[sl, :], xp) @ self.weights(sl, ia_, ib_)).mT
        grid = pos_k[:, None, :, None] * ja.size + pos_d[None, :, None, :]
        F = xp.take(xp.reshape(T, (-1,)), _index(grid, xp, self.H))
        return xp.reshape(F, (K * d, K * d))

    def quad_prepare(self, mats):
        """Pack symmetric Kd×Kd matrices for :meth:`hat_quad` (once per call of BAIT)."""
        xp, host = self.xp, self.pairs[0][:4]
        return xp.concat([_pack_blocks(A, host, self.K, self.d, xp) for A in mats], axis=1)

    def hat_quad(self, packed, sl):
        """``Â_x[a, b] = h_xᵀ A_ab h_x`` for the rows in ``sl`` and each packed ``A``.

        One GEMM of the rows' pair products ``h_j h_k`` (``j <= k``) against the
        packed blocks: half the multiplications of ``(I ⊗ h)ᵀ A (I ⊗ h)``.
        """
        xp, K = self.xp, self.K
        (ia, *_), (_, _, unpack) = self.pairs
        quads = _pair_products(self.H[sl, :], xp).mT @ packed
        shape = (quads.shape[0], K, K)
        blocks = range(0, quads.shape[1], ia.size)
        return [
            xp.reshape(xp.take(quads[:, t : t + ia.size], unpack, axis=1), shape) for t in blocks
        ]


class _LinearRows(_Rows):
    """Rows of a linear-Gaussian output layer (regression): ``V_x = scale · h_x``, K = 1."""

    K = 1

    def __init__(self, H, scale, xp):
        super().__init__(H, scale, xp)
        self.quad_row_bytes = 8 * 3 * self.d
        self.quad_rows = _CACHE_MAX_ROWS

    def take(self, rows):
        idx = _index(rows, self.xp, self.H)
        return _LinearRows(self.xp.take(self.H, idx, axis=0), self.scale, self.xp)

    def left(self, Y_hat, sl):
        return self.scale * Y_hat

    def factor(self, i):
        return self.scale * self.xp.ones((1, 1), dtype=self.H.dtype, **_device_kw(self.H))

    def fisher_sum(self):
        xp = self.xp
        S = xp.zeros((self.d, self.d), dtype=self.H.dtype, **_device_kw(self.H))
        for sl in row_chunks(self.n, 8 * self.d):
            S = S + self.H[sl, :].mT @ self.H[sl, :]
        return S

    def quad_prepare(self, mats):
        return mats

    def hat_quad(self, mats, sl):
        Hs = self.H[sl, :]
        m = Hs.shape[0]
        return [self.xp.reshape(self.xp.sum((Hs @ A) * Hs, axis=1), (m, 1, 1)) for A in mats]


def _pair_products(H, xp):
    """Products ``h_j h_k`` for ``j <= k`` (``np.triu_indices`` order), transposed: (d(d+1)/2, m).

    Built in contiguous row blocks of the transposed buffer (a gather, or
    column blocks, would pass over it several times).
    """
    m, d = H.shape
    Ht = H.mT
    out = xp.empty((d * (d + 1) // 2, m), dtype=H.dtype, **_device_kw(H))
    start = 0
    for j in range(d):
        out[start : start + d - j, :] = Ht[j : j + 1, :] * Ht[j:, :]
        start += d - j
    return out


def _pack_blocks(A, pairs, K, d, xp):
    """Coefficients turning pair products into ``h_xᵀ A_ab h_x`` for ``a <= b``.

    ``Σ_jk h_j h_k A_ab[j,k] = Σ_{j<=k} h_j h_k c_jk`` with ``c_jk = A_ab[j,k] + A_ab[k,j]``
    off the diagonal and ``A_ab[j,j]`` on it. Returns (n_pairs_d, n_pairs_K).
    """
    ia, ib, ja, jb = pairs
    A4 = xp.reshape(A, (K, d, K, d))
    both = xp.reshape(A4 + xp.permute_dims(A4, (0, 3, 2, 1)), (-1,))
    flat = ((ia[None, :] * d + ja[:, None]) * K + ib[None, :]) * d + jb[:, None]
    packed = xp.reshape(xp.take(both, _index(flat, xp, A)), flat.shape)
    half = np.where(ja == jb, 0.5, 1.0)[:, None]
    return packed * xp.asarray(half, dtype=A.dtype, **_device_kw(A))


def _trace_solve(A, R, xp):
    """``tr(A_x⁻¹ R_x)`` for stacks of SPD K×K ``A_x`` and symmetric ``R_x``."""
    return xp.sum(_spd_inverse(A, xp) * R, axis=(1, 2))


def _spd_inverse(A, xp):
    """Inverses of a stack of SPD matrices by 2×2 block elimination (Schur complements).

    A handful of stacked matmuls per level: batched LAPACK calls on thousands
    of tiny matrices cost several times more, in per-matrix overhead, than
    this arithmetic.
    """
    K = A.shape[-1]
    if K == 1:
        return 1.0 / A
    k = K // 2
    A12 = A[:, :k, k:]
    X11 = _spd_inverse(A[:, :k, :k], xp)
    U = X11 @ A12
    XS = _spd_inverse(A[:, k:, k:] - A12.mT @ U, xp)
    B = -(U @ XS)
    out = xp.empty_like(A)
    out[:, :k, :k] = X11 - B @ U.mT
    out[:, :k, k:] = B
    out[:, k:, :k] = B.mT
    out[:, k:, k:] = XS
    return out


def _small_inverse(S, xp):
    """``S⁻¹`` of one symmetric K×K matrix by a solve (kept symmetric)."""
    C = xp.linalg.solve(S, _eye(S.shape[0], S, xp))
    return 0.5 * (C + C.mT)


def _gain_bounds(G, R, xp):
    """Bounds on the gain ``tr((I + G)⁻¹R)`` of each row from three traces, O(K³) per row.

    In G's eigenbasis the gain is ``Σ w_i f(g_i)``, ``f(g) = 1/(1+g)``, with
    ``w_i >= 0``, ``g_i >= 0`` and moments ``m0 = Σ w_i = tr R``,
    ``m1 = Σ w_i g_i = tr(GR)``, ``m2 = Σ w_i g_i² = tr(G²R)``. As f is convex,
    Jensen gives ``m0² / (m0 + m1)`` from below. As f's third derivative is
    negative, the quadratic through ``f(0)`` that touches f at ``t`` lies above
    f on ``g >= 0``; its weighted sum, least at ``t = m2/m1``, is the upper
    bound ``m0 − m1² / (m1 + m2)``. Both are exact when R lives on one
    eigenvalue of G. The upper bound carries a ``1e-10 · tr R`` slack for
    round-off in G and R.
    """
    m0 = xp.sum(xp.linalg.diagonal(R), axis=1)
    m1 = xp.sum(G * R, axis=(1, 2))
    m2 = xp.sum(_mm(G, G) * R, axis=(1, 2))
    zero, one = xp.zeros_like(m0), xp.ones_like(m0)
    lower = xp.where(m0 + m1 > 0, m0 * m0 / xp.where(m0 + m1 > 0, m0 + m1, one), zero)
    drop = xp.where(m1 + m2 > 0, m1 * m1 / xp.where(m1 + m2 > 0, m1 + m2, one), zero)
    return lower, m0 - drop + 1e-10 * xp.abs(m0)


class _State:
    """``M⁻¹``, ``F`` (``None`` = identity) and every candidate's ``G_x``, ``R_x``.

    ``sign=+1`` (forward): a row's score is the drop ``tr((I + G_x)⁻¹R_x)`` of
    ``tr(M⁻¹F)`` if it were added. ``sign=-1`` (backward): the rows are in ``M``
    and the score ``tr((I − G_x)⁻¹R_x)`` is the rise if it were removed.
    """

    def __init__(self, rows, Minv, F, G, R, sign):
        self.rows, self.xp, self.Minv, self.F = rows, rows.xp, Minv, F
        self.G, self.R, self.sign = G, R, sign
        # Forward passes with K > 1 keep cheap bounds on every gain, so that
        # exact K×K solves are only needed where a row could be the best.
        self.bounded = sign > 0 and rows.K > 1
        if self.bounded:
            self.lower, self.upper = _gain_bounds(G, R, self.xp)

    def _chunks(self):
        return _chunks(self.rows.n, 8 * 16 * self.rows.K**2, self.rows.cache_rows)

    def scores(self, idx=None):
        """Exact scores of the rows ``idx`` (all rows if None), in cache-sized chunks."""
        xp, K = self.xp, self.rows.K
        G, R = self.G, self.R
        if idx is not None:
            G, R = xp.take(G, idx, axis=0), xp.take(R, idx, axis=0)
        eye = _eye(K, G, xp)
        out = xp.empty((G.shape[0],), dtype=G.dtype, **_device_kw(G))
        for sl in _chunks(G.shape[0], 8 * 16 * K**2, self.rows.cache_rows):
            out[sl] = _trace_solve(eye + self.sign * G[sl, :, :], R[sl, :, :], xp)
        return out

    def best_gain(self, taken):
        """The row not ``taken`` with the largest gain, lowest index on exact ties.

        Exact gains are computed only for rows whose upper bound reaches the
        largest lower bound (less a 1e-9 relative margin for round-off): every
        row that could attain or tie the maximum is among them.
        """
        xp = self.xp
        if not self.bounded:
            idx, gains = None, xp.where(taken, -xp.inf, self.scores())
        else:
            top = xp.max(xp.where(taken, -xp.inf, self.lower))
            keep = (~taken) & (self.upper >= top - 1e-9 * xp.abs(top))
            idx = xp.nonzero(keep)[0]
            gains = self.scores(idx) if idx.shape[0] else xp.asarray([xp.nan])
        j = int(xp.argmax(gains))
        if not bool(xp.isfinite(gains[j])):
            raise FloatingPointError(
                "BAIT gains became non-finite; rescale the embeddings or increase 'lam'."
            )
        return j if idx is None else int(idx[j])

    def objective(self):
        """``tr(M⁻¹F)`` (``tr(M⁻¹)`` when ``F`` is the identity)."""
        xp = self.xp
        if self.F is None:
            return float(xp.sum(xp.linalg.diagonal(self.Minv)))
        return float(xp.sum(self.Minv * self.F))

    def commit(self, i, drop=False):
        """Add (forward) or remove (backward) row ``i``'s Fisher from ``M``.

        Woodbury with ``W = M⁻¹V_i`` and ``C = (±I + V_iᵀW)⁻¹``:
        ``M⁻¹ ← M⁻¹ − W C Wᵀ`` and, for every row, with ``U = V_xᵀW``,
        ``T = V_xᵀM⁻¹FW`` and ``Q = WᵀFW``: ``G ← G − U C Uᵀ`` and
        ``R ← R − U C Tᵀ − T C Uᵀ + U C Q C Uᵀ``. ``drop`` removes row ``i``
        from the candidates first.
        """
        xp, rows = self.xp, self.rows
        W = rows.minv_factor(self.Minv, i)
        Ui = rows.project(rows.hat_matrix(W), slice(i, i + 1))[0, :, :]
        # ±I + G_i: eigenvalues >= 1 forward, in (-1, 0) backward (M ⪰ λI + V_iV_iᵀ).
        C = _small_inverse(self.sign * _eye(rows.K, Ui, xp) + 0.5 * (Ui + Ui.mT), xp)
        FW = W if self.F is None else self.F @ W
        Z = self._downdate(W, C, FW)
        # U = V_xᵀW and T = V_xᵀZ from one GEMM over the rows: one pass over H.
        Yr = rows.hat_matrix(xp.concat([W, Z], axis=1))
        if drop:
            self._drop(i)
        half_Q = 0.5 * (W.mT @ FW)
        for sl in self._chunks():
            self._update(sl, Yr, C, half_Q)

    def _downdate(self, W, C, FW):
        """``Z = M⁻¹FW``, then ``M⁻¹ ← M⁻¹ − W C Wᵀ`` in place, one block of rows at a time.

        Each block of the Kd × Kd ``M⁻¹`` is read once for both, while in cache.
        """
        xp, D = self.xp, self.Minv.shape[0]
        WC = _mm(W, C)
        Z = xp.empty_like(W)
        for rs in _chunks(D, 8 * D, 256):
            Z[rs, :] = self.Minv[rs, :] @ FW
            self.Minv[rs, :] -= WC[rs, :] @ W.mT
        return Z

    def _update(self, sl, Yr, C, half_Q):
        K = self.rows.K
        UT = self.rows.project(Yr, sl)
        U, T = UT[:, :, :K], UT[:, :, K:]
        A = _mm(U, C)
        # In place on the chunk's views (numpy and torch slices are views):
        # fresh pool-sized temporaries cost page faults.
        G, R = self.G[sl, :, :], self.R[sl, :, :]
        G -= _mm(A, U.mT)
        # −U C Tᵀ − T C Uᵀ + U C Q C Uᵀ = E Aᵀ + (E Aᵀ)ᵀ with E = A Q/2 − T.
        E = _mm(A, half_Q)
        E -= T
        EA = _mm(E, A.mT)
        R += EA
        R += EA.mT
        if self.bounded:
            self.lower[sl], self.upper[sl] = _gain_bounds(G, R, self.xp)

    def _drop(self, i):
        xp = self.xp
        rest = _index([k for k in range(self.rows.n) if k != i], xp, self.G)
        self.rows = self.rows.take(rest)
        self.G, self.R = xp.take(self.G, rest, axis=0), xp.take(self.R, rest, axis=0)

    def restrict(self, picks):
        """The picked rows only, scored for removal (the backward pass)."""
        xp = self.xp
        idx = _index(picks, xp, self.G)
        G, R = xp.take(self.G, idx, axis=0), xp.take(self.R, idx, axis=0)
        Minv = xp.asarray(self.Minv, copy=True)  # updated in place from here on
        return _State(self.rows.take(idx), Minv, self.F, G, R, -1.0)


def _forward(state, n_steps, trace):
    """Greedy picks of the largest drop in ``tr(M⁻¹F)``; lowest index on exact ties."""
    xp = state.xp
    taken = xp.zeros((state.rows.n,), dtype=xp.bool, **_device_kw(state.G))
    picks = []
    for _ in range(n_steps):
        i = state.best_gain(taken)
        picks.append(i)
        taken[i] = True
        state.commit(i)
        if trace is not None:
            trace.append(state.objective())
    return picks


def _backward(state, picks, n_keep):
    """Remove, one at a time, the pick whose removal raises ``tr(M⁻¹F)`` least.

    The first in pick order wins exact ties; survivors keep their pick order.
    """
    if len(picks) <= n_keep:
        return list(picks)
    state = state.restrict(picks)
    kept = list(picks)
    while len(kept) > n_keep:
        j = int(state.xp.argmin(state.scores()))
        state.commit(j, drop=True)
        kept.pop(j)
    return kept


def _initial_matrices(pool, lab, n_select, lam, fisher):
    """``M₀⁻¹`` and ``F`` (``None`` for the identity) as the reference defines them.

    ``F`` is the mean Fisher over all rows, labelled and pool;
    ``M₀ = λI + Σ_labelled I(x) / (L + B)``.
    """
    xp = pool.xp
    eye = _eye(pool.K * pool.d, pool.H, xp)
    n_lab = 0 if lab is None else lab.n
    lab_sum = lab.fisher_sum() if n_lab else None
    if lab_sum is None:
        Minv = eye / lam
    else:
        # SPD with every eigenvalue >= λ > 0: a plain inverse is well conditioned.
        Minv = xp.linalg.inv(lam * eye + lab_sum / (n_lab + n_select))
        Minv = 0.5 * (Minv + Minv.mT)
    if fisher == "identity":
        return Minv, None
    total = pool.fisher_sum() if lab_sum is None else pool.fisher_sum() + lab_sum
    return Minv, total / (pool.n + n_lab)


def _one_blas_thread(xp):
    """Pin BLAS to one thread around the numpy kernel.

    The greedy loop issues hundreds of medium-sized GEMMs per call; on the
    2-core machine of our benchmarks, OpenBLAS threading made the whole call
    3-10x slower (threads spin-wait for each other), idle or shared.
    """
    if xp is np:
        return threadpool_limits(limits=1, user_api="blas")
    return contextlib.nullcontext()


def _bait_select(
    H, P, n_select, H_labeled, P_labeled, lam, oversample, fisher, xp, return_trace=False
):
    """BAIT picks; input assumed valid (see :func:`bait_select`).

    ``P=None`` means regression. With ``return_trace=True`` also returns
    ``tr(M⁻¹F)`` before the first and after every forward pick.
    """
    n_lab = 0 if H_labeled is None else H_labeled.shape[0]
    # Reference weighting: labelled rows enter M as a mean, picks as a sum,
    # M_S = λI + (Σ_labelled I(x) + B·Σ_S I(x)) / (L + B).
    scale = math.sqrt(n_select / (n_lab + n_select))
    if P is None:
        pool = _LinearRows(H, scale, xp)
        lab = _LinearRows(H_labeled, 1.0, xp) if n_lab else None
    else:
        pool = _SoftmaxRows(H, P, scale, xp)
        lab = _SoftmaxRows(H_labeled, P_labeled, 1.0, xp) if n_lab else None
    with _one_blas_thread(xp):
        Minv, F = _initial_matrices(pool, lab, n_select, lam, fisher)
        N = Minv @ (Minv if F is None else F @ Minv)
        state = _State(pool, Minv, F, *pool.initial_state(Minv, N), 1.0)
        trace = [state.objective()] if return_trace else None
        picks = _forward(state, min(oversample * n_select, pool.n), trace)
        picks = _backward(state, picks, n_select)
    return (picks, trace) if return_trace else picks


def _check_scalars(n_select, n, lam, oversample, fisher):
    """Validate the scalar arguments of :func:`bait_select` (one-sentence errors)."""
    if isinstance(n_select, bool) or not isinstance(n_select, numbers.Integral):
        raise TypeError(f"n_select should be an int, got {type(n_select).__name__}.")
    if not 1 <= n_select <= n:
        raise ValueError(f"n_select={n_select} should be in [1, n_samples={n}].")
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not lam > 0:
        raise ValueError(f"lam should be a positive real number, got {lam!r}.")
    if isinstance(oversample, bool) or not isinstance(oversample, numbers.Integral):
        raise TypeError(f"oversample should be an int >= 1, got {oversample!r}.")
    if oversample < 1:
        raise ValueError(f"oversample should be an int >= 1, got {oversample}.")
    if fisher not in ("pool", "identity"):
        raise ValueError(f"fisher should be 'pool' or 'identity', got {fisher!r}.")


def _check_shapes(H, P, H_labeled, P_labeled):
    """Raise if the validated arrays of :func:`bait_select` do not fit together."""
    n, d = H.shape
    if P is not None and P.shape[0] != n:
        raise ValueError(f"P has {P.shape[0]} rows but H has {n}; they should match.")
    if P is not None and bool(np.any(np.asarray(P) < 0)):
        raise ValueError("P should hold probabilities, but it has negative entries.")
    if H_labeled is not None and H_labeled.shape[1] != d:
        raise ValueError(f"H_labeled has {H_labeled.shape[1]} columns but H has {d}.")
    if (P is None) != (P_labeled is None) and H_labeled is not None:
        raise ValueError(
            "Pass P_labeled with H_labeled for classification, and neither P "
            "nor P_labeled for regression."
        )
    if P_labeled is not None and P_labeled.shape != (H_labeled.shape[0], P.shape[1]):
        raise ValueError(
            f"P_labeled should have shape ({H_labeled.shape[0]}, {P.shape[1]}), "
            f"got {P_labeled.shape}."
        )


def bait_select(
    H,
    P,
    n_select,
    *,
    H_labeled=None,
    P_labeled=None,
    lam=1.0,
    oversample=2,
    fisher="pool",
    device="numpy",
):
    """BAIT batch selection (Ash et al., 2021): greedy Fisher-trace minimisation.

    Picks ``n_select`` pool rows to minimise ``tr(M_S⁻¹ F)``, where ``F`` is the
    mean last-layer Fisher information over all rows (labelled and pool) and
    ``M_S = λI + (Σ_labelled I(x) + n_select · Σ_S I(x)) / (L + n_select)``,
    exactly as the authors' code weights them. A forward pass adds
    ``oversample · n_select`` rows (capped at the pool size), each the row that
    lowers the trace most (lowest index on exact ties); a backward pass then
    removes, one at a time, the row whose removal raises it least (first in
    pick order on ties). Survivors are returned in pick order.

    Parameters
    ----------
    H : array-like of shape (n, d)
        Pool embeddings: the input of the last linear layer.
    P : array-like of shape (n, K) or None
        Class probabilities of the pool (K classes, as the model defines them).
        ``None`` means regression, where the Fisher information
        ``h hᵀ ⊗ Σ⁻¹`` does not depend on the predictions.
    n_select : int
        Batch size, in ``[1, n]``.
    H_labeled : array-like of shape (L, d), default=None
        Embeddings of the labelled rows.
    P_labeled : array-like of shape (L, K), default=None
        Their class probabilities (classification only).
    lam : float, default=1.0
        Ridge ``λ > 0`` on ``M``.
    oversample : int, default=2
        Forward picks per batch row; ``1`` is forward-only greedy.
    fisher : {"pool", "identity"}, default="pool"
        ``"identity"`` replaces ``F`` by ``I`` (the paper's "BAIT without I(θ)").
    device : str, default="numpy"
        Backend, as the strategies' ``device`` parameter.

    Returns
    -------
    indices : list of int
        Unique row indices into ``H``, in pick order.

    Notes
    -----
    Cost per greedy step is O(n·K²·d + (Kd)²·K) time and O(n·K²) memory, against
    the reference's O(n·(Kd)²·K); the initial state costs O(n·K²·d²). Each
    step solves the K×K systems exactly only for the rows whose upper bound on
    the gain reaches the best lower bound (bounds from ``tr R``, ``tr GR`` and
    ``tr G²R``); this changes no pick, ties included.

    References
    ----------
    .. [1] J. T. Ash, S. Goel, A. Krishnamurthy and S. Kakade, "Gone Fishing:
       Neural Active Learning with Fisher Embeddings", NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import bait_select
    >>> H = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.99, 0.01]])
    >>> bait_select(H, P, 2)
    [2, 0]
    >>> bait_select(H, None, 2)  # regression
    [3, 2]
    """
    arrays = {"H": H, "P": P, "H_labeled": H_labeled, "P_labeled": P_labeled}
    names = [k for k, v in arrays.items() if v is not None]
    backend, out, _ = prepare([arrays[k] for k in names], names, device)
    arrays.update(zip(names, out, strict=True))
    H, P, H_lab, P_lab = arrays.values()
    _check_scalars(n_select, H.shape[0], lam, oversample, fisher)
    _check_shapes(*(backend.to_numpy(a) if a is not None else None for a in arrays.values()))
    return _bait_select(
        H, P, int(n_select), H_lab, P_lab, float(lam), int(oversample), fisher, backend.xp
    )
