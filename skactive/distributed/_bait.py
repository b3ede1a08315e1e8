"""BAIT on a Dask pool: per-partition ``_State`` objects in the workers, ``M⁻¹`` on the client.

The one-machine kernel (:func:`~skactive.kernels._bait._bait_select`) splits
into what needs the whole pool and what is per row:

* per row, on the workers (:class:`BAITBlock`): the candidates' ``G_x``,
  ``R_x`` and gains, in a kernel ``_State`` per partition, updated by
  ``_State.apply`` after every commit and searched by ``_State.best_gain``;
* pool-wide, on the client (:func:`select_bait`): the rescale exponent (a
  max over the partitions), ``F`` (one left fold of chunk sums continued
  across the partitions in pool order), ``M⁻¹`` and each step's directions
  ``Yr`` (``_step_directions`` from the pick's row alone), and the backward
  pass, which only involves the ``oversample·B`` picked rows.

Every GEMM over rows depends on how many rows it gets (OpenBLAS takes other
paths for small products), so a partition runs the kernel's row passes on
the pool's own chunk layout: it also holds the few rows of the neighbouring
partitions that share a chunk with it (never candidates here), and its rows
object returns the pool's chunks over its rows.
"""

import bisect
import math

import numpy as np

from ..kernels._bait import (
    _backward,
    _dense_metric,
    _finite_pick,
    _LinearRows,
    _low_rank_capacity,
    _rescale,
    _SoftmaxRows,
    _State,
    _step_directions,
    _use_low_rank,
    compute_probabilities,
    sums_to_one,
)
from ..kernels._common import abs_max, pow2_exponent_of, pow2_scale
from ..kernels._parallel import Progress, Workers, compute_dtype, effective_n_jobs
from ._blocks import _NUMPY
from ._dask import _check_rows, _first_max, _Shards


def _rows(H, P, scale, reduced=False):
    return _LinearRows(H, scale, np) if P is None else _SoftmaxRows(H, P, scale, np, reduced)


def _probe(K, d, regression, reduced=False):
    """One stand-in row of the pool's shape: its chunk layouts and ``F``'s unpacking."""
    return _rows(np.zeros((1, d)), None if regression else np.full((1, K), 1.0 / K), 1.0, reduced)


def _overlapping(chunks, stops, lo, hi):
    """The chunks (consecutive slices ending at ``stops``) that share a row with ``[lo, hi)``."""
    first = bisect.bisect_right(stops, lo)
    last = bisect.bisect_left(stops, hi)
    return chunks[first : last + 1]


def block_layouts(probe, n, starts, sizes):
    """Each partition's extended row range and the pool's chunks over it (local slices).

    ``probe``: kernel rows of the pool's K and d (their layouts depend on
    nothing else); ``starts``/``sizes``: the non-empty partitions' first
    global rows and lengths. Returns one dict per partition: ``lo``/``hi`` (the global rows
    it holds: its own plus the neighbours' rows that share a chunk with it)
    and the local slices of the three layouts of the kernel's ``_Rows``:
    ``chunks`` (per-step passes), ``quad`` (initial state) and ``fisher``
    (the chunks of ``F`` that start in this partition, each added once).
    """
    layouts = {
        "chunks": probe.chunks(n),
        "quad": probe.quad_chunks(n),
        "fisher": probe.fisher_chunks(n),
    }
    stops = {name: [c.stop for c in chunks] for name, chunks in layouts.items()}
    out = []
    for start, size in zip(starts, sizes, strict=True):
        stop = start + size
        near = {
            name: _overlapping(chunks, stops[name], start, stop) for name, chunks in layouts.items()
        }
        lo = min(chunks[0].start for chunks in near.values())
        hi = max(chunks[-1].stop for chunks in near.values())
        local = {
            name: [slice(c.start - lo, c.stop - lo) for c in chunks]
            for name, chunks in near.items()
        }
        # F adds each chunk once: in the partition where it starts.
        local["fisher"] = [
            slice(c.start - lo, c.stop - lo) for c in near["fisher"] if c.start >= start
        ]
        out.append({"lo": lo, "hi": hi, "layout": local})
    return out


