"""Process-wide record of what the property suite observed, for reports.

Properties record each example through the comparison helpers of
:mod:`lpsgd.suite.compare`, which call :func:`claim` with the measured value, the bound it
must respect, the kind of the comparison and whether the example was in a non-trivial
regime; :func:`observe` is the same without a kind.  The worst observed/bound ratio per
property is kept, over all examples and over the non-trivial ones, with the message of the
last failing example (the shrunk counterexample, since Hypothesis replays it last), and the
ratio is passed to ``hypothesis.target`` so the search pushes towards tightness.  Inside
``with quiet() as log:`` nothing is kept (the ratio is still targeted) and every claim is
appended to ``log`` instead: that is how a mutant's run or a user's bound is checked without
mixing its ratios with the properties' results.  Mutant tests call
:func:`mutant` with whether the suite refuted the mutant and the counterexample it found.
The report generator reads :func:`snapshot` after running the suite in-process; when the
suite runs on several pytest-xdist workers, each worker sends its snapshot (taken with
``sequence=True``) and :func:`merge` combines them into the one a single process would have
recorded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["observe", "claim", "Claim", "quiet", "isolated", "mutant", "snapshot", "reset",
           "ratio", "merge", "set_sequence"]


@dataclasses.dataclass
class _Stat:
    examples: int = 0
    worst_ratio: float = -math.inf
    worst_context: dict[str, Any] = dataclasses.field(default_factory=dict)
    first_seq: int | None = None  # sequence number of the first observation
    worst_seq: int | None = None  # ... and of the worst one
    kind: str | None = None  # the comparison kind (claims only)
    nontrivial_examples: int = 0
    nontrivial_worst_ratio: float = -math.inf
    nontrivial_worst_context: dict[str, Any] = dataclasses.field(default_factory=dict)
    nontrivial_worst_seq: int | None = None
    counterexample: str | None = None  # message of the last failing example
    counterexample_seq: int | None = None


_PROPERTIES: dict[str, _Stat] = {}
_MUTANTS: dict[str, dict[str, Any]] = {}
_MUTANT_SEQ: dict[str, tuple[int | None, int | None]] = {}  # name -> (first, last)
_SEQ: int | None = None
_LOGS: list[list[Claim]] = []  # the open quiet() blocks, innermost last


@dataclasses.dataclass(frozen=True)
class Claim:
    """One recorded comparison of an example (what :func:`quiet` collects).

    Attributes:
        name: the property.
        kind: the comparison kind (``"upper"``, ``"equal"``, ``"mc_upper"``,
            ``"no_mismatch"``) or None for a plain :func:`observe`.
        observed: the measured side of the worst comparison of the example.
        bound: the side it was compared with.
        ratio: ``observed / bound`` (:func:`ratio`).
        context: the constants that replay the example (as given, not made JSON-ready).
        failure: the assertion message when the example failed, else None.
        args: the keyword arguments the checked function was called with in the worst
            comparison, when the property says (None otherwise).
    """

    name: str
    kind: str | None
    observed: float
    bound: float
    ratio: float
    context: dict[str, Any]
    failure: str | None = None
    args: dict[str, Any] | None = None


@contextlib.contextmanager
def quiet() -> Iterator[list[Claim]]:
    """Record nothing inside the block; yield the list of every :class:`Claim` made in it.

    The ratio is still passed to ``hypothesis.target``, so a search run inside the block
    (a mutant's refutation, :func:`lpsgd.testing.check_bound`) steers as the properties do.
    """
    log: list[Claim] = []
    _LOGS.append(log)
    try:
        yield log
    finally:
        _LOGS.remove(log)


@contextlib.contextmanager
def isolated() -> Iterator[dict[str, Any]]:
    """Record into an empty record inside the block and put back what was recorded before
    (an enclosing run keeps its own observations).  Yields a dict that holds the block's
    :func:`snapshot` once the block ends."""
    global _SEQ
    saved = (dict(_PROPERTIES), dict(_MUTANTS), dict(_MUTANT_SEQ), _SEQ)
    snap: dict[str, Any] = {}
    reset()
    try:
        yield snap
    finally:
        snap.update(snapshot())
        reset()
        _PROPERTIES.update(saved[0])
        _MUTANTS.update(saved[1])
        _MUTANT_SEQ.update(saved[2])
        _SEQ = saved[3]


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
    return claim(name, observed, bound, kind=None, context=context)


def claim(name: str, observed: float, bound: float, *, kind: str | None,
          context: dict[str, Any] | None = None,
          nontrivial: tuple[float, float, dict[str, Any]] | None = None,
          failure: str | None = None, args: dict[str, Any] | None = None) -> float:
    """Record one example of property ``name`` compared by ``kind``; return observed/bound.

    Args:
        name: the property.
        observed, bound: the worst comparison of the example.
        kind: the comparison kind (see :mod:`lpsgd.suite.compare`).
        context: the constants that replay the example (stored for the worst one).
        nontrivial: ``(observed, bound, extra_context)`` of the worst comparison of the
            example in a non-trivial regime (several steps, noise present when the
            statement has noise), or None when the example has none.
        failure: the assertion message if the example failed; the last one recorded is
            the property's counterexample.
        args: the keyword arguments of the checked function in the worst comparison
            (kept in the :class:`Claim` of a :func:`quiet` block only, for replays).
    """
    context = dict(context or {})
    r = ratio(observed, bound)
    if _LOGS:
        _LOGS[-1].append(Claim(name, kind, float(observed), float(bound), r, context,
                               failure, None if args is None else dict(args)))
    else:
        stat = _PROPERTIES.get(name)
        if stat is None:
            stat = _PROPERTIES[name] = _Stat(first_seq=_SEQ)
        stat.examples += 1
        if kind is not None:
            stat.kind = kind
        if r > stat.worst_ratio:
            stat.worst_ratio = r
            stat.worst_context = {k: _jsonable(v) for k, v in context.items()}
            stat.worst_seq = _SEQ
        if nontrivial is not None:
            n_obs, n_bound, n_extra = nontrivial
            n_r = ratio(n_obs, n_bound)
            stat.nontrivial_examples += 1
            if n_r > stat.nontrivial_worst_ratio:
                stat.nontrivial_worst_ratio = n_r
                stat.nontrivial_worst_context = {
                    k: _jsonable(v) for k, v in {**context, **n_extra}.items()}
                stat.nontrivial_worst_seq = _SEQ
        if failure is not None:
            stat.counterexample = failure
            stat.counterexample_seq = _SEQ
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
    recorded).  A property recorded through :func:`claim` also has ``kind``,
    ``nontrivial_examples``, ``nontrivial_worst_ratio`` (None likewise) and
    ``nontrivial_worst_context``, and ``counterexample`` once an example failed.  With
    ``sequence=True`` each entry also carries what :func:`merge` needs: the sequence
    numbers (:func:`set_sequence`) ``first_seq`` and ``worst_seq`` of a property and its
    exact ``worst_ratio_raw`` (a float, or "inf" / "-inf"), and ``first_seq`` and
    ``last_seq`` of a mutant.
    """
    props: dict[str, Any] = {}
    for name, s in _PROPERTIES.items():
        props[name] = {"examples": s.examples,
                       "worst_ratio": s.worst_ratio if math.isfinite(s.worst_ratio) else None,
                       "worst_context": s.worst_context}
        if s.kind is not None:
            props[name].update(
                kind=s.kind, nontrivial_examples=s.nontrivial_examples,
                nontrivial_worst_ratio=(s.nontrivial_worst_ratio
                                        if math.isfinite(s.nontrivial_worst_ratio) else None),
                nontrivial_worst_context=s.nontrivial_worst_context)
        if s.counterexample is not None:
            props[name]["counterexample"] = s.counterexample
        if sequence:
            props[name].update(first_seq=s.first_seq, worst_seq=s.worst_seq,
                               worst_ratio_raw=_raw(s.worst_ratio))
            if s.kind is not None:
                props[name].update(nontrivial_worst_ratio_raw=_raw(s.nontrivial_worst_ratio),
                                   nontrivial_worst_seq=s.nontrivial_worst_seq)
            if s.counterexample is not None:
                props[name]["counterexample_seq"] = s.counterexample_seq
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


_SEQ_KEYS = ("first_seq", "worst_seq", "last_seq", "worst_ratio_raw",
             "nontrivial_worst_ratio_raw", "nontrivial_worst_seq", "counterexample_seq")


def _raw(r: float) -> float | str:
    return r if math.isfinite(r) else repr(r)


def merge(snapshots: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Combine snapshots recorded by separate processes (e.g. pytest-xdist workers) into
    the snapshot one process recording everything would have taken.  Pure: the inputs
    are not modified.

    * properties: ``examples`` summed; the largest worst ratio is kept with its
      ``worst_context`` (a None ratio counts as +inf when examples were recorded, as the
      results read it); on a tie the worst reached first wins, as :func:`observe` keeps it.
    * the same for the non-trivial worst ratio of claims (``nontrivial_*``, examples
      summed), and a property's ``counterexample`` is the last one recorded.
    * mutants: the union; a mutant recorded by several processes keeps its last record.

    "First" and "last" follow the sequence numbers of snapshots taken with
    ``sequence=True`` (an entry without them counts as recorded before any test), then
    the order of ``snapshots``.  Entries come out in the order of their first record,
    without the sequence numbers.
    """
    def seq(entry: dict[str, Any], key: str, i: int) -> tuple[int, int]:
        value = entry.get(key)
        return (-1 if value is None else int(value), i)  # -1: before every test

    def ratio_of(entry: dict[str, Any], prefix: str = "") -> float:
        if f"{prefix}worst_ratio_raw" in entry:  # exact, -inf and +inf told apart
            return float(entry[f"{prefix}worst_ratio_raw"])
        r = entry.get(f"{prefix}worst_ratio")
        if r is None:
            return math.inf if entry.get(f"{prefix}examples") else -math.inf
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
            if "kind" in entry:
                n_worst = seq(entry, "nontrivial_worst_seq", i)
                n_r = ratio_of(entry, "nontrivial_")
                acc["kind"] = entry["kind"]
                acc["n_examples"] = acc.get("n_examples", 0) + int(
                    entry.get("nontrivial_examples", 0))
                if ("n_entry" not in acc or n_r > acc["n_ratio"]
                        or (n_r == acc["n_ratio"] and n_worst < acc["n_worst"])):
                    acc.update(n_entry=entry, n_ratio=n_r, n_worst=n_worst)
            if "counterexample" in entry:
                c_seq = seq(entry, "counterexample_seq", i)
                if "c_seq" not in acc or c_seq > acc["c_seq"]:
                    acc.update(counterexample=entry["counterexample"], c_seq=c_seq)
        for name, entry in snap.get("mutants", {}).items():
            first, last = seq(entry, "first_seq", i), seq(entry, "last_seq", i)
            acc = mutants.setdefault(name, {"first": first, "last": last, "entry": entry})
            acc["first"] = min(acc["first"], first)
            if last > acc["last"]:
                acc.update(last=last, entry=entry)

    def in_order(accs: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        return sorted(accs.items(), key=lambda kv: kv[1]["first"])

    out_props: dict[str, dict[str, Any]] = {}
    for name, acc in in_order(props):
        out = out_props[name] = {"examples": acc["examples"],
                                 "worst_ratio": acc["entry"].get("worst_ratio"),
                                 "worst_context": acc["entry"].get("worst_context", {})}
        if "kind" in acc:
            out.update(kind=acc["kind"], nontrivial_examples=acc["n_examples"],
                       nontrivial_worst_ratio=acc["n_entry"].get("nontrivial_worst_ratio"),
                       nontrivial_worst_context=acc["n_entry"].get(
                           "nontrivial_worst_context", {}))
        if "counterexample" in acc:
            out["counterexample"] = acc["counterexample"]
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
