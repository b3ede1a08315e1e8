"""Adapters for scikit-learn estimators: linear models, MLPs, pipelines, searches."""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

from ..utils import is_classifier, is_regressor
from ._base import BaseAdapter, _register_builtin, get_adapter, is_multilabel


def _dense(X):
    X = X.toarray() if sp.issparse(X) else X
    return np.asarray(X, dtype=np.float64)


def _with_ones(X, fit_intercept):
    """X as float64, with a column of ones when the model fits an intercept.

    The intercept is a last-layer parameter too, so its gradient (the constant
    input 1) belongs in the embedding.
    """
    X = _dense(X)
    if not fit_intercept:
        return X
    return np.hstack([X, np.ones((X.shape[0], 1))])


def _is_linear(estimator):
    # A per-feature coef_ plus intercept_ is what makes X itself the input of
    # the last (only) linear layer; tree or kernel models have no such layer.
    coef = getattr(estimator, "coef_", None)
    n_features = getattr(estimator, "n_features_in_", None)
    return (
        coef is not None
        and hasattr(estimator, "intercept_")
        and not sp.issparse(coef)
        and np.ndim(coef) in (1, 2)
        and np.shape(coef)[-1] == n_features
    )


@_register_builtin
class LinearClassifierAdapter(BaseAdapter):
    """Linear classifiers with ``predict_proba``: the embedding is X (plus a ones column).

    Covers LogisticRegression[CV], SGDClassifier with a probabilistic loss and
    any classifier whose fitted ``coef_`` has one column per input feature.
    A binary model is treated as the two-class softmax its ``predict_proba``
    describes (K=2).
    """

    description = "linear classifiers with predict_proba (LogisticRegression, SGDClassifier)"
    task = "classification"

    @classmethod
    def supports(cls, estimator):
        return (
            is_classifier(estimator)
            and _is_linear(estimator)
            and hasattr(estimator, "predict_proba")
        )

    @property
    def n_outputs(self):
        return len(self.estimator.classes_)

    def embed(self, X):
        return _with_ones(X, getattr(self.estimator, "fit_intercept", True))

    def predict_proba(self, X):
        return self.estimator.predict_proba(X)

    def embed_predict(self, X):
        return self.embed(X), self.predict_proba(X)


@_register_builtin
class LinearRegressorAdapter(BaseAdapter):
    """Linear regressors: the embedding is X (plus a ones column with an intercept).

    Covers LinearRegression, Ridge[CV], Lasso, ElasticNet, BayesianRidge,
    SGDRegressor, HuberRegressor and any regressor with a per-feature
    ``coef_`` and an ``intercept_``.
    """

    description = (
        "linear regressors (LinearRegression, Ridge, Lasso, ElasticNet, BayesianRidge, "
        "SGDRegressor, HuberRegressor)"
    )
    task = "regression"

    @classmethod
    def supports(cls, estimator):
        return is_regressor(estimator) and _is_linear(estimator)

    @property
    def n_outputs(self):
        coef = np.asarray(self.estimator.coef_)
        return 1 if coef.ndim == 1 else coef.shape[0]

    def embed(self, X):
        return _with_ones(X, getattr(self.estimator, "fit_intercept", True))

    def embed_predict(self, X):
        # Regression's Fisher information needs H only; P carries the predictions
        # as (n, n_outputs) so single- and multi-output models look the same.
        pred = np.asarray(self.estimator.predict(X), dtype=np.float64)
        return self.embed(X), pred.reshape(pred.shape[0], -1)


_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


