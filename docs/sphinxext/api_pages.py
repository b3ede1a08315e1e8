"""Write the API reference (``api/index.rst``) from the modules' ``__all__``.

The reference is generated, as scikit-learn's is, so that a name exported
from a public module appears in the docs without anyone editing an rst file.
:data:`MODULES` only fixes the order, the titles and a one-line description;
the names come from each module's ``__all__`` (or, for a module without one,
its public classes and functions). A module that is not in the checkout is
left out; one whose optional dependency is missing (``skactive.nn`` without
torch and skorch) is left out with a note on the page. Any other import
error is raised: the build must not hide a broken module.

Files are rewritten only when their text changes, so incremental builds
stay incremental.
"""

import argparse
import functools
import importlib
import importlib.util
import inspect
from pathlib import Path

from _files import write_if_changed

#: (module, title, description) in page order.
MODULES = [
    (
        "skactive",
        "Query strategies",
        "Meta-estimators that wrap a model: ``fit`` it on the labelled set, then "
        "``query`` the pool rows to label next. See :ref:`choosing_a_strategy`.",
    ),
    (
        "skactive.adapters",
        "Adapters",
        "The protocol between models and strategies, the built-in adapters and the "
        "registry. See :ref:`adapters`.",
    ),
    (
        "skactive.stopping",
        "Stopping rules",
        "When to stop labelling: stabilising predictions, pool uncertainty, a label "
        "budget. See :ref:`stopping`.",
    ),
    (
        "skactive.nn",
        "Neural networks (skorch)",
        "The papers' training setup for skorch nets. Needs the ``skorch`` extra. "
        "See :ref:`neural_networks`.",
    ),
    (
        "skactive.experiments.simulation",
        "Simulated active learning",
        "The papers' experimental protocol: learning curves from a random initial "
        "set. See :ref:`reproducing`.",
    ),
    (
        "skactive.experiments.evaluation",
        "Evaluation",
        "Pairwise penalty matrix and normalised-error CDF over many settings.",
    ),
    (
        "skactive.experiments.plotting",
        "Plotting",
        "Learning curves, penalty matrix and CDF plots (needs the ``plot`` extra).",
    ),
    (
        "skactive.experiments.datasets",
        "Data sets",
        "Loaders for the papers' real data sets from local ``.npz`` archives.",
    ),
    (
        "skactive.kernels",
        "Selection kernels",
        "The pure-math selection routines the strategies call, on numpy arrays or "
        "torch tensors. See :ref:`backends` and :ref:`memory`.",
    ),
    (
        "skactive.backends",
        "Backends",
        "Device selection and the host-side random numbers. See :ref:`backends`.",
    ),
    (
        "skactive.utils",
        "Utilities",
        "What kind of estimator an object is, from scikit-learn's public tags.",
    ),
    (
        "skactive.exceptions",
        "Exceptions and warnings",
        "",
    ),
    (
        "skactive.cli",
        "Command line",
        "The ``skactive`` console script. See :ref:`cli`.",
    ),
]

#: Modules whose import may fail because an optional extra is missing.
OPTIONAL_DEPENDENCIES = {"torch", "skorch", "matplotlib", "tqdm"}

_SKIP_NAMES = {"__version__"}


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(obj) or inspect.isfunction(obj))
            and getattr(obj, "__module__", None) == module.__name__
        ]
    return [n for n in names if n not in _SKIP_NAMES]


def _kind(obj):
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "exception"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def _groups(modname, module, names):
    """``[(heading or None, template, [names])]`` for one module."""
    objs = {n: getattr(module, n) for n in names}
    if modname == "skactive":
        base = getattr(module, "BaseQueryStrategy", None)
        strategies = [
            n
            for n, o in objs.items()
            if inspect.isclass(o) and base and issubclass(o, base) and o is not base
        ]
        rest = [n for n in names if n not in strategies]
        groups = [("Strategies", strategies), ("Base class and others", rest)]
    else:
        groups = [(None, names)]
    out = []
    for heading, group in groups:
        by_kind = {}
        for n in group:
            by_kind.setdefault(_kind(objs[n]), []).append(n)
        for kind in ("class", "exception", "function", "data"):
            if by_kind.get(kind):
                out.append((heading, kind, sorted(by_kind[kind], key=str.lower)))
                heading = None
    return out


def _import(modname):
    """The module, or a string saying why it is left out."""
    if importlib.util.find_spec(modname) is None:
        return None
    try:
        return importlib.import_module(modname)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        cause = exc.__cause__
        if cause is not None and getattr(cause, "name", None):
            missing = cause.name
        if missing.split(".")[0] in OPTIONAL_DEPENDENCIES:
            return (
                f"``{modname}`` needs ``{missing.split('.')[0]}``, which is not installed "
                "where these pages were built."
            )
        raise


def _section(modname, title, description, module):
    heading = f":mod:`{modname}`: {title}"
    lines = [f".. _api_{modname.replace('.', '_')}:", "", heading, "-" * len(heading), ""]
    if isinstance(module, str):
        return lines + [f".. note:: {module}", ""]
    lines += [f".. automodule:: {modname}", "   :no-members:", ""]
    if description:
        lines += [description, ""]
    lines += [f".. currentmodule:: {modname}", ""]
    for heading, kind, names in _groups(modname, module, _public_names(module)):
        if heading:
            lines += [heading, "~" * len(heading), ""]
        # Looked up in templates_path: docs/_templates/autosummary/<kind>.rst.
        template = f"autosummary/{kind if kind != 'data' else 'base'}.rst"
        lines += [
            ".. autosummary::",
            "   :toctree: generated/",
            f"   :template: {template}",
            "",
            *(f"   {n}" for n in names),
            "",
        ]
    return lines


def render():
    """The text of ``api/index.rst`` and the list of modules documented."""
    lines = [
        ".. _api:",
        "",
        "=============",
        "API reference",
        "=============",
        "",
        "Every public name of skactive, module by module. This page is generated at "
        "build time from each module's ``__all__``.",
        "",
    ]
    documented = []
    for modname, title, description in MODULES:
        module = _import(modname)
        if module is None:
            continue
        lines += _section(modname, title, description, module)
        if not isinstance(module, str):
            documented.append(modname)
    return "\n".join(lines) + "\n", documented


def write_api_pages(srcdir):
    """Write ``<srcdir>/api/index.rst``; return the modules documented."""
    text, documented = render()
    write_if_changed(Path(srcdir, "api", "index.rst"), text)
    return documented


def write_cli_help(srcdir):
    """Write the ``skactive compare --help`` text (or a note) for the CLI page."""
    path = Path(srcdir, "_generated", "cli_help.txt")
    try:
        cli = importlib.import_module("skactive.cli")
    except ImportError:
        write_if_changed(path, "(skactive.cli is not in this checkout.)\n")
        return False
    parser = cli._build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parsers = [parser, *sub.choices.values()]
    for p in parsers:
        # A fixed width: the help must not depend on the terminal of the build.
        p.formatter_class = functools.partial(argparse.HelpFormatter, width=88)
    texts = [p.format_help() for p in parsers]
    write_if_changed(path, "\n".join(texts))
    return True
