"""
=========================================================
A labelling loop with a scikit-learn pipeline
=========================================================

The everyday use of skactive: a scikit-learn pipeline (scaling, then a
logistic regression), a small labelled set, and a pool of unlabelled rows.
Each round the strategy is fitted on the labelled rows and asked for the next
batch; an "annotator" reveals the labels of that batch; repeat.

Here the annotator is simulated with the known labels of scikit-learn's
bundled digits, so we can also score the model after every round on a
held-out test set, and compare :class:`~skactive.BADGE` with random
sampling.
"""

# %%
# The data and the model
# ----------------------
# 1,797 images of handwritten digits, 8 × 8 pixels. A quarter is held out for
# testing; the rest is the pool. The model is an ordinary scikit-learn
# pipeline; skactive reaches its last linear layer through the pipeline.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skactive import BADGE, RandomSampling

X, y = load_digits(return_X_y=True)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))

# %%
# The loop
# --------
# ``is_labelled`` marks the pool rows whose label we know. ``query`` sees only
# the unlabelled rows and returns indices into the array it was given, so we
# map them back to pool positions. ``annotate`` stands for the annotators.


def annotate(rows):
    """Return the labels of ``X_pool[rows]`` (here: look them up)."""
    return y_pool[rows]


def run(strategy, n_initial=20, batch_size=10, n_rounds=12, seed=0):
    labels = np.full(len(X_pool), -1)  # -1: not labelled yet
    start = np.random.RandomState(seed).choice(len(X_pool), n_initial, replace=False)
    labels[start] = annotate(start)
    n_labels, accuracy, batches = [], [], []
    for _ in range(n_rounds + 1):
        is_labelled = labels >= 0
        strategy.fit(X_pool[is_labelled], labels[is_labelled])
        n_labels.append(int(is_labelled.sum()))
        accuracy.append(strategy.score(X_test, y_test))
        unlabelled = np.flatnonzero(~is_labelled)
        rows = unlabelled[strategy.query(X_pool[unlabelled], batch_size=batch_size)]
        labels[rows] = annotate(rows)
        batches.append(rows)
    return n_labels, accuracy, batches


curves, batches = {}, {}
for strategy in [RandomSampling(model, random_state=0), BADGE(model, random_state=0)]:
    name = type(strategy).__name__
    n_labels, accuracy, batches[name] = run(strategy)
    curves[name] = (n_labels, accuracy)
    print(
        f"{name:>14}: accuracy {accuracy[0]:.3f} with {n_labels[0]} labels, "
        f"{accuracy[-1]:.3f} with {n_labels[-1]}"
    )

# %%
# Test accuracy after each round
# ------------------------------
# One run each, so the curves are noisy; see
# :ref:`sphx_glr_auto_examples_plot_compare_strategies.py` for repeats and
# the papers' statistics.

fig, ax = plt.subplots(figsize=(6, 4))
for name, (n_labels, accuracy) in curves.items():
    ax.plot(n_labels, accuracy, marker="o", label=name)
ax.set_xlabel("labels used")
ax.set_ylabel("test accuracy")
ax.grid(linestyle="--", linewidth=0.5)
ax.legend()
fig.tight_layout()

# %%
# What BADGE asked for
# --------------------
# The first batch BADGE sent to the annotator, in pick order. The first pick
# is the image whose gradient embedding has the largest norm,
# ``‖p − onehot(ŷ)‖ · ‖h‖``: an image the model is unsure about. Each next
# pick is drawn with probability proportional to its squared distance from
# the picks before it, so the batch spreads over different digits.

first_batch = batches["BADGE"][0]
fig, axes = plt.subplots(1, len(first_batch), figsize=(1.1 * len(first_batch), 1.6))
for ax, row in zip(axes, first_batch, strict=True):
    ax.imshow(X_pool[row].reshape(8, 8), cmap="gray_r")
    ax.set_title(str(y_pool[row]))
    ax.axis("off")
fig.suptitle("BADGE's first batch (true labels)")
fig.tight_layout()
plt.show()
