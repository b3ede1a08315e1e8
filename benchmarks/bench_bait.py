"""BAIT kernel: wall time and peak memory, and the speed-up over the dense algorithm.

Cases (numpy backend unless the row says torch): classification with K=10 at
n=3,000 (d=64, B=50, 100 labelled) and n=20,000 (d=128, B=100), regression at
n=50,000 (d=128, B=500), each against its target. The ``dense`` rows run the
straightforward algorithm of the authors' code in float64 numpy (explicit
``n × K × Kd`` Fisher embeddings, ``4·n·K³·d²`` flops per greedy step) next to
the kernel at a size where the dense version finishes, and check that both
pick the same rows.

The numpy kernel pins BLAS to one thread itself (see ``Workers`` in ``kernels/_parallel.py``);
torch CPU rows use torch's own threads with ``OMP_WAIT_POLICY=PASSIVE``.

Since issue 13 each case also runs the kernel as it was before (``_bait_old.py``,
main at 671b771) in the same process, so the speed-up is a same-run ratio on a
shared machine, and the new kernel with one worker thread (``n_jobs=1``) next
to every CPU. The ``numpy twins`` row runs it without its compiled loops
(``SKACTIVE_NUMBA=0``: the kernel before them), in the same process. ``wide``
is BAIT with a ``LogisticRegression`` on raw 784-pixel MNIST (Kd = 7,850: the
low-rank form of ``M⁻¹``), which needs ``SKACTIVE_DATA``.

Run ``python benchmarks/bench_bait.py`` (``--quick`` for a smoke run). The
table is printed and written to ``benchmarks/results/bait.json``.
"""

import argparse
import os
import sys
from unittest import mock

# Must precede any torch import: busy-waiting OpenMP threads distort timings
# on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _bait_old
from _harness import measure, print_table, write_json

from skactive.kernels._bait import _bait_select
from skactive.kernels._parallel import cpu_count

# name: (n, K or None for regression, d, B, L, target seconds, target MB, repeats)
FULL = {
    "cls-3k": (3000, 10, 64, 50, 100, 0.6, None, 3),
    "cls-20k": (20_000, 10, 128, 100, 100, 6.0, 1536.0, 3),
    "reg-50k": (50_000, None, 128, 500, 100, 15.0, None, 3),
    "dense": (1000, 10, 32, 20, 50, None, None, 3),
}
QUICK = {
    "cls-3k": (600, 5, 16, 10, 20, None, None, 3),
    "cls-20k": (2000, 5, 32, 20, 20, None, None, 3),
    "reg-50k": (5000, None, 32, 50, 20, None, None, 3),
    "dense": (200, 4, 8, 5, 10, None, None, 3),
}
COLUMNS = ["case", "backend", "n", "K", "d", "B", "L", "runs", "median_s", "cpu_s", "peak_mb"]
COLUMNS += ["target", "met", "note"]
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "bait.json")


def make_problem(n, K, d, L, seed=0):
    """Gaussian embeddings; softmax of a random linear model (None for regression)."""
    rs = np.random.RandomState(seed)
    H, H_lab = rs.normal(size=(n, d)), rs.normal(size=(L, d))
    if K is None:
        return H, None, H_lab, None
    W = rs.normal(scale=2.0 / np.sqrt(d), size=(d, K))

    def softmax(Z):
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    return H, softmax(H @ W), H_lab, softmax(H_lab @ W)


def dense_factors(H, P):
    """The authors' Fisher embedding: ``X_x`` (K × Kd), row k = √p_k (e_k − p) ⊗ h."""
    K = P.shape[1]
    E = np.eye(K)[None, :, :] - P[:, None, :]
    return (np.sqrt(P)[:, :, None, None] * E[:, :, :, None] * H[:, None, None, :]).reshape(
        len(H), K, -1
    )


def _dense_scores(X, Minv, F, sign):
    """``tr(X_j M⁻¹FM⁻¹X_jᵀ (±I + X_j M⁻¹ X_jᵀ)⁻¹)`` for every j, left to right as the reference."""
    XM = X @ Minv
    A = sign * np.eye(X.shape[1]) + XM @ X.transpose(0, 2, 1)
    return np.trace(np.linalg.solve(A, (XM @ F) @ XM.transpose(0, 2, 1)), axis1=1, axis2=2)


def _dense_commit(Minv, x, sign):
    """Woodbury: ``(M ± xᵀx)⁻¹`` from ``M⁻¹``."""
    W = Minv @ x.T
    return Minv - W @ np.linalg.solve(sign * np.eye(len(x)) + x @ W, W.T)


