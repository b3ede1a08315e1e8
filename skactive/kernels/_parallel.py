"""Threads and progress for long kernel calls: ``n_jobs``, a small pool, a progress bar.

The numpy kernels split their pool-sized passes into fixed, cache-sized row
chunks and hand the chunks to worker threads (numpy and BLAS release the GIL),
with BLAS itself pinned to one thread. Chunks are fixed by the data, not by the
number of threads, so every thread count gives the same floating-point result
and the same picks. Measured on 2 cores (benchmarks/README.md): BLAS's own
threads spin-wait and made the greedy loops 2-10x slower on a shared machine,
whereas chunk threads, scheduled dynamically, fall back to the speed of one
thread when the other core is busy.
"""

import contextlib
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController


def cpu_count():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# Multiply-adds below which a call runs on one thread without sampling the
# CPUs: the 50 ms sample would cost more than a second thread can save.
_SAMPLE_WORK = 2e8


def idle_cpus(interval=0.05):
    """How many of this process's CPUs were idle over ``interval`` seconds, or None.

    Read from two samples of Linux's ``/proc/stat`` (idle and iowait time);
    None where that is not available. This process's own CPU time over the
    sample (``/proc/self/stat``: e.g. BLAS threads still spin-waiting after
    the model's last call) counts as idle, as those threads are its to use.
    """
    try:
        mine = os.sched_getaffinity(0)
        before, own_0 = _cpu_times(mine), _own_ticks()
        time.sleep(interval)
        after, own_1 = _cpu_times(mine), _own_ticks()
    except (OSError, AttributeError, ValueError, IndexError):
        return None
    if not before:
        return None
    idle, spans = 0.0, []
    for cpu, (idle_0, total_0) in before.items():
        idle_1, total_1 = after.get(cpu, (idle_0, total_0))
        if total_1 > total_0:
            idle += (idle_1 - idle_0) / (total_1 - total_0)
            spans.append(total_1 - total_0)
    if spans:
        idle += (own_1 - own_0) / (sum(spans) / len(spans))
    return min(idle, float(len(before)))


def _own_ticks():
    """This process's user + system time, in the clock ticks of ``/proc/stat``."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _cpu_times(cpus):
    """``{cpu: (idle + iowait ticks, all ticks)}`` for the CPUs in ``cpus``."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *ticks = line.split()
                if int(name[3:]) in cpus:
                    ticks = [int(t) for t in ticks[:8]]
                    out[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))
    return out


def effective_n_jobs(n_jobs, default, work=None):
    """Threads for ``n_jobs`` (scikit-learn meaning; ``None`` picks ``default``).

    ``default`` is ``"all"`` (every CPU), ``"idle"`` or an int: the setting
    each kernel measured best (see the strategies' ``n_jobs`` documentation).
    ``"idle"`` is for kernels whose best thread count depends on what else
    runs: one thread for calls under ``2e8`` multiply-adds of ``work``, else
    as many threads as CPUs found idle (:func:`idle_cpus`; one if that cannot
    be read). Negative values count back from the CPUs as in joblib (-1 =
    all, -2 = all but one).
    """
    n_cpu = cpu_count()
    if n_jobs is None and default == "idle":
        idle = None if work is None or work < _SAMPLE_WORK else idle_cpus()
        default = 1 if idle is None else max(1, int(idle + 0.5))
    if n_jobs is None:
        n_jobs = n_cpu if default == "all" else default
    elif n_jobs < 0:
        n_jobs = n_cpu + 1 + n_jobs
    return max(1, min(int(n_jobs), n_cpu))


