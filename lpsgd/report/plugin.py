"""pytest plugin of the report's suite run, loaded with ``-p lpsgd.report.plugin`` in every
process that runs tests: the report's own process (one worker) or each pytest-xdist
worker (plugin objects of the controller are not sent to the workers, modules are).

* Each test's Hypothesis example count goes into its call report's ``user_properties``
  as ``(EXAMPLES_PROPERTY, n)``, which pytest-xdist sends to the controller with the
  report.
* Before the first test, every module of lpsgd is imported (:func:`load_lpsgd`): Hypothesis
  draws some values from the constants of the local modules loaded at the time, and the
  tests must generate the same examples in any process, whatever ran there before.
* In a pytest-xdist worker, :mod:`lpsgd.record` tags what each test records with the
  test's position in the collection, and the worker's snapshot goes into
  ``config.workeroutput[RECORD_OUTPUT]`` at the end of its session; the controller reads
  it in ``pytest_testnodedown`` and merges the workers' snapshots with
  :func:`lpsgd.record.merge`, in the order one process would have run the tests.  (What
  a suite would record outside any test, e.g. when a module is imported, every worker
  records; the suite records only inside tests.)
"""

from __future__ import annotations

from typing import Any

import pytest

from lpsgd import record

__all__ = ["EXAMPLES_PROPERTY", "RECORD_OUTPUT", "count_examples", "load_lpsgd"]

#: ``report.user_properties`` key of the Hypothesis example count of a test.
EXAMPLES_PROPERTY = "lpsgd_examples"
#: ``config.workeroutput`` key of a worker's lpsgd.record snapshot.
RECORD_OUTPUT = "lpsgd_record"

_EXAMPLES = pytest.StashKey[int]()
_POSITIONS = pytest.StashKey[dict]()


def count_examples(stats: dict[str, Any]) -> int:
    """Test cases Hypothesis ran outside shrinking (what --hypothesis-show-statistics lists
    as passing + failing in the explicit, reuse and generate phases)."""
    total = 0
    for phase in ("explicit", "reuse", "generate", "target"):
        for case in stats.get(f"{phase}-phase", {}).get("test-cases", []):
            if case.get("status") in ("valid", "interesting"):
                total += 1
    return total


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workeroutput")


def load_lpsgd() -> list[str]:
    """Import every module of the lpsgd package; return the names that failed to import
    (e.g. for a missing optional dependency).

    Hypothesis draws a share of its values from the constants in the source of the local
    (not installed, not test) modules loaded when it generates, which for a checkout
    installed in editable mode are lpsgd's own.  Which of them a process has imported
    depends on what it ran before (the caller of an in-process run, or the tests that went
    to a pytest-xdist worker earlier), so each test's examples would too; with all of
    lpsgd loaded before the first test, they are the same in every process.
    """
    import importlib
    import pkgutil
    import warnings

    import lpsgd

    failed = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an import-time warning must not fail the run
        for info in sorted(pkgutil.walk_packages(lpsgd.__path__, "lpsgd.",
                                                 onerror=failed.append),
                           key=lambda m: m.name):
            if info.name.rsplit(".", 1)[-1] == "__main__":
                continue
            try:
                importlib.import_module(info.name)
            except Exception:  # an optional dependency is missing: the same everywhere
                failed.append(info.name)
    return failed


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item):
    # Innermost wrapper: Hypothesis' plugin has already installed its statistics
    # collector, which we chain so both see the raw per-phase statistics.
    try:
        from hypothesis.statistics import collector
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        yield
        return
    previous = collector.value

    def note(stats: dict[str, Any]) -> None:
        item.stash[_EXAMPLES] = count_examples(stats)
        if previous is not None:
            previous(stats)

    with collector.with_value(note):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if call.when == "call" and _EXAMPLES in item.stash:
        report.user_properties.append((EXAMPLES_PROPERTY, item.stash[_EXAMPLES]))


def pytest_collection_finish(session: pytest.Session) -> None:
    load_lpsgd()
    if _is_worker(session.config):
        session.config.stash[_POSITIONS] = {item.nodeid: i
                                            for i, item in enumerate(session.items)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    positions = item.config.stash.get(_POSITIONS, None)  # set in workers only
    if positions is None:
        yield
        return
    record.set_sequence(positions.get(item.nodeid))
    try:
        yield
    finally:
        record.set_sequence(None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _is_worker(session.config):
        session.config.workeroutput[RECORD_OUTPUT] = record.snapshot(sequence=True)
