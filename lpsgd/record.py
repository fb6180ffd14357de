"""Process-wide record of what the property suite observed, for reports.

Properties call :func:`observe` once per example with the measured value and the bound it
must respect; the worst observed/bound ratio per property is kept (and passed to
``hypothesis.target`` so the search pushes towards tightness).  Mutant tests call
:func:`mutant` with whether the suite refuted the mutant and the counterexample it found.
The report generator reads :func:`snapshot` after running the suite in-process; when the
suite runs on several pytest-xdist workers, each worker sends its snapshot (taken with
``sequence=True``) and :func:`merge` combines them into the one a single process would have
recorded.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from typing import Any

__all__ = ["observe", "mutant", "snapshot", "reset", "ratio", "merge", "set_sequence"]


@dataclasses.dataclass
class _Stat:
    examples: int = 0
    worst_ratio: float = -math.inf
    worst_context: dict[str, Any] = dataclasses.field(default_factory=dict)
    first_seq: int | None = None  # sequence number of the first observation
    worst_seq: int | None = None  # ... and of the worst one


_PROPERTIES: dict[str, _Stat] = {}
_MUTANTS: dict[str, dict[str, Any]] = {}
_MUTANT_SEQ: dict[str, tuple[int | None, int | None]] = {}  # name -> (first, last)
_SEQ: int | None = None


def set_sequence(seq: int | None) -> None:
    """Tag what is recorded from now on with ``seq``: the position, in the suite's
    collection order, of the test now running (None outside a test).  The report's pytest
    plugin sets it in pytest-xdist workers, so that :func:`merge` can put the workers'
    snapshots back into the order one process would have run the tests in."""
    global _SEQ
    _SEQ = seq


def ratio(observed: float, bound: float) -> float:
    """observed/bound for bound > 0; +inf when a positive observation meets a zero bound."""
    observed, bound = float(observed), float(bound)
    if bound > 0:
        return observed / bound
    return math.inf if observed > 0 else 0.0


def observe(name: str, observed: float, bound: float, **context: Any) -> float:
    """Record one example of property ``name``; return observed/bound.

    ``context`` holds the constants needed to replay the example (stored for the worst
    one).  Inside a Hypothesis test the ratio is also targeted under the label ``name``.
    """
    r = ratio(observed, bound)
    stat = _PROPERTIES.get(name)
    if stat is None:
        stat = _PROPERTIES[name] = _Stat(first_seq=_SEQ)
    stat.examples += 1
    if r > stat.worst_ratio:
        stat.worst_ratio = r
        stat.worst_context = {k: _jsonable(v) for k, v in context.items()}
        stat.worst_seq = _SEQ
    if math.isfinite(r):
        try:
            import hypothesis

            hypothesis.target(r, label=name)
        except Exception:  # outside a Hypothesis test, or label already targeted
            pass
    return r


def mutant(name: str, refuted: bool, counterexample: Any = None) -> None:
    """Record whether the suite refuted mutant ``name`` and with which counterexample."""
    _MUTANTS[name] = {"name": name, "refuted": bool(refuted),
                      "counterexample": _jsonable(counterexample)}
    _MUTANT_SEQ[name] = (_MUTANT_SEQ.get(name, (_SEQ, None))[0], _SEQ)


def snapshot(*, sequence: bool = False) -> dict[str, Any]:
    """A JSON-ready copy: {"properties": {name: {...}}, "mutants": {name: {...}}}.

    A property's ``worst_ratio`` is None when it is not finite (+inf once examples were
    recorded).  With ``sequence=True`` each entry also carries what :func:`merge` needs:
    the sequence numbers (:func:`set_sequence`) ``first_seq`` and ``worst_seq`` of a
    property and its exact ``worst_ratio_raw`` (a float, or "inf" / "-inf"), and
    ``first_seq`` and ``last_seq`` of a mutant.
    """
    props: dict[str, Any] = {}
    for name, s in _PROPERTIES.items():
        props[name] = {"examples": s.examples,
                       "worst_ratio": s.worst_ratio if math.isfinite(s.worst_ratio) else None,
                       "worst_context": s.worst_context}
        if sequence:
            props[name].update(first_seq=s.first_seq, worst_seq=s.worst_seq,
                               worst_ratio_raw=s.worst_ratio if math.isfinite(s.worst_ratio)
                               else repr(s.worst_ratio))
    mutants = dict(_MUTANTS)
    if sequence:
        for name, (first, last) in _MUTANT_SEQ.items():
            if name in mutants:
                mutants[name] = {**mutants[name], "first_seq": first, "last_seq": last}
    return {"properties": props, "mutants": mutants}


def reset() -> None:
    global _SEQ
    _PROPERTIES.clear()
    _MUTANTS.clear()
    _MUTANT_SEQ.clear()
    _SEQ = None


_SEQ_KEYS = ("first_seq", "worst_seq", "last_seq", "worst_ratio_raw")


def merge(snapshots: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Combine snapshots recorded by separate processes (e.g. pytest-xdist workers) into
    the snapshot one process recording everything would have taken.  Pure: the inputs
    are not modified.

    * properties: ``examples`` summed; the largest worst ratio is kept with its
      ``worst_context`` (a None ratio counts as +inf when examples were recorded, as the
      results read it); on a tie the worst reached first wins, as :func:`observe` keeps it.
    * mutants: the union; a mutant recorded by several processes keeps its last record.

    "First" and "last" follow the sequence numbers of snapshots taken with
    ``sequence=True`` (an entry without them counts as recorded before any test), then
    the order of ``snapshots``.  Entries come out in the order of their first record,
    without the sequence numbers.
    """
    def seq(entry: dict[str, Any], key: str, i: int) -> tuple[int, int]:
        value = entry.get(key)
        return (-1 if value is None else int(value), i)  # -1: before every test

    def ratio_of(entry: dict[str, Any]) -> float:
        if "worst_ratio_raw" in entry:  # exact, -inf and +inf told apart
            return float(entry["worst_ratio_raw"])
        r = entry.get("worst_ratio")
        if r is None:
            return math.inf if entry.get("examples") else -math.inf
        return float(r)

    props: dict[str, dict[str, Any]] = {}
    mutants: dict[str, dict[str, Any]] = {}
    for i, snap in enumerate(snapshots):
        for name, entry in snap.get("properties", {}).items():
            first, worst = seq(entry, "first_seq", i), seq(entry, "worst_seq", i)
            r = ratio_of(entry)
            acc = props.setdefault(name, {"first": first, "examples": 0, "entry": entry,
                                          "ratio": r, "worst": worst})
            acc["first"] = min(acc["first"], first)
            acc["examples"] += int(entry.get("examples", 0))
            if r > acc["ratio"] or (r == acc["ratio"] and worst < acc["worst"]):
                acc.update(entry=entry, ratio=r, worst=worst)
        for name, entry in snap.get("mutants", {}).items():
            first, last = seq(entry, "first_seq", i), seq(entry, "last_seq", i)
            acc = mutants.setdefault(name, {"first": first, "last": last, "entry": entry})
            acc["first"] = min(acc["first"], first)
            if last > acc["last"]:
                acc.update(last=last, entry=entry)

    def in_order(accs: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        return sorted(accs.items(), key=lambda kv: kv[1]["first"])

    out_props = {name: {"examples": acc["examples"],
                        "worst_ratio": acc["entry"].get("worst_ratio"),
                        "worst_context": acc["entry"].get("worst_context", {})}
                 for name, acc in in_order(props)}
    out_mutants = {name: {k: v for k, v in acc["entry"].items() if k not in _SEQ_KEYS}
                   for name, acc in in_order(mutants)}
    return {"properties": out_props, "mutants": out_mutants}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    try:
        json.dumps(value)
        return value
    except TypeError:
        pass
    try:
        f = float(value)
        return f if math.isfinite(f) else repr(f)
    except (TypeError, ValueError):
        return repr(value)
