"""The report machinery on a tiny fake property suite written into tmp_path.

The fake suite has properties that hold, one that fails, a parametrized one, a skipped one,
and two mutant tests (one refuted, one not), so every branch of the summary is exercised.
Module names carry a random token: pytest imports test files by basename, and two fake
suites (or the real properties/) must not collide in sys.modules.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import signal
import uuid
from pathlib import Path

import pytest

from lpsgd.errors import InvalidArgument
from lpsgd.report import generate, run_suite, validate_results
from lpsgd.report import sweeps as sweep_mod
from lpsgd.report.output import check_destination, default_report_dir, staging
from lpsgd.report.results import _counterexample, summarize_suite

PROPS = '''
import pytest
from hypothesis import given, strategies as st
from lpsgd import record


@given(st.floats(0, 1))
def test_prop_half(x):
    record.observe("test_prop_half", x / 2, 1.0, x=x)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_prop_param(k):
    record.observe("test_prop_param", k, 4, k=k)


def test_prop_skipped():
    pytest.skip("peer not installed")
'''

FAILING = '''
from hypothesis import given, strategies as st
from lpsgd import record


@given(st.integers(0, 10))
def test_prop_fails(n):
    record.observe("test_prop_fails", n, 5, n=n)
    assert n <= 5
'''

MUTANTS = '''
from lpsgd import record


def test_mutant_rate():
    record.mutant("rate", True, {"q_min": 0.25})


def test_mutant_registry_ok():
    assert True  # a check of the suite itself: records no mutant
'''

UNREFUTED = '''
from lpsgd import record


def test_mutant_floor():
    record.mutant("floor", False, None)
    assert False, "mutant floor not refuted"
'''


SEEDED = '''
from hypothesis import given, strategies as st
from lpsgd import record


@given(st.floats(0, 1))
def test_prop_seeded(x):
    record.observe("test_prop_seeded", (x * 1e6) % 1.0, 1.0, x=x)
'''


def _write_suite(root: Path, *, failing: bool) -> Path:
    token = uuid.uuid4().hex[:10]
    suite = root / f"suite_{token}"
    suite.mkdir()
    (suite / f"test_fakeprop_{token}.py").write_text(PROPS)
    (suite / f"test_fakemut_{token}.py").write_text(MUTANTS)
    if failing:
        (suite / f"test_fakefail_{token}.py").write_text(FAILING)
        (suite / f"test_fakeunref_{token}.py").write_text(UNREFUTED)
    return suite


@pytest.fixture
def failing_suite(tmp_path: Path) -> Path:
    return _write_suite(tmp_path, failing=True)


@pytest.fixture
def passing_suite(tmp_path: Path) -> Path:
    return _write_suite(tmp_path, failing=False)


def _tiny_sweep(*, profile, seed, outdir):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    fig.subplots().plot([1, 2, 3], [3, 1, 2])
    fig.savefig(outdir / "tiny.png", dpi=40)
    return {"title": "Tiny", "status": "ok", "images": ["tiny.png"], "caption": "a plot",
            "data": {"profile": profile, "seed": seed}}


@pytest.fixture
def tiny_sweeps(monkeypatch):
    monkeypatch.setattr(sweep_mod, "SWEEPS", {"tiny": _tiny_sweep})


def _pytest_counts(summary: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)",
                                                   summary)}


def _logged_examples(log: str, test: str) -> int:
    """passing + failing test cases outside the shrink phase, from the statistics block
    pytest --hypothesis-show-statistics printed for ``test``."""
    block = log.split(f"::{test}:\n", 1)[1].split("\n\n\n", 1)[0]
    total = 0
    for phase, body in re.findall(r"during (\w+) phase.*?\n(.*?)(?=\n  - |\Z)", block, re.S):
        m = re.search(r"(\d+) passing, (\d+) failing", body)
        if phase != "shrink" and m:
            total += int(m.group(1)) + int(m.group(2))
    return total


class _Images(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.src: list[str] = []
        self.href: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.src.append(a["src"])
        if tag == "a" and "href" in a:
            self.href.append(a["href"])


def test_report_folder_is_complete_and_matches_pytest(failing_suite, tmp_path, tiny_sweeps):
    out = tmp_path / "report"
    rep = generate("dev", 7, out, suite_dir=failing_suite, progress=False)
    assert rep.path == out
    for name in ("report.md", "report.html", "results.json", "pytest.log", "tiny.png"):
        assert (out / name).is_file(), name
    data = json.loads((out / "results.json").read_text())
    validate_results(data)
    assert data["schema"] == "lpsgd.report/1"
    assert (data["profile"], data["seed"]) == ("dev", 7)
    assert data["ok"] is False and rep.ok is False

    props = {p["name"]: p for p in data["properties"]}
    assert set(props) == {"test_prop_half", "test_prop_param", "test_prop_fails",
                          "test_mutant_registry_ok"}
    assert props["test_prop_half"]["status"] == "pass"
    assert props["test_prop_param"]["status"] == "pass"
    assert props["test_prop_param"]["tests"] == 3
    assert props["test_prop_param"]["worst_ratio"] == 0.75  # k/4 at k = 3
    fails = props["test_prop_fails"]
    assert fails["status"] == "fail"
    assert fails["worst_ratio"] >= 6 / 5  # a value above 5 was observed
    # the failing assertion of the shrunk example, as pytest reports it (n = 6 <= 5)
    assert fails["counterexample"] == "assert 6 <= 5"
    assert [s["name"] for s in data["skipped"]] == ["test_prop_skipped"]
    # Hypothesis ran 25 examples (dev profile) of the passing @given property
    assert props["test_prop_half"]["examples"] == 25

    muts = {m["name"]: m for m in data["mutants"]}
    assert set(muts) == {"rate", "floor"}
    assert muts["rate"]["refuted"] is True
    assert muts["rate"]["counterexample"] == {"q_min": 0.25}
    assert muts["floor"]["refuted"] is False

    # the numbers match pytest's own summary line, which is in pytest.log
    log = (out / "pytest.log").read_text()
    assert data["pytest"]["summary"] in log
    want = _pytest_counts(data["pytest"]["summary"])
    got = data["pytest"]["counts"]
    assert want == {k: v for k, v in {"passed": got["passed"], "failed": got["failed"],
                                      "skipped": got["skipped"]}.items() if v}
    assert sum(p["tests"] for p in data["properties"]) + len(data["skipped"]) \
        + len(data["mutants"]) == sum(want.values())

    # the example counts are Hypothesis' own statistics, printed into pytest.log
    for name in ("test_prop_half", "test_prop_fails"):
        assert props[name]["examples"] == _logged_examples(log, name)

    # both renderings carry the table rows
    md = (out / "report.md").read_text()
    # property, status, examples, worst ratio (any regime), non-trivial regime, seconds
    assert re.search(r"\| test_prop_fails \| fail \| \d+ \| [\d.]+ \| n/a \| [\d.]+ \|", md)
    assert "| floor | NO |" in md
    assert "lpsgd report --profile dev --seed 7" in md


def test_every_image_and_link_in_html_exists(passing_suite, tmp_path, tiny_sweeps):
    out = tmp_path / "r"
    generate("ci", 0, out, suite_dir=passing_suite, progress=False)
    parser = _Images()
    parser.feed((out / "report.html").read_text())
    assert parser.src == ["tiny.png"]
    anchors = [h for h in parser.href if h.startswith("#")]
    assert anchors and all(h[1:] in parser.ids for h in anchors)
    for ref in parser.src + [h for h in parser.href if not h.startswith("#")]:
        assert not os.path.isabs(ref)
        path = out / ref
        assert path.is_file(), ref
    assert (out / "tiny.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_passing_suite_gives_ok(passing_suite, tmp_path, tiny_sweeps):
    rep = generate("ci", 3, tmp_path / "r", suite_dir=passing_suite, progress=False)
    assert rep.ok
    assert rep.results["pytest"]["counts"]["failed"] == 0


def test_broken_sweep_is_reported_and_fails_the_run(passing_suite, tmp_path, monkeypatch):
    def broken(*, profile, seed, outdir):
        raise RuntimeError("boom")

    monkeypatch.setattr(sweep_mod, "SWEEPS", {"broken": broken})
    rep = generate("ci", 0, tmp_path / "r", suite_dir=passing_suite, progress=False)
    (sweep,) = rep.results["sweeps"]
    assert sweep["status"] == "error" and "RuntimeError: boom" in sweep["note"]
    assert not rep.ok
    assert "boom" in (tmp_path / "r" / "report.html").read_text()


def test_interrupted_run_leaves_nothing(passing_suite, tmp_path, monkeypatch):
    def interrupted(*, profile, seed, outdir):
        (outdir / "half.png").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_mod, "SWEEPS", {"interrupted": interrupted})
    parent = tmp_path / "reports"
    parent.mkdir()
    with pytest.raises(KeyboardInterrupt):
        generate("ci", 0, parent / "r", suite_dir=passing_suite, progress=False)
    assert list(parent.iterdir()) == []


def test_sigterm_while_staging_removes_the_partial_folder(tmp_path):
    dest = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        with staging(dest) as tmp:
            (tmp / "report.md").write_text("half")
            os.kill(os.getpid(), signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is not None  # our handler was removed again


def test_existing_report_is_never_overwritten(passing_suite, tmp_path, tiny_sweeps):
    out = tmp_path / "r"
    out.mkdir()
    (out / "report.md").write_text("earlier report")
    with pytest.raises(InvalidArgument, match="--out=.*not empty"):
        generate("ci", 0, out, suite_dir=passing_suite, progress=False)
    assert [p.name for p in out.iterdir()] == ["report.md"]
    assert (out / "report.md").read_text() == "earlier report"


def test_empty_existing_folder_is_accepted(passing_suite, tmp_path, tiny_sweeps):
    out = tmp_path / "r"
    out.mkdir()
    generate("ci", 0, out, suite_dir=passing_suite, progress=False)
    assert (out / "results.json").is_file()


def test_default_folder_names_never_collide(passing_suite, tmp_path, tiny_sweeps):
    a = generate("ci", 4, suite_dir=passing_suite, progress=False, base=tmp_path / "reports")
    b = generate("ci", 4, suite_dir=passing_suite, progress=False, base=tmp_path / "reports")
    assert a.path != b.path
    assert a.path.parent == b.path.parent == tmp_path / "reports"
    assert re.fullmatch(r"\d{8}T\d{6}Z-ci-seed4(-\d+)?", a.path.name)
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(
        [a.path.name, b.path.name])


def test_default_report_dir_appends_a_counter(tmp_path):
    import datetime as dt

    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    first = default_report_dir("dev", 9, base=tmp_path, now=now)
    assert first.name == "20260102T030405Z-dev-seed9"
    first.mkdir()
    assert default_report_dir("dev", 9, base=tmp_path, now=now).name == \
        "20260102T030405Z-dev-seed9-2"


@pytest.mark.parametrize("bad", ["file", "missing_parent"])
def test_unwritable_destination(tmp_path, bad):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    dest = blocker / "r" if bad == "file" else tmp_path / "no" / "such" / "r"
    with pytest.raises(InvalidArgument, match=re.escape(f"--out={str(dest)!r}")):
        check_destination(dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.parametrize(("profile", "seed", "match"), [
    ("nightly", 0, "Unknown profile='nightly'"),
    ("thorogh", 0, "Did you mean 'thorough'"),
    ("ci", -1, "Expected seed >= 0 but got seed=-1"),
    ("ci", 1.5, "Expected seed to be an integer but got seed=1.5"),
    ("ci", True, "Expected seed to be an integer but got seed=True"),
])
def test_generate_rejects_bad_options(tmp_path, profile, seed, match):
    with pytest.raises(InvalidArgument, match=re.escape(match)):
        generate(profile, seed, tmp_path / "r", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unknown_sweep_name_is_rejected(tmp_path):
    with pytest.raises(InvalidArgument, match="Unknown sweep='plots'"):
        generate("ci", 0, tmp_path / "r", progress=False, sweeps=["plots"])
    assert list(tmp_path.iterdir()) == []


def test_run_suite_restores_hypothesis_profile(passing_suite):
    """The caller's profile is loaded again after the run (a --hypothesis-seed of a
    randomized profile stays in force: Hypothesis has no public way to unset it, and the
    next randomized run passes its own)."""
    from hypothesis import settings

    before = settings.get_current_profile_name()
    result = run_suite("dev", 11, suite_dir=passing_suite, progress=False)
    assert "--hypothesis-seed=11" in result.args  # dev is randomized: the seed is passed
    assert settings.get_current_profile_name() == before
    again = run_suite("dev", 12, suite_dir=passing_suite, progress=False)
    assert "--hypothesis-seed=12" in again.args and settings.get_current_profile_name() == before


def test_ci_profile_is_derandomized_so_no_seed_is_passed(passing_suite):
    result = run_suite("ci", 11, suite_dir=passing_suite, progress=False)
    assert not any(a.startswith("--hypothesis-seed") for a in result.args)
    assert "--hypothesis-profile=lpsgd-ci" in result.args  # lpsgd registers its own names


def test_collection_error_fails_the_suite(tmp_path):
    suite = _write_suite(tmp_path, failing=False)
    (suite / f"test_fakebroken_{uuid.uuid4().hex[:10]}.py").write_text("import no_such_mod\n")
    result = run_suite("ci", 0, suite_dir=suite, progress=False)
    assert len(result.collection_errors) == 1
    assert result.counts()["error"] == 1
    # the other files still ran
    assert summarize_suite(result)["properties"]


# -- results.json schema -------------------------------------------------------------------
def _minimal() -> dict:
    return {"schema": "lpsgd.report/1", "commit": "unknown", "profile": "ci", "seed": 0,
            "properties": [{"name": "p", "status": "pass", "examples": 3, "worst_ratio": 0.5,
                            "counterexample": None}],
            "mutants": [{"name": "m", "refuted": True, "counterexample": {"k": 1}}]}


def test_validate_accepts_the_minimal_document():
    validate_results(_minimal())


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d.pop("commit"), r"results\['commit'\] to exist"),
    (lambda d: d.update(schema="lpsgd.report/0"), "lpsgd.report/1"),
    (lambda d: d.update(seed="0"), r"results\['seed'\] to be int"),
    (lambda d: d["properties"][0].update(status="ok"), "status"),
    (lambda d: d["properties"][0].pop("examples"), "examples"),
    (lambda d: d["mutants"][0].update(refuted="yes"), "refuted"),
    (lambda d: d["mutants"][0].pop("counterexample"), "counterexample"),
])
def test_validate_rejects_broken_documents(edit, match):
    d = _minimal()
    edit(d)
    with pytest.raises(InvalidArgument, match=match):
        validate_results(d)


def test_counterexample_extraction():
    longrepr = ("    def test_x(n):\n>       assert n <= 5\nE       assert 6 <= 5\n"
                "E       Falsifying example: test_x(\nE           n=6,\nE       )\n")
    # only the exception pytest reports is read, not Hypothesis' printed example
    assert _counterexample(longrepr) == "assert 6 <= 5"
    shaped = ("E       AssertionError: test_p: observed 2 > bound 1 at k=3\n"
              "E       Mismatched: 1 of 4\nE       ACTUAL: 2\nE       DESIRED: <= 1\n"
              "E       further text\n")
    assert _counterexample(shaped) == ("test_p: observed 2 > bound 1 at k=3 | Mismatched: 1 "
                                       "of 4 | ACTUAL: 2 | DESIRED: <= 1")
    assert _counterexample("") is None


def test_values_equal_distinguishes_signed_zero_and_matches_nan():
    import numpy as np

    a = np.array([0.0, -0.0, np.nan, 1.0, np.inf])
    b = np.array([-0.0, -0.0, np.nan, 1.0, np.inf])
    assert sweep_mod.values_equal(a, b).tolist() == [False, True, True, True, True]
    # the sign of a NaN is part of the result (lpsgd.bitwise's rule)
    assert not sweep_mod.values_equal(np.array([np.nan]), np.array([-np.nan]))[0]


def test_commit_is_unknown_outside_a_git_checkout(tmp_path):
    from lpsgd.report.results import git_commit, git_dirty

    assert git_commit(tmp_path) == "unknown"
    assert git_dirty(tmp_path) is None


def test_commit_of_this_checkout_is_a_full_hash():
    from lpsgd.report.results import git_commit
    from lpsgd.report.suite import checkout_root

    root = checkout_root()
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    assert re.fullmatch(r"[0-9a-f]{40}", git_commit(root))


def test_interrupt_inside_the_suite_leaves_nothing(tmp_path, tiny_sweeps):
    suite = _write_suite(tmp_path, failing=False)
    (suite / f"test_fakeint_{uuid.uuid4().hex[:10]}.py").write_text(
        "def test_prop_ctrl_c():\n    raise KeyboardInterrupt\n")
    parent = tmp_path / "reports"
    parent.mkdir()
    with pytest.raises(KeyboardInterrupt):
        generate("ci", 0, parent / "r", suite_dir=suite, progress=False)
    assert list(parent.iterdir()) == []


def test_html_escapes_counterexamples_and_md_escapes_pipes():
    from lpsgd.report.render import render_html, render_markdown

    d = _minimal()
    d["ok"] = False
    d["properties"][0].update(status="fail", counterexample="x < y | <script>alert(1)</script>")
    d["mutants"][0].update(refuted=False, counterexample=None, note="test failed: a > b")
    d.update(pytest={"args": ["properties"], "summary": "1 failed in 0.1s", "counts": {},
                     "collection_errors": []},
             versions={"python": "3.11"}, command="lpsgd report", timings={"total": 1.0},
             conformance=None, sweeps=[])
    page = render_html(d)
    assert "<script>" not in page and "&lt;script&gt;" in page
    md = render_markdown(d)
    assert "x < y \\| <script>" in md  # a pipe would break the Markdown table
    assert "| m | NO | 0.0 | test failed: a > b |" in md


def test_same_seed_same_results(passing_suite, tmp_path, tiny_sweeps):
    """A randomized profile with the same --seed reproduces every number but the times."""
    def numbers(rep):
        strip = ("duration",)
        return ([{k: v for k, v in p.items() if k not in strip}
                 for p in rep.results["properties"]],
                [{k: v for k, v in m.items() if k not in strip} for m in rep.results["mutants"]])

    # The worst x/2 of test_prop_half is often x = 1, the bound Hypothesis tries (and one
    # of the constants it draws from lpsgd's source) under any seed; the fractional part of
    # a scaled draw peaks at a value only the seed decides.
    (passing_suite / f"test_fakeseed_{uuid.uuid4().hex[:10]}.py").write_text(SEEDED)
    a = generate("dev", 123, tmp_path / "a", suite_dir=passing_suite, progress=False)
    b = generate("dev", 123, tmp_path / "b", suite_dir=passing_suite, progress=False)
    c = generate("dev", 124, tmp_path / "c", suite_dir=passing_suite, progress=False)
    assert numbers(a) == numbers(b)
    assert numbers(a) != numbers(c)  # the seed reaches Hypothesis


def test_sweep_data_with_nan_and_numpy_values_is_written(passing_suite, tmp_path, monkeypatch):
    import numpy as np

    def odd_values(*, profile, seed, outdir):
        return {"title": "Odd", "status": "ok",
                "data": {"nan": float("nan"), "inf": np.float64("inf"), "n": np.int64(3),
                         "arr": np.array([1.5, np.nan])}}

    monkeypatch.setattr(sweep_mod, "SWEEPS", {"odd": odd_values})
    out = tmp_path / "r"
    generate("ci", 0, out, suite_dir=passing_suite, progress=False)
    data = json.loads((out / "results.json").read_text())["sweeps"][0]["data"]
    assert data == {"nan": "nan", "inf": "inf", "n": 3, "arr": [1.5, "nan"]}


def test_run_suite_leaves_the_callers_record_alone(passing_suite):
    from lpsgd import record

    record.observe("caller_property", 1.0, 4.0)
    try:
        result = run_suite("ci", 0, suite_dir=passing_suite, progress=False)
        assert "caller_property" not in result.record["properties"]
        assert "test_prop_half" in result.record["properties"]
        after = record.snapshot()["properties"]
        assert after["caller_property"]["worst_ratio"] == 0.25
        assert "test_prop_half" not in after
    finally:
        record.reset()


def test_reports_do_not_quote_machine_folders():
    """Counterexamples and pytest.log name source files; a shared report must not carry
    this machine's folders (checkout, installation prefixes)."""
    import sysconfig

    from lpsgd.report.generate import json_ready, scrub_paths
    from lpsgd.report.suite import checkout_root

    root = str(checkout_root())
    purelib = sysconfig.get_paths()["purelib"]
    text = (f"{root}/properties/test_prop_theorems.py:57\n"
            f"{purelib}/mpmath/libmp/libmpf.py:1280")
    assert scrub_paths(text) == ("./properties/test_prop_theorems.py:57\n"
                                 "<site-packages>/mpmath/libmp/libmpf.py:1280")
    assert json_ready({"counterexample": [text]}) == {"counterexample": [scrub_paths(text)]}
    assert scrub_paths(f"pytest --rootdir {root} -q") == "pytest --rootdir . -q"


