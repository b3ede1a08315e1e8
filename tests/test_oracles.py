"""The tests' own oracles are right: H is what the model's last linear layer reads."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ._oracles import gradient_embeddings, gradient_factor, last_layer_input


def _last_layer(model):
    """The last layer's weights, bias as the last row: H @ W are the model's outputs."""
    model = model[-1] if isinstance(model, Pipeline) else model
    if isinstance(model, MLPClassifier | MLPRegressor):
        return np.vstack([model.coefs_[-1], model.intercepts_[-1]])
    return np.vstack([np.atleast_2d(model.coef_).T, np.atleast_1d(model.intercept_)])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(),
        make_pipeline(StandardScaler(), LogisticRegression()),
        MLPClassifier(hidden_layer_sizes=(5, 4), max_iter=100, random_state=0),
    ],
    ids=["logistic", "pipeline", "mlp"],
)
def test_classifier_outputs_from_the_embedding(model, n_classes):
    X, y = make_classification(
        80, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=0
    )
    model.fit(X, y)
    logits = last_layer_input(model, X) @ _last_layer(model)
    if n_classes == 2:  # one logit for class 1
        logits = np.hstack([np.zeros_like(logits), logits])
    np.testing.assert_allclose(softmax(logits, axis=1), model.predict_proba(X), atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "model", [Ridge(), MLPRegressor(hidden_layer_sizes=(6,), max_iter=100, random_state=0)]
)
def test_regressor_outputs_from_the_embedding(model):
    X, y = make_regression(60, 4, random_state=0)
    model.fit(X, y)
    out = (last_layer_input(model, X) @ _last_layer(model)).ravel()
    np.testing.assert_allclose(out, model.predict(X), rtol=1e-10, atol=1e-10)


def test_gradient_embedding_is_the_cross_entropy_gradient():
    # For softmax regression the gradient of −log p_c at the logits Wh is
    # (p − e_c) ⊗ h; at the predicted class c = ŷ it is BADGE's embedding.
    rng = np.random.RandomState(0)
    W, H = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    P = softmax(H @ W.T, axis=1)
    G = gradient_embeddings(P, H)
    eps = 1e-6
    for i in range(5):
        c = int(np.argmax(P[i]))
        num = np.zeros(12)
        for k in range(12):
            dW = np.zeros(12)
            dW[k] = eps
            up = -np.log(softmax(H[i] @ (W + dW.reshape(3, 4)).T)[c])
            down = -np.log(softmax(H[i] @ (W - dW.reshape(3, 4)).T)[c])
            num[k] = (up - down) / (2 * eps)
        np.testing.assert_allclose(G[i], num, atol=1e-7)
    assert np.allclose(gradient_factor(P).sum(axis=1), 0.0)
