"""The strategies under test, shared by the common test modules."""

from sklearn.linear_model import LogisticRegression, Ridge

import skactive

CLASSIFICATION = [
    "RandomSampling",
    "LeastConfidence",
    "MarginSampling",
    "EntropySampling",
    "CoreSet",
]
REGRESSION = ["RandomSampling", "CoreSet"]
DETERMINISTIC = ["LeastConfidence", "MarginSampling", "EntropySampling", "CoreSet"]
# Strategies that land later join these lists when skactive exports them.
for _name, _tasks, _deterministic in [("BADGE", ("c",), False), ("BAIT", ("c", "r"), True)]:
    if hasattr(skactive, _name):
        CLASSIFICATION.append(_name)
        if "r" in _tasks:
            REGRESSION.append(_name)
        if _deterministic:
            DETERMINISTIC.append(_name)


# Issue 9's selectors (listed explicitly: they are exported unconditionally).
CLASSIFICATION += ["KDPP", "GreedyLogDet", "ALBL"]
REGRESSION += ["GreedyLogDet"]
DETERMINISTIC += ["GreedyLogDet"]


def make(name, estimator=None, **params):
    """A strategy instance by class name, wrapping ``estimator`` (LogisticRegression by default)."""
    estimator = LogisticRegression(max_iter=500) if estimator is None else estimator
    return getattr(skactive, name)(estimator, **params)


def make_regression(name, **params):
    return make(name, Ridge(), **params)
