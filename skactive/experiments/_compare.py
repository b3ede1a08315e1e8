"""``skactive compare``: the command-line front of the experiment layer.

It simulates batch active learning with several strategies
on one data set (scikit-learn's bundled digits by default), prints the mean
test score per label budget and writes the results (JSON), learning curves,
the pairwise penalty matrix and the normalised-error CDF (PNG) to a folder.

:func:`add_parser` declares the options and :func:`run` carries them out;
:mod:`skactive.cli` owns the program, its exit codes and its error lines.
"""

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ..exceptions import CommandError, UsageError
from ._choices import MODELS, STRATEGY_ALIASES, make_model, strategy_class

DEFAULT_STRATEGIES = {
    "classification": ["random", "margin", "badge", "bait"],
    "regression": ["random", "coreset", "bait"],
}


def add_parser(commands):
    """Add the ``compare`` subcommand to ``commands`` (an argparse subparsers object)."""
    cmp = commands.add_parser(
        "compare",
        help="compare strategies in simulated active learning",
        description="Simulate batch active learning with several strategies: random initial "
        "set, then rounds of query, reveal labels, refit; report test scores per budget.",
    )
    cmp.add_argument(
        "--data",
        default="digits",
        help="digits (scikit-learn's bundled set, default); mnist, letter, kropt, nyc_weather "
        "or diamonds, read from the folder in $SKACTIVE_DATA, else fetched from OpenML when "
        "online (mnist, letter, kropt); openml:<id>; a .npz file with X and y (and optionally "
        "X_test, y_test); or a .csv, .tsv or .parquet file with a --label column",
    )
    cmp.add_argument(
        "--task",
        choices=("classification", "regression"),
        help="default: the data set's, or inferred from the labels (text or integers: "
        "classification)",
    )
    cmp.add_argument("--label", default="y", help="label column of a table file (default y)")
    cmp.add_argument("--drop", default="", help="comma-separated columns of a table to leave out")
    cmp.add_argument(
        "--one-hot", action="store_true", help="one-hot encode non-numeric columns of a table"
    )
    cmp.add_argument(
        "--model", choices=MODELS, help="default: logistic (classification), ridge (regression)"
    )
    cmp.add_argument(
        "--strategies",
        help="comma-separated: random, margin, entropy, confidence, coreset, badge, bait, "
        "albl, kdpp, logdet (GreedyLogDet on the Fisher) or class names of skactive "
        "(default: random,margin,badge,bait; for regression "
        "random,coreset,bait)",
    )
    cmp.add_argument("--initial-size", type=int, default=20, help="initial labels (default 20)")
    cmp.add_argument("--batch-size", type=int, default=10, help="labels per round (default 10)")
    cmp.add_argument("--rounds", type=int, default=10, help="query rounds (default 10)")
    cmp.add_argument("--repeats", type=int, default=3, help="runs per strategy (default 3)")
    cmp.add_argument("--pool-size", type=int, help="use a random subset of the pool")
    cmp.add_argument("--device", default="auto", help="auto, numpy, cpu, cuda, cuda:<i>")
    cmp.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    cmp.add_argument("--n-jobs", type=int, default=1, help="parallel runs (default 1)")
    cmp.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads per run (default 1: the many small fits and queries run fastest "
        "single-threaded, above all on a busy machine)",
    )
    cmp.add_argument(
        "--threshold",
        choices=("normal", "t"),
        default="normal",
        help="penalty-matrix test: 1.96 (normal, BADGE) or Student-t quantile (t, BAIT)",
    )
    cmp.add_argument(
        "--output", default="skactive-compare", help="output folder (default ./skactive-compare)"
    )
    cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    cmp.set_defaults(run=run)
    return cmp


