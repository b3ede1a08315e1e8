"""
=====================================
Regression with Ridge and BAIT
=====================================

:class:`~skactive.BAIT` works for regression: it picks the rows that most
reduce the model's average predictive variance over the whole pool (see
:ref:`regression`). This example fits a polynomial ridge regression to a
noisy 1-D function whose inputs are concentrated near the origin, and compares
BAIT with random sampling and :class:`~skactive.CoreSet`.
"""

# %%
# Data: most inputs near 0, a few far out
# ---------------------------------------
# Random sampling mostly labels the dense middle, where one more label adds
# little. The test set comes from the same distribution as the pool.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from skactive import BAIT, CoreSet, RandomSampling
from skactive.experiments.plotting import plot_learning_curves
from skactive.experiments.simulation import compare_strategies

rng = np.random.RandomState(0)


def make_data(n):
    x = np.where(rng.rand(n) < 0.8, rng.normal(0, 0.7, n), rng.uniform(-3, 3, n))
    y = np.sin(1.5 * x) + 0.3 * x**2 + rng.normal(0, 0.3, n)
    return x[:, None], y


X, y = make_data(2000)
X_test, y_test = make_data(1000)

# A cubic polynomial, standardised, then ridge regression. The last linear
# layer is the ridge, so the embedding BAIT sees is the 3 standardised
# polynomial features plus a ones column for the intercept.
model = make_pipeline(
    PolynomialFeatures(degree=3, include_bias=False), StandardScaler(), Ridge(alpha=1e-2)
)

# %%
# Learning curves over 10 repeats
# -------------------------------
# :func:`~skactive.experiments.simulation.compare_strategies` runs the papers' protocol:
# a random initial set of 10 rows, then rounds of 3 queried rows, refitting
# each time and scoring R² on the test set. Repeat *r* of every strategy
# starts from the same initial set.

strategies = {
    "Random": RandomSampling(model),
    "CoreSet": CoreSet(model, device="numpy"),
    "BAIT": BAIT(model, device="numpy"),
}
results = compare_strategies(
    strategies,
    X,
    y,
    X_test,
    y_test,
    initial_size=10,
    batch_size=3,
    n_rounds=10,
    n_repeats=10,
    setting="1-D polynomial ridge",
    random_state=0,
    progress=False,
)
curves = results.curves()["1-D polynomial ridge"]
for name, (n_labels, scores) in curves.items():
    print(f"{name:>8}: mean test R² {scores[:, -1].mean():.3f} with {n_labels[-1]} labels")

fig, ax = plt.subplots(figsize=(6, 4))
plot_learning_curves(results, ax=ax, ylabel="test R²")
ax.set_ylim(0, 1)  # the fits on the 10 initial rows score far below 0
fig.tight_layout()

# %%
# Where the labels went
# ---------------------
# The 40 rows each strategy had labelled at the end of the first repeat, and
# the model fitted on them. BAIT spreads its picks over the whole range of
# ``x``, the shape an optimal design for a cubic takes; random sampling
# follows the density of the pool.

grid = np.linspace(-3, 3, 200)[:, None]
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
for ax, name in zip(axes, strategies, strict=True):
    run = next(r for r in results if r.strategy == name and r.repeat == 0)
    rows = np.concatenate(run.selected)
    fitted = model.fit(X[rows], y[rows])
    ax.scatter(X[:, 0], y, s=2, color="0.8", label="pool")
    ax.plot(grid[:, 0], fitted.predict(grid), color="C1", label="fit")
    ax.scatter(X[rows, 0], y[rows], s=18, color="C0", label="labelled")
    ax.set_title(f"{name}: R² {run.final_score:.2f}")
    ax.set_xlabel("x")
axes[0].set_ylabel("y")
axes[0].legend(loc="upper center")
fig.tight_layout()
plt.show()

# %%
# For a linear model BAIT's picks depend only on the inputs, not on the
# labels: the Fisher information of a linear-Gaussian model is label-free.
# With a neural network (:ref:`neural_networks`) the embedding is the learned
# last hidden layer and changes from round to round.
