"""``skactive select``: pick the pool rows to label next, from your own files.

Reads a labelled file and a pool file (CSV, Parquet, ``.npz``, ``.npy``),
fits a model on the labelled rows, queries the pool with a strategy and
writes the chosen rows, in pick order, to a CSV (or stdout). It then reports
what the stopping rules of :mod:`skactive.stopping` say about the labelled
set. Every check runs before anything is written: on an error, no file.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..exceptions import CommandError
from ..stopping import LabelBudget, MaxUncertainty, OverallUncertainty, StabilizingPredictions
from ._choices import MODELS, STRATEGY_ALIASES, make_model, strategy_class
from .datasets._real import _infer_task
from .datasets._tables import check_complete, feature_matrices, integer_labels, read_table

_DEFAULT_STRATEGY = {"classification": "badge", "regression": "bait"}


def add_parser(commands):
    """Add the ``select`` subcommand to ``commands`` (an argparse subparsers object)."""
    sel = commands.add_parser(
        "select",
        help="pick the rows of your own pool to label next",
        description="Fit a model on a labelled file, query a pool file with a strategy and "
        "write the chosen rows (pick order, with their row numbers) as CSV. Files: .csv, "
        ".tsv, .parquet (needs pyarrow), .npz (array X plus 1-D arrays such as y) or .npy.",
    )
    sel.add_argument("labelled", help="file of labelled rows: features and the label column")
    sel.add_argument("pool", help="file of unlabelled rows: the same feature columns")
    sel.add_argument("--label", default="y", help="name of the label column (default y)")
    sel.add_argument(
        "--id-column", help="a column that identifies rows (kept in the output, not a feature)"
    )
    sel.add_argument("--drop", default="", help="comma-separated columns to leave out")
    sel.add_argument(
        "--one-hot",
        action="store_true",
        help="encode non-numeric feature columns as one 0/1 column per category "
        "(default: a non-numeric column is an error)",
    )
    sel.add_argument(
        "--model",
        default=None,
        help=f"{', '.join(MODELS[:3])} (standardised, default logistic for classification, "
        "ridge for regression) or a .joblib file of a fitted-or-not scikit-learn estimator "
        "or pipeline (load only files you trust)",
    )
    sel.add_argument("--task", choices=("classification", "regression"), help="default: inferred")
    sel.add_argument(
        "--strategy",
        help=f"{', '.join(STRATEGY_ALIASES)} or a strategy class (default badge; bait for "
        "regression)",
    )
    sel.add_argument("--batch-size", type=int, default=10, help="rows to pick (default 10)")
    sel.add_argument("--seed", type=int, default=0, help="random seed; same seed, same rows")
    sel.add_argument("--device", default="auto", help="auto, numpy, cpu, cuda, cuda:<i>")
    sel.add_argument("--output", default="-", help="CSV file to write (default -: stdout)")
    sel.add_argument("--budget", type=int, help="total labels you can afford (stopping rule)")
    sel.add_argument(
        "--stop-set",
        help="a fixed file of unlabelled rows for the stabilising-predictions rule; "
        "successive runs compare their models' predictions on it",
    )
    sel.add_argument(
        "--stop-state",
        help="where the rule keeps the previous predictions (default: next to --stop-set, "
        "<name>.skactive-stop.json)",
    )
    sel.set_defaults(run=run)
    return sel


def run(args):
    """Run ``skactive select`` with parsed ``args``; return the exit status."""
    if args.batch_size < 1:
        raise CommandError(f"--batch-size should be >= 1; got {args.batch_size}.")
    labelled, pool = read_table(args.labelled), read_table(args.pool)
    labelled.require([args.label], "--label")
    check_complete(labelled, [args.label])
    y = integer_labels(labelled.columns[args.label])
    model, task, known = _model_and_task(args, y)
    features = known or _feature_names(args, labelled)
    pool.require(features, "a feature column of the labelled file")
    check_complete(labelled, features)
    check_complete(pool, features)
    X, X_pool = feature_matrices([labelled, pool], features, one_hot=args.one_hot)
    strategy = _strategy(args, model, task)
    strategy.fit(X, y)
    if args.batch_size > len(X_pool):
        raise CommandError(
            f"--batch-size {args.batch_size} is larger than the pool ({len(X_pool)} rows)."
        )
    picks = strategy.query(X_pool, batch_size=args.batch_size)
    rules, state = _stopping_report(args, strategy, X_pool, len(y), features, task)
    _write_rows(args.output, pool, picks)
    for path, text in state:
        path.write_text(text)
    report = sys.stderr if args.output == "-" else sys.stdout
    print(
        f"skactive select: {type(strategy).__name__} on {_model_name(args, task)} ({task}), "
        f"{len(y)} labelled rows, pool {len(X_pool)}: picked {len(picks)} rows"
        + ("" if args.output == "-" else f", written to {args.output}"),
        file=report,
    )
    for line in rules:
        print(line, file=report)
    return 0


def _model_name(args, task):
    if args.model is not None:
        return Path(args.model).name
    return "logistic" if task == "classification" else "ridge"


def _model_and_task(args, y):
    name = args.model
    if name is not None and name not in MODELS[:3]:
        from sklearn.base import is_classifier

        model, features = _load_model(name)
        return model, "classification" if is_classifier(model) else "regression", features
    task = args.task or ("regression" if name == "ridge" else None)
    task = task or ("classification" if name == "logistic" else _infer_task(y))
    name = name or ("logistic" if task == "classification" else "ridge")
    model = make_model(name, task, None, None, args.device, args.seed)
    return model, task, None


def _load_model(path):
    if not Path(path).is_file():
        raise CommandError(
            f"--model {path!r} is neither {', '.join(MODELS[:3])} nor an existing joblib file."
        )
    import joblib
    from sklearn.base import clone

    try:
        loaded = joblib.load(path)
        model = clone(loaded)
    except Exception as exc:  # unpickling fails in many ways; all mean "unusable"
        raise CommandError(f"--model {path}: not a scikit-learn estimator ({exc}).") from None
    # A fitted model knows its feature columns; the refitted clone must use the same.
    names = getattr(loaded, "feature_names_in_", None)
    return model, None if names is None else [str(c) for c in names]


def _feature_names(args, labelled):
    """The labelled file's columns besides the label, the id column and ``--drop``."""
    dropped = {c for c in args.drop.split(",") if c}
    labelled.require(sorted(dropped), "--drop")
    skip = {args.label, args.id_column, *dropped}
    if args.id_column:
        labelled.require([args.id_column], "--id-column")
    names = [c for c in labelled.names if c not in skip]
    if not names:
        raise CommandError(f"{labelled.path.name} has no feature columns besides the label.")
    return names


