"""CoreSet: greedy k-center on last-layer embeddings."""

from numbers import Integral

from ..base import BaseQueryStrategy
from ..kernels._kcenter import _kcenter_greedy
from ..kernels._parallel import blas_threads, compute_dtype, effective_n_jobs
from ..utils._validation import StrOptions


class CoreSet(BaseQueryStrategy):
    """Greedy k-center selection on last-layer embeddings (Sener & Savarese, 2018).

    Each pick is the pool row farthest (Euclidean) from its nearest centre,
    where the centres are the labelled rows seen in :meth:`fit` and the rows
    picked so far (the "furthest first" rule of the BADGE authors' code).
    Lowest index on ties; with no labelled rows the first pick is the row of
    largest norm. Works for classification and regression.

    Parameters
    ----------
    estimator : estimator object
        A model with an adapter (see :mod:`skactive.adapters`); cloned in
        :meth:`fit`.
    random_state : int, RandomState instance or None, default=None
        Unused (the strategy is deterministic); kept for a uniform interface.
    device : str, default="auto"
        Where the kernel runs: ``"auto"``, ``"numpy"``, ``"cpu"``, ``"cuda"``
        or ``"cuda:<i>"``.
    n_jobs : int or None, default=None
        BLAS threads for the numpy kernel. ``None`` decides per query: each
        pick reads the pool once in a memory-bound pass, which ran 1.6-1.8x
        faster on two threads on an idle 2-core machine but 1.1-1.4x slower
        when another process kept a core busy (``benchmarks/README.md``). So
        a large query (over 2e8 multiply-adds) first samples the CPUs for
        50 ms (Linux ``/proc/stat``) and uses as many threads as it finds
        idle; smaller queries, and systems without ``/proc/stat``, use one.
        ``-1`` means all CPUs. The picks do not depend on it. Torch backends
        use torch's own threads.
    dtype : {"float64", "float32"}, default="float64"
        Compute precision. ``"float32"`` is an opt-in speed mode; its picks
        can differ from float64's where distances agree to about 1e-6.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter
        The adapter of ``estimator_``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    Notes
    -----
    Cost: O(n·d) per pick plus an O(n·L·d) start computed in chunks bounded
    by scikit-learn's ``working_memory``; memory O(n·d) for the embeddings.
    The labelled embeddings are computed once in :meth:`fit` with the fitted
    model, so they live in the same space as the pool's.

    References
    ----------
    .. [1] O. Sener and S. Savarese, "Active Learning for Convolutional Neural
       Networks: A Core-Set Approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skactive import CoreSet
    >>> X = np.array([[0.0], [1.0], [5.0], [6.0]])
    >>> al = CoreSet(Ridge()).fit(X[:1], [0.0])
    >>> al.query(X, batch_size=2)
    array([3, 1])
    """

    _parameter_constraints = {
        **BaseQueryStrategy._parameter_constraints,
        "n_jobs": [Integral, None],
        "dtype": [StrOptions({"float64", "float32"})],
    }
    _needs_labeled = True

    def __init__(
        self, estimator, *, random_state=None, device="auto", n_jobs=None, dtype="float64"
    ):
        super().__init__(estimator, random_state=random_state, device=device)
        self.n_jobs = n_jobs
        self.dtype = dtype

    def _uses_proba(self):
        return False

    def _select(self, X_pool, batch_size, rng, backend):
        xp = backend.xp
        H = compute_dtype(self._outputs(X_pool, backend)[0], self.dtype, xp)
        H_lab = compute_dtype(self._labeled(backend)[0], self.dtype, xp)
        centres = batch_size + (0 if H_lab is None else H_lab.shape[0])
        n_jobs = effective_n_jobs(self.n_jobs, "idle", work=H.shape[0] * centres * H.shape[1])
        with blas_threads(n_jobs, xp):
            return _kcenter_greedy(H, H_lab, batch_size, xp)
