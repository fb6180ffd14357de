"""Run the property suite and collect what pytest and lpsgd.record saw.

The suite is the ``properties/`` folder of the checkout lpsgd is imported from (or any
folder passed as ``suite_dir``, which the tests use to point at a small fake suite).
pytest runs in this process, and the tests either here too (``workers=1``, so that
:mod:`lpsgd.record` sees every ``observe`` and ``mutant`` call) or on pytest-xdist worker
processes, each sending its record back to be merged (:func:`lpsgd.record.merge`).  A
small plugin collects each test's outcome, duration, Hypothesis example counts and
failure text from the reports, which look the same either way.  pytest's own terminal
output is kept as a log (it is written into the report), so the numbers of the report can
be checked against it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import numbers
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lpsgd import record
from lpsgd._validate import check_choice, check_int
from lpsgd.profiles import PROFILES
from lpsgd.report.plugin import EXAMPLES_PROPERTY, RECORD_OUTPUT

__all__ = ["TestOutcome", "SuiteResult", "run_suite", "default_suite_dir", "checkout_root",
           "resolve_workers", "cpu_count", "MUTANT_FILE", "MUTANT_PREFIX"]

#: The plugin module loaded (``-p``) where the tests run: here, or in every worker.
PLUGIN = "lpsgd.report.plugin"

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
    """pytest plugin of the controlling process: per-test outcome, duration, Hypothesis
    counts, the workers' records, progress bar.

    Apart from the list of tests, it reads only reports, so it works the same whether the
    tests run in this process or on pytest-xdist workers, where the controller collects
    and runs nothing: the test ids arrive with ``pytest_xdist_node_collection_finished``,
    the reports (example counts in their ``user_properties``) with
    ``pytest_runtest_logreport``, each worker's record with ``pytest_testnodedown``.  A
    worker that crashes sends no record; xdist reports its test as failed.
    """

    def __init__(self, progress: Any | None) -> None:
        self.items: dict[str, TestOutcome] = {}
        self.order: list[str] = []
        self.collection_errors: list[dict[str, str]] = []
        self.progress = progress  # factory: total -> tqdm bar
        self.bar: Any | None = None
        self.interrupted = False
        self.collected = False
        self.worker_records: list[tuple[str, dict[str, Any]]] = []  # (worker id, snapshot)

    def _collected(self, tests: list[tuple[str, str, str]]) -> None:
        """``tests``: (nodeid, function name, file name) in collection order."""
        if self.collected:  # another worker (all collect the same tests), or a restart
            return
        self.collected = True
        for nodeid, name, file in tests:
            self.items[nodeid] = TestOutcome(nodeid=nodeid, name=name, file=file)
            self.order.append(nodeid)
        if self.progress is not None:
            self.bar = self.progress(len(tests))

    # -- collection --------------------------------------------------------------------
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and all(e["nodeid"] != report.nodeid
                                 for e in self.collection_errors):
            self.collection_errors.append(
                {"nodeid": report.nodeid, "longrepr": str(report.longrepr)})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # in-process run (under pytest-xdist the controller collects nothing)
        self._collected([(item.nodeid,
                          getattr(item, "originalname", None) or item.name.split("[", 1)[0],
                          Path(str(item.fspath)).name) for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._collected([(nodeid, _function_name(nodeid),
                          nodeid.split("::", 1)[0].rsplit("/", 1)[-1]) for nodeid in ids])

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        snap = getattr(node, "workeroutput", {}).get(RECORD_OUTPUT)
        if snap is not None:
            self.worker_records.append((str(node.gateway.id), snap))

    # -- running -----------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        o = self.items.get(report.nodeid)
        if o is None:
            return
        o.duration += report.duration
        for key, value in report.user_properties:
            if key == EXAMPLES_PROPERTY:
                o.examples = int(value)
        if report.when == "call":
            if report.failed:
                o.outcome = "failed"
                o.longrepr = _longrepr_text(report)
            elif report.skipped:
                o.outcome = "skipped"
                o.skip_reason = _skip_reason(report)
        elif report.failed:  # setup or teardown error
            if o.outcome != "failed":
                o.outcome = "error"
            o.longrepr = (o.longrepr + "\n" + _longrepr_text(report)).strip()
        elif report.skipped and report.when == "setup":
            o.outcome = "skipped"
            o.skip_reason = _skip_reason(report)
        if report.when == "teardown" and self.bar is not None:
            self.bar.set_postfix_str(o.name[:40], refresh=False)
            self.bar.update(1)

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    def merged_record(self) -> dict[str, Any]:
        """The workers' lpsgd.record snapshots merged (ordered by worker id first, so the
        merge does not depend on which worker finished first)."""
        return record.merge(snap for _, snap in sorted(self.worker_records,
                                                       key=lambda w: _worker_key(w[0])))


def _longrepr_text(report: pytest.TestReport) -> str:
    """The failure text, without the line naming the worker and its interpreter that
    pytest puts first for a report from a pytest-xdist worker (the text must not depend
    on where the test ran)."""
    node = report.__dict__.pop("node", None)
    try:
        return report.longreprtext
    finally:
        if node is not None:
            report.node = node  # type: ignore[attr-defined]


def _function_name(nodeid: str) -> str:
    """``file.py::Class::test_f[param]`` -> ``test_f`` (an item's originalname)."""
    return nodeid.split("[", 1)[0].rsplit("::", 1)[-1]


def _worker_key(worker_id: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", worker_id)
    return (int(digits) if digits else -1, worker_id)


def _skip_reason(report: pytest.TestReport) -> str:
    lr = report.longrepr
    if isinstance(lr, tuple | list) and len(lr) == 3:
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
    """pytest's Hypothesis plugin loads the chosen profile globally: load the caller's
    profile again after the run (public settings API only).

    A seed given with ``--hypothesis-seed`` (randomized profiles only) stays in force in
    this process afterwards: Hypothesis has no public way to unset it.  It never changes a
    derandomized test, nor one with a seed of its own, and the next in-process run of a
    randomized profile passes its own seed again.
    """
    from hypothesis import settings

    profile = settings.get_current_profile_name()
    try:
        yield
    finally:
        settings.load_profile(profile)


@contextlib.contextmanager
def _own_record():
    """Give the run an empty lpsgd.record and put back what was there before (a caller,
    e.g. an enclosing pytest session, keeps its own observations).  Yields a dict that
    holds the run's snapshot once the block ends."""
    with record.isolated() as snap:
        yield snap


def _is_derandomized(profile: str) -> bool:
    from hypothesis import settings

    from lpsgd.profiles import register_profiles

    register_profiles()
    return bool(settings.get_profile(profile).derandomize)


def pytest_args(suite_dir: Path, profile: str, seed: int, workers: int = 1) -> list[str]:
    """The pytest command line for the suite (also shown in the report).

    ``profile`` is a short name (``ci``); Hypothesis gets lpsgd's namespaced profile
    (``lpsgd-ci``, see :mod:`lpsgd.profiles`).
    """
    from lpsgd.profiles import hypothesis_profile

    profile = hypothesis_profile(profile)
    args = [str(suite_dir), "-p", "no:cacheprovider", f"--hypothesis-profile={profile}",
            "--continue-on-collection-errors", "-q", "-rfE", "--benchmark-skip",
            # Hypothesis' per-test statistics go into pytest.log, so the example counts
            # of the report can be checked against them
            "--hypothesis-show-statistics",
            # lpsgd is imported before pytest starts (it runs us), so pytest cannot
            # assertion-rewrite it; that config-time warning is expected here and must not
            # become an error under the project's filterwarnings=error.
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            # the hooks that must run where the tests run (here, or in every worker)
            "-p", PLUGIN]
    if workers > 1:
        # Every test is deterministic on its own (derandomized, or seeded by
        # --hypothesis-seed, which the workers get with the rest of this command line),
        # and the workers' records are merged in collection order: tests can go to any
        # worker, one at a time.
        args += ["-n", str(workers), "--dist", "load"]
    if not _is_derandomized(profile):
        args.append(f"--hypothesis-seed={seed}")
    root = suite_dir.parent
    ini = root / "pyproject.toml"
    if ini.is_file():
        args += ["--rootdir", str(root), "-c", str(ini)]
    else:
        args += ["--rootdir", str(suite_dir)]
    return args


def _have_xdist() -> bool:
    import importlib.util

    return importlib.util.find_spec("xdist") is not None


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on every platform
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: object) -> int:
    """The number of processes to run the suite on: ``workers`` (an int >= 1), or
    ``"auto"`` for one per CPU (1 without pytest-xdist).  1 runs the suite in this
    process; more run it on that many pytest-xdist workers.

    Raises:
        lpsgd.errors.InvalidArgument: not an int >= 1 nor "auto", or more than one
            worker asked for without pytest-xdist installed.
    """
    from lpsgd.errors import InvalidArgument

    if isinstance(workers, str) and workers.strip().lower() == "auto":
        n = cpu_count()
        return n if n > 1 and _have_xdist() else 1
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise InvalidArgument(f"Expected workers to be an integer or 'auto' but got "
                              f"workers={workers!r}")
    n = check_int("workers", workers, min_value=1)
    if n > 1 and not _have_xdist():
        raise InvalidArgument(f"Expected pytest-xdist to be installed (lpsgd's test extra) "
                              f"to run the suite on workers={n}; workers=1 runs it in "
                              f"this process")
    return n


def run_suite(profile: str = "ci", seed: int = 0, *, suite_dir: str | os.PathLike | None = None,
              progress: bool = True, extra_args: list[str] | None = None,
              workers: int | str = 1) -> SuiteResult:
    """Run the property suite, in this process or on pytest-xdist workers.

    The report is the same either way: the outcomes, example counts, worst ratios and
    their contexts, and the mutant verdicts do not depend on the number of workers.

    Args:
        profile: Hypothesis profile (``lpsgd.profiles.PROFILES``).
        seed: passed as ``--hypothesis-seed`` when the profile is not derandomized.
        suite_dir: the folder of property tests; default ``properties/`` of the checkout.
        progress: show a tqdm bar (one step per test) on stderr.
        extra_args: more pytest arguments (e.g. ``["-k", "theorem1"]``).
        workers: 1 (default) runs the tests in this process; N > 1 on N pytest-xdist
            worker processes; ``"auto"`` one per CPU (:func:`resolve_workers`).

    Returns:
        The per-test outcomes, collection errors, the lpsgd.record snapshot and pytest's log.

    Raises:
        KeyboardInterrupt: the run was interrupted (pytest swallows it; we re-raise).
        lpsgd.errors.InvalidArgument: unknown profile, missing suite folder or bad
            ``workers``.
    """
    from lpsgd.errors import InvalidArgument

    profile = check_choice("profile", profile, PROFILES)
    n_workers = resolve_workers(workers)
    suite = Path(suite_dir) if suite_dir is not None else default_suite_dir()
    if not suite.is_dir():
        raise InvalidArgument(f"Expected the property suite folder to exist but got "
                              f"suite_dir={str(suite)!r}")
    args = pytest_args(suite.resolve(), profile, seed, n_workers) + list(extra_args or [])

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
    if n_workers > 1:  # the tests ran and recorded in the workers
        snap = collector.merged_record()
    text = log.getvalue()
    return SuiteResult(
        suite_dir=str(suite), profile=profile, seed=seed, args=args, exit_code=int(code),
        outcomes=[collector.items[n] for n in collector.order],
        collection_errors=collector.collection_errors, record=snap,
        pytest_summary=_last_summary(text), log=text, duration=duration)
