"""The BADGE and BAIT papers' learning-curve comparisons, at CPU scale on real data.

Three groups of settings, each a (data set, batch size, model) combination:

* classification on MNIST, letter and kropt with a linear model (logistic
  regression) and an MLP (one hidden layer of 128 ReLU units), at several
  batch sizes: Random, Margin, CoreSet, BADGE, BAIT (plus Entropy and Least
  confidence in the full preset);
* regression, BAIT against Random and CoreSet, on MNIST one-hot labels
  (``np.eye(10)[y]``), NYC hourly precipitation and diamonds log prices;
* the BAIT paper's linear experiment: logistic regression on MNIST in a
  learned 128-d representation (the hidden layer of an MLP trained on the
  10,000 "validation" rows, outside the pool) against a random Gaussian
  projection to 128-d, batches of 10.

The ``selectors`` preset runs issue 9's experiments and writes its own section
of ``README_paper.md`` (between markers; the other presets keep it):

* ``fig2``, the BAIT paper's Fig. 2: forward-only BAIT against greedy log-det
  on the Fisher and on the gradient embeddings, logistic regression on the
  learned and the random 128-d MNIST features, 50 batches of 10;
* ``selectors``, the BADGE paper's App. G and ALBL: BADGE against k-DPP
  sampling (accuracy and selection time side by side) and ALBL, with the
  classification baselines, on MNIST, letter and kropt with a linear model.

Every run follows :func:`skactive.experiments.simulation.active_learning_curve`: random
initial set, then query, reveal, refit from scratch. Repeat r of every
strategy shares its initial set and seeds, so the penalty matrix's t-tests
are paired. At CPU scale the pool is a random subset of each training set
(``pool`` rows), features are standardised on the pool, and MNIST's pixels
are projected on their first 50 principal components (fitted on the pool)
for the classification and regression groups, which keeps BAIT's Fisher
matrices (K·d square) and the MLP fits small.

Data come from ``$SKACTIVE_DATA`` (see ``../shared/data/README.md``).
Run ``python benchmarks/bench_paper.py --preset quick`` (about 20 minutes on
2 cores) or ``--preset full``. Results: ``benchmarks/results/paper_<preset>.json``
(every run, :class:`~skactive.experiments.simulation.ResultCollection` format),
``paper_<preset>_summary.json``, PNG plots in the same folder, and a summary
in ``benchmarks/README_paper.md``.
"""

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

# Busy-waiting OpenMP threads distort timings on a shared machine; this must
# precede any torch import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Small labelled sets stop the solvers early; expected, and noisy. Set in the
# environment so that joblib's worker processes inherit it (by message: the
# -W syntax cannot name sklearn's warning class at interpreter start-up).
os.environ.setdefault(
    "PYTHONWARNINGS", "ignore:lbfgs failed to converge,ignore:Stochastic Optimizer"
)

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import skactive
from skactive.experiments.datasets import load_dataset
from skactive.experiments.evaluation import normalized_error_cdf, penalty_matrix
from skactive.experiments.simulation import ResultCollection, compare_strategies

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README_paper.md"

REGRESSION_STRATEGIES = ("RandomSampling", "CoreSet", "BAIT")
CLASSIFICATION_SETS = ("mnist", "letter", "kropt")
REGRESSION_SETS = ("mnist", "nyc_weather", "diamonds")

