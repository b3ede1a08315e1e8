"""``skactive select`` run for real on small files: exit codes, written files, messages."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris

from skactive.cli import main

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


@pytest.fixture
def files(tmp_path):
    """labelled.csv (15 rows), pool.csv (115 rows, empty labels), stopset.csv (20 rows)."""
    X, y = load_iris(return_X_y=True)
    species = np.array(["setosa", "versicolor", "virginica"])[y]
    order = np.random.RandomState(0).permutation(150)
    header = ["flower_id", *FEATURES, "species"]

    def rows(idx, labelled):
        return [[f"F{i:03d}", *X[i], species[i] if labelled else ""] for i in idx]

    return {
        "labelled": _write_csv(tmp_path / "labelled.csv", header, rows(order[:15], True)),
        "pool": _write_csv(tmp_path / "pool.csv", header, rows(order[15:130], False)),
        "stop": _write_csv(tmp_path / "stopset.csv", header, rows(order[130:], False)),
        "X": X,
        "order": order,
    }


def _select(files, *extra):
    return [
        "select",
        str(files["labelled"]),
        str(files["pool"]),
        "--label",
        "species",
        "--id-column",
        "flower_id",
        *extra,
    ]


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_select_writes_the_picked_rows_in_pick_order(files, tmp_path, capsys):
    out = tmp_path / "picks.csv"
    assert main(_select(files, "--batch-size", "7", "--output", str(out), "--budget", "40")) == 0
    rows = _read(out)
    assert [r["rank"] for r in rows] == [str(i) for i in range(7)]
    pool_ids = [r["flower_id"] for r in _read(files["pool"])]
    assert len({r["row"] for r in rows}) == 7
    for r in rows:  # "row" is the 0-based row of the pool file, and the columns follow it
        assert pool_ids[int(r["row"])] == r["flower_id"]
    report = capsys.readouterr().out
    assert "BADGE on logistic (classification), 15 labelled rows, pool 115" in report
    assert "label budget: 15 of 40 labels used: keep labelling" in report
    assert "max uncertainty of the pool:" in report


def test_same_seed_same_rows_other_seed_other_rows(files, tmp_path):
    paths = [tmp_path / f"p{i}.csv" for i in range(3)]
    for path, seed in zip(paths, ["1", "1", "2"], strict=True):
        argv = _select(files, "--seed", seed, "--strategy", "random", "--output", str(path))
        assert main(argv) == 0
    first, again, other = ([r["row"] for r in _read(p)] for p in paths)
    assert first == again and first != other


def test_stdout_output_and_report_on_stderr(files, capsys):
    assert main(_select(files, "--batch-size", "3", "--strategy", "margin")) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("rank,row,flower_id") and len(lines) == 4
    assert "MarginSampling" in captured.err


def test_stabilising_predictions_across_runs(files, tmp_path, capsys):
    args = _select(files, "--stop-set", str(files["stop"]), "--output", str(tmp_path / "p.csv"))
    assert main(args) == 0
    assert "first run on stopset.csv" in capsys.readouterr().out
    state = tmp_path / "stopset.skactive-stop.json"
    assert len(json.loads(state.read_text())["predictions"]) == 20
    assert main(args) == 0  # the same labelled set again: the same model
    assert "kappa=1.000 against the previous run's model; mean of the last 1 kappa 1.000" in (
        capsys.readouterr().out
    )
    assert json.loads(state.read_text())["values"][1:] == [1.0]


def test_npz_files_and_a_joblib_model(files, tmp_path, capsys):
    import joblib
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    X, order = files["X"], files["order"]
    y = load_iris().target
    np.savez(tmp_path / "lab.npz", X=X[order[:20]], y=y[order[:20]])
    np.save(tmp_path / "pool.npy", X[order[20:]])
    joblib.dump(LogisticRegression(C=10.0), tmp_path / "model.joblib")
    out = tmp_path / "picks.csv"
    argv = ["select", str(tmp_path / "lab.npz"), str(tmp_path / "pool.npy")]
    argv += ["--model", str(tmp_path / "model.joblib"), "--strategy", "entropy"]
    assert main([*argv, "--output", str(out)]) == 0
    rows = _read(out)
    assert list(rows[0])[:3] == ["rank", "row", "x0"] and len(rows) == 10
    assert "EntropySampling on model.joblib (classification)" in capsys.readouterr().out
    # BADGE needs the input of a last linear layer, which a forest has not.
    joblib.dump(RandomForestClassifier(), tmp_path / "forest.joblib")
    argv = ["select", str(tmp_path / "lab.npz"), str(tmp_path / "pool.npy"), "--model"]
    argv += [str(tmp_path / "forest.joblib"), "--strategy", "badge"]
    assert main([*argv, "--output", str(tmp_path / "f.csv")]) == 1
    assert "RandomForestClassifier" in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()


def test_one_hot_encodes_text_columns(tmp_path):
    header = ["colour", "size", "label"]
    lab = _write_csv(tmp_path / "l.csv", header, [["red", 1, 0], ["blue", 2, 1], ["red", 3, 0]])
    pool = _write_csv(tmp_path / "p.csv", header, [["green", 1, ""], ["blue", 5, ""]])
    argv = ["select", str(lab), str(pool), "--label", "label", "--strategy", "margin"]
    argv += ["--batch-size", "2", "--output", str(tmp_path / "o.csv")]
    assert main(argv) == 1  # text column without --one-hot
    assert not (tmp_path / "o.csv").exists()
    assert main([*argv, "--one-hot"]) == 0
    assert sorted(r["colour"] for r in _read(tmp_path / "o.csv")) == ["blue", "green"]


def _bad_inputs(files, tmp_path):
    header = ["flower_id", *FEATURES, "species"]
    holes = [["F1", 5.0, "", 1.0, 0.2, "setosa"], ["F2", 6.0, 3.0, 4.0, 1.3, "versicolor"]]
    _write_csv(tmp_path / "holes.csv", header, holes)
    _write_csv(tmp_path / "narrow.csv", ["flower_id", "sepal_length"], [["F9", 5.0]])
    lab, pool = str(files["labelled"]), str(files["pool"])
    common = ["--label", "species", "--id-column", "flower_id"]
    return [
        (["select", lab, pool, "--label", "kind"], "has no column 'kind' (--label)"),
        (["select", str(tmp_path / "holes.csv"), pool, *common], "has 1 missing value"),
        (
            ["select", lab, str(tmp_path / "narrow.csv"), *common],
            "narrow.csv has no column 'sepal_width', 'petal_length', 'petal_width'",
        ),
        (["select", lab, str(tmp_path / "none.csv"), *common], "does not exist"),
        (["select", lab, pool, *common, "--strategy", "oracle"], "unknown strategy 'oracle'"),
        (["select", lab, pool, *common, "--batch-size", "500"], "larger than the pool"),
        (["select", lab, pool, *common, "--model", "forest"], "neither logistic, ridge, mlp"),
    ]


def test_bad_input_is_one_sentence_nonzero_and_writes_nothing(files, tmp_path, capsys):
    out = tmp_path / "never.csv"
    for argv, expected in _bad_inputs(files, tmp_path):
        assert main([*argv, "--output", str(out)]) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("skactive: error: "), err
        assert expected in err, err
        assert not out.exists()


def test_select_as_a_real_command(files, tmp_path):
    out = tmp_path / "picks.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "skactive.cli", *_select(files, "--output", str(out))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(_read(out)) == 10
    bad = subprocess.run(
        [sys.executable, "-m", "skactive.cli", "select", str(files["labelled"])],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
