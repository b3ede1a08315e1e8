"""Selection time of issue 9's selectors next to BADGE and BAIT, on the same pool.

One synthetic pool (n rows, K classes, last-layer width d, L labelled rows) with
softmax probabilities; every kernel selects B rows on numpy (float64):

* BADGE (k-means++ on gradient embeddings), the k-DPP swap chain (⌊5·B·ln B⌋
  steps, k-means++ and uniform starts; the k-means++ start is included),
* greedy log-det on the gradient embeddings (Algorithm 2) and on the Fisher
  (Algorithm 3),
* BAIT (forward–backward, oversample 2) and forward-only BAIT.

Prints a table and writes ``benchmarks/results/selectors.json``. Usage::

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_selectors.py [--quick] [--repeats 3]
"""

import argparse
import os
import sys

import numpy as np
from scipy.special import softmax

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import measure, print_table, write_json

from skactive.kernels._bait import _bait_select
from skactive.kernels._kdpp import _kdpp_select, default_n_steps
from skactive.kernels._kmeanspp import _gradient_factor, _kmeanspp_select
from skactive.kernels._logdet import _logdet_select

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "selectors.json")
COLUMNS = ["name", "n", "K", "d", "B", "L", "median_s", "min_s", "peak_mb", "ratio", "note"]


def pool(n, K, d, L, seed=0):
    """Gaussian embeddings and moderately uncertain softmax probabilities (pool, labelled)."""
    rs = np.random.RandomState(seed)
    H = rs.normal(size=(n + L, d)) / np.sqrt(d)
    P = softmax(3.0 * rs.normal(size=(n + L, K)), axis=1)
    return H[:n], P[:n], H[n:], P[n:]


def kernels(H, P, H_lab, P_lab, B):
    """``{name: (callable, note)}``; every callable returns the picked rows."""
    A = _gradient_factor(P, np)
    return {
        "BADGE (k-means++)": (
            lambda: _kmeanspp_select(A, H, B, np.random.RandomState(0), np),
            "reference point",
        ),
        "k-DPP, k-means++ start": (
            lambda: _kdpp_select(A, H, B, np.random.RandomState(0), np, "kmeans++"),
            f"{default_n_steps(B)} chain steps",
        ),
        "k-DPP, uniform start": (
            lambda: _kdpp_select(A, H, B, np.random.RandomState(0), np, "random"),
            f"{default_n_steps(B)} chain steps",
        ),
        "log-det, gradient (Alg. 2)": (
            lambda: _logdet_select(H, P, B, H_lab, P_lab, "gradient", 1.0, np),
            "Sherman-Morrison, O(nKd)/pick",
        ),
        "log-det, Fisher (Alg. 3)": (
            lambda: _logdet_select(H, P, B, H_lab, P_lab, "fisher", 1.0, np),
            "BAIT's K x K state, B steps",
        ),
        "BAIT (oversample 2)": (
            lambda: _bait_select(H, P, B, H_lab, P_lab, 1.0, 2, "pool", np),
            "reference point, 2B + B steps",
        ),
        "BAIT forward-only": (
            lambda: _bait_select(H, P, B, H_lab, P_lab, 1.0, 1, "pool", np),
            "B steps",
        ),
    }


def run(quick=False, repeats=3, only=None):
    n, K, d, B, L = (2_000, 5, 32, 20, 50) if quick else (20_000, 10, 128, 100, 200)
    H, P, H_lab, P_lab = pool(n, K, d, L)
    rows, badge = [], None
    for name, (fn, note) in kernels(H, P, H_lab, P_lab, B).items():
        if only and not any(o in name for o in only):
            continue
        res = measure(fn, repeats=repeats)
        assert len(set(res["result"])) == B, f"{name} returned a repeated row"
        badge = res["median_s"] if badge is None and name.startswith("BADGE") else badge
        ratio = res["median_s"] / badge if badge else None
        rows.append(
            {
                "name": name,
                "n": n,
                "K": K,
                "d": d,
                "B": B,
                "L": L,
                **res,
                "ratio": ratio,
                "note": note,
            }
        )
        print_table(rows[-1:], COLUMNS)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per kernel")
    parser.add_argument("--only", action="append", help="run kernels whose name contains this")
    parser.add_argument("--out", default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick, repeats=args.repeats, only=args.only)
    print()
    print_table(rows, COLUMNS)
    write_json(args.out, rows, quick=args.quick, command=" ".join(sys.argv))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
