"""k-DPP sampling on BADGE's gradient embeddings (BADGE paper, §3 and App. G)."""

from numbers import Integral

from ..base import BaseQueryStrategy
from ..kernels._kdpp import _kdpp_select
from ..kernels._kmeanspp import _gradient_factor
from ..utils._validation import Interval, StrOptions


class KDPP(BaseQueryStrategy):
    """k-DPP sampling on last-layer gradient embeddings (the BADGE paper's k-DPP).

    Samples the batch from a k-DPP whose kernel is the linear kernel of
    BADGE's gradient embeddings ``g_x = (p_x − onehot(ŷ_x)) ⊗ h_x``: a batch
    ``S`` has probability proportional to ``det(L_S)``, the squared volume
    its embeddings span, so large (uncertain) and mutually dissimilar
    (diverse) rows are favoured, as k-means++ seeding does in :class:`BADGE`.
    The BADGE paper (App. G) compares the two samplers; k-means++ is as
    accurate and much faster. The sample comes from the MCMC swap chain of
    Kang (2013), started from k-means++ seeding or a uniform batch.
    Classification only.

    Parameters
    ----------
    estimator : estimator object
        A classifier with an adapter (see :mod:`skactive.adapters`); cloned in
        :meth:`fit`.
    init : {"kmeans++", "random"}, default="kmeans++"
        Start of the chain: BADGE's picks for the same ``random_state``, or
        ``batch_size`` uniform rows.
    n_steps : int or None, default=None
        Swap proposals of the chain; None means ``⌊5·k·ln k⌋`` for a batch of
        k rows, the BADGE paper's setting. More steps sample more exactly.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the chain. An int gives the same batch
        on every call and on every device.
    device : str, default="auto"
        Where the pool-sized work runs: ``"auto"``, ``"numpy"``, ``"cpu"``,
        ``"cuda"`` or ``"cuda:<i>"``; the k×k chain runs on the host in
        float64 on every backend.

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
    BADGE : k-means++ seeding on the same embeddings.
    GreedyLogDet : Deterministic greedy maximisation of the same determinant.
    skactive.kernels.kdpp_select : The sampling kernel.

    Notes
    -----
    *Why a class of its own rather than ``BADGE(sampler="kdpp")``.* The
    chain has parameters (its length, its start) that mean nothing for
    k-means++, while :class:`BADGE`'s ``init`` means something else; a
    separate class keeps every parameter meaningful and :class:`BADGE` with
    the authors' defaults.

    *Cost.* The swap ratio ``det(L_{S−u+v})/det(L_S)`` comes from ``L_S⁻¹``
    (k×k, kept with O(k²) updates) and the kernel column of the proposed row,
    ``(A_S a_v) ∘ (H_S h_v)``: O(k(K + d) + k²) per step, independent of the
    pool size, never an ``n × n`` kernel or the ``n × Kd`` embeddings. The
    pool is touched by one forward pass, the norms and the k-means++ start
    (O(k·n(K + d))), so a call costs about one BADGE query plus
    ``n_steps · O(k(K + d) + k²)``.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020, App. G.
    .. [2] B. Kang, "Fast Determinantal Point Process Sampling with
       Application to Clustering", NeurIPS 2013.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skactive import KDPP
    >>> X, y = load_iris(return_X_y=True)
    >>> al = KDPP(LogisticRegression(), random_state=0).fit(X[::10], y[::10])
    >>> len(set(al.query(X, batch_size=4).tolist()))
    4
    """

    _parameter_constraints = {
        **BaseQueryStrategy._parameter_constraints,
        "init": [StrOptions({"kmeans++", "random"})],
        "n_steps": [Interval(Integral, 0, None, closed="left"), None],
    }
    _tasks = frozenset({"classification"})

    def __init__(
        self, estimator, *, init="kmeans++", n_steps=None, random_state=None, device="auto"
    ):
        super().__init__(estimator, random_state=random_state, device=device)
        self.init = init
        self.n_steps = n_steps

    def _select(self, X_pool, batch_size, rng, backend):
        H, P = self._outputs(X_pool, backend)
        A = _gradient_factor(P, backend.xp)
        return _kdpp_select(A, H, batch_size, rng, backend.xp, self.init, self.n_steps)
