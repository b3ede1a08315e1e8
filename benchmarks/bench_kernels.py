"""Kernel benchmarks: BADGE, BAIT and CoreSet, with their reference points in the same run.

Prints one table per kernel and writes every row to ``benchmarks/results/kernels.json``.
The BADGE and BAIT rows come from ``bench_badge.py`` and ``bench_bait.py``; this script adds
CoreSet at the issue's size (n=50,000, d=512, B=1000, 1,000 labelled) next to two reference
points: B passes of ``H @ v`` over the same H (the memory-bandwidth floor of any greedy
k-center that reads the pool once per pick) and, at a smaller size, the authors' way
(an ``m × L`` distance matrix from ``pairwise_distances`` and a Python-level update loop).
When scikit-activeml is installed, its Badge and CoreSet run on the same pools ("peers").

Issue 13 adds two sections. ``threads``: every kernel at 1 and 2 threads (and, for the
BLAS-bound BADGE and CoreSet, OpenBLAS's own default), on the machine as it is and with
one other busy process started by this script, each time relative to the best setting
in that condition. ``float32``: the opt-in float32 compute mode against float64 in
alternating runs (the speed-up is the median of their ratios), and how many picks differ.

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_kernels.py [--quick] [--only coreset]
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.metrics import pairwise_distances

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import measure, print_table, write_json

from skactive.kernels._bait import _bait_select
from skactive.kernels._kcenter import _kcenter_greedy
from skactive.kernels._kmeanspp import _gradient_factor, _kmeanspp_select
from skactive.kernels._parallel import blas_threads, effective_n_jobs

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "kernels.json")
CORESET_COLUMNS = ["name", "n", "d", "B", "L", "median_s", "min_s", "peak_mb", "ratio", "note"]
THREAD_COLUMNS = ["kernel", "size", "condition", "threads", "median_s", "cpu_s", "ratio_to_best"]
THREAD_COLUMNS += ["load"]
THREAD_COLUMNS += ["default"]
FLOAT32_COLUMNS = ["kernel", "size", "float64_s", "float32_s", "speedup", "picks_differ"]


def coreset_reference(H, H_lab, B):
    """CoreSet as the authors' code computes it (REFERENCE.md §4): dense m × L start, loop."""
    min_d = pairwise_distances(H, H_lab).min(axis=1)
    picks = []
    for _ in range(B):
        i = int(np.argmax(min_d))
        picks.append(i)
        new = pairwise_distances(H, H[i : i + 1])[:, 0]
        min_d = np.array([min(a, b) for a, b in zip(min_d, new, strict=True)])
    return picks


def _matvec_bound(H, B):
    v = H[0].copy()
    for _ in range(B):
        v = H[int(np.argmax(H @ v)) % H.shape[0]]
    return B


def bench_coreset(quick=False, repeats=3):
    n, d, B, L = (5_000, 64, 100, 100) if quick else (50_000, 512, 1_000, 1_000)
    rs = np.random.RandomState(0)
    H, H_lab = rs.randn(n, d), rs.randn(L, d)
    fast = measure(lambda: _kcenter_greedy(H, H_lab, B, np), repeats=repeats)
    bound = measure(lambda: _matvec_bound(H, B), repeats=repeats, memory=False)
    rows = [
        _row(
            "coreset (skactive)",
            n,
            d,
            B,
            L,
            fast,
            fast["median_s"] / bound["median_s"],
            "ratio to the H@v bound",
        ),
        _row("B x H@v bound", n, d, B, L, bound, 1.0, "same H, same run"),
    ]
    small = (2_000, 64, 50, 100) if quick else (5_000, 128, 100, 200)
    Hs, Hl = rs.randn(*small[:2]), rs.randn(small[3], small[1])
    ours = measure(lambda: _kcenter_greedy(Hs, Hl, small[2], np), repeats=repeats)
    ref = measure(lambda: coreset_reference(Hs, Hl, small[2]), repeats=1)
    assert ours["result"] == ref["result"], "CoreSet differs from the reference rule"
    rows += [
        _row("coreset (skactive)", *small[:3], small[3], ours, 1.0, "same picks as reference"),
        _row(
            "coreset (authors' rule)",
            *small[:3],
            small[3],
            ref,
            ref["median_s"] / ours["median_s"],
            "ratio to skactive",
        ),
    ]
    return rows


