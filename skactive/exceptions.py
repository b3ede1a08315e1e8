"""Exceptions and warnings raised by skactive."""


class SkactiveWarning(UserWarning):
    """Base class of the warnings skactive emits."""


class UnsupportedEstimatorError(TypeError):
    """Raised when no adapter knows how to embed an estimator.

    The message names the estimator's type, the kinds of estimator the
    built-in adapters support, and how to register an adapter of one's own
    with :func:`skactive.adapters.register_adapter`.
    """


class NonFiniteOutputError(ValueError):
    """Raised when a model returns NaN or infinite embeddings or probabilities."""


class NumericalRangeError(ValueError, FloatingPointError):
    """Raised when a kernel's arithmetic leaves the range of float64.

    For example BAIT's gains overflow when the embeddings are so large that
    their Fisher information is not finite. A ``ValueError``, so the usual
    ``except ValueError`` for bad input catches it; also a
    ``FloatingPointError`` for code written against earlier releases.
    """


class CommandError(ValueError):
    """Raised by the ``skactive`` command for a problem with its options or input.

    The command prints the message as one line and exits with status 1.
    """


class UsageError(CommandError):
    """Raised by the ``skactive`` command for a bad option; it exits with status 2."""
