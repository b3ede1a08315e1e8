"""The Dask driver: coordinates per-partition work; the pool stays on the workers.

The client holds only O(batch_size) indices and, per pick, O(K + d) numbers
per partition: the partitions' best candidates or D² sums, and the centre
just picked, which goes back out to every partition.
"""

import math
import uuid

import numpy as np

from ..exceptions import NumericalRangeError
from ..kernels._common import abs_max, pow2_exponent_of, pow2_scale
from ..kernels._kcenter import _noise_tol as _kcenter_tol
from ..kernels._kmeanspp import _offset_dominates, _uniform_position
from ..kernels._parallel import compute_dtype
from ..kernels._uncertainty import top_k
from ..utils._validation import check_batch_size
from . import _blocks

#: Seconds any single wait on the cluster may take before the query gives up.
TIMEOUT_S = 3600.0
#: How many times a query rebuilds its state after losing a worker.
MAX_REBUILDS = 2


def _receive(value):
    """Every result the driver takes from the cluster passes here (tests watch it)."""
    return value


def get_client():
    """The user's current ``distributed.Client``, else one on a local in-process cluster."""
    from distributed import Client, LocalCluster

    try:
        return Client.current()
    except ValueError:
        pass
    global _LOCAL
    if _LOCAL is None:
        # For trying things out: threads in this process, one per core.
        cluster = LocalCluster(processes=False, threads_per_worker=1, dashboard_address=":0")
        _LOCAL = Client(cluster, set_as_default=False)
    return _LOCAL


_LOCAL = None


def partitions(X_pool):
    """The row partitions of a Dask array or DataFrame, as a list of Delayed objects."""
    import dask.array as da

    if not isinstance(X_pool, da.Array) and hasattr(X_pool, "npartitions"):
        if X_pool.ndim != 2:  # a Dask Series is not a pool
            raise ValueError(
                "X_pool should be a 2-D Dask array or a Dask DataFrame; "
                f"got a {type(X_pool).__name__}."
            )
        return list(X_pool.to_delayed())
    if getattr(X_pool, "ndim", None) != 2:
        raise ValueError(
            "X_pool should be a 2-D Dask array of shape (n_samples, n_features); "
            f"got ndim={getattr(X_pool, 'ndim', None)}."
        )
    if len(X_pool.chunks[1]) != 1:
        raise ValueError(
            f"X_pool is a Dask array whose chunks split its {X_pool.shape[1]} columns into "
            f"{len(X_pool.chunks[1])} pieces; rechunk it to whole rows with "
            "X_pool.rechunk({1: -1})."
        )
    return list(X_pool.to_delayed().ravel())


class _Cluster:
    """Client-side handle of one query: evaluate partitions, keep block state on the workers.

    Blocks are numbered in pool order (empty partitions dropped). Calls that
    change block state are logged, so that after a lost worker the state can
    be rebuilt from the graph and replayed to the same point.
    """

    def __init__(self, client, X_pool, strategy):
        from dask import delayed

        self.client, self.parts = client, partitions(X_pool)
        self.name, self.n_features = type(strategy).__name__, X_pool.shape[1]
        # A graph literal, not scattered data: Dask can recompute it after a
        # lost worker. One key, so it is shipped once per worker.
        self.strategy = delayed(strategy, name=f"skactive-strategy-{uuid.uuid4().hex}")

    def wait(self, futures):
        from distributed import wait

        with self.client.as_current():  # wait() finds its client there
            wait(futures, timeout=TIMEOUT_S)
        return futures

    def map_parts(self, func, *args):
        """``func(partition, *args)`` on every partition, on the workers; small results only."""
        from dask import delayed

        tasks = [delayed(func, pure=False)(p, *args) for p in self.parts]
        return _receive(self.client.gather(self.wait(self.client.compute(tasks))))

    def evaluate(self, what):
        """Run the model on every partition; futures of ``Part`` objects, and the row counts."""
        from dask import delayed

        tasks = [delayed(_blocks.evaluate, pure=False)(p, self.strategy, what) for p in self.parts]
        futures = self.wait(self.client.compute(tasks))
        sizes = _receive(self.client.gather(self.client.map(_blocks.n_rows, futures, pure=False)))
        return futures, np.asarray(sizes, dtype=np.int64)


