"""Greedy k-center (CoreSet) with running minimum distances."""

import numbers

from ..utils._validation import DEVICE, Interval, validate_params
from ._common import (
    _device_kw,
    check_n_select,
    pow2_exponent,
    pow2_scale,
    prepare,
    row_chunks,
    sq_norms,
)


def _noise_tol(d):
    """Relative rounding bound of ``‖a‖² + ‖b‖² − 2a·b`` (two norms and a dot product).

    The residue for ``a == b`` is at most about ``2(d + 2)·ε·(‖a‖² + ‖b‖²)``;
    anything below twice that counts as 0, so exact duplicates get distance 0
    as the direct difference would give, and ties go to the lowest index.
    """
    return 4.0 * (d + 2) * 2.0**-52


def _sq_dist(d2, norms_x, norms_c, tol, xp):
    """Finish ``d2 = −2·x·c`` into ``‖x − c‖²``: add the norms, zero the rounding noise."""
    d2 += norms_c
    d2 += norms_x
    # In place with one temporary (the bound), not three: the start's blocks are
    # working_memory-sized, and each extra copy of one is a block more memory.
    bound = norms_x + norms_c
    bound *= tol
    d2[d2 <= bound] = 0.0
    return d2


def _min_sq_dist_to_set(H, H_norms, C, tol, xp):
    """For each row of ``H``, the squared distance to the nearest row of ``C``.

    Chunked over ``H`` so that a block's ``len(C)``-wide temporaries together stay
    within ``working_memory``.
    """
    C_norms = sq_norms(C, xp)
    out = xp.empty((H.shape[0],), dtype=H.dtype, **_device_kw(H))
    # A block's live temporaries: d2 and the noise bound (8 bytes per entry
    # each) and the mask (1): all of them within working_memory together.
    for sl in row_chunks(H.shape[0], 17 * C.shape[0]):
        d2 = H[sl, :] @ C.T
        d2 *= -2.0
        out[sl] = xp.min(_sq_dist(d2, H_norms[sl, None], C_norms[None, :], tol, xp), axis=1)
    return out


def _centred(H, H_labeled, xp):
    """``H`` and ``H_labeled`` less one pool row, so that no norm carries an offset.

    Distances are translation invariant, but ``‖a‖² + ‖b‖² − 2a·b`` loses
    every digit of a small distance to the rounding of large norms: with
    features offset by 1e7 the picks drifted from pick 10, and by 1e8 from the
    first. Centred on a pool row, the norms are at most the data's diameter,
    whatever the offset (a row, not the mean, keeps integer data exact).
    """
    origin = H[0, :]
    lab = None if H_labeled is None else H_labeled - origin
    return H - origin, lab


def _kcenter_greedy(H, H_labeled, n_select, xp):
    """Greedy k-center picks; input assumed valid (see :func:`kcenter_greedy`)."""
    has_lab = H_labeled is not None and H_labeled.shape[0] > 0
    e = pow2_exponent([H, H_labeled if has_lab else None], xp)
    H, H_labeled = pow2_scale(H, e), pow2_scale(H_labeled, e)
    tol = _noise_tol(H.shape[1])
    if has_lab:
        Hc, Lc = _centred(H, H_labeled, xp)
        norms = sq_norms(Hc, xp)
        min_d2 = _min_sq_dist_to_set(Hc, norms, Lc, tol, xp)
        first = int(xp.argmax(min_d2))
    else:
        # No labelled rows: the first centre is the row of largest norm
        # (uncentred, as the rule is stated); the origin is no centre.
        first = int(xp.argmax(sq_norms(H, xp)))
        Hc, _ = _centred(H, None, xp)
        norms = sq_norms(Hc, xp)
        min_d2 = None
    picks = [first]
    min_d2 = _add_centre(Hc, norms, first, min_d2, tol, xp)
    for _ in range(n_select - 1):
        idx = int(xp.argmax(min_d2))
        picks.append(idx)
        min_d2 = _add_centre(Hc, norms, idx, min_d2, tol, xp)
    return picks


