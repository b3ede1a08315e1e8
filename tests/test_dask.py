"""Dask pools: distributed picks equal one-machine picks; faults and bad input.

One ``distributed.LocalCluster`` (2 worker processes, 1 thread each) serves
the whole module. Every wait on it has a timeout (``TIMEOUT_S`` is lowered
here), so a broken cluster fails the tests instead of hanging them.
"""

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge

import skactive
from skactive.exceptions import NumericalRangeError

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from skactive.distributed import _dask  # noqa: E402

CLASSIFIERS = [
    "RandomSampling",
    "LeastConfidence",
    "MarginSampling",
    "EntropySampling",
    "CoreSet",
    "BADGE",
    "BAIT",
]


@pytest.fixture(scope="module")
def client():
    timeout = _dask.TIMEOUT_S
    _dask.TIMEOUT_S = 60.0
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with cluster, distributed.Client(cluster, timeout=60) as c:
        yield c
    _dask.TIMEOUT_S = timeout


def _labelled(rng, d, n=24):
    """A labelled set with every one of 3 classes present."""
    X = rng.normal(size=(n, d))
    y = np.arange(n) % 3
    X[:, 0] += 2.0 * y  # learnable, so probabilities are not all equal
    return X, y


def _fitted(name, d, random_state=0, **params):
    X, y = _labelled(np.random.RandomState(1), d)
    est = LogisticRegression(max_iter=300)
    return getattr(skactive, name)(est, random_state=random_state, **params).fit(X, y)


@st.composite
def pools(draw):
    """A small pool (integer or real values, so with exact ties or none) and a row chunking."""
    d = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(0, 6), min_size=1, max_size=6))
    n = sum(sizes)
    if n == 0:
        sizes[-1] = n = 1
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    if draw(st.booleans()):
        X = rng.randint(-2, 3, size=(n, d)).astype(float)  # duplicate rows, exact ties
    else:
        X = rng.normal(size=(n, d))
    batch = draw(st.integers(1, n))
    return X, tuple(sizes), batch, seed


# Each example is several round trips to the cluster (0.1-0.5 s for BADGE and
# CoreSet); 15 per strategy keeps the module well under two minutes on two
# cores. The chunkings still cover empty, 1-row and single-partition pools.
@pytest.mark.parametrize("name", CLASSIFIERS)
@settings(max_examples=15, deadline=None)
@given(case=pools())
def test_dask_picks_equal_one_machine_picks(client, name, case):
    X, sizes, batch, seed = case
    strategy = _fitted(name, X.shape[1], random_state=seed)
    expected = strategy.query(X, batch)
    got = strategy.query(da.from_array(X, chunks=(sizes, X.shape[1])), batch)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["RandomSampling", "CoreSet", "BAIT"])
@settings(max_examples=10, deadline=None)
@given(case=pools())
def test_dask_regression_picks_equal_one_machine_picks(client, name, case):
    X, sizes, batch, seed = case
    Xl, _ = _labelled(np.random.RandomState(2), X.shape[1])
    strategy = getattr(skactive, name)(Ridge(), random_state=seed).fit(Xl, Xl[:, 0])
    got = strategy.query(da.from_array(X, chunks=(sizes, X.shape[1])), batch)
    np.testing.assert_array_equal(got, strategy.query(X, batch))


@pytest.mark.parametrize("name", ["CoreSet", "BADGE", "BAIT"])
@pytest.mark.parametrize("transform", ["offset", "huge", "tiny"])
def test_dask_picks_equal_one_machine_picks_at_extreme_magnitudes(client, name, transform):
    # The kernels rescale by one power of two and centre on the pool's row 0;
    # the partitions must agree on both (a map-reduce) to give the same picks.
    rng = np.random.RandomState(4)
    X = rng.normal(size=(40, 3))
    X = {"offset": X + 1e7, "huge": X * 1e200, "tiny": X * 1e-200}[transform]
    strategy = _fitted(name, 3)
    pool = da.from_array(X, chunks=((0, 1, 12, 0, 27), 3))
    try:
        expected = strategy.query(X, 9)
    except NumericalRangeError as exc:  # BAIT: ‖h‖/√λ beyond float64's range
        with pytest.raises(NumericalRangeError, match=re.escape(str(exc))):
            strategy.query(pool, 9)
        return
    np.testing.assert_array_equal(strategy.query(pool, 9), expected)


