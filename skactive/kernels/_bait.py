"""BAIT: forward-backward greedy minimisation of the Fisher trace ``tr(M⁻¹F)``.

The last-layer Fisher information of a row factors as ``V_x V_xᵀ`` with
``V_x = L_x ⊗ h_x`` (Kd × K), so each candidate's effect on the objective is
tracked by two K×K matrices, ``G_x = V_xᵀM⁻¹V_x`` and ``R_x = V_xᵀM⁻¹FM⁻¹V_x``,
kept current with rank-K Woodbury terms. Nothing ``n × Kd`` or ``Kd × Kd`` per
row is ever formed. Regression is the case K = 1 with ``L_x = 1``.

``M⁻¹`` itself is held in one of two forms (see :func:`_use_low_rank`): a dense
Kd × Kd matrix, or, for wide inputs (a linear model on raw pixels: Kd in the
thousands), ``λ⁻¹I`` minus the low-rank Woodbury terms of the labelled rows
and the picks, with ``F`` applied through its factors ``Hᵀ diag(c) H``.
"""

import functools
import math
import numbers
import threading

import numpy as np
import scipy.linalg

from ..exceptions import NumericalRangeError
from ..utils._validation import DEVICE, Interval, StrOptions, validate_params
from . import _compiled
from ._common import _device_kw, check_n_select, pow2_exponent, pow2_scale, prepare, row_chunks
from ._parallel import CpuShare, Progress, Workers, blas_threads, compute_dtype

# Rows per chunk of the per-step passes: a chunk's K×K state, its slice of H
# and the temporaries stay in cache (measured fastest at about 2**16 entries
# of K×K state at K = 10), and chunks are the unit of work of the threads.
_CACHE_ENTRIES = 2**16
_CACHE_MAX_ROWS = 4096


