"""Greedy k-center (CoreSet) with running minimum distances."""

import numbers

from ..utils._validation import DEVICE, Interval, validate_params
from ._common import _device_kw, check_n_select, prepare, row_chunks, sq_norms


def _min_sq_dist_to_set(H, H_norms, C, xp):
    """For each row of ``H``, the squared distance to the nearest row of ``C``.

    Chunked over ``H`` so that no ``n × len(C)`` block exceeds ``working_memory``.
    """
    C_norms = sq_norms(C, xp)
    out = xp.empty((H.shape[0],), dtype=H.dtype, **_device_kw(H))
    for sl in row_chunks(H.shape[0], 8 * C.shape[0]):
        # In place: one chunk × len(C) temporary, not three.
        d2 = H[sl, :] @ C.T
        d2 *= -2.0
        d2 += C_norms[None, :]
        out[sl] = xp.min(d2, axis=1) + H_norms[sl]
    return xp.clip(out, 0.0, None)


def _kcenter_greedy(H, H_labeled, n_select, xp):
    """Greedy k-center picks; input assumed valid (see :func:`kcenter_greedy`)."""
    H_norms = sq_norms(H, xp)
    if H_labeled is not None and H_labeled.shape[0] > 0:
        min_d2 = _min_sq_dist_to_set(H, H_norms, H_labeled, xp)
    else:
        # No labelled rows: start from the row of largest norm.
        min_d2 = xp.asarray(H_norms, copy=True)
    picks = []
    for _ in range(n_select):
        idx = int(xp.argmax(min_d2))
        picks.append(idx)
        d2 = H_norms + H_norms[idx] - 2.0 * (H @ H[idx, :])
        min_d2 = xp.minimum(min_d2, xp.clip(d2, 0.0, None))
        # Chosen rows sit below every real distance, so duplicates of a chosen
        # row (distance 0) are still taken before a chosen row could repeat.
        min_d2[idx] = -1.0
    return picks


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
        Pool embeddings.
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
