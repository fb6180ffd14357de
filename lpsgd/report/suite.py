"""Run the property suite in-process and collect what pytest and lpsgd.record saw.

The suite is the ``properties/`` folder of the checkout lpsgd is imported from (or any
folder passed as ``suite_dir``, which the tests use to point at a small fake suite).
pytest runs in this process so that :mod:`lpsgd.record` sees every ``observe`` and
``mutant`` call; a small plugin collects each test's outcome, duration, Hypothesis
example counts and failure text.  pytest's own terminal output is kept as a log (it is
written into the report), so the numbers of the report can be checked against it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lpsgd import record
from lpsgd._validate import check_choice
from lpsgd.profiles import PROFILES

__all__ = ["TestOutcome", "SuiteResult", "run_suite", "default_suite_dir", "checkout_root",
           "MUTANT_FILE", "MUTANT_PREFIX"]

#: Mutant tests live in this file and are named ``test_mutant_<name>`` (interfaces.md).
MUTANT_FILE = "test_mutants.py"
MUTANT_PREFIX = "test_mutant_"


def checkout_root() -> Path:
    """The folder holding the ``lpsgd`` package (the checkout, for an editable install)."""
    import lpsgd

    return Path(lpsgd.__file__).resolve().parent.parent


def default_suite_dir() -> Path:
    """``properties/`` next to the lpsgd package."""
    return checkout_root() / "properties"


@dataclasses.dataclass
class TestOutcome:
    """One collected pytest item (a property example run, or a mutant test)."""

    __test__ = False  # not a pytest test class despite the name

    nodeid: str
    name: str  # the test function name (parametrize ids stripped)
    file: str
    outcome: str = "passed"  # passed | failed | error | skipped
    duration: float = 0.0
    examples: int | None = None  # Hypothesis test cases run (valid + failing), if any
    longrepr: str = ""
    skip_reason: str = ""

    @property
    def is_mutant(self) -> bool:
        return self.file == MUTANT_FILE or self.name.startswith(MUTANT_PREFIX)


@dataclasses.dataclass
class SuiteResult:
    """Everything a report needs from one run of the suite."""

    suite_dir: str
    profile: str
    seed: int
    args: list[str]
    exit_code: int
    outcomes: list[TestOutcome]
    collection_errors: list[dict[str, str]]
    record: dict[str, Any]  # lpsgd.record.snapshot() after the run
    pytest_summary: str  # pytest's last line, e.g. "12 passed in 3.41s"
    log: str  # pytest's terminal output
    duration: float

    def counts(self) -> dict[str, int]:
        """pytest outcome counts (passed, failed, error, skipped), collection errors included."""
        out = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
        for o in self.outcomes:
            out[o.outcome] = out.get(o.outcome, 0) + 1
        out["error"] += len(self.collection_errors)
        return out


class _Collector:
    """pytest plugin: per-item outcome, duration, Hypothesis counts, progress bar."""

    def __init__(self, progress: Any | None) -> None:
        self.items: dict[str, TestOutcome] = {}
        self.order: list[str] = []
        self.collection_errors: list[dict[str, str]] = []
        self.progress = progress  # factory: total -> tqdm bar
        self.bar: Any | None = None
        self.interrupted = False

    # -- collection --------------------------------------------------------------------
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(
                {"nodeid": report.nodeid, "longrepr": str(report.longrepr)})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
            self.items[item.nodeid] = TestOutcome(
                nodeid=item.nodeid, name=name, file=Path(str(item.fspath)).name)
            self.order.append(item.nodeid)
        if self.progress is not None:
            self.bar = self.progress(len(session.items))

    # -- running -----------------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item):
        # Innermost wrapper: Hypothesis' plugin has already installed its statistics
        # collector, which we chain so both see the raw per-phase statistics.
        try:
            from hypothesis.statistics import collector
        except ImportError:  # pragma: no cover - hypothesis is a dependency
            yield
            return
        previous = collector.value
        outcome = self.items.get(item.nodeid)

        def note(stats: dict[str, Any]) -> None:
            if outcome is not None:
                outcome.examples = _count_examples(stats)
            if previous is not None:
                previous(stats)

        with collector.with_value(note):
            yield

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        o = self.items.get(report.nodeid)
        if o is None:
            return
        o.duration += report.duration
        if report.when == "call":
            if report.failed:
                o.outcome = "failed"
                o.longrepr = report.longreprtext
            elif report.skipped:
                o.outcome = "skipped"
                o.skip_reason = _skip_reason(report)
        elif report.failed:  # setup or teardown error
            if o.outcome != "failed":
                o.outcome = "error"
            o.longrepr = (o.longrepr + "\n" + report.longreprtext).strip()
        elif report.skipped and report.when == "setup":
            o.outcome = "skipped"
            o.skip_reason = _skip_reason(report)
        if report.when == "teardown" and self.bar is not None:
            self.bar.set_postfix_str(o.name[:40], refresh=False)
            self.bar.update(1)

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True


def _count_examples(stats: dict[str, Any]) -> int:
    """Test cases Hypothesis ran outside shrinking (what --hypothesis-show-statistics lists
    as passing + failing in the explicit, reuse and generate phases)."""
    total = 0
    for phase in ("explicit", "reuse", "generate", "target"):
        for case in stats.get(f"{phase}-phase", {}).get("test-cases", []):
            if case.get("status") in ("valid", "interesting"):
                total += 1
    return total


def _skip_reason(report: pytest.TestReport) -> str:
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2]).removeprefix("Skipped: ")
    return str(lr or "")


_SUMMARY = re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+.* in [\d.]+s.*?)\s*=*$")


def _last_summary(log: str) -> str:
    for line in reversed(log.splitlines()):
        m = _SUMMARY.match(line.strip())
        if m:
            return m.group(1)
    return ""


@contextlib.contextmanager
def _restore_hypothesis_state():
    """pytest's Hypothesis plugin loads the profile and seed globally: undo that after."""
    from hypothesis import core, settings

    profile = settings.get_current_profile_name()
    seed = core.global_force_seed
    try:
        yield
    finally:
        settings.load_profile(profile)
        core.global_force_seed = seed


