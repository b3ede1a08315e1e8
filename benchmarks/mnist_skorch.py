"""MNIST with the papers' MLP through skorch: BADGE and BAIT end to end.

The BADGE/BAIT papers' setting at CPU scale: MNIST scaled to [0, 1], the
60,000 training rows (train + validation in the classic order) as the pool
and the last 10,000 as the test set; an MLP with one hidden ReLU layer
(``--width`` units, bias-free head) trained with Adam from scratch every
round until 99 % training accuracy (or ``--max-epochs``); 100 random initial
labels; ``--rounds`` rounds of ``--batch-size`` queries per strategy. Each
round prints the test accuracy, the epochs trained, the training time and the
selection time (embedding pass included).

``--embed-only`` instead fits the net once on the initial labels and times
one query (forward pass over the pool + selection) per strategy, median of
``--repeats`` runs, with the forward pass alone timed separately. With
``--compare-old``, BAIT's kernel as it was before issue 13
(``benchmarks/_bait_old.py``) also runs once on the same embeddings, so the
old and new figures come from the same run. ``--n-jobs`` and ``--dtype`` set
the strategies' parameters of those names (BADGE, CoreSet, BAIT).

Data: ``$SKACTIVE_DATA/mnist.npz`` (arrays ``X``, ``y``; see the shared data
README). Examples::

    SKACTIVE_DATA=/path/to/data python benchmarks/mnist_skorch.py
    SKACTIVE_DATA=/path/to/data python benchmarks/mnist_skorch.py --embed-only
    python benchmarks/mnist_skorch.py --strategies margin,coreset --pool-size 5000

Results are also written to ``benchmarks/results/mnist_skorch[_embed].json``.
"""

import argparse
import os
import statistics
import sys
import time

# Must precede the torch import: busy-waiting OpenMP threads distort timings
# on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import print_table, write_json

import skactive
from skactive.nn import make_paper_mlp

N_TRAIN = 60_000  # the classic order: 50k train, 10k validation, then 10k test
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
STRATEGIES = {
    "badge": "BADGE",
    "bait": "BAIT",
    "coreset": "CoreSet",
    "margin": "MarginSampling",
    "entropy": "EntropySampling",
    "confidence": "LeastConfidence",
    "random": "RandomSampling",
}


def load_mnist():
    """Pool and test split of ``$SKACTIVE_DATA/mnist.npz``, X scaled to [0, 1] float32."""
    folder = os.environ.get("SKACTIVE_DATA")
    if not folder:
        sys.exit("SKACTIVE_DATA is not set; point it at the folder that holds mnist.npz.")
    path = os.path.join(folder, "mnist.npz")
    if not os.path.isfile(path):
        sys.exit(f"SKACTIVE_DATA={folder!r} holds no mnist.npz; expected {path}.")
    with np.load(path) as data:
        X = data["X"].astype(np.float32) / 255.0
        y = data["y"].astype(np.int64)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--initial", type=int, default=100, help="random initial labels")
    p.add_argument("--width", type=int, default=128, help="hidden units (BAIT 128, BADGE 256)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (papers: 1e-4)")
    p.add_argument("--max-epochs", type=int, default=1000, help="epoch cap per fit")
    p.add_argument("--device", default="cpu", help="torch device of the net: cpu, cuda, ...")
    p.add_argument(
        "--kernel-device",
        default=None,
        help="strategies' device (default: numpy for a CPU net, the net's device otherwise)",
    )
    p.add_argument("--strategies", default="badge,bait", help=f"comma list of {list(STRATEGIES)}")
    p.add_argument("--pool-size", type=int, default=N_TRAIN, help="random subset of the pool")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--embed-only", action="store_true", help="time one query per strategy")
    p.add_argument("--repeats", type=int, default=3, help="timed queries in --embed-only")
    p.add_argument(
        "--compare-old", action="store_true", help="also time the pre-issue-13 BAIT kernel"
    )
    p.add_argument("--n-jobs", type=int, default=None, help="strategies' n_jobs")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = p.parse_args(argv)
    keys = [k.strip() for k in args.strategies.split(",") if k.strip()]
    unknown = sorted(set(keys) - set(STRATEGIES))
    if unknown:
        p.error(f"unknown strategies {unknown}; choose from {list(STRATEGIES)}.")
    args.strategies = keys
    if args.kernel_device is None:
        args.kernel_device = "numpy" if args.device == "cpu" else args.device
    return args


def make_strategy(key, args):
    net = make_paper_mlp(
        784,
        10,
        width=args.width,
        lr=args.lr,
        max_epochs=args.max_epochs,
        device=args.device,
        random_state=args.seed,
        batch_size=64,
        iterator_valid__batch_size=4096,  # inference: large batches, one pass
    )
    params = {}
    if key in ("badge", "coreset", "bait"):
        params = {"n_jobs": args.n_jobs, "dtype": args.dtype}
    return getattr(skactive, STRATEGIES[key])(
        net, random_state=args.seed, device=args.kernel_device, **params
    )


def _epochs(strategy):
    history = strategy.estimator_.history
    return len(history), history[-1, "train_acc"]


