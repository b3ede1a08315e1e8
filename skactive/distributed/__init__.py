"""Pools held by a Dask cluster: ``query`` on a Dask array or DataFrame.

Nothing here imports dask at ``import skactive`` time: :func:`is_dask_collection`
looks at ``sys.modules`` first, and the driver is imported only when a query
receives a Dask collection.
"""

from ._detect import check_not_dask, is_dask_collection

__all__ = ["check_not_dask", "is_dask_collection"]