def _strategy(args, model, task):
    name = args.strategy or _DEFAULT_STRATEGY[task]
    cls = strategy_class(name)
    if cls is None:
        raise CommandError(
            f"--strategy: unknown strategy {name!r}; choose from {', '.join(STRATEGY_ALIASES)}."
        )
    return cls(model, random_state=args.seed, device=args.device)


def _stopping_report(args, strategy, X_pool, n_labels, features, task):
    """One line per stopping rule (its statistic, whether it says stop) and files to save."""
    lines, state = [], []
    if args.budget is not None:
        rule = LabelBudget(args.budget)
        stop = rule.check(strategy, n_labels=n_labels)
        lines.append(f"label budget: {n_labels} of {args.budget} labels used: {_verdict(stop)}")
    if task == "classification":
        for rule, what in [(MaxUncertainty(), "max"), (OverallUncertainty(), "mean")]:
            stop = rule.check(strategy, X_pool=X_pool)
            lines.append(
                f"{what} uncertainty of the pool: {rule.values_[-1]:.3f} "
                f"(stop at <= {rule.threshold}): {_verdict(stop)}"
            )
        if args.stop_set:
            line, path, text = _stabilising(args, strategy, features)
            lines.append(line)
            state.append((path, text))
    return lines, state


def _stabilising(args, strategy, features):
    """The stabilising-predictions line, and the state file's path and new text."""
    stop_table = read_table(args.stop_set)
    stop_table.require(features, "a feature column of the labelled file")
    check_complete(stop_table, features)
    (X_stop,) = feature_matrices([stop_table], features, one_hot=args.one_hot)
    state_path = Path(args.stop_state or Path(args.stop_set).with_suffix(".skactive-stop.json"))
    rule = StabilizingPredictions(X_stop)
    if state_path.is_file():
        state = json.loads(state_path.read_text())
        rule.values_ = [np.nan if v is None else v for v in state["values"]]
        rule.predictions_ = np.asarray(state["predictions"])
    stop = rule.check(strategy)
    state = {
        "values": [None if np.isnan(v) else v for v in rule.values_],
        "predictions": rule.predictions_.tolist(),
    }
    kappa = rule.values_[-1]
    if np.isnan(kappa):
        line = (
            f"stabilising predictions: first run on {stop_table.path.name}; its predictions "
            f"are kept in {state_path} for the next run: keep labelling"
        )
    else:
        recent = [v for v in rule.values_[-rule.window :] if not np.isnan(v)]
        line = (
            f"stabilising predictions: kappa={kappa:.3f} against the previous run's model; "
            f"mean of the last {len(recent)} kappa {np.mean(recent):.3f} (stop when the mean "
            f"of {rule.window} reaches {rule.threshold}): {_verdict(stop)}"
        )
    return line, state_path, json.dumps(state)


def _verdict(stop):
    return "says stop" if stop else "keep labelling"


def _write_rows(output, pool, picks):
    """The picked rows as CSV: rank, row (0-based row of the pool file), the pool's columns."""
    import csv

    texts = {name: pool.text(name) for name in pool.names}
    rows = [["rank", "row", *pool.names]]
    rows += [[str(r), str(i), *(texts[n][i] for n in pool.names)] for r, i in enumerate(picks)]
    if output == "-":
        csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
        return
    target = Path(output)
    if target.parent and not target.parent.is_dir():
        raise CommandError(f"--output: folder {target.parent} does not exist.")
    # Write to a temporary file, then rename: never a half-written output.
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".csv.part")
    with os.fdopen(fd, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    os.replace(tmp, target)