def _add_centre(H, norms, idx, min_d2, tol, xp):
    """Running minimum squared distances after row ``idx`` becomes a centre."""
    min_d2 = _lower_to_centre(H, norms, H[idx, :], norms[idx], min_d2, tol, xp)
    # Chosen rows sit below every real distance (>= 0), so duplicates of a
    # chosen row (distance 0) are still taken before a chosen row could
    # repeat: argmax can never return a chosen row while one is unchosen.
    min_d2[idx] = -1.0
    return min_d2


def _lower_to_centre(H, norms, h_c, c_norm, min_d2, tol, xp):
    """``min_d2`` (None: no centre yet) lowered by the distances to centre ``h_c``.

    The centre comes as a vector with its squared norm ``c_norm`` so that a
    partition of a Dask pool can take one held by another partition.
    """
    d2 = H @ h_c
    d2 *= -2.0
    d2 = _sq_dist(d2, norms, c_norm, tol, xp)
    return d2 if min_d2 is None else xp.minimum(min_d2, d2)


@validate_params(
    {
        "H": ["array-like"],
        "n_select": [Interval(numbers.Integral, 1, None, closed="left")],
        "H_labeled": ["array-like", None],
        "device": [DEVICE],
    },
    prefer_skip_nested_validation=True,
)
def kcenter_greedy(H, n_select, *, H_labeled=None, device="numpy"):
    """Greedy k-center selection (Sener & Savarese, 2018), conditioned on labelled rows.

    Each step picks the pool row farthest (Euclidean) from its nearest centre,
    where the centres are the labelled rows and the rows picked so far; the
    lowest index wins ties. With no labelled rows the first pick is the row of
    largest norm. Costs O(n·d) per pick plus a chunked O(n·L·d) start; no
    ``n × n`` or ``n × L`` matrix is formed.

    Parameters
    ----------
    H : array-like of shape (n, d)
        Pool embeddings (a numpy array, anything ``check_array`` takes, or a
        torch tensor, which stays on its device).
    n_select : int
        Number of rows to pick, at most ``n``.
    H_labeled : array-like of shape (L, d), default=None
        Embeddings of the labelled rows.
    device : str, default="numpy"
        Backend, as the strategies' ``device`` parameter.

    Returns
    -------
    indices : list of int
        Unique row indices into ``H`` in pick order.

    Notes
    -----
    Distances use ``‖a‖² + ‖b‖² − 2a·b`` (one mat-vec per pick) on
    embeddings centred on a pool row, so a common offset in the features
    (timestamps, prices) costs no precision; values below its rounding bound
    ``4(d + 2)·ε·(‖a‖² + ‖b‖²)`` (centred norms) count as 0, so exact
    duplicates tie at 0. Embeddings beyond ``2**±128`` in magnitude are first
    rescaled by an exact power of two, which changes no pick, so huge finite
    values (1e155 and beyond) neither overflow nor repeat an index.

    Examples
    --------
    >>> import numpy as np
    >>> from skactive.kernels import kcenter_greedy
    >>> H = np.array([[0.0], [1.0], [5.0], [6.0]])
    >>> kcenter_greedy(H, 2, H_labeled=np.array([[0.0]]))
    [3, 1]
    """
    arrays, names = [H], ["H"]
    if H_labeled is not None:
        arrays.append(H_labeled)
        names.append("H_labeled")
    backend, arrays, _ = prepare(arrays, names, device, allow_empty=("H_labeled",))
    check_n_select(n_select, arrays[0].shape[0])
    H_lab = arrays[1] if len(arrays) > 1 else None
    if H_lab is not None and H_lab.shape[1] != arrays[0].shape[1]:
        raise ValueError(f"H_labeled has {H_lab.shape[1]} columns but H has {arrays[0].shape[1]}.")
    return _kcenter_greedy(arrays[0], H_lab, int(n_select), backend.xp)
