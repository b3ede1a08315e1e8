"""
===================================================
Comparing strategies the way the papers do
===================================================

The BADGE and BAIT papers compare strategies by simulated active learning:
hide the labels of a fully labelled pool, start from a random initial set,
and reveal labels only for the rows a strategy queries. This example runs
that protocol with :mod:`skactive.experiments.simulation` on scikit-learn's digits, and
summarises it with the papers' statistics from :mod:`skactive.experiments.evaluation`,
plotted with :mod:`skactive.experiments.plotting`.

``skactive compare`` (see :ref:`cli`) does the same from the shell.
"""

# %%
# Two settings, five repeats
# --------------------------
# A *setting* is a (data set, batch size, model) combination. We use a pool
# of 900 digits (450 more for testing), a logistic regression on 20 principal
# components, and two batch sizes. (The projection keeps BAIT quick: its cost
# grows with the square of the embedding width, here 21 with the intercept
# column.) Repeat *r* of every strategy starts from the same random initial
# set, so the runs are paired.

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skactive import BADGE, BAIT, CoreSet, MarginSampling, RandomSampling
from skactive.experiments.evaluation import normalized_error_cdf, penalty_matrix
from skactive.experiments.plotting import plot_error_cdf, plot_learning_curves, plot_penalty_matrix
from skactive.experiments.simulation import ResultCollection, compare_strategies

X, y = load_digits(return_X_y=True)
X, X_test, y, y_test = train_test_split(X, y, train_size=900, test_size=450, random_state=0)
model = make_pipeline(
    StandardScaler(), PCA(n_components=20, random_state=0), LogisticRegression(max_iter=300)
)
strategies = {
    "Random": RandomSampling(model, device="numpy"),
    "Margin": MarginSampling(model, device="numpy"),
    "CoreSet": CoreSet(model, device="numpy"),
    "BADGE": BADGE(model, device="numpy"),
    "BAIT": BAIT(model, device="numpy"),
}
# device="numpy": run the selection with numpy even where torch and a GPU are
# available, so the example never imports torch.

results = ResultCollection()
with warnings.catch_warnings():
    # Tiny labelled sets can stop the solver early; that is expected here.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for batch_size, n_rounds in [(5, 10), (20, 5)]:
        results.extend(
            compare_strategies(
                strategies,
                X,
                y,
                X_test,
                y_test,
                initial_size=20,
                batch_size=batch_size,
                n_rounds=n_rounds,
                n_repeats=5,
                setting=f"digits/B={batch_size}/pca-logistic",
                random_state=0,
                progress=False,
            )
        )
print(results)

# %%
# Learning curves
# ---------------
# Mean test accuracy over the repeats, with standard-error bands.

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, setting in zip(axes, results.settings, strict=True):
    plot_learning_curves(results, setting=setting, ax=ax, ylabel="test accuracy")
fig.tight_layout()

# %%
# Pairwise penalty matrix
# -----------------------
# At the budgets ``M + 2^(k-1) B`` before random sampling reaches 99 % of its
# final accuracy, entry (i, j) adds ``1/L`` of a setting's ``L`` budgets where
# i beats j in a paired t-test over the repeats. With 5 repeats we use the
# Student-t threshold (2.776), as the BAIT paper does. Column means: how often
# a strategy is beaten (lower is better).

penalty = penalty_matrix(results, baseline="Random", threshold="t")
print("budgets compared:", {s: b.tolist() for s, b in penalty.budgets.items()})
fig, ax = plt.subplots(figsize=(6.5, 6))
plot_penalty_matrix(penalty, ax=ax)
fig.tight_layout()

# %%
# Normalised-error CDF
# --------------------
# Each strategy's error divided by random sampling's, at the same budgets,
# pooled over the settings. Curves to the left of 1 beat random sampling.

cdf = normalized_error_cdf(results, baseline="Random")
for name in cdf.names:
    print(f"{name:>8}: mean error / random's {cdf.mean[name]:.3f}")
fig, ax = plt.subplots(figsize=(6, 4))
plot_error_cdf(cdf, ax=ax)
fig.tight_layout()
plt.show()

# %%
# Two settings and five repeats of a small linear model are far from the
# papers' experiments (many data sets, networks trained to 99 % accuracy,
# thousands of labels); see :ref:`reproducing` and :ref:`benchmarks` for
# larger runs. The results save to JSON with ``results.save(path)``.