def _load_data(args):
    """The pool and test arrays, the task and how it was decided (``task_note``)."""
    from .datasets import DATASETS, load_dataset, load_npz

    spec, task, pool_size = args.data, args.task, args.pool_size
    given = f"{task} (from --task)" if task else None
    if spec == "digits":
        data = _load_digits(task)
        data["task_note"] = "classification (digits: 10 classes)"
    elif spec in DATASETS:
        data = load_dataset(spec, task=task, pool_size=pool_size)
        data["task_note"] = given or f"{data['task']} (the {spec} data set's)"
        pool_size = None
    elif spec.startswith("openml:"):
        data = _load_openml(spec, task)
    elif Path(spec).suffix.lower() in TABLE_SUFFIXES:
        data = _load_table(args)
    elif Path(spec).suffix == ".npz" or Path(spec).exists():
        data = load_npz(spec, task=task)
    else:
        raise CommandError(
            f"--data {spec!r} is neither a file nor one of digits, {', '.join(DATASETS)}, "
            "openml:<id>."
        )
    data = dict(data)
    data.setdefault("task_note", given or _inferred_task_note(data["y"], data["task"]))
    if pool_size is not None and pool_size < len(data["y"]):
        keep = np.random.RandomState(args.seed).choice(len(data["y"]), pool_size, replace=False)
        data["X"], data["y"] = data["X"][keep], data["y"][keep]
    return data


TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")

#: More distinct integer labels than this draws a note that they may be quantities.
_MANY_CLASSES = 20


def _inferred_task_note(y, task):
    """How the task was inferred from ``y``, with a hint when the guess looks doubtful."""
    if task == "regression":
        return "regression (inferred: the labels are numbers that are not all integers)"
    values = np.unique(np.asarray(y))
    if values.dtype.kind not in "fiu":
        shown = ", ".join(repr(str(v)) for v in values[:3])
        return f"classification (inferred: {len(values)} text labels such as {shown})"
    note = f"classification (inferred: the labels are {len(values)} distinct integers)"
    if len(values) > _MANY_CLASSES:
        note += (
            f"; {len(values)} classes is many: if the labels are quantities, pass --task regression"
        )
    return note


def _load_digits(task):
    from sklearn.datasets import load_digits

    from .datasets._real import _split

    if task == "regression":
        raise CommandError("--task regression does not fit --data digits (10 classes).")
    X, y = load_digits(return_X_y=True)
    X, y, X_test, y_test = _split(X, y, 0.25, 0)
    return {"X": X, "y": y, "X_test": X_test, "y_test": y_test, "task": "classification"}


def _load_table(args):
    """A CSV or Parquet file: ``--label`` is y, the other columns (minus ``--drop``) X."""
    from .datasets._real import _infer_task, _split
    from .datasets._tables import check_complete, feature_matrices, integer_labels, read_table

    table = read_table(args.data)
    table.require([args.label], "--label")
    dropped = [c for c in args.drop.split(",") if c]
    table.require(dropped, "--drop")
    features = [c for c in table.names if c != args.label and c not in dropped]
    if not features:
        raise CommandError(f"{table.path.name} has no feature columns besides the label.")
    check_complete(table, [args.label, *features])
    (X,) = feature_matrices([table], features, one_hot=args.one_hot)
    y = integer_labels(table.columns[args.label])
    task = args.task or _infer_task(y)
    if task == "regression" and y.dtype == object:
        raise CommandError(f"--task regression: column {args.label!r} holds text, not numbers.")
    X, y, X_test, y_test = _split(X, y, 0.25, 0)
    return {"X": X, "y": y, "X_test": X_test, "y_test": y_test, "task": task}


def _load_openml(spec, task):
    from sklearn.datasets import fetch_openml

    from .datasets._real import _infer_task, _split

    try:
        data_id = int(spec.split(":", 1)[1])
    except ValueError:
        raise CommandError(f"--data {spec!r}: the OpenML id should be an integer.") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # retries: the error says it all
            X, y = fetch_openml(data_id=data_id, return_X_y=True, as_frame=False, n_retries=1)
    except Exception as exc:  # offline, unknown id, parser: all mean "not available"
        raise CommandError(f"--data {spec}: fetching from OpenML failed ({exc}).") from None
    X = np.asarray(X, dtype=np.float64)
    note = f"{task} (from --task)" if task else _inferred_task_note(y, _infer_task(y))
    task = task or _infer_task(y)
    if task == "classification":
        y = np.unique(y, return_inverse=True)[1]
    X, y, X_test, y_test = _split(X, np.asarray(y), 0.1, 0)
    return {"X": X, "y": y, "X_test": X_test, "y_test": y_test, "task": task, "task_note": note}


