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
    (["--format", "fp17"], "Unknown --format='fp17'"),
    (["--format", "fp8"], "Ambiguous --format='fp8': it could mean float8_e5m2"),
    (["--seed", "-1"], "Expected --seed >= 0 but got --seed=-1"),
    (["--rounding", "nearest"], "Unknown --rounding='nearest'"),
    (["--peer", "torch"], "Unknown peer='torch'"),
])
def test_bench_bad_arguments(capsys, args, message):
    assert main(["bench"] + args) == 2
    assert message in capsys.readouterr().err


# -- --json: checked before any timing, written atomically, never overwriting -------------

class _FakeTable:
    def text(self) -> str:
        return "fake table"

    def as_dict(self) -> dict:
        return {"rows": [], "fake": True}


@pytest.fixture
def no_benchmark(monkeypatch):
    """The benchmark must not run: calling it fails the test."""
    import lpsgd.peers

    def boom(**kwargs):
        raise AssertionError("the benchmark ran before --json was checked")

    monkeypatch.setattr(lpsgd.peers, "benchmark", boom)
    monkeypatch.setattr(lpsgd.peers, "check_peers", boom)


@pytest.fixture
def fake_benchmark(monkeypatch):
    """A benchmark returning at once; the keyword arguments of each call are recorded."""
    import lpsgd.peers

    calls = []

    def fake(**kwargs):
        calls.append(kwargs)
        hook = kwargs.get("progress")
        if hook is not None:
            hook("timing (fake)")
        for action in fake.during:
            action()
        return _FakeTable()

    fake.during = []
    fake.calls = calls
    monkeypatch.setattr(lpsgd.peers, "benchmark", fake)
    return fake


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("where", ["exists", "exists_empty", "is_folder", "missing_parent",
                                   "parent_is_a_file", "dangling_symlink", "empty"])
def test_json_destination_refused_before_timing(tmp_path, capsys, no_benchmark, where):
    (tmp_path / "old.json").write_text("keep me")
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "link.json").symlink_to(tmp_path / "nowhere")
    before = _listing(tmp_path)
    dest = {"exists": tmp_path / "old.json", "exists_empty": tmp_path / "empty.json",
            "is_folder": tmp_path / "folder", "missing_parent": tmp_path / "no" / "b.json",
            "parent_is_a_file": tmp_path / "a_file" / "b.json",
            "dangling_symlink": tmp_path / "link.json", "empty": ""}[where]
    assert main(SMALL + ["--json", str(dest)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    shown = repr(str(dest)) if where != "empty" else "''"
    assert captured.err.startswith("lpsgd bench: error: ")
    assert f"--json={shown}" in captured.err
    reason = {"exists": "which exists", "exists_empty": "which exists",
              "is_folder": "which is a folder", "missing_parent": "is not a folder",
              "parent_is_a_file": "is not a folder", "dangling_symlink": "which exists",
              "empty": "to be a file name"}[where]
    assert reason in captured.err
    assert _listing(tmp_path) == before
    assert (tmp_path / "old.json").read_text() == "keep me"
    assert _listing(tmp_path / "folder") == []


def test_json_in_an_unwritable_folder_refused_before_timing(tmp_path, capsys, no_benchmark,
                                                           monkeypatch):
    import errno
    import os
    import tempfile

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):  # e.g. as root, where permissions are not enforced
        real = tempfile.mkstemp

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and os.path.samefile(dir, locked):
                raise PermissionError(errno.EACCES, "Permission denied")
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        assert main(SMALL + ["--json", str(locked / "b.json")]) == 2
        err = capsys.readouterr().err
        assert f"Cannot write --json={str(locked / 'b.json')!r}" in err
        assert _listing(locked) == []
    finally:
        locked.chmod(0o700)


def test_json_refusal_comes_before_the_check_too(tmp_path, capsys, no_benchmark):
    (tmp_path / "old.json").write_text("keep me")
    assert main(SMALL + ["--check", "--json", str(tmp_path / "old.json")]) == 2
    assert "which exists" in capsys.readouterr().err


def test_json_written_whole_with_no_temporary_left(tmp_path, capsys, fake_benchmark):
    import os

    dest = tmp_path / "bench.json"
    assert main(SMALL + ["--json", str(dest)]) == 0
    assert capsys.readouterr().out.strip() == "fake table"
    assert json.loads(dest.read_text()) == {"bench": {"rows": [], "fake": True}}
    assert _listing(tmp_path) == ["bench.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's 0600


def test_json_without_hard_links_uses_an_exclusive_create(tmp_path, capsys, fake_benchmark,
                                                          monkeypatch):
    import errno
    import os

    def no_link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    dest = tmp_path / "bench.json"
    assert main(SMALL + ["--json", str(dest)]) == 0
    assert json.loads(dest.read_text())["bench"]["fake"] is True
    assert _listing(tmp_path) == ["bench.json"]


@pytest.mark.parametrize("links", [True, False], ids=["link", "exclusive_create"])
def test_json_appearing_during_the_run_is_not_overwritten(tmp_path, capsys, fake_benchmark,
                                                          monkeypatch, links):
    import errno
    import os

    if not links:
        def no_link(src, dst):
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_link)
    dest = tmp_path / "bench.json"
    fake_benchmark.during.append(lambda: dest.write_text("someone else's"))
    assert main(SMALL + ["--json", str(dest)]) == 2
    err = capsys.readouterr().err
    assert f"--json={str(dest)!r} was created by something else during the run" in err
    assert dest.read_text() == "someone else's"
    kept = [p for p in tmp_path.iterdir() if p.name != "bench.json"]
    assert len(kept) == 1 and repr(str(kept[0])) in err  # the output is not lost
    assert json.loads(kept[0].read_text())["bench"]["fake"] is True


def test_formats_reach_the_benchmark_resolved(capsys, fake_benchmark):
    from lpsgd.formats import PRESETS, Format

    assert main(["bench", "--format", "fp16", "--format", "e4m3:fn", "--format",
                 "e5m7:nosub", "--seed", "5", "--size", "10", "--repeat", "2",
                 "--reference-size", "3"]) == 0
    (call,) = fake_benchmark.calls
    assert call["formats"] == [PRESETS["binary16"], PRESETS["float8_e4m3fn"],
                               Format(5, 7, subnormals=False)]
    assert (call["seed"], call["size"], call["repeat"], call["reference_size"]) == (5, 10, 2, 3)
    assert main(["bench", "--size", "2"]) == 0
    assert fake_benchmark.calls[-1]["formats"] is None  # the default set
    assert fake_benchmark.calls[-1]["reference_size"] == 2  # never more than --size


def test_bench_times_a_custom_format(capsys):
    assert main(["bench", "--size", "50", "--repeat", "1", "--format", "e5m7:nosub",
                 "--rounding", "nearest_even", "--peer", "numpy", "--reference-size",
                 "5"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith("e5m7_nosub")]
    assert [r[2] for r in rows] == ["lpsgd.fast", "lpsgd.reference"]  # no peer offers it