class BAITBlock:
    """One partition's BAIT candidates: a kernel ``_State`` over its (extended) rows.

    ``before``/``after`` are the neighbours' rows in the chunks this
    partition shares (``Part`` objects), ``lo``/``hi`` the global rows held.
    """

    def __init__(self, part, offset, before, after, lo, hi, layout, regression, dtype):
        pieces = [*before, part, *after]
        self.H = compute_dtype(np.concatenate([p.H for p in pieces]), dtype, np)
        P = None if regression else np.concatenate([p.P for p in pieces])
        self.P = compute_probabilities(P, dtype, np)
        self.lo, self.layout, self.own = lo, layout, (offset, offset + part.n)
        # The neighbours' rows are here for the chunk layout only: never candidates.
        self.taken = np.ones(hi - lo, dtype=bool)
        self.taken[offset - lo : offset - lo + part.n] = False

    def top(self):
        return abs_max(self.H, np)

    def sums_to_one(self):
        return self.P is None or sums_to_one(self.P, np)

    def scale(self, e, scale, reduced):
        """Rescale ``H`` by ``2**-e``; the kernel's rows, with the pool's chunks over them."""
        self.rows = _rows(pow2_scale(self.H, e), self.P, scale, reduced)
        del self.H, self.P
        layout = self.layout
        self.rows.chunks = lambda n=None: layout["chunks"]
        self.rows.quad_chunks = lambda n=None: layout["quad"]

    def fisher(self, acc):
        """``acc`` plus this partition's chunk sums of ``F`` (unscaled), in pool order.

        One chunk at a time: the same additions as one fold over all of them,
        without holding every chunk's sum at once.
        """
        for sl in self.layout["fisher"]:
            acc = self.rows.fisher_fold(acc, [sl])
        return acc

    def start(self, Minv, N):
        """Every row's ``G``, ``R`` and gain bounds (or gains); return :meth:`best`."""
        S = self.rows.initial_state(Minv, N, None)
        self.state = _State(self.rows, None, 1.0, None, S)
        self.state.score()
        return self.best()

    def best(self):
        """(largest gain, its global row, its ``h``, ``p``) among rows not taken, or None.

        The lowest row on ties. The row's ``h`` and ``p`` come along (``d + K``
        numbers), so that a pick costs the client no second round trip.
        """
        if self.taken.all():
            return None
        state = self.state
        i = state.best_gain(self.taken)
        if state.bounded:
            gain = state.exact(np.asarray([i], dtype=np.int64))[0]
        else:
            gain = state.gains[i]
        P = getattr(self.rows, "P", None)  # clipped, as the kernel's rows hold it
        return float(gain), self.lo + i, self.rows.H[i].copy(), None if P is None else P[i].copy()

    def apply(self, Yr, pick, score):
        """Commit ``pick`` (directions ``Yr``) to every row; then :meth:`best` if ``score``."""
        i = pick - self.lo
        if 0 <= i < self.taken.shape[0]:
            self.taken[i] = True
        self.state.apply(Yr, score)
        return self.best() if score else None

    def gather(self, picks):
        """``{row: state}`` (``G``, ``R`` stacked) for the picks this partition owns."""
        S = self.state.S
        return {p: S[p - self.lo].copy() for p in picks if self.own[0] <= p < self.own[1]}


class _Pool:
    """What ``_dense_metric`` needs of the pool: its shapes, and ``F``'s sum by a fold."""

    def __init__(self, shards, probe, n, dtype):
        self.shards, self.probe, self.n, self.xp = shards, probe, n, np
        self.K, self.d, self.reduced = probe.K, probe.d, probe.reduced
        self.H = np.empty((0, self.d), dtype=dtype)  # dtype and device of eye()

    def fisher_sum(self, workers=None):
        # One left fold over the pool's chunks, continued partition by partition.
        acc = None
        for block in range(len(self.shards.home)):
            acc = self.shards.call_one(block, "fisher", acc)
        return self.probe.fisher_unpack(acc)