def dense_bait(H, P, B, H_lab, P_lab, lam=1.0, oversample=2):
    """The reference algorithm with dense Kd×Kd matrices (classification)."""
    X, X_lab = dense_factors(H, P), dense_factors(H_lab, P_lab)
    L, D = len(X_lab), X.shape[2]
    F = (np.einsum("nki,nkj->ij", X, X) + np.einsum("nki,nkj->ij", X_lab, X_lab)) / (len(X) + L)
    Minv = np.linalg.inv(lam * np.eye(D) + np.einsum("nki,nkj->ij", X_lab, X_lab) / (L + B))
    X = X * np.sqrt(B / (L + B))
    picks = []
    for _ in range(min(oversample * B, len(X))):
        gains = _dense_scores(X, Minv, F, 1.0)
        gains[picks] = -np.inf
        picks.append(int(np.argmax(gains)))
        Minv = _dense_commit(Minv, X[picks[-1]], 1.0)
    while len(picks) > B:
        # c_j = tr(X_j M⁻¹FM⁻¹X_jᵀ (−I + X_jM⁻¹X_jᵀ)⁻¹) <= 0; removing j raises the trace by −c_j.
        j = picks.pop(int(np.argmin(-_dense_scores(X[picks], Minv, F, -1.0))))
        Minv = _dense_commit(Minv, X[j], -1.0)
    return picks


def _row(case, backend, size, res, target_s=None, target_mb=None, note=""):
    n, K, d, B, L = size
    met = None
    if target_s is not None:
        met = res["median_s"] <= target_s and (target_mb is None or res["peak_mb"] <= target_mb)
    target = (
        None
        if target_s is None
        else f"<={target_s:g}s" + ("" if target_mb is None else f", <={target_mb:g}MB")
    )
    return {
        "case": case, "backend": backend, "n": n, "K": K or "reg", "d": d, "B": B, "L": L,
        "runs": len(res["times_s"]), "median_s": res["median_s"], "min_s": res["min_s"],
        "cpu_s": res.get("cpu_median_s"),
        "times_s": res["times_s"], "peak_mb": res["peak_mb"], "target": target, "met": met,
        "note": note, "result": res["result"],
    }  # fmt: skip


def _kernel(H, P, H_lab, P_lab, B, xp, convert=lambda a: a, fn=_bait_select, **kw):
    args = [None if a is None else convert(a) for a in (H, P, H_lab, P_lab)]
    return lambda: fn(args[0], args[1], B, args[2], args[3], 1.0, 2, "pool", xp, **kw)


def bench_old_new(name, spec, old=True):
    """The previous kernel, the new one on one thread and on every CPU: same run, same pool."""
    n, K, d, B, L, target_s, target_mb, repeats = spec
    size = (n, K, d, B, L)
    H, P, H_lab, P_lab = make_problem(n, K, d, L)
    cpus = cpu_count()
    new = measure(_kernel(H, P, H_lab, P_lab, B, np, n_jobs=cpus), repeats=repeats)
    one = measure(_kernel(H, P, H_lab, P_lab, B, np, n_jobs=1), repeats=repeats, memory=False)
    with _numpy_path():
        twins = measure(_kernel(H, P, H_lab, P_lab, B, np, n_jobs=cpus), repeats=repeats)
    ratio = twins["median_s"] / new["median_s"]
    rows = [
        _row(name, f"numpy, {cpus} threads", size, new, target_s, target_mb),
        _row(name, "numpy, 1 thread", size, one, note=_same(one, new)),
        _row(
            name,
            f"numpy twins (SKACTIVE_NUMBA=0), {cpus} threads",
            size,
            twins,
            note=f"{ratio:.2g}x the new time; {_same(twins, new)}",
        ),  # fmt: skip
    ]
    if old:
        before = measure(
            _kernel(H, P, H_lab, P_lab, B, np, fn=_bait_old._bait_select), repeats=repeats
        )
        ratio = before["median_s"] / new["median_s"]
        rows.append(
            _row(
                name,
                "numpy, before (671b771)",
                size,
                before,
                note=f"{ratio:.2g}x the new time; {_same(before, new)}",
            )  # fmt: skip
        )
    return rows


def _numpy_path():
    """BAIT without its compiled loops (the kernel as it was before them)."""
    return mock.patch.dict(os.environ, {"SKACTIVE_NUMBA": "0"})


def _same(a, b):
    return f"same picks: {a['result'] == b['result']}"


def wide_problem(n, L=20, seed=0):
    """Raw MNIST pixels (+ bias column) and a LogisticRegression fitted on L of them."""
    from sklearn.linear_model import LogisticRegression

    folder = os.environ.get("SKACTIVE_DATA")
    if not folder:
        return None
    with np.load(os.path.join(folder, "mnist.npz")) as f:
        X = f["X"][: n + L].astype(np.float64) / 255.0
        y = f["y"][: n + L]
    clf = LogisticRegression(max_iter=1000).fit(X[:L], y[:L])
    H = np.hstack([X, np.ones((len(X), 1))])
    P = clf.predict_proba(X)
    return H[L:], P[L:], H[:L], P[:L]


