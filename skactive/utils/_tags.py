"""What kind of estimator an object is, from scikit-learn's public tags."""

from sklearn.utils import get_tags


def estimator_type(estimator):
    """The estimator's type tag, or None for objects without scikit-learn tags.

    Parameters
    ----------
    estimator : object
        An estimator instance (fitted or not) or any other object.

    Returns
    -------
    kind : {"classifier", "regressor", "clusterer"} or None
        ``get_tags(estimator).estimator_type``; None when the object has no
        tags or its tags cannot be read.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression, Ridge
    >>> from skactive.utils import estimator_type
    >>> estimator_type(LogisticRegression()), estimator_type(Ridge()), estimator_type(None)
    ('classifier', 'regressor', None)
    """
    try:
        return get_tags(estimator).estimator_type
    except (AttributeError, TypeError):
        return None


def is_classifier(estimator):
    """Whether ``estimator`` is tagged as a classifier (False for untagged objects).

    Parameters
    ----------
    estimator : object

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> from skactive.utils import is_classifier
    >>> is_classifier(SVC()), is_classifier(object())
    (True, False)
    """
    return estimator_type(estimator) == "classifier"


def is_regressor(estimator):
    """Whether ``estimator`` is tagged as a regressor (False for untagged objects).

    Parameters
    ----------
    estimator : object

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from skactive.utils import is_regressor
    >>> is_regressor(Ridge()), is_regressor("ridge")
    (True, False)
    """
    return estimator_type(estimator) == "regressor"
