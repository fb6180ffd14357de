"""Process-wide record of what the property suite observed, for reports.

Properties call :func:`observe` once per example with the measured value and the bound it
must respect; the worst observed/bound ratio per property is kept (and passed to
``hypothesis.target`` so the search pushes towards tightness).  Mutant tests call
:func:`mutant` with whether the suite refuted the mutant and the counterexample it found.
The report generator reads :func:`snapshot` after running the suite in-process.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

__all__ = ["observe", "mutant", "snapshot", "reset", "ratio"]


@dataclasses.dataclass
class _Stat:
    examples: int = 0
    worst_ratio: float = -math.inf
    worst_context: dict[str, Any] = dataclasses.field(default_factory=dict)


_PROPERTIES: dict[str, _Stat] = {}
_MUTANTS: dict[str, dict[str, Any]] = {}


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
    stat = _PROPERTIES.setdefault(name, _Stat())
    stat.examples += 1
    if r > stat.worst_ratio:
        stat.worst_ratio = r
        stat.worst_context = {k: _jsonable(v) for k, v in context.items()}
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


def snapshot() -> dict[str, Any]:
    """A JSON-ready copy: {"properties": {name: {...}}, "mutants": {name: {...}}}."""
    props = {
        name: {"examples": s.examples,
               "worst_ratio": s.worst_ratio if math.isfinite(s.worst_ratio) else None,
               "worst_context": s.worst_context}
        for name, s in _PROPERTIES.items()
    }
    return {"properties": props, "mutants": dict(_MUTANTS)}


def reset() -> None:
    _PROPERTIES.clear()
    _MUTANTS.clear()


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
