"""Independent expected values for the strategy tests.

Nothing here calls skactive: the last layer's input is computed from the
fitted model's own parameters (``coef_``-style linear models take the
features plus a ones column for the intercept; an MLP is run forward through
``coefs_``/``intercepts_``), probabilities come from the model's
``predict_proba``, and everything else is written out in plain numpy.
"""

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

_ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
}


def last_layer_input(model, X):
    """The input of ``model``'s last linear layer for the rows of ``X`` (n × d)."""
    if isinstance(model, Pipeline):
        return last_layer_input(model[-1], model[:-1].transform(X))
    X = np.asarray(X, dtype=float)
    if isinstance(model, MLPClassifier | MLPRegressor):
        h = X
        for W, b in zip(model.coefs_[:-1], model.intercepts_[:-1], strict=True):
            h = _ACT[model.activation](h @ W + b)
        # The output layer has a bias: its input includes a constant 1.
        return np.hstack([h, np.ones((len(h), 1))])
    if getattr(model, "fit_intercept", False):
        return np.hstack([X, np.ones((len(X), 1))])
    return X


def gradient_factor(P):
    """Row i is p_i − e_ŷ with ŷ the first most probable class (a_i in BADGE)."""
    A = np.array(P, dtype=float)
    for i, p in enumerate(P):
        A[i, int(np.argmax(p))] -= 1.0
    return A


def gradient_embeddings(P, H):
    """The explicit n × Kd BADGE embeddings: row i is a_i ⊗ h_i (class-major)."""
    A = gradient_factor(P)
    return np.stack([np.kron(A[i], H[i]) for i in range(len(H))])


def top_rows(scores, k):
    """Indices of the k largest scores, lowest index first among equals."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
