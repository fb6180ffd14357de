"""Check someone else's bound with the properties that check lpsgd's own.

:func:`check_bound` takes a function with the keyword arguments of a statement of
:mod:`lpsgd.theory` (``like="theorem1"``, ...) and runs against it every property whose
ground truth bounds that statement from above: the exact second-moment recursions on
quadratics, Monte Carlo SGD on objectives without exact expectations, and, where
:mod:`lpsgd.suite.worstcase` can be imported, the exact worst case over the function class.
The user's function goes into the same keyword slot a mutant would (nothing in lpsgd is
replaced), and may return a number or a :class:`lpsgd.theory.Bound`.

Every comparison of the properties is recorded explicitly (:func:`lpsgd.record.quiet`), so
the counterexample of a property is the last failing comparison Hypothesis made: the
example it shrank to.  :func:`assert_bound` is the same check as an assertion for a user's
own pytest suite.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import lpsgd.record as record
from lpsgd.errors import InvalidArgument

__all__ = ["check_bound", "assert_bound", "BoundCheck", "Counterexample", "Failure",
           "bound_statements", "DEFAULT_EXAMPLES"]

#: Default examples per property (those of lpsgd's ``lpsgd-ci`` profile; the Monte Carlo and
#: worst-case properties scale it down as they do under that profile).
DEFAULT_EXAMPLES = 60

_PROFILE = "lpsgd-check-bound"


class Counterexample(NamedTuple):
    """One violation: the keyword arguments the function was called with, the ground truth
    it had to bound (for Monte Carlo, ``mean - z se - slack``) and what it claimed."""

    constants: dict[str, Any]
    observed: float
    claimed: float


@dataclasses.dataclass(frozen=True)
class Failure:
    """Where a counterexample comes from: the property, the constants that rebuild its
    example (objective, start, noise, seed, ...) and the assertion message."""

    property: str
    context: dict[str, Any]
    message: str


@dataclasses.dataclass(frozen=True)
class BoundCheck:
    """The result of :func:`check_bound`.

    Attributes:
        like: the statement the function was checked as.
        violations: the number of properties that found a counterexample.
        checked: the number of comparisons made (every example at every step, including
            those Hypothesis made while shrinking).
        examples: one :class:`Counterexample` per violation, shrunk by Hypothesis.
        worst_ratio: the largest observed / claimed over every comparison (> 1 means a
            violation; +inf for a positive observation against a zero claim).
        properties: the properties run.
        failures: one :class:`Failure` per violation, in the order of ``examples``.
    """

    like: str
    violations: int
    checked: int
    examples: list[Counterexample]
    worst_ratio: float
    properties: tuple[str, ...]
    failures: list[Failure]

    @property
    def ok(self) -> bool:
        """No property found a counterexample."""
        return self.violations == 0

    def message(self) -> str:
        """A summary and the message of each violation."""
        head = (f"check_bound(like={self.like!r}): {self.violations} of "
                f"{len(self.properties)} properties violated ({self.checked} comparisons, "
                f"worst observed/claimed {self.worst_ratio:.6g})")
        return "\n\n".join([head, *(f"{f.property}:\n{f.message}" for f in self.failures)])


def _factories() -> dict[str, list[Callable[..., Any]]]:
    from lpsgd.suite import theorems

    out: dict[str, list[Callable[..., Any]]] = {k: list(v)
                                                for k, v in theorems.GROUND_TRUTH.items()}
    try:
        from lpsgd.suite import worstcase
    except ImportError:  # its solvers are an optional extra
        return out
    for like, factories in getattr(worstcase, "FACTORIES", {}).items():
        out.setdefault(like, []).extend(factories)
    return out


def _arguments_of(like: str, context: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``lpsgd.theory.<like>`` found in a property's context (for
    a property that does not record the arguments of its bound separately)."""
    import inspect

    import lpsgd.theory as theory

    names = inspect.signature(getattr(theory, like)).parameters
    return {k: v for k, v in context.items() if k in names}