# -- pytest-xdist workers ------------------------------------------------------------------
def _comparable(result):
    """A suite run without what may differ between runs: durations, pytest's log and the
    command line (which names the workers)."""
    return ([dict(vars(o), duration=0.0) for o in result.outcomes], result.collection_errors,
            result.record, result.counts(), result.exit_code)


@pytest.mark.parametrize("profile", ["dev", "ci"])
def test_workers_give_the_same_suite_result(failing_suite, profile):
    """Two pytest-xdist workers collect the same outcomes, example counts and record
    (worst ratios, their contexts, mutants) as one in-process run."""
    pytest.importorskip("xdist")
    one = run_suite(profile, 5, suite_dir=failing_suite, progress=False, workers=1)
    two = run_suite(profile, 5, suite_dir=failing_suite, progress=False, workers=2)
    assert "-n" not in one.args and two.args[two.args.index("-n") + 1] == "2"
    if profile == "dev":  # the seed reaches the workers with the command line
        assert "--hypothesis-seed=5" in two.args
    assert _comparable(one) == _comparable(two)
    assert list(one.record["properties"]) == list(two.record["properties"])
    assert list(one.record["mutants"]) == list(two.record["mutants"])
    examples = {o.name: o.examples for o in two.outcomes}
    assert examples["test_prop_half"] == (25 if profile == "dev" else 60)
    assert examples["test_prop_fails"] > 0
    failed = next(o for o in two.outcomes if o.name == "test_prop_fails")
    assert "[gw" not in failed.longrepr  # no worker line: the text is the in-process one
    # the log is pytest's terminal output on the controller, statistics included
    assert two.pytest_summary == _pytest_summary_of(two.log)
    assert _logged_examples(two.log, "test_prop_half") == examples["test_prop_half"]


