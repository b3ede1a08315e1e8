"""The strategies under test, shared by the common test modules.

Listed by name, explicitly: a strategy that stops being exported makes every
test that uses it fail (``make`` looks the name up on ``skactive``), instead
of quietly leaving the battery. A new strategy joins the lists it belongs to.
"""

from sklearn.linear_model import LogisticRegression, Ridge

import skactive

CLASSIFICATION = [
    "RandomSampling",
    "LeastConfidence",
    "MarginSampling",
    "EntropySampling",
    "CoreSet",
    "BADGE",
    "BAIT",
    "KDPP",
    "GreedyLogDet",
    "ALBL",
]
REGRESSION = ["RandomSampling", "CoreSet", "BAIT", "GreedyLogDet"]
# Same pool, same batch, whatever the random_state.
DETERMINISTIC = [
    "LeastConfidence",
    "MarginSampling",
    "EntropySampling",
    "CoreSet",
    "BAIT",
    "GreedyLogDet",
]


def make(name, estimator=None, **params):
    """A strategy instance by class name, wrapping ``estimator`` (LogisticRegression by default)."""
    estimator = LogisticRegression(max_iter=500) if estimator is None else estimator
    return getattr(skactive, name)(estimator, **params)


def make_regression(name, **params):
    return make(name, Ridge(), **params)
