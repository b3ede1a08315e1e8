"""Base class of the query strategies."""

from abc import abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import check_array, check_random_state
from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .adapters import get_adapter
from .adapters._sklearn import is_regressor
from .backends import resolve_backend
from .exceptions import UnsupportedEstimatorError
from .utils._validation import (
    DEVICE,
    HasMethods,
    _fit_context,
    _num_samples,
    check_batch_size,
    check_model_output,
    validate_data,
)


def _estimator_has(attr):
    """Make a delegated method available only when the wrapped estimator has ``attr``."""

    def check(self):
        est = getattr(self, "estimator_", self.estimator)
        getattr(est, attr)  # raises AttributeError, which hides the method
        return True

    return check


class BaseQueryStrategy(MetaEstimatorMixin, BaseEstimator):
    """Base class for batch active-learning query strategies.

    A strategy wraps an estimator: :meth:`fit` clones and fits it on the
    labelled set, :meth:`query` picks rows of an unlabelled pool to label
    next, and ``predict``/``predict_proba``/``decision_function``/``score``
    are delegated to the fitted estimator when it has them. Classification vs
    regression follows the wrapped estimator.

    Subclasses implement ``_select(X_pool, batch_size, rng, backend)`` and may
    set ``_tasks`` (the tasks they support) and ``_needs_labeled`` (keep the
    labelled rows' model outputs, computed once in :meth:`fit`, as
    ``_labeled_outputs``).

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
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "random_state": ["random_state"],
        "device": [DEVICE],
    }
    _tasks = frozenset({"classification", "regression"})
    _needs_adapter = True
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
        name = type(self).__name__
        if "regression" not in self._tasks and is_regressor(self.estimator):
            raise ValueError(
                f"{name} supports classification only, but the wrapped estimator "
                f"{type(self.estimator).__name__} is a regressor."
            )
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self._attach(X)
        return self

    def _attach(self, X):
        """Set up around the fitted ``estimator_``: adapter, task check, labelled outputs.

        :class:`~skactive.ALBL` calls it on its arms, which share its fitted
        estimator instead of fitting their own.
        """
        name = type(self).__name__
        try:
            self.adapter_ = get_adapter(self.estimator_)
        except UnsupportedEstimatorError:
            if self._needs_adapter:
                raise
            self.adapter_ = None
        if self.adapter_ is not None and self.adapter_.task not in self._tasks:
            raise ValueError(
                f"{name} supports {' and '.join(sorted(self._tasks))} only, but the wrapped "
                f"estimator {type(self.estimator).__name__} does {self.adapter_.task}."
            )
        if self._needs_labeled:
            # One forward pass over the labelled rows per fit, not per query;
            # kept on the host (the labelled set is small) and moved at query time.
            self._labeled_outputs = self._outputs(X, resolve_backend("numpy"))

    def query(self, X_pool, batch_size=1):
        """Pick the rows of ``X_pool`` to label next.

        Parameters
        ----------
        X_pool : array-like of shape (n_samples, n_features)
            The unlabelled pool.
        batch_size : int, default=1
            How many rows to pick; at most ``n_samples``.

        Returns
        -------
        indices : ndarray of shape (batch_size,), dtype=int64
            Unique row indices into ``X_pool``, in pick order.
        """
        check_is_fitted(self)
        X_pool = self._validate_pool(X_pool)
        batch_size = check_batch_size(batch_size, _num_samples(X_pool))
        rng = check_random_state(self.random_state)
        backend = self._backend()
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

    def _backend(self):
        device = self._auto_device if self.device == "auto" and self._auto_device else self.device
        return resolve_backend(device, type(self).__name__)

    @abstractmethod
    def _select(self, X_pool, batch_size, rng, backend):
        """Return ``batch_size`` unique indices into the validated pool."""

    def _validate_pool(self, X_pool):
        # A wrapped estimator without n_features_in_ (e.g. a text pipeline)
        # takes input check_array would reject: leave X to the model then.
        if not hasattr(self.estimator_, "n_features_in_"):
            # Numeric arrays still get sklearn's checks (NaN, 1-D, empty),
            # e.g. for skorch nets, which record no n_features_in_.
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

    @property
    def n_features_in_(self):
        """Number of features seen by the wrapped estimator in :meth:`fit`."""
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
        """Predict with the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, **score_params):
        """Score of the fitted estimator on ``(X, y)``."""
        check_is_fitted(self)
        return self.estimator_.score(X, y, **score_params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        tags.target_tags.required = True
        return tags
