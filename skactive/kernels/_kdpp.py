"""k-DPP sampling on BADGE gradient embeddings with the MCMC swap chain.

A k-DPP with the linear kernel on ``g_x = a_x ⊗ h_x`` draws a k-set ``S``
with probability proportional to ``det(L_S)``, ``L_xy = ⟨g_x, g_y⟩ =
⟨a_x, a_y⟩⟨h_x, h_y⟩``. The chain of Kang (2013) proposes swapping a uniform
member ``u`` of ``S`` for a uniform non-member ``v`` and accepts with
probability ``½ min(1, det(L_{S−u+v}) / det(L_S))``. With ``L_S⁻¹`` kept,
the ratio is ``s_v (L_S⁻¹)_uu + (L_S⁻¹ l_v)_u²``, ``l_v = L_{S,v}`` and
``s_v = L_vv − l_vᵀL_S⁻¹l_v``: O(k(K + d) + k²) per step from the factored
Gram, never an ``n × n`` kernel or the ``n × Kd`` embedding. The pool is
touched only by the initialisation (k-means++ or uniform) and the norms.
"""

import math
import numbers

import numpy as np

from ..backends import to_numpy
from ..utils._validation import DEVICE, Interval, StrOptions, validate_params
from ._common import check_n_select, pow2_exponent, pow2_scale, prepare, sq_norms
from ._kmeanspp import _fill_uniform, _kmeanspp_select, _uniform_position

_INITS = ("kmeans++", "random")

# Jitter on the kernel's diagonal, relative to the mean ‖g‖²: it keeps the
# chain defined when fewer than k independent embeddings exist (then no
# k-set has det(L_S) > 0) and changes well-conditioned ratios by ~1e-9.
_JITTER = 1e-9
# Recompute L_S⁻¹ from scratch after this many accepted swaps (per k) to
# stop round-off from the rank-one updates accumulating.
_REFRESH = 1


def default_n_steps(k):
    """``⌊5·k·ln k⌋``, the chain length of the BADGE paper (App. G)."""
    return int(math.floor(5 * k * math.log(k))) if k > 1 else 0


def _jitter(g_sq):
    """``10⁻⁹·mean‖g‖²`` rounded to a power of two (1 if every ``g`` is 0).

    Rounding makes it the same number on every backend, whose norms may differ
    in the last bit; the chain's ratios are sensitive to it when ``L_S`` is
    near-singular.
    """
    scale = float(np.mean(g_sq)) if len(g_sq) else 0.0
    return 2.0 ** round(math.log2(_JITTER * scale)) if scale > 0 else 1.0


