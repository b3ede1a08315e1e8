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

from ..exceptions import NumericalRangeError
from ..utils._validation import DEVICE, Interval, StrOptions, validate_params
from ._common import (
    _device_kw,
    abs_max,
    check_n_select,
    pow2_exponent,
    pow2_scale,
    prepare,
    sq_norms,
)

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


class _Distances:
    """Squared distances between gradient embeddings ``g = a ⊗ h``, never formed.

    ``‖g_x − g_c‖² = ‖a_x‖²‖h_x‖² + ‖a_c‖²‖h_c‖² − 2⟨a_x, a_c⟩⟨h_x, h_c⟩``
    cancels catastrophically when ``h`` carries a large common offset (1e7
    on features of spread 1 leaves about two correct digits), and unlike
    k-center, BADGE's distances are not translation invariant in ``h``.
    Writing ``h = μ + h̃`` for a pool row ``μ`` splits off the offset exactly:

        ‖g_x − g_c‖² = ‖Δa‖²(‖μ‖² + 2⟨μ, h̃_x⟩) + 2⟨Δa, a_c⟩⟨μ, h̃_x − h̃_c⟩
                       + ‖a_x ⊗ h̃_x − a_c ⊗ h̃_c‖²

    with ``Δa = a_x − a_c`` (``‖Δa‖²`` from the difference itself, O(nK)) and
    the last term in factored form on the centred ``h̃``. Its rounding error
    is then relative to the data's spread, not to its offset. Used only when
    the offset dominates (``‖μ‖² > 16 max ‖h̃‖²``); otherwise the plain form
    is exact enough (error below ``25·tol·‖a‖²·max‖h̃‖²``) and cheaper.
    """

    def __init__(self, A, H, xp, origin=None, offset=None, hc_sq=None):
        # A partition of a Dask pool gets the pool's ``origin`` (its row 0)
        # and ``offset`` decision, and its own ``hc_sq`` computed for it.
        self.A, self.xp = A, xp
        self.tol = _noise_tol(A.shape[1], H.shape[1], float(xp.finfo(H.dtype).eps))
        self.a_sq = sq_norms(A, xp)
        origin = H[0, :] if origin is None else origin
        if hc_sq is None:
            hc_sq = _centred_sq_norms(H, origin, xp)
        if offset is None:
            offset = _offset_dominates(origin, float(xp.max(hc_sq)), xp)
        self.offset = offset
        h_sq = sq_norms(H, xp)
        self.norm_sq = self.a_sq * h_sq  # ‖g‖², uncentred: the max-norm rule's
        if self.offset:
            # A centred copy of H (O(nd) memory, like the input) only here.
            Hc = H - origin
            self.H, h_sq = Hc, hc_sq
            s = Hc @ origin  # ⟨μ, h̃_x⟩
            self.s, self.w = s, 2.0 * s + xp.vecdot(origin, origin)
            self.ones = xp.ones((A.shape[1],), dtype=A.dtype, **_device_kw(A))
        else:
            self.H = H
        self.g_sq = self.a_sq * h_sq
        self.tol_g = self.tol * self.g_sq
        # The screen needs the plain factored form; numpy only, as its
        # data-dependent row sets would cost a device sync each.
        self.screen = None
        if xp is np and not self.offset and H.shape[0]:
            self.screen = _Screen(A, H, self.g_sq, h_sq, self.tol)

    def to(self, c):
        """Squared distance of every row's ``g`` to ``g_c``, clamped at 0.

        Values up to ``tol·(g_sq + g_sq[c])`` are rounding noise and become 0.
        In-place steps keep the per-pick vector work small next to the
        ``H @ h_c`` pass.
        """
        return self.to_centre(*self.centre(c))

    def centre(self, c):
        """What :meth:`to_centre` needs of row ``c``: ``(a_c, h_c, ‖g_c‖², ‖a_c‖², s_c)``.

        ``h_c`` is centred when the offset is split off. A Dask pool sends
        these O(K + d) numbers from the partition holding ``c`` to the others.
        """
        s_c = self.s[c] if self.offset else None
        return self.A[c, :], self.H[c, :], self.g_sq[c], self.a_sq[c], s_c

    def to_centre(self, a_c, h_c, g_c, a_sq_c, s_c):
        """:meth:`to` for a centre given by :meth:`centre` (possibly another partition's)."""
        return self._exact(slice(None), self.A @ a_c, h_c, g_c, a_c, a_sq_c, s_c)

    def _exact(self, rows, aa, h_c, g_c, a_c, a_sq_c, s_c):
        """D² of ``rows`` (a slice or indices) to the centre, given their ``⟨a_x, a_c⟩``."""
        xp = self.xp
        # A BLAS mat-vec even for small K: a row-wise vecdot costs ~5x more on a
        # quiet machine (0.7-0.9 ms against 0.15 ms per pick at n=50,000).
        d2 = self.H[rows, :] @ h_c
        d2 *= aa
        d2 *= -2.0
        d2 += self.g_sq[rows]
        d2 += g_c
        d2 = xp.where(d2 <= self.tol_g[rows] + self.tol * g_c, 0.0, d2)
        if self.offset:
            d2 = d2 + self._offset_terms(aa, a_c, a_sq_c, s_c, rows)
        return xp.clip(d2, 0.0, None)

    def lower(self, d2, c):
        """``min(d2, D² to row c)`` row by row: what ``minimum(d2, to(c))`` gives."""
        return self.lower_to_centre(d2, *self.centre(c))

    def lower_to_centre(self, d2, a_c, h_c, g_c, a_sq_c, s_c):
        """:meth:`lower` for a centre given by :meth:`centre`; may update ``d2`` in place.

        With the screen (:class:`_Screen`), only the rows it cannot rule out
        are computed in full, typically a few percent after the first picks;
        every other row provably keeps its ``d2``, so the result is the same.
        """
        xp = self.xp
        aa = self.A @ a_c
        rows = None if self.screen is None else self.screen.candidates(d2, aa, h_c, g_c)
        # Early picks rule out few rows; then one pass beats a gather of H.
        if rows is None or 8 * rows.shape[0] > d2.shape[0]:
            return xp.minimum(d2, self._exact(slice(None), aa, h_c, g_c, a_c, a_sq_c, s_c))
        new = self._exact(rows, aa[rows], h_c, g_c, a_c, a_sq_c, s_c)
        d2[rows] = xp.minimum(d2[rows], new)
        return d2

    def _offset_terms(self, aa, a_c, a_sq_c, s_c, rows):
        """``‖Δa‖²(‖μ‖² + 2⟨μ, h̃_x⟩) + 2⟨Δa, a_c⟩⟨μ, h̃_x − h̃_c⟩`` for ``rows``."""
        dA = self.A[rows, :] - a_c
        dA *= dA
        out = (dA @ self.ones) * self.w[rows]
        aa = aa - a_sq_c  # ⟨Δa, a_c⟩: 0 for rows with a_x = a_c
        out += 2.0 * aa * (self.s[rows] - s_c)
        return out