@contextlib.contextmanager
def _own_record():
    """Give the run an empty lpsgd.record and put back what was there before (a caller,
    e.g. an enclosing pytest session, keeps its own observations).  Yields a dict that
    holds the run's snapshot once the block ends."""
    saved = (dict(record._PROPERTIES), dict(record._MUTANTS))
    snap: dict[str, Any] = {}
    record.reset()
    try:
        yield snap
    finally:
        snap.update(record.snapshot())
        record.reset()
        record._PROPERTIES.update(saved[0])
        record._MUTANTS.update(saved[1])


def _is_derandomized(profile: str) -> bool:
    from hypothesis import settings

    from lpsgd.profiles import register_profiles

    register_profiles()
    return bool(settings.get_profile(profile).derandomize)


def pytest_args(suite_dir: Path, profile: str, seed: int) -> list[str]:
    """The pytest command line for the suite (also shown in the report)."""
    args = [str(suite_dir), "-p", "no:cacheprovider", f"--hypothesis-profile={profile}",
            "--continue-on-collection-errors", "-q", "-rfE", "--benchmark-skip",
            # Hypothesis' per-test statistics go into pytest.log, so the example counts
            # of the report can be checked against them
            "--hypothesis-show-statistics",
            # lpsgd is imported before pytest starts (it runs us), so pytest cannot
            # assertion-rewrite it; that config-time warning is expected here and must not
            # become an error under the project's filterwarnings=error.
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if not _is_derandomized(profile):
        args.append(f"--hypothesis-seed={seed}")
    root = suite_dir.parent
    ini = root / "pyproject.toml"
    if ini.is_file():
        args += ["--rootdir", str(root), "-c", str(ini)]
    else:
        args += ["--rootdir", str(suite_dir)]
    return args


def run_suite(profile: str = "ci", seed: int = 0, *, suite_dir: str | os.PathLike | None = None,
              progress: bool = True, extra_args: list[str] | None = None) -> SuiteResult:
    """Run the property suite in this process.

    Args:
        profile: Hypothesis profile (``lpsgd.profiles.PROFILES``).
        seed: passed as ``--hypothesis-seed`` when the profile is not derandomized.
        suite_dir: the folder of property tests; default ``properties/`` of the checkout.
        progress: show a tqdm bar (one step per test) on stderr.
        extra_args: more pytest arguments (e.g. ``["-k", "theorem1"]``).

    Returns:
        The per-test outcomes, collection errors, the lpsgd.record snapshot and pytest's log.

    Raises:
        KeyboardInterrupt: the run was interrupted (pytest swallows it; we re-raise).
        lpsgd.errors.InvalidArgument: unknown profile or missing suite folder.
    """
    from lpsgd.errors import InvalidArgument

    profile = check_choice("profile", profile, PROFILES)
    suite = Path(suite_dir) if suite_dir is not None else default_suite_dir()
    if not suite.is_dir():
        raise InvalidArgument(f"Expected the property suite folder to exist but got "
                              f"suite_dir={str(suite)!r}")
    args = pytest_args(suite.resolve(), profile, seed) + list(extra_args or [])

    err_stream = None
    factory = None
    if progress:
        from tqdm import tqdm

        # A private duplicate of stderr: pytest's fd-level capture redirects fd 2 while a
        # test runs, and the bar must stay visible.
        err_stream = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)

        def factory(total: int) -> Any:
            return tqdm(total=total, desc="properties", unit="test", file=err_stream,
                        leave=True, dynamic_ncols=True)
    collector = _Collector(factory)
    log = io.StringIO()
    t0 = time.perf_counter()
    try:
        with _restore_hypothesis_state(), _own_record() as snap, \
                contextlib.redirect_stdout(log):
            code = pytest.main(list(args), plugins=[collector])  # pytest edits the list
    finally:
        if collector.bar is not None:
            collector.bar.close()
        if err_stream is not None:
            err_stream.close()
    duration = time.perf_counter() - t0
    if collector.interrupted:
        raise KeyboardInterrupt
    text = log.getvalue()
    return SuiteResult(
        suite_dir=str(suite), profile=profile, seed=seed, args=args, exit_code=int(code),
        outcomes=[collector.items[n] for n in collector.order],
        collection_errors=collector.collection_errors, record=snap,
        pytest_summary=_last_summary(text), log=text, duration=duration)
