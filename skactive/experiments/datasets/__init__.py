"""Data sets for simulated active learning.

:func:`load_dataset` reads the papers' real data sets from the folder named by
the ``SKACTIVE_DATA`` environment variable (compressed ``.npz`` archives with
arrays ``X`` and ``y``), falling back to OpenML when online;
:func:`load_npz` reads a user's own archive. Both split off a test set and
never unpickle anything.
"""

from ._real import DATASETS, load_dataset, load_npz

__all__ = ["DATASETS", "load_dataset", "load_npz"]