PRESETS = {
    "quick": {
        "pool": 1000,
        "test": 2000,
        "repeats": 3,
        "rounds": 8,
        "batch_sizes": (10, 25),
        "initial": {"classification": 40, "regression": 20, "linear": 20},
        "models": {"classification": ("linear", "mlp"), "regression": ("linear",)},
        # BAIT on letter's MLP (K = 26, K·d = 3354) alone takes longer than the
        # whole quick budget on 2 cores; the full preset has it.
        "mlp_sets": ("mnist", "kropt"),
        "classification": (
            "RandomSampling",
            "MarginSampling",
            "CoreSet",
            "BADGE",
            "BAIT",
            "ALBL",
        ),
        "representation_rows": 5000,
        "representation_epochs": 20,
    },
    "full": {
        "pool": 10000,
        "test": 10000,
        "repeats": 5,
        "rounds": 16,
        "batch_sizes": (10, 50, 100),
        "initial": {"classification": 100, "regression": 50, "linear": 20},
        "models": {"classification": ("linear", "mlp"), "regression": ("linear", "mlp")},
        "mlp_sets": CLASSIFICATION_SETS + REGRESSION_SETS,
        "classification": (
            "RandomSampling",
            "LeastConfidence",
            "MarginSampling",
            "EntropySampling",
            "CoreSet",
            "BADGE",
            "BAIT",
            "KDPP",
            "ALBL",
        ),
        "representation_rows": 10000,
        "representation_epochs": 50,
    },
    # Issue 9's experiments (run with --groups fig2,selectors).
    "selectors": {
        "pool": 1000,
        "test": 2000,
        "repeats": 3,
        "rounds": 8,
        "batch_sizes": (10, 25),
        "initial": {"classification": 40, "linear": 20, "fig2": 20, "selectors": 40},
        "models": {"classification": ("linear",), "regression": ()},
        "mlp_sets": (),
        "classification": (),
        "representation_rows": 5000,
        "representation_epochs": 20,
        # The paper runs 50 batches of 10; 40 keep the run within ~15 minutes
        # on 2 shared cores (BAIT's Kd = 1,290 state dominates).
        "fig2_pool": 700,
        "fig2_rounds": 40,
        "fig2_repeats": 2,
    },
}

#: Issue 9's strategy line-ups: name -> (class name, parameters).
FIG2_STRATEGIES = {
    "RandomSampling": ("RandomSampling", {}),
    "BAIT (forward)": ("BAIT", {"oversample": 1}),
    "LogDet Fisher": ("GreedyLogDet", {"embedding": "fisher"}),
    "LogDet gradient": ("GreedyLogDet", {"embedding": "gradient"}),
}
SELECTOR_STRATEGIES = {
    "RandomSampling": ("RandomSampling", {}),
    "MarginSampling": ("MarginSampling", {}),
    "LeastConfidence": ("LeastConfidence", {}),
    "CoreSet": ("CoreSet", {}),
    "BADGE": ("BADGE", {}),
    "KDPP": ("KDPP", {}),
    "ALBL": ("ALBL", {}),
}
GROUPS = ("classification", "regression", "linear", "fig2", "selectors")
SECTION = ("<!-- issue-9 selectors: start -->", "<!-- issue-9 selectors: end -->")


def available(names):
    """Strategy specs ``{name: (class, params)}``; the missing classes are reported and left out.

    ``names`` is a sequence of class names or a dict ``{name: (class name, params)}``.
    """
    specs = names if isinstance(names, dict) else {n: (n, {}) for n in names}
    found = {
        name: (getattr(skactive, cls), params)
        for name, (cls, params) in specs.items()
        if hasattr(skactive, cls)
    }
    return found, [cls for name, (cls, _) in specs.items() if name not in found]


def model(kind, task):
    if task == "classification":
        if kind == "linear":
            return LogisticRegression(max_iter=1000)
        return MLPClassifier(hidden_layer_sizes=(128,), max_iter=200)
    if kind == "linear":
        return Ridge(alpha=1.0)
    return MLPRegressor(hidden_layer_sizes=(128,), max_iter=200)


def standardise(X, X_test):
    scaler = StandardScaler().fit(X)
    return scaler.transform(X), scaler.transform(X_test)


def prepare(name, task, cfg, seed):
    """Pool and test set of a data set, reduced to CPU scale and standardised."""
    data = load_dataset(name, task=task, pool_size=cfg["pool"], random_state=seed)
    X, X_test = data.X.astype(np.float64), data.X_test.astype(np.float64)
    y, y_test = data.y, data.y_test
    if len(y_test) > cfg["test"]:
        keep = np.random.RandomState(seed).choice(len(y_test), cfg["test"], replace=False)
        X_test, y_test = X_test[keep], y_test[keep]
    if name == "mnist":
        pca = PCA(n_components=50, random_state=seed).fit(X)
        X, X_test = pca.transform(X), pca.transform(X_test)
    X, X_test = standardise(X, X_test)
    return X, y, X_test, y_test