def _pytest_summary_of(log: str) -> str:
    from lpsgd.report.suite import _last_summary

    return _last_summary(log)


def test_every_lpsgd_module_is_loaded_before_the_tests():
    """Hypothesis draws from the constants of the local modules loaded when it generates:
    with all of lpsgd loaded first, a test generates the same examples in any process."""
    import pkgutil
    import sys

    import lpsgd
    from lpsgd.report.plugin import load_lpsgd

    failed = load_lpsgd()
    names = [m.name for m in pkgutil.walk_packages(lpsgd.__path__, "lpsgd.")]
    assert "lpsgd.report.sweeps" in names
    assert all(n in sys.modules for n in names if n not in failed)


def test_workers_report_collection_errors_once(tmp_path):
    pytest.importorskip("xdist")
    suite = _write_suite(tmp_path, failing=False)
    (suite / f"test_fakebroken_{uuid.uuid4().hex[:10]}.py").write_text("import no_such_mod\n")
    result = run_suite("ci", 0, suite_dir=suite, progress=False, workers=2)
    assert len(result.collection_errors) == 1 and result.counts()["error"] == 1
    assert summarize_suite(result)["properties"]


def test_progress_bar_advances_per_test_on_workers(passing_suite, monkeypatch):
    pytest.importorskip("xdist")
    import tqdm

    bars = []

    class Bar:
        def __init__(self, total, **kwargs):
            self.total, self.n = total, 0
            bars.append(self)

        def set_postfix_str(self, *args, **kwargs):
            pass

        def update(self, n):
            self.n += n

        def close(self):
            pass

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    result = run_suite("ci", 0, suite_dir=passing_suite, progress=True, workers=2)
    (bar,) = bars
    assert bar.total == bar.n == len(result.outcomes) == 7