class _Chain:
    """The current k-set ``S`` (in slot order), ``L_S⁻¹`` and the proposal lists, on the host.

    ``A`` and ``H`` may live on a device; only the rows of ``S`` and the one
    proposed row are fetched, so every backend runs the same float64 chain.
    """

    def __init__(self, A, H, eps, S):
        self.A, self.H, self.eps = A, H, eps
        n = H.shape[0]
        self.inside = list(S)
        member = np.zeros(n, dtype=bool)
        member[self.inside] = True
        self.outside = np.flatnonzero(~member).tolist()
        self.AS = np.stack([self._row(A, i) for i in self.inside])
        self.HS = np.stack([self._row(H, i) for i in self.inside])
        self.accepted = 0
        self._refresh()

    @staticmethod
    def _row(X, i):
        return np.asarray(to_numpy(X[i, :]), dtype=np.float64)

    def gram(self):
        """``L_S`` from the factored Gram ``(A_S A_Sᵀ) ∘ (H_S H_Sᵀ) + εI``."""
        L = (self.AS @ self.AS.T) * (self.HS @ self.HS.T)
        return L + self.eps * np.eye(len(self.inside))

    def _refresh(self):
        L = self.gram()
        Minv = np.linalg.solve(L, np.eye(len(L)))
        self.Minv = 0.5 * (Minv + Minv.T)

    def propose(self, v):
        """``(a_v, h_v, w = L_S⁻¹l_v, s_v)`` for a candidate row ``v``."""
        a, h = self._row(self.A, v), self._row(self.H, v)
        l_v = (self.AS @ a) * (self.HS @ h)
        w = self.Minv @ l_v
        # L_vv from the fetched row, not the pool's norms: host arithmetic only,
        # so every backend computes the same ratio.
        l_vv = float(a @ a) * float(h @ h) + self.eps
        s = max(l_vv - float(l_v @ w), 0.0)  # a Schur complement is >= 0
        return a, h, w, s

    def ratio(self, slot, proposal):
        """``det(L_{S − S[slot] + v}) / det(L_S)`` (matrix determinant lemma)."""
        _, _, w, s = proposal
        return s * self.Minv[slot, slot] + w[slot] ** 2

    def swap(self, slot, pos, proposal):
        """Replace ``S[slot]`` by ``outside[pos]``; ``L_S⁻¹`` by a bordering then a deletion."""
        a, h, w, s = proposal
        v, u = self.outside[pos], self.inside[slot]
        self.inside[slot], self.outside[pos] = v, u
        self.AS[slot], self.HS[slot] = a, h
        self.accepted += 1
        if s <= 0.0 or self.accepted % (_REFRESH * len(self.inside)) == 0:
            self._refresh()
            return
        k = len(self.inside)
        # Inverse of L_{S+v} (v last), then delete slot's row and column.
        N = np.empty((k + 1, k + 1))
        N[:k, :k] = self.Minv + np.outer(w, w) / s
        N[:k, k] = N[k, :k] = -w / s
        N[k, k] = 1.0 / s
        keep = [i for i in range(k + 1) if i != slot]
        N = N[np.ix_(keep, keep)] - np.outer(N[keep, slot], N[slot, keep]) / N[slot, slot]
        # v sits last; move it into slot's place to match the slot order.
        order = list(range(k - 1))
        order.insert(slot, k - 1)
        self.Minv = N[np.ix_(order, order)]


def _initial_set(A, H, g_sq, k, rng, xp, init):
    if init == "kmeans++":
        return _kmeanspp_select(A, H, k, rng, xp)
    picks, chosen = [], np.zeros(len(g_sq), dtype=bool)
    _fill_uniform(picks, chosen, k, rng)
    return picks


def _kdpp_select(A, H, n_select, rng, xp, init="kmeans++", n_steps=None, return_chain=False):
    """k-DPP swap chain on ``g = a ⊗ h``; input assumed valid (see :func:`kdpp_select`).

    Each step draws three ``rng.uniform()``: the slot of ``S`` to swap out,
    the non-member to swap in (position ``ceil(u·m) − 1`` of the ``m``
    non-members), and the acceptance. With ``return_chain`` also return the
    :class:`_Chain`.
    """
    n = H.shape[0]
    n_steps = default_n_steps(n_select) if n_steps is None else n_steps
    # Swap ratios and the jitter scale alike with H: an exact power-of-two
    # rescale keeps ‖g‖² of 1e±155 embeddings finite and changes no step.
    A, H = pow2_scale(A, pow2_exponent([A], xp)), pow2_scale(H, pow2_exponent([H], xp))
    g_sq = np.asarray(to_numpy(sq_norms(A, xp) * sq_norms(H, xp)), dtype=np.float64)
    chain = _Chain(A, H, _jitter(g_sq), _initial_set(A, H, g_sq, n_select, rng, xp, init))
    if n_select < n:
        for _ in range(n_steps):
            slot = _uniform_position(rng.uniform(), n_select)
            pos = _uniform_position(rng.uniform(), n - n_select)
            proposal = chain.propose(chain.outside[pos])
            # Kang's lazy chain: half the Metropolis probability.
            if rng.uniform() < 0.5 * min(1.0, chain.ratio(slot, proposal)):
                chain.swap(slot, pos, proposal)
    picks = list(chain.inside)
    return (picks, chain) if return_chain else picks


