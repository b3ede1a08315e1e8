"""Users' own table files (CSV, Parquet, ``.npz``, ``.npy``) as named columns.

pandas is not needed: CSV goes through the standard library, Parquet through
pyarrow (an optional install). A column is numeric when every value that is
not missing parses as a number; numeric columns become float64 with NaN for
missing values, other columns object arrays of str with None.
"""

import csv
import math
from pathlib import Path

import numpy as np

#: Cell texts read as a missing value (compared in lower case).
MISSING_TEXTS = frozenset({"", "na", "nan", "null", "none", "n/a"})

_FORMATS = ".csv, .tsv, .txt, .parquet, .npz or .npy"


class Table:
    """The columns of one file, by name, in file order.

    Parameters
    ----------
    path : path-like
        Where the table was read from (used in messages).
    columns : dict of str to ndarray
        One 1-D array per column, all of the same length.
    """

    def __init__(self, path, columns):
        self.path = Path(path)
        self.columns = columns

    @property
    def names(self):
        """Column names in file order."""
        return list(self.columns)

    def __len__(self):
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def is_numeric(self, name):
        """Whether column ``name`` holds numbers only (besides missing values)."""
        return self.columns[name].dtype.kind in "fiub"

    def n_missing(self, name):
        """Number of missing values in column ``name``."""
        col = self.columns[name]
        if col.dtype.kind == "f":
            return int(np.isnan(col).sum())
        return int(sum(v is None for v in col)) if col.dtype == object else 0

    def require(self, names, what):
        """Raise if any of ``names`` is not a column; ``what`` says why they are needed."""
        missing = [n for n in names if n not in self.columns]
        if missing:
            quoted = ", ".join(repr(n) for n in missing)
            raise ValueError(
                f"{self.path.name} has no column {quoted} ({what}); its columns are "
                f"{', '.join(self.names)}."
            )

    def text(self, name):
        """Column ``name`` as printable strings ('' for missing values)."""
        return [_cell_text(v) for v in self.columns[name]]


def _cell_text(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def read_table(path):
    """Read a CSV, Parquet, ``.npz`` or ``.npy`` file into a :class:`Table`.

    ``.npz``: its 2-D array ``X`` becomes columns ``x0, x1, ...`` and every
    1-D array with one entry per row a column of its own name (e.g. ``y``).
    ``.npy``: one 2-D array, columns ``x0, x1, ...``.

    Raises
    ------
    ValueError
        If the file is missing, empty, of another format or malformed.
    ImportError
        For Parquet without pyarrow.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Data file {path} does not exist.")
    suffix = path.suffix.lower()
    readers = {".csv": _read_csv, ".tsv": _read_csv, ".txt": _read_csv}
    readers.update({".parquet": _read_parquet, ".pq": _read_parquet})
    readers.update({".npz": _read_arrays, ".npy": _read_arrays})
    if suffix not in readers:
        raise ValueError(f"{path.name}: unknown file type {suffix!r}; use {_FORMATS}.")
    table = Table(path, readers[suffix](path))
    if not table.columns or len(table) == 0:
        raise ValueError(f"{path.name} holds no rows.")
    return table


def _read_csv(path):
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    if not rows:
        raise ValueError(f"{path.name} is empty.")
    header, body = rows[0], [r for r in rows[1:] if r]
    if len(set(header)) != len(header):
        raise ValueError(f"{path.name} has repeated column names in its header.")
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"Line {i} of {path.name} has {len(row)} fields; the header has {len(header)}."
            )
    return {name: _parse_column([r[j] for r in body]) for j, name in enumerate(header)}


def _parse_column(texts):
    values = [None if t.strip().lower() in MISSING_TEXTS else t for t in texts]
    try:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=object)


def _read_parquet(path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(
            f"Reading {path.name} needs pyarrow (pip install pyarrow), or save it as CSV."
        ) from None
    table = pq.read_table(path)
    columns = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        values = col.to_pylist()
        try:
            columns[name] = np.array(
                [np.nan if v is None else float(v) for v in values], dtype=np.float64
            )
        except (TypeError, ValueError):
            columns[name] = np.array([None if v is None else str(v) for v in values], object)
    return columns


def _read_arrays(path):
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as exc:  # format and pickle errors all mean "unreadable"
        raise ValueError(f"Could not read {path.name} ({exc}).") from None
    if isinstance(loaded, np.ndarray):
        arrays = {"X": loaded}
    else:
        with loaded:
            arrays = {k: loaded[k] for k in loaded.files}
    X = arrays.pop("X", None)
    if X is None or X.ndim != 2:
        raise ValueError(f"{path.name} should hold a 2-D array named 'X' (a .npy: a 2-D array).")
    columns = {f"x{j}": _numeric_or_text(X[:, j]) for j in range(X.shape[1])}
    for key, arr in arrays.items():
        if arr.ndim == 1 and len(arr) == len(X):
            columns[key] = _numeric_or_text(arr)
    return columns


def _numeric_or_text(arr):
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64)
    return np.array([str(v) for v in arr], dtype=object)


def integer_labels(values):
    """Float labels that are all integers as int64 (so classes print as 1, not 1.0)."""
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        return values.astype(np.int64)
    return values


def check_complete(table, names):
    """Raise a one-sentence error if any of the columns ``names`` has missing values."""
    for name in names:
        n = table.n_missing(name)
        if n:
            raise ValueError(
                f"Column {name!r} of {table.path.name} has {n} missing value"
                f"{'s' if n > 1 else ''}; fill them in or drop those rows first "
                "(skactive does not impute)."
            )


def feature_matrices(tables, names, *, one_hot=False):
    """The feature columns ``names`` of each table as float64 matrices, encoded alike.

    Numeric columns pass through. A non-numeric column is one-hot encoded
    (its categories taken from all ``tables``, in sorted order) when
    ``one_hot`` is True, and is an error otherwise.
    """
    blocks = [[] for _ in tables]
    for name in names:
        if all(t.is_numeric(name) for t in tables):
            for block, t in zip(blocks, tables, strict=True):
                block.append(t.columns[name].astype(np.float64)[:, None])
            continue
        if not one_hot:
            raise ValueError(
                f"Column {name!r} is not numeric; pass --one-hot to encode its categories "
                f"as 0/1 columns, or --drop {name} to leave it out."
            )
        texts = [np.array(t.text(name), dtype=object) for t in tables]
        categories = np.unique(np.concatenate(texts))
        for block, col in zip(blocks, texts, strict=True):
            block.append((col[:, None] == categories[None, :]).astype(np.float64))
    return [
        np.hstack(b) if b else np.empty((len(t), 0)) for b, t in zip(blocks, tables, strict=True)
    ]