def representations(cfg, seed):
    """The BAIT paper's linear setting: learned vs random 128-d features of MNIST."""
    data = load_dataset("mnist", random_state=seed)
    rng = np.random.RandomState(seed)
    # Rows 50,000-59,999 (MNIST's validation rows) train the representation;
    # the pool is drawn from the first 50,000, so no pool label is used.
    rep_rows = 50_000 + rng.choice(10_000, cfg["representation_rows"], replace=False)
    pool_rows = rng.choice(50_000, cfg["pool"], replace=False)
    test_rows = rng.choice(len(data.y_test), min(cfg["test"], len(data.y_test)), replace=False)
    X, y = data.X[pool_rows].astype(np.float64), data.y[pool_rows]
    X_test, y_test = data.X_test[test_rows].astype(np.float64), data.y_test[test_rows]
    net = MLPClassifier(
        hidden_layer_sizes=(128,), max_iter=cfg["representation_epochs"], random_state=seed
    ).fit(data.X[rep_rows], data.y[rep_rows])

    def hidden(Z):
        return np.maximum(Z @ net.coefs_[0] + net.intercepts_[0], 0.0)

    G = rng.normal(size=(X.shape[1], 128)) / np.sqrt(X.shape[1])
    learned, learned_test = standardise(hidden(X), hidden(X_test))
    projected, projected_test = standardise(X @ G, X_test @ G)
    return {
        "mnist-learned128": (learned, y, learned_test, y_test),
        "mnist-random128": (projected, y, projected_test, y_test),
    }


def plan(cfg, groups):
    """The settings to run: dicts with group, data, task, model, batch size, strategies."""
    cls_found, cls_missing = available(cfg["classification"])
    reg_found, reg_missing = available(REGRESSION_STRATEGIES)
    # Cheapest and most telling first, so that an interrupted run (results are
    # saved after every setting) still covers every group.
    settings = []
    if "linear" in groups:
        for data in ("mnist-learned128", "mnist-random128"):
            settings.append(("linear", data, "classification", "linear", 10, cls_found))
    if "fig2" in groups:
        fig2_found, fig2_missing = available(FIG2_STRATEGIES)
        cls_missing += fig2_missing
        for data in ("mnist-learned128", "mnist-random128"):
            settings.append(("fig2", data, "classification", "linear", 10, fig2_found))
    if "selectors" in groups:
        sel_found, sel_missing = available(SELECTOR_STRATEGIES)
        cls_missing += sel_missing
        for data in CLASSIFICATION_SETS:
            for B in cfg.get("selectors_batch_sizes", cfg["batch_sizes"]):
                settings.append(("selectors", data, "classification", "linear", B, sel_found))
    for kind in cfg["models"]["classification"]:
        if "classification" in groups:
            for data in CLASSIFICATION_SETS:
                if kind == "mlp" and data not in cfg["mlp_sets"]:
                    continue
                for B in cfg["batch_sizes"]:
                    settings.append(("classification", data, "classification", kind, B, cls_found))
        if "regression" in groups and kind in cfg["models"]["regression"]:
            for data in REGRESSION_SETS:
                if kind == "mlp" and data not in cfg["mlp_sets"]:
                    continue
                for B in cfg["batch_sizes"]:
                    settings.append(("regression", data, "regression", kind, B, reg_found))
    return settings, sorted(set(cls_missing) | set(reg_missing))


def _label(setting):
    group, data, _, kind, B, _ = setting
    if group == "regression" and data == "mnist":
        data = "mnist-onehot"  # the BAIT paper's regression on np.eye(10)[y]
    return f"{data}/B={B}/{kind}"


