"""``lpsgd findings`` on the command line: help, bad input (exit 2, nothing written), a
small run on the user's own CSV file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from lpsgd import cli, data


def _run(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    X, y, names, _ = data._bundled_arrays("breast_cancer")
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    rows = ["radius,texture,perimeter,label"] + [
        ",".join(f"{v:.6g}" for v in (*X[i, :3], y[i])) for i in range(120)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["findings", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in ("Examples:", "--problem", "--loss", "--format", "--rounding", "--runs",
                 "--steps", "--seed", "--out", "Bonferroni", "LAST column", ".npz"):
        assert word in out, word


SMALL = ["--runs", "3", "--steps", "8", "--batch", "4", "--no-progress"]


@pytest.mark.parametrize("args,words", [
    (["--format", "fp9"], ["--format='fp9'", "Did you mean"]),
    (["--format", "fp8"], ["Ambiguous", "float8_e5m2"]),
    (["--format", "mxfp4"], ["--format='mxfp4'", "scaled preset", "Did you mean 'mxfp4_e2m1'"]),
    (["--format", "nvfp5"], ["--format='nvfp5'", "Did you mean 'nvfp4'"]),
    (["--format", "mxfp8_e4m3", "--rounding", "up"], ["no admissible stepsize", "q_hi"]),
    (["--rounding", "nearest"], ["--rounding='nearest'"]),
    (["--rounding", "up"], ["no admissible stepsize", "q_hi"]),
    (["--runs", "1"], ["Expected --runs >= 2 but got --runs=1"]),
    (["--seed", "-1"], ["Expected --seed >= 0"]),
    (["--steps", "x"], ["--steps='x'"]),
    (["--problem", "cancer"], ["Unknown --problem='cancer'"]),
    (["--problem", "missing.csv", "--loss", "logistic"], ["missing.csv", "does not exist"]),
    (["--loss", "hinge"], ["--loss='hinge'"]),
    (["--problem", "diabetes", "--loss", "logistic"], ["does not apply"]),
], ids=lambda v: " ".join(v) if isinstance(v, list) and v and v[0].startswith("--") else None)
def test_bad_arguments_exit_2_nothing_written(tmp_path, capsys, args, words):
    out = tmp_path / "rep"
    rc, stdout, err = _run(["findings", *args, *SMALL, "--out", str(out)], capsys)
    assert rc == 2
    assert err.startswith("lpsgd findings: error:")
    for w in words:
        assert w in err, (w, err)
    assert not out.exists() and os.listdir(tmp_path) == []


@pytest.mark.parametrize("content,words", [
    ("a,b,y\n" + "1,nan,0\n" * 12, ["bad.csv", "nan"]),
    ("a,b,y\n" + "".join(f"{i},5,{i % 2}\n" for i in range(12)), ["bad.csv", "'b'", "constant"]),
    ("a,b,y\n" + "".join(f"{i},{i * i},{i % 3}\n" for i in range(12)), ["bad.csv", "{0, 1}"]),
    ("a,b,y\n" + "1,2\n" * 12, ["bad.csv", "wrong shape"]),
], ids=["nan", "constant feature", "labels", "shape"])
def test_bad_data_file_exit_2_nothing_written(tmp_path, capsys, content, words):
    src = tmp_path / "bad.csv"
    src.write_text(content)
    out = tmp_path / "rep"
    rc, _, err = _run(["findings", "--problem", str(src), "--loss", "logistic", *SMALL,
                       "--out", str(out)], capsys)
    assert rc == 2
    for w in words:
        assert w in err, (w, err)
    assert not out.exists() and os.listdir(tmp_path) == ["bad.csv"]


def test_existing_out_is_refused_before_running(tmp_path, capsys):
    out = tmp_path / "rep"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    rc, _, err = _run(["findings", *SMALL, "--out", str(out)], capsys)
    assert rc == 2 and "not empty" in err
    assert os.listdir(out) == ["keep.txt"]


def test_run_on_own_csv(tmp_path, capsys, csv_file):
    out = tmp_path / "rep"
    rc, stdout, err = _run(["findings", "--problem", csv_file, "--loss", "logistic",
                            "--format", "bf16", "--format", "e2m1", "--rounding",
                            "toward_zero", "--rounding", "stochastic", "--runs", "4",
                            "--steps", "20", "--batch", "8", "--seed", "5", "--out",
                            str(out)], capsys)
    assert rc in (0, 1), err
    assert "report written to" in stdout
    assert sorted(os.listdir(out)) == sorted(
        ["report.md", "report.html", "results.json", "findings_q.png", "findings_gaps.png",
         "findings_slowdown.png", "findings_floors.png"])
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["seed"] == 5 and res["problem"]["n"] == 120
    assert res["problem"]["d"] == 4            # 3 features + intercept
    assert {(c["format"], c["rounding"]) for c in res["configs"]} == {
        ("bfloat16", "toward_zero"), ("bfloat16", "stochastic"),
        ("float4_e2m1fn", "toward_zero"), ("float4_e2m1fn", "stochastic")}
    md = (out / "report.md").read_text()
    assert "--seed 5" in md and "findings_gaps.png" in md
    assert np.isfinite(res["eps"])


@pytest.mark.slow
def test_default_configuration_end_to_end(tmp_path, capsys):
    """The default run (breast cancer, 5 formats x 3 modes): every finding of the paper
    reproduced where its mechanism applies, no theorem bound violated."""
    out = tmp_path / "rep"
    rc, stdout, err = _run(["findings", "--no-progress", "--out", str(out)], capsys)
    assert rc == 0, stdout + err
    res = json.loads((out / "results.json").read_text())
    by = {(c["format"], c["rounding"]): c for c in res["configs"]}
    assert by[("float8_e5m2", "toward_zero")]["q_hat"] < by[("binary16", "toward_zero")]["q_hat"]
    assert all(c["status"] in ("holds",) for c in res["checks"]
               if c["name"].startswith(("Theorem 7", "Theorems 5/6")))


def test_run_with_scaled_formats(tmp_path, capsys, csv_file):
    """Scaled presets on the command line: each run, the report names the block scaling
    and the theorems that apply (Theorem 9 for rceil) or do not (floor)."""
    out = tmp_path / "rep"
    rc, stdout, err = _run(["findings", "--problem", csv_file, "--loss", "logistic",
                            "--format", "e2m1", "--format", "mxfp4_e2m1", "--format",
                            "mxfp4_e2m1_rceil", "--rounding", "toward_zero", "--rounding",
                            "stochastic", "--runs", "3", "--steps", "10", "--batch", "8",
                            "--seed", "2", "--no-progress", "--out", str(out)], capsys)
    assert rc in (0, 1), err
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["formats"] == ["float4_e2m1fn", "mxfp4_e2m1", "mxfp4_e2m1_rceil"]
    st = {c["name"]: c["status"] for c in res["checks"]}
    assert st["Theorem 9 mxfp4_e2m1 stochastic"] == "not applicable"
    assert st["Theorem 9 mxfp4_e2m1_rceil stochastic"] == "holds"
    assert "block scaling toward_zero float4_e2m1fn -> mxfp4_e2m1" in st
    md = (out / "report.md").read_text()
    assert "--format mxfp4_e2m1_rceil" in md and "Block scaling (float4_e2m1fn" in md
