"""skactive: batch active learning for scikit-learn.

Query strategies are meta-estimators: ``fit`` a wrapped model on the
labelled set, then ``query`` the rows of an unlabelled pool to label next.
"""

from .base import BaseQueryStrategy
from .strategies import (
    BADGE,
    BAIT,
    CoreSet,
    EntropySampling,
    LeastConfidence,
    MarginSampling,
    RandomSampling,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "BADGE",
    "BAIT",
    "BaseQueryStrategy",
    "CoreSet",
    "EntropySampling",
    "LeastConfidence",
    "MarginSampling",
    "RandomSampling",
    "__version__",
]