@pytest.mark.parametrize(("workers", "match"), [
    (0, "Expected workers >= 1 but got workers=0"),
    ("two", "Expected workers to be an integer or 'auto' but got workers='two'"),
    (1.5, "Expected workers to be an integer or 'auto' but got workers=1.5"),
    (True, "Expected workers to be an integer or 'auto' but got workers=True"),
])
def test_bad_workers_are_rejected_before_any_work(tmp_path, workers, match):
    with pytest.raises(InvalidArgument, match=re.escape(match)):
        generate("ci", 0, tmp_path / "r", progress=False, workers=workers)
    with pytest.raises(InvalidArgument, match=re.escape(match)):
        run_suite("ci", 0, suite_dir=tmp_path, progress=False, workers=workers)
    assert list(tmp_path.iterdir()) == []


def test_auto_workers_is_one_per_cpu(monkeypatch):
    from lpsgd.report import suite

    monkeypatch.setattr(suite, "cpu_count", lambda: 3)
    assert suite.resolve_workers("auto") == (3 if suite._have_xdist() else 1)
    assert suite.resolve_workers(" AUTO ") == suite.resolve_workers("auto")
    monkeypatch.setattr(suite, "cpu_count", lambda: 1)
    assert suite.resolve_workers("auto") == 1  # one CPU: in this process
    monkeypatch.setattr(suite, "_have_xdist", lambda: False)
    monkeypatch.setattr(suite, "cpu_count", lambda: 4)
    assert suite.resolve_workers("auto") == 1
    with pytest.raises(InvalidArgument, match=r"pytest-xdist to be installed .*workers=2"):
        suite.resolve_workers(2)