class _Shards:
    """Stateful blocks in one actor per worker; calls by block number, with replay on loss."""

    def __init__(self, cluster, kind, params, extend=None):
        # ``extend(n, starts, sizes)``: per block, its extended row range
        # ``lo``/``hi`` and other keyword arguments (see _bait.block_layouts).
        self.cluster, self.kind, self.params, self.extend = cluster, kind, params, extend
        self.log = []
        self._build()

    def _build(self):
        client = self.cluster.client
        futures, sizes = self.cluster.evaluate("outputs")
        self.sizes = sizes
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        keep = [i for i in range(len(futures)) if sizes[i] > 0]
        self.starts = self.offsets[keep]  # first global row of each block
        extras = self._extras(futures, keep, sizes)
        where = client.who_has([futures[i] for i in keep])
        by_worker = {}
        for b, i in enumerate(keep):
            by_worker.setdefault(where[futures[i].key][0], []).append(b)
        # The creation futures keep the actors alive on their workers.
        self.actors, self.home, self._keep = [], {}, []
        for worker, blocks in by_worker.items():
            actor = client.submit(
                _blocks.Shard,
                [futures[keep[b]] for b in blocks],
                [int(self.starts[b]) for b in blocks],
                self.kind,
                self.params,
                [extras[b] for b in blocks],
                workers=[worker],
                allow_other_workers=False,
                actor=True,
                pure=False,
            )
            self._keep.append(actor)
            self.actors.append((actor.result(timeout=TIMEOUT_S), blocks))
            for pos, b in enumerate(blocks):
                self.home[b] = (len(self.actors) - 1, pos)
        # The actors hold the partitions' outputs now; drop the task results.
        del futures

    def _extras(self, futures, keep, sizes):
        """Per block: the neighbours' rows in its extended range, as futures, and the rest."""
        if self.extend is None:
            return [{} for _ in keep]
        ends = self.starts + sizes[keep]
        extras = self.extend(int(sizes.sum()), self.starts.tolist(), sizes[keep].tolist())
        for b, extra in enumerate(extras):
            lo, hi = extra["lo"], extra["hi"]
            extra["before"] = [
                self._rows_of(futures[keep[c]], max(lo, self.starts[c]), self.starts[b], c)
                for c in range(b)
                if ends[c] > lo
            ]
            extra["after"] = [
                self._rows_of(futures[keep[c]], self.starts[c], min(hi, ends[c]), c)
                for c in range(b + 1, len(keep))
                if self.starts[c] < hi
            ]
        return extras

    def _rows_of(self, future, start, stop, block):
        """Future of global rows ``start:stop`` of ``block``, sliced on its worker."""
        first = int(self.starts[block])
        return self.cluster.client.submit(
            _blocks.slice_part, future, int(start) - first, int(stop) - first, pure=False
        )

    @property
    def n(self):
        return int(self.sizes.sum())

    def block_of(self, row):
        """Block number holding global ``row``."""
        return int(np.searchsorted(self.starts, row, side="right")) - 1

    def _retry(self, fn):
        for attempt in range(MAX_REBUILDS + 1):
            try:
                return fn()
            except (OSError, RuntimeError) as exc:
                # A worker (and its actor) was lost: rebuild from the graph.
                if attempt == MAX_REBUILDS:
                    raise RuntimeError(
                        "A Dask worker holding part of X_pool was lost during the query and "
                        f"rebuilding the pool's state failed {MAX_REBUILDS} times ({exc})."
                    ) from exc
                self._rebuild()

    def _rebuild(self):
        self._build()
        for method, args in self.log:
            self._call_all(method, args)

    def _call_all(self, method, args):
        out = [None] * len(self.home)
        pending = [(actor.call(method, *args), blocks) for actor, blocks in self.actors]
        for future, blocks in pending:
            for b, res in zip(blocks, future.result(timeout=TIMEOUT_S), strict=True):
                out[b] = res
        return out

    def call_all(self, method, *args, changes_state=True):
        """``method(*args)`` on every block; results in block order."""
        out = self._retry(lambda: _receive(self._call_all(method, args)))
        if changes_state:
            self.log.append((method, args))
        return out

    def call_one(self, block, method, *args):
        """``method(*args)`` on one block (a read: it changes no state)."""

        def run():
            a, pos = self.home[block]
            return _receive(self.actors[a][0].call_one(pos, method, *args).result(TIMEOUT_S))

        return self._retry(run)


