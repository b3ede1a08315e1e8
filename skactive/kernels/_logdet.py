"""Greedy log-determinant maximisation (BAIT paper, §5.1 and App. B, Algorithms 2 and 3).

Starting from ``M₀ = λI + (1/L) Σ_labelled φ(x)``, each step adds the pool row
that most increases ``log det M`` and then adds its term to ``M``:

* ``embedding="gradient"`` (Algorithm 2): ``φ(x) = g_x g_xᵀ`` with BADGE's
  gradient embedding ``g_x = a_x ⊗ h_x``. By the matrix determinant lemma the
  gain is ``log(1 + s_x)``, ``s_x = g_xᵀM⁻¹g_x``; after a pick with
  ``w = M⁻¹g*`` every score drops by ``(g_xᵀw)² / (1 + s*)`` (Sherman–Morrison),
  and ``g_xᵀw = a_xᵀ W h_x`` with ``W`` the (K, d) reshape of ``w``: O(nKd) per
  step, nothing ``n × Kd``.
* ``embedding="fisher"`` (Algorithm 3): ``φ(x) = V_x V_xᵀ``, BAIT's last-layer
  Fisher. The gain is ``log det(I + G_x)``, ``G_x = V_xᵀM⁻¹V_x`` (K×K), kept
  current with BAIT's rank-K Woodbury term ``G_x ← G_x − U_x C U_xᵀ`` through
  the structured candidate rows of :mod:`skactive.kernels._bait`.
"""

import math
import numbers

from ..exceptions import NumericalRangeError
from ..utils._validation import DEVICE, Interval, StrOptions, validate_params
from ._bait import (
    _check_shapes,
    _chunks,
    _eye,
    _LinearRows,
    _matmul,
    _mm,
    _rescale,
    _small_inverse,
    _SoftmaxRows,
)
from ._common import _device_kw, prepare, row_chunks, sq_norms
from ._kmeanspp import _gradient_factor
from ._parallel import Progress, Workers

_EMBEDDINGS = ("fisher", "gradient")


def _gradient_gram(A, H, xp):
    """``Σ_x g_x g_xᵀ`` (Kd × Kd) of the labelled rows, built in row chunks."""
    (n, K), d = A.shape, H.shape[1]
    out = xp.zeros((K * d, K * d), dtype=H.dtype, **_device_kw(H))
    for sl in row_chunks(n, 8 * K * d):
        E = xp.reshape(A[sl, :, None] * H[sl, None, :], (-1, K * d))
        out = out + E.mT @ E
    return out


def _initial_inverse(lam, total, n_lab, D, like, xp):
    """``M₀⁻¹`` for ``M₀ = λI + total / n_lab`` (``total`` None: no labelled rows)."""
    eye = _eye(D, like, xp)
    if total is None:
        return eye / lam
    # SPD with every eigenvalue >= λ > 0: a plain inverse is well conditioned.
    Minv = xp.linalg.inv(lam * eye + total / n_lab)
    return 0.5 * (Minv + Minv.mT)


def _best(scores, taken, xp):
    """Largest score among rows not taken; lowest index on exact ties."""
    j = int(xp.argmax(xp.where(taken, -xp.inf, scores)))
    if not math.isfinite(float(scores[j])):
        raise NumericalRangeError(
            "Log-det gains became non-finite; rescale the embeddings or increase 'lam'."
        )
    return j


def _gradient_select(H, P, n_select, H_lab, P_lab, lam, xp, gains, workers, progress):
    """Algorithm 2: rank-one greedy on ``g = a ⊗ h``."""
    (n, d), K = H.shape, P.shape[1]
    A = _gradient_factor(P, xp)
    if H_lab is None:
        Minv = _initial_inverse(lam, None, 0, K * d, H, xp)
        scores = sq_norms(A, xp) * sq_norms(H, xp) / lam
    else:
        total = _gradient_gram(_gradient_factor(P_lab, xp), H_lab, xp)
        Minv = _initial_inverse(lam, total, H_lab.shape[0], K * d, H, xp)
        scores = _quad_scores(Minv, A, H, P, xp, workers)
    taken = xp.zeros((n,), dtype=xp.bool, **_device_kw(H))
    chunks = list(row_chunks(n, 8 * 2 * K))
    picks = []
    for _ in range(n_select):
        i = _best(scores, taken, xp)
        picks.append(i)
        taken[i] = True
        c = 1.0 + float(scores[i])
        if gains is not None:
            gains.append(math.log(c))
        # w = M⁻¹g_i = Σ_c a_ic M⁻¹[:, block c] h_i: (D, K) @ a_i, O((Kd)²).
        flat = xp.reshape(Minv, (K * d * K, d))
        w = xp.reshape(_matmul(flat, H[i, :][:, None], workers), (K * d, K)) @ A[i, :]
        Minv -= (w[:, None] * w[None, :]) / c
        W = xp.reshape(w, (K, d))

        def drop(sl, W=W, c=c):
            u = xp.sum((H[sl, :] @ W.mT) * A[sl, :], axis=1)
            scores[sl] -= u * u / c

        Workers.run(workers, drop, chunks)
        progress.update()
    return picks


