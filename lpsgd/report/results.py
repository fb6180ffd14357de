"""results.json: build it from a suite run and the sweeps, and check its schema.

The fields required by API.md are ``schema``, ``commit``, ``profile``, ``seed``,
``properties`` (``name``, ``status`` pass|fail, ``examples``, ``worst_ratio``,
``counterexample``) and ``mutants`` (``name``, ``refuted``, ``counterexample``).
Everything else (versions, command, timings, the pytest counts, the conformance matrix,
the sweeps) is added beside them.
"""

from __future__ import annotations

import math
import platform
import subprocess
from pathlib import Path
from typing import Any

from lpsgd.errors import InvalidArgument
from lpsgd.report.suite import MUTANT_PREFIX, SuiteResult, TestOutcome

__all__ = ["SCHEMA", "summarize_suite", "build_results", "validate_results", "versions",
           "git_commit", "git_dirty", "passed"]

SCHEMA = "lpsgd.report/1"

_HEADERS = ("Falsifying example", "Falsifying explicit example", "Failing test case",
            "Failing explicit example", "Failing example")
_TRAILERS = ("You can reproduce", "You can add @seed", "Highest target score",
             "Explanation:")


def _counterexample(longrepr: str) -> str | None:
    """The failing assertion plus the example Hypothesis reports for it (its
    "Falsifying example: ..." / "Failing test case: ..." call and the notes printed
    after it, joined on one line)."""
    if not longrepr:
        return None
    lines = longrepr.splitlines()
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ") or ln == "E"]
    if not errors:  # e.g. a crash outside an assertion: the last line says what happened
        errors = [ln.strip() for ln in lines if ln.strip()][-1:]
    example = None
    for source in (errors, [ln.strip() for ln in lines]):
        for i, line in enumerate(source):
            if line.startswith(_HEADERS):
                block = [line]
                for nxt in source[i + 1:]:
                    if nxt.startswith(_TRAILERS) or nxt.startswith(_HEADERS):
                        break
                    block.append(nxt)
                example = " ".join(b for b in block if b)
                break
        if example:
            break
    first = next((e for e in errors if e and not e.startswith(_HEADERS)), "")
    text = f"{first} | {example}" if example and first else (example or first)
    return text[:1500] if text else None


def _finite_or_none(x: Any) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def summarize_suite(suite: SuiteResult) -> dict[str, Any]:
    """Group pytest items by test function into properties and mutants.

    A property fails when any of its items failed or errored; a property whose items were
    all skipped goes to "skipped" (it was not checked, so it neither holds nor fails).
    A mutant is refuted when its test passed and it recorded ``refuted=True``; a test of
    the mutant file that passed without recording a mutant is listed as a property.
    """
    rec_props: dict[str, Any] = suite.record.get("properties", {})
    rec_mutants: dict[str, Any] = suite.record.get("mutants", {})

    groups: dict[str, list[TestOutcome]] = {}
    for o in suite.outcomes:
        groups.setdefault(o.name, []).append(o)

    properties: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    mutant_tests: dict[str, list[TestOutcome]] = {}
    for name, items in groups.items():
        if any(o.is_mutant for o in items):
            # A test of the mutant file that passed without recording a mutant is a check
            # of the suite itself (e.g. "every mutant has a test"): list it as a property.
            recorded = name.removeprefix(MUTANT_PREFIX) in rec_mutants or name in rec_mutants
            if recorded or any(o.outcome != "passed" for o in items):
                mutant_tests[name] = items
                continue
        outcomes = [o.outcome for o in items]
        if all(x == "skipped" for x in outcomes):
            skipped.append({"name": name, "file": items[0].file,
                            "reason": items[0].skip_reason})
            continue
        failed = [o for o in items if o.outcome in ("failed", "error")]
        rec = rec_props.get(name, {})
        hyp = [o.examples for o in items if o.examples is not None]
        ran = [o for o in items if o.outcome != "skipped"]
        examples = sum(hyp) if hyp else (rec.get("examples") or len(ran))
        properties.append({
            "name": name,
            "status": "fail" if failed else "pass",
            "examples": int(examples),
            "observations": int(rec.get("examples", 0)),
            "worst_ratio": _finite_or_none(rec.get("worst_ratio")),
            # lpsgd.record stores an infinite ratio (a positive observation against a
            # zero bound) as None; with observations made, None can only mean +inf.
            "worst_ratio_infinite": bool(rec.get("examples")) and rec.get("worst_ratio") is None,
            "worst_case": rec.get("worst_context") or None,
            "counterexample": _counterexample(failed[0].longrepr) if failed else None,
            "tests": len(items),
            "outcomes": {k: outcomes.count(k) for k in sorted(set(outcomes))},
            "file": items[0].file,
            "duration": round(sum(o.duration for o in items), 4),
        })
        if failed and not failed[0].longrepr:
            properties[-1]["counterexample"] = failed[0].outcome

    mutants: list[dict[str, Any]] = []
    seen: set[str] = set()
    for test_name, items in mutant_tests.items():
        short = test_name.removeprefix(MUTANT_PREFIX)
        key = short if short in rec_mutants else test_name if test_name in rec_mutants else None
        rec = rec_mutants.get(key) if key is not None else None
        if key is not None:
            seen.add(key)
        test_ok = all(o.outcome == "passed" for o in items)
        refuted = test_ok and (rec is None or bool(rec.get("refuted")))
        counterexample = rec.get("counterexample") if rec else None
        note = ""
        if not test_ok:
            bad = next(o for o in items if o.outcome != "passed")
            note = f"test {bad.outcome}"
            if bad.outcome == "skipped":
                note += f": {bad.skip_reason}"
            elif counterexample is None:
                counterexample = None
                note += f": {_counterexample(bad.longrepr)}"
        mutants.append({"name": short, "test": test_name, "refuted": bool(refuted),
                        "counterexample": counterexample, "note": note,
                        "duration": round(sum(o.duration for o in items), 4)})
    for key, rec in rec_mutants.items():  # recorded outside a test_mutant_* test
        if key not in seen:
            mutants.append({"name": key, "test": None, "refuted": bool(rec.get("refuted")),
                            "counterexample": rec.get("counterexample"),
                            "note": "recorded outside a test_mutant_* test", "duration": 0.0})

    # checks of the suite itself (from the mutant file) after the properties proper
    properties.sort(key=lambda p: p["name"].startswith(MUTANT_PREFIX))
    tested = {p["name"] for p in properties} | {s["name"] for s in skipped}
    unmatched = sorted(n for n in rec_props if n not in tested)
    return {"properties": properties, "mutants": mutants, "skipped": skipped,
            "unmatched_observations": unmatched}