# -- lpsgd.record.merge --------------------------------------------------------------------
_TESTS = [  # (test position, [observations (name, observed, bound, context)], mutants)
    (0, [("p", 1, 4, {"at": 0}), ("q", 1, 0, {"at": 0})], [("m", True, "first")]),
    (1, [("p", 2, 4, {"at": 1}), ("r", float("nan"), 1, {"at": 1})], []),
    (2, [("p", 2, 4, {"at": 2}), ("q", 0, 1, {"at": 2})], [("m", False, None), ("n", True, 1)]),
    (3, [("s", 3, 4, {"at": 3}), ("p", 1, 8, {"at": 3})], [("m", True, "last")]),
    (4, [("p", 2, 4, {"at": 4}), ("s", 3, 4, {"at": 4}), ("r", 1, 2, {"at": 4})], []),
]


def _record(tests, *, sequence: bool):
    from lpsgd import record

    record.reset()
    try:
        for position, observations, muts in tests:
            if sequence:
                record.set_sequence(position)
            for name, observed, bound, context in observations:
                record.observe(name, observed, bound, **context)
            for name, refuted, counterexample in muts:
                record.mutant(name, refuted, counterexample)
        return record.snapshot(sequence=sequence)
    finally:
        record.reset()


@pytest.mark.parametrize("split", [[0, 1, 0, 1, 1], [1, 0, 1, 0, 0], [0, 0, 1, 1, 0],
                                   [1, 1, 1, 1, 1], [0, 1, 2, 0, 2]])