def learning_curve(key, data, initial, args):
    """Fit, score and query for ``args.rounds`` rounds; one row per round."""
    X_pool, y_pool, X_test, y_test = data
    strategy = make_strategy(key, args)
    labeled = np.zeros(len(X_pool), dtype=bool)
    labeled[initial] = True
    rows, select_s = [], None
    for r in range(args.rounds + 1):
        t0 = time.perf_counter()
        strategy.fit(X_pool[labeled], y_pool[labeled])
        fit_s = time.perf_counter() - t0
        epochs, train_acc = _epochs(strategy)
        row = {
            "strategy": key,
            "round": r,
            "labels": int(labeled.sum()),
            "test_acc": float(strategy.score(X_test, y_test)),
            "epochs": epochs,
            "train_acc": float(train_acc),
            "fit_s": fit_s,
            "select_s": select_s,
        }
        rows.append(row)
        print_row(row)
        if r == args.rounds:
            break
        pool = np.flatnonzero(~labeled)
        t0 = time.perf_counter()
        picks = strategy.query(X_pool[pool], batch_size=args.batch_size)
        select_s = time.perf_counter() - t0
        labeled[pool[picks]] = True
    return rows


def print_row(row):
    sel = "-" if row["select_s"] is None else f"{row['select_s']:.2f}s"
    print(
        f"{row['strategy']:>8}  round {row['round']}  labels {row['labels']:>4}  "
        f"test acc {row['test_acc']:.4f}  epochs {row['epochs']:>4} "
        f"(train acc {row['train_acc']:.3f})  fit {row['fit_s']:.1f}s  select {sel}",
        flush=True,
    )


def embed_only(data, initial, args):
    """Median seconds of one query (forward + selection) and of the forward pass alone."""
    X_pool, y_pool, _, _ = data
    rows = []
    for key in args.strategies:
        strategy = make_strategy(key, args).fit(X_pool[initial], y_pool[initial])
        embed, total = [], []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            H, P = strategy.adapter_.embed_predict(X_pool)
            embed.append(time.perf_counter() - t0)
            del H, P
            t0 = time.perf_counter()
            strategy.query(X_pool, batch_size=args.batch_size)
            total.append(time.perf_counter() - t0)
            print(
                f"  {key} run {i + 1}: embed {embed[-1]:.2f}s, query {total[-1]:.2f}s", flush=True
            )
        row = {
            "strategy": key,
            "n_pool": len(X_pool),
            "width": args.width,
            "B": args.batch_size,
            "query_median_s": statistics.median(total),
            "embed_median_s": statistics.median(embed),
            "query_times_s": [round(t, 3) for t in total],
            "embed_times_s": [round(t, 3) for t in embed],
        }
        if key == "bait" and args.compare_old:
            row.update(_old_bait(strategy, X_pool, args.batch_size, row["embed_median_s"]))
        rows.append(row)
        print(
            f"{key}: query (embed + select) median {row['query_median_s']:.2f}s "
            f"{row['query_times_s']}; embedding pass alone median {row['embed_median_s']:.2f}s",
            flush=True,
        )
    return rows


def _old_bait(strategy, X_pool, batch_size, embed_s):
    """The pre-issue-13 BAIT kernel on the same embeddings, once, plus the forward pass."""
    import _bait_old

    from skactive.backends import resolve_backend
    from skactive.kernels._bait import _bait_select

    host = resolve_backend("numpy")
    H, P = strategy._outputs(X_pool, host)
    H_lab, P_lab = strategy._labeled(host)
    t0 = time.perf_counter()
    old = _bait_old._bait_select(H, P, batch_size, H_lab, P_lab, 1.0, 2, "pool", np)
    old_s = time.perf_counter() - t0
    new = _bait_select(H, P, batch_size, H_lab, P_lab, 1.0, 2, "pool", np)
    print(f"  bait before issue 13: select {old_s:.2f}s; same picks: {old == new}", flush=True)
    return {"old_select_s": old_s, "old_query_s": old_s + embed_s, "old_same_picks": old == new}


def main(argv=None):
    args = parse_args(argv)
    X_pool, y_pool, X_test, y_test = load_mnist()
    rng = np.random.RandomState(args.seed)
    if args.pool_size < len(X_pool):
        keep = np.sort(rng.choice(len(X_pool), args.pool_size, replace=False))
        X_pool, y_pool = X_pool[keep], y_pool[keep]
    initial = rng.choice(len(X_pool), args.initial, replace=False)
    data = (X_pool, y_pool, X_test, y_test)
    print(
        f"MNIST pool {len(X_pool)}, test {len(X_test)}; MLP width {args.width}, "
        f"lr {args.lr}, cap {args.max_epochs} epochs; net on {args.device}, "
        f"kernels on {args.kernel_device}; {args.initial} initial labels, B={args.batch_size}",
        flush=True,
    )
    meta = {"args": vars(args)}
    if args.embed_only:
        rows = embed_only(data, initial, args)
        columns = ["strategy", "n_pool", "width", "B", "query_median_s", "embed_median_s"]
        columns += ["old_query_s"] if args.compare_old else []
        print_table(rows, columns)
        write_json(os.path.join(RESULTS, "mnist_skorch_embed.json"), rows, **meta)
        return
    rows = []
    for key in args.strategies:
        rows += learning_curve(key, data, initial, args)
    columns = ["strategy", "round", "labels", "test_acc", "epochs", "fit_s", "select_s"]
    print_table(rows, columns)
    write_json(os.path.join(RESULTS, "mnist_skorch.json"), rows, **meta)


if __name__ == "__main__":
    main()
