"""Base class of the query strategies."""

import numbers
from abc import ABCMeta, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import check_array, check_random_state, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .adapters import (
    ProbabilityAdapter,
    convert_data,
    explain_fit_error,
    get_adapter,
    model_validates_input,
    unsupported_message,
)
from .backends import resolve_backend
from .distributed import check_not_dask, is_dask_collection
from .exceptions import UnsupportedEstimatorError
from .utils import is_regressor
from .utils._validation import (
    DEVICE,
    HasMethods,
    _fit_context,
    _num_samples,
    check_batch_size,
    check_model_output,
    validate_data,
)

#: What each value of ``_needs`` asks of the fitted estimator, for error messages.
_NEEDS = {
    "embeddings": "the embeddings (input of the last linear layer) of its estimator",
    "probabilities": "class probabilities (predict_proba) from its estimator",
}


def _estimator_has(attr):
    """Make a delegated method available only when the wrapped estimator has ``attr``."""

    def check(self):
        est = getattr(self, "estimator_", self.estimator)
        getattr(est, attr)  # raises AttributeError, which hides the method
        if attr in _CLASSIFIER_ONLY and is_regressor(est):
            # e.g. skorch's NeuralNetRegressor inherits a meaningless predict_proba.
            raise AttributeError(f"A regressor has no {attr}.")
        return True

    return check


_CLASSIFIER_ONLY = ("predict_proba", "predict_log_proba")


def _is_array_input(X):
    """Whether ``X`` is array data in scikit-learn's sense.

    Models that do not validate their input get such data checked by
    skactive. Tensors, DataFrames (skorch reads their columns as separate
    inputs), dicts, datasets and lists of arrays (skorch's several inputs)
    are left to the model; a list of rows is array data.
    """
    if isinstance(X, np.ndarray):
        return True
    if isinstance(X, (list, tuple)):
        return all(isinstance(row, (list, tuple, numbers.Number)) for row in X)
    library = type(X).__module__.partition(".")[0]
    return hasattr(X, "__array__") and library not in ("torch", "pandas", "polars")


def _ndim(a):
    ndim = getattr(a, "ndim", None)
    return ndim if isinstance(ndim, int) else np.asarray(a).ndim


