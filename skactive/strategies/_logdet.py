"""Greedy log-determinant maximisation (BAIT paper, Algorithms 2 and 3)."""

from numbers import Integral, Real

from ..base import BaseQueryStrategy
from ..kernels._logdet import _logdet_select
from ..kernels._parallel import compute_dtype, effective_n_jobs
from ..utils._validation import Interval, StrOptions


class GreedyLogDet(BaseQueryStrategy):
    """Greedy determinant maximisation on gradient or Fisher embeddings.

    The BAIT paper's alternatives to trace minimisation (§5.1, App. B): start
    from ``M₀ = λI + (1/L) Σ_labelled φ(x)`` and add, one row at a time, the
    pool row that most increases ``log det M``, then add its ``φ(x)`` to
    ``M``. With ``embedding="gradient"`` (Algorithm 2), ``φ(x) = g_x g_xᵀ``
    is the outer product of BADGE's gradient embedding; with
    ``embedding="fisher"`` (Algorithm 3), ``φ(x) = V_x V_xᵀ`` is BAIT's
    last-layer Fisher information. Both favour rows that are uncertain and
    unlike what ``M`` already holds, without BAIT's target matrix ``F``.
    Deterministic.

    Parameters
    ----------
    estimator : estimator object
        A model with an adapter (see :mod:`skactive.adapters`); cloned in
        :meth:`fit`. ``embedding="gradient"`` needs a classifier.
    embedding : {"fisher", "gradient"}, default="fisher"
        ``"fisher"``: rank-K Fisher ``V_x V_xᵀ`` (classification and
        regression, where ``V_x = h_x``). ``"gradient"``: rank-one
        ``g_x g_xᵀ`` with ``g_x = (p_x − onehot(ŷ_x)) ⊗ h_x`` (classification).
    lam : float, default=1.0
        Ridge ``λ > 0`` in ``M₀``.
    random_state : int, RandomState instance or None, default=None
        Unused (the strategy is deterministic); kept for a uniform interface.
    device : str, default="auto"
        Where the kernel runs: ``"auto"``, ``"numpy"``, ``"cpu"``, ``"cuda"``
        or ``"cuda:<i>"``.
    n_jobs : int or None, default=None
        Threads for the numpy kernel's passes over the pool (fixed blocks of
        rows, BLAS single-threaded inside them), as in :class:`BAIT`:
        ``None`` or ``-1`` uses every CPU of the process, ``1`` none besides
        the caller. The picks do not depend on it. Torch backends use
        torch's own threads.
    dtype : {"float64", "float32"}, default="float64"
        Compute precision. ``"float32"`` is an opt-in speed mode; its picks
        can differ from float64's where two gains agree to about 1e-6.
    verbose : int, default=0
        Show the picks as they are made (a tqdm bar when tqdm is installed,
        else a line every tenth of the batch on stderr).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter
        The adapter of ``estimator_``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    See Also
    --------
    BAIT : Greedy Fisher-trace minimisation on the same Fisher state.
    BADGE : k-means++ seeding on the gradient embeddings.
    KDPP : k-DPP sampling with the gradient embeddings' linear kernel.
    skactive.kernels.logdet_select : The selection kernel.

    Notes
    -----
    The gain of a row is ``log det(I + G_x)`` with ``G_x = V_xᵀM⁻¹V_x`` (the
    matrix determinant lemma); for the rank-one gradient case ``G_x`` is the
    scalar ``g_xᵀM⁻¹g_x``. After each pick, Woodbury (Sherman–Morrison for
    rank one) updates ``M⁻¹`` and every candidate's ``G_x``, so the
    ``n × Kd`` embedding and per-row Kd×Kd matrices are never formed. The
    labelled rows are embedded once, in :meth:`fit`, and enter ``M₀`` as a
    mean, as the paper's algorithms write it; each pick enters with weight 1.

    *Cost.* Gradient: O(n·K·d + (Kd)²) per pick. Fisher: O(n·K²·d + (Kd)²·K)
    per pick and O(n·K²) memory, plus an O(n·K²·d²) start, like BAIT's
    forward pass (one pass, no backward pruning, no ``F``).

    References
    ----------
    .. [1] J. T. Ash, S. Goel, A. Krishnamurthy and S. Kakade, "Gone Fishing:
       Neural Active Learning with Fisher Embeddings", NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import GreedyLogDet
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2))
    >>> y = (X[:, 0] > X[:, 1]).astype(int)
    >>> al = GreedyLogDet(LogisticRegression()).fit(X[:8], y[:8])
    >>> al.query(X[8:], batch_size=3)
    array([ 6, 16,  2])
    """

    _parameter_constraints = {
        **BaseQueryStrategy._parameter_constraints,
        "embedding": [StrOptions({"fisher", "gradient"})],
        "lam": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "dtype": [StrOptions({"float64", "float32"})],
        "verbose": ["verbose"],
    }
    _needs_labeled = True

    def __init__(
        self,
        estimator,
        *,
        embedding="fisher",
        lam=1.0,
        random_state=None,
        device="auto",
        n_jobs=None,
        dtype="float64",
        verbose=0,
    ):
        super().__init__(estimator, random_state=random_state, device=device)
        self.embedding = embedding
        self.lam = lam
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.verbose = verbose

    @property
    def _tasks(self):
        # The gradient embedding a ⊗ h needs class probabilities; the Fisher
        # one also covers regression. The base class checks this in fit.
        if self.embedding == "gradient":
            return frozenset({"classification"})
        return BaseQueryStrategy._tasks

    def _select(self, X_pool, batch_size, rng, backend):
        xp = backend.xp
        H, P = self._outputs(X_pool, backend)  # P is None for regression
        H_lab, P_lab = self._labeled(backend)
        H, P, H_lab, P_lab = (compute_dtype(a, self.dtype, xp) for a in (H, P, H_lab, P_lab))
        return _logdet_select(
            H, P, batch_size, H_lab, P_lab, self.embedding, self.lam, xp,
            n_jobs=effective_n_jobs(self.n_jobs, "all"), verbose=self.verbose,
        )  # fmt: skip
