"""k-means++ seeding on BADGE gradient embeddings, without forming them.

The gradient embedding of row x is ``g_x = a_x ⊗ h_x`` (``a = p − onehot(ŷ)``,
``h`` the last layer's input), so every quantity k-means++ needs factors::

    ‖g_x − g_c‖² = ‖a_x‖²‖h_x‖² + ‖a_c‖²‖h_c‖² − 2⟨a_x, a_c⟩⟨h_x, h_c⟩

One new centre costs two mat-vecs, O(n(K + d)), instead of O(nKd), and
memory stays O(n(K + d)).
"""

import math
import numbers

import numpy as np

from ..backends import to_numpy
from ..utils._validation import DEVICE, Interval, StrOptions, validate_params
from ._common import _device_kw, check_n_select, prepare, sq_norms

_INITS = ("max_norm", "random")


_EPS64 = float(np.finfo(np.float64).eps)


def _gradient_factor(P, xp):
    """``A = P − onehot(argmax P)``: the class factor of the last-layer gradient.

    This is minus the cross-entropy gradient with respect to the logits at the
    predicted label (first class on ties); the sign does not change any
    distance. K is ``P``'s number of columns, never a count of labels.
    """
    yhat = xp.argmax(P, axis=1)
    classes = xp.arange(P.shape[1], **_device_kw(P))
    onehot = xp.astype(classes[None, :] == yhat[:, None], P.dtype)
    return P - onehot


def _uniform_position(u, m):
    """Position ``ceil(u·m) − 1`` (clipped to ``[0, m − 1]``) for a uniform ``u``.

    This is the inverse-CDF rule below with equal weights on ``m`` items:
    the first position whose cumulative weight ``j + 1`` reaches ``u·m``.
    """
    return min(max(math.ceil(u * m) - 1, 0), m - 1)


def _noise_tol(K, d, eps=_EPS64):
    """Relative rounding bound of the factored squared distance.

    For an exact duplicate of a centre the factored formula cancels to a
    residue of at most about ``2(K + d + 2)·ε·(‖g_x‖² + ‖g_c‖²)`` (two dot
    products and two squared norms); anything below twice that is
    indistinguishable from 0, so it is set to 0. Exact duplicates of a centre
    then have D² = 0, as the direct difference would give.
    """
    return 4.0 * (K + d + 2) * eps


def _sq_dist_to(A, H, g_sq, tol_g, c, tol, xp):
    """Squared distance of every row's ``g`` to ``g_c``, clamped at 0.

    ``tol_g = tol · g_sq``; values up to ``tol·(g_sq + g_sq[c])`` are rounding
    noise and become 0. In-place steps keep the per-pick vector work small
    next to the ``H @ h_c`` pass.
    """
    d2 = H @ H[c, :]
    # A BLAS mat-vec even for small K: a row-wise vecdot costs ~5x more on a
    # quiet machine (0.7-0.9 ms against 0.15 ms per pick at n=50,000).
    d2 *= A @ A[c, :]
    d2 *= -2.0
    d2 += g_sq
    d2 += g_sq[c]
    return xp.where(d2 <= tol_g + tol * g_sq[c], 0.0, d2)


def _draw(d2, rng, chosen, xp):
    """One D²-weighted pick, or None when every D² is 0.

    One ``rng.uniform()`` per attempt, drawn on the host; the pick is the
    first row, in pool order, whose cumulative D² reaches ``u·ΣD²``. This is
    what ``scipy.stats.rv_discrete(values=(range(n), D²/ΣD²)).rvs()`` does
    with the same generator, so the authors' picks are reproduced. A chosen
    row has D² = 0, so it can come back only when ``u·ΣD² == 0`` (u = 0); then
    draw again, as the reference does.
    """
    cum = xp.cumulative_sum(d2)
    total = float(cum[-1])
    if total == 0.0:
        return None
    while True:
        target = xp.asarray([rng.uniform() * total], dtype=cum.dtype, **_device_kw(cum))
        idx = int(xp.searchsorted(cum, target, side="left")[0])
        if not chosen[idx]:
            return idx


def _fill_uniform(picks, chosen, n_select, rng):
    """Complete ``picks`` uniformly at random once every remaining D² is 0.

    Each fill pick draws one ``rng.uniform()`` and takes the unchosen row at
    position ``ceil(u·m) − 1`` in pool order among the ``m`` unchosen rows
    (:func:`_uniform_position`), i.e. the same inverse-CDF rule with weight 1
    on every unchosen row. It never repeats a row and always terminates.
    """
    free = np.flatnonzero(~chosen).tolist()
    while len(picks) < n_select:
        idx = free.pop(_uniform_position(rng.uniform(), len(free)))
        picks.append(idx)
        chosen[idx] = True