@pytest.mark.parametrize("oversample", [1, 2])
def test_dask_bait_equals_one_machine_when_kernel_chunks_straddle_partitions(client, oversample):
    # K = 6: the kernel's row chunks hold 1,820 (per-step) and 512 (start, F)
    # rows, so chunks straddle these partitions, and F is summed over chunks
    # that start in different partitions.
    rng = np.random.RandomState(5)
    f = 16  # BLAS may round small products of long rows by other paths: d matters
    Xl = rng.normal(size=(60, f))
    y = np.argmax(Xl @ rng.normal(size=(f, 6)), axis=1)
    y[:6] = np.arange(6)
    strategy = skactive.BAIT(LogisticRegression(max_iter=300), oversample=oversample).fit(Xl, y)
    X = rng.normal(size=(2_500, f))
    got = strategy.query(da.from_array(X, chunks=((1, 700, 0, 1_299, 500), f)), 8)
    np.testing.assert_array_equal(got, strategy.query(X, 8))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_dask_dataframe_with_unknown_partition_sizes(client, name):
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    Xl, y = _labelled(rng, 3)
    strategy = getattr(skactive, name)(LogisticRegression(), random_state=0)
    strategy.fit(pd.DataFrame(Xl, columns=X.columns), y)
    pool = dd.from_pandas(X, npartitions=4)
    pool = pool[pool["a"] > -np.inf]  # a filter: partition lengths are unknown
    np.testing.assert_array_equal(strategy.query(pool, 7), strategy.query(X, 7))


@pytest.mark.parametrize("name", CLASSIFIERS[1:])
def test_client_never_receives_a_pool_sized_array(client, name, monkeypatch):
    n, batch = 20_000, 5
    X = np.random.RandomState(0).normal(size=(n, 2))
    strategy = _fitted(name, 2)
    received = []
    monkeypatch.setattr(_dask, "_receive", lambda v: received.append(_largest(v)) or v)
    got = strategy.query(da.from_array(X, chunks=5_000), batch)
    np.testing.assert_array_equal(got, strategy.query(X, batch))
    assert received
    # An n-sized float column alone is 160 kB; everything received is O(B·(K + d)).
    assert max(received) < 64 * (batch + 3 + 2 + 1) * 8


def _largest(value):
    """Length of the longest array or list inside a received object."""
    if isinstance(value, np.ndarray):
        return value.size * value.itemsize
    if isinstance(value, list | tuple):
        return max([_largest(v) for v in value] + [8 * len(value)])
    return 8