class _Screen:
    """Bounds that rule rows out of a k-means++ update before ``H`` is read.

    Each new centre needs ``⟨h_x, h_c⟩`` for every row, a pass over ``H``
    that is memory-bound (~85 % of BADGE's time at n = 50,000, d = 128).
    A row whose D² the centre provably cannot lower needs no exact value,
    and two lower bounds on its new D² find most such rows cheaply:

    1. from ``⟨a_x, a_c⟩`` (computed anyway) and Cauchy–Schwarz on ``h``:
       ``‖g_x‖² + ‖g_c‖² − 2|⟨a_x, a_c⟩|‖h_x‖‖h_c‖``, with no pass over ``H``;
    2. for the rows left, from a float32 copy of ``H`` (half the bytes),
       whose dot products are within ``β‖h_x‖‖h_c‖`` of the exact ones for
       any order of summation, ``β = 1.1(d + 3)u``, ``u = 2**-24``; a
       float64 pool only (a float32 pool goes from 1 to its exact rows).

    Each bound is lowered by its rounding (float64's ``(K + d)ε`` terms
    included) and by three times the float64 formula's own rounding bound
    ``tol·(‖g_x‖² + ‖g_c‖²)``. A row whose bound still exceeds its current
    D² keeps it: the exact formula would give a larger value, not clamped to
    0. The float32 copy is scaled by a power of two into ``[-1, 1]`` first,
    so it cannot overflow, and a tiny absolute term covers subnormals.
    numpy only: on a device, the data-dependent row sets would each cost a sync.
    """

    def __init__(self, A, H, g_sq, h_sq, tol):
        K, d = A.shape[1], H.shape[1]
        self.tol, self.eh = tol, _exponent(H, np)
        self.H32 = None
        if H.dtype == np.float64:
            self.H32 = np.empty(H.shape, dtype=np.float32)
            for start in range(0, H.shape[0], 2048):  # no float64 temporary of H's size
                sl = slice(start, start + 2048)
                self.H32[sl, :] = pow2_scale(H[sl, :], self.eh)
        self.unit = math.ldexp(-2.0, 2 * self.eh)  # −2 × the scale, squared
        self.beta = 1.1 * (d + 3) * 2.0**-24
        # Float64 rounding of ⟨a_x, a_c⟩ and the norms (relative), and a
        # subnormal term: at most 2**-147 per float32 product of entries in
        # [-1, 1], over d products, times |⟨a_x, a_c⟩| <= K max|A|², twice.
        self.beta64 = 4.0 * (K + d + 6) * float(np.finfo(H.dtype).eps)
        self.abs_err = math.ldexp(8.0 * K * d * (abs_max(A, np) ** 2 + 1.0), 2 * self.eh - 147)
        self.h_root, self.g_root = np.sqrt(h_sq), np.sqrt(g_sq)
        self.g_safe = (1.0 - 3.0 * tol) * g_sq - self.abs_err
        self._buf = None

    def candidates(self, d2, aa, h_c, g_c):
        """Indices of the rows whose D² the centre could lower, given ``aa = A a_c``."""
        h_norm, g_root_c = math.sqrt(h_c @ h_c), math.sqrt(g_c)
        base = self.g_safe + (1.0 - 3.0 * self.tol) * g_c
        low = np.abs(aa) * ((-2.0 * h_norm) * self.h_root)
        low -= (2.0 * self.beta64 * g_root_c) * self.g_root
        low += base
        rows = np.flatnonzero(low <= d2)
        if rows.shape[0] == 0 or self.H32 is None:
            return rows
        # Gather the float32 rows only for a minority; else one pass over all.
        H32 = self.H32 if 2 * rows.shape[0] > self.H32.shape[0] else self._gather(rows)
        h32 = pow2_scale(h_c, self.eh).astype(np.float32)
        low = (H32 @ h32).astype(np.float64)
        if H32.shape[0] != rows.shape[0]:
            low = low[rows]
        low *= aa[rows] * self.unit  # exact to float64 rounding of aa·unit
        low -= (2.0 * (self.beta + self.beta64) * g_root_c) * self.g_root[rows]
        low += base[rows]
        return rows[low <= d2[rows]]

    def _gather(self, rows):
        """``H32[rows]`` into a reused buffer (a fresh one per pick cost 3x the
        gather itself in page faults)."""
        if self._buf is None or self._buf.shape[0] < rows.shape[0]:
            # Grows geometrically: at most log2(n) allocations, at most n/2 rows.
            m = max(rows.shape[0], 0 if self._buf is None else 2 * self._buf.shape[0])
            self._buf = np.empty(
                (min(m, self.H32.shape[0] // 2 + 1), self.H32.shape[1]), np.float32
            )
        return np.take(self.H32, rows, axis=0, out=self._buf[: rows.shape[0]])


def _exponent(X, xp):
    """``e`` with ``X · 2**-e`` in ``[-1, 1)`` (0 for an all-zero ``X``)."""
    return math.frexp(abs_max(X, xp))[1]


def _offset_dominates(origin, top, xp):
    """Whether ``h``'s offset from 0 dwarfs its spread: ``‖μ‖² > 16 max ‖h − μ‖²``."""
    return float(xp.vecdot(origin, origin)) > 16.0 * top


def _centred_sq_norms(H, origin, xp, rows=512):
    """``‖h_x − μ‖²`` of every row, in small chunks: no n × d temporary."""
    out = xp.empty((H.shape[0],), dtype=H.dtype, **_device_kw(H))
    for start in range(0, H.shape[0], rows):
        block = H[start : start + rows, :] - origin
        out[start : start + rows] = xp.vecdot(block, block)
    return out


def _draw(d2, rng, chosen, xp):
    """One D²-weighted pick, or None when every D² is 0.

    One ``rng.uniform()`` per attempt, drawn on the host; the pick is the
    first row, in pool order, whose cumulative D² reaches ``u·ΣD²``. This is
    what ``scipy.stats.rv_discrete(values=(range(n), D²/ΣD²)).rvs()`` does
    with the same generator, so the authors' picks are reproduced. A chosen
    row has D² = 0, so it can come back only when ``u·ΣD² == 0`` (u = 0); then
    draw again, as the reference does. The re-draw is bounded: 64 zeros in a
    row have probability 2**-3392; after them the first row with D² > 0 is
    taken, so the loop always ends.
    """
    cum = xp.cumulative_sum(d2)
    total = float(cum[-1])
    if total == 0.0:
        return None
    if not math.isfinite(total):  # impossible after pow2 rescaling; never loop on it
        raise NumericalRangeError("BADGE's squared distances overflowed float64.")
    for _ in range(64):
        target = xp.asarray([rng.uniform() * total], dtype=cum.dtype, **_device_kw(cum))
        idx = int(xp.searchsorted(cum, target, side="left")[0])
        if not chosen[idx]:
            return idx
    return int(xp.argmax(d2 > 0))


def _fill_uniform(picks, chosen, n_select, rng):
    """Complete ``picks`` uniformly at random once every remaining D² is 0.

    Each fill pick draws one ``rng.uniform()`` and takes the unchosen row at
    position ``ceil(u·m) − 1`` in pool order among the ``m`` unchosen rows
    (:func:`_uniform_position`), i.e. the same inverse-CDF rule with weight 1
    on every unchosen row. It never repeats a row and always terminates.
    """
    free = np.flatnonzero(~chosen).tolist()
    for _ in range(n_select - len(picks)):
        idx = free.pop(_uniform_position(rng.uniform(), len(free)))
        picks.append(idx)
        chosen[idx] = True


def _kmeanspp_select(A, H, n_select, rng, xp, init="max_norm", progress=None):
    """k-means++ seeding on ``g = a ⊗ h``; input assumed valid (see :func:`kmeanspp_select`).

    ``rng`` is a legacy ``numpy.random.RandomState``; ``A``, ``H`` are float
    arrays of namespace ``xp`` on one device. ``progress`` (a
    :class:`~skactive.kernels._parallel.Progress`) counts the picks.
    """
    n = H.shape[0]
    # Exact powers of two scale every D² alike: the same draws, no overflow.
    A, H = pow2_scale(A, pow2_exponent([A], xp)), pow2_scale(H, pow2_exponent([H], xp))
    dist = _Distances(A, H, xp)
    if init == "max_norm":
        first = int(xp.argmax(dist.norm_sq))  # lowest index on ties
    else:
        first = _uniform_position(rng.uniform(), n)
    chosen = np.zeros(n, dtype=bool)  # on the host: one lookup per draw
    picks = [first]
    chosen[first] = True
    d2 = dist.to(first)
    d2[first] = 0.0
    for _ in range(n_select - 1):  # each pass adds one row: at most n_select − 1
        idx = _draw(d2, rng, chosen, xp)
        if idx is None:
            # Every remaining D² is 0 (one-hot probabilities, fewer distinct
            # embeddings than n_select): the rest is uniform.
            _fill_uniform(picks, chosen, n_select, rng)
            break
        picks.append(idx)
        chosen[idx] = True
        d2 = dist.lower(d2, idx)
        d2[idx] = 0.0
        if progress is not None:
            progress.update()
    return picks


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

    *Range and precision.* ``A`` or ``H`` beyond ``2**±128`` in magnitude is
    first rescaled by an exact power of two, which scales every D² alike and
    changes no draw, so huge finite input (1e155 and beyond) neither
    overflows nor hangs. When ``H`` carries a large common offset (``‖h_0‖² >
    16 max ‖h − h_0‖²``), the offset is split off exactly (see
    ``_Distances``): the rounding error of each D² is then about
    ``(K + d)·ε`` times the squared size of the gradients' spread, not of
    their offset (features offset by 1e7 give the dense oracle's picks);
    otherwise the plain factored form has that bound up to a factor 25.

    Cost O(n(K + d)) per pick, O(n_select·n(K + d)) in all; memory O(n(K + d))
    (plus one centred copy of ``H`` when it carries an offset).

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