def _quad_scores(Minv, A, H, P, xp, workers=None):
    """``g_xᵀM⁻¹g_x = a_xᵀ Â_x a_x`` with ``Â_x[a, b] = h_xᵀ M⁻¹_ab h_x`` (BAIT's block quads)."""
    rows = _SoftmaxRows(H, P, 1.0, xp)
    packed = rows.quad_prepare([Minv])
    out = xp.empty((H.shape[0],), dtype=H.dtype, **_device_kw(H))

    def fill(sl):
        (A_hat,) = rows.hat_quad(packed, sl)
        out[sl] = xp.sum((A_hat @ A[sl, :, None])[:, :, 0] * A[sl, :], axis=1)

    Workers.run(workers, fill, list(_chunks(rows.n, rows.quad_row_bytes, rows.quad_rows)))
    return out


def _logdet_bounds(G, xp):
    """``log(1 + tr G) <= log det(I + G) <= K log(1 + tr G / K)`` for PSD ``G``.

    Below: ``Π(1 + g_i) >= 1 + Σ g_i``; above: concavity of ``log`` (Jensen).
    Both are exact for K = 1 or rank-one ``G``.
    """
    K = G.shape[-1]
    t = xp.clip(xp.sum(xp.linalg.diagonal(G), axis=1), 0.0, None)
    return xp.log1p(t), K * xp.log1p(t / K)


class _FisherState:
    """``M⁻¹`` and every candidate's ``G_x = V_xᵀM⁻¹V_x`` (Algorithm 3)."""

    def __init__(self, rows, Minv, workers=None):
        self.rows, self.xp, self.Minv, self.workers = rows, rows.xp, Minv, workers
        xp, K = self.xp, rows.K
        self.G = xp.empty((rows.n, K, K), dtype=Minv.dtype, **_device_kw(Minv))
        packed = rows.quad_prepare([Minv])

        def fill(sl):
            self.G[sl, :, :] = rows.sandwich(rows.hat_quad(packed, sl)[0], sl)

        Workers.run(workers, fill, list(_chunks(rows.n, rows.quad_row_bytes, rows.quad_rows)))
        self.lower, self.upper = _logdet_bounds(self.G, xp)

    def exact(self, idx):
        xp = self.xp
        G = xp.take(self.G, idx, axis=0)
        return xp.linalg.slogdet(_eye(self.rows.K, G, xp) + 0.5 * (G + G.mT))[1]

    def best(self, taken):
        """Row not ``taken`` of largest ``log det(I + G_x)``, lowest index on exact ties.

        Exact log-determinants only where the upper bound reaches the best
        lower bound (less a 1e-9 relative margin): every row that could attain
        or tie the maximum is among them.
        """
        xp = self.xp
        top = xp.max(xp.where(taken, -xp.inf, self.lower))
        keep = (~taken) & (self.upper >= top - 1e-9 * xp.abs(top))
        idx = xp.nonzero(keep)[0]
        gains = self.exact(idx)
        j = int(xp.argmax(gains))
        if not math.isfinite(float(gains[j])):
            raise NumericalRangeError(
                "Log-det gains became non-finite; rescale the embeddings or increase 'lam'."
            )
        return int(idx[j]), float(gains[j])

    def commit(self, i):
        """``M ← M + V_iV_iᵀ``: Woodbury with ``W = M⁻¹V_i``, ``C = (I + G_i)⁻¹``."""
        xp, rows = self.xp, self.rows
        W = rows.minv_factor(self.Minv, i, self.workers)
        Gi = self.G[i, :, :]
        C = _small_inverse(_eye(rows.K, Gi, xp) + 0.5 * (Gi + Gi.mT), xp)
        self.Minv -= _mm(_mm(W, C), W.mT)
        Yr = rows.hat_matrix(W)

        def update(sl):
            U = rows.project(Yr, sl)
            G = self.G[sl, :, :]
            G -= _mm(_mm(U, C), U.mT)
            self.lower[sl], self.upper[sl] = _logdet_bounds(G, xp)

        Workers.run(self.workers, update, list(_chunks(rows.n, 8 * 8 * rows.K**2, rows.cache_rows)))


def _fisher_select(H, P, n_select, H_lab, P_lab, lam, xp, gains, workers, progress):
    """Algorithm 3: greedy ``det(M + V_xV_xᵀ)`` on the Fisher factors."""
    if P is None:
        rows, lab = _LinearRows(H, 1.0, xp), None if H_lab is None else _LinearRows(H_lab, 1.0, xp)
    else:
        rows = _SoftmaxRows(H, P, 1.0, xp)
        lab = None if H_lab is None else _SoftmaxRows(H_lab, P_lab, 1.0, xp)
    total = None if lab is None else lab.fisher_sum(workers)
    Minv = _initial_inverse(lam, total, 0 if lab is None else lab.n, rows.K * rows.d, H, xp)
    state = _FisherState(rows, Minv, workers)
    taken = xp.zeros((rows.n,), dtype=xp.bool, **_device_kw(H))
    picks = []
    for _ in range(n_select):
        i, gain = state.best(taken)
        picks.append(i)
        taken[i] = True
        if gains is not None:
            gains.append(gain)
        state.commit(i)
        progress.update()
    return picks


