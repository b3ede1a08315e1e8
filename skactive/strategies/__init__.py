"""Query strategies."""

from ._badge import BADGE
from ._coreset import CoreSet
from ._random import RandomSampling
from ._uncertainty import EntropySampling, LeastConfidence, MarginSampling

__all__ = [
    "BADGE",
    "CoreSet",
    "EntropySampling",
    "LeastConfidence",
    "MarginSampling",
    "RandomSampling",
]