def _skorch_arrays(data, task):
    """skorch wants float32 inputs, int64 labels 0..K-1 and 2-D regression targets."""
    for key in ("X", "X_test"):
        data[key] = np.asarray(data[key], dtype=np.float32)
    if task == "classification":
        _, codes = np.unique(np.concatenate([data["y"], data["y_test"]]), return_inverse=True)
        data["y"], data["y_test"] = codes[: len(data["y"])], codes[len(data["y"]) :]
    else:
        for key in ("y", "y_test"):
            y = np.asarray(data[key], dtype=np.float32)
            data[key] = y.reshape(len(y), -1)
    return data


def _resolve_strategies(spec, task):
    """``{class name: class}`` for ``--strategies``; defaults skip missing classes."""
    import skactive

    names = DEFAULT_STRATEGIES[task] if spec is None else [s for s in spec.split(",") if s]
    if not names:
        raise UsageError("argument --strategies: empty; name at least one strategy.")
    resolved = {}
    for name in names:
        cls = strategy_class(name)
        if cls is not None:
            resolved[cls.__name__] = cls
        elif spec is None:
            print(f"skactive: note: {name} is not in this skactive yet; skipped.", file=sys.stderr)
        else:
            raise UsageError(
                f"argument --strategies: unknown strategy {name!r}; choose from "
                f"{', '.join(STRATEGY_ALIASES)} or a strategy class of skactive."
            )
    if "RandomSampling" not in resolved:
        # The penalty matrix and the CDF are relative to random sampling.
        resolved = {"RandomSampling": skactive.RandomSampling, **resolved}
    return resolved


def _check_options(args):
    for option, minimum in [
        ("initial_size", 1),
        ("batch_size", 1),
        ("rounds", 1),
        ("repeats", 1),
        ("pool_size", 2),
        ("threads", 1),
    ]:
        value = getattr(args, option)
        if value is not None and value < minimum:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"argument {flag}: should be >= {minimum}; got {value}.")
    if args.n_jobs == 0:
        raise UsageError("argument --n-jobs: should be a nonzero int (-1 for all cores).")