def _kmeanspp_select(A, H, n_select, rng, xp, init="max_norm", return_d2=False, progress=None):
    """k-means++ seeding on ``g = a ⊗ h``; input assumed valid (see :func:`kmeanspp_select`).

    ``rng`` is a legacy ``numpy.random.RandomState``; ``A``, ``H`` are float
    arrays of namespace ``xp`` on one device. With ``return_d2`` also return a
    list of ``n_select`` host arrays: D² after each pick (for tests).
    ``progress`` (a :class:`~skactive.kernels._parallel.Progress`) counts the picks.
    """
    n = H.shape[0]
    tol = _noise_tol(A.shape[1], H.shape[1], float(xp.finfo(H.dtype).eps))
    g_sq = sq_norms(A, xp) * sq_norms(H, xp)
    tol_g = tol * g_sq
    if init == "max_norm":
        first = int(xp.argmax(g_sq))  # lowest index on ties
    else:
        first = _uniform_position(rng.uniform(), n)
    chosen = np.zeros(n, dtype=bool)  # on the host: one lookup per draw
    picks, history = [first], []
    chosen[first] = True
    d2 = _sq_dist_to(A, H, g_sq, tol_g, first, tol, xp)
    d2[first] = 0.0
    while True:
        if return_d2:
            history.append(np.array(to_numpy(d2), dtype=np.float64))
        if len(picks) == n_select:
            break
        idx = _draw(d2, rng, chosen, xp)
        if idx is None:
            # Every remaining D² is 0 (one-hot probabilities, fewer distinct
            # embeddings than n_select): the rest is uniform; D² stays 0.
            _fill_uniform(picks, chosen, n_select, rng)
            history.extend(np.zeros(n) for _ in range(n_select - len(history)))
            break
        picks.append(idx)
        chosen[idx] = True
        d2 = xp.minimum(d2, _sq_dist_to(A, H, g_sq, tol_g, idx, tol, xp))
        d2[idx] = 0.0
        if progress is not None:
            progress.update()
    return (picks, history) if return_d2 else picks


@validate_params(
    {
        "A": ["array-like"],
        "H": ["array-like"],
        "n_select": [Interval(numbers.Integral, 1, None, closed="left")],
        "init": [StrOptions(set(_INITS))],
        "random_state": ["random_state"],
        "device": [DEVICE],
    },
    prefer_skip_nested_validation=True,
)
def kmeanspp_select(A, H, n_select, *, init="max_norm", random_state=None, device="numpy"):
    """k-means++ seeding on BADGE gradient embeddings (Ash et al., 2020).

    The gradient embedding of row ``i`` is ``g_i = a_i ⊗ h_i``. It is never
    formed: squared distances use ``‖g_x − g_c‖² = ‖a_x‖²‖h_x‖² + ‖a_c‖²‖h_c‖²
    − 2⟨a_x, a_c⟩⟨h_x, h_c⟩``. The first centre is the row of largest ``‖g‖``
    (``init="max_norm"``, as in the authors' code) or a uniform pick
    (``init="random"``, textbook k-means++); each next centre is drawn with
    probability proportional to D², the squared distance to the nearest
    centre so far.

    Parameters
    ----------
    A : array-like of shape (n, K)
        Class factor of the gradient, ``P − onehot(argmax P)`` (or its
        negation).
    H : array-like of shape (n, d)
        Input of the last linear layer.
    n_select : int
        Number of rows to pick, in ``[1, n]``.
    init : {"max_norm", "random"}, default="max_norm"
        First centre: the row of largest ``‖a‖·‖h‖`` (lowest index on ties),
        or row ``ceil(u·n) − 1`` for one ``u = rng.uniform()``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws (a legacy ``RandomState``, as
        :func:`sklearn.utils.check_random_state` makes it). Pass an int for
        the same picks on every call and every device.
    device : str, default="numpy"
        Backend: ``"numpy"``, ``"cpu"`` (torch CPU), ``"cuda"``,
        ``"cuda:<i>"`` or ``"auto"``.

    Returns
    -------
    indices : list of int
        ``n_select`` unique row indices in pick order.

    Raises
    ------
    ValueError
        If ``A`` and ``H`` have different numbers of rows, ``n_select`` is
        out of range, ``init`` is unknown, or the input is not finite
        (scikit-learn's ``InvalidParameterError`` for bad parameters).

    Notes
    -----
    Each draw takes one ``u = rng.uniform()`` on the host and picks the first
    row, in pool order, whose cumulative D² reaches ``u·ΣD²`` (drawing again
    in the u = 0 case that would return a chosen row). With
    ``np.random.seed(s)`` that is exactly the rule of the authors' code
    (``scipy.stats.rv_discrete(...).rvs()``), so ``random_state=s`` gives
    their picks. Squared distances are clamped at 0, chosen rows have D² = 0
    exactly, and values below the rounding error of the factored formula
    (``4(K + d + 2)·ε·(‖g_x‖² + ‖g_c‖²)``) count as 0, so exact duplicates of
    a centre are never drawn. When every remaining D² is 0, the rest of the
    batch is uniform over the unchosen rows: one ``u`` per pick, the unchosen
    row at position ``ceil(u·m) − 1`` of the ``m`` left, in pool order.

    Cost O(n(K + d)) per pick, O(n_select·n(K + d)) in all; memory O(n(K + d)).

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.
    .. [2] D. Arthur and S. Vassilvitskii, "k-means++: The Advantages of
       Careful Seeding", SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import kmeanspp_select
    >>> P = np.array([[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.2, 0.8]])
    >>> A = P - np.eye(2)[P.argmax(axis=1)]
    >>> H = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0], [3.0, 1.0]])
    >>> kmeanspp_select(A, H, 3, random_state=0)
    [2, 3, 1]
    """
    backend, (A, H), rng = prepare([A, H], ["A", "H"], device, random_state)
    n = H.shape[0]
    if A.shape[0] != n:
        raise ValueError(f"A and H should have the same number of rows; got {A.shape[0]} and {n}.")
    check_n_select(n_select, n)
    return _kmeanspp_select(A, H, int(n_select), rng, backend.xp, init=init)
