"""What runs on the Dask workers: model outputs and kernel state per partition.

Each partition of the pool becomes one *block*: the adapter runs on it once
(:func:`evaluate`), and a per-strategy block object keeps the kernel state
(running distances, D² sums) in the worker's memory for the whole query.
The block classes call the one-machine kernels' per-row functions, so the
arithmetic on a row is the same as in :mod:`skactive.kernels`; the blocks of
one worker live in one Dask actor (:class:`Shard`), which the driver calls
once per pick with O(K + d) numbers.
"""

import time

import numpy as np
from sklearn import config_context

from ..backends import resolve_backend
from ..kernels._common import abs_max, pow2_scale, sq_norms
from ..kernels._kcenter import _lower_to_centre, _min_sq_dist_to_set
from ..kernels._kmeanspp import _centred_sq_norms, _Distances, _gradient_factor
from ..kernels._parallel import compute_dtype
from ..kernels._uncertainty import top_k

_NUMPY = resolve_backend("numpy")


class Part:
    """One partition's row count and model outputs ``H`` (n, d), ``P`` (n, K) or None."""

    def __init__(self, n, H=None, P=None):
        self.n, self.H, self.P = n, H, P


def n_rows(part):
    return part.n


def _take_first_twice(block):
    """Row 0 repeated: a 2-row block, so BLAS takes its matrix-matrix path.

    OpenBLAS rounds a 1-row product (gemv) differently from the same row
    inside a larger product (gemm); evaluating a 1-row partition as two rows
    gives the row the numbers it has in the whole pool.
    """
    return block.iloc[[0, 0]] if hasattr(block, "iloc") else block[[0, 0]]


def evaluate(block, strategy, what):
    """Validate one partition and run the model on it, on the worker.

    ``what`` is ``"rows"`` (row count only), ``"outputs"`` (``H`` and, when
    the strategy uses them, ``P``) or ``"proba"`` (``P`` only).
    """
    n = int(block.shape[0])
    if n == 0:
        return Part(0)
    block = strategy._validate_pool(block)
    if what == "rows":
        return Part(n)
    X = _take_first_twice(block) if n == 1 else block
    if what == "proba":
        H, P = None, strategy._pool_proba(X, _NUMPY)[:n]
    else:
        H, P = strategy._outputs(X, _NUMPY)
        H, P = H[:n], None if P is None else P[:n]
    return Part(n, H, P)


def top_candidates(part, score, k):
    """The partition's ``k`` best rows by ``score(P)``, as (local indices ascending, scores).

    The global top ``k`` (lowest index on ties) lies in the union of every
    partition's top ``k``.
    """
    if part.n == 0:
        return part.n, np.empty(0, np.int64), np.empty(0)
    scores = score(part.P)
    idx = np.sort(np.asarray(top_k(scores, min(k, part.n)), dtype=np.int64))
    return part.n, idx, np.asarray(scores[idx], dtype=np.float64)


class CoreSetBlock:
    """Centred embeddings and running minimum squared distances of one partition (k-center).

    The calls follow :func:`~skactive.kernels._kcenter._kcenter_greedy` step by
    step: :meth:`top` and :meth:`scale` for the pool-wide power-of-two
    rescale, :meth:`centre` on the pool's row 0, then one :meth:`update` per
    pick.
    """

    def __init__(self, part, offset, dtype):
        self.offset, self.H = offset, compute_dtype(part.H, dtype, np)
        self.min_d2 = None

    def top(self):
        """Largest magnitude in this partition (the rescale exponent's share)."""
        return abs_max(self.H, np)

    def scale(self, e, with_norm):
        """Rescale by ``2**-e``; the first row and, if asked, the largest ``‖h‖²`` with its row."""
        self.H = pow2_scale(self.H, e)
        if not with_norm:
            return self.H[0].copy(), None
        norms = sq_norms(self.H, np)
        i = int(np.argmax(norms))
        return self.H[0].copy(), (float(norms[i]), self.offset + i)

    def centre(self, origin, L_c, tol):
        """Centre on the pool's ``origin``; with labelled rows ``L_c`` (centred), :meth:`best`."""
        # In place (the values of H - origin): a copy would double the worker's memory
        # while the partition's model outputs are still held.
        self.H -= origin
        self.tol = tol
        self.norms = sq_norms(self.H, np)
        if L_c is None:
            return None
        self.min_d2 = _min_sq_dist_to_set(self.H, self.norms, L_c, tol, np)
        return self.best()

    def row(self, pick):
        """Centred ``h`` and ``‖h‖²`` of global row ``pick``: a centre for every partition."""
        i = pick - self.offset
        return self.H[i].copy(), self.norms[i]

    def best(self):
        """(largest distance, its global row, that row's ``h`` and ``‖h‖²``); first on ties."""
        i = int(np.argmax(self.min_d2))
        return float(self.min_d2[i]), self.offset + i, self.H[i].copy(), self.norms[i]

    def update(self, h_c, c_norm, pick):
        self.min_d2 = _lower_to_centre(self.H, self.norms, h_c, c_norm, self.min_d2, self.tol, np)
        i = pick - self.offset
        if 0 <= i < self.min_d2.shape[0]:
            self.min_d2[i] = -1.0  # as in _add_centre: below every real distance
        return self.best()