def run(preset, groups, n_jobs, seed, only=None, resume=False):
    """Run the preset's settings; return the results, missing strategies and wall seconds.

    The wall time is this run's plus, with ``resume``, the recorded time of
    every setting taken over from an earlier, interrupted run.
    """
    cfg = PRESETS[preset]
    settings, missing = plan(cfg, groups)
    if only:
        settings = [s for s in settings if any(o in _label(s) for o in only)]
    for name in missing:
        print(f"note: {name} is not in this skactive; left out of every setting", file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"paper_{preset}.json"
    collection, earlier, done = ResultCollection(), 0.0, {}
    if resume and out.exists():
        planned = {_label(s) for s in settings}
        kept = [r for r in ResultCollection.load(out) if r.setting in planned]
        collection.extend(kept)
        done = {r.setting: r.info.get("setting_seconds", 0.0) for r in kept}
        earlier = sum(done.values())
        settings = [s for s in settings if _label(s) not in done]
        print(f"resuming: {len(done)} settings done earlier in {earlier:.0f} s", flush=True)
    cache, reps = {}, None
    start = time.perf_counter()
    for setting in settings:
        group, data, task, kind, B, classes = setting
        t0 = time.perf_counter()
        if data.startswith("mnist-") and data.endswith("128"):
            reps = reps or representations(cfg, seed)
            arrays = reps[data]
            if group == "fig2":
                arrays = _subsample(arrays, cfg.get("fig2_pool"), seed)
        else:
            key = (data, task)
            if key not in cache:
                cache[key] = prepare(data, task, cfg, seed)
            arrays = cache[key]
        est = model(kind, task)
        strategies = {
            name: cls(est, device="numpy", **params) for name, (cls, params) in classes.items()
        }
        label = _label(setting)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # Small labelled sets stop the solvers early; expected, and noisy.
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = compare_strategies(
                strategies,
                *arrays,
                initial_size=cfg["initial"][group],
                batch_size=B,
                n_rounds=cfg.get(f"{group}_rounds", cfg["rounds"]),
                n_repeats=cfg.get(f"{group}_repeats", cfg["repeats"]),
                setting=label,
                random_state=seed,
                n_jobs=n_jobs,
            )
        for r in res:
            r.info["group"] = group
            r.info["setting_seconds"] = time.perf_counter() - t0
        collection.extend(res)
        collection.save(out)  # after every setting, so an interrupted run keeps its results
        print(f"{label:32s} {time.perf_counter() - t0:7.1f} s", flush=True)
    return collection, missing, earlier + time.perf_counter() - start, len(done)


def _subsample(arrays, n, seed):
    """The first ``n`` pool rows (already a random draw) and the whole test set."""
    X, y, X_test, y_test = arrays
    return arrays if n is None or n >= len(y) else (X[:n], y[:n], X_test, y_test)


def group_curves(collection, group):
    sub = ResultCollection(r for r in collection if r.info.get("group") == group)
    return sub.curves() if len(sub) else {}


def summarise(collection):
    """Penalty matrices (both thresholds), CDF summaries and timings per group."""
    summary = {}
    for group in GROUPS:
        curves = group_curves(collection, group)
        if not curves:
            continue
        entry = {"settings": list(curves)}
        for threshold in ("normal", "t"):
            P = penalty_matrix(curves, threshold=threshold)
            entry[f"penalty_{threshold}"] = {
                "names": P.names,
                "matrix": P.matrix.round(4).tolist(),
                "column_means": P.column_means.round(4).tolist(),
                "n_settings": P.n_settings,
            }
        cdf = normalized_error_cdf(curves)
        entry["cdf"] = {"mean": cdf.mean, "below_one": cdf.below_one}
        entry["per_setting"] = {s: normalized_error_cdf({s: c}).mean for s, c in curves.items()}
        entry["budgets"] = {s: b.tolist() for s, b in penalty_matrix(curves).budgets.items()}
        summary[group] = entry
    timing = {}
    for r in collection:
        t = timing.setdefault(r.strategy, {"query": [], "fit": []})
        t["query"].extend(r.query_time[1:].tolist())
        t["fit"].extend(r.fit_time.tolist())
    summary["seconds_per_round"] = {
        k: {"query": float(np.mean(v["query"])), "fit": float(np.mean(v["fit"]))}
        for k, v in timing.items()
    }
    return summary


def plots(collection, summary, preset, curves_to_plot):
    from matplotlib.figure import Figure

    from skactive.experiments.plotting import (
        plot_error_cdf,
        plot_learning_curves,
        plot_penalty_matrix,
    )

    written = []

    def save(fig, name):
        fig.savefig(RESULTS / name, dpi=100)
        written.append(name)

    for group in GROUPS:
        curves = group_curves(collection, group)
        if not curves:
            continue
        P = penalty_matrix(curves)
        k = len(P.names)
        fig = Figure(figsize=(1.3 * k + 3, 1.1 * k + 2.5), layout="constrained")
        plot_penalty_matrix(P, ax=fig.add_subplot(), title=f"{group}: {P.n_settings} settings")
        save(fig, f"paper_{preset}_penalty_{group}.png")
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        plot_error_cdf(normalized_error_cdf(curves), ax=fig.add_subplot(), title=group)
        save(fig, f"paper_{preset}_cdf_{group}.png")
    for setting in curves_to_plot:
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        plot_learning_curves(collection, setting=setting, ax=fig.add_subplot())
        save(fig, f"paper_{preset}_curve_{setting.replace('/', '_').replace('=', '')}.png")
    return written


def _fmt_row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header, rows):
    return "\n".join(
        [_fmt_row(header), _fmt_row(["---"] * len(header)), *(_fmt_row(r) for r in rows)]
    )