@_register_builtin
class MLPAdapter(BaseAdapter):
    """MLPClassifier / MLPRegressor: the embedding is the last hidden layer (plus ones).

    One forward pass through the fitted weights gives both the last hidden
    activations and the output, computed as the estimator's own
    ``predict_proba`` / ``predict`` do. Multilabel classifiers are not
    supported.
    """

    description = "MLPClassifier and MLPRegressor (last hidden layer)"

    @classmethod
    def supports(cls, estimator):
        if isinstance(estimator, MLPClassifier):
            return hasattr(estimator, "coefs_") and not is_multilabel(estimator)
        return isinstance(estimator, MLPRegressor) and hasattr(estimator, "coefs_")

    @property
    def task(self):
        return "classification" if is_classifier(self.estimator) else "regression"

    @property
    def n_outputs(self):
        if self.task == "classification":
            return len(self.estimator.classes_)
        return self.estimator.n_outputs_

    def embed_predict(self, X):
        est = self.estimator
        act = _ACTIVATIONS[est.activation]
        H = _dense(X)
        # The output layer is linear in the last hidden activations: those are
        # the embedding, and its bias is the constant input 1 (the ones column).
        for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1], strict=True):
            H = act(H @ W + b)
        out = H @ est.coefs_[-1] + est.intercepts_[-1]
        H = np.hstack([H, np.ones((H.shape[0], 1))])
        if self.task == "regression":
            return H, out
        if est.out_activation_ == "softmax":
            return H, softmax(out, axis=1)
        # Binary: one logistic unit, i.e. the two-class softmax of (0, z);
        # both columns are returned so that K=2 as for every other classifier.
        p = expit(out[:, 0])
        return H, np.column_stack([1.0 - p, p])


@_register_builtin
class PipelineAdapter(BaseAdapter):
    """Pipeline: apply the transforms, then delegate to the final step's adapter."""

    description = "Pipeline whose final step is supported"

    @classmethod
    def supports(cls, estimator):
        return isinstance(estimator, Pipeline)

    def __init__(self, estimator):
        super().__init__(estimator)
        self.final_ = get_adapter(estimator[-1])

    @property
    def task(self):
        return self.final_.task

    @property
    def n_outputs(self):
        return self.final_.n_outputs

    def _transform(self, X):
        return self.estimator[:-1].transform(X) if len(self.estimator) > 1 else X

    def embed(self, X):
        return self.final_.embed(self._transform(X))

    def predict_proba(self, X):
        return self.final_.predict_proba(self._transform(X))

    def embed_predict(self, X):
        return self.final_.embed_predict(self._transform(X))


@_register_builtin
class SearchCVAdapter(BaseAdapter):
    """GridSearchCV / RandomizedSearchCV (refit): delegate to ``best_estimator_``."""

    description = "GridSearchCV/RandomizedSearchCV with refit=True"

    @classmethod
    def supports(cls, estimator):
        return hasattr(estimator, "best_estimator_") and hasattr(estimator, "cv_results_")

    def __init__(self, estimator):
        super().__init__(estimator)
        self.best_ = get_adapter(estimator.best_estimator_)

    @property
    def task(self):
        return self.best_.task

    @property
    def n_outputs(self):
        return self.best_.n_outputs

    def embed(self, X):
        return self.best_.embed(X)

    def predict_proba(self, X):
        return self.best_.predict_proba(X)

    def embed_predict(self, X):
        return self.best_.embed_predict(X)


class ProbabilityAdapter(BaseAdapter):
    """Any fitted single-output classifier with ``predict_proba``: probabilities only.

    The strategies that rank rows by class probabilities alone
    (:class:`~skactive.LeastConfidence`, :class:`~skactive.MarginSampling`,
    :class:`~skactive.EntropySampling`) fall back to this adapter when no
    registered adapter supports their estimator, e.g. a
    ``RandomForestClassifier``, an ``SVC(probability=True)``, or either inside
    a ``Pipeline`` or a search CV. It is not registered: strategies that need
    embeddings still require an adapter that provides them.

    Parameters
    ----------
    estimator : classifier
        A fitted classifier with ``predict_proba`` and a 1-D ``classes_``.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skactive.adapters import ProbabilityAdapter
    >>> clf = RandomForestClassifier(n_estimators=5, random_state=0)
    >>> clf = clf.fit([[0.0], [1.0], [2.0]], [0, 1, 1])
    >>> ProbabilityAdapter.supports(clf), ProbabilityAdapter(clf).predict_proba([[0.1]]).shape
    (True, (1, 2))
    """

    description = "any classifier with predict_proba (probabilities only)"
    task = "classification"

    @classmethod
    def supports(cls, estimator):
        return (
            is_classifier(estimator)
            and hasattr(estimator, "predict_proba")
            and hasattr(estimator, "classes_")
            and not is_multilabel(estimator)
        )

    @property
    def n_outputs(self):
        return len(self.estimator.classes_)

    def predict_proba(self, X):
        return self.estimator.predict_proba(X)

    def embed_predict(self, X):
        raise AttributeError(
            f"ProbabilityAdapter gives class probabilities only; "
            f"{type(self.estimator).__name__} has no embeddings adapter."
        )