def _dense_only(K, d, capacity):
    if _use_low_rank(K * d, capacity):
        raise ValueError(
            f"BAIT takes a Dask pool only with a dense M⁻¹, but K·d={K * d} with {capacity} "
            "Woodbury columns selects its low-rank form; pass X_pool.compute() instead."
        )


def select_bait(cluster, strategy, batch_size):
    """BAIT picks for a Dask pool: those of ``_bait_select`` on the same rows."""
    dtype = strategy.dtype
    H_lab, P_lab = strategy._labeled(_NUMPY)
    H_lab, P_lab = compute_dtype(H_lab, dtype, np), compute_probabilities(P_lab, dtype, np)
    regression = P_lab is None
    K, d = (1 if regression else P_lab.shape[1]), H_lab.shape[1]
    probe = _probe(K, d, regression)
    params = {"regression": regression, "dtype": dtype}
    shards = _Shards(
        cluster, "bait", params, extend=lambda n, st, sz: block_layouts(probe, n, st, sz)
    )
    n = shards.n
    batch_size = _check_rows(n, cluster, batch_size)
    # _bait_select's set-up, with the pool's maximum by map-reduce.
    top = max(shards.call_all("top", changes_state=False))
    e = pow2_exponent_of(max(top, abs_max(H_lab, np)))
    # The kernel's rescale (and its range error) on a stand-in with the pool's maximum.
    _, H_lab, lam = _rescale(np.full((1, 1), top), H_lab, float(strategy.lam), np)
    n_lab = H_lab.shape[0]
    scale = math.sqrt(batch_size / (n_lab + batch_size))
    # The kernel's rank K − 1 steps if every pool row sums to one (see sums_to_one).
    reduced = not regression and all(shards.call_all("sums_to_one", changes_state=False))
    shards.call_all("scale", e, scale, reduced)
    lab = _rows(H_lab, P_lab, 1.0) if n_lab else None
    n_steps = min(strategy.oversample * batch_size, n)
    _dense_only(K, d, _low_rank_capacity(K, n_lab, n_steps, batch_size))
    progress = Progress(strategy.verbose, 2 * n_steps - batch_size, "BAIT")
    with Workers(effective_n_jobs(strategy.n_jobs, "all"), np) as workers:
        # F's partial sums over the class pairs the partitions' rows sum (reduced: K − 1).
        pool = _Pool(shards, _probe(K, d, regression, reduced), n, H_lab.dtype)
        metric = _dense_metric(pool, lab, batch_size, lam, strategy.fisher, workers)
        best = shards.call_all("start", *metric.initial_matrices(workers))
        picks, hs, ps = [], [], []
        for step in range(n_steps):
            gain, row, h, p = _first_max([b for b in best if b is not None])
            picks.append(_finite_pick(row, gain))
            hs.append(h)
            ps.append(p)
            one = _rows(h[None, :], None if regression else p[None, :], scale, reduced)
            Yr = _step_directions(metric, one, 0, 1.0, workers)
            best = shards.call_all("apply", Yr, row, step + 1 < n_steps)
            progress.update()
        rows = _rows(np.stack(hs), None if regression else np.stack(ps), scale, reduced)
        kept = _prune(shards, metric, picks, rows, batch_size, workers, progress)
    progress.close()
    return kept


def _prune(shards, metric, picks, rows, n_keep, workers, progress):
    """The backward pass on the client: the picks' ``rows``, ``G`` and ``R`` are all it needs."""
    found = {}
    for part in shards.call_all("gather", picks, changes_state=False):
        found.update(part)
    S = np.stack([found[p] for p in picks])
    state = _State(rows, metric, 1.0, workers, S)
    kept = _backward(state, list(range(len(picks))), n_keep, progress)
    return [picks[j] for j in kept]
