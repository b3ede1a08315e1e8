import importlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_import_does_not_import_torch():
    code = "import sys, skactive; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"^(python -m pytest[^\n#]*?)\s*(#.*)?$", readme, re.M).group(1)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command.strip() in ci_lines


@pytest.mark.parametrize("name", ["simulation", "evaluation", "plotting", "datasets"])
def test_former_experiment_paths_import_the_same_names(name):
    old = importlib.import_module(f"skactive.{name}")
    new = importlib.import_module(f"skactive.experiments.{name}")
    assert old.__all__ == new.__all__
    for attr in new.__all__:
        assert getattr(old, attr) is getattr(new, attr)


def test_console_script_entry_point_resolves():
    from skactive.cli import main

    assert callable(main)
    assert "skactive = skactive.cli:main" in (ROOT / "setup.cfg").read_text()


def test_core_does_not_import_the_experiment_layer():
    code = (
        "import sys, skactive, skactive.adapters, skactive.kernels, skactive.backends; "
        "assert not any(m.startswith('skactive.experiments') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_auto_device_never_imports_torch_for_host_only_strategies():
    # Random and uncertainty sampling do too little per row for a GPU to pay
    # off; resolving "auto" would import torch (seconds) for nothing.
    code = """
import sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from skactive import EntropySampling, LeastConfidence, MarginSampling, RandomSampling
X = np.random.RandomState(0).normal(size=(30, 3))
y = np.arange(30) % 2
for cls in (RandomSampling, MarginSampling, EntropySampling, LeastConfidence):
    al = cls(LogisticRegression(), random_state=0).fit(X[:10], y[:10])
    assert len(al.query(X[10:], batch_size=4)) == 4
MarginSampling(LogisticRegression()).fit(X, y).score_pool(X)
assert "torch" not in sys.modules, "torch imported"
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_readme_example_runs_and_prints_each_round():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Example\n\n```python\n(.*?)```", readme, re.S).group(1)
    shown = re.search(r"```text\n(round 0.*?)```", readme, re.S).group(1).splitlines()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    printed = proc.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in printed] == [f"round {i}" for i in range(5)]
    # The labels per round are exact; accuracies may differ in the last digit across BLAS.
    assert [line.rsplit(" ", 1)[0] for line in printed] == [
        line.rsplit(" ", 1)[0] for line in shown
    ]
