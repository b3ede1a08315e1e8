"""Helpers shared across skactive: estimator kinds and validation.

:func:`is_classifier` and :func:`is_regressor` read scikit-learn's public
tags (``sklearn.utils.get_tags``) and, unlike :func:`sklearn.base.is_classifier`,
answer ``False`` instead of raising for objects without tags. Validation
helpers that rest on private scikit-learn code live in
:mod:`skactive.utils._validation`, the one module that imports it.
"""

from ._tags import estimator_type, is_classifier, is_regressor

__all__ = ["estimator_type", "is_classifier", "is_regressor"]
