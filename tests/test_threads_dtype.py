"""n_jobs, the float32 compute mode and progress output of BADGE, CoreSet and BAIT."""

import os
import re

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skactive import BADGE, BAIT, CoreSet
from skactive.kernels import _parallel
from skactive.kernels._parallel import (
    CpuShare,
    Progress,
    Workers,
    cpu_count,
    effective_n_jobs,
    idle_cpus,
)
from skactive.utils._validation import InvalidParameterError

STRATEGIES = [BADGE, CoreSet, BAIT]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(400, 8, n_informative=6, n_redundant=0, n_classes=4, random_state=0)
    return X[:40], y[:40], X[40:]


def _query(cls, data, **params):
    X_lab, y_lab, X_pool = data
    al = cls(LogisticRegression(max_iter=500), random_state=0, device="numpy", **params)
    return al.fit(X_lab, y_lab).query(X_pool, batch_size=12)


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("n_jobs", [1, 2, -1])
def test_thread_count_does_not_change_picks(cls, n_jobs, data):
    assert _query(cls, data, n_jobs=n_jobs).tolist() == _query(cls, data).tolist()


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
def test_float32_mode_gives_a_valid_deterministic_batch(cls, data):
    picks = _query(cls, data, dtype="float32")
    assert picks.dtype == np.int64 and len(set(picks.tolist())) == 12
    assert picks.min() >= 0 and picks.max() < len(data[2])
    assert _query(cls, data, dtype="float32").tolist() == picks.tolist()


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "param, value", [("n_jobs", 1.5), ("n_jobs", "2"), ("dtype", "float16"), ("dtype", np.float32)]
)
def test_invalid_thread_and_dtype_parameters_raise(cls, param, value, data):
    al = cls(LogisticRegression(), **{param: value})
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter of {cls.__name__}"):
        al.fit(*data[:2])


@pytest.mark.parametrize("cls, total", [(BAIT, 2 * 12 * 2 - 12), (BADGE, 11)])
def test_verbose_shows_the_steps(cls, total, data, capsys):
    _query(cls, data, verbose=1)
    err = capsys.readouterr().err
    assert re.search(rf"{cls.__name__}.*/{total}\b", err), err
    _query(cls, data)
    assert capsys.readouterr().err == ""