def curve_table(collection, setting, step=1):
    curves = collection.curves()[setting]
    names = list(curves)
    n_labels = curves[names[0]][0]
    rows = []
    shown = sorted(set(range(0, len(n_labels), step)) | {len(n_labels) - 1})
    for i, n in ((i, n_labels[i]) for i in shown):
        cells = [n]
        for name in names:
            s = curves[name][1][:, i]
            cells.append(f"{s.mean():.3f} ± {s.std(ddof=1) / np.sqrt(len(s)):.3f}")
        rows.append(cells)
    return _table(["labels", *names], rows)


def _verdict(entry):
    """Which strategy the numbers favour: lowest column mean, most settings won."""
    pn = entry["penalty_normal"]
    means = dict(zip(pn["names"], pn["column_means"], strict=True))
    low = min(means.values())
    best = [n for n, v in means.items() if v == low]
    wins = dict.fromkeys(pn["names"], 0)
    for s, m in entry["per_setting"].items():
        if entry["budgets"][s]:
            top = min(m.values())
            for n in (n for n, v in m.items() if v == top):
                wins[n] += 1
    won = ", ".join(f"{n} {k}" for n, k in sorted(wins.items(), key=lambda x: -x[1]))
    return (
        f"Lowest column mean (t > 1.96): {' and '.join(best)} ({low:.2f}). "
        f"Settings where each strategy has the lowest mean error / random: {won} "
        f"(of {sum(bool(b) for b in entry['budgets'].values())} with budgets; ties count for all)."
    )


