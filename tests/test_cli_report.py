"""`lpsgd report` and `lpsgd verify` through the command line entry point (lpsgd.cli.main).

Bad input must give exit status 2, a message naming the argument and its value, and write
nothing.  The suite is a tiny fake one (the hidden --suite-dir option), and the hidden
--sweeps option (empty here) skips the sweeps so these tests stay fast.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from lpsgd.cli import main

PASSING = '''
from hypothesis import given, strategies as st
from lpsgd import record


@given(st.integers(0, 3))
def test_prop_small(n):
    record.observe("test_prop_small", n, 3)


def test_mutant_any():
    record.mutant("any", True, {"n": 4})
'''

FAILING = '''
def test_prop_broken():
    assert 1 + 1 == 3
'''


def _suite(tmp_path: Path, *, failing: bool = False) -> Path:
    token = uuid.uuid4().hex[:10]
    suite = tmp_path / f"suite_{token}"
    suite.mkdir()
    (suite / f"test_clifake_{token}.py").write_text(PASSING)
    if failing:
        (suite / f"test_clifail_{token}.py").write_text(FAILING)
    return suite


def test_report_exit_zero_and_files(tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(["report", "--profile", "dev", "--seed", "3", "--out", str(out),
                 "--suite-dir", str(_suite(tmp_path)), "--sweeps", "", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith("PASS: 1/1 properties hold, 1/1 mutants refuted")
    data = json.loads((out / "results.json").read_text())
    assert data["command"] == f"lpsgd report --profile dev --seed 3 --out {out}"
    assert data["ok"] is True


def test_report_exit_one_on_failure(tmp_path, capsys):
    out = tmp_path / "rep"
    code = main(["report", "--out", str(out), "--suite-dir", str(_suite(tmp_path, failing=True)),
                 "--sweeps", "", "--no-progress"])
    assert code == 1
    assert capsys.readouterr().out.startswith("FAIL: 1/2 properties hold")
    assert (out / "report.html").is_file()  # a failing run still writes its report


@pytest.mark.parametrize("command", ["report", "verify"])
def test_workers_one_and_two_agree(tmp_path, capsys, command):
    """--workers 1 (in-process) and --workers 2 (pytest-xdist) print the same verdict and,
    for report, write the same properties and mutants."""
    pytest.importorskip("xdist")
    suite = _suite(tmp_path, failing=True)
    lines, docs = [], []
    for workers in ("1", "2"):
        out = tmp_path / f"rep{workers}"
        extra = ["--out", str(out), "--sweeps", ""] if command == "report" else []
        code = main([command, "--profile", "dev", "--seed", "4", "--workers", workers,
                     "--suite-dir", str(suite), "--no-progress", *extra])
        assert code == 1
        lines.append(re.sub(r" in [\d.]+s", "", capsys.readouterr().out).replace(str(out), "OUT"))
        if command == "report":
            data = json.loads((out / "results.json").read_text())
            docs.append([[{k: v for k, v in p.items() if k != "duration"} for p in data[key]]
                         for key in ("properties", "mutants")])
    assert lines[0] == lines[1] and lines[0].startswith("FAIL: 1/2 properties hold")
    assert docs[:1] == docs[1:]


def test_verify_one_line_and_exit_status(tmp_path, capsys):
    assert main(["verify", "--suite-dir", str(_suite(tmp_path)), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("PASS: 1/1 properties hold")
    assert main(["verify", "--suite-dir", str(_suite(tmp_path, failing=True)),
                 "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL") and "failing: test_prop_broken" in out
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("suite_")) == []


@pytest.mark.parametrize(("argv", "message"), [
    (["--profile", "nightly"], "Unknown profile='nightly'; valid values are: ci, dev, thorough"),
    (["--profile", "thorogh"], "Did you mean 'thorough'?"),
    (["--seed", "abc"], "Expected --seed to be an integer but got --seed='abc'"),
    (["--seed", "1.5"], "Expected --seed to be an integer but got --seed='1.5'"),
    (["--seed", "-2"], "Expected --seed >= 0 but got --seed=-2"),
    (["--seed", str(2**64)], f"Expected --seed <= {2**64 - 1} but got --seed={2**64}"),
    (["--workers", "0"], "Expected --workers >= 1 but got --workers=0"),
    (["--workers", "two"], "Expected --workers to be an integer or 'auto' but got "
                           "--workers='two'"),
    (["--workers", "1.5"], "Expected --workers to be an integer or 'auto' but got "
                           "--workers='1.5'"),
])
@pytest.mark.parametrize("command", ["report", "verify"])
def test_bad_options_exit_two_and_write_nothing(tmp_path, monkeypatch, capsys, argv, message,
                                                 command):
    monkeypatch.chdir(tmp_path)  # the default report folder would go to ./reports
    extra = ["--out", str(tmp_path / "rep")] if command == "report" else []
    code = main([command, *argv, *extra, "--suite-dir", str(_suite(tmp_path)),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.startswith(f"lpsgd {command}: error:")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("suite_")) == []


@pytest.mark.parametrize("where", ["under_a_file", "missing_parent", "not_empty"])
def test_unwritable_out_exit_two_and_write_nothing(tmp_path, capsys, where):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.txt").write_text("old")
    out = {"under_a_file": blocker / "rep", "missing_parent": tmp_path / "no" / "rep",
           "not_empty": full}[where]
    code = main(["report", "--out", str(out), "--suite-dir", str(_suite(tmp_path)),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"--out={str(out)!r}" in err
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("suite_")) == \
        ["a_file", "full"]
    assert [p.name for p in full.iterdir()] == ["old.txt"]


def test_help_explains_profiles(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    from lpsgd.profiles import EXAMPLES

    for name, n in EXAMPLES.items():
        assert f"{name}" in out and f"max {n} examples" in out
    assert "--seed" in out and "--out" in out and "--suite-dir" not in out
    assert "--workers N|auto" in out
    assert "Examples:" in out and "lpsgd report --profile dev --seed 7" in out
