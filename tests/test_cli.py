import json
import os
import subprocess
import sys

import numpy as np
import pytest

from skactive.cli import main


def _run(*args, cwd, env_extra=None):
    env = {**os.environ, "MPLBACKEND": "Agg", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "skactive.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def _assert_one_line_error(proc):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("skactive: error: ")
    return lines[0]


def test_compare_defaults(tmp_path):
    out = tmp_path / "out"
    proc = _run("compare", "--rounds", "2", "--repeats", "2", "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    table = proc.stdout
    assert "test accuracy" in table
    for name in ("RandomSampling", "MarginSampling"):
        assert name in table
    for n_labels in ("20", "30", "40"):
        assert any(line.split()[0] == n_labels for line in table.splitlines() if line.strip())
    for name in ("learning_curves.png", "penalty_matrix.png", "error_cdf.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["results"]) == 2 * len({r["strategy"] for r in doc["results"]})


def test_compare_on_an_npz_file_regression(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.rand(120, 3)
    np.savez(tmp_path / "toy.npz", X=X, y=X @ [1.0, -2.0, 0.5])
    out = tmp_path / "out"
    argv = [
        "compare",
        "--data",
        str(tmp_path / "toy.npz"),
        "--strategies",
        "random,coreset",
        "--rounds",
        "2",
        "--repeats",
        "2",
        "--output",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    assert (out / "results.json").exists()


@pytest.mark.parametrize(
    "args, expected, status",
    [
        (["compare", "--frobnicate"], "unrecognized arguments", 2),
        (["compare", "--data", "missing.npz"], "does not exist", 1),
        (["compare", "--data", "garbage.npz"], "not a .npz archive", 1),
        (["compare", "--strategies", "random,oracle"], "unknown strategy 'oracle'", 2),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, args, expected, status):
    (tmp_path / "garbage.npz").write_text("not an archive")
    proc = _run(*args, cwd=tmp_path)
    assert expected in _assert_one_line_error(proc)
    assert proc.returncode == status


@pytest.mark.parametrize(
    "args, expected, status",
    [
        (["compare", "--batch-size", "ten"], "argument --batch-size: invalid int value", 2),
        (["compare", "--rounds", "0"], "argument --rounds: should be >= 1; got 0.", 2),
        (["compare", "--n-jobs", "0"], "argument --n-jobs", 2),
        (["compare", "--task", "regression"], "--task regression does not fit", 1),
        (["compare", "--model", "ridge", "--rounds", "1"], "--model ridge does not do", 1),
        (["compare", "--data", "openml:x"], "OpenML id should be an integer", 1),
        (["compare", "--data", "nope"], "is neither a file nor one of", 1),
        ([], "required: command", 2),
    ],
)
def test_errors_in_process(args, expected, status, capsys):
    assert main(args) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skactive: error: ")
    assert expected in err


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--strategies" in text
    assert "else fetched from OpenML when online" in text


def _compare(tmp_path, *args):
    argv = ["compare", *args, "--repeats", "2", "--quiet", "--output", str(tmp_path / "o")]
    return main(argv)


def test_compare_explains_task_budgets_and_tables(tmp_path, capsys):
    assert _compare(tmp_path, "--rounds", "3", "--strategies", "random,margin") == 0
    out = capsys.readouterr().out
    assert "task: classification (digits: 10 classes)" in out
    assert "compared budgets (labels): 30" in out
    assert "lower is better" in out and "higher is better" in out
    assert "n/a" not in out


def test_compare_says_n_a_when_nothing_was_compared(tmp_path, capsys):
    assert _compare(tmp_path, "--rounds", "1", "--strategies", "random,margin") == 0
    out = capsys.readouterr().out
    assert "compared budgets: none" in out
    assert "penalty matrix column means: RandomSampling n/a, MarginSampling n/a" in out
    assert "0.00," not in out and " 0.000" not in out.split("compared budgets")[1]


def test_many_integer_labels_suggest_regression(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = rng.rand(150, 3)
    np.savez(tmp_path / "amounts.npz", X=X, y=rng.randint(0, 300, size=150))
    args = ["--data", str(tmp_path / "amounts.npz"), "--rounds", "1", "--strategies", "random"]
    assert _compare(tmp_path, *args) == 0
    captured = capsys.readouterr()
    assert "classes is many: if the labels are quantities, pass --task regression" in captured.out
    assert "number of unique classes" not in captured.err
    assert _compare(tmp_path, *args, "--task", "regression") == 0
    assert "task: regression (from --task)" in capsys.readouterr().out


def test_compare_reads_a_csv_with_a_label_column(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = rng.rand(160, 3)
    rows = [["a", "b", "c", "kind"], *([*x, "yes" if x[0] > 0.5 else "no"] for x in X)]
    with open(tmp_path / "t.csv", "w") as f:
        f.write("\n".join(",".join(map(str, r)) for r in rows))
    args = ["--data", str(tmp_path / "t.csv"), "--rounds", "2", "--strategies", "random"]
    assert _compare(tmp_path, *args, "--label", "kind") == 0
    out = capsys.readouterr().out
    assert "task: classification (inferred: 2 text labels such as 'no', 'yes')" in out
    assert (tmp_path / "o" / "results.json").exists()
    assert _compare(tmp_path, *args, "--label", "nope") == 1
    assert "has no column 'nope' (--label)" in capsys.readouterr().err


def test_named_data_set_from_skactive_data(tmp_path, monkeypatch, capsys):
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "kropt.npz", X=rng.rand(300, 6).astype(np.float32), y=np.arange(300) % 3)
    monkeypatch.setenv("SKACTIVE_DATA", str(tmp_path))
    argv = [
        "compare",
        "--data",
        "kropt",
        "--strategies",
        "random,entropy",
        "--rounds",
        "2",
        "--repeats",
        "2",
        "--pool-size",
        "100",
        "--output",
        str(tmp_path / "o"),
        "--quiet",
    ]
    assert main(argv) == 0
    assert "kropt/B=10/logistic, pool 100, test 30" in capsys.readouterr().out
    # A named set missing from SKACTIVE_DATA, with no OpenML copy: one clear line.
    assert main(["compare", "--data", "diamonds"]) == 1
    assert f"diamonds.npz is not in {tmp_path} (SKACTIVE_DATA)" in capsys.readouterr().err
    # Without the variable the message names it and says how to get the file.
    monkeypatch.delenv("SKACTIVE_DATA")
    assert main(["compare", "--data", "diamonds"]) == 1
    err = capsys.readouterr().err
    assert "the SKACTIVE_DATA environment variable is not set" in err
    assert "put diamonds.npz (arrays X and y) in a folder and set SKACTIVE_DATA to it" in err
    assert "None" not in err


def test_mnist_regression_is_one_hot(tmp_path):
    from skactive.experiments.datasets import load_dataset

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(70_000, 4)).astype(np.uint8)
    np.savez(tmp_path / "mnist.npz", X=X, y=np.arange(70_000) % 10)
    data = load_dataset("mnist", task="regression", data_home=tmp_path, pool_size=50)
    assert data.X.shape == (50, 4) and data.X_test.shape == (10_000, 4)
    assert data.y.shape == (50, 10) and np.all(data.y.sum(axis=1) == 1)
    assert data.X.max() <= 1.0 and data.task == "regression"