def test_progress_without_tqdm_prints_tenths(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    progress = Progress(1, 20, "BAIT")
    for _ in range(20):
        progress.update()
    progress.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "BAIT: step 2/20" and lines[-1] == "BAIT: step 20/20"
    assert len(lines) == 10


@pytest.mark.parametrize(
    "n_jobs, default, want",
    [(None, 1, 1), (None, "all", "cpus"), (1, "all", 1), (-1, 1, "cpus"), (10**6, 1, "cpus")],
)
def test_effective_n_jobs(n_jobs, default, want):
    want = cpu_count() if want == "cpus" else want
    assert effective_n_jobs(n_jobs, default) == want
    assert effective_n_jobs(-(cpu_count() + 5), 1) == 1


@pytest.mark.parametrize("idle, want", [(None, 1), (0.2, 1), (0.9, 1), (1.6, 2), (2.0, 2)])
def test_idle_default_follows_the_idle_cpus(idle, want, monkeypatch):
    # Large calls take as many threads as CPUs were found idle (at least one,
    # at most the CPUs); small calls never sample and run on one thread.
    calls = []
    monkeypatch.setattr(_parallel, "idle_cpus", lambda: calls.append(1) or idle)
    monkeypatch.setattr(_parallel, "cpu_count", lambda: 2)
    assert effective_n_jobs(None, "idle", work=1e9) == want
    assert effective_n_jobs(None, "idle", work=1e6) == 1
    assert effective_n_jobs(3, "idle", work=1e9) == 2  # an explicit n_jobs wins, capped
    assert len(calls) == 1


def test_idle_cpus_reads_proc_stat(monkeypatch):
    if not os.path.exists("/proc/stat"):
        assert idle_cpus(0.01) is None
        return
    idle = idle_cpus(0.02)
    assert idle is not None and 0.0 <= idle <= cpu_count() + 1e-9
    # Two snapshots: cpu0 idle for 3 of 4 ticks, cpu1 busy throughout.
    snaps = iter([{0: (10, 20), 1: (5, 20)}, {0: (13, 24), 1: (5, 24)}])
    monkeypatch.setattr(_parallel, "_cpu_times", lambda cpus: next(snaps))
    monkeypatch.setattr(_parallel, "_own_ticks", lambda: 7)
    assert idle_cpus(0.0) == pytest.approx(0.75)
    # Ticks this process spent (its own spinning threads) count as idle.
    snaps = iter([{0: (10, 20), 1: (5, 20)}, {0: (13, 24), 1: (5, 24)}])
    own = iter([7, 9])
    monkeypatch.setattr(_parallel, "_own_ticks", lambda: next(own))
    assert idle_cpus(0.0) == pytest.approx(1.25)


def test_idle_cpus_is_none_without_proc_stat(monkeypatch):
    def missing(cpus):
        raise OSError("no /proc/stat")

    monkeypatch.setattr(_parallel, "_cpu_times", missing)
    assert idle_cpus(0.0) is None


@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_workers_map_in_order(n_jobs):
    with Workers(n_jobs) as workers:
        assert Workers.run(workers, lambda i: i * i, list(range(17))) == [i * i for i in range(17)]


@pytest.mark.parametrize("n_jobs", [2, 3])
def test_workers_run_each_item_once_on_the_caller_and_the_pool(n_jobs):
    import threading
    import time

    seen, lock = [], threading.Lock()

    def work(i):
        time.sleep(0.002)  # long enough for every thread to take items
        with lock:
            seen.append((i, threading.get_ident()))
        return -i

    with Workers(n_jobs) as workers:
        assert Workers.run(workers, work, list(range(40))) == [-i for i in range(40)]
    assert sorted(i for i, _ in seen) == list(range(40))
    threads = {t for _, t in seen}
    assert threading.get_ident() in threads and 1 < len(threads) <= n_jobs


@pytest.mark.parametrize("failing", [0, 7])
def test_workers_run_raises_a_failing_item_and_the_pool_still_works(failing):
    # Item 0 is the caller's first, item 7 most likely a pool thread's.
    def work(i):
        if i == failing:
            raise ValueError(f"item {i}")
        return i

    with Workers(2) as workers:
        with pytest.raises(ValueError, match=f"item {failing}"):
            Workers.run(workers, work, list(range(20)))
        assert Workers.run(workers, work, [1, 2]) == [1, 2]  # the pool still works


@pytest.mark.parametrize(("cpu_per_run", "want"), [(1.9, 2), (1.6, 2), (1.4, 1), (1.0, 1)])
def test_cpu_share_keeps_the_threads_the_runs_got(cpu_per_run, want, monkeypatch):
    # Each measured run takes 1 s of wall time and cpu_per_run s of CPU time.
    clock = {"wall": 0.0, "cpu": 0.0}
    monkeypatch.setattr(_parallel.time, "perf_counter", lambda: clock["wall"])
    monkeypatch.setattr(_parallel.time, "process_time", lambda: clock["cpu"])

    def run():
        clock["wall"] += 1.0
        clock["cpu"] += cpu_per_run
        return "done"

    with Workers(2) as workers:
        share = CpuShare(workers, runs=3, skip=1)
        for _ in range(3):  # one untimed, two timed
            assert share.measure(run) == "done"
        assert workers.n == 2  # undecided before the last measured run
        share.measure(run)
        assert workers.n == want
        assert share.measure(run) == "done" and workers.n == want  # decided once
        assert Workers.run(workers, lambda i: -i, list(range(9))) == [-i for i in range(9)]


def test_bait_default_threads_adapt_and_explicit_ones_do_not(data, monkeypatch):
    import skactive.strategies._bait as strategy_module

    seen = []
    real = strategy_module._bait_select

    def spy(*args, **kwargs):
        seen.append(kwargs["adapt_threads"])
        return real(*args, **kwargs)

    monkeypatch.setattr(strategy_module, "_bait_select", spy)
    default = _query(BAIT, data)
    assert _query(BAIT, data, n_jobs=2).tolist() == default.tolist()
    assert seen == [True, False]