def _first_max(results):
    """The result with the largest value (``results[i][0]``), the lowest row on ties.

    ``results`` come in pool order and each block reports its own first
    maximum, so the first strict maximum is the global lowest-index one.
    """
    best = results[0]
    for r in results[1:]:
        if r[0] > best[0]:
            best = r
    return best


def _nth_unchosen(position, chosen_sorted):
    """The unchosen row at ``position`` in pool order, from the sorted chosen rows."""
    row = position
    for c in chosen_sorted:
        if c > row:
            break
        row += 1
    return row


def _check_rows(n, cluster, batch_size):
    """The one-machine errors for an empty pool and a batch larger than the pool."""
    if n == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape=(0, {cluster.n_features})) while a minimum "
            f"of 1 is required by {cluster.name}."
        )
    return check_batch_size(batch_size, n)


def select_random(cluster, batch_size, rng):
    sizes = cluster.map_parts(_blocks.evaluate, cluster.strategy, "rows")
    n = sum(p.n for p in sizes)
    batch_size = _check_rows(n, cluster, batch_size)
    # The same draw as RandomSampling on one machine (an n-sized permutation
    # on the client, but no data: the pool's rows never leave the workers).
    return rng.permutation(n)[:batch_size]


def select_uncertainty(cluster, batch_size, score):
    from dask import delayed

    tasks = [
        delayed(_blocks.top_candidates, pure=False)(
            delayed(_blocks.evaluate, pure=False)(p, cluster.strategy, "proba"), score, batch_size
        )
        for p in cluster.parts
    ]
    found = _receive(cluster.client.gather(cluster.wait(cluster.client.compute(tasks))))
    offsets = np.cumsum([0] + [n for n, _, _ in found])
    batch_size = _check_rows(int(offsets[-1]), cluster, batch_size)
    rows = np.concatenate([idx + off for (_, idx, _), off in zip(found, offsets, strict=False)])
    scores = np.concatenate([s for _, _, s in found])
    # Candidates are in pool order, so top_k's stable sort breaks ties by row.
    return rows[np.asarray(top_k(scores, batch_size))]


def select_coreset(cluster, batch_size, H_labeled, dtype):
    """Greedy k-center, step for step as :func:`~skactive.kernels._kcenter._kcenter_greedy`."""
    H_labeled = compute_dtype(H_labeled, dtype, np)
    has_lab = H_labeled is not None and H_labeled.shape[0] > 0
    shards = _Shards(cluster, "coreset", {"dtype": dtype})
    batch_size = _check_rows(shards.n, cluster, batch_size)
    # The one exponent and the one origin (row 0) the whole pool would get.
    tops = shards.call_all("top", changes_state=False)
    e = pow2_exponent_of(max(tops + [abs_max(H_labeled, np) if has_lab else 0.0]))
    scaled = shards.call_all("scale", e, not has_lab)
    origin = scaled[0][0]
    L_c = pow2_scale(H_labeled, e) - origin if has_lab else None
    best = shards.call_all("centre", origin, L_c, _kcenter_tol(cluster.n_features))
    if has_lab:
        _, row, h, h_norm = _first_max(best)
    else:  # the row of largest uncentred norm, as on one machine
        row = _first_max([norm for _, norm in scaled])[1]
        h, h_norm = shards.call_one(shards.block_of(row), "row", row)
    picks = [row]
    while len(picks) < batch_size:
        _, row, h, h_norm = _first_max(shards.call_all("update", h, h_norm, row))
        picks.append(row)
    return picks


def _badge_distances(shards):
    """Rescale and centre every partition as ``_kmeanspp_select`` does the whole pool.

    Returns each block's (largest ``‖g‖²``, its row). Three rounds of O(d)
    numbers per partition: the magnitudes, the pool's row 0 after rescaling,
    the largest spread about it.
    """
    tops = shards.call_all("tops", changes_state=False)
    e_a = pow2_exponent_of(max(t[0] for t in tops))
    e_h = pow2_exponent_of(max(t[1] for t in tops))
    origin = shards.call_all("scale", e_a, e_h)[0]
    spread = max(shards.call_all("spread", origin))
    return shards.call_all("distances", origin, _offset_dominates(origin, spread, np))


