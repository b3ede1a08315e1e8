"""Adapter base class and registry."""

from abc import ABC, abstractmethod
from typing import ClassVar

from ..exceptions import UnsupportedEstimatorError


class BaseAdapter(ABC):
    """Base class for adapters; subclass it and call :func:`register_adapter`.

    A subclass implements :meth:`supports` (a classmethod: can this class
    adapt ``estimator``?), the ``task`` and ``n_outputs`` properties and
    :meth:`embed_predict`. ``embed`` and ``predict_proba`` default to the
    matching half of ``embed_predict``; override them when one half is
    cheaper alone.

    Parameters
    ----------
    estimator : object
        A fitted estimator that :meth:`supports` accepted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from skactive.adapters import BaseAdapter, get_adapter, register_adapter
    >>> class KNNAdapter(BaseAdapter):
    ...     description = "KNeighborsClassifier (raw features)"
    ...     task = "classification"
    ...     @classmethod
    ...     def supports(cls, estimator):
    ...         return isinstance(estimator, KNeighborsClassifier)
    ...     @property
    ...     def n_outputs(self):
    ...         return len(self.estimator.classes_)
    ...     def embed_predict(self, X):
    ...         return np.asarray(X, dtype=float), self.estimator.predict_proba(X)
    >>> _ = register_adapter(KNNAdapter)
    >>> knn = KNeighborsClassifier(n_neighbors=1).fit([[0.0], [1.0]], [0, 1])
    >>> H, P = get_adapter(knn).embed_predict([[0.2]])
    >>> H.shape, P.shape
    ((1, 1), (1, 2))
    >>> _ = register_adapter(KNNAdapter, remove=True)
    """

    #: One line naming what the adapter supports, used in error messages.
    description: ClassVar[str] = ""

    #: Whether the models this adapter supports check their input as
    #: scikit-learn estimators do (NaN, shape, ``n_features_in_``). When False,
    #: :meth:`supports` must recognise the model before it is fitted, and the
    #: strategies check numeric arrays themselves and pass them through
    #: :meth:`convert_data`.
    validates_input: ClassVar[bool] = True

    @classmethod
    def convert_data(cls, estimator, X, y=None):
        """Return ``(X, y)`` in the types the model expects; unchanged by default.

        Called by the strategies, for adapters with ``validates_input=False``,
        on validated numpy ``X`` (and ``y`` in ``fit``, else None).
        """
        return X, y

    @classmethod
    def explain_fit_error(cls, estimator, y, error):
        """An exception that says what in ``y`` made ``estimator.fit`` fail, or None.

        Called by the strategies, for adapters with ``validates_input=False``,
        when the model's ``fit`` raised ``error`` (``IndexError`` or
        ``RuntimeError``) on the converted ``y``; None re-raises ``error``.
        """
        return None

    def __init__(self, estimator):
        self.estimator = estimator

    @classmethod
    @abstractmethod
    def supports(cls, estimator) -> bool:
        """Whether this adapter can handle the fitted ``estimator``."""

    @property
    @abstractmethod
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""

    @property
    @abstractmethod
    def n_outputs(self) -> int:
        """Number of classes or of regression targets."""

    @abstractmethod
    def embed_predict(self, X):
        """Return ``(H, P)`` from one forward pass.

        ``H`` (n, d) is the input of the last linear layer; ``P`` (n, K) holds
        the class probabilities for classification and the predictions for
        regression.
        """

    def embed(self, X):
        """Return the input of the last linear layer, shape (n, d)."""
        return self.embed_predict(X)[0]

    def predict_proba(self, X):
        """Return the class probabilities, shape (n, K)."""
        if self.task != "classification":
            raise AttributeError(f"{type(self).__name__} adapts a regressor: no predict_proba.")
        return self.embed_predict(X)[1]


_BUILTIN: list[type[BaseAdapter]] = []
_USER: list[type[BaseAdapter]] = []


def register_adapter(adapter_cls, *, remove=False):
    """Register (or remove) an adapter class; user adapters are tried first.

    Parameters
    ----------
    adapter_cls : subclass of BaseAdapter
        Must implement ``supports``, ``task``, ``n_outputs`` and
        ``embed_predict``.
    remove : bool, default=False
        Unregister ``adapter_cls`` instead.

    Returns
    -------
    adapter_cls : type
        Unchanged, so the function works as a class decorator.

    Examples
    --------
    See :class:`BaseAdapter`.
    """
    if not (isinstance(adapter_cls, type) and issubclass(adapter_cls, BaseAdapter)):
        raise TypeError(
            f"register_adapter expects a subclass of skactive.adapters.BaseAdapter. "
            f"Got {adapter_cls!r} instead."
        )
    if adapter_cls in _USER:
        _USER.remove(adapter_cls)
    if not remove:
        _USER.insert(0, adapter_cls)
    return adapter_cls


