"""`lpsgd bench` at a small size: the table, the peers it names, JSON, bad arguments."""

from __future__ import annotations

import json
import sys

import pytest

from lpsgd.cli import main

SMALL = ["bench", "--size", "300", "--repeat", "2", "--format", "binary16",
         "--rounding", "nearest_even", "--rounding", "up", "--reference-size", "5"]


def test_bench_prints_a_table_naming_measured_and_skipped_peers(capsys, tmp_path):
    out_file = tmp_path / "bench.json"
    assert main(SMALL + ["--json", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "x lpsgd.fast" in out and "min ns/elem" in out
    for impl in ("lpsgd.fast", "lpsgd.reference", "numpy astype(float16)"):
        assert impl in out
    measured = next(line for line in out.splitlines() if line.startswith("measured:"))
    data = json.loads(out_file.read_text())
    names = {s["name"] for s in data["bench"]["measured"]}
    skipped = {s["name"] for s in data["bench"]["skipped"]}
    assert names | skipped == {"numpy", "ml_dtypes", "pychop", "qtorch"}
    assert all(n in measured for n in names)
    assert all(f"skipped {n}:" in out for n in skipped)
    if "pychop" in names:  # pychop offers binary16 in both modes
        assert {r["rounding"] for r in data["bench"]["rows"]
                if r["implementation"] == "pychop"} == {"nearest_even", "up"}
    rows = data["bench"]["rows"]
    assert {r["format"] for r in rows} == {"binary16"}
    assert all(r["n"] == 300 for r in rows if r["implementation"] != "lpsgd.reference")


def test_bench_without_pychop_names_it_skipped(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pychop", None)
    assert main(SMALL + ["--peer", "pychop"]) == 0
    out = capsys.readouterr().out
    assert "skipped pychop: not installed" in out
    assert not [line for line in out.splitlines() if line.split()[2:3] == ["pychop"]]


def test_bench_check_prints_mismatch_counts(capsys):
    assert main(["bench", "--size", "100", "--repeat", "1", "--format", "binary16",
                 "--rounding", "nearest_even", "--peer", "numpy", "--reference-size", "0",
                 "--check"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("binary16")]
    assert [r[2] for r in rows] == ["lpsgd.fast", "numpy"]  # --reference-size 0: not timed
    line = next(line for line in out.splitlines() if line.startswith("numpy      binary16"))
    assert line.split()[-2:] == ["0", "-"]  # zero mismatches, no kinds


@pytest.mark.parametrize("args, message", [
    (["--size", "0"], "Expected --size >= 1 but got --size=0"),
    (["--size", "ten"], "Expected --size to be an integer but got --size='ten'"),
    (["--repeat", "-1"], "Expected --repeat >= 1 but got --repeat=-1"),
    (["--reference-size", "-2"], "Expected --reference-size >= 0"),
    (["--format", "fp17"], "Unknown format='fp17'"),
    (["--rounding", "nearest"], "Unknown --rounding='nearest'"),
    (["--peer", "torch"], "Unknown peer='torch'"),
])
def test_bench_bad_arguments(capsys, args, message):
    assert main(["bench"] + args) == 2
    assert message in capsys.readouterr().err
