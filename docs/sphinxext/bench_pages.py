"""Benchmark pages from ``benchmarks/``: the scripts' descriptions and their results.

The benchmark scripts write their summaries to ``benchmarks/README*.md``;
those files are the single source of the published figures. At build time
each one becomes a page (``_generated/benchmarks/<stem>.md``, parsed by
MyST), and ``_generated/benchmark_results.rst.txt`` holds the toctree that
``benchmarks.rst`` includes, or a note when no results are in the checkout.
``_generated/benchmark_scripts.rst.txt`` lists every ``benchmarks/*.py``
script (except private helpers) with its own docstring, so the commands on
the page are the scripts' own.

The READMEs are written for GitHub, so each page is adapted to build with
``-W`` from a fresh clone: images are copied next to the page when they exist
in the checkout (results are usually git-ignored) and replaced by a note when
they do not; links to repository files become their path in backticks; the
first heading becomes the page title (one is added if the README has no H1)
and heading levels never skip (MyST warns on both).
"""

import ast
import re
import shutil
from pathlib import Path

from _files import write_if_changed

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def _readmes(bench_dir):
    files = sorted(Path(bench_dir).glob("README*.md"))
    # README.md (the overview) first, then README_<topic>.md alphabetically.
    return sorted(files, key=lambda p: (p.name != "README.md", p.name))


_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})(\s.*)$")


def _image(readme, out_dir):
    def replace(match):
        alt, target = match.groups()
        if re.match(r"^[a-z]+://", target):
            return f"*(external figure not shown: {target})*"
        src = (readme.parent / target).resolve()
        if not src.is_file():
            return f"*(figure `{target}` is not in this checkout; rerun the benchmark to make it)*"
        dest = out_dir / "figures" / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dest)
        return f"![{alt}](figures/{src.name})"

    return replace


def _link(match):
    """Links to files of the repository become their path: the site has no such pages."""
    text, target = match.groups()
    if re.match(r"^[a-z]+:", target) or target.startswith("#"):
        return match.group(0)
    return f"{text} (`benchmarks/{target}`)"


def _headings(lines):
    """Make the first heading H1 and never skip a level (MyST warns on both)."""
    out, level, fence = [], 0, None
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
        match = None if fence else _HEADING.match(line)
        if match:
            new = 1 if level == 0 else min(len(match.group(1)), level + 1)
            line = "#" * new + match.group(2) + ("\n" if line.endswith("\n") else "")
            level = new
        out.append(line)
    return out


def _page(readme, out_dir):
    body = _IMAGE.sub(_image(readme, out_dir), readme.read_text())
    body = _LINK.sub(_link, body)
    lines = body.splitlines(keepends=True)
    headings = [line for line in lines if _HEADING.match(line)]
    if not headings or not headings[0].startswith("# "):
        lines[:0] = [f"# Benchmark results: {readme.name}\n", "\n"]
    lines = _headings(lines)
    note = (
        f"\n```{{note}}\nThis page is `benchmarks/{readme.name}` from the repository, written "
        "by the benchmark script named in it; the machine and the command of every figure "
        "are stated there.\n```\n\n"
    )
    # The note goes right after the title.
    title = next(i for i, line in enumerate(lines) if line.startswith("# "))
    return "".join(lines[: title + 1]) + note + "".join(lines[title + 1 :])


def _scripts(bench_dir, root):
    out = []
    for path in sorted(Path(bench_dir).glob("*.py")):
        if path.name.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or "(no description)"
        title = f"``{path.relative_to(root)}``"
        out += [title, "-" * len(title), "", ".. code-block:: text", ""]
        out += [f"   {line}".rstrip() for line in doc.splitlines()]
        out.append("")
    if not out:
        out = ["No benchmark scripts are in this checkout.", ""]
    return "\n".join(out) + "\n"


def write_benchmark_pages(srcdir, root):
    """Write the generated benchmark pages; return the list of README pages."""
    srcdir, root = Path(srcdir), Path(root)
    bench_dir = root / "benchmarks"
    out_dir = srcdir / "_generated" / "benchmarks"
    pages = []
    for readme in _readmes(bench_dir) if bench_dir.is_dir() else []:
        write_if_changed(out_dir / f"{readme.stem}.md", _page(readme, out_dir))
        pages.append(readme.stem)
    # Drop pages whose README has gone, so no orphan document warns.
    if out_dir.is_dir():
        for old in out_dir.glob("*.md"):
            if old.stem not in pages:
                old.unlink()
    if pages:
        toc = [".. toctree::", "   :maxdepth: 2", ""]
        toc += [f"   _generated/benchmarks/{stem}" for stem in pages]
    else:
        toc = [
            ".. note::",
            "",
            "   No benchmark results are in this checkout yet. Run the scripts below;",
            "   they write their summaries to ``benchmarks/README*.md``, which appear",
            "   here at the next build.",
        ]
    write_if_changed(srcdir / "_generated" / "benchmark_results.rst.txt", "\n".join(toc) + "\n")
    write_if_changed(
        srcdir / "_generated" / "benchmark_scripts.rst.txt",
        _scripts(bench_dir, root) if bench_dir.is_dir() else "",
    )
    return pages
