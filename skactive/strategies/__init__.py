"""Query strategies."""

from ._badge import BADGE
from ._bait import BAIT
from ._coreset import CoreSet
from ._random import RandomSampling
from ._uncertainty import EntropySampling, LeastConfidence, MarginSampling

__all__ = [
    "BADGE",
    "BAIT",
    "CoreSet",
    "EntropySampling",
    "LeastConfidence",
    "MarginSampling",
    "RandomSampling",
]
