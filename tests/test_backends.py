import re

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.datasets import make_regression as make_regression_data

from skactive.backends import backend_from_array, check_device, resolve_backend
from skactive.utils._validation import InvalidParameterError

from ._strategies import CLASSIFICATION, REGRESSION, make, make_regression


def test_numpy_backend():
    backend = resolve_backend("numpy")
    assert backend.name == "numpy" and backend.xp is np
    x = backend.asarray([[1, 2]])
    assert x.dtype == np.float64 and backend.to_numpy(x) is x


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "", "CPU", None, 0])
def test_invalid_device_strings(device):
    msg = (
        "The 'device' parameter of BADGE must be 'auto', 'numpy', 'cpu', 'cuda' or 'cuda:<index>'."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        check_device(device, "BADGE")


def test_torch_cpu_backend_round_trip():
    torch = pytest.importorskip("torch")
    backend = resolve_backend("cpu")
    x = backend.asarray(np.arange(6.0).reshape(2, 3))
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float64
    assert np.array_equal(backend.to_numpy(x), np.arange(6.0).reshape(2, 3))
    assert backend_from_array(x, resolve_backend("numpy")).name == "numpy"


def test_auto_without_cuda_is_numpy():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    assert resolve_backend("auto").name == "numpy"
    with pytest.raises(ValueError, match=re.escape("device='cuda' was requested but torch")):
        resolve_backend("cuda")


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_numpy_and_torch_cpu_pick_the_same_rows(name):
    pytest.importorskip("torch")
    rs = np.random.RandomState(0)
    X = rs.randn(300, 5)
    y = (X[:, 0] + 0.5 * rs.randn(300) > 0).astype(int) + (X[:, 1] > 1)
    picks = [
        make(name, random_state=7, device=device).fit(X[:40], y[:40]).query(X[40:], 25)
        for device in ("numpy", "cpu")
    ]
    assert picks[1].dtype == np.int64
    assert np.array_equal(*picks)


@pytest.mark.parametrize(
    "name, params",
    [
        ("BADGE", {"init": "random"}),
        ("BAIT", {"oversample": 1}),
        ("BAIT", {"fisher": "identity", "lam": 0.1}),
        ("BAIT", {"oversample": 3}),
    ],
)
def test_numpy_and_torch_cpu_agree_for_every_option(name, params):
    pytest.importorskip("torch")
    X, y = make_classification(250, 6, n_informative=4, n_classes=4, random_state=1)
    picks = [
        make(name, random_state=2, device=device, **params).fit(X[:30], y[:30]).query(X[30:], 15)
        for device in ("numpy", "cpu")
    ]
    assert np.array_equal(*picks)


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("n_targets", [1, 2])
def test_numpy_and_torch_cpu_pick_the_same_rows_for_regression(name, n_targets):
    pytest.importorskip("torch")
    X, y = make_regression_data(200, 5, n_targets=n_targets, noise=1.0, random_state=0)
    picks = [
        make_regression(name, random_state=7, device=device).fit(X[:30], y[:30]).query(X[30:], 20)
        for device in ("numpy", "cpu")
    ]
    assert picks[1].dtype == np.int64
    assert np.array_equal(*picks)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["MarginSampling", "CoreSet", "KDPP", "GreedyLogDet"])
def test_cuda_picks_equal_numpy(name):
    rs = np.random.RandomState(0)
    X = rs.randn(500, 6)
    y = (X[:, 0] > 0).astype(int)
    picks = [
        make(name, random_state=0, device=device).fit(X[:50], y[:50]).query(X[50:], 30)
        for device in ("numpy", "cuda")
    ]
    assert np.array_equal(*picks)