def readme(collection, summary, preset, wall, missing, pngs, curves_to_plot, command):
    lines = [
        "# The papers' comparisons at CPU scale",
        "",
        f"Produced by `{command}` ({preset} preset) in {wall / 60:.1f} minutes on "
        f"{os.cpu_count()} CPU cores ({platform.platform()}, Python {platform.python_version()}, "
        "one BLAS thread per run); the machine was shared with other jobs, so the times are "
        "upper bounds. Every run and these tables are in "
        f"`benchmarks/results/paper_{preset}.json` and `paper_{preset}_summary.json`; "
        "the plots (not committed) in `benchmarks/results/`.",
        "",
        "Protocol (`skactive.experiments.simulation`): a random initial set, then rounds of "
        "query → reveal → refit from scratch; repeat r of every strategy shares its initial "
        "set. The penalty matrix and the normalised-error CDF "
        "(`skactive.experiments.evaluation`) compare strategies at the budgets M + 2^(k−1)·B "
        "before random sampling reaches 99 % of its "
        "final score, each setting (data set, batch size, model) weighted equally. "
        "Entry (i, j) of a penalty matrix is the weight of budgets where i beats j in a "
        "paired t-test over repeats; a column mean is how often that strategy is beaten "
        "(lower is better).",
        "",
    ]
    if summary.get("resumed_settings"):
        lines += [
            f"The run was resumed: {summary['resumed_settings']} settings come from an "
            "earlier, interrupted run (same settings and seeds), and their "
            "recorded times are included in the total above.",
            "",
        ]
    if preset == "selectors":
        cfg = PRESETS[preset]
        lines += [
            "Sizes (chosen so the run fits about 20 minutes on 2 shared cores): "
            f"**fig2** (BAIT paper Fig. 2) uses {cfg['fig2_pool']} pool rows of MNIST's first "
            "50,000 embedded by the hidden layer (128 ReLU units) of an MLP trained for "
            f"{cfg['representation_epochs']} epochs on {cfg['representation_rows']} of the "
            "10,000 validation rows, or by a random Gaussian projection to 128-d; logistic "
            f"regression; {cfg['initial']['fig2']} random initial labels, then "
            f"{cfg['fig2_rounds']} batches of 10 (the paper runs 50) and "
            f"{cfg['fig2_repeats']} repeats; {cfg['test']} test rows. **selectors** (BADGE "
            "App. G and ALBL) uses MNIST (50 principal components), letter and kropt with "
            f"{cfg['pool']} pool rows, {cfg['initial']['selectors']} initial labels, "
            f"{cfg['rounds']} rounds of B = {' and '.join(map(str, cfg['batch_sizes']))}, "
            f"{cfg['repeats']} repeats, logistic regression. ALBL runs with its defaults "
            "(CoreSet, LeastConfidence and a uniform arm); KDPP with ⌊5·B·ln B⌋ chain steps "
            "from the k-means++ start.",
            "",
        ]
    if missing:
        lines += [
            f"**Not run:** {', '.join(missing)} (not exported by `skactive` when this ran).",
            "",
        ]
    for group, entry in summary.items():
        if not isinstance(entry, dict) or "penalty_normal" not in entry:
            continue
        pn, pt = entry["penalty_normal"], entry["penalty_t"]
        cdf = entry["cdf"]
        lines += [
            f"## {group.capitalize()}: {len(entry['settings'])} settings, "
            f"{pn['n_settings']} with budgets to compare",
            "",
            "Penalty-matrix column means (lower is better) and normalised-error summary "
            "(mean of error / random's error; weight of budgets where the error is below "
            "random's):",
            "",
            _table(
                [
                    "strategy",
                    "column mean, t > 1.96",
                    "column mean, t > Student-t 97.5 %",
                    "mean error / random",
                    "below random",
                ],
                [
                    [
                        n,
                        f"{a:.2f}",
                        f"{b:.2f}",
                        f"{cdf['mean'][n]:.3f}",
                        f"{cdf['below_one'][n]:.2f}",
                    ]
                    for n, a, b in zip(
                        pn["names"], pn["column_means"], pt["column_means"], strict=True
                    )
                ],
            ),
            "",
            _verdict(entry),
            "",
            "Penalty matrix (t > 1.96; row beats column):",
            "",
            _table(
                ["", *pn["names"]],
                [
                    [n, *(f"{v:.2f}" for v in row)]
                    for n, row in zip(pn["names"], pn["matrix"], strict=True)
                ],
            ),
            "",
            "Mean error / random's error per setting (lower is better; – : no budget "
            "before random reaches 99 % of its final score):",
            "",
            _table(
                ["setting", *pn["names"]],
                [
                    [s, *(f"{m[n]:.3f}" if entry["budgets"][s] else "–" for n in pn["names"])]
                    for s, m in entry["per_setting"].items()
                ],
            ),
            "",
        ]
        for png in (f"paper_{preset}_penalty_{group}.png", f"paper_{preset}_cdf_{group}.png"):
            if png in pngs:
                lines.append(f"Plot: `benchmarks/results/{png}`")
        lines.append("")
    lines += ["## Learning curves (test score, mean ± standard error over repeats)", ""]
    for setting in curves_to_plot:
        png = f"paper_{preset}_curve_{setting.replace('/', '_').replace('=', '')}.png"
        rounds = len(collection.curves()[setting][next(iter(collection.curves()[setting]))][0])
        lines += [
            f"### {setting}",
            "",
            curve_table(collection, setting, step=max(1, rounds // 10)),
            "",
            f"Plot: `benchmarks/results/{png}`",
            "",
        ]
    lines += [
        "## Seconds per round (mean over all runs)",
        "",
        _table(
            ["strategy", "query", "fit"],
            [
                [k, f"{v['query']:.3f}", f"{v['fit']:.3f}"]
                for k, v in summary["seconds_per_round"].items()
            ],
        ),
        "",
    ]
    if preset == "selectors":
        lines += selector_tables(collection)
    write_readme(lines, preset)


def selector_tables(collection):
    """BADGE against k-DPP per setting (BADGE App. G): final accuracy and seconds per query."""
    pairs = [n for n in ("BADGE", "KDPP") if n in collection.strategies]
    if len(pairs) < 2:
        return []
    rows = []
    for setting, curves in collection.curves().items():
        if not all(n in curves for n in pairs):
            continue
        cells = [setting]
        for name in pairs:
            s = curves[name][1][:, -1]
            cells.append(f"{s.mean():.3f} ± {s.std(ddof=1) / np.sqrt(len(s)):.3f}")
        for name in pairs:
            q = [
                r.query_time[1:].mean()
                for r in collection
                if r.setting == setting and r.strategy == name
            ]
            cells.append(f"{np.mean(q):.3f}")
        rows.append(cells)
    return [
        "## k-means++ (BADGE) against k-DPP sampling (BADGE paper, App. G)",
        "",
        "Final test accuracy (mean ± standard error over repeats) and mean seconds per query:",
        "",
        _table(
            ["setting", *(f"{n} accuracy" for n in pairs), *(f"{n} s/query" for n in pairs)], rows
        ),
        "",
    ]


def write_readme(lines, preset):
    """Write ``README_paper.md``: the selectors preset owns the marked section, the rest the top.

    Each keeps the other's part, so running one preset never erases the other's tables.
    """
    old = README.read_text() if README.exists() else ""
    start, end = SECTION
    if start in old and end in old:
        top = old[: old.index(start)].rstrip("\n")
        section = old[old.index(start) : old.index(end) + len(end)]
    else:
        top, section = old.rstrip("\n"), ""
    if preset == "selectors":
        body = [("#" + ln) if ln.startswith("#") else ln for ln in lines]
        body[0] = "## The papers' other selectors (issue 9): ALBL, k-DPP, greedy log-det"
        section = "\n".join([start, "", *body, end])
    else:
        top = "\n".join(lines).rstrip("\n")
    README.write_text("\n\n".join(p for p in (top, section) if p) + "\n")


def pick_curves(collection):
    """A few settings worth showing: the first of each group."""
    chosen = []
    for group in GROUPS:
        settings = list(group_curves(collection, group))
        chosen += settings if group in ("linear", "fig2") else settings[:1]
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument(
        "--groups",
        default="classification,regression,linear",
        help="comma-separated subset of classification, regression, linear, fig2, selectors "
        "(the last two with --preset selectors)",
    )
    parser.add_argument("--only", help="comma-separated substrings of setting labels to run")
    parser.add_argument("--n-jobs", type=int, default=2, help="parallel runs (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--summarise", action="store_true", help="only rebuild the summary from saved results"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the settings already in results/paper_<preset>.json and run the others",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("SKACTIVE_DATA"):
        parser.error("set SKACTIVE_DATA to the folder of the data sets (see shared/data/README.md)")
    groups = [g for g in args.groups.split(",") if g]
    start = time.perf_counter()
    command = ("python benchmarks/bench_paper.py " + " ".join(argv or sys.argv[1:])).strip()
    previous = RESULTS / f"paper_{args.preset}_summary.json"
    if args.summarise:
        collection = ResultCollection.load(RESULTS / f"paper_{args.preset}.json")
        # Keep what the run itself reported missing.
        missing = json.loads(previous.read_text()).get("missing", []) if previous.exists() else []
        # Keep the facts of the run that produced the results.
        before = json.loads(previous.read_text()) if previous.exists() else {}
        wall = before.get("wall_seconds", 0.0)
        resumed = before.get("resumed_settings", 0)
        command = before.get("command", command)
    else:
        collection, missing, wall, resumed = run(
            args.preset,
            groups,
            args.n_jobs,
            args.seed,
            args.only.split(",") if args.only else None,
            resume=args.resume,
        )
    summary = summarise(collection)
    summary.update(wall_seconds=wall, missing=missing, resumed_settings=resumed, command=command)
    previous.write_text(json.dumps(summary, indent=1))
    chosen = pick_curves(collection)
    pngs = plots(collection, summary, args.preset, chosen)
    readme(collection, summary, args.preset, wall, missing, pngs, chosen, command)
    for group, entry in summary.items():
        if isinstance(entry, dict) and "penalty_normal" in entry:
            P = entry["penalty_normal"]
            means = ", ".join(
                f"{n} {v:.2f}" for n, v in zip(P["names"], P["column_means"], strict=True)
            )
            print(f"{group}: column means {means}")
    print(f"done in {(time.perf_counter() - start) / 60:.1f} min; summary in {README}")


if __name__ == "__main__":
    main()
