"""File helpers shared by the documentation's build-time generators."""

from pathlib import Path


def write_if_changed(path, text):
    """Write ``text`` to ``path`` (creating folders) only if its content differs.

    An unchanged file keeps its timestamp, so Sphinx's incremental builds
    do not re-read pages whose generated source did not change.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
