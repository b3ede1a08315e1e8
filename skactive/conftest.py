"""Doctest collection: skip the modules whose examples need torch and skorch when absent."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("skorch") else ["nn.py", "adapters/_skorch.py"]