def passed(results: dict[str, Any]) -> bool:
    """The exit-status rule: every property holds, every mutant is refuted, pytest saw no
    errors or failures, and no fast/reference mismatch or sweep error was found."""
    props_ok = all(p["status"] == "pass" for p in results["properties"])
    mutants_ok = all(m["refuted"] for m in results["mutants"])
    counts = results.get("pytest", {}).get("counts", {})
    pytest_ok = counts.get("failed", 0) == 0 and counts.get("error", 0) == 0
    conf = results.get("conformance") or {}
    conf_ok = conf.get("mismatches", 0) == 0
    sweeps_ok = all(s.get("status") != "error" for s in results.get("sweeps", []))
    return props_ok and mutants_ok and pytest_ok and conf_ok and sweeps_ok


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                             timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(root: str | Path) -> str:
    """``git rev-parse HEAD`` of ``root``, or "unknown" when it is not a git checkout."""
    return _git(Path(root), "rev-parse", "HEAD") or "unknown"


def git_dirty(root: str | Path) -> bool | None:
    """True when tracked files differ from the commit (None: not a git checkout)."""
    status = _git(Path(root), "status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


def versions() -> dict[str, str]:
    """Versions of python and of the libraries a report depends on."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("lpsgd", "numpy", "mpmath", "hypothesis", "pytest", "matplotlib", "tqdm",
                 "ml_dtypes", "pychop"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "not installed"
    out["platform"] = platform.platform()
    return out


def build_results(suite: SuiteResult, *, commit: str, command: str,
                  dirty: bool | None = None,
                  sweeps: list[dict[str, Any]] | None = None,
                  conformance: dict[str, Any] | None = None,
                  timings: dict[str, float] | None = None) -> dict[str, Any]:
    """Assemble the results.json document (see the module docstring)."""
    summary = summarize_suite(suite)
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "commit": commit,
        "dirty": dirty,
        "profile": suite.profile,
        "seed": suite.seed,
        "properties": summary["properties"],
        "mutants": summary["mutants"],
        "skipped": summary["skipped"],
        "unmatched_observations": summary["unmatched_observations"],
        "pytest": {
            "args": suite.args,
            "exit_code": suite.exit_code,
            "summary": suite.pytest_summary,
            "counts": suite.counts(),
            "collection_errors": suite.collection_errors,
        },
        "versions": versions(),
        "command": command,
        "timings": dict(timings or {}),
        "conformance": conformance,
        "sweeps": list(sweeps or []),
    }
    results["ok"] = passed(results)
    return results


_REQUIRED = {"schema": str, "commit": str, "profile": str, "seed": int, "properties": list,
             "mutants": list}
_PROPERTY = {"name": str, "status": str, "examples": int, "worst_ratio": (float, int, type(None)),
             "counterexample": (str, dict, list, type(None))}
_MUTANT = {"name": str, "refuted": bool}


def validate_results(data: Any) -> None:
    """Check ``data`` against the results.json schema of API.md (lpsgd.report/1).

    Raises:
        InvalidArgument: naming the first missing or mistyped field and its value.
    """
    if not isinstance(data, dict):
        raise InvalidArgument(f"Expected results to be a JSON object but got {type(data)!r}")
    for key, typ in _REQUIRED.items():
        if key not in data:
            raise InvalidArgument(f"Expected results[{key!r}] to exist; keys are {sorted(data)}")
        if not isinstance(data[key], typ) or (typ is int and isinstance(data[key], bool)):
            raise InvalidArgument(f"Expected results[{key!r}] to be {typ.__name__} but got "
                                  f"results[{key!r}]={data[key]!r}")
    if data["schema"] != SCHEMA:
        raise InvalidArgument(f"Expected results['schema']={SCHEMA!r} but got "
                              f"results['schema']={data['schema']!r}")
    for i, p in enumerate(data["properties"]):
        for key, typ in _PROPERTY.items():
            if key not in p or not isinstance(p[key], typ) or isinstance(p[key], bool):
                raise InvalidArgument(f"Expected properties[{i}][{key!r}] of type {typ} but "
                                      f"got properties[{i}]={p!r}")
        if p["status"] not in ("pass", "fail"):
            raise InvalidArgument(f"Expected properties[{i}]['status'] in ('pass', 'fail') "
                                  f"but got properties[{i}]['status']={p['status']!r}")
    for i, m in enumerate(data["mutants"]):
        for key, typ in _MUTANT.items():
            if key not in m or not isinstance(m[key], typ):
                raise InvalidArgument(f"Expected mutants[{i}][{key!r}] of type "
                                      f"{typ.__name__} but got mutants[{i}]={m!r}")
        if "counterexample" not in m:
            raise InvalidArgument(f"Expected mutants[{i}]['counterexample'] to exist but got "
                                  f"mutants[{i}]={m!r}")
