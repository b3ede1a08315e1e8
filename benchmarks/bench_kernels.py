"""Kernel benchmarks: BADGE, BAIT and CoreSet, with their reference points in the same run.

Prints one table per kernel and writes every row to ``benchmarks/results/kernels.json``.
The BADGE and BAIT rows come from ``bench_badge.py`` and ``bench_bait.py``; this script adds
CoreSet at the issue's size (n=50,000, d=512, B=1000, 1,000 labelled) next to two reference
points: B passes of ``H @ v`` over the same H (the memory-bandwidth floor of any greedy
k-center that reads the pool once per pick) and, at a smaller size, the authors' way
(an ``m × L`` distance matrix from ``pairwise_distances`` and a Python-level update loop).
When scikit-activeml is installed, its Badge and CoreSet run on the same pools ("peers").

Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_kernels.py [--quick] [--only coreset]
"""

import argparse
import os
import sys

import numpy as np
from sklearn.metrics import pairwise_distances

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import measure, print_table, write_json

from skactive.kernels._kcenter import _kcenter_greedy

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "kernels.json")
CORESET_COLUMNS = ["name", "n", "d", "B", "L", "median_s", "min_s", "peak_mb", "ratio", "note"]


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
        choices=["badge", "bait", "coreset", "peers"],
        action="append",
        help="run only these kernels (repeatable)",
    )
    parser.add_argument("--out", default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    only = set(args.only or ["badge", "bait", "coreset", "peers"])
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
    all_rows = []
    for name, (rows, columns) in sections.items():
        print(f"\n## {name}")
        print_table(rows, columns)
        all_rows += [{"kernel": name, **r} for r in rows]
    write_json(args.out, all_rows, quick=args.quick, command=" ".join(sys.argv))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
