"""skactive: batch active learning for scikit-learn.

Query strategies are meta-estimators: ``fit`` a wrapped model on the
labelled set, then ``query`` the rows of an unlabelled pool to label next.
"""

from .base import BaseQueryStrategy
from .strategies import (
    ALBL,
    BADGE,
    BAIT,
    KDPP,
    CoreSet,
    EntropySampling,
    GreedyLogDet,
    LeastConfidence,
    MarginSampling,
    RandomSampling,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "ALBL",
    "BADGE",
    "BAIT",
    "BaseQueryStrategy",
    "CoreSet",
    "EntropySampling",
    "GreedyLogDet",
    "KDPP",
    "LeastConfidence",
    "MarginSampling",
    "RandomSampling",
    "__version__",
]
