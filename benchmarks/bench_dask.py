"""Dask pools against the one-machine numpy kernel, on the same data in the same run.

For each case a fresh ``distributed.LocalCluster`` of 2 single-threaded worker processes
holds the pool as a Dask array (generated on the workers, 16 row partitions); the
one-machine run queries the same rows as a numpy array in this process. Reported per case
(median of ``--repeats`` runs, alternating the two):

* ``one_s`` / ``dask_s``: total ``query`` time (model forward pass included; for Dask also
  generating the partitions on the workers, which a real pool would read from storage);
* ``overhead_ms``: coordination per pick, ``(selection wall time - busiest worker's time
  inside kernel calls) / picks``, i.e. what the driver and the messages add;
* ``peak_mb``: the largest worker's peak RSS during the Dask query (Linux ``VmHWM``, reset
  just before it) above the worker's idle size (measured before any data exists), against
  ``data_mb``, that worker's share of ``H``, ``P`` and the kernel state that the query
  keeps (see ``KEPT_COLUMNS``);
* ``same``: whether the picks equal the one-machine picks.

Usage::

    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 python benchmarks/bench_dask.py [--quick]
        [--only badge,coreset,overhead] [--repeats 3] [--scale 1]

``--quick`` divides the pool sizes by 20, ``--scale s`` by ``s``. Results go to
``benchmarks/results/dask.json``.
"""

import argparse
import os
import resource
import statistics
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import print_table, write_json

from skactive import BADGE, BAIT, CoreSet
from skactive.distributed import _dask

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "dask.json")
COLUMNS = [
    "case",
    "n",
    "d",
    "K",
    "B",
    "one_s",
    "dask_s",
    "ratio",
    "overhead_ms",
    "peak_mb",
    "data_mb",
    "same",
]
# name: (strategy class, n, input features, classes, batch, labelled rows, partitions)
CASES = {
    "badge": (BADGE, 2_000_000, 127, 10, 100, 1_000, 64),
    "coreset": (CoreSet, 2_000_000, 127, 10, 100, 1_000, 64),
    "bait": (BAIT, 200_000, 63, 10, 50, 1_000, 16),
    # A small pool: the per-pick time is almost all coordination.
    "overhead": (CoreSet, 20_000, 127, 10, 100, 1_000, 16),
    "overhead-badge": (BADGE, 20_000, 127, 10, 100, 1_000, 16),
}
# float64 columns kept per row while selecting, by strategy (d = H's columns):
# CoreSet: centred H, norms, running distances; BADGE: H, the factor A (K), ‖a‖², ‖g‖²
# (max-norm and centred), tolerances, D² and its prefix sums; BAIT: H, P, √p and the
# scaled √p (3K), the K×K matrices G and R, gains and their two bounds.
KEPT_COLUMNS = {
    "CoreSet": lambda d, K: d + 2,
    "BADGE": lambda d, K: d + K + 6,
    "BAIT": lambda d, K: d + 3 * K + 2 * K * K + 3,
}


class _Recorded(_dask._Shards):
    """The driver's shard set, remembered with the time its state was ready."""

    last = None

    def _build(self):
        super()._build()
        self.ready_at = time.perf_counter()
        _Recorded.last = self


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb():
    return _status_mb("VmRSS")


def _reset_peak():
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_rss_mb():
    return _status_mb("VmHWM")


def _labelled(n_lab, f, K, seed=1):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_lab, f))
    y = np.argmax(X @ rng.standard_normal((f, K)) + rng.standard_normal((n_lab, K)), axis=1)
    return X, y


def run_case(name, client, repeats, scale):
    import dask.array as da

    idle = client.run(_rss_mb)  # idle workers, before any data

    cls, n, f, K, B, L, parts = CASES[name]
    n = max(n // scale, 1_000)
    X = da.random.RandomState(0).standard_normal((n, f), chunks=(-(-n // parts), f))
    X_np = X.compute()
    Xl, yl = _labelled(L, f, K)
    strategy = cls(LogisticRegression(max_iter=200), random_state=0).fit(Xl, yl)
    one_t, dask_t, over, peaks = [], [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        expected = strategy.query(X_np, B)
        one_t.append(time.perf_counter() - t0)
        client.run(_reset_peak)
        t0 = time.perf_counter()
        got = strategy.query(X, B)
        dask_t.append(time.perf_counter() - t0)
        end = time.perf_counter()
        shards = _Recorded.last
        if shards is not None:
            busy = max(a.busy().result(timeout=60) for a, _ in shards.actors)
            over.append((end - shards.ready_at - busy) / B * 1e3)
        after = client.run(_peak_rss_mb)
        peaks.append(max(after[w] - idle[w] for w in after))
    d = f + 1  # the linear adapter appends a ones column
    row_bytes = 8 * KEPT_COLUMNS[cls.__name__](d, K)
    data_mb = _largest_share(shards, n) * row_bytes / 2**20 if shards else None
    one, dsk = statistics.median(one_t), statistics.median(dask_t)
    return {
        "case": name,
        "n": n,
        "d": d,
        "K": K,
        "B": B,
        "one_s": one,
        "dask_s": dsk,
        "ratio": dsk / one,
        "overhead_ms": statistics.median(over) if over else None,
        "peak_mb": max(peaks),
        "data_mb": data_mb,
        "same": bool(np.array_equal(got, expected)),
        "partitions": parts,
        "one_times_s": one_t,
        "dask_times_s": dask_t,
    }


def _largest_share(shards, n):
    """Rows held by the busiest worker."""
    sizes = shards.sizes[shards.sizes > 0]
    return max(int(sum(sizes[b] for b in blocks)) for _, blocks in shards.actors)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pools 20x smaller")
    parser.add_argument("--scale", type=int, default=1, help="divide the pool sizes by this")
    parser.add_argument("--only", default="badge,coreset,bait,overhead,overhead-badge")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    _dask._Shards = _Recorded
    rows = []
    load = [os.getloadavg()]
    for name in args.only.split(","):
        loads = [os.getloadavg()]
        _Recorded.last = None
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        with cluster, Client(cluster) as client:
            scale = 20 if args.quick else args.scale
            rows.append(run_case(name, client, args.repeats, scale))
        loads.append(os.getloadavg())
        rows[-1]["load_before_after"] = loads
        print_table(rows[-1:], COLUMNS)
        print("load average (1, 5, 15 min) before and after:", loads, flush=True)
    load.append(os.getloadavg())
    print("\nload average (1, 5, 15 min) before and after:", load)
    print_table(rows, COLUMNS)
    write_json(RESULTS, rows, load_average=load, repeats=args.repeats, scale=scale)


if __name__ == "__main__":
    main()
