"""BAIT: forward-backward greedy Fisher-trace minimisation (Ash et al., 2021)."""

from numbers import Integral, Real

from ..base import BaseQueryStrategy
from ..kernels._bait import _bait_select, compute_probabilities
from ..kernels._parallel import compute_dtype, effective_n_jobs
from ..utils._validation import Interval, StrOptions


class BAIT(BaseQueryStrategy):
    """Batch active learning by Fisher-information trace minimisation (BAIT).

    Picks the batch ``S`` that minimises ``tr(M_S⁻¹ F)``: ``F`` is the mean
    Fisher information of the last linear layer over all rows (labelled and
    pool), ``M_S`` the ridge-regularised Fisher of the labelled rows plus the
    batch. A greedy forward pass adds ``oversample · batch_size`` rows, then
    a backward pass removes the rows whose removal costs least, as in the
    authors' code, whose weighting of labelled and new rows is reproduced
    exactly. Deterministic; works for classification and regression.

    Parameters
    ----------
    estimator : estimator object
        A model with an adapter (see :mod:`skactive.adapters`); cloned in
        :meth:`fit`.
    lam : float, default=1.0
        Ridge ``λ > 0`` added to ``M`` (the authors use 1, and 0.01 on CIFAR).
    oversample : int, default=2
        Forward picks per batch row before backward pruning; ``1`` is the
        forward-only greedy. When ``oversample · batch_size`` exceeds the pool,
        the forward pass picks the whole pool and pruning does the rest.
    fisher : {"pool", "identity"}, default="pool"
        ``"pool"``: ``F`` is the mean Fisher over all rows. ``"identity"``:
        ``F = I``, the paper's "BAIT without I(θ)" ablation.
    random_state : int, RandomState instance or None, default=None
        Unused (the strategy is deterministic); kept for a uniform interface.
    device : str, default="auto"
        Where the kernel runs: ``"auto"``, ``"numpy"``, ``"cpu"``, ``"cuda"``
        or ``"cuda:<i>"``. Every backend computes in float64 and picks the
        same rows up to exact floating-point ties.
    n_jobs : int or None, default=None
        Threads for the numpy kernel's passes over the pool (each a fixed
        block of rows; BLAS runs single-threaded inside them, so nothing is
        oversubscribed). ``None`` uses every CPU of the process, measured the
        fastest on an idle machine, and falls back to as many threads as
        CPUs its first greedy steps actually got (one, when another process
        keeps the other core of two busy: two threads taking turns on one
        core only wait on each other; see ``benchmarks/README.md``). ``-1``
        means all CPUs without that fallback, ``1`` none besides the caller.
        The picks do not depend on it. Torch backends use torch's own threads.
    dtype : {"float64", "float32"}, default="float64"
        Compute precision. ``"float32"`` is an opt-in speed mode (about twice
        the throughput on CPUs); its picks can differ from float64's where
        two gains agree to about 1e-6 (``benchmarks/README.md`` reports how
        often on the benchmark cases).
    verbose : int, default=0
        Show the steps of the greedy passes (a tqdm bar when tqdm is
        installed, else a line every tenth of the steps on stderr).

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
    CoreSet : greedy k-center on the same last-layer embeddings.

    Notes
    -----
    *Fisher information.* For a softmax classifier with last-layer input
    ``h`` and probabilities ``p``, the expected Fisher of the last layer's
    weights is ``I(x) = (diag(p) − p pᵀ) ⊗ h hᵀ = V_x V_xᵀ`` with
    ``V_x = L_x ⊗ h`` and column c of ``L_x`` equal to ``√p_c (e_c − p)``.
    K is the estimator's number of classes. The labelled rows and the batch
    enter ``M_S = λI + (Σ_labelled I(x) + B·Σ_S I(x)) / (L + B)`` as the
    reference code weights them (each new row counts ``B`` times a labelled
    one). The labelled rows are embedded once, in :meth:`fit`, with the
    model fitted there, so both live in the same space.

    When every row's probabilities sum to one, each ``V_x`` has rank K − 1
    (``L_x√p = 0``): the kernel then works with (K − 1)-column factors,
    (K − 1) × (K − 1) candidate matrices and, if the labelled rows' sum to
    one too, ``M⁻¹`` in (K − 1)d coordinates, with the same picks.
    Probabilities that sum to one only to float32's round-off (a float32
    network's, about 1e-7) are divided by their sum in ``dtype``, so they
    qualify; ones that already sum to one in ``dtype`` are used bit for bit,
    and ones that do not sum to one even in float32 as they are, with all K.

    For regression with Gaussian noise of covariance Σ over the outputs,
    ``I(x) = h hᵀ ⊗ Σ⁻¹``; with the ridge taken as ``λ I ⊗ Σ⁻¹`` the factor
    Σ⁻¹ cancels from ``tr(M_S⁻¹ F)`` (it becomes ``k · tr((λI + Σ h hᵀ)⁻¹
    F_h)`` for k outputs), so the selection is the rank-one problem on ``h``
    alone, whatever the number of outputs and the predictions (BAIT paper,
    §5 and App. A.3–A.4).

    *Woodbury.* Every candidate keeps two K×K matrices, ``G_x = V_xᵀM⁻¹V_x``
    and ``R_x = V_xᵀM⁻¹FM⁻¹V_x``; adding it would lower the objective by
    ``tr(R_x (I + G_x)⁻¹)``. After each pick, rank-K Woodbury terms update
    ``M⁻¹`` and every ``G_x``, ``R_x``; removals in the backward pass use the
    same terms with ``−I``.

    *Cost.* O(n·K²·d + (Kd)²·K) per greedy step and O(n·K²) memory, against
    O(n·(Kd)²·K) per step for the reference; the initial state costs
    O(n·K²·d²) and ``F`` is built in blocks bounded by scikit-learn's
    ``working_memory``, never as per-row Kd×Kd matrices. Regression costs
    O(n·d) per step.

    References
    ----------
    .. [1] J. T. Ash, S. Goel, A. Krishnamurthy and S. Kakade, "Gone Fishing:
       Neural Active Learning with Fisher Embeddings", NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import BAIT
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2))
    >>> y = (X[:, 0] > X[:, 1]).astype(int)
    >>> al = BAIT(LogisticRegression()).fit(X[:8], y[:8])
    >>> al.query(X[8:], batch_size=3)
    array([16,  6, 12])
    """

    _parameter_constraints = {
        **BaseQueryStrategy._parameter_constraints,
        "lam": [Interval(Real, 0, None, closed="neither")],
        "oversample": [Interval(Integral, 1, None, closed="left")],
        "fisher": [StrOptions({"pool", "identity"})],
        "n_jobs": [Integral, None],
        "dtype": [StrOptions({"float64", "float32"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        lam=1.0,
        oversample=2,
        fisher="pool",
        random_state=None,
        device="auto",
        n_jobs=None,
        dtype="float64",
        verbose=0,
    ):
        super().__init__(estimator, random_state=random_state, device=device)
        self.lam = lam
        self.oversample = oversample
        self.fisher = fisher
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.verbose = verbose

    _needs_labeled = True

    def _select(self, X_pool, batch_size, rng, backend):
        xp = backend.xp
        H, P = self._outputs(X_pool, backend)  # P is None for regression
        H_lab, P_lab = self._labeled(backend)
        H, H_lab = (compute_dtype(a, self.dtype, xp) for a in (H, H_lab))
        P, P_lab = (compute_probabilities(a, self.dtype, xp) for a in (P, P_lab))
        return _bait_select(
            H, P, batch_size, H_lab, P_lab, self.lam, self.oversample, self.fisher, xp,
            n_jobs=effective_n_jobs(self.n_jobs, "all"), verbose=self.verbose,
            adapt_threads=self.n_jobs is None,
        )  # fmt: skip
