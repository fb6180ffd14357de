"""The :class:`Mutant` type: a deliberately wrong implementation the suite must refute.

A mutant is just another implementation.  It names the keyword argument (``slot``) of the
property factories that receives it, lpsgd's implementation it stands in for
(``original``), how to build the wrong one from it (``build``), and the properties that must
refute it.  Nothing is substituted in lpsgd's modules: the property factory is called with
``**{mutant.slot: mutant.implementation()}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath

__all__ = ["Mutant", "Stand", "exact_fraction", "with_value", "overriding"]


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A wrong implementation of one public function.

    Attributes:
        name: short identifier (its test is ``test_mutant_<name>``).
        description: what is wrong, in one sentence.
        slot: the keyword argument of the property factories that receives the mutant
            (``"theorem1"``, ``"quantize"``, ...).
        original: lpsgd's implementation it stands in for.
        build: maps ``original`` to the wrong implementation.
        properties: ``"test_module::factory"`` names of the property factories (in
            ``properties/``) that must refute it; any one failing refutes it.
    """

    name: str
    description: str
    slot: str
    original: Callable[..., Any]
    build: Callable[[Callable[..., Any]], Callable[..., Any]]
    properties: tuple[str, ...]

    @property
    def target(self) -> str:
        """``"module:name"`` of the function it stands in for (for reports)."""
        fn = self.original
        return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"

    def implementation(self) -> Callable[..., Any]:
        """The wrong implementation, built from :attr:`original`."""
        return self.build(self.original)


# -- what the registries build their mutants from -------------------------------------------
def exact_fraction(value: Any) -> Fraction:
    """An exact Fraction of a real (float, int, Fraction, mpf)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, mpmath.mpf):
        man, exp = mpmath.mpf(value).man_exp
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(value)


@dataclasses.dataclass(frozen=True)
class Stand:
    """A minimal Bound stand-in, for a mutant whose original refused the arguments (or
    returned something that is not a Bound)."""

    value: Any
    exact: Fraction
    theorem: str
    kind: str = "upper"
    assumptions: tuple[str, ...] = ()
    reference: str = "mutant"
    terms: dict = dataclasses.field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.exact)


def with_value(bound: Any, value: Fraction, theorem: str) -> Any:
    """A copy of the original Bound with a different value, marked as a mutant; a
    :class:`Stand` when there is no original Bound (``bound`` None or not a dataclass)."""
    with mpmath.workprec(256):
        mp_value = mpmath.mpf(value.numerator) / value.denominator
    if bound is None or not dataclasses.is_dataclass(bound):
        return Stand(mp_value, value, f"{theorem} (mutant)")
    return dataclasses.replace(bound, value=mp_value, exact=value,
                               theorem=f"{theorem} (mutant)")


def overriding(**overrides: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A mutant builder: the original, called with some keyword arguments replaced."""
    def build(original):
        def mutant(**kw):
            return original(**{**kw, **overrides})
        return mutant
    return build
