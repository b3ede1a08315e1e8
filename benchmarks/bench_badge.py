"""BADGE kernel: wall time and peak memory against its memory-bandwidth bound.

Each BADGE pick reads the whole ``n × d`` embedding once (``H @ h_c``), so
``B`` passes of ``H @ v`` over the same ``H`` are a floor for a batch of ``B``;
the table reports every time as a ratio to that floor, measured in the same
run with runs interleaved (the machine may be shared). Also: the explicit
``n × Kd`` dense implementation where it fits, and scikit-activeml's
``Badge`` when ``skactiveml`` imports.

Run ``python benchmarks/bench_badge.py`` (add ``--quick`` for a smoke run).
The table is printed and written to ``benchmarks/results/badge.json``.
"""

import argparse
import os
import statistics
import sys

# Must precede any torch import: busy-waiting OpenMP threads distort timings
# on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import measure, print_table, write_json

from skactive.kernels._kmeanspp import _gradient_factor, _kmeanspp_select

FULL = {"large": (50_000, 10, 512, 1000), "dense": (4000, 10, 64, 100)}
QUICK = {"large": (3000, 5, 32, 50), "dense": (500, 4, 16, 20)}
COLUMNS = ["name", "backend", "n", "K", "d", "B", "median_s", "min_s", "peak_mb", "ratio", "note"]
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "badge.json")


def make_pool(n, K, d, seed=0):
    """Softmax probabilities of random logits and Gaussian embeddings (float64)."""
    rs = np.random.RandomState(seed)
    logits = 2.0 * rs.normal(size=(n, K))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return P, rs.normal(size=(n, d))


def matvec_bound(H, B):
    """``B`` passes of ``H @ v`` (v a row of H, as in the kernel): the floor for B picks."""
    n = H.shape[0]
    for i in range(B):
        H @ H[(i * 7919) % n]


def dense_badge(A, H, B, rng):
    """The straightforward version: explicit n × Kd embeddings, direct differences.

    Same first centre and draw rule as the kernel, so the picks must agree.
    """
    G = (A[:, :, None] * H[:, None, :]).reshape(A.shape[0], -1)
    picks = [int(np.argmax(np.sum(G * G, axis=1)))]
    D2 = np.sum((G - G[picks[0]]) ** 2, axis=1)
    D2[picks] = 0.0
    while len(picks) < B:
        cum = np.cumsum(D2)
        idx = int(np.searchsorted(cum, rng.uniform() * cum[-1]))
        if idx in picks:
            continue
        picks.append(idx)
        D2 = np.minimum(D2, np.sum((G - G[idx]) ** 2, axis=1))
        D2[idx] = 0.0
    return picks


def _interleaved(cases, repeats, memory):
    """Time each ``(name, fn)`` ``repeats`` times, alternating between them.

    Interleaving keeps a noisy neighbour from loading one case and not the
    others; the first round also records tracemalloc peaks when ``memory``.
    """
    times = {name: [] for name, _ in cases}
    peaks, results = {}, {}
    for r in range(repeats):
        for name, fn in cases:
            m = measure(fn, repeats=1, memory=memory and r == 0)
            times[name].append(m["min_s"])
            peaks.setdefault(name, m["peak_mb"])
            results[name] = m["result"]
    return {
        name: {
            "median_s": statistics.median(t),
            "min_s": min(t),
            "times_s": t,
            "peak_mb": peaks[name],
            "result": results[name],
        }
        for name, t in times.items()
    }


def _rows(stats, bound_name, size, backend):
    n, K, d, B = size
    floor = stats[bound_name]["median_s"]
    return [
        {"name": name, "backend": backend, "n": n, "K": K, "d": d, "B": B, **s}
        | {"ratio": s["median_s"] / floor}
        for name, s in stats.items()
    ]


def bench_numpy(size, repeats, with_dense=False):
    n, K, d, B = size
    P, H = make_pool(n, K, d)
    A = _gradient_factor(P, np)
    cases = [
        (f"bound: {B} x H@v", lambda: matvec_bound(H, B)),
        ("BADGE kernel", lambda: _kmeanspp_select(A, H, B, np.random.RandomState(0), np)),
    ]
    if with_dense:
        cases.append(("dense n x Kd", lambda: dense_badge(A, H, B, np.random.RandomState(0))))
    stats = _interleaved(cases, repeats, memory=True)
    rows = _rows(stats, cases[0][0], size, "numpy")
    if with_dense:
        same = stats["dense n x Kd"]["result"] == stats["BADGE kernel"]["result"]
        rows[-1]["note"] = f"same picks as BADGE: {same}"
    return rows


def bench_torch(size, repeats):
    try:
        import array_api_compat.torch as xpt
        import torch
    except ImportError:
        return [{"name": "BADGE kernel", "backend": "torch-cpu", "note": "skipped: no torch"}]
    n, K, d, B = size
    P, H = make_pool(n, K, d)
    A_t, H_t = _gradient_factor(torch.as_tensor(P), xpt), torch.as_tensor(H)
    cases = [
        (f"bound: {B} x H@v", lambda: matvec_bound(H_t, B)),
        ("BADGE kernel", lambda: _kmeanspp_select(A_t, H_t, B, np.random.RandomState(0), xpt)),
    ]
    stats = _interleaved(cases, repeats, memory=False)
    rows = _rows(stats, cases[0][0], size, f"torch-cpu ({torch.get_num_threads()} thr)")
    want = _kmeanspp_select(_gradient_factor(P, np), H, B, np.random.RandomState(0), np)
    rows[-1]["note"] = f"same picks as numpy: {stats['BADGE kernel']['result'] == want}"
    return rows


def bench_skactiveml(size, repeats):
    """scikit-activeml's Badge on the same pool, if it is installed."""
    n, K, d, B = size
    row = {"name": "scikit-activeml Badge", "backend": "numpy", "n": n, "K": K, "d": d, "B": B}
    try:
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import Badge
    except ImportError:
        return [row | {"note": "skipped: skactiveml not installed"}]
    from sklearn.linear_model import LogisticRegression

    rs = np.random.RandomState(0)
    X = rs.normal(size=(n, d))
    y = np.full(n, np.nan)
    y[: 5 * K] = np.arange(5 * K) % K  # a few labelled rows of every class
    clf = SklearnClassifier(LogisticRegression(), classes=np.arange(K)).fit(X, y)
    try:
        m = measure(
            lambda: Badge(random_state=0).query(X, y, clf, fit_clf=False, batch_size=B),
            repeats=repeats,
        )
    except Exception as exc:  # an API drift must not sink the other rows
        return [row | {"note": f"failed: {type(exc).__name__}: {exc}"}]
    return [row | m | {"note": "its own pool (LogisticRegression on X)"}]


def run(quick=False, repeats=3):
    """Run every case; return the table rows (dicts)."""
    sizes = QUICK if quick else FULL
    rows = bench_numpy(sizes["large"], repeats)
    rows += bench_torch(sizes["large"], repeats)
    rows += bench_numpy(sizes["dense"], repeats, with_dense=True)
    rows += bench_skactiveml(sizes["dense"], repeats)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (>= 3)")
    parser.add_argument("--out", default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick, repeats=args.repeats)
    print_table(rows, COLUMNS)
    write_json(args.out, rows, quick=args.quick, repeats=args.repeats)


if __name__ == "__main__":
    main()
