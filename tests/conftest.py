import importlib
import importlib.util
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# CI runs hypothesis derandomized so a red run is reproducible; locally the
# "dev" profile explores more. `.ci/run` sets HYPOTHESIS_PROFILE=ci itself.
# No property runs fewer than 50 examples (a test may ask for more).
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

#: Optional dependencies the suite exercises (the ``all`` extra); under CI a
#: missing or broken one is an error, not a pile of skipped tests.
OPTIONAL = ("torch", "array_api_compat", "skorch", "matplotlib", "tqdm", "pandas")
#: The documentation build's tools (tests/test_docs.py runs Sphinx in a subprocess).
DOC_TOOLS = ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "myst_parser")


def _strict_extras():
    """Under CI (``CI=1``, or ``SKACTIVE_REQUIRE_EXTRAS=1`` as `.ci/run` sets it)."""
    return any(os.environ.get(v, "") not in ("", "0") for v in ("CI", "SKACTIVE_REQUIRE_EXTRAS"))


def _importable(name):
    # Import for real: an installed but broken package would make
    # pytest.importorskip skip just as a missing one does.
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def pytest_configure(config):
    if not _strict_extras():
        return
    missing = [name for name in OPTIONAL if not _importable(name)]
    missing += [name for name in DOC_TOOLS if importlib.util.find_spec(name) is None]
    if missing:
        raise pytest.UsageError(
            f"CI needs every optional dependency, but {', '.join(missing)} cannot be imported; "
            "install them with pip install -e '.[all]' (or unset CI to skip their tests)."
        )


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs torch with a visible CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.RandomState(0)