def test_lost_worker_mid_query_gives_the_same_batch(monkeypatch):
    # A cluster of its own (4 workers; one is killed per strategy), so that the
    # module's cluster keeps both of its workers.
    X = np.random.RandomState(3).normal(size=(400, 3))
    rebuilds = []
    rebuild = _dask._Shards._rebuild
    monkeypatch.setattr(_dask._Shards, "_rebuild", lambda self: rebuilds.append(1) or rebuild(self))
    cluster = distributed.LocalCluster(
        n_workers=4, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    # Calls to a dead worker fail after 5 s instead of the default 30 s.
    timeouts = dask.config.set({"distributed.comm.timeouts.connect": "5s"})
    monkeypatch.setattr(_dask, "TIMEOUT_S", 120.0)  # a fresh cluster on a busy machine
    with timeouts, cluster, distributed.Client(cluster, timeout=60) as client:
        client.wait_for_workers(4, timeout=120)
        client.run(__import__, "skactive.distributed._blocks")  # warm, before the clock
        for name in ["CoreSet", "BADGE", "BAIT"]:
            strategy = _fitted(name, 3)
            calls, before = [], len(rebuilds)

            def kill_once(value, calls=calls):
                calls.append(1)
                if len(calls) == 6:  # mid-selection: the kernel state is on the workers
                    _kill_a_worker(cluster, client)
                return value

            monkeypatch.setattr(_dask, "_receive", kill_once)
            got = strategy.query(da.from_array(X, chunks=50), 12)
            np.testing.assert_array_equal(got, strategy.query(X, 12))
            assert len(rebuilds) == before + 1, "no worker was lost mid-selection"


def _kill_a_worker(cluster, client):
    """SIGKILL the worker holding the most keys (actors included); its nanny does not restart it."""
    held = client.has_what()
    worker = max(held, key=lambda w: len(held[w]))
    for nanny in cluster.workers.values():
        if nanny.worker_address == worker:
            nanny.auto_restart = False
    os.kill(client.run(os.getpid, workers=[worker])[worker], signal.SIGKILL)


@pytest.mark.parametrize("name", ["ALBL", "KDPP", "GreedyLogDet"])
def test_strategies_without_a_dask_driver_raise(name):
    # Raised before any cluster work: no client is needed.
    strategy = _fitted(name, 2)
    msg = f"{name} does not support Dask pools (X_pool is a Dask collection)"
    with pytest.raises(TypeError, match=re.escape(msg)):
        strategy.query(da.ones((10, 2), chunks=5), 2)


def test_column_split_chunks_raise(client):
    pool = da.from_array(np.zeros((10, 4)), chunks=(5, 2))
    msg = "X_pool is a Dask array whose chunks split its 4 columns into 2 pieces"
    with pytest.raises(ValueError, match=re.escape(msg)):
        _fitted("MarginSampling", 4).query(pool, 2)


@pytest.mark.parametrize("name", ["MarginSampling", "CoreSet", "BADGE", "RandomSampling"])
def test_nan_in_a_dask_pool_raises_as_on_one_machine(client, name):
    X = np.ones((20, 2))
    X[13, 1] = np.nan
    with pytest.raises(ValueError, match="Input X_pool contains NaN"):
        _fitted(name, 2).query(da.from_array(X, chunks=5), 2)


def test_dask_labelled_set_raises(client):
    X = da.from_array(np.random.RandomState(0).normal(size=(12, 2)), chunks=4)
    msg = "The labelled set 'X' of MarginSampling.fit is a Dask collection"
    with pytest.raises(TypeError, match=re.escape(msg)):
        skactive.MarginSampling(LogisticRegression()).fit(X, np.arange(12) % 2)


def test_wrong_n_features_and_batch_size_raise_as_on_one_machine(client):
    strategy = _fitted("CoreSet", 2)
    with pytest.raises(ValueError) as one_machine:
        strategy.query(np.zeros((10, 3)), 1)
    with pytest.raises(ValueError, match=re.escape(str(one_machine.value))):
        strategy.query(da.zeros((10, 3), chunks=5), 1)
    with pytest.raises(ValueError, match=re.escape("batch_size=11 should be <= n_samples=10")):
        strategy.query(da.ones((10, 2), chunks=5), 11)
    with pytest.raises(ValueError, match=re.escape("Found array with 0 sample(s) (shape=(0, 2))")):
        strategy.query(da.ones((0, 2), chunks=5), 1)


def test_one_dimensional_dask_pool_raises(client):
    with pytest.raises(ValueError, match=re.escape("X_pool should be a 2-D Dask array")):
        _fitted("MarginSampling", 2).query(da.ones(10, chunks=5), 1)


def test_import_skactive_does_not_import_dask():
    code = "import sys, skactive; assert 'dask' not in sys.modules, 'dask imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_without_a_client_a_local_cluster_is_started():
    code = (
        "import numpy as np, dask.array as da\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from skactive import CoreSet\n"
        "X = np.random.RandomState(0).normal(size=(50, 2))\n"
        "al = CoreSet(LogisticRegression()).fit(X[:6], [0, 1] * 3)\n"
        "assert (al.query(da.from_array(X, chunks=20), 4) == al.query(X, 4)).all()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