def bound_statements() -> tuple[str, ...]:
    """The values ``like`` accepts."""
    return tuple(sorted(_factories()))


@contextlib.contextmanager
def _profile(examples: int) -> Iterator[None]:
    """Hypothesis settings for the run: ``examples`` examples, no database, no deadline;
    the caller's profile is loaded again afterwards."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    previous = settings.get_current_profile_name()
    settings.register_profile(
        _PROFILE, parent=settings.get_profile("default"), max_examples=examples,
        database=None, derandomize=False, deadline=None, print_blob=False,
        verbosity=Verbosity.quiet, phases=[p for p in Phase if p is not Phase.explain],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much])
    settings.load_profile(_PROFILE)
    try:
        yield
    finally:
        settings.load_profile(previous)


def check_bound(fn: Callable[..., Any], like: str, *, examples: int = DEFAULT_EXAMPLES,
                seed: int = 0) -> BoundCheck:
    """Run lpsgd's properties of statement ``like`` against the bound ``fn``.

    Args:
        fn: called with the keyword arguments of ``lpsgd.theory.<like>``; returns a number
            or a Bound.  It may raise :class:`lpsgd.errors.AssumptionError` where its
            assumptions fail (the properties then only check that the refusal concerns an
            inadmissible stepsize); any other exception propagates.
        like: the statement, one of :func:`bound_statements`.
        examples: Hypothesis examples per property (the expensive properties scale it).
        seed: the seed of the search (the same seed gives the same result).

    Returns:
        A :class:`BoundCheck`.

    Raises:
        InvalidArgument: for a bad ``fn``, ``like``, ``examples`` or ``seed``.
    """
    from lpsgd._validate import check_int

    if not callable(fn):
        raise InvalidArgument(f"Expected a callable fn but got fn={fn!r}")
    factories = _factories()
    if not isinstance(like, str) or like not in factories:
        raise InvalidArgument(f"Expected like to be one of {sorted(factories)} but got "
                              f"like={like!r}")
    check_int("examples", examples, min_value=1)
    check_int("seed", seed, min_value=0)
    from hypothesis import seed as hypothesis_seed

    claims: list[record.Claim] = []
    examples_found: list[Counterexample] = []
    failures: list[Failure] = []
    names: list[str] = []
    with _profile(examples):
        for factory in factories[like]:
            test = hypothesis_seed(seed)(factory(**{like: fn}))
            name = getattr(test, "__name__", factory.__name__)
            names.append(name)
            with record.quiet() as log:
                try:
                    test()
                    failed: BaseException | None = None
                except (AssertionError, BaseExceptionGroup) as exc:
                    failed = exc
            claims.extend(log)
            if failed is None:
                continue
            last = next((c for c in reversed(log) if c.failure is not None), None)
            if last is None:  # failed outside a comparison (e.g. refused an admissible case)
                examples_found.append(Counterexample({}, math.nan, math.nan))
                failures.append(Failure(name, {}, str(failed).strip()))
                continue
            constants = (dict(last.args) if last.args is not None
                         else _arguments_of(like, last.context))
            examples_found.append(Counterexample(constants, last.observed, last.bound))
            failures.append(Failure(name, dict(last.context), last.failure))
    ratios = [c.ratio for c in claims if c.kind is not None and not math.isnan(c.ratio)]
    return BoundCheck(like=like, violations=len(failures), checked=len(claims),
                      examples=examples_found, worst_ratio=max(ratios, default=-math.inf),
                      properties=tuple(names), failures=failures)


def assert_bound(fn: Callable[..., Any], like: str, **kwargs: Any) -> BoundCheck:
    """:func:`check_bound`, raising :class:`AssertionError` with every counterexample when
    a property finds one; returns the :class:`BoundCheck` otherwise."""
    __tracebackhide__ = True
    result = check_bound(fn, like, **kwargs)
    if not result.ok:
        raise AssertionError(result.message())
    return result
