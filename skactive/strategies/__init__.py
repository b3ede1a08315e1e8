"""Query strategies."""

from ._albl import ALBL
from ._badge import BADGE
from ._bait import BAIT
from ._coreset import CoreSet
from ._kdpp import KDPP
from ._logdet import GreedyLogDet
from ._random import RandomSampling
from ._uncertainty import EntropySampling, LeastConfidence, MarginSampling

__all__ = [
    "ALBL",
    "BADGE",
    "BAIT",
    "CoreSet",
    "EntropySampling",
    "GreedyLogDet",
    "KDPP",
    "LeastConfidence",
    "MarginSampling",
    "RandomSampling",
]