class Workers:
    """Worker threads for one kernel call; BLAS is pinned to one thread meanwhile.

    Use as a context manager around the numpy kernel. ``Workers.run(workers,
    fn, items)`` maps ``fn`` over ``items`` in order, on the threads when
    there are several (``workers`` may be ``None``: run inline).
    """

    def __init__(self, n_jobs, xp=np):
        self.n = n_jobs if xp is np else 1
        self.numpy = xp is np
        self._pool = None
        self._limits = None

    def __enter__(self):
        if self.numpy:
            self._limits = _blas_limits(1)
        if self.n > 1:
            # The calling thread takes its share of every run: n − 1 pool threads.
            self._pool = ThreadPoolExecutor(max_workers=self.n - 1, thread_name_prefix="skactive")
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None
        return False

    def use(self, n):
        """Run on at most ``n`` threads from here on (the caller's and ``n`` − 1 of the pool's)."""
        self.n = max(1, min(int(n), self.n))

    @staticmethod
    def run(workers, fn, items):
        """``[fn(item) for item in items]``, on ``workers``' threads when it has several.

        The calling thread and the pool's threads take the items one at a
        time from a shared iterator (a builtin's ``next`` is atomic under the
        GIL: each item runs once) until none are left. Where the caller only
        waited for a pool of ``n`` threads, a run cost ~140 µs of hand-offs;
        BAIT makes a few runs per greedy step.
        """
        if workers is None or workers._pool is None or len(items) < 2:
            return [fn(item) for item in items]
        out = [None] * len(items)
        order = iter(range(len(items)))

        def drain():
            for j in order:
                out[j] = fn(items[j])

        helpers = [workers._pool.submit(drain) for _ in range(min(workers.n, len(items)) - 1)]
        try:
            drain()
        finally:
            wait(helpers)  # no thread still writes to out after a return or a raise
        for helper in helpers:
            helper.result()  # a helper's exception
        return out


class CpuShare:
    """The CPUs a kernel's parallel runs got; fewer threads if that is fewer than it has.

    Process CPU time over wall time across the first ``runs`` measured runs:
    close to the thread count when the CPUs are free, near one with one other
    busy process on two cores (measured: 1.6-1.95 against 1.0-1.2 for BAIT's
    passes). Then :meth:`Workers.use` the rounded share: threads that only
    take turns on one core wait on each other at every run's end (BAIT at
    n=3,000 ran 15-22 % slower on two such threads than on one). Decided
    once; the results never depend on it. Other threads of the process (a
    second query) count as this kernel's, which can only keep threads.
    """

    def __init__(self, workers, runs=8, skip=2):
        self.workers, self.left, self.cpu, self.wall = workers, runs, 0.0, 0.0
        # The first runs touch fresh buffers and wake the pool: not timed.
        self.skip = skip

    def measure(self, fn):
        """``fn()``, timed while runs are left to measure; then the decision."""
        if self.skip > 0:
            self.skip -= 1
            return fn()
        if self.left <= 0:
            return fn()
        cpu, wall = time.process_time(), time.perf_counter()
        out = fn()
        self.cpu += time.process_time() - cpu
        self.wall += time.perf_counter() - wall
        self.left -= 1
        if not self.left and self.wall > 0:
            self.workers.use(int(self.cpu / self.wall + 0.5))
        return out


def blas_threads(n_jobs, xp=np):
    """Limit BLAS to ``n_jobs`` threads around a numpy kernel (torch: no change)."""
    if xp is not np:
        return contextlib.nullcontext()
    return _blas_limits(n_jobs)


# (len(sys.modules), ThreadpoolController) of the last limit.
_CONTROLLER = (None, None)


def _blas_limits(n):
    """threadpoolctl's limit of BLAS to ``n`` threads, from a controller kept between calls.

    ``threadpool_limits`` scans the process's libraries on every call: 3.9 ms
    here, against 0.03 ms for a limit from a kept controller, and a kernel
    call limits BLAS once or twice. A new BLAS comes only with an import,
    which grows ``sys.modules``: then the controller is built again.
    """
    global _CONTROLLER
    key, controller = _CONTROLLER
    if controller is None or key != len(sys.modules):
        controller = ThreadpoolController()
        _CONTROLLER = (len(sys.modules), controller)
    return controller.limit(limits=n, user_api="blas")


def compute_dtype(x, dtype, xp):
    """``x`` in the kernels' compute dtype: ``"float64"`` (exact, default) or ``"float32"``."""
    want = getattr(xp, dtype)
    return x if x is None or x.dtype == want else xp.astype(x, want)


class Progress:
    """Steps of a long selection: a tqdm bar when tqdm is installed, else lines on stderr.

    Silent unless ``verbose`` (scikit-learn's convention: 0 is silent).
    """

    def __init__(self, verbose, total, desc):
        self.bar, self.verbose, self.total, self.desc, self.done = None, verbose, total, desc, 0
        if not verbose:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            self.bar = tqdm(total=total, desc=desc, unit="step", leave=False)

    def update(self):
        self.done += 1
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.update(1)
        elif self.done == self.total or self.done % max(1, self.total // 10) == 0:
            print(f"{self.desc}: step {self.done}/{self.total}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