class BaseQueryStrategy(MetaEstimatorMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for batch active-learning query strategies.

    A strategy wraps an estimator: :meth:`fit` clones and fits it on the
    labelled set, :meth:`query` picks rows of an unlabelled pool to label
    next, and ``predict``/``predict_proba``/``decision_function``/``score``
    are delegated to the fitted estimator when it has them. Classification vs
    regression follows the wrapped estimator. The class is abstract: use one
    of the strategies, or subclass it.

    Subclasses implement ``_select(X_pool, batch_size, rng, backend)`` and may
    set ``_tasks`` (the tasks they support), ``_needs`` (what they need from
    the model: ``"embeddings"``, the default, ``"probabilities"`` or
    ``"nothing"``) and ``_needs_labeled`` (keep the labelled rows' model
    outputs, computed once in :meth:`fit`, as ``_labeled_outputs``).

    Parameters
    ----------
    estimator : estimator object
        The model to wrap; cloned in :meth:`fit`.
    random_state : int, RandomState instance or None, default=None
        Seeds the strategy's random draws. An int gives the same batch on
        every call; a RandomState advances from call to call.
    device : str, default="auto"
        Where the kernels run: ``"auto"`` (torch on CUDA when available, else
        numpy), ``"numpy"``, ``"cpu"`` (torch CPU), ``"cuda"``, ``"cuda:<i>"``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter or None
        The adapter of ``estimator_`` (None for a strategy that needs nothing
        from the model when no adapter supports it).
    n_features_in_ : int
        Number of features seen in :meth:`fit`: the wrapped estimator's, or,
        for models that do not validate their input (skorch nets), the one
        skactive recorded when it validated ``X``.
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "random_state": ["random_state"],
        "device": [DEVICE],
    }
    _tasks = frozenset({"classification", "regression"})
    _needs = "embeddings"
    _needs_labeled = False
    # What device="auto" means here: None resolves it (torch on a visible GPU);
    # "numpy" for strategies whose per-row work is too small for a GPU to pay
    # off, which then never import torch.
    _auto_device = None

    def __init__(self, estimator, *, random_state=None, device="auto"):
        self.estimator = estimator
        self.random_state = random_state
        self.device = device

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Clone and fit the wrapped estimator on the labelled set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labelled samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Their labels.
        **fit_params : dict
            Passed to the wrapped estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted strategy.
        """
        check_not_dask(f"{type(self).__name__}.fit", X=X, y=y)
        self._check_estimator_kind()
        X, y = self._validate_training_data(X, y)
        estimator = clone(self.estimator)
        try:
            fitted = estimator.fit(X, y, **fit_params)
        except (IndexError, RuntimeError) as error:
            explained = explain_fit_error(estimator, y, error)
            if explained is None:
                raise
            raise explained from error
        if fitted is None:
            raise TypeError(
                f"{type(self.estimator).__name__}.fit returned None; it must return the "
                "fitted estimator (self), as scikit-learn estimators do."
            )
        self.estimator_ = fitted
        self._attach(X)
        return self

    def _attach(self, X):
        """Set up around the fitted ``estimator_``: adapter, task check, labelled outputs.

        :class:`~skactive.ALBL` calls it on its arms, which share its fitted
        estimator instead of fitting their own.
        """
        self.adapter_ = self._make_adapter()
        self._check_task()
        if self._needs_labeled:
            # One forward pass over the labelled rows per fit, not per query;
            # kept on the host (the labelled set is small) and moved at query time.
            self._labeled_outputs = self._outputs(X, resolve_backend("numpy"))

    def query(self, X_pool, batch_size=1):
        """Pick the rows of ``X_pool`` to label next.

        Parameters
        ----------
        X_pool : array-like of shape (n_samples, n_features)
            The unlabelled pool; a row-chunked Dask array or a Dask DataFrame
            keeps it on a Dask cluster (see :ref:`dask_pools`).
        batch_size : int, default=1
            How many rows to pick; at most ``n_samples``.

        Returns
        -------
        indices : ndarray of shape (batch_size,), dtype=int64
            Unique row indices into ``X_pool``, in pick order.

        Raises
        ------
        NotFittedError
            If the strategy has not been fitted.
        ValueError
            If ``X_pool`` is empty, contains NaN or inf, or has a different
            number of features than the labelled set; if ``batch_size`` is
            larger than the pool; or if the model returns non-finite outputs.
        InvalidParameterError
            If ``batch_size`` is not a positive int.
        """
        if is_dask_collection(X_pool):
            from .distributed._dask import query

            check_is_fitted(self)
            indices = query(self, X_pool, batch_size)
            self._last_query_size = len(indices)
            return indices
        X_pool, backend = self._prepare_query(X_pool)
        batch_size = check_batch_size(batch_size, _num_samples(X_pool))
        rng = check_random_state(self.random_state)
        indices = self._select(X_pool, batch_size, rng, backend)
        indices = np.asarray(backend.to_numpy(indices), dtype=np.int64)
        self._last_query_size = len(indices)
        return indices

    def tell(self, y_queried):
        """Report the labels of the rows the last :meth:`query` returned.

        Call it once per round, after labelling the batch and before the next
        :meth:`query` (before or after refitting with :meth:`fit`). Strategies
        that learn across rounds (:class:`~skactive.ALBL`) use the labels;
        for the others it only checks that the labels match the last query.

        Parameters
        ----------
        y_queried : array-like of shape (batch_size,) or (batch_size, n_outputs)
            Labels of the rows the last :meth:`query` returned, in the order
            it returned them.

        Returns
        -------
        self : object
            The strategy.

        Raises
        ------
        ValueError
            If :meth:`query` was never called or ``y_queried`` does not have
            one label per row it returned.
        """
        check_is_fitted(self)
        y_queried = check_array(
            y_queried, input_name="y_queried", ensure_2d=False, dtype=None, ensure_min_samples=0
        )
        expected = getattr(self, "_last_query_size", None)
        if expected is None:
            raise ValueError(
                f"tell was called without a new query; {type(self).__name__} has no untold batch."
            )
        if _num_samples(y_queried) != expected:
            raise ValueError(
                f"y_queried has {_num_samples(y_queried)} labels, but the last query "
                f"returned {expected} rows."
            )
        self._tell(y_queried)
        self._last_query_size = None  # each batch is told once
        return self

    def _tell(self, y_queried):
        """Use the validated labels of the last batch (nothing by default)."""

    @abstractmethod
    def _select(self, X_pool, batch_size, rng, backend):
        """Return ``batch_size`` unique indices into the validated pool."""

    def _prepare_query(self, X_pool):
        """The preamble of every method that reads a pool: fitted?, valid pool, backend."""
        check_is_fitted(self)
        X_pool = self._validate_pool(X_pool)
        return X_pool, self._backend()

    def _backend(self):
        """The :class:`~skactive.backends.Backend` the kernels run on."""
        # _auto_device lets cheap strategies keep device="auto" off torch entirely.
        device = self._auto_device if self.device == "auto" and self._auto_device else self.device
        return resolve_backend(device, type(self).__name__)

    # ------------------------------------------------------------------
    # fit's steps

    def _check_estimator_kind(self):
        """Reject a regressor for a classification-only strategy before fitting it."""
        if "regression" not in self._tasks and is_regressor(self.estimator):
            raise ValueError(
                f"{type(self).__name__} supports classification only, but the wrapped "
                f"estimator {type(self.estimator).__name__} is a regressor."
            )

    def _validate_training_data(self, X, y):
        """Validate ``X`` (and convert ``X``, ``y``) for models that do not check them.

        scikit-learn estimators validate their own input, and a meta-estimator
        leaves that to them. A skorch net hands arrays to torch unchecked, so
        for such models skactive checks numeric arrays as scikit-learn would
        and records ``n_features_in_``.
        """
        self.__dict__.pop("_n_features_in", None)
        self._ravel_predictions = False
        if model_validates_input(self.estimator) or not _is_array_input(X):
            return X, y
        X = check_array(X, input_name="X", estimator=self, allow_nd=True)
        self._n_features_in = X.shape[1]
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X, y_model = convert_data(self.estimator, X, y)
        # A 1-D target the model trains on as a column gets 1-D predictions back.
        self._ravel_predictions = _ndim(y) == 1 and _ndim(y_model) == 2
        return X, y_model

    def _make_adapter(self):
        """The adapter for ``estimator_``, as far as this strategy needs one."""
        try:
            return get_adapter(self.estimator_)
        except UnsupportedEstimatorError as error:
            if self._needs == "nothing":
                return None
            if self._needs == "probabilities" and ProbabilityAdapter.supports(self.estimator_):
                return ProbabilityAdapter(self.estimator_)
            needed = f"{type(self).__name__} needs {_NEEDS[self._needs]}"
            raise UnsupportedEstimatorError(unsupported_message(self.estimator_, needed)) from error

    def _check_task(self):
        """Reject a model whose adapter does a task the strategy does not support."""
        adapter = self.adapter_
        if adapter is not None and adapter.task not in self._tasks:
            raise ValueError(
                f"{type(self).__name__} supports {' and '.join(sorted(self._tasks))} only, "
                f"but the wrapped estimator {type(self.estimator).__name__} does {adapter.task}."
            )

    # ------------------------------------------------------------------
    # Input of query and of the delegated methods

    def _validate_pool(self, X_pool):
        if not model_validates_input(self.estimator_):
            return self._model_input(X_pool, input_name="X_pool")
        # A wrapped estimator without n_features_in_ (e.g. a text pipeline)
        # takes input check_array would reject: leave X to the model then.
        if not hasattr(self.estimator_, "n_features_in_"):
            # Numeric arrays still get sklearn's checks (NaN, 1-D, empty).
            if isinstance(X_pool, np.ndarray) and X_pool.dtype.kind in "fiu":
                check_array(X_pool, input_name="X_pool", estimator=self, allow_nd=True, dtype=None)
            return X_pool
        # Check a converted copy but hand the model the original: a DataFrame
        # keeps its column names for the wrapped pipeline.
        check_array(
            X_pool, input_name="X_pool", estimator=self, accept_sparse=("csr", "csc"), dtype=None
        )
        validate_data(self, X_pool, reset=False, skip_check_array=True)
        return X_pool

    def _model_input(self, X, input_name="X"):
        """``X`` checked and converted as in :meth:`fit`, for models that do not check it.

        Other input (DataFrames, tensors, datasets, dicts) goes to the model as given.
        """
        if model_validates_input(self.estimator_) or not _is_array_input(X):
            return X
        X = check_array(X, input_name=input_name, estimator=self, allow_nd=True)
        if "_n_features_in" in self.__dict__:
            validate_data(self, X, reset=False, skip_check_array=True)
        return convert_data(self.estimator_, X)[0]

    # ------------------------------------------------------------------
    # Model outputs for the kernels

    def _uses_proba(self):
        """Whether the kernel needs class probabilities besides the embeddings."""
        return self.adapter_.task == "classification"

    def _outputs(self, X, backend):
        """``(H, P)`` of ``X`` from one forward pass, checked and on ``backend``.

        ``P`` is None when the kernel needs embeddings only (``_uses_proba``).
        """
        if self._uses_proba():
            H, P = self.adapter_.embed_predict(X)
            P = backend.asarray(check_model_output(P, "probabilities"))
        else:
            H, P = self.adapter_.embed(X), None
        return backend.asarray(check_model_output(H, "embeddings")), P

    def _labeled(self, backend):
        """The labelled rows' ``(H, P)`` from :meth:`fit`, on ``backend``."""
        H, P = self._labeled_outputs
        return backend.asarray(H), None if P is None else backend.asarray(P)

    def _pool_proba(self, X_pool, backend):
        """Class probabilities of the pool, checked and on ``backend``."""
        P = check_model_output(self.adapter_.predict_proba(X_pool), "probabilities")
        return backend.asarray(P)

    # ------------------------------------------------------------------
    # Fitted attributes and delegated methods

    @property
    def n_features_in_(self):
        """Number of features seen in :meth:`fit`."""
        if "_n_features_in" in self.__dict__:
            return self._n_features_in
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen by the wrapped estimator in :meth:`fit`."""
        return self.estimator_.feature_names_in_

    @property
    def classes_(self):
        """Class labels of the wrapped classifier."""
        return self.estimator_.classes_

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The wrapped estimator's predictions.
        """
        check_is_fitted(self)
        y_pred = self.estimator_.predict(self._model_input(X))
        if getattr(self, "_ravel_predictions", False) and np.ndim(y_pred) == 2:
            return y_pred.reshape(-1)
        return y_pred

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The wrapped estimator's class probabilities.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(self._model_input(X))

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The wrapped estimator's log class probabilities.
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(self._model_input(X))

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The wrapped estimator's decision function.
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(self._model_input(X))

    @available_if(_estimator_has("score"))
    def score(self, X, y, **score_params):
        """Score of the fitted estimator on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or targets.
        **score_params : dict
            Passed to the wrapped estimator's ``score``.

        Returns
        -------
        score : float
            The wrapped estimator's score (accuracy for classifiers, R² for
            regressors, unless the estimator defines otherwise).
        """
        check_is_fitted(self)
        return self.estimator_.score(self._model_input(X), y, **score_params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A meta-estimator is whatever kind of model it wraps.
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        tags.target_tags.required = True
        return tags
