"""The CI configuration does what it says: derandomised properties, no silent skips."""

import os
import pathlib
import re
import subprocess
import sys

from hypothesis import settings

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ci_run_selects_the_ci_profile_and_requires_the_extras():
    script = (ROOT / ".ci" / "run").read_text()
    exports = script[: script.index("python -m pytest")]
    assert re.search(r"^export .*\bHYPOTHESIS_PROFILE=ci\b", exports, re.M)
    assert re.search(r"^export .*\bSKACTIVE_REQUIRE_EXTRAS=1\b", exports, re.M)


def test_ci_profile_is_derandomised_with_at_least_50_examples():
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.max_examples >= 50 and ci.deadline is None
    if os.environ.get("HYPOTHESIS_PROFILE") == "ci":
        assert settings.default.derandomize and settings.default.max_examples >= 50


def test_a_broken_optional_dependency_fails_the_ci_run(tmp_path):
    # A torch that cannot be imported stands for a missing one (and keeps the
    # child process from loading the real torch: this test stays cheap).
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(SKACTIVE_REQUIRE_EXTRAS="1", PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_smoke.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage error
    assert re.search(r"CI needs every optional dependency, but torch, .* cannot be", proc.stderr)