def bench_peers(quick=False, repeats=3):
    """skactive against scikit-activeml's Badge and CoreSet on the same pool, when installed.

    Both sides query from the same fitted LogisticRegression (BADGE) or the same
    features (CoreSet), so each ratio is like for like; CoreSet picks are also
    compared.
    """
    try:
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import Badge
        from skactiveml.pool import CoreSet as PeerCoreSet
    except ImportError:
        return [{"name": "scikit-activeml", "note": "skipped: not installed"}]
    from sklearn.linear_model import LogisticRegression

    from skactive import BADGE
    from skactive.kernels import kcenter_greedy

    n, K, d, B = (4_000, 10, 64, 100) if quick else (20_000, 10, 128, 200)
    L = 5 * K
    rs = np.random.RandomState(0)
    X = rs.normal(size=(n, d))
    y = np.full(n, np.nan)
    y[:L] = np.arange(L) % K
    peer_clf = SklearnClassifier(LogisticRegression(), classes=np.arange(K)).fit(X, y)
    ours = BADGE(LogisticRegression(), random_state=0, device="numpy").fit(X[:L], y[:L].astype(int))
    peer_badge = measure(
        lambda: Badge(random_state=0).query(X, y, peer_clf, fit_clf=False, batch_size=B),
        repeats=repeats,
    )
    our_badge = measure(lambda: ours.query(X[L:], B), repeats=repeats)
    peer_core = measure(lambda: PeerCoreSet().query(X, y, batch_size=B), repeats=repeats)
    our_core = measure(lambda: kcenter_greedy(X[L:], B, H_labeled=X[:L]), repeats=repeats)
    same = [int(i) - L for i in peer_core["result"]] == our_core["result"]
    size = (n, d, B, L)
    return [
        _row("BADGE (skactive)", *size, our_badge, 1.0, f"K={K}, LogisticRegression"),
        _row(
            "Badge (scikit-activeml)",
            *size,
            peer_badge,
            peer_badge["median_s"] / our_badge["median_s"],
            "ratio to skactive",
        ),
        _row("CoreSet (skactive)", *size, our_core, 1.0, "kernel on X"),
        _row(
            "CoreSet (scikit-activeml)",
            *size,
            peer_core,
            peer_core["median_s"] / our_core["median_s"],
            f"ratio to skactive; same picks: {same}",
        ),
    ]