@validate_params(
    {
        "A": ["array-like"],
        "H": ["array-like"],
        "n_select": [Interval(numbers.Integral, 1, None, closed="left")],
        "init": [StrOptions(set(_INITS))],
        "n_steps": [Interval(numbers.Integral, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "device": [DEVICE],
    },
    prefer_skip_nested_validation=True,
)
def kdpp_select(
    A, H, n_select, *, init="kmeans++", n_steps=None, random_state=None, device="numpy"
):
    """Sample a k-DPP on BADGE gradient embeddings with the MCMC swap chain.

    Draws ``n_select`` rows approximately from the k-DPP whose kernel is the
    linear kernel of the gradient embeddings ``g_i = a_i ⊗ h_i``:
    ``P(S) ∝ det(L_S)``, ``L_ij = ⟨a_i, a_j⟩⟨h_i, h_j⟩``. The chain (Kang,
    2013) starts from k-means++ seeding (:func:`kmeanspp_select`) or a
    uniform k-set and runs ``n_steps`` swap proposals.

    Parameters
    ----------
    A : array-like of shape (n, K)
        Class factor of the gradient, ``P − onehot(argmax P)``.
    H : array-like of shape (n, d)
        Input of the last linear layer.
    n_select : int
        Size k of the set, in ``[1, n]``.
    init : {"kmeans++", "random"}, default="kmeans++"
        Start of the chain: BADGE's k-means++ picks, or k uniform rows.
    n_steps : int or None, default=None
        Swap proposals; None means ``⌊5·k·ln k⌋`` as in the BADGE paper.
    random_state : int, RandomState instance or None, default=None
        Seeds every draw (host uniforms, the same picks on every device).
    device : str, default="numpy"
        Backend of the pool-sized work: ``"numpy"``, ``"cpu"``, ``"cuda"``,
        ``"cuda:<i>"`` or ``"auto"``.

    Returns
    -------
    indices : list of int
        ``n_select`` unique row indices: the chain's final set, in slot order
        (a swapped-in row takes the slot of the row it replaced).

    Raises
    ------
    ValueError
        If ``A`` and ``H`` have different numbers of rows, ``n_select`` or
        ``n_steps`` is out of range, ``init`` is unknown, or the input is not
        finite.

    Notes
    -----
    A step picks a uniform slot of ``S`` and a uniform non-member ``v`` and
    accepts the swap with probability ``½ min(1, det(L_{S'})/det(L_S))`` (the
    lazy chain of Kang, 2013, whose stationary law is the k-DPP). The ratio
    comes from ``L_S⁻¹``, kept with bordering/deletion updates in O(k²) and
    recomputed every k accepted swaps, and from the kernel column ``l_v``
    computed as ``(A_S a_v) ∘ (H_S h_v)``. Cost: O(n(K + d)) for the norms,
    plus the initialisation (k-means++: O(k·n(K + d))), plus O(k(K + d) + k²)
    per step. A jitter of about ``10⁻⁹·mean‖g‖²`` on the diagonal keeps the law
    defined when fewer than k independent embeddings exist (then it puts its
    mass on sets holding a maximal independent subset).

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020, App. G.
    .. [2] B. Kang, "Fast Determinantal Point Process Sampling with
       Application to Clustering", NeurIPS 2013.
    .. [3] N. Anari, S. Oveis Gharan and A. Rezaei, "Monte Carlo Markov Chain
       Algorithms for Sampling Strongly Rayleigh Distributions and
       Determinantal Point Processes", COLT 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import kdpp_select
    >>> P = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.2, 0.8]])
    >>> A = P - np.eye(2)[P.argmax(axis=1)]
    >>> H = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0], [3.0, 1.0]])
    >>> sorted(kdpp_select(A, H, 2, random_state=0))
    [2, 3]
    """
    backend, (A, H), rng = prepare([A, H], ["A", "H"], device, random_state)
    n = H.shape[0]
    if A.shape[0] != n:
        raise ValueError(f"A and H should have the same number of rows; got {A.shape[0]} and {n}.")
    check_n_select(n_select, n)
    return _kdpp_select(A, H, int(n_select), rng, backend.xp, init, n_steps)