def test_merge_of_worker_snapshots_is_the_one_process_snapshot(split):
    """However the tests are shared between workers (and in whichever order their
    snapshots arrive), the merge is what one process running them in order records:
    examples summed, the worst ratio reached first kept with its context (ties!), +inf
    above every finite ratio, a mutant's last record, entries in order of first record."""
    whole = _record(_TESTS, sequence=False)
    parts = [_record([t for t, w in zip(_TESTS, split) if w == k], sequence=True)
             for k in sorted(set(split))]
    from lpsgd import record

    for snapshots in (parts, parts[::-1]):
        merged = record.merge(snapshots)
        assert merged == whole
        assert list(merged["properties"]) == list(whole["properties"])
        assert list(merged["mutants"]) == list(whole["mutants"])
    assert whole["properties"]["p"]["worst_context"] == {"at": 1}  # first of the ties
    assert whole["properties"]["q"]["worst_ratio"] is None  # +inf
    assert whole["mutants"]["m"]["counterexample"] == "last"


def test_merge_is_pure_and_reads_plain_snapshots():
    from lpsgd import record

    a = {"properties": {"p": {"examples": 2, "worst_ratio": 0.5, "worst_context": {"x": 1}}},
         "mutants": {"m": {"name": "m", "refuted": True, "counterexample": None}}}
    b = {"properties": {"p": {"examples": 3, "worst_ratio": None, "worst_context": {"x": 2}},
                        "o": {"examples": 1, "worst_ratio": 0.25, "worst_context": {}}},
         "mutants": {}}
    before = json.dumps([a, b])
    merged = record.merge([a, b])
    assert json.dumps([a, b]) == before
    assert merged["properties"]["p"] == {"examples": 5, "worst_ratio": None,
                                         "worst_context": {"x": 2}}  # None: +inf, the worst
    assert merged["properties"]["o"]["examples"] == 1
    assert merged["mutants"] == a["mutants"]
    assert record.merge([]) == {"properties": {}, "mutants": {}}


def test_counterexamples_do_not_quote_object_addresses():
    """A counterexample holding an object without a repr of its own reads the same in
    every run (and on any worker): its address is dropped."""
    from lpsgd.report.generate import json_ready

    text = "case=(<lpsgd.objectives.DiagonalQuadratic object at 0x7f1386e4c550>, 2)"
    assert json_ready({"c": [text]}) == {
        "c": ["case=(<lpsgd.objectives.DiagonalQuadratic object>, 2)"]}
    assert json_ready("0x7f13 and <built-in function abs>") == \
        "0x7f13 and <built-in function abs>"