def bench_wide(sizes, old_up_to=0):
    """BAIT with LogisticRegression on raw MNIST: pool n, 20 labelled, B = 10 (K = 10)."""
    rows = []
    for n, target_s in sizes:
        problem = wide_problem(n)
        if problem is None:
            return [{"case": "wide", "note": "skipped: SKACTIVE_DATA not set"}]
        H, P, H_lab, P_lab = problem
        size = (n, 10, H.shape[1], 10, 20)
        new = measure(_kernel(H, P, H_lab, P_lab, 10, np, n_jobs=cpu_count()), repeats=1)
        rows.append(_row("wide (raw MNIST)", "numpy", size, new, target_s, None, "low-rank M⁻¹"))
        if n <= old_up_to:
            before = measure(
                _kernel(H, P, H_lab, P_lab, 10, np, fn=_bait_old._bait_select), repeats=1
            )
            rows.append(_row("wide (raw MNIST)", "numpy, before (671b771)", size, before,
                             note=_same(before, new)))  # fmt: skip
    return rows


def bench_case(name, spec, torch_too=False):
    """Rows for one case: the numpy kernel (and torch CPU when asked)."""
    n, K, d, B, L, target_s, target_mb, repeats = spec
    H, P, H_lab, P_lab = make_problem(n, K, d, L)
    res = measure(_kernel(H, P, H_lab, P_lab, B, np), repeats=repeats)
    rows = [_row(name, "numpy", (n, K, d, B, L), res, target_s, target_mb)]
    if torch_too:
        import array_api_compat.torch as xpt
        import torch

        to_t = torch.from_numpy
        res_t = measure(_kernel(H, P, H_lab, P_lab, B, xpt, to_t), repeats=repeats, memory=False)
        same = res_t["result"] == res["result"]
        rows.append(_row(name, "torch-cpu", (n, K, d, B, L), res_t, note=f"same picks: {same}"))
    return rows


def bench_dense(spec):
    """The kernel against the dense reference algorithm at one size."""
    n, K, d, B, L, _, _, repeats = spec
    H, P, H_lab, P_lab = make_problem(n, K, d, L)
    fast = measure(_kernel(H, P, H_lab, P_lab, B, np), repeats=repeats)
    dense = measure(lambda: dense_bait(H, P, B, H_lab, P_lab), repeats=1)
    same = dense["result"] == fast["result"]
    ratio = dense["median_s"] / fast["median_s"]
    size = (n, K, d, B, L)
    return [
        _row("dense", "numpy (kernel)", size, fast, note=f"{ratio:.2g}x faster than dense"),
        _row("dense", "numpy (dense)", size, dense, note=f"same picks: {same}"),
    ]


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


CASES = ["cls-3k", "cls-20k", "reg-50k", "dense", "wide"]


def run(quick=False, old=True, wide_old=1000, cases=CASES, repeats=None):
    """Benchmark rows (dicts), one per case and backend."""
    sizes = QUICK if quick else FULL
    # Load (or compile) the numba loops first: their one-off cost is not the kernel's.
    H, P, H_lab, P_lab = make_problem(50, 3, 4, 5)
    for dtype in (np.float64, np.float32):
        cast = [a.astype(dtype) for a in (H, P, H_lab, P_lab)]
        _bait_select(cast[0], cast[1], 3, cast[2], cast[3], 1.0, 2, "pool", np)
    if repeats is not None:
        sizes = {k: (*v[:-1], repeats) for k, v in sizes.items()}
    torch_too = _torch_available()
    rows = []
    for name in ("cls-3k", "cls-20k"):
        if name in cases:
            rows += bench_old_new(name, sizes[name], old)
    if "reg-50k" in cases:
        rows += bench_case("reg-50k", sizes["reg-50k"], torch_too)
    if "dense" in cases:
        rows += bench_dense(sizes["dense"])
    if "wide" in cases:
        # The pre-issue-13 kernel needs Kd×Kd matrices here (minutes even at n=300).
        wide = [(300, None)] if quick else [(1000, 10.0), (5000, 30.0)]
        rows += bench_wide(wide, old_up_to=wide_old if old and not quick else 0)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--out", default=RESULTS, help="JSON output path")
    parser.add_argument("--no-old", action="store_true", help="skip the pre-issue-13 kernel")
    parser.add_argument("--case", choices=CASES, action="append", help="run only these cases")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per row")
    parser.add_argument(
        "--wide-old-up-to", type=int, default=1000, help="largest wide pool for the old kernel"
    )
    args = parser.parse_args(argv)
    rows = run(
        quick=args.quick, old=not args.no_old, wide_old=args.wide_old_up_to,
        cases=args.case or CASES, repeats=args.repeats,
    )  # fmt: skip
    print_table(rows, COLUMNS)
    write_json(args.out, rows, quick=args.quick, load_avg=os.getloadavg())
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
