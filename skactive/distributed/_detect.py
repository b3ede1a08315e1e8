"""Recognise Dask collections without importing dask."""

import sys


def is_dask_collection(x):
    """Whether ``x`` is a Dask collection (array, DataFrame, ...).

    A Dask collection can exist only once dask is imported, so dask is never
    imported here.
    """
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection as _is

    return bool(_is(x))


def check_not_dask(name, **arrays):
    """Raise a one-sentence error if one of ``arrays`` given to ``name`` is a Dask collection."""
    for arg, value in arrays.items():
        if is_dask_collection(value):
            raise TypeError(
                f"The labelled set {arg!r} of {name} is a Dask collection, but fit takes the "
                f"labelled set in memory (call {arg}.compute() first); only query's X_pool "
                "may be a Dask collection."
            )
