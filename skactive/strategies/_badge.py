"""BADGE: k-means++ seeding on last-layer gradient embeddings."""

from numbers import Integral

from ..base import BaseQueryStrategy
from ..kernels._kmeanspp import _gradient_factor, _kmeanspp_select
from ..kernels._parallel import Progress, blas_threads, compute_dtype, effective_n_jobs
from ..utils._validation import StrOptions


class BADGE(BaseQueryStrategy):
    """Batch Active learning by Diverse Gradient Embeddings (Ash et al., 2020).

    Each pool row is represented by the gradient of the cross-entropy loss
    with respect to the last linear layer, taken at the label the model
    predicts: ``g_x = (p_x − onehot(ŷ_x)) ⊗ h_x``, where ``p_x`` are the class
    probabilities and ``h_x`` is the last layer's input. Its norm is large
    where the model is uncertain, and k-means++ seeding on these embeddings
    picks a batch that is both uncertain and diverse. The seeding follows the
    authors' code: the first pick is the row of largest ``‖g‖``, each next
    pick is drawn with probability proportional to its squared distance to
    the nearest pick so far. Classification only.

    Parameters
    ----------
    estimator : estimator object
        A classifier with an adapter (see :mod:`skactive.adapters`); cloned in
        :meth:`fit`.
    init : {"max_norm", "random"}, default="max_norm"
        First pick: the row of largest gradient norm (lowest index on ties),
        as in the authors' code, or one uniform draw (textbook k-means++, as
        the paper describes it).
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means++ draws. An int gives the same batch on every call
        and on every device; a RandomState advances from call to call.
        ``random_state=s`` reproduces the authors' code run after
        ``np.random.seed(s)``.
    device : str, default="auto"
        Where the kernel runs: ``"auto"`` (torch on CUDA when available, else
        numpy), ``"numpy"``, ``"cpu"`` (torch CPU), ``"cuda"`` or
        ``"cuda:<i>"``. Arithmetic is float64 everywhere.
    n_jobs : int or None, default=None
        BLAS threads for the numpy kernel. ``None`` decides per query: each
        pick reads (what its bounds leave of) the pool in a memory-bound pass,
        which ran 1.15x faster on two threads on an idle 2-core machine but
        2.4x slower when another process kept a core busy
        (``benchmarks/README.md``, n=50,000). So
        a large query (over 2e8 multiply-adds) first samples the CPUs for
        50 ms (Linux ``/proc/stat``) and uses as many threads as it finds
        idle; smaller queries, and systems without ``/proc/stat``, use one.
        ``-1`` means all CPUs. The picks do not depend on it. Torch backends
        use torch's own threads.
    dtype : {"float64", "float32"}, default="float64"
        Compute precision. ``"float32"`` is an opt-in speed mode; its picks
        can differ from float64's where distances agree to about 1e-6.
    verbose : int, default=0
        Show the picks as they are made (a tqdm bar when tqdm is installed,
        else a line every tenth of the batch on stderr).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    adapter_ : BaseAdapter
        The adapter of ``estimator_``.
    classes_ : ndarray
        Class labels of ``estimator_``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    See Also
    --------
    skactive.kernels.kmeanspp_select : The selection kernel.
    CoreSet : Greedy k-center on the embeddings alone.

    Notes
    -----
    K is the number of columns of the estimator's ``predict_proba`` (its
    ``classes_``), never a count of the labels seen. A binary classifier such
    as :class:`~sklearn.linear_model.LogisticRegression` returns two columns
    and is treated as the two-class softmax they describe: ``a_x = p_x −
    onehot(ŷ_x)`` then has ``‖a_x‖² = 2(p_{x,1} − ŷ_{x,1})²``, which differs
    from the gradient of the single logistic weight vector by the constant
    factor 2 on every squared distance, so the picks are the same.

    The ``n × Kd`` gradient embedding is never formed. Distances factor as
    ``‖g_x − g_c‖² = ‖a_x‖²‖h_x‖² + ‖a_c‖²‖h_c‖² − 2⟨a_x, a_c⟩⟨h_x, h_c⟩``,
    so each pick costs two mat-vecs, O(n(K + d)), and the whole batch
    O(B·n(K + d)) after one forward pass; memory is O(n(K + d)). Each draw
    uses one ``rng.uniform()`` from the legacy ``RandomState`` on the host and
    an inverse-CDF look-up on the device, which is what makes the picks the
    same on numpy and torch. When every remaining distance is 0 (e.g. the
    model is certain everywhere, or fewer distinct embeddings than
    ``batch_size`` remain) the rest of the batch is drawn uniformly from the
    unchosen rows; see :func:`~skactive.kernels.kmeanspp_select`
    for the exact rules.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.
    .. [2] J. T. Ash et al., reference code, https://github.com/JordanAsh/badge
       (commit a2d18ac).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import BADGE
    >>> X, y = load_iris(return_X_y=True)
    >>> al = BADGE(LogisticRegression(), random_state=0).fit(X[::10], y[::10])
    >>> al.query(X, batch_size=4)
    array([ 50, 104,  88,  43])
    """

    _parameter_constraints = {
        **BaseQueryStrategy._parameter_constraints,
        "init": [StrOptions({"max_norm", "random"})],
        "n_jobs": [Integral, None],
        "dtype": [StrOptions({"float64", "float32"})],
        "verbose": ["verbose"],
    }
    _tasks = frozenset({"classification"})

    def __init__(
        self,
        estimator,
        *,
        init="max_norm",
        random_state=None,
        device="auto",
        n_jobs=None,
        dtype="float64",
        verbose=0,
    ):
        super().__init__(estimator, random_state=random_state, device=device)
        self.init = init
        self.n_jobs = n_jobs
        self.dtype = dtype
        self.verbose = verbose

    def _select(self, X_pool, batch_size, rng, backend):
        xp = backend.xp
        H, P = (compute_dtype(a, self.dtype, xp) for a in self._outputs(X_pool, backend))
        A = _gradient_factor(P, xp)
        progress = Progress(self.verbose, batch_size - 1, "BADGE")
        work = H.shape[0] * batch_size * (H.shape[1] + A.shape[1])
        with blas_threads(effective_n_jobs(self.n_jobs, "idle", work=work), xp):
            picks = _kmeanspp_select(A, H, batch_size, rng, xp, init=self.init, progress=progress)
        progress.close()
        return picks
