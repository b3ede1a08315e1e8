"""The documentation builds with warnings as errors, and its code samples run.

``test_docs_build`` copies what the docs read (``docs/``, ``skactive/``,
``benchmarks/`` without its git-ignored ``results/``) into a temporary
folder, as a fresh clone would have them, and runs
``python -m sphinx -W --keep-going -b html`` there, example gallery included.
Set ``SKACTIVE_DOCS_NO_GALLERY=1`` to skip running the examples
(``-D plot_gallery=0``). Skipped when the documentation tools are not
installed (``pip install -r docs/requirements.txt``).

``test_user_guide_doctests`` runs the ``>>>`` samples of every user-guide
page with :mod:`doctest`, so the guide cannot drift from the code.
"""

import doctest
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE_PAGES = sorted((DOCS / "user_guide").glob("*.rst"))
DOC_TOOLS = ["sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "myst_parser"]
# Written by the build into the source folder; never copied from the checkout.
GENERATED = ["_build", "api", "auto_examples", "_generated", "sg_execution_times.rst"]

pytestmark = pytest.mark.slow


def _copy_tree(tmp_path):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "results", *GENERATED)
    for name in ("docs", "skactive", "benchmarks"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp_path / name, ignore=ignore)
    return tmp_path


def test_docs_build(tmp_path):
    missing = [m for m in DOC_TOOLS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"documentation tools not installed: {', '.join(missing)}")
    root = _copy_tree(tmp_path / "src")
    out = tmp_path / "html"
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "-q",
        "-d",
        str(tmp_path / "doctrees"),
        str(root / "docs"),
        str(out),
    ]
    if os.environ.get("SKACTIVE_DOCS_NO_GALLERY"):
        cmd += ["-D", "plot_gallery=0"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)  # the copy must document its own skactive
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"sphinx failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-10000:]}"
    for page in [
        "index.html",
        "api/index.html",
        "api/generated/skactive.BaseQueryStrategy.html",
        "user_guide/strategies.html",
        "benchmarks.html",
    ]:
        assert (out / page).is_file(), page
    if not os.environ.get("SKACTIVE_DOCS_NO_GALLERY"):
        assert (out / "auto_examples" / "plot_labelling_loop.html").is_file()


def _needs(page):
    """Optional packages a page's samples import."""
    return {
        "neural_networks.rst": ["torch", "skorch"],
        "backends.rst": ["torch"],
        "dask.rst": ["dask", "distributed"],
    }.get(page.name, [])


@pytest.mark.parametrize("page", GUIDE_PAGES, ids=lambda p: p.stem)
def test_user_guide_doctests(page):
    for module in _needs(page):
        pytest.importorskip(module)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    # One BLAS thread: small fits on a shared machine are much faster so.
    with threadpool_limits(limits=1):
        result = doctest.testfile(
            str(page), module_relative=False, optionflags=flags, verbose=False, report=True
        )
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {page.name}"