def _register_builtin(adapter_cls):
    _BUILTIN.append(adapter_cls)
    return adapter_cls


def _unchecked_input_adapter(estimator):
    """The adapter class, if any, whose models leave input validation to skactive."""
    for adapter_cls in (*_USER, *_BUILTIN):
        if not adapter_cls.validates_input and adapter_cls.supports(estimator):
            return adapter_cls
    return None


def model_validates_input(estimator):
    """Whether ``estimator`` (fitted or not) checks its own input as scikit-learn does.

    Parameters
    ----------
    estimator : object

    Returns
    -------
    bool
        False for models of an adapter with ``validates_input=False``
        (skorch nets); True otherwise.
    """
    return _unchecked_input_adapter(estimator) is None


def convert_data(estimator, X, y=None):
    """``(X, y)`` converted by the adapter of a model that does not check its input.

    Parameters
    ----------
    estimator : object
    X : ndarray
        Validated input.
    y : array-like or None, default=None

    Returns
    -------
    X, y
        Unchanged unless an adapter with ``validates_input=False`` supports
        ``estimator`` (see :meth:`BaseAdapter.convert_data`).
    """
    adapter_cls = _unchecked_input_adapter(estimator)
    return (X, y) if adapter_cls is None else adapter_cls.convert_data(estimator, X, y)


def explain_fit_error(estimator, y, error):
    """The clearer exception for a failed ``fit`` of a model that does not check its input.

    Parameters
    ----------
    estimator : object
        The model whose ``fit`` raised.
    y : array-like
        The target it was given (as converted by :func:`convert_data`).
    error : Exception
        What ``fit`` raised.

    Returns
    -------
    Exception or None
        None unless the adapter of ``estimator`` recognises the cause (see
        :meth:`BaseAdapter.explain_fit_error`).
    """
    adapter_cls = _unchecked_input_adapter(estimator)
    return None if adapter_cls is None else adapter_cls.explain_fit_error(estimator, y, error)


def get_adapter(estimator):
    """Return the adapter for a fitted ``estimator``.

    Parameters
    ----------
    estimator : object
        A fitted estimator.

    Returns
    -------
    adapter : BaseAdapter

    Raises
    ------
    UnsupportedEstimatorError
        If no registered adapter supports ``estimator``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive.adapters import get_adapter
    >>> clf = LogisticRegression().fit([[0.0], [1.0], [2.0]], [0, 1, 2])
    >>> adapter = get_adapter(clf)
    >>> adapter.task, adapter.n_outputs, adapter.embed([[0.5]]).tolist()
    ('classification', 3, [[0.5, 1.0]])
    """
    for adapter_cls in (*_USER, *_BUILTIN):
        if adapter_cls.supports(estimator):
            return adapter_cls(estimator)
    raise UnsupportedEstimatorError(unsupported_message(estimator))


def unsupported_message(estimator, needed=None):
    """The one-sentence error for an ``estimator`` that no adapter supports.

    ``needed`` (e.g. "BADGE needs the embeddings of its estimator") opens the
    sentence when a caller knows what it was asking for; a known cause (a
    multilabel model, a loss without probabilities, ``fit`` returning None)
    is named before the list of supported kinds.
    """
    name = type(estimator).__name__
    opening = f"{needed}, but skactive" if needed else "skactive"
    cause = _known_cause(estimator)
    if cause:
        return f"{opening} cannot use {name}: {cause}."
    supported = "; ".join(a.description for a in (*_USER, *_BUILTIN) if a.description)
    return (
        f"{opening} has no adapter for {name}; supported are: {supported}. "
        "Register an adapter for it with skactive.adapters.register_adapter."
    )


#: Losses of SGDClassifier for which it has predict_proba.
_SGD_PROBA_LOSSES = ("log_loss", "modified_huber")


def _known_cause(estimator):
    """A short clause naming why a familiar estimator is unsupported, or None."""
    if estimator is None:
        return "got None, not a fitted estimator (does its fit return self?)"
    if is_multilabel(estimator):
        return "multilabel and multi-output classifiers are not supported"
    loss = getattr(estimator, "loss", None)
    if type(estimator).__name__ == "SGDClassifier" and loss not in _SGD_PROBA_LOSSES:
        return (
            f"SGDClassifier with loss={loss!r} has no predict_proba; use loss='log_loss' "
            "or loss='modified_huber'"
        )
    return None


def is_multilabel(estimator):
    """Whether a fitted classifier predicts several labels per row.

    scikit-learn keeps one ``classes_`` array per output for multi-output
    classifiers; ``MLPClassifier`` instead records a multilabel target type.
    """
    if isinstance(getattr(estimator, "classes_", None), list):
        return True
    binarizer = getattr(estimator, "_label_binarizer", None)
    return str(getattr(binarizer, "y_type_", "")).startswith("multilabel")