class BADGEBlock:
    """Gradient factors and D² of one partition (k-means++ seeding).

    The calls follow :func:`~skactive.kernels._kmeanspp._kmeanspp_select`:
    :meth:`tops` and :meth:`scale` for the pool-wide rescale of ``A`` and
    ``H``, :meth:`spread` for the offset decision on the pool's row 0,
    :meth:`distances` to build the kernel's ``_Distances`` on this
    partition, then one :meth:`update` per pick.
    """

    def __init__(self, part, offset, dtype):
        self.offset, self.H = offset, compute_dtype(part.H, dtype, np)
        self.A = _gradient_factor(compute_dtype(part.P, dtype, np), np)
        self.d2 = self.cum = None

    def tops(self):
        return abs_max(self.A, np), abs_max(self.H, np)

    def scale(self, e_a, e_h):
        """Rescale ``A`` and ``H`` by powers of two; return the first ``h`` (the origin)."""
        self.A, self.H = pow2_scale(self.A, e_a), pow2_scale(self.H, e_h)
        return self.H[0].copy()

    def spread(self, origin):
        """Largest ``‖h − origin‖²`` here (kept for :meth:`distances`)."""
        self.hc_sq = _centred_sq_norms(self.H, origin, np)
        return float(np.max(self.hc_sq))

    def distances(self, origin, offset):
        """Build the kernel's distances; return (largest ``‖g‖²``, its global row)."""
        self.dist = _Distances(self.A, self.H, np, origin=origin, offset=offset, hc_sq=self.hc_sq)
        del self.hc_sq, self.A, self.H  # held by self.dist (H possibly centred)
        i = int(np.argmax(self.dist.norm_sq))
        return float(self.dist.norm_sq[i]), self.offset + i

    def row(self, pick):
        """What the other partitions need of centre ``pick`` (``_Distances.centre``)."""
        return tuple(_copy(v) for v in self.dist.centre(pick - self.offset))

    def update(self, centre, pick):
        """Lower D² by the new centre's distances; return this partition's ΣD²."""
        if self.d2 is None:
            self.d2 = self.dist.to_centre(*centre)
        else:
            self.d2 = self.dist.lower_to_centre(self.d2, *centre)
        i = pick - self.offset
        if 0 <= i < self.d2.shape[0]:
            self.d2[i] = 0.0
        self.cum = np.cumulative_sum(self.d2)
        return float(self.cum[-1])

    def locate(self, residual):
        """The inverse-CDF row for ``residual`` of this partition's ΣD², and its centre data.

        The first row whose cumulative D² reaches ``residual``; if rounding
        puts ``residual`` past the end, the last row with D² > 0.
        """
        i = int(np.searchsorted(self.cum, residual, side="left"))
        if i >= self.cum.shape[0]:
            i = int(np.flatnonzero(self.d2 > 0)[-1])
        return self.offset + i, self.row(self.offset + i)

    def first_positive(self):
        """Global row of the first D² > 0 here, or None (the bounded re-draw's fallback)."""
        nz = np.flatnonzero(self.d2 > 0)
        return None if nz.size == 0 else self.offset + int(nz[0])


def _copy(v):
    """A row view copied (not the whole array pickled with it); scalars as they are."""
    return v.copy() if isinstance(v, np.ndarray) else v


def slice_part(part, start, stop):
    """Rows ``start:stop`` of a partition's outputs (a neighbour's share of a chunk)."""
    P = None if part.P is None else part.P[start:stop].copy()
    return Part(stop - start, part.H[start:stop].copy(), P)


def _block_class(kind):
    if kind == "bait":
        from ._bait import BAITBlock  # imports the driver module: only when needed

        return BAITBlock
    return {"coreset": CoreSetBlock, "badge": BADGEBlock}[kind]


class Shard:
    """The blocks held by one worker, as a Dask actor: state stays in its memory.

    Methods return one result per block, in the order the blocks were given.
    """

    def __init__(self, parts, offsets, kind, params, extras=None, working_memory=None):
        # The client's working_memory bounds the kernels' chunks here too.
        self.config = {} if working_memory is None else {"working_memory": working_memory}
        cls = _block_class(kind)
        extras = [{} for _ in parts] if extras is None else extras
        with config_context(**self.config):
            self.blocks = [
                cls(p, off, **extra, **params)
                for p, off, extra in zip(parts, offsets, extras, strict=True)
            ]
        self.busy_s = 0.0  # time spent in calls: what is not coordination (benchmarks)

    def call(self, method, *args):
        t0 = time.perf_counter()
        with config_context(**self.config):
            out = [getattr(b, method)(*args) for b in self.blocks]
        self.busy_s += time.perf_counter() - t0
        return out

    def call_one(self, position, method, *args):
        t0 = time.perf_counter()
        with config_context(**self.config):
            out = getattr(self.blocks[position], method)(*args)
        self.busy_s += time.perf_counter() - t0
        return out

    def busy(self):
        return self.busy_s