@contextlib.contextmanager
def busy_process(on):
    """One other process spinning on a core while the block runs (when ``on``)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        if proc is not None:
            time.sleep(0.5)
        yield
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()


def _kernel_cases(quick):
    """(name, size label, default threads, fn(threads, dtype) -> picks) for each kernel.

    The default is the strategy's ``n_jobs=None``: a number, (BADGE) a callable
    that decides it in the current condition, as the strategy does per query, or
    (BAIT) ``"default"``, which ``fn`` runs as the strategy does (every CPU, fewer
    if the first greedy steps get fewer: ``CpuShare``).
    """
    rs = np.random.RandomState(0)
    sizes = {
        "badge": (4_000, 10, 64, 100) if quick else (50_000, 10, 128, 1000),
        "coreset": (4_000, 64, 100, 100) if quick else (50_000, 512, 1000, 1000),
        "bait": (1_000, 10, 32, 20, 50) if quick else (20_000, 10, 128, 100, 100),
        "bait-3k": (600, 10, 16, 10, 20) if quick else (3_000, 10, 64, 50, 100),
    }
    n, K, d, B = sizes["badge"]
    logits = 2.0 * rs.normal(size=(n, K))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    A, H = _gradient_factor(P, np), rs.normal(size=(n, d))

    def badge(threads, dtype=np.float64):
        with blas_threads(threads):
            return _kmeanspp_select(
                A.astype(dtype), H.astype(dtype), B, np.random.RandomState(0), np
            )

    nc, dc, Bc, Lc = sizes["coreset"]
    Hc, Hl = rs.normal(size=(nc, dc)), rs.normal(size=(Lc, dc))

    def coreset(threads, dtype=np.float64):
        with blas_threads(threads):
            return _kcenter_greedy(Hc.astype(dtype), Hl.astype(dtype), Bc, np)

    import bench_bait

    def bait_case(size):
        nb, Kb, db, Bb, Lb = size
        prob = bench_bait.make_problem(nb, Kb, db, Lb)

        def bait(threads, dtype=np.float64):
            # "default": the strategy's n_jobs=None, every CPU with the CpuShare fallback.
            Hb, Pb, Hbl, Pbl = (a.astype(dtype) for a in prob)
            adapt = threads == "default"
            n_jobs = effective_n_jobs(None, "all") if adapt else threads
            return _bait_select(Hb, Pb, Bb, Hbl, Pbl, 1.0, 2, "pool", np, n_jobs=n_jobs,
                                adapt_threads=adapt)  # fmt: skip

        return bait

    def badge_default():
        # The BADGE strategy's n_jobs=None: the idle-CPU sampler, for this query's work.
        return effective_n_jobs(None, "idle", work=n * B * (d + K))

    return [
        ("BADGE", "n={} K={} d={} B={}".format(*sizes["badge"]), badge_default, badge),
        ("CoreSet", "n={} d={} B={} L={}".format(*sizes["coreset"]), 1, coreset),
        ("BAIT", "n={} K={} d={} B={} L={}".format(*sizes["bait"]), "default",
         bait_case(sizes["bait"])),
        ("BAIT", "n={} K={} d={} B={} L={}".format(*sizes["bait-3k"]), "default",
         bait_case(sizes["bait-3k"])),
    ]  # fmt: skip


def _selected(quick, kernels):
    """:func:`_kernel_cases`, only those named in ``kernels`` (all when None)."""
    cases = _kernel_cases(quick)
    return [c for c in cases if kernels is None or c[0].lower() in kernels]


def bench_threads(quick=False, repeats=3, kernels=None):
    """Each kernel at 1 and 2 threads (BADGE/CoreSet also OpenBLAS's default), idle and busy."""
    rows = []
    for name, size, default, fn in _selected(quick, kernels):
        settings = [1, 2] + (["default"] if name == "BAIT" else [None])
        for busy in (False, True):
            with busy_process(busy):
                # The default as the strategy decides it, in this condition.
                chosen = default() if callable(default) else default
                times = {
                    t: measure(lambda t=t, fn=fn: fn(t), repeats=repeats, memory=False)
                    for t in settings
                }
            best = min(r["median_s"] for r in times.values())
            for t, res in times.items():
                rows.append({
                    "kernel": name, "size": size,
                    "condition": "1 busy process" if busy else "as is",
                    "threads": "OpenBLAS default" if t is None else t, "median_s": res["median_s"],
                    "cpu_s": res["cpu_median_s"],
                    "ratio_to_best": res["median_s"] / best, "load": round(os.getloadavg()[0], 1),
                    "default": t == chosen,
                })  # fmt: skip
    return rows


def bench_float32(quick=False, repeats=3, kernels=None):
    """The float32 compute mode against float64 (default threads): speed and pick changes.

    The two dtypes run in alternation (float64 first in even rounds), so that a
    drift of the shared machine's speed falls on both; the speed-up is the
    median of the rounds' ratios.
    """
    rows = []
    for name, size, default, fn in _selected(quick, kernels):
        default = default() if callable(default) else default
        runs = {np.float64: lambda fn=fn, t=default: fn(t),
                np.float32: lambda fn=fn, t=default: fn(t, np.float32)}  # fmt: skip
        for run in runs.values():
            run()  # warm-up: compilation and first-touch buffers
        times, picks = {dt: [] for dt in runs}, {}
        for r in range(repeats):
            for dt in list(runs)[:: 1 if r % 2 == 0 else -1]:
                t0 = time.perf_counter()
                picks[dt] = runs[dt]()
                times[dt].append(time.perf_counter() - t0)
        p64, p32 = picks[np.float64], picks[np.float32]
        differ = len(set(p64) - set(p32))
        order = sum(a != b for a, b in zip(p64, p32, strict=True))
        ratios = [a / b for a, b in zip(times[np.float64], times[np.float32], strict=True)]
        rows.append({
            "kernel": name, "size": size,
            "float64_s": statistics.median(times[np.float64]),
            "float32_s": statistics.median(times[np.float32]),
            "speedup": statistics.median(ratios),
            "picks_differ": f"{differ}/{len(p64)} rows ({order} positions)",
        })  # fmt: skip
    return rows


def _row(name, n, d, B, L, res, ratio, note):
    return {
        "name": name,
        "n": n,
        "d": d,
        "B": B,
        "L": L,
        "median_s": res["median_s"],
        "min_s": res["min_s"],
        "peak_mb": res["peak_mb"],
        "ratio": ratio,
        "note": note,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument(
        "--only",
        choices=["badge", "bait", "coreset", "peers", "threads", "float32"],
        action="append",
        help="run only these kernels (repeatable)",
    )
    parser.add_argument(
        "--kernel",
        choices=["badge", "coreset", "bait"],
        action="append",
        help="threads/float32 sections: only these kernels (repeatable)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="threads/float32: runs per row")
    parser.add_argument("--out", default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    picked = None if args.kernel is None else set(args.kernel)
    only = set(args.only or ["badge", "bait", "coreset", "peers", "threads", "float32"])
    sections = {}
    if "badge" in only:
        import bench_badge

        sections["badge"] = (bench_badge.run(quick=args.quick), bench_badge.COLUMNS)
    if "bait" in only:
        import bench_bait

        sections["bait"] = (bench_bait.run(quick=args.quick), bench_bait.COLUMNS)
    if "coreset" in only:
        sections["coreset"] = (bench_coreset(quick=args.quick), CORESET_COLUMNS)
    if "peers" in only:
        sections["peers"] = (bench_peers(quick=args.quick), CORESET_COLUMNS)
    if "threads" in only:
        rows = bench_threads(quick=args.quick, repeats=args.repeats, kernels=picked)
        sections["threads"] = (rows, THREAD_COLUMNS)
    if "float32" in only:
        rows = bench_float32(quick=args.quick, repeats=args.repeats, kernels=picked)
        sections["float32"] = (rows, FLOAT32_COLUMNS)
    all_rows = []
    for name, (rows, columns) in sections.items():
        print(f"\n## {name}")
        print_table(rows, columns)
        all_rows += [{"kernel": name, **r} for r in rows]
    write_json(args.out, all_rows, quick=args.quick, command=" ".join(sys.argv))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
