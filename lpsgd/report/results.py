"""results.json: build it from a suite run and the sweeps, and check its schema.

The schema ``lpsgd.report/1`` requires ``schema``, ``commit``, ``profile``, ``seed``,
``properties`` (``name``, ``status`` pass|fail, ``examples``, ``worst_ratio``,
``counterexample``) and ``mutants`` (``name``, ``refuted``, ``counterexample``).
Everything else (versions, command, timings, the pytest counts, the conformance matrix,
the sweeps) is added beside them.

Additions within ``lpsgd.report/1`` (optional fields, so a reader of the first documents
keeps working and no migration is needed): each property's ``kind`` (``"upper"``,
``"mc_upper"``, ``"equal"``, ``"no_mismatch"``, ``"statistical"``: what its number
means), ``statements`` (the names of the statements it checks), and, when the record has
them, ``worst_ratio_nontrivial``, ``worst_nontrivial`` and ``nontrivial_examples`` (the
worst ratio reached with k >= 3 and noise present where the statement has noise, its
constants, and how many examples were in that regime; None when not recorded); at the top
level ``statements`` (the registry of :mod:`lpsgd.theory.statements` with each entry's
status in this run, its properties and mutants, the paper and the statements' version)
and ``not_checked`` (what the suite does not exercise).
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
           "git_commit", "git_dirty", "passed", "property_kind", "statements_section",
           "not_checked_section"]

SCHEMA = "lpsgd.report/1"

def _counterexample(longrepr: str) -> str | None:
    """The failing assertion as pytest reports it, on one line.

    Only the exception pytest shows (its ``E`` lines) is read, not Hypothesis' printed
    output: a property's comparison message (:mod:`lpsgd.suite.compare`: the claim, the
    tolerance, the mismatch count, the worst case with its constants, ACTUAL and DESIRED)
    is the counterexample of the shrunk example, since Hypothesis raises the failure of
    the example it shrank to.  A message of that shape is kept up to its DESIRED line;
    otherwise the first line of the exception.  The properties also record that message
    explicitly (the ``counterexample`` of their :func:`lpsgd.record.snapshot` entry).
    """
    if not longrepr:
        return None
    lines = longrepr.splitlines()
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ") or ln == "E"]
    if not errors:  # e.g. a crash outside an assertion: the last line says what happened
        errors = [ln.strip() for ln in lines if ln.strip()][-1:]
    errors = [e.removeprefix("AssertionError: ") for e in errors]
    start = next((i for i, e in enumerate(errors) if e), None)
    if start is None:
        return None
    block = [errors[start]]
    shaped = start + 1 < len(errors) and errors[start + 1].startswith("Mismatched: ")
    if shaped:
        for line in errors[start + 1:]:
            block.append(line)
            if line.startswith("DESIRED:"):
                break
    text = " | ".join(block)
    return text[:1500]


def _finite_or_none(x: Any) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


#: Properties whose number is not an observed/bound ratio, until the record says.
_STATISTICAL = ("test_stochastic_rounding_distribution",)


def property_kind(name: str, rec: dict[str, Any]) -> str:
    """What a property's number means: the record's ``kind`` when it gives one, else
    derived from the statements it checks (an equality statement gives ``"equal"``;
    Monte Carlo properties give ``"mc_upper"``; the rest are ``"upper"``)."""
    if rec.get("kind"):
        return str(rec["kind"])
    if name in _STATISTICAL:
        return "statistical"
    from lpsgd.theory.statements import STATEMENTS, statement_of_property

    kinds = {STATEMENTS[s].kind for s in statement_of_property(name)}
    if "montecarlo" in name or name.endswith("_stochastic_rounding"):
        return "mc_upper"
    if kinds and kinds <= {"equal"}:
        return "equal"
    return "upper"


def _nontrivial(rec: dict[str, Any]) -> tuple[float | None, Any, int | None]:
    """The worst ratio in the non-trivial regime, its constants and the number of
    non-trivial examples (None: the record does not say)."""
    value = rec.get("nontrivial_worst_ratio", rec.get("worst_ratio_nontrivial"))
    context = rec.get("nontrivial_worst_context") or rec.get("worst_nontrivial")
    count = rec.get("nontrivial_examples")
    return _finite_or_none(value), context or None, None if count is None else int(count)


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
        from lpsgd.theory.statements import statement_of_property

        nontrivial, nontrivial_case, n_nontrivial = _nontrivial(rec)
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
            "kind": property_kind(name, rec),
            "worst_ratio_nontrivial": nontrivial,
            "worst_nontrivial": nontrivial_case,
            "nontrivial_examples": n_nontrivial,
            "statements": statement_of_property(name),
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
                 "ml_dtypes", "pychop", "gfloat", "torchao", "scikit-learn", "pepit", "cvxpy",
                 "clarabel"):
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
    results["statements"] = statements_section(results["properties"], results["mutants"],
                                               results["skipped"])
    results["not_checked"] = not_checked_section(results["sweeps"])
    results["ok"] = passed(results)
    return results


def statements_section(properties: list[dict[str, Any]], mutants: list[dict[str, Any]],
                       skipped: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The statements registry with each entry's status in this run.

    An entry is "verified" when every property listed for it ran and held and every
    mutant that weakens it was refuted; "FAILED" when one of them failed or a mutant
    survived; "not run" when none of its properties ran; "partly run" otherwise.
    """
    from lpsgd.theory import statements as st

    by_name = {p["name"]: p for p in properties}
    skipped_names = {s["name"] for s in skipped or []}
    refuted = {m["name"]: m["refuted"] for m in mutants}
    owners = st.mutants_by_statement()
    entries = []
    for s in st.STATEMENTS.values():
        props = [{"name": n, "status": by_name[n]["status"] if n in by_name
                  else ("skipped" if n in skipped_names else "not run")}
                 for n in s.properties]
        muts = [{"name": n, "refuted": refuted.get(n)} for n in owners.get(s.name, [])]
        ran = [p for p in props if p["status"] in ("pass", "fail")]
        if any(p["status"] == "fail" for p in props) or any(m["refuted"] is False
                                                             for m in muts):
            status = "FAILED"
        elif not ran and s.properties:
            status = "not run"
        elif len(ran) < len(props) or any(m["refuted"] is None for m in muts):
            status = "partly run"
        else:
            status = "verified"
        entry = s.as_dict()
        entry.update(properties=props, mutants=muts, status=status)
        entries.append(entry)
    return {"version": st.STATEMENTS_VERSION, "paper": {"title": st.PAPER_TITLE,
                                                        "arxiv": st.PAPER_ARXIV},
            "entries": entries, "unassigned_mutants": owners.get("", [])}


def not_checked_section(sweeps: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The entries of :data:`lpsgd.theory.statements.NOT_CHECKED` that hold for this
    report (an entry a sweep of the report checks is dropped when that sweep ran)."""
    from lpsgd.theory.statements import NOT_CHECKED

    ran = [str(s.get("id", "")) for s in sweeps if s.get("status") == "ok"]
    return [{"name": n.name, "text": n.text} for n in NOT_CHECKED
            if not (n.unless_sweep and any(n.unless_sweep in r for r in ran))]


_REQUIRED = {"schema": str, "commit": str, "profile": str, "seed": int, "properties": list,
             "mutants": list}
_PROPERTY = {"name": str, "status": str, "examples": int, "worst_ratio": (float, int, type(None)),
             "counterexample": (str, dict, list, type(None))}
_MUTANT = {"name": str, "refuted": bool}


def validate_results(data: Any) -> None:
    """Check ``data`` against the results.json schema (lpsgd.report/1, see the module).

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
