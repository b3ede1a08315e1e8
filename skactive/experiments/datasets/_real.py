"""Loaders for the real data sets of the BADGE and BAIT papers' experiments."""

import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.multiclass import type_of_target

#: The named data sets: their task and, where OpenML has the same data, how
#: to fetch it (``fetch_openml`` keyword arguments).
DATASETS = {
    "mnist": {"task": "classification", "openml": {"name": "mnist_784", "version": 1}},
    "letter": {"task": "classification", "openml": {"data_id": 6}},
    "kropt": {"task": "classification", "openml": {"data_id": 184}},
    "nyc_weather": {"task": "regression", "openml": None},
    "diamonds": {"task": "regression", "openml": None},
}

_MNIST_N_TRAIN = 60_000  # the classic split: the last 10,000 rows are the test set


def _read_npz(path):
    """``(X, y, X_test, y_test)`` from an archive; the test arrays may be None."""
    if Path(path).is_file() and not zipfile.is_zipfile(path):
        # np.load would guess "pickle" for any other file and say so confusingly.
        raise ValueError(f"{path} is not a .npz archive (numpy's zip format).")
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"Data file {path} does not exist.") from None
    except Exception as exc:  # zip, pickle and format errors all mean "unreadable"
        raise ValueError(f"Could not read {path} as a .npz archive ({exc}).") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a single .npy array, not a .npz archive with X and y.")
    with archive:
        if "X" not in archive.files or "y" not in archive.files:
            raise ValueError(f"{path} should hold arrays named 'X' and 'y'.")
        try:
            arrays = {k: archive[k] for k in archive.files}
        except Exception as exc:
            raise ValueError(f"Could not read {path} as a .npz archive ({exc}).") from None
    if arrays["X"].ndim != 2 or len(arrays["X"]) != len(arrays["y"]):
        raise ValueError(
            f"{path} should hold a 2-D X with one row per entry of y; got X of shape "
            f"{arrays['X'].shape} and y of shape {arrays['y'].shape}."
        )
    return arrays["X"], arrays["y"], arrays.get("X_test"), arrays.get("y_test")


def _split(X, y, test_fraction, random_state):
    """Shuffle, then keep the last ``test_fraction`` of the rows as the test set."""
    order = check_random_state(random_state).permutation(len(y))
    n_test = max(1, int(round(test_fraction * len(y))))
    pool, test = order[:-n_test], order[-n_test:]
    return X[pool], y[pool], X[test], y[test]


def _infer_task(y):
    kind = type_of_target(y)
    return "regression" if kind.startswith("continuous") else "classification"


def _as_task(y, y_test, task, native, name):
    if task is None or task == native:
        return y, y_test, native
    if task not in ("classification", "regression"):
        raise ValueError(f"task should be 'classification' or 'regression'; got {task!r}.")
    if native == "regression":
        raise ValueError(f"{name} is a regression data set; it cannot be used for classification.")
    # Regressing on one-hot labels: the BAIT paper's MNIST regression setting.
    classes, codes = np.unique(np.concatenate([y, y_test]), return_inverse=True)
    onehot = np.eye(len(classes))[codes]
    return onehot[: len(y)], onehot[len(y) :], "regression"


def _subsample(X, y, pool_size, random_state):
    if pool_size is None or pool_size >= len(y):
        return X, y
    keep = np.sort(check_random_state(random_state).choice(len(y), pool_size, replace=False))
    return X[keep], y[keep]


def _not_found(name, data_home):
    """Where ``name.npz`` was looked for, and how to get it there (for messages)."""
    if data_home is None:
        where = "the SKACTIVE_DATA environment variable is not set"
    else:
        where = f"{name}.npz is not in {data_home} (SKACTIVE_DATA)"
    how = (
        f"put {name}.npz (arrays X and y) in a folder and set SKACTIVE_DATA to it"
        " (see the docs' 'Reproducing the papers')"
    )
    return where, how


def _fetch(name, data_home):
    spec = DATASETS[name]["openml"]
    where, how = _not_found(name, data_home)
    if spec is None:
        raise ValueError(f"Data set {name!r}: {where}, and it has no OpenML copy; {how}.")
    from sklearn.datasets import fetch_openml
    from sklearn.preprocessing import LabelEncoder

    try:
        with warnings.catch_warnings():
            # A retry warning per failed download would break the one-line error.
            warnings.simplefilter("ignore", UserWarning)
            X, y = fetch_openml(**spec, return_X_y=True, as_frame=False, n_retries=1, delay=0.5)
    except Exception as exc:  # offline, proxy, parser: all mean "not available"
        reason = f"{type(exc).__name__}: {exc}".rstrip(".")
        raise ValueError(
            f"Data set {name!r}: {where}, and fetching it from OpenML failed ({reason}); {how}."
        ) from None
    return np.asarray(X, dtype=np.float32), LabelEncoder().fit_transform(y)