def select_badge(cluster, batch_size, rng, init, dtype):
    """k-means++ seeding, step for step as :func:`~skactive.kernels._kmeanspp._kmeanspp_select`."""
    shards = _Shards(cluster, "badge", {"dtype": dtype})
    n = shards.n
    batch_size = _check_rows(n, cluster, batch_size)
    best = _badge_distances(shards)
    if init == "max_norm":
        first = _first_max(best)[1]
    else:
        first = _uniform_position(rng.uniform(), n)
    centre = shards.call_one(shards.block_of(first), "row", first)
    picks, chosen = [first], {first}
    while len(picks) < batch_size:
        totals = shards.call_all("update", centre, picks[-1])
        total = 0.0
        for t in totals:
            total += t
        if total == 0.0:
            _fill_uniform(picks, chosen, n, batch_size, rng)
            break
        if not math.isfinite(total):  # impossible after pow2 rescaling; never loop on it
            raise NumericalRangeError("BADGE's squared distances overflowed float64.")
        row, centre = _draw(shards, totals, total, chosen, rng)
        picks.append(row)
        chosen.add(row)
    return picks


def _draw(shards, totals, total, chosen, rng):
    """One D²-weighted pick and its centre data, as the kernel's ``_draw``.

    A chosen row has D² = 0 and comes back only for ``u = 0``: draw again, at
    most 64 times, then take the first row with D² > 0.
    """
    for _ in range(64):
        block, residual = _locate_block(totals, rng.uniform() * total)
        row, centre = shards.call_one(block, "locate", residual)
        if row not in chosen:
            return row, centre
    block = next(b for b, t in enumerate(totals) if t > 0.0)
    row = shards.call_one(block, "first_positive")
    return row, shards.call_one(block, "row", row)


def _fill_uniform(picks, chosen, n, batch_size, rng):
    """Every remaining D² is 0: the rest uniform over unchosen rows, as the kernel's."""
    while len(picks) < batch_size:
        row = _nth_unchosen(_uniform_position(rng.uniform(), n - len(picks)), sorted(chosen))
        picks.append(row)
        chosen.add(row)


def _locate_block(totals, target):
    """First block whose running ΣD² reaches ``target``, and what is left of it there."""
    prefix = 0.0
    for b, t in enumerate(totals):
        if t > 0.0 and prefix + t >= target:
            return b, target - prefix
        prefix += t
    last = max(b for b, t in enumerate(totals) if t > 0.0)
    return last, totals[last]


_SUPPORTED = (
    "RandomSampling, LeastConfidence, MarginSampling, EntropySampling, CoreSet, BADGE and BAIT"
)


def _selector(strategy):
    """The driver for ``strategy``'s class; a one-sentence error for the others."""
    from ..strategies import BADGE, BAIT, CoreSet, RandomSampling
    from ..strategies._uncertainty import _UncertaintySampling

    for cls, select in [
        (BAIT, _query_bait),
        (RandomSampling, _query_random),
        (_UncertaintySampling, _query_uncertainty),
        (CoreSet, _query_coreset),
        (BADGE, _query_badge),
    ]:
        if isinstance(strategy, cls):
            return select
    raise TypeError(
        f"{type(strategy).__name__} does not support Dask pools (X_pool is a Dask "
        f"collection); pass X_pool.compute() or use {_SUPPORTED}."
    )


def _query_random(cluster, strategy, batch_size, rng):
    return select_random(cluster, batch_size, rng)


def _query_uncertainty(cluster, strategy, batch_size, rng):
    return select_uncertainty(cluster, batch_size, type(strategy)._score)


def _query_coreset(cluster, strategy, batch_size, rng):
    H_labeled = strategy._labeled(_blocks._NUMPY)[0]
    return select_coreset(cluster, batch_size, H_labeled, strategy.dtype)


def _query_badge(cluster, strategy, batch_size, rng):
    return select_badge(cluster, batch_size, rng, strategy.init, strategy.dtype)


def _query_bait(cluster, strategy, batch_size, rng):
    from ._bait import select_bait

    return select_bait(cluster, strategy, batch_size)


def query(strategy, X_pool, batch_size):
    """``strategy.query`` for a Dask pool: numpy int64 global row indices, in pick order."""
    from sklearn.utils import check_random_state

    select = _selector(strategy)  # before any cluster work
    check_batch_size(batch_size, np.inf)  # type and range, likewise
    rng = check_random_state(strategy.random_state)
    cluster = _Cluster(get_client(), X_pool, strategy)
    return np.asarray(select(cluster, strategy, batch_size, rng), dtype=np.int64)
