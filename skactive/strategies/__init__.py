"""Query strategies."""

from ._coreset import CoreSet
from ._random import RandomSampling
from ._uncertainty import EntropySampling, LeastConfidence, MarginSampling

__all__ = [
    "CoreSet",
    "EntropySampling",
    "LeastConfidence",
    "MarginSampling",
    "RandomSampling",
]
