"""Adapter protocol, base class and registry."""

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Protocol, runtime_checkable

from ..exceptions import UnsupportedEstimatorError


@runtime_checkable
class Adapter(Protocol):
    """What a query strategy needs from a fitted model.

    Attributes
    ----------
    task : {"classification", "regression"}
    n_outputs : int
        Number of classes K (classification) or of regression targets.
    """

    task: str
    n_outputs: int

    def embed(self, X: Any) -> Any: ...

    def predict_proba(self, X: Any) -> Any: ...

    def embed_predict(self, X: Any) -> tuple[Any, Any]: ...


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
    supported = "; ".join(a.description for a in (*_USER, *_BUILTIN) if a.description)
    raise UnsupportedEstimatorError(
        f"skactive has no adapter for {type(estimator).__name__}; supported are: {supported}. "
        "Register an adapter for it with skactive.adapters.register_adapter."
    )
