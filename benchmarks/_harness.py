"""Timing and memory measurement shared by the benchmark scripts.

Wall time is the median of several runs. Peak memory is what tracemalloc sees
allocated during one run (numpy registers its buffers with tracemalloc; torch
does not, so torch rows report no memory figure).
"""

import json
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np


def measure(fn, repeats=3, memory=True):
    """Run ``fn()`` ``repeats`` times; return median/min wall seconds, CPU seconds and peak MB.

    The first run is also the memory run when ``memory`` is true (tracemalloc
    slows allocation-heavy code, so that run's time is not counted).
    """
    peak_mb = None
    result = None
    if memory:
        tracemalloc.start()
        result = fn()
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {
        "median_s": statistics.median(times),
        # CPU seconds of the whole process (all threads): on a shared machine,
        # wall time also counts waiting for a core.
        "cpu_median_s": statistics.median(cpu),
        "min_s": min(times),
        "times_s": times,
        "peak_mb": peak_mb,
        "result": result,
    }


def machine():
    """A short description of the machine, for the record."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }


def print_table(rows, columns):
    """Print ``rows`` (dicts) as an aligned text table with the given ``columns``."""
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def write_json(path, rows, **meta):
    """Write the rows and the machine description to ``path`` as JSON."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    clean = [{k: v for k, v in r.items() if k != "result"} for r in rows]
    with open(path, "w") as f:
        json.dump({"machine": machine(), **meta, "rows": clean}, f, indent=2, default=str)


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)
