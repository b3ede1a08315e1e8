"""Issue 14.2: queries from several threads on one fitted strategy give the sequential answer."""

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skactive import BADGE, BAIT, CoreSet, MarginSampling

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skorch import NeuralNetClassifier  # noqa: E402

N_THREADS, N_QUERIES = 8, 48


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.hidden = torch.nn.Linear(6, 16)
        self.head = torch.nn.Linear(16, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-0.5, 0.5, generator=gen)

    def forward(self, X):
        return self.head(torch.relu(self.hidden(X)))


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=330, n_features=6, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    # Pools of different sizes: a hook that records another call's activations
    # shows up as a wrong size or as different picks.
    pools = [X[30 : 30 + n] for n in (300, 257, 211, 170)]
    return X[:30], y[:30], pools


def _net():
    return NeuralNetClassifier(
        _Net, max_epochs=3, lr=0.1, batch_size=16, train_split=None, verbose=0
    )


def _seeded_copies(fitted, n_seeds=3):
    """Shallow copies with their own random_state that share the one fitted model."""
    copies = []
    for seed in range(n_seeds):
        strategy = copy.copy(fitted)
        strategy.random_state = seed
        copies.append(strategy)
    assert all(c.estimator_ is fitted.estimator_ for c in copies)
    return copies


def _assert_threads_give_the_sequential_answers(fitted, pools):
    strategies = _seeded_copies(fitted)
    jobs = [(i % len(pools), i % len(strategies)) for i in range(N_QUERIES)]

    def query(job):
        pool, seed = job
        return strategies[seed].query(pools[pool], batch_size=6)

    sequential = {job: query(job) for job in set(jobs)}
    with ThreadPoolExecutor(N_THREADS) as executor:
        answers = list(executor.map(query, jobs))
    mismatches = [
        job for job, a in zip(jobs, answers, strict=True) if not np.array_equal(a, sequential[job])
    ]
    assert mismatches == []


@pytest.mark.parametrize("cls", [BADGE, BAIT, CoreSet, MarginSampling])
def test_skorch_backed_queries_from_threads_equal_the_sequential_ones(cls, data):
    X, y, pools = data
    fitted = cls(_net(), device="numpy").fit(X, y)
    _assert_threads_give_the_sequential_answers(fitted, pools)
    assert _no_hooks(fitted.estimator_.module_)


@pytest.mark.parametrize("cls", [BADGE, BAIT, CoreSet, MarginSampling])
def test_sklearn_backed_queries_from_threads_equal_the_sequential_ones(cls, data):
    X, y, pools = data
    fitted = cls(LogisticRegression(max_iter=300), device="numpy").fit(X, y)
    _assert_threads_give_the_sequential_answers(fitted, pools)


def _no_hooks(module):
    return all(not (m._forward_hooks or m._forward_pre_hooks) for m in module.modules())
