"""
=====================================
An adapter for your own model
=====================================

skactive reaches a model through an *adapter* (see :ref:`adapters`). The
built-in ones cover scikit-learn's linear models, MLPs, pipelines, searches
and skorch nets. For a model of your own, subclass
:class:`~skactive.adapters.BaseAdapter` and register it with
:func:`~skactive.adapters.register_adapter`; every strategy can then use it.

The model here is a small classifier written from scratch: a fixed random
feature map followed by a logistic-regression head. We then compare the
batches that :class:`~skactive.MarginSampling` and :class:`~skactive.BADGE`
ask for on a 2-D problem.
"""

# %%
# A model skactive does not know
# ------------------------------
# Random Fourier features, ``cos(X W + b)``, then a logistic regression. It is
# one estimator (not a :class:`~sklearn.pipeline.Pipeline`), so no built-in
# adapter recognises it.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_moons
from sklearn.linear_model import LogisticRegression

from skactive import BADGE, MarginSampling
from skactive.adapters import BaseAdapter, register_adapter
from skactive.exceptions import UnsupportedEstimatorError


class RandomFeatureClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on random Fourier features of X."""

    def __init__(self, n_components=100, gamma=2.0, C=10.0, random_state=0):
        self.n_components = n_components
        self.gamma = gamma
        self.C = C
        self.random_state = random_state

    def features(self, X):
        return np.sqrt(2.0 / self.n_components) * np.cos(np.asarray(X) @ self.W_ + self.b_)

    def fit(self, X, y):
        rng = np.random.RandomState(self.random_state)
        n_features = np.shape(X)[1]
        self.W_ = rng.normal(scale=np.sqrt(2 * self.gamma), size=(n_features, self.n_components))
        self.b_ = rng.uniform(0, 2 * np.pi, self.n_components)
        self.head_ = LogisticRegression(C=self.C, max_iter=1000).fit(self.features(X), y)
        self.classes_ = self.head_.classes_
        self.n_features_in_ = n_features
        return self

    def predict_proba(self, X):
        return self.head_.predict_proba(self.features(X))

    def predict(self, X):
        return self.head_.predict(self.features(X))


X, y = make_moons(n_samples=1000, noise=0.2, random_state=0)
labelled = np.random.RandomState(1).choice(len(X), 12, replace=False)
pool = np.setdiff1d(np.arange(len(X)), labelled)

try:
    BADGE(RandomFeatureClassifier()).fit(X[labelled], y[labelled])
except UnsupportedEstimatorError as exc:
    print(str(exc)[:80], "...")

# %%
# The adapter
# -----------
# The model's last linear layer is the logistic-regression head. Its input is
# the feature map, and it fits an intercept, so the embedding is the features
# plus a column of ones. ``embed_predict`` returns the embedding and the class
# probabilities from one computation of the features.


@register_adapter
class RandomFeatureAdapter(BaseAdapter):
    description = "RandomFeatureClassifier (the head's input)"
    task = "classification"

    @classmethod
    def supports(cls, estimator):
        return isinstance(estimator, RandomFeatureClassifier)

    @property
    def n_outputs(self):
        return len(self.estimator.classes_)

    def embed_predict(self, X):
        Z = self.estimator.features(X)
        H = np.hstack([Z, np.ones((len(Z), 1))])
        return H, self.estimator.head_.predict_proba(Z)


# %%
# Two batches of 12
# -----------------
# Margin sampling takes the 12 rows closest to the decision boundary. BADGE
# weighs each row by its uncertainty but draws the batch to be diverse in the
# gradient-embedding space, so it covers more of the boundary.

strategies = {
    "MarginSampling": MarginSampling(RandomFeatureClassifier()),
    "BADGE": BADGE(RandomFeatureClassifier(), random_state=0),
}
xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.2, 1.7, 150))
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (name, al) in zip(axes, strategies.items(), strict=True):
    al.fit(X[labelled], y[labelled])
    print(
        f"{name}: adapter {type(al.adapter_).__name__}, "
        f"embedding width {al.adapter_.embed(X[:1]).shape[1]}"
    )
    rows = pool[al.query(X[pool], batch_size=12)]
    proba = al.predict_proba(np.c_[xx.ravel(), yy.ravel()])[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1)
    ax.scatter(X[pool, 0], X[pool, 1], s=4, c="0.6")
    ax.scatter(
        X[labelled, 0],
        X[labelled, 1],
        c=y[labelled],
        cmap="RdBu_r",
        edgecolors="k",
        s=50,
        label="labelled",
    )
    ax.scatter(X[rows, 0], X[rows, 1], marker="*", s=160, c="gold", edgecolors="k", label="queried")
    ax.set_title(name)
axes[0].legend(loc="lower left")
fig.tight_layout()
plt.show()

# %%
# Registered adapters are tried before the built-in ones, most recent first.
# Remove one with ``register_adapter(cls, remove=True)``:

register_adapter(RandomFeatureAdapter, remove=True)