def _table(collection, scoring):
    curves = next(iter(collection.curves().values()))
    names = list(curves)
    n_labels = curves[names[0]][0]
    rows = [["labels", *names]]
    for i, n in enumerate(n_labels):
        row = [str(n)]
        for name in names:
            scores = curves[name][1][:, i]
            se = scores.std(ddof=1) / np.sqrt(len(scores)) if len(scores) > 1 else 0.0
            row.append(f"{scores.mean():.3f} ± {se:.3f}")
        rows.append(row)
    by_name = {r.strategy: [] for r in collection}
    for r in collection:
        by_name[r.strategy].append(r.query_time[1:].mean() if len(r.query_time) > 1 else 0.0)
    rows.append(["query s", *(f"{np.mean(by_name[n]):.3f}" for n in names)])
    widths = [max(len(r[j]) for r in rows) for j in range(len(names) + 1)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    n_repeats = len(curves[names[0]][1])
    how = (
        f"Each cell: test {scoring} after that many labels, mean ± standard error over "
        f"{n_repeats} repeats (higher is better); 'query s': mean seconds per query, "
        "start-up excluded."
    )
    return "\n".join([f"test {scoring} (mean ± s.e. over repeats)", *lines, how])


def _summary(penalty, cdf):
    """The penalty and error-CDF summaries, each with a line on how to read it."""
    budgets = sorted({int(b) for bs in penalty.budgets.values() for b in bs})
    if not budgets:
        return [
            "compared budgets: none (random sampling was within 1% of its final score from "
            "the first query on); try more --rounds or a smaller --batch-size.",
            "penalty matrix column means: " + ", ".join(f"{n} n/a" for n in penalty.names),
            "mean error / random's error: " + ", ".join(f"{n} n/a" for n in cdf.names),
        ]
    means = zip(penalty.names, penalty.column_means, strict=True)
    return [
        f"compared budgets (labels): {', '.join(map(str, budgets))} (M + 2^(k-1)·B, until "
        "random sampling reaches 99% of its final score)",
        "penalty matrix column means: " + ", ".join(f"{n} {v:.2f}" for n, v in means),
        "  How often each strategy was significantly beaten at those budgets (its column of "
        "the penalty matrix, averaged): 0 = never; lower is better.",
        "mean error / random's error: " + ", ".join(f"{n} {cdf.mean[n]:.3f}" for n in cdf.names),
        "  The test error (1 - score) relative to random sampling's at those budgets: "
        "below 1 = fewer errors than random; lower is better.",
    ]


def _write_plots(collection, penalty, cdf, output):
    from matplotlib.figure import Figure

    from .plotting import plot_error_cdf, plot_learning_curves, plot_penalty_matrix

    written = []
    k = len(penalty.names)
    for name, size, draw in [
        ("learning_curves.png", (7, 4.5), lambda ax: plot_learning_curves(collection, ax=ax)),
        (
            "penalty_matrix.png",
            (1.3 * k + 3, 1.1 * k + 2.5),
            lambda ax: plot_penalty_matrix(penalty, ax=ax),
        ),
        ("error_cdf.png", (7, 4.5), lambda ax: plot_error_cdf(cdf, ax=ax)),
    ]:
        # A bare Figure needs no GUI backend: fine on servers and in CI.
        fig = Figure(figsize=size, layout="constrained")
        draw(fig.add_subplot())
        fig.savefig(output / name, dpi=100)
        written.append(output / name)
    return written


def run(args):
    """Run ``skactive compare`` with parsed ``args``; return the exit status."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from .evaluation import normalized_error_cdf, penalty_matrix
    from .simulation import compare_strategies

    start = time.perf_counter()
    _check_options(args)
    data = _load_data(args)
    task = data["task"]
    model_name = args.model or ("logistic" if task == "classification" else "ridge")
    y_all = np.concatenate([data["y"], data["y_test"]])
    if task == "classification":
        n_outputs = len(np.unique(y_all))
    else:
        n_outputs = y_all.reshape(len(y_all), -1).shape[1]
    if model_name == "skorch-mlp":
        data = _skorch_arrays(data, task)
    model = make_model(model_name, task, data["X"].shape[1], n_outputs, args.device, args.seed)
    classes = _resolve_strategies(args.strategies, task)
    strategies = {name: cls(model, device=args.device) for name, cls in classes.items()}
    setting = f"{Path(args.data).stem}/B={args.batch_size}/{model_name}"
    print(
        f"skactive compare: {setting}, pool {len(data['y'])}, test {len(data['y_test'])}, "
        f"{args.initial_size} initial labels + {args.rounds} rounds, {args.repeats} repeats, "
        f"strategies {', '.join(strategies)}",
        flush=True,
    )
    print(f"task: {data['task_note']}", flush=True)
    if args.n_jobs != 1:
        # Worker processes do not inherit warning filters, only the environment.
        os.environ.setdefault(
            "PYTHONWARNINGS",
            "ignore:lbfgs failed to converge,ignore:Stochastic Optimizer,"
            "ignore:The number of unique classes",
        )
    with warnings.catch_warnings(), threadpool_limits(limits=args.threads):
        # Small labelled sets make solvers stop early; that is expected here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Many integer classes: the task line above already says what to do.
        warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
        collection = compare_strategies(
            strategies,
            data["X"],
            data["y"],
            data["X_test"],
            data["y_test"],
            initial_size=args.initial_size,
            batch_size=args.batch_size,
            n_rounds=args.rounds,
            n_repeats=args.repeats,
            setting=setting,
            random_state=args.seed,
            n_jobs=args.n_jobs,
            progress=not args.quiet,
        )
    scoring = collection[0].scoring
    print(_table(collection, scoring))
    penalty = penalty_matrix(collection, threshold=args.threshold)
    cdf = normalized_error_cdf(collection)
    print("\n".join(_summary(penalty, cdf)))
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    collection.save(output / "results.json")
    try:
        written = _write_plots(collection, penalty, cdf, output)
    except ImportError:
        written = []
        print("skactive: note: matplotlib is not installed; no plots written.", file=sys.stderr)
    files = ", ".join(p.name for p in [output / "results.json", *written])
    print(f"wrote {files} to {output}/ in {time.perf_counter() - start:.1f} s")
    return 0