def load_dataset(name, *, task=None, data_home=None, pool_size=None, download=True, random_state=0):
    """Load one of the papers' real data sets, split into a pool and a test set.

    Reads ``<data_home>/<name>.npz`` (arrays ``X`` and ``y``, no pickle).
    MNIST keeps its classic split (60,000 pool rows, the last 10,000 for
    testing) and its pixels are scaled to [0, 1]; the others are shuffled
    and their last 10 % held out, as in the authors' ``run.py``.

    Parameters
    ----------
    name : {"mnist", "letter", "kropt", "nyc_weather", "diamonds"}
        The data set (see :data:`DATASETS`).
    task : {"classification", "regression"} or None, default=None
        None keeps the data set's own task. ``"regression"`` on a
        classification set regresses on one-hot labels (the BAIT paper's
        MNIST regression setting).
    data_home : str or path-like, default=None
        Folder of the archives; default the ``SKACTIVE_DATA`` environment
        variable.
    pool_size : int, default=None
        Keep a random subset of this many pool rows (the test set is kept
        whole); None keeps them all.
    download : bool, default=True
        When the archive is missing, try ``sklearn.datasets.fetch_openml``
        (mnist, letter and kropt only; needs a network connection).
    random_state : int, RandomState instance or None, default=0
        Seeds the split and the pool subset; the default gives the same
        test set every time.

    Returns
    -------
    data : Bunch
        ``X``, ``y`` (the pool), ``X_test``, ``y_test``, ``task`` and ``name``.

    Raises
    ------
    ValueError
        If the name is unknown, the archive is missing (and cannot be
        fetched) or unreadable, or the task does not fit the data.

    Examples
    --------
    A folder holding a (tiny, made-up) ``letter.npz``:

    >>> import numpy as np, tempfile, os
    >>> from skactive.experiments.datasets import load_dataset
    >>> folder = tempfile.mkdtemp()
    >>> rng = np.random.RandomState(0)
    >>> np.savez(os.path.join(folder, "letter.npz"), X=rng.rand(200, 16), y=np.arange(200) % 26)
    >>> data = load_dataset("letter", data_home=folder, pool_size=100)
    >>> data.X.shape, data.X_test.shape, data.task
    ((100, 16), (20, 16), 'classification')
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {sorted(DATASETS)}.")
    data_home = data_home if data_home is not None else os.environ.get("SKACTIVE_DATA")
    path = Path(data_home, f"{name}.npz") if data_home else None
    if path is not None and path.exists():
        X, y, _, _ = _read_npz(path)
    elif download:
        X, y = _fetch(name, data_home)
    else:
        where, how = _not_found(name, data_home)
        raise ValueError(f"Data set {name!r}: {where}; {how}.")
    if name == "mnist":
        X = X.astype(np.float32) / np.float32(255.0)
        n = _MNIST_N_TRAIN
        X, y, X_test, y_test = X[:n], y[:n], X[n:], y[n:]
    else:
        X, y, X_test, y_test = _split(X, y, 0.1, random_state)
    y, y_test, task = _as_task(y, y_test, task, DATASETS[name]["task"], name)
    X, y = _subsample(X, y, pool_size, random_state)
    return Bunch(X=X, y=y, X_test=X_test, y_test=y_test, task=task, name=name)


def load_npz(path, *, task=None, test_size=0.25, pool_size=None, random_state=0):
    """Load a user's ``.npz`` archive holding ``X`` and ``y`` (no pickle).

    If the archive also holds ``X_test`` and ``y_test`` they are the test
    set; otherwise a random ``test_size`` fraction of the rows is held out.

    Parameters
    ----------
    path : str or path-like
        The archive.
    task : {"classification", "regression"} or None, default=None
        None infers it from ``y`` (float values that are not all integers,
        or several float columns, mean regression).
    test_size : float, default=0.25
        Fraction of rows held out when the archive has no test set.
    pool_size : int, default=None
        Keep a random subset of this many pool rows.
    random_state : int, RandomState instance or None, default=0
        Seeds the split and the pool subset.

    Returns
    -------
    data : Bunch
        ``X``, ``y``, ``X_test``, ``y_test``, ``task`` and ``name`` (the file's stem).

    Raises
    ------
    ValueError
        If the file is missing or unreadable, or lacks ``X`` or ``y``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skactive.experiments.datasets import load_npz
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> np.savez(path, X=np.arange(40.0).reshape(20, 2), y=np.arange(20) % 2)
    >>> data = load_npz(path)
    >>> data.X.shape, data.X_test.shape, data.task
    ((15, 2), (5, 2), 'classification')
    """
    X, y, X_test, y_test = _read_npz(path)
    if (X_test is None) != (y_test is None):
        raise ValueError(f"{path} should hold both X_test and y_test, or neither.")
    if X_test is None:
        if not 0 < test_size < 1:
            raise ValueError(f"test_size should be in (0, 1); got {test_size!r}.")
        X, y, X_test, y_test = _split(X, y, test_size, random_state)
    inferred = _infer_task(y)
    if task not in (None, "classification", "regression"):
        raise ValueError(f"task should be 'classification' or 'regression'; got {task!r}.")
    X, y = _subsample(X, y, pool_size, random_state)
    return Bunch(
        X=X, y=y, X_test=X_test, y_test=y_test, task=task or inferred, name=Path(path).stem
    )