def _chunks(n, row_bytes, max_rows, even=False):
    """Row slices within ``working_memory``, at most ``max_rows`` long and of even size.

    ``even``: an even number of slices per working-memory block (when more
    than one), so that two threads share them evenly (5 chunks split 3:2).
    """
    for big in row_chunks(n, row_bytes):
        size = big.stop - big.start
        pieces = -(-size // max_rows)
        pieces += even and pieces > 1 and pieces % 2
        step = -(-size // pieces)
        for start in range(big.start, big.stop, step):
            yield slice(start, min(start + step, big.stop))


def _index(a, xp, like):
    """An integer index array on ``like``'s device, from host integers or a device array.

    An index that already is an array of ``xp`` (e.g. a CUDA tensor from
    :meth:`_State.restrict`) stays on its device: ``np.asarray`` on it would
    fail on CUDA and round-trip through the host on CPU.
    """
    if not isinstance(a, (list, tuple, range, np.ndarray)):
        return xp.reshape(xp.astype(a, xp.int64), (-1,))
    return xp.asarray(np.asarray(a, dtype=np.int64).reshape(-1), **_device_kw(like))


def _eye(K, like, xp):
    return xp.eye(K, dtype=like.dtype, **_device_kw(like))


def _contiguous(x, xp):
    """A fresh C-contiguous copy of ``x`` (a view from ``permute_dims`` keeps the old layout).

    Always a copy: with a length-1 axis, a permuted view already counts as
    contiguous, and working on it in place would overwrite the caller's array.
    """
    if xp is np or isinstance(x, np.ndarray):
        return np.array(x, order="C", copy=True)
    y = x.contiguous()
    return y.clone() if y.data_ptr() == x.data_ptr() else y


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
    (``scale · L_i``, K×K), :meth:`take`, :meth:`fisher_chunks`, :meth:`fisher_part`,
    :meth:`fisher_unpack`, :meth:`quad_prepare`, :meth:`hat_quad` and
    :meth:`class_weights` (the entries of ``S_x = L_x L_xᵀ``).
    """

    # Whether each row's factor has K − 1 columns, not K (softmax rows whose
    # probabilities sum to one: see _SoftmaxRows).
    reduced = False

    def __init__(self, H, scale, xp):
        self.H, self.scale, self.xp = H, scale, xp
        self.n, self.d = H.shape
        self._scratch = threading.local()

    def pair_rows(self, sl):
        """:func:`_pair_products` of the rows in ``sl``, in a per-thread buffer (numpy).

        A fresh (d²/2 × m) array per chunk (34 MB at d = 128) cost more in
        page faults than the products themselves.
        """
        H = self.H[sl, :]
        if self.xp is not np:
            return _pair_products(H, self.xp)
        shape = (self.d * (self.d + 1) // 2, H.shape[0])
        buf = getattr(self._scratch, "pairs", None)
        if buf is None or buf.size < shape[0] * shape[1] or buf.dtype != H.dtype:
            buf = self._scratch.pairs = np.empty(shape[0] * shape[1], dtype=H.dtype)
        return _pair_products(H, np, buf[: shape[0] * shape[1]].reshape(shape))

    @property
    def cache_rows(self):
        return max(64, min(_CACHE_MAX_ROWS, _CACHE_ENTRIES // (self.K * self.K)))

    # The three row layouts below depend only on the number of rows (and the
    # working memory): a partition of a Dask pool is passed the pool's layout
    # over its rows, so every GEMM sees the rows it sees on one machine.

    def chunks(self, n=None):
        """Cache-sized row slices of the per-step passes (fixed: no dependence on threads).

        ``n`` lays out that many rows instead of these.
        """
        n = self.n if n is None else n
        return list(_chunks(n, 8 * 16 * self.K**2, self.cache_rows, even=True))

    def quad_chunks(self, n=None):
        """Row slices of the initial ``G``, ``R`` (and, for softmax rows, of ``F``)."""
        return list(_chunks(self.n if n is None else n, self.quad_row_bytes, self.quad_rows))

    def fisher_sum(self, workers=None):
        """``Σ_x S_x ⊗ h_x h_xᵀ`` (Kd × Kd, unscaled) over these rows."""
        return self.fisher_unpack(self.fisher_fold(None, self.fisher_chunks(), workers))

    def fisher_fold(self, acc, chunks, workers=None):
        """``acc`` plus the partial sums of ``chunks`` (:meth:`fisher_part`), left to right.

        ``acc=None`` starts the sum. A Dask pool continues one left fold across
        its partitions in pool order: the additions of one machine, in its order.
        The chunks run in waves of two per thread, each wave folded in before
        the next: a few (Kd)²/4-sized partial sums alive at a time, not one per
        chunk (118 of 3.6 MB at n=60,000, d=128, K=10).
        """
        wave = 2 * (1 if workers is None else workers.n)
        for start in range(0, len(chunks), wave):
            for part in Workers.run(workers, self.fisher_part, chunks[start : start + wave]):
                acc = part if acc is None else acc + part
        return acc

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

    def minv_factor(self, Minv, i, workers=None, L=None):
        """``M⁻¹ V_i`` (Kd × K) from the block structure, O((Kd)²).

        A pass over all of ``M⁻¹`` per step (memory-bound): :func:`_matvec`.
        ``Minv`` may be a stack (…, Kd, Kd) of such matrices, read in one pass.
        ``L`` replaces the factor ``L_i`` (its rows: the class blocks of ``M⁻¹``,
        K or, in a class basis, K − 1; see :class:`_DenseMetric`).
        """
        xp = self.xp
        blocks = Minv.shape[-1] // self.d
        flat = xp.reshape(Minv, (-1, self.d))  # row (…, r, a): block a of row r
        hats = xp.reshape(_matvec(flat, self.H[i, :], workers), (*Minv.shape[:-1], blocks))
        return _mm(hats, self.factor(i) if L is None else L)

    @property
    def rank(self):
        """Columns of each row's factor ``L_x``: K, or K − 1 when :attr:`reduced`.

        The size of every row's ``G_x`` and ``R_x``, of a step's Woodbury
        columns and of the class blocks of its GEMM (:meth:`step_matrix`).
        """
        return self.K - 1 if self.reduced else self.K

    def step_matrix(self, Y):
        """The update's GEMM operand of a step's ``Y = [W̃ | Ẑ]`` (Kd × 2k): d × 2·rank·k.

        :meth:`hat_matrix` of each half, side by side, less the last class
        block if reduced: a reduced factor has ``1ᵀL_x = 0``, so ``L_xᵀ`` maps
        a shift common to all class blocks to zero; subtracting the last block
        from the others changes no ``Ũ``, and the GEMM needs K − 1 blocks.
        """
        xp, K, d, k = self.xp, self.K, self.d, Y.shape[1] // 2
        Yb = xp.reshape(Y, (K, d, 2, k))
        if self.reduced:
            Yb = Yb[: K - 1, ...] - Yb[K - 1 :, ...]
        return xp.reshape(xp.permute_dims(Yb, (1, 2, 0, 3)), (d, 2 * self.rank * k))

    def dense_factors(self, idx):
        """``[V_i for i in idx]`` as one Kd × (rank·len(idx)) matrix (the low-rank path)."""
        xp, K, d = self.xp, self.K, self.d
        rows = self.take(idx)
        Ls = xp.stack([rows.factor(j) for j in range(rows.n)])  # (m, K, rank): a, k
        V = Ls[:, :, None, :] * rows.H[:, None, :, None]  # (m, a, d, k)
        return xp.reshape(xp.permute_dims(V, (1, 2, 0, 3)), (K * d, rows.n * self.rank))

    def initial_state(self, Minv, N, workers=None):
        """Every row's forward state ``[−G_x ; R_x/2]`` from ``M⁻¹`` and ``N = M⁻¹FM⁻¹``.

        Written chunk by chunk into the one (n, 2K, K) array of :class:`_State`:
        no pool-sized ``G`` and ``R`` next to it.
        """
        xp, k = self.xp, self.rank
        S = _empty_state(self.n, k, self.H, xp)
        packed = self.quad_prepare([Minv, N])

        def fill(sl):
            G_hat, R_hat = self.hat_quad(packed, sl)
            S[sl, :k, :] = -self.sandwich(G_hat, sl)
            S[sl, k:, :] = 0.5 * self.sandwich(R_hat, sl)

        Workers.run(workers, fill, self.quad_chunks())
        return S

    def apply_fisher(self, Y, workers=None):
        """``Σ_x V_x V_xᵀ Y`` (unscaled factors) through the rows: O(n·d·K·k), no Kd × Kd."""
        xp, K, d = self.xp, self.K, self.d
        Yr = self.hat_matrix(Y)
        k = Y.shape[1]

        def part(sl):
            X = self.left(xp.reshape(self.H[sl, :] @ Yr, (-1, K, k)), sl, scale=1.0)
            X = self.right(X, sl)  # L_x X: (m, K, k) from (m, rank, k)
            return self.H[sl, :].mT @ xp.reshape(X, (-1, K * k))

        parts = Workers.run(workers, part, list(row_chunks(self.n, 8 * 4 * K * k)))
        total = functools.reduce(lambda a, b: a + b, parts)  # (d, K·k)
        return xp.reshape(xp.permute_dims(xp.reshape(total, (d, K, k)), (1, 0, 2)), (K * d, k))


class _SoftmaxRows(_Rows):
    """Rows of a softmax classifier: ``L_x = (I − p 1ᵀ) diag(√p)``.

    Column c of ``L_x`` is ``√p_c (e_c − p)``, so ``V_x V_xᵀ = scale² S_x ⊗ h hᵀ``
    with ``S_x = L_x L_xᵀ = diag(p) − p pᵀ``: the expected Fisher information of
    the cross-entropy loss in the last layer's weights.

    ``reduced`` rows (every ``Σp = 1``; the caller checks: :func:`sums_to_one`)
    use the K × (K − 1) factor ``L_x = diag(√p) B_x`` instead, ``B_x`` the first
    K − 1 columns of the Householder reflection taking ``e_K`` to ``−√p_x``: an
    orthonormal basis of ``√p_x``'s complement, so ``L_xL_xᵀ = diag(√p)(I −
    √p√pᵀ)diag(√p) = S_x`` as well. Each row's ``G_x`` and ``R_x`` are then
    (K − 1) × (K − 1) and a step has K − 1 Woodbury columns; every gain
    ``tr((I ± G)⁻¹R)`` is the same (the two factors differ by an isometry).
    """

    def __init__(self, H, P, scale, xp, reduced=False):
        super().__init__(H, scale, xp)
        self.reduced = bool(reduced) and P.shape[1] > 1
        # A probability is >= 0; clip round-off (-0.0, -1e-17) before the root.
        self.P = xp.clip(P, 0.0, None)
        self.sqrt_p = xp.sqrt(self.P)
        self.weight = scale * self.sqrt_p
        self.K = K = P.shape[1]
        if self.reduced:
            # β = 2 / vᵀv of B_x's reflection (_complement_basis), v = √p + e_K.
            top = self.sqrt_p[:, K - 1] + 1.0
            self.beta = 2.0 / (xp.sum(self.P[:, : K - 1], axis=1) + top * top)
        nd2 = self.d * (self.d + 1) // 2
        self.quad_row_bytes = 8 * (3 * nd2 + 6 * K * K)
        # Pair-product chunks are d²/2 per row: keep them cache-sized.
        self.quad_rows = 512

    def take(self, rows):
        xp = self.xp
        idx = _index(rows, xp, self.H)
        H, P = xp.take(self.H, idx, axis=0), xp.take(self.P, idx, axis=0)
        return _SoftmaxRows(H, P, self.scale, xp, self.reduced)

    @functools.cached_property
    def rows_last(self):
        """``P`` and ``scale·√p`` as (K, n) arrays and ``β`` (n,), for the compiled loops.

        ``β`` is 1 for rows that are not reduced: ``L_xᵀŶ = diag(√p)(Ŷ − 1 pᵀŶ)``.
        """
        beta = self.beta if self.reduced else np.ones(self.n, dtype=self.P.dtype)
        return np.ascontiguousarray(self.P.T), np.ascontiguousarray(self.weight.T), beta

    def left(self, Y_hat, sl, scale=None):
        """``scale · L_xᵀ Ŷ`` on the class axis (-2) of ``Ŷ``, (m, [j,] K, k): (…, rank, k).

        ``L_xᵀ Ŷ = diag(√p)(Ŷ − 1 pᵀŶ)``, or for reduced rows
        ``Bᵀdiag(√p)Ŷ = diag(√p)(Ŷ − β 1 vᵀdiag(√p)Ŷ)`` on the first K − 1
        classes: O(K·k) per row instead of a K×K product. Reduced rows also
        take a class axis of K − 1, for a ``Ŷ`` whose last class block is zero
        (:meth:`step_matrix`). Works in place on Ŷ (a fresh temporary here).
        """
        rank = self.rank
        extra = (slice(None),) + (None,) * (Y_hat.ndim - 3)
        P = self.P[sl, :]
        if not self.reduced:
            Y_hat -= P[extra + (None, slice(None))] @ Y_hat
        else:
            shift = P[:, :rank][extra + (None, slice(None))] @ Y_hat[..., :rank, :]
            if Y_hat.shape[-2] > rank:  # vᵀdiag(√p) on the last class: (1 + √p_K)√p_K
                p_last = (P[:, rank] + self.sqrt_p[sl, rank])[extra + (None, None)]
                shift += p_last * Y_hat[..., rank:, :]
            Y_hat = Y_hat[..., :rank, :]
            Y_hat -= self.beta[sl][extra + (None, None)] * shift
        w = self.weight if scale is None else scale * self.sqrt_p
        Y_hat *= w[sl, :rank][extra + (slice(None), None)]
        return Y_hat

    def right(self, X, sl):
        """``L_x X`` (unscaled) for (m, rank, k) ``X``: (m, K, k).

        ``√p∘X − p (1ᵀ(√p∘X))``, or for reduced rows ``√p∘(X̄ − β v (vᵀX̄))``
        with ``X̄ = [X; 0]``.
        """
        xp = self.xp
        if not self.reduced:
            out = self.sqrt_p[sl, :, None] * X
            return out - self.P[sl, :, None] * xp.sum(out, axis=1, keepdims=True)
        sqrt_p, rank = self.sqrt_p[sl, :], self.rank
        vx = self.beta[sl, None, None] * xp.sum(sqrt_p[:, :rank, None] * X, axis=1, keepdims=True)
        last = -(sqrt_p[:, rank:, None] + 1.0) * vx
        return sqrt_p[:, :, None] * xp.concat([X - sqrt_p[:, :rank, None] * vx, last], axis=1)

    def factor(self, i):
        """``scale · L_i`` (K × rank)."""
        xp, K = self.xp, self.K
        p, sqrt_p = self.P[i, :], self.sqrt_p[i, :]
        if not self.reduced:
            return self.scale * (_eye(K, p, xp) - p[:, None]) * sqrt_p[None, :]
        return self.scale * sqrt_p[:, None] * _complement_basis(sqrt_p, xp, self.beta[i])

    def weights(self, sl, ia, ib):
        """Entries ``(a, b)``, ``a <= b``, of ``S_x = L_x L_xᵀ`` for the rows in ``sl``."""
        xp = self.xp
        P = self.P[sl, :]
        Pa, Pb = xp.take(P, ia, axis=1), xp.take(P, ib, axis=1)
        # Σ_c p_c (e_c − p)(e_c − p)ᵀ = diag(p) + (Σp − 2) p pᵀ, exact even if Σp ≠ 1.
        excess = xp.sum(P, axis=1, keepdims=True) - 2.0
        return Pa * Pb * excess + xp.astype(ia == ib, P.dtype) * Pa

    def class_weights(self, sl):
        """``S_x`` (unscaled) of the rows in ``sl`` as (m, K·K)."""
        xp = self.xp
        (_, _, _, _, pos_k, _), (ia_, ib_, _) = self.pairs
        W = self.weights(sl, ia_, ib_)
        return xp.take(W, _index(pos_k.reshape(-1), xp, self.H), axis=1)

    @functools.cached_property
    def pairs(self):
        """Upper-triangle pairs of classes and of features: host lookups, device indices."""
        ia, ib, pos_k = _pair_positions(self.K)
        ja, jb, pos_d = _pair_positions(self.d)
        dev = [_index(a, self.xp, self.H) for a in (ia, ib, pos_k)]
        return (ia, ib, ja, jb, pos_k, pos_d), dev

    def fisher_chunks(self, n=None):
        return self.quad_chunks(n)

    def fisher_part(self, sl):
        """Pair-product sums ``Σ_x h_j h_k S_x[a, b]`` of the rows in ``sl``.

        Block (a, b) entry (j, k) of ``Σ_x S_x ⊗ h_x h_xᵀ`` is ``Σ_x S_x[a,b] h_j h_k``:
        one GEMM per chunk over the pairs ``a <= b`` (:attr:`class_pairs`) and
        ``j <= k`` (a quarter of the products), mirrored by :meth:`fisher_unpack`.
        Never the reference's per-row Kd×Kd temporaries.
        """
        _, (ia_, ib_, _) = self.class_pairs
        # Wide form (K²/2 × m)(m × d²/2): 1.2x faster in OpenBLAS than the tall one.
        pairs = self.pair_rows(sl)
        return (self.weights(sl, ia_, ib_).mT @ pairs.mT).mT

    def fisher_unpack(self, T):
        """The Kd × Kd matrix from the summed pair products of :meth:`fisher_part`.

        Reduced rows summed only the pairs of the first K − 1 classes: as every
        ``S_x`` has rows summing to zero (``S_x1 = (1 − Σp)p = 0``), the last
        class's blocks are ``F_aK = −Σ_b F_ab`` and ``F_KK = −Σ_a F_aK``.
        """
        xp, K, d = self.xp, self.K, self.d
        (_, _, pos_k), _ = self.class_pairs
        (_, _, ja, _, _, pos_d), _ = self.pairs
        k = pos_k.shape[0]
        grid = pos_k[:, None, :, None] * ja.size + pos_d[None, :, None, :]
        F = xp.reshape(xp.take(xp.reshape(T.mT, (-1,)), _index(grid, xp, self.H)), (k, d, k, d))
        if k == K:
            return xp.reshape(F, (K * d, K * d))
        col = -xp.sum(F, axis=2)  # (a, j, l): F_aK[j, l]
        full = xp.empty((K, d, K, d), dtype=F.dtype, **_device_kw(F))
        full[:k, :, :k, :] = F
        full[:k, :, k, :] = col
        full[k, :, :k, :] = xp.permute_dims(col, (2, 0, 1))
        full[k, :, k, :] = -xp.sum(col, axis=0)
        return xp.reshape(full, (K * d, K * d))

    @functools.cached_property
    def class_pairs(self):
        """The class pairs ``a <= b`` of ``F``'s sums and of :meth:`hat_quad`'s quadratic forms.

        Host ``(ia, ib, pos)`` and device ``(ia, ib, unpack)`` (``pos`` and
        ``unpack``: the (k, k) lookup of a pair's position). All K classes;
        with :attr:`reduced` rows, the first K − 1 (see :meth:`quad_prepare`).
        """
        ia, ib, pos = _pair_positions(self.rank)
        return (ia, ib, pos), tuple(_index(a, self.xp, self.H) for a in (ia, ib, pos))

    def quad_prepare(self, mats):
        """Pack symmetric Kd×Kd matrices for :meth:`hat_quad` (once per call of BAIT).

        With :attr:`reduced` rows, ``A`` is first shifted to
        ``A_ab − A_aK − A_Kb + A_KK`` (K the last class), whose last block row
        and column are zero: ``Â_x`` changes by ``c1ᵀ + 1cᵀ`` terms, which
        ``L_xᵀ · L_x`` maps to zero (``1ᵀL_x = 0``), so the sandwich is the
        same and the GEMM needs the pairs of K − 1 classes (45 of 55 at K = 10).
        """
        xp, K, d = self.xp, self.K, self.d
        (ia, ib, _), _ = self.class_pairs
        ja, jb = self.pairs[0][2:4]
        blocks = [_class_blocks(A, ia, ib, K, d, xp, shift=self.reduced) for A in mats]
        return xp.concat([_pack_blocks(X, ja, jb, xp) for X in blocks], axis=1)

    def hat_quad(self, packed, sl):
        """``Â_x[a, b] = h_xᵀ A_ab h_x`` for the rows in ``sl`` and each packed ``A``.

        One GEMM of the rows' pair products ``h_j h_k`` (``j <= k``) against the
        packed blocks: half the multiplications of ``(I ⊗ h)ᵀ A (I ⊗ h)``.
        """
        xp = self.xp
        (ia, _, _), (_, _, unpack) = self.class_pairs
        # Reduced: (K − 1) × (K − 1); the last class's row and column are zero.
        k = self.rank
        # Wide form, rows last: 1.5x faster in OpenBLAS than (m × d²/2)(d²/2 × ·).
        quads = (packed.mT @ self.pair_rows(sl)).mT
        m = quads.shape[0]
        return [
            xp.reshape(xp.take(quads[:, t : t + ia.size], unpack, axis=1), (m, k, k))
            for t in range(0, quads.shape[1], ia.size)
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

    def left(self, Y_hat, sl, scale=None):
        return (self.scale if scale is None else scale) * Y_hat

    def right(self, X, sl):
        return X

    def factor(self, i):
        return self.scale * self.xp.ones((1, 1), dtype=self.H.dtype, **_device_kw(self.H))

    def class_weights(self, sl):
        m = self.H[sl, :].shape[0]
        return self.xp.ones((m, 1), dtype=self.H.dtype, **_device_kw(self.H))

    def fisher_chunks(self, n=None):
        # Fixed-size chunks, not one working-memory block: a Dask pool can
        # then add the same chunk sums in the same order (see fisher_fold).
        return list(_chunks(self.n if n is None else n, 8 * self.d, _CACHE_MAX_ROWS))

    def fisher_part(self, sl):
        return self.H[sl, :].mT @ self.H[sl, :]

    def fisher_unpack(self, T):
        return T

    def quad_prepare(self, mats):
        return mats

    def hat_quad(self, mats, sl):
        Hs = self.H[sl, :]
        m = Hs.shape[0]
        return [self.xp.reshape(self.xp.sum((Hs @ A) * Hs, axis=1), (m, 1, 1)) for A in mats]


def _pair_products(H, xp, out=None):
    """Products ``h_j h_k`` for ``j <= k`` (``np.triu_indices`` order), transposed: (d(d+1)/2, m).

    Built in contiguous row blocks of the transposed buffer (a gather, or
    column blocks, would pass over it several times); into ``out`` when
    given, by the compiled loops where they run.
    """
    m, d = H.shape
    Ht = H.mT
    loops = _compiled.row_loops() if out is not None and xp is np else None
    if loops is not None and H.dtype in (np.float32, np.float64):
        loops.pair_products(np.ascontiguousarray(Ht), out)
        return out
    if out is None:
        out = xp.empty((d * (d + 1) // 2, m), dtype=H.dtype, **_device_kw(H))
    start = 0
    for j in range(d):
        out[start : start + d - j, :] = Ht[j : j + 1, :] * Ht[j:, :]
        start += d - j
    return out


def _class_blocks(A, ia, ib, K, d, xp, shift=False):
    """The d × d blocks ``A_ab`` of a Kd × Kd ``A`` for the class pairs ``(ia, ib)``: (pairs, d, d).

    ``shift``: ``A_ab − A_aK − A_Kb + A_KK`` instead (K the last class). Only
    the pairs' blocks are copied: no pass over all of ``A``.
    """
    A4, last = xp.reshape(A, (K, d, K, d)), K - 1

    def block(a, b):
        X = A4[a, :, b, :]
        if shift:
            X = X - A4[a, :, last, :] - A4[last, :, b, :] + A4[last, :, last, :]
        return X

    return xp.stack([block(int(a), int(b)) for a, b in zip(ia, ib, strict=True)])


def _pack_blocks(X, ja, jb, xp):
    """Coefficients turning pair products into ``h_xᵀ A_ab h_x`` for blocks ``X`` (pairs, d, d).

    ``Σ_jk h_j h_k A_ab[j,k] = Σ_{j<=k} h_j h_k c_jk`` with ``c_jk = A_ab[j,k] + A_ab[k,j]``
    off the diagonal and ``A_ab[j,j]`` on it, for the feature pairs
    ``(ja, jb)``. Returns (n_pairs_d, pairs).
    """
    n, d = X.shape[0], X.shape[1]
    both = xp.reshape(X + xp.permute_dims(X, (0, 2, 1)), (n, d * d))
    packed = xp.take(both, _index(ja * d + jb, xp, X), axis=1).mT
    half = np.where(ja == jb, 0.5, 1.0)[:, None]
    return packed * xp.asarray(half, dtype=X.dtype, **_device_kw(X))


def _eliminate(a, r, shift, xp):
    """``tr((shift·I + A)⁻¹R)`` from (K, K, m) arrays ``a`` (A) and ``r`` (R), overwritten.

    ``shift·I + A = L D Lᵀ`` is eliminated one column at a time and the same
    congruences are applied to ``R``; then ``tr(A⁻¹R) = Σ_k (L⁻¹RL⁻ᵀ)_kk / D_k``.
    The last axis is the candidate axis: about K³ multiply-adds per row in a
    few dozen array operations, where a batched LAPACK or BLAS call per 10×10
    matrix costs several times more in per-call overhead. No pivoting is
    needed: the matrix is definite (``I + G`` forward, ``I − G`` backward).
    """
    K = a.shape[0]
    if shift:
        for k in range(K):
            a[k, k, :] += shift
    for k in range(K - 1):
        f = a[k + 1 :, k, :] / a[k, k, :]
        a[k + 1 :, k + 1 :, :] -= f[:, None, :] * a[k, k + 1 :, :][None, :, :]
        # R ← E R Eᵀ on the trailing block: −f gᵀ − g fᵀ with g = R[k+1:, k] − R_kk f / 2.
        g = r[k + 1 :, k, :] - (0.5 * r[k, k, :]) * f
        outer = f[:, None, :] * g[None, :, :]
        r[k + 1 :, k + 1 :, :] -= outer
        r[k + 1 :, k + 1 :, :] -= xp.permute_dims(outer, (1, 0, 2))
    diag = slice(None, None, K + 1)
    return xp.sum(xp.reshape(r, (K * K, -1))[diag, :] / xp.reshape(a, (K * K, -1))[diag, :], axis=0)


def _state_trace_solve(S, K, sign, xp):
    """``tr((I + sign·G_x)⁻¹R_x)`` of state rows ``S = [−sign·G ; R½]`` (see :func:`_eliminate`).

    Builds the (K, K, m) arrays of the elimination straight from the block:
    ``sign·G = −S_G`` in either direction and ``R = R½ + R½ᵀ``.
    """
    G, half = S[:, :K, :], S[:, K:, :]
    if K == 1:
        return 2.0 * half[:, 0, 0] / (1.0 - G[:, 0, 0])
    a = _contiguous(xp.permute_dims(G, (1, 2, 0)), xp)
    a *= -1.0
    r = _contiguous(xp.permute_dims(half, (1, 2, 0)), xp)
    r += xp.permute_dims(half, (2, 1, 0))
    return _eliminate(a, r, 1.0, xp)


def _slack(x, xp):
    """Relative round-off allowance of the bounds: 1e-10 in float64, 1e-4 in float32."""
    return 1e-10 if x.dtype == xp.float64 else 1e-4


def _small_inverse(S, xp):
    """``S⁻¹`` of one symmetric K×K matrix by a solve (kept symmetric); used by ``_logdet``."""
    C = xp.linalg.solve(S, _eye(S.shape[0], S, xp))
    return 0.5 * (C + C.mT)


@functools.cache
def _lapack_pair(dtype):
    """LAPACK ``potrf`` and ``trtri`` for ``dtype`` (looking them up took ~15 µs per call)."""
    return scipy.linalg.lapack.get_lapack_funcs(("potrf", "trtri"), dtype=dtype)


def _cholesky_inverse_factor(S, xp):
    """``L⁻ᵀ`` with ``L Lᵀ = S`` for one SPD K×K ``S``: then ``L⁻ᵀ L⁻¹ = S⁻¹``.

    numpy: LAPACK ``potrf`` and ``trtri`` directly (numpy's ``cholesky`` and
    ``inv`` took 0.13-0.18 ms per 9 × 9 call, a tenth of a BAIT step).
    """
    S = 0.5 * (S + S.mT)
    if xp is np and S.dtype in (np.float32, np.float64):
        potrf, trtri = _lapack_pair(S.dtype)
        L, info = potrf(S, lower=True, clean=True)
        if info == 0:
            L, info = trtri(L, lower=True, overwrite_c=True)
        if info != 0:
            raise np.linalg.LinAlgError(f"Matrix is not positive definite (LAPACK info {info}).")
        return L.T
    L = xp.linalg.cholesky(S)
    return xp.linalg.inv(L).mT


class _DenseMetric:
    """``M⁻¹`` and ``N = M⁻¹FM⁻¹``, dense Kd × Kd at the last fold plus the steps since.

    With the Woodbury columns ``W̃_s`` (``M⁻¹ ← M⁻¹ − σ_s W̃_sW̃_sᵀ``) and
    ``Ẑ_s = W̃_sΦ_s/2 − σ_s M⁻¹FW̃_s`` of the steps since the last fold,
    ``N ← N + W̃_sẐ_sᵀ + Ẑ_sW̃_sᵀ`` (``Φ_s = W̃_sᵀFW̃_s``), so

        M⁻¹ = D − Q diag(σ) Qᵀ,    N = N_D + Q Pᵀ + P Qᵀ

    with ``Q = [W̃_s]``, ``P = [Ẑ_s]``. A step then needs ``M⁻¹V_i`` and
    ``NV_i``: one memory-bound pass over ``D`` and ``N_D`` (their block
    structure against ``h_i``) and thin products with ``Q``, ``P``; ``F`` is
    not read again after the start. Every ``fold_columns`` columns the terms
    are folded into ``D`` and ``N_D`` by GEMMs with that inner dimension, which
    run near the machine's peak, where a rank-K update per step (and the
    thin ``M⁻¹FW`` and ``FW`` products it replaces) ran at a third of it.

    With a class ``basis`` ``B`` (K × (K − 1), :func:`_class_basis`), every
    factor is ``V = T Ṽ`` with ``T = B ⊗ I_d`` and ``Ṽ = TᵀV``, and ``M⁻¹``,
    ``F`` (given as ``TᵀM₀⁻¹T``, ``TᵀFT``), ``N``, ``Q`` and ``P`` live in those
    (K − 1)d coordinates: ``M = T M̃ Tᵀ + λ(I − TTᵀ)`` splits along
    ``range(T)``, so ``V_xᵀM⁻¹V_y = Ṽ_xᵀM̃⁻¹Ṽ_y``. 19% fewer entries per pass
    at K = 10; steps and :meth:`initial_matrices` hand out ``T``-mapped
    results, the same as without the basis up to round-off.
    """

    # Woodbury columns held before a fold (whole steps, at least one); None:
    # about 170·√(Kd/1280), at most Kd / 2. A fold's GEMM
    # flops do not depend on it, its fixed costs (concatenation, mirror) are
    # O(Kd²) per fold and the thin products O(Kd·m) per step, so the best
    # width grows as √Kd: 120 at Kd = 640 (1.05x faster than 240 at n=3,000,
    # 10 of 11 paired runs), 120-180 alike at Kd = 1280.
    fold_columns = None

    def __init__(self, Minv, F, xp, basis=None):
        # M₀⁻¹ and F (None: the identity) until the start folds them into
        # DN = [D ; N_D]; then QP holds the m pending steps' columns, each
        # step's [W̃_s | Ẑ_s] side by side, and sig their signs.
        self.xp, self.Minv, self.F, self.D = xp, Minv, F, Minv.shape[0]
        self.basis = basis
        self.DN = self.QP = self.sig = None
        self.m = self.k = 0

    def copy(self):
        new = object.__new__(_DenseMetric)
        new.__dict__.update(self.__dict__)
        for name in ("Minv", "DN", "QP", "sig"):  # F is never written
            value = getattr(self, name)
            if value is not None:
                setattr(new, name, self.xp.asarray(value, copy=True))
        return new

    def initial_state(self, rows, workers):
        return rows.initial_state(*self.initial_matrices(workers), workers)

    def initial_matrices(self, workers):
        """``M⁻¹`` and ``N = M⁻¹FM⁻¹``, folded: every row's ``G``, ``R`` start from them.

        In a class basis, ``T D Tᵀ`` and ``T N_D Tᵀ``: not ``M⁻¹`` off ``range(T)``,
        where no factor has a component.
        """
        if self.DN is None:
            self._start(workers)
        self.fold(workers)
        if self.basis is None:
            return self.DN[0], self.DN[1]
        d = self.D // self.basis.shape[1]
        return tuple(_class_congruence(A, self.basis.mT, d, self.xp) for A in self.DN)

    def _start(self, workers):
        xp, Minv, F, D = self.xp, self.Minv, self.F, self.D
        self.DN = xp.empty((2, D, D), dtype=Minv.dtype, **_device_kw(Minv))
        self.DN[0] = Minv
        FM = Minv if F is None else _matmul(F, Minv, workers)
        _symmetric_products(self.DN[1:], [Minv], [FM], workers, xp, add=False)  # N = M⁻¹(FM⁻¹)
        self.Minv = self.F = None  # F is not needed again: its products live in N

    def _make_room(self, k, workers):
        """Room for a step of ``k`` Woodbury columns in ``QP``: a fold first if full.

        Every pending step has the same ``k`` (a step of another width folds first).
        """
        if self.m and (k != self.k or 2 * (self.m + k) > self.QP.shape[1]):
            self.fold(workers)
        if self.QP is None or 2 * k > self.QP.shape[1]:
            width = self.fold_columns or min(self.D // 2, round(170 * math.sqrt(self.D / 1280)))
            width = max(k, width)  # whole steps, at least one
            like = self.DN
            self.QP = self.xp.empty((self.D, 2 * width), dtype=like.dtype, **_device_kw(like))
            self.sig = self.xp.empty((width,), dtype=like.dtype, **_device_kw(like))
        self.k = k

    def step(self, rows, i, sign, workers):
        """Add (sign +1) or remove (−1) row ``i``'s Fisher: see :func:`_step_directions`.

        Returns ``[W̃ | Ẑ]`` (Kd × 2k) of this step.
        """
        xp = self.xp
        if self.DN is None:
            self._start(workers)
        L = rows.factor(i)
        if self.basis is not None:
            L = self.basis.mT @ L  # Ṽ_i = TᵀV_i
        k = L.shape[1]  # K, or K − 1 (reduced rows: see _SoftmaxRows)
        self._make_room(k, workers)
        WN = rows.minv_factor(self.DN, i, workers, L)  # [D V_i ; N_D V_i]: (2, Kd, k)
        WN = xp.concat([WN[0], WN[1]], axis=1)  # [M⁻¹V_i | NV_i] with the pending steps
        if self.m:
            WN = WN + self._pending(rows, i, L)
        G = _factor_t(rows, i, L, WN)  # [V_iᵀM⁻¹V_i | V_iᵀNV_i]
        # I ± G_i is SPD: eigenvalues >= 1 forward, in (0, 1] backward (M ⪰ λI + V_iV_iᵀ).
        C = _cholesky_inverse_factor(_eye(k, G, xp) + sign * G[:, :k], xp)
        Phi = C.mT @ G[:, k:] @ C  # W̃ᵀFW̃ = Cᵀ V_iᵀ N V_i C
        Wt = WN[:, :k] @ C
        step = xp.concat([Wt, Wt @ (0.5 * Phi) - sign * (WN[:, k:] @ C)], axis=1)  # [W̃ | Ẑ]
        m = self.m
        self.QP[:, 2 * m : 2 * (m + k)] = step
        self.sig[m : m + k] = sign
        self.m = m + k
        return step if self.basis is None else _class_map(step, self.basis, xp)

    def _pending(self, rows, i, L):
        """``[−QσQᵀV_i | (QPᵀ + PQᵀ)V_i]`` of the pending steps: one thin product each way.

        With the steps' columns side by side in ``QP``, ``QPᵀV_i`` gives
        ``W̃_sᵀV_i`` and ``Ẑ_sᵀV_i`` together; the corrections are ``QP`` times
        their rearrangement (the pair swapped for ``N``).
        """
        xp, m = self.xp, self.m
        k = L.shape[1]
        QP = self.QP[:, : 2 * m]
        T = xp.reshape(_factor_t(rows, i, L, QP).mT, (m // k, 2, k, k))  # (step, W̃/Ẑ, column, ·)
        sig = xp.reshape(self.sig[:m], (m // k, 1, k, 1))
        coef_w = xp.reshape(xp.concat([-sig * T[:, :1], xp.zeros_like(T[:, :1])], axis=1), (-1, k))
        coef_n = xp.reshape(xp.flip(T, axis=1), (-1, k))
        return QP @ xp.concat([coef_w, coef_n], axis=1)

    def fold(self, workers):
        """``D ← D − Q diag(σ) Qᵀ``, ``N_D ← N_D + QPᵀ + PQᵀ``, in row blocks on the threads.

        GEMMs on one BLAS thread each: ``syrk``/``syr2k`` on two BLAS threads
        took 1.7 ms against 5-6 ms for these blocks (D = 576), but OpenBLAS's
        threads then spin, and the whole selection ran 6-15 % slower.
        """
        m = self.m
        if not m:
            return
        xp, DN = self.xp, self.DN
        steps = xp.reshape(self.QP[:, : 2 * m], (self.D, m // self.k, 2, self.k))
        Q = xp.reshape(steps[:, :, 0, :], (self.D, m))
        P = xp.reshape(steps[:, :, 1, :], (self.D, m))
        left = xp.concat([-(Q * self.sig[:m]), Q, P], axis=1)  # (D, 3m)
        right = xp.concat([Q, P, Q], axis=1).mT  # (3m, D)
        _symmetric_products(DN, [left[:, :m], left[:, m:]], [right[:m], right[m:]], workers, xp)
        self.m = 0


def _class_map(Y, B, xp):
    """``(B ⊗ I_d) Y`` for a k·d × m ``Y`` and a K × k ``B``: K·d × m."""
    return xp.reshape(B @ xp.reshape(Y, (B.shape[1], -1)), (-1, Y.shape[1]))


def _factor_t(rows, i, L, Y):
    """``V_iᵀ Y`` for a K·d × k ``Y`` (K: ``L``'s rows): ``Lᵀ (h_i`` against Y's K blocks)."""
    xp = rows.xp
    blocks = rows.H[i, :] @ xp.reshape(Y, (L.shape[0], rows.d, Y.shape[1]))  # (K, k)
    return L.mT @ blocks


def _matvec(A, x, workers):
    """``A @ x`` for a tall C-contiguous ``A``: compiled row loops on the threads (numpy).

    Falls back to :func:`_matmul` with a vector (a ``(·, 1)`` matrix ran as a
    slow GEMM) on other backends or without the loops.
    """
    loops = _compiled.row_loops() if isinstance(A, np.ndarray) else None
    if loops is None or A.dtype not in (np.float32, np.float64) or not A.flags.c_contiguous:
        return _matmul(A, x, workers)
    out = np.empty(A.shape[0], dtype=A.dtype)
    x = np.ascontiguousarray(x, dtype=A.dtype)
    # Below ~16 MB a hand-off to the threads costs more than it saves (measured).
    parts = 1 if workers is None or A.nbytes < 2**24 else 2 * workers.n
    blocks = list(_chunks(A.shape[0], 8 * A.shape[1], -(-A.shape[0] // parts)))
    Workers.run(workers, lambda sl: loops.row_dots(A, x, out, sl.start, sl.stop), blocks)
    return out


def _matmul(A, B, workers, columns=False):
    """``A @ B`` on the worker threads (numpy): in row blocks of ``A``, or column blocks of ``B``.

    ``columns=True`` suits a wide ``B`` with few rows in ``A``, as in ``(Yᵀ F)``.
    """
    if workers is None or workers.n < 2:
        return A @ B
    n = B.shape[1] if columns else A.shape[0]
    size = max(64, -(-n // (4 * workers.n)))
    if columns:
        blocks = [slice(s, s + size) for s in range(0, n, size)]
        return np.concatenate(Workers.run(workers, lambda cs: A @ B[:, cs], blocks), axis=1)
    blocks = list(_chunks(n, 8 * A.shape[1], size))
    return np.concatenate(Workers.run(workers, lambda rs: A[rs, :] @ B, blocks), axis=0)


class _LowRankMetric:
    """``M⁻¹ = λ⁻¹I − Σ_j s_j w_j w_jᵀ``, never a Kd × Kd matrix (wide inputs).

    ``M₀ = λI + 𝒱𝒱ᵀ`` (the labelled rows' factors) has rank at most L·K, so
    ``M₀⁻¹ = λ⁻¹I − 𝒲𝒲ᵀ`` with ``𝒲 = 𝒱 Lₖ⁻ᵀ / √λ``, ``Lₖ Lₖᵀ = λI + 𝒱ᵀ𝒱``;
    each pick (sign +1) or removal (sign −1) appends its K Woodbury columns.
    ``F = (1/N) Σ_x V_x V_xᵀ`` is applied through the rows' factors: block
    ``(a, b)`` of ``Σ_x V_x V_xᵀ`` is ``Hᵀ diag(S[:, a, b]) H``.
    """

    def __init__(self, lam, W0, capacity, fisher_rows, n_total, xp):
        D = W0.shape[0]
        self.xp, self.lam, self.r = xp, lam, W0.shape[1]
        self.W = xp.zeros((D, capacity), dtype=W0.dtype, **_device_kw(W0))
        self.W[:, : self.r] = W0
        self.sig = xp.ones((capacity,), dtype=W0.dtype, **_device_kw(W0))
        self.fisher_rows, self.n_total = fisher_rows, n_total

    def copy(self):
        xp = self.xp
        new = _LowRankMetric(self.lam, self.W[:, : self.r], self.W.shape[1], self.fisher_rows,
                             self.n_total, xp)  # fmt: skip
        new.sig[: self.r] = self.sig[: self.r]
        return new

    def apply(self, Y):
        """``M⁻¹ Y``: O(Kd · r) per column."""
        W, s = self.W[:, : self.r], self.sig[: self.r]
        return Y / self.lam - W @ (s[:, None] * (W.mT @ Y))

    def factor(self, rows, i, workers):
        return self.apply(rows.dense_factors([i]))

    def fisher(self, Y, workers):
        if self.fisher_rows is None:
            return Y
        total = functools.reduce(
            lambda a, b: a + b, [rows.apply_fisher(Y, workers) for rows in self.fisher_rows]
        )
        return total / self.n_total

    def step(self, rows, i, sign, workers):
        """Add (sign +1) or remove (−1) row ``i``'s Fisher: see :func:`_step_directions`."""
        xp = self.xp
        W, L = self.factor(rows, i, workers), rows.factor(i)
        Ui = _factor_t(rows, i, L, W)
        # I ± G_i is SPD: eigenvalues >= 1 forward, in (0, 1] backward (M ⪰ λI + V_iV_iᵀ).
        Wt = W @ _cholesky_inverse_factor(_eye(W.shape[1], Ui, xp) + sign * Ui, xp)
        FW = self.fisher(Wt, workers)
        Z = self.update(FW, Wt, sign, workers)
        return xp.concat([Wt, Wt @ (0.5 * (Wt.mT @ FW)) - sign * Z], axis=1)

    def update(self, FW, W, sign, workers):
        Z = self.apply(FW)
        k = W.shape[1]
        self.W[:, self.r : self.r + k] = W
        self.sig[self.r : self.r + k] = sign
        self.r += k
        return Z

    def fisher_hat(self, rows, sl):
        """``(1/N) Σ_y (h_x·h_y)² S_y`` (K×K) for the rows in ``sl``: Gram products, no d²."""
        xp, K = self.xp, rows.K
        Hs = rows.H[sl, :]
        out = xp.zeros((Hs.shape[0], K * K), dtype=Hs.dtype, **_device_kw(Hs))
        for other in self.fisher_rows:
            for ys in row_chunks(other.n, 8 * 2 * Hs.shape[0]):
                gram = Hs @ other.H[ys, :].mT
                out += (gram * gram) @ other.class_weights(ys)
        return xp.reshape(out / self.n_total, (-1, K, K))

    def initial_state(self, rows, workers):
        """Forward state ``[−G_x ; R_x/2]`` from ``M₀⁻¹ = λ⁻¹I − 𝒲𝒲ᵀ`` and factored ``F``.

        ``G = λ⁻¹V_xᵀV_x − U Uᵀ`` and, with ``Y_x = M⁻¹V_x = V_x/λ − 𝒲Uᵀ``,
        ``R = Y_xᵀFY_x = V_xᵀFV_x/λ² − (A + Aᵀ)/λ + U(𝒲ᵀF𝒲)Uᵀ``, where
        ``U = V_xᵀ𝒲``, ``A = V_xᵀF𝒲 Uᵀ``.
        """
        xp, K, lam, r = self.xp, rows.rank, self.lam, self.r
        S = _empty_state(rows.n, K, rows.H, xp)
        W = self.W[:, :r]
        FW = self.fisher(W, workers) if r else None
        Phi = W.mT @ FW if r else None
        Yr = rows.hat_matrix(xp.concat([W, FW], axis=1)) if r else None
        eye = _eye(K, rows.H, xp)

        def fill(sl):
            Hs = rows.H[sl, :]
            m = Hs.shape[0]
            LtL = rows.left(rows.right(xp.broadcast_to(eye, (m, K, K)), sl), sl, scale=1.0)
            VV = (rows.scale**2 * xp.vecdot(Hs, Hs))[:, None, None] * LtL  # V_xᵀV_x (rank²)
            if self.fisher_rows is None:
                VFV = VV
            else:
                VFV = rows.sandwich(self.fisher_hat(rows, sl), sl)
            g, rr = VV / lam, VFV / lam**2
            if r:
                UU = rows.project(Yr, sl)
                U, UF = UU[:, :, :r], UU[:, :, r:]
                A = UF @ U.mT
                g = g - U @ U.mT
                rr = (
                    rr
                    - (A + A.mT) / lam
                    + xp.reshape(xp.reshape(U, (-1, r)) @ Phi, (m, K, r)) @ U.mT
                )
            S[sl, :K, :], S[sl, K:, :] = -g, 0.5 * rr

        Workers.run(workers, fill, list(_chunks(rows.n, 8 * 4 * K * max(r, K), 512)))
        return S


class _State:
    """A metric (``M⁻¹`` and ``F``) and every candidate's ``G_x``, ``R_x`` and score.

    ``sign=+1`` (forward): a row's score is the drop ``tr((I + G_x)⁻¹R_x)`` of
    ``tr(M⁻¹F)`` if it were added. ``sign=-1`` (backward): the rows are in ``M``
    and the score ``tr((I − G_x)⁻¹R_x)`` is the rise if it were removed.

    Both k×k matrices (k = ``rows.rank``: K, or K − 1 for reduced rows) live
    in one (n, 2k, k) array ``S = [−sign·G_x ; R½_x]`` with
    ``R_x = R½_x + R½_xᵀ``: a step's update of both is then one batched
    product ``[Ũ ; Ẽ] Ũᵀ`` added to ``S``, instead of four passes over the
    pool's state (each pass over small k×k matrices costs about as much in
    numpy as the step's whole GEMM does per row).
    """

    def __init__(self, rows, metric, sign, workers, S=None):
        self.rows, self.xp, self.metric, self.sign = rows, rows.xp, metric, sign
        self.workers = workers
        if S is None:
            S = metric.initial_state(rows, workers)  # a forward (sign +1) state
        self.loops = _loops_for(S, rows.rank, rows.xp)
        # Forward passes with k > 1 keep cheap bounds on every gain, so that
        # exact k×k solves are only needed where a row could be the best. The
        # compiled loops solve every row's system for less than numpy's bounds.
        self.bounded = sign > 0 and rows.rank > 1 and self.loops is None
        xp, dev = self.xp, _device_kw(S)
        self.gains = xp.empty((S.shape[0],), dtype=S.dtype, **dev)
        if self.bounded:
            self.lower, self.upper = xp.empty_like(self.gains), xp.empty_like(self.gains)
        self._scratch = threading.local()
        self.share = None  # a CpuShare measuring the first passes, if set
        self._set_state(S)

    def _set_state(self, S):
        """Keep ``S``; for the compiled loops, backed by a rows-last (2K, K, n) array.

        ``self.S`` is always the (n, 2K, K) view; ``self.S_last`` the
        rows-last array itself (None without the loops).
        """
        self.S_last = None
        if self.loops is not None:
            self.S_last = np.ascontiguousarray(np.moveaxis(S, 0, -1))
            S = np.moveaxis(self.S_last, -1, 0)
        self.S = S

    def score(self):
        """Score every row (bounds only, in a bounded forward pass), chunk by chunk."""
        Workers.run(self.workers, self._score, self.rows.chunks())

    def _score(self, sl):
        if self.loops is not None:
            self.loops.solve_rows(self.S_last, *sl.indices(self.rows.n)[:2], self.gains)
        elif self.bounded:
            self.lower[sl], self.upper[sl] = _half_bounds(self.S[sl, :, :], self.rows.rank, self.xp)
        else:
            k = self.rows.rank
            self.gains[sl] = _state_trace_solve(self.S[sl, :, :], k, self.sign, self.xp)

    def exact(self, idx):
        """Exact scores of the rows ``idx``, in cache-sized chunks on the workers."""
        xp, K = self.xp, self.rows.rank
        S = xp.take(self.S, idx, axis=0)
        out = xp.empty((S.shape[0],), dtype=S.dtype, **_device_kw(S))

        def chunk(sl):
            out[sl] = _state_trace_solve(S[sl, :, :], K, self.sign, xp)

        size = self.rows.cache_rows
        Workers.run(self.workers, chunk, [slice(s, s + size) for s in range(0, S.shape[0], size)])
        return out

    def best_gain(self, taken):
        """The row not ``taken`` with the largest gain, lowest index on exact ties.

        In a bounded pass, exact gains are computed only for rows whose upper
        bound reaches a threshold that no best row can be below: the largest
        lower bound, or the largest exact gain of the few rows with the highest
        upper bounds (less a 1e-9 relative margin for round-off, 1e-3 in
        float32). Every row that
        could attain or tie the maximum is among them. Round-off in the
        updated ``G_x`` (ill-conditioned Fishers: a confident model on large
        features) can lift a lower bound above its exact gain, and above every
        upper bound; then the threshold falls back to the best exact gain found
        (the probed rows always among the candidates), so the pick relies on
        the upper bounds alone.
        """
        xp = self.xp
        if not self.bounded:
            i, value, _ = self._pick(None, xp.where(taken, -xp.inf, self.gains))
            return _finite_pick(i, value)
        upper = xp.where(taken, -xp.inf, self.upper)
        probe = _top_indices(upper, 8, xp)
        probed = xp.where(xp.take(taken, probe), -xp.inf, self.exact(probe))
        top = xp.maximum(xp.max(xp.where(taken, -xp.inf, self.lower)), xp.max(probed))
        idx, gains = self._candidates(taken, upper, probe, top)
        # The threshold is sound if an exact gain reaches it; checked in the
        # same host read as the pick.
        best = xp.max(gains)
        sound = best >= top - 10 * _slack(top, xp) * xp.abs(top)
        i, value, ok = self._pick(idx, gains, sound)
        if not ok:
            i, value, _ = self._pick(*self._candidates(taken, upper, probe, best))
        return _finite_pick(i, value)

    def _candidates(self, taken, upper, probe, threshold):
        """Free rows whose upper bound reaches ``threshold``, and the probed rows; exact gains.

        The probed rows stay candidates, as round-off can leave an exact gain
        above its own upper bound too.
        """
        xp = self.xp
        keep = upper >= threshold - 10 * _slack(threshold, xp) * xp.abs(threshold)
        keep[probe] = True
        idx = xp.nonzero(keep & ~taken)[0]
        return idx, self.exact(idx)

    def _pick(self, idx, gains, flag=None):
        """``(row, gain, flag)`` for the first largest of ``gains`` (row ``idx[j]``, or ``j``).

        One host read for all three on a device (``flag`` is a device boolean,
        or None); numpy reads them directly (stacking them cost more than the
        argmax). No candidate gives a NaN gain.
        """
        xp = self.xp
        if gains.shape[0] == 0:
            idx = xp.zeros((1,), dtype=xp.int64, **_device_kw(self.S))
            gains = xp.full((1,), xp.nan, dtype=self.S.dtype, **_device_kw(self.S))
        j = xp.argmax(gains)
        row = j if idx is None else idx[j]
        if xp is np:
            return int(row), float(gains[j]), None if flag is None else bool(flag)
        extra = [] if flag is None else [xp.astype(flag, xp.float64)]
        read = _to_host(
            xp.stack([xp.astype(row, xp.float64), xp.astype(gains[j], xp.float64), *extra])
        )
        return int(read[0]), read[1], bool(read[2]) if extra else None

    def commit(self, i, drop=False, score=True):
        """Add (forward) or remove (backward) row ``i``'s Fisher from ``M``.

        Woodbury with ``W = M⁻¹V_i`` and ``C = (±I + V_iᵀW)⁻¹ = ±Lc Lcᵀ``:
        ``M⁻¹ ← M⁻¹ − W C Wᵀ`` and, for every row, with ``Ũ = V_xᵀW Lc``,
        ``T̃ = V_xᵀM⁻¹FW Lc`` and ``Q̃ = Lcᵀ WᵀFW Lc``: ``G ← G ∓ ŨŨᵀ`` and
        ``R ← R + ẼŨᵀ + ŨẼᵀ`` with ``Ẽ = ŨQ̃/2 ∓ T̃``. ``drop`` removes row ``i``
        from the candidates first; ``score`` rescores every row.
        """
        Yr = _step_directions(self.metric, self.rows, i, self.sign, self.workers)
        if drop:
            self._drop(i)
        self.apply(Yr, score)

    def apply(self, Yr, score=True):
        """Every row's ``G``, ``R`` after a commit whose :func:`_step_directions` are ``Yr``."""
        if self.loops is not None:
            # The compiled loops read the step's GEMM rows-last: Yrᵀ Hᵀ.
            Yr = np.ascontiguousarray(Yr.T)
        chunks = self.rows.chunks()

        def run():
            Workers.run(self.workers, lambda sl: self._update(sl, Yr, score), chunks)

        if self.share is None:
            run()
        else:  # the first greedy steps' passes decide the threads (see CpuShare)
            self.share.measure(run)

    def _buffer(self, name, shape):
        """A per-thread numpy work array of at least ``shape`` (None for other backends).

        Reused across steps: a fresh pool-chunk-sized temporary per step costs
        page faults and allocator time comparable to the arithmetic.
        """
        if self.xp is not np:
            return None
        bufs = self._scratch.__dict__
        buf = bufs.get(name)
        if buf is None or buf.shape[0] < shape[0] or buf.shape[1:] != shape[1:]:
            buf = bufs[name] = np.empty(shape, dtype=self.S.dtype)
        return buf[: shape[0]]

    def _update(self, sl, Yr, score):
        xp, rows, k = self.xp, self.rows, self.rows.rank
        Hs = rows.H[sl, :]
        m = Hs.shape[0]
        if self.loops is not None:
            return self._update_compiled(sl, Hs, Yr, score)
        Y = _matmul_into(Hs, Yr, self._buffer("proj", (m, Yr.shape[1])), xp)
        Y = rows.left(xp.reshape(Y, (m, 2, k, Yr.shape[1] // (2 * k))), sl)
        # [ŨŨᵀ ; ẼŨᵀ] in one batched product, added to [−sign·G ; R½] in place.
        outer = self._buffer("outer", (m, 2 * k, k))
        X = _matmul_into(xp.reshape(Y, (m, 2 * k, -1)), Y[:, 0, :, :].mT, outer, xp)
        S = self.S[sl, :, :]
        S += X
        if score:
            self._score(sl)

    def _update_compiled(self, sl, Hs, Yr_t, score):
        """:meth:`_update` by the compiled loops: the GEMM rows-last, then one pass."""
        m, width = Hs.shape[0], Yr_t.shape[0]
        Y = self._buffer("proj_t", (m * width,)).reshape(width, m)
        np.matmul(Yr_t, Hs.T, out=Y)
        P, w, beta = self.rows.rows_last
        lo, hi, _ = sl.indices(self.rows.n)
        k = width // (2 * self.rows.rank)  # Woodbury columns of the step
        self.loops.update_rows(Y, P, w, beta, self.S_last, lo, hi, self.gains, score, k)

    def _drop(self, i):
        xp = self.xp
        rest = _index([k for k in range(self.rows.n) if k != i], xp, self.S)
        self.rows = self.rows.take(rest)
        self._set_state(xp.take(self.S, rest, axis=0))
        self.gains = xp.take(self.gains, rest, axis=0)

    def restrict(self, picks):
        """The picked rows only, scored for removal (the backward pass)."""
        xp, k = self.xp, self.rows.rank
        idx = _index(picks, xp, self.S)
        S = xp.take(self.S, idx, axis=0)
        # The backward state holds +G where the forward one held −G.
        S[:, :k, :] *= -1.0
        # The metric is updated in place from here on.
        return _State(self.rows.take(idx), self.metric.copy(), -1.0, self.workers, S)


def _empty_state(n, K, like, xp):
    """Room for ``n`` rows' ``[−sign·G ; R½]`` blocks of size K (the rows' rank; :class:`_State`).

    Rows-last underneath when the compiled loops will run on it, so that
    :class:`_State` takes it without a copy.
    """
    if _loops_for(like, K, xp) is not None:
        return np.moveaxis(np.empty((2 * K, K, n), dtype=like.dtype), -1, 0)
    return xp.empty((n, 2 * K, K), dtype=like.dtype, **_device_kw(like))


def _loops_for(like, K, xp):
    """The compiled loops for a rank-K state like ``like`` (numpy float, K > 1), else None."""
    if xp is np and K > 1 and like.dtype in (np.float32, np.float64):
        return _compiled.kernels()
    return None


def _matmul_into(A, B, out, xp):
    """``A @ B``, written into ``out`` when given (numpy work buffers)."""
    if out is None or B.shape[-2] == 1:
        return _mm(A, B)
    return np.matmul(A, B, out=out)


def _half_bounds(S, K, xp):
    """Bounds on the gain ``tr((I + G)⁻¹R)`` of forward rows ``S = [−G ; R½]``, O(K³) per row.

    In G's eigenbasis the gain is ``Σ w_i f(g_i)``, ``f(g) = 1/(1+g)``, with
    ``w_i >= 0``, ``g_i >= 0`` and moments ``m0 = Σ w_i = tr R``,
    ``m1 = Σ w_i g_i = tr(GR)``, ``m2 = Σ w_i g_i² = tr(G²R)``. As f is convex,
    Jensen gives ``m0² / (m0 + m1)`` from below. As f's third derivative is
    negative, the quadratic through ``f(0)`` that touches f at ``t`` lies above
    f on ``g >= 0``; its weighted sum, least at ``t = m2/m1``, is the upper
    bound ``m0 − m1² / (m1 + m2)``. Both are exact when R lives on one
    eigenvalue of G. The upper bound carries a ``1e-10 · tr R`` slack for
    round-off in G and R (``1e-4 · tr R`` in float32).

    The moments come from the block directly: ``tr R = 2 tr R½`` and, for
    symmetric ``A``, ``tr(A R) = 2 Σ A ∘ R½``; no symmetric ``R`` is formed.
    """
    m = S.shape[0]
    negG, half = S[:, :K, :], S[:, K:, :]
    flat = xp.reshape(half, (m, K * K))
    m0 = 2.0 * xp.sum(flat[:, :: K + 1], axis=1)
    m1 = -2.0 * xp.vecdot(xp.reshape(negG, (m, K * K)), flat)
    m2 = 2.0 * xp.vecdot(xp.reshape(negG @ negG, (m, K * K)), flat)
    zero, one = xp.zeros_like(m0), xp.ones_like(m0)
    lower = xp.where(m0 + m1 > 0, m0 * m0 / xp.where(m0 + m1 > 0, m0 + m1, one), zero)
    drop = xp.where(m1 + m2 > 0, m1 * m1 / xp.where(m1 + m2 > 0, m1 + m2, one), zero)
    return lower, m0 - drop + _slack(m0, xp) * xp.abs(m0)


def _step_directions(metric, rows, i, sign, workers):
    """Update ``metric`` for adding (``sign=1``) or removing row ``i`` of ``rows``.

    Returns ``Yr``, the rearranged ``[W̃ | Ẑ]`` (see :meth:`_State.commit`) from
    which :meth:`_State.apply` updates every row. It needs row ``i`` only, so
    the Dask driver calls it with the pick's row alone and sends ``Yr`` out.
    """
    # Ẽ = V_xᵀẐ: one projection gives Ũ and Ẽ together.
    return rows.step_matrix(metric.step(rows, i, sign, workers))


def _top_indices(x, k, xp):
    """Indices of (up to) the ``k`` largest entries of ``x``, in no particular order."""
    k = min(k, x.shape[0])
    if xp is np:
        return np.argpartition(-x, k - 1)[:k]
    return xp.argsort(x, descending=True)[:k]


def _finite_pick(row, gain):
    """``row``, once its gain is known to be finite."""
    if not math.isfinite(gain):
        raise NumericalRangeError(
            "BAIT gains became non-finite; rescale the embeddings or increase 'lam'."
        )
    return row


def _to_host(x):
    """A small device array as a list of Python floats: one transfer."""
    return x.tolist()


def _forward(state, n_steps, progress):
    """Greedy picks of the largest drop in ``tr(M⁻¹F)``; lowest index on exact ties."""
    xp = state.xp
    taken = xp.zeros((state.rows.n,), dtype=xp.bool, **_device_kw(state.S))
    picks = []
    state.score()
    for step in range(n_steps):
        i = state.best_gain(taken)
        picks.append(i)
        taken[i] = True
        state.commit(i, score=step + 1 < n_steps)
        progress.update()
    return picks


def _backward(state, picks, n_keep, progress):
    """Remove, one at a time, the pick whose removal raises ``tr(M⁻¹F)`` least.

    The first in pick order wins exact ties; survivors keep their pick order.
    """
    if len(picks) <= n_keep:
        return list(picks)
    state = state.restrict(picks)
    kept = list(picks)
    state.score()
    for _ in range(len(kept) - n_keep):  # one removal per pass: a bounded loop
        j = int(state.xp.argmin(state.gains))
        state.commit(j, drop=True, score=len(kept) - 1 > n_keep)
        kept.pop(j)
        progress.update()
    return kept


def _low_rank_capacity(K, n_lab, n_steps, n_select):
    """Woodbury columns the low-rank ``M⁻¹`` can need: labelled, picks and removals."""
    return K * (n_lab + n_steps + max(n_steps - n_select, 0))


def _use_low_rank(D, capacity):
    """Whether ``M⁻¹`` is kept as ``λ⁻¹I`` minus low-rank terms instead of dense.

    Dense costs O(D²) memory, O(D³) to start and O(D²K) per step; the
    low-rank form O(D·r) memory and O(D·r·K) per step plus passes over the
    rows to apply ``F``. It pays when the rank stays well below D and D is
    wide (a linear model on raw pixels: D = 7,850 for MNIST).
    """
    return D >= 2048 and 2 * capacity <= D


def _dense_metric(pool, lab, n_select, lam, fisher, workers):
    """``M₀⁻¹`` and ``F`` (``None`` for the identity) as the reference defines them.

    ``F`` is the mean Fisher over all rows, labelled and pool;
    ``M₀ = λI + Σ_labelled I(x) / (L + B)``.
    """
    xp = pool.xp
    n_lab = 0 if lab is None else lab.n
    basis = _class_basis(pool, lab)

    def coordinates(A):  # Tᵀ A T in the class basis, as _DenseMetric holds M⁻¹ and F
        return A if basis is None else _class_congruence(A, basis, pool.d, xp)

    eye = _eye((pool.K if basis is None else pool.K - 1) * pool.d, pool.H, xp)
    lab_sum = lab.fisher_sum(workers) if n_lab else None
    if lab_sum is None:
        Minv = eye / lam
    else:
        Minv = _spd_inverse(lam * eye + coordinates(lab_sum) / (n_lab + n_select), workers, xp)
    if fisher == "identity":
        return _DenseMetric(Minv, None, xp, basis)
    total = pool.fisher_sum(workers) if lab_sum is None else pool.fisher_sum(workers) + lab_sum
    return _DenseMetric(Minv, coordinates(total) / (pool.n + n_lab), xp, basis)


def _class_basis(pool, lab):
    """``B`` (K × (K − 1)), an orthonormal basis of ``1``'s complement, if every factor is in it.

    With reduced pool rows (``1ᵀL_x = 0``) whose labelled rows' probabilities
    sum to one too, every ``V_x`` (and ``F``) lies in ``range(B ⊗ I)``, and
    the dense metric can work there: (K − 1)d instead of Kd (see
    :class:`_DenseMetric`). ``None`` otherwise. ``B``: the first K − 1 columns
    of the Householder reflection taking ``e_K`` to ``−1/√K``.
    """
    if not pool.reduced or (lab is not None and lab.n and not sums_to_one(lab.P, lab.xp)):
        return None
    xp, K = pool.xp, pool.K
    u = xp.full((K,), 1.0 / math.sqrt(K), dtype=pool.H.dtype, **_device_kw(pool.H))
    return _complement_basis(u, xp)


def _complement_basis(u, xp, beta=None):
    """An orthonormal basis (K × (K − 1)) of a unit vector ``u``'s complement.

    The first K − 1 columns of the Householder reflection ``I − βvvᵀ``,
    ``v = u + e_K``, which takes ``e_K`` to ``−u``; ``β = 2 / vᵀv`` unless
    given (``vᵀv = 2 + 2u_K >= 2``: no cancellation).
    """
    K = u.shape[0]
    eye = _eye(K, u, xp)
    v = u + eye[K - 1, :]
    if beta is None:
        beta = 2.0 / xp.sum(v * v)
    return eye[:, : K - 1] - beta * (v[:, None] * v[None, : K - 1])


def _class_congruence(A, B, d, xp):
    """``(B ⊗ I_d)ᵀ A (B ⊗ I_d)`` for a (K·d)² ``A`` and a K × k ``B``: both class axes mixed.

    With ``B`` transposed (k × K), the reverse: ``(Bᵀ ⊗ I)ᵀ A (Bᵀ ⊗ I)``.
    """
    K, k = B.shape
    Y = xp.reshape(B.mT @ xp.reshape(A, (K, -1)), (k, d, K, d))  # (b, j, c, l)
    Y = xp.permute_dims(Y, (0, 1, 3, 2)) @ B  # (b, j, l, b')
    return xp.reshape(xp.permute_dims(Y, (0, 1, 3, 2)), (k * d, k * d))


def _spd_inverse(A, workers, xp):
    """``A⁻¹`` (symmetric) of an SPD ``A`` whose eigenvalues are all >= λ > 0.

    numpy: Cholesky (LAPACK ``potrf``/``potri``, half the flops of an LU
    inverse) with BLAS on the workers' threads, as nothing else runs then
    (0.16-0.22 → 0.08 s at Kd = 1280 on 2 threads). Other backends: their inverse.
    """
    if xp is not np or A.dtype not in (np.float32, np.float64):
        Ainv = xp.linalg.inv(A)
        return 0.5 * (Ainv + Ainv.mT)
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (A,))
    with blas_threads(1 if workers is None else workers.n):
        # LAPACK's lower triangle (column-major) is the upper one of the C-ordered transpose.
        c, info = potrf(A, lower=True)
        if info == 0:
            c, info = potri(c, lower=True, overwrite_c=True)
    if info != 0:  # not reached for λ > 0: a plain inverse as the fallback
        Ainv = np.linalg.inv(A)
        return 0.5 * (Ainv + Ainv.T)
    Ainv = np.ascontiguousarray(c.T)  # a view when LAPACK's array is column-major
    _mirror_upper(Ainv[None], workers, np)
    return Ainv


def _symmetric_products(out, lefts, rights, workers, xp, add=True):
    """``out[t] += lefts[t] @ rights[t]`` (``=`` unless ``add``) for symmetric products.

    Each row block of 128 computes its part from the diagonal on (half the
    flops), on the workers; then :func:`_mirror_upper` fills the lower
    triangles. ``out``: a stack of (D, D) matrices.
    """

    def upper(rs):
        for t, (left, right) in enumerate(zip(lefts, rights, strict=True)):
            block = left[rs, :] @ right[:, rs.start :]
            if add:
                out[t, rs, rs.start :] += block
            else:
                out[t, rs, rs.start :] = block

    D = out.shape[-1]
    Workers.run(workers, upper, list(_chunks(D, 8 * D, 128)))
    _mirror_upper(out, workers, xp)


def _mirror_upper(A, workers, xp):
    """Copy the upper triangle of each (D, D) matrix of a stack ``A`` onto its lower one, in place.

    Compiled tiled copies in row blocks on the workers (numpy; 19 ms at
    D = 1280 for ``np.triu(A) + np.triu(A, 1).T``, ~1 ms for the tiles), else
    that sum.
    """
    loops = _compiled.row_loops() if isinstance(A, np.ndarray) else None
    if loops is None or not A.flags.c_contiguous:
        A[...] = xp.triu(A) + xp.permute_dims(xp.triu(A, k=1), (0, 2, 1))
        return
    D = A.shape[-1]
    items = [(a, s) for a in range(A.shape[0]) for s in range(0, D, 128)]
    Workers.run(workers, lambda it: loops.mirror_upper(A[it[0]], it[1], min(it[1] + 128, D)), items)


def _low_rank_metric(pool, lab, n_select, lam, fisher, capacity, unscaled):
    """The same ``M₀⁻¹`` and ``F`` as :func:`_dense_metric`, in low-rank form."""
    xp, K = pool.xp, pool.K
    n_lab = 0 if lab is None else lab.n
    W0 = xp.zeros((K * pool.d, 0), dtype=pool.H.dtype, **_device_kw(pool.H))
    if n_lab:
        V = lab.dense_factors(range(n_lab)) / math.sqrt(n_lab + n_select)
        core = lam * _eye(V.shape[1], V, xp) + V.mT @ V
        W0 = V @ _cholesky_inverse_factor(core, xp) / math.sqrt(lam)
    rows = None if fisher == "identity" else [unscaled] + ([lab] if n_lab else [])
    return _LowRankMetric(lam, W0, W0.shape[1] + capacity, rows, pool.n + n_lab, xp)


def sums_to_one(P, xp, eps=None):
    """Whether every row of ``P`` sums to one within 16·K ulps (a softmax's round-off).

    Then each row's Fisher factor has rank K − 1: its ``G_x``, ``R_x`` are
    (K − 1) × (K − 1) and a step needs K − 1 Woodbury columns (reduced
    :class:`_SoftmaxRows`). The rank-one part
    left out has weight ``|1 − Σp|``: at this tolerance, below the round-off of
    the gains themselves. ``eps``: the ulp to count in (default: ``P``'s
    dtype's); probabilities normalised in float32 and cast to float64
    (``Σp − 1 ≈ 1e-7``) sum to one in float32's, not float64's.
    """
    return _sum_error(P, xp) <= _sum_tolerance(P, xp, eps)


def _sum_error(P, xp):
    """``max |Σ_c p_c − 1|`` over the rows of ``P`` (0 for no rows), read to the host."""
    return float(xp.max(xp.abs(xp.sum(P, axis=1) - 1.0))) if P.shape[0] else 0.0


def _sum_tolerance(P, xp, eps=None):
    return 16 * P.shape[1] * (float(xp.finfo(P.dtype).eps) if eps is None else eps)


def compute_probabilities(P, dtype, xp):
    """``P`` in the compute ``dtype``, renormalised if it sums to one only to float32 round-off.

    A float32 network's probabilities sum to one only to about 1e-7, and reach
    the strategies already cast to float64: as they are, they would cost BAIT
    its rank K − 1 steps (:func:`sums_to_one`). Rows that sum to one within
    float32's tolerance, but not within the compute dtype's, are divided by
    their sum; probabilities that already sum to one in the compute dtype (a
    float64 model's) are left bit for bit, and so are ones that do not sum to
    one even in float32.
    """
    out = compute_dtype(P, dtype, xp)
    if P is None or P.shape[1] < 2:
        return out
    error = _sum_error(out, xp)  # one pass over P for both tolerances
    float32 = _sum_tolerance(out, xp, float(np.finfo(np.float32).eps))
    if _sum_tolerance(out, xp) < error <= float32:
        out = out / xp.sum(out, axis=1, keepdims=True)
    return out


# BAIT's gains are about (‖h‖²/λ)²: beyond 2**±240 for ‖h‖/√λ they leave float64.
_RATIO_EXP = 240


def _max_abs(X, xp):
    # max and -min: no temporary the size of X, as abs() would make.
    return max(float(xp.max(X)), -float(xp.min(X))) if X.shape[0] else 0.0


def _rescale(H, H_labeled, lam, xp, name="BAIT"):
    """``(H·2**-e, H_labeled·2**-e, λ·2**-2e)``: the same picks, no overflow on the way.

    Scaling every embedding by ``c`` and ``λ`` by ``c²`` scales ``M`` and
    ``F`` alike and leaves ``tr(M⁻¹F)`` unchanged (``tr(M⁻¹)`` changes by a
    constant factor), and a power of two is exact, so this changes no pick.
    What it cannot fix is the ratio ``‖h‖/√λ``: beyond ``2**±240`` the gains
    overflow or underflow whatever the units, and the honest answer is an
    error instead of a batch decided by inf, NaN or zeros.
    """
    e = pow2_exponent([H, H_labeled], xp)
    top = max(_max_abs(H, xp), 0.0 if H_labeled is None else _max_abs(H_labeled, xp))
    top = math.ldexp(top, -e)  # exact; in [0.5, 1) when e != 0
    if top > 0.0:
        log2_ratio = math.log2(top) + e - 0.5 * math.log2(lam)
        if abs(log2_ratio) > _RATIO_EXP:
            size = "large" if log2_ratio > 0 else "small"
            raise NumericalRangeError(
                f"{name}'s gains leave float64's range: the embeddings are too {size} next to "
                f"sqrt(lam) (max |H| / sqrt(lam) = 2**{log2_ratio:.0f}); rescale the "
                "embeddings or change 'lam'."
            )
    if not e:
        return H, H_labeled, lam
    return pow2_scale(H, e), pow2_scale(H_labeled, e), math.ldexp(lam, -2 * e)


def _bait_select(
    H,
    P,
    n_select,
    H_labeled,
    P_labeled,
    lam,
    oversample,
    fisher,
    xp,
    *,
    n_jobs=1,
    verbose=0,
    low_rank=None,
    reduced=None,
    adapt_threads=False,
):
    """BAIT picks; input assumed valid (see :func:`bait_select`).

    ``P=None`` means regression. ``n_jobs`` threads share the chunked passes
    (numpy); the picks never depend on it. ``adapt_threads``: fewer threads
    if the first greedy steps' passes get fewer CPUs (:class:`CpuShare`; the
    strategy's ``n_jobs=None``). ``low_rank`` forces the form of
    ``M⁻¹`` (``None``: :func:`_use_low_rank` decides); ``reduced`` the rank
    K − 1 steps of :class:`_SoftmaxRows` (``None``: :func:`sums_to_one` decides).
    """
    H, H_labeled, lam = _rescale(H, H_labeled, lam, xp)
    n_lab = 0 if H_labeled is None else H_labeled.shape[0]
    # Reference weighting: labelled rows enter M as a mean, picks as a sum,
    # M_S = λI + (Σ_labelled I(x) + B·Σ_S I(x)) / (L + B).
    scale = math.sqrt(n_select / (n_lab + n_select))
    if P is None:
        pool, unscaled = _LinearRows(H, scale, xp), _LinearRows(H, 1.0, xp)
        lab = _LinearRows(H_labeled, 1.0, xp) if n_lab else None
    else:
        reduced = sums_to_one(P, xp) if reduced is None else reduced
        pool = _SoftmaxRows(H, P, scale, xp, reduced)
        unscaled = _SoftmaxRows(H, P, 1.0, xp)
        lab = _SoftmaxRows(H_labeled, P_labeled, 1.0, xp) if n_lab else None
    n_steps = min(oversample * n_select, pool.n)
    capacity = _low_rank_capacity(pool.K, n_lab, n_steps, n_select)
    if low_rank is None:
        low_rank = _use_low_rank(pool.K * pool.d, capacity)
    progress = Progress(verbose, 2 * n_steps - n_select, "BAIT")
    with Workers(n_jobs, xp) as workers:
        if low_rank:
            metric = _low_rank_metric(pool, lab, n_select, lam, fisher, capacity, unscaled)
        else:
            metric = _dense_metric(pool, lab, n_select, lam, fisher, workers)
        state = _State(pool, metric, 1.0, workers)
        if adapt_threads and workers.n > 1:
            state.share = CpuShare(workers)
        picks = _forward(state, n_steps, progress)
        picks = _backward(state, picks, n_select, progress)
    progress.close()
    return picks


def _check_shapes(H, P, H_labeled, P_labeled, n_select, xp):
    """Raise if the validated arrays of :func:`bait_select` do not fit together."""
    n, d = H.shape
    check_n_select(n_select, n)
    if P is not None and P.shape[0] != n:
        raise ValueError(f"P has {P.shape[0]} rows but H has {n}; they should match.")
    # One reduction where P lives: no copy of a device array to the host.
    if P is not None and bool(xp.any(P < 0)):
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


@validate_params(
    {
        "H": ["array-like"],
        "P": ["array-like", None],
        "n_select": [Interval(numbers.Integral, 1, None, closed="left")],
        "H_labeled": ["array-like", None],
        "P_labeled": ["array-like", None],
        "lam": [Interval(numbers.Real, 0, None, closed="neither")],
        "oversample": [Interval(numbers.Integral, 1, None, closed="left")],
        "fisher": [StrOptions({"pool", "identity"})],
        "device": [DEVICE],
    },
    prefer_skip_nested_validation=True,
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
    ``tr G²R``); this changes no pick, ties included. When every row of ``P``
    sums to one (to 16·K ulps), each Fisher factor has rank K − 1: every
    row's state is (K − 1) × (K − 1) and a step works with K − 1 Woodbury
    columns and class blocks, with the same picks.

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
    _check_shapes(H, P, H_lab, P_lab, n_select, backend.xp)
    return _bait_select(
        H, P, int(n_select), H_lab, P_lab, float(lam), int(oversample), fisher, backend.xp
    )