def _logdet_select(
    H, P, n_select, H_labeled, P_labeled, embedding, lam, xp, return_gains=False, *,
    n_jobs=1, verbose=0,
):  # fmt: skip
    """Greedy log-det picks; input assumed valid (see :func:`logdet_select`).

    ``P=None`` means regression (Fisher only). With ``return_gains`` also
    return the increase of ``log det M`` at each pick. ``n_jobs`` threads
    share the chunked passes over the pool (numpy); the picks never depend on it.
    """
    gains = [] if return_gains else None
    select = _gradient_select if embedding == "gradient" else _fisher_select
    # Log-det gains, like BAIT's, are unchanged when H scales by 2**-e and lam
    # by 2**-2e; this keeps 1e±155 embeddings inside float64.
    H, H_labeled, lam = _rescale(H, H_labeled, lam, xp, name="Greedy log-det")
    progress = Progress(verbose, n_select, "Greedy log-det")
    with Workers(n_jobs, xp) as workers:
        picks = select(H, P, n_select, H_labeled, P_labeled, lam, xp, gains, workers, progress)
    progress.close()
    return (picks, gains) if return_gains else picks


@validate_params(
    {
        "H": ["array-like"],
        "P": ["array-like", None],
        "n_select": [Interval(numbers.Integral, 1, None, closed="left")],
        "H_labeled": ["array-like", None],
        "P_labeled": ["array-like", None],
        "embedding": [StrOptions(set(_EMBEDDINGS))],
        "lam": [Interval(numbers.Real, 0, None, closed="neither")],
        "device": [DEVICE],
    },
    prefer_skip_nested_validation=True,
)
def logdet_select(
    H,
    P,
    n_select,
    *,
    H_labeled=None,
    P_labeled=None,
    embedding="fisher",
    lam=1.0,
    device="numpy",
):
    """Greedy log-determinant maximisation (BAIT paper, Algorithms 2 and 3).

    Starts from ``M₀ = λI + (1/L) Σ_labelled φ(x)`` and adds, ``n_select``
    times, the pool row that most increases ``log det M``, then its term
    ``φ(x)``: the rank-one ``g_x g_xᵀ`` of BADGE's gradient embedding
    (``embedding="gradient"``) or the rank-K last-layer Fisher ``V_x V_xᵀ``
    (``embedding="fisher"``, as in BAIT). Deterministic; lowest index on
    exact ties.

    Parameters
    ----------
    H : array-like of shape (n, d)
        Pool embeddings: the input of the last linear layer.
    P : array-like of shape (n, K) or None
        Class probabilities of the pool; ``None`` means regression (Fisher
        only, where ``V_x = h_x``).
    n_select : int
        Batch size, in ``[1, n]``.
    H_labeled : array-like of shape (L, d), default=None
        Embeddings of the labelled rows.
    P_labeled : array-like of shape (L, K), default=None
        Their class probabilities (classification only).
    embedding : {"fisher", "gradient"}, default="fisher"
        Which matrix each row adds to ``M``.
    lam : float, default=1.0
        Ridge ``λ > 0``.
    device : str, default="numpy"
        Backend, as the strategies' ``device`` parameter.

    Returns
    -------
    indices : list of int
        Unique row indices into ``H``, in pick order.

    Notes
    -----
    ``"gradient"``: O(n·K·d + (Kd)²) per step after an O(n·K²·d²) start
    (O(n(K + d)) without labelled rows); memory O(n·K + (Kd)²).
    ``"fisher"``: O(n·K²·d + (Kd)²·K) per step, O(n·K²) memory, the same
    per-candidate state as BAIT; exact K×K log-determinants are computed only
    for rows whose upper bound ``K log(1 + tr G/K)`` reaches the best lower
    bound ``log(1 + tr G)``, which changes no pick.

    References
    ----------
    .. [1] J. T. Ash, S. Goel, A. Krishnamurthy and S. Kakade, "Gone Fishing:
       Neural Active Learning with Fisher Embeddings", NeurIPS 2021, §5.1 and
       App. B.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import logdet_select
    >>> H = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.99, 0.01]])
    >>> logdet_select(H, P, 2)
    [2, 0]
    >>> logdet_select(H, P, 2, embedding="gradient")
    [2, 0]
    """
    arrays = {"H": H, "P": P, "H_labeled": H_labeled, "P_labeled": P_labeled}
    names = [k for k, v in arrays.items() if v is not None]
    backend, out, _ = prepare([arrays[k] for k in names], names, device)
    arrays.update(zip(names, out, strict=True))
    H, P, H_lab, P_lab = arrays.values()
    if embedding == "gradient" and P is None:
        raise ValueError("embedding='gradient' needs class probabilities P (classification).")
    _check_shapes(H, P, H_lab, P_lab, n_select, backend.xp)
    return _logdet_select(H, P, int(n_select), H_lab, P_lab, embedding, float(lam), backend.xp)
