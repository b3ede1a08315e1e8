"""Sphinx configuration for the skactive documentation.

Build (from the repository root; warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Add ``-D plot_gallery=0`` to skip running the examples. Nothing here needs a
network connection: intersphinx is off and the examples use bundled or
generated data only.
"""

import os
import sys
from pathlib import Path

# One BLAS/OpenMP thread for the examples: they are small, and on a shared
# machine busy-waiting BLAS threads made a tiny LogisticRegression fit 30x
# slower. Set before numpy is imported; threadpoolctl below covers the rest.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# Document the checkout these pages live in, not whatever skactive is installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "sphinxext"))

from api_pages import write_api_pages, write_cli_help  # noqa: E402
from bench_pages import write_benchmark_pages  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skactive  # noqa: E402

_thread_limits = threadpool_limits(limits=1)

# The examples draw with matplotlib; never open a window.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skactive"
author = "the skactive developers"
copyright = "the skactive developers"
release = skactive.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# README.md describes this folder on GitHub; the .md files under _generated/
# are the benchmark pages, the only Markdown the site renders.
exclude_patterns = [
    "_build",
    "sphinxext",
    "examples",
    "README.md",
    "requirements.txt",
    "Thumbs.db",
    ".DS_Store",
]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- API reference -----------------------------------------------------------
# api/index.rst is written from the modules' __all__ (see sphinxext/api_pages.py);
# autosummary then writes one page per name into api/generated/.
documented_modules = write_api_pages(DOCS)
has_cli = write_cli_help(DOCS)

# -- Benchmarks ---------------------------------------------------------------
# benchmarks/README*.md become pages under _generated/benchmarks/ (MyST).
benchmark_pages = write_benchmark_pages(DOCS, ROOT)
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_member_order = "groupwise"
autodoc_inherit_docstrings = True

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Examples gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skactive",),
    "reference_url": {"skactive": None},
    "backreferences_dir": "api/generated/backreferences",
    "inspect_global_variables": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skactive {release}"
html_static_path = ["_static"]
html_css_files = ["skactive.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": True,
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_context = {"default_mode": "light"}
