"""Mutants: deliberately wrong bounds and broken quantisers the property suite must refute.

A property suite that cannot fail proves nothing (THEORY.md section 6).  Each
:class:`Mutant` names a public function (``"lpsgd.theory:theorem1"``), builds a wrong
replacement from the original, and lists the properties expected to refute it.  The
tests in ``properties/test_mutants.py`` substitute the mutant for the public function,
run those properties under the active Hypothesis profile and assert that they fail;
reports show the counterexample each one found.

The weakened theorems call the original first, so every assumption check still runs and
only the value of the bound changes (except the admissibility mutant, whose point is
to drop the stepsize check).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

__all__ = ["Mutant", "MUTANTS", "substituted", "mutant_names"]


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A wrong replacement for one public function.

    Attributes:
        name: short identifier (the test is ``test_mutant_<name>``).
        target: ``"module:attribute"`` of the public function it replaces.
        description: what is wrong, in one sentence.
        build: maps the original function to the mutant.
        properties: ``"test_module::test_function"`` names of the properties that must
            refute it (any one failing refutes it).
    """

    name: str
    target: str
    description: str
    build: Callable[[Callable[..., Any]], Callable[..., Any]]
    properties: tuple[str, ...]

    def resolve(self) -> tuple[Any, str]:
        module, attr = self.target.split(":")
        return importlib.import_module(module), attr


@contextlib.contextmanager
def substituted(mutant: Mutant | str) -> Iterator[Callable[..., Any]]:
    """Replace the target of ``mutant`` by the mutant inside the ``with`` block."""
    m = MUTANTS[mutant] if isinstance(mutant, str) else mutant
    module, attr = m.resolve()
    original = getattr(module, attr)
    replacement = m.build(original)
    setattr(module, attr, replacement)
    try:
        yield replacement
    finally:
        setattr(module, attr, original)


def mutant_names() -> list[str]:
    return list(MUTANTS)


# -- helpers ------------------------------------------------------------------------------

def _q(value: Any) -> Fraction:
    """An exact Fraction of a real (float, int, Fraction, mpf)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, mpmath.mpf):
        man, exp = mpmath.mpf(value).man_exp
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(value)


def _with_value(bound: Any, value: Fraction, theorem: str) -> Any:
    """A copy of the original Bound with a different value (marked as a mutant)."""
    with mpmath.workprec(256):
        mp_value = mpmath.mpf(value.numerator) / value.denominator
    try:
        return dataclasses.replace(bound, value=mp_value, exact=value,
                                   theorem=f"{theorem} (mutant)")
    except TypeError:  # not a dataclass Bound: return a minimal stand-in
        return _Stand(mp_value, value, f"{theorem} (mutant)")


@dataclasses.dataclass(frozen=True)
class _Stand:
    value: Any
    exact: Fraction
    theorem: str
    kind: str = "upper"
    assumptions: tuple[str, ...] = ()
    reference: str = "mutant"

    def __float__(self) -> float:
        return float(self.exact)


def _theorem1_value(*, L, c, M, M_q, mu, q_min, q_max, gap, k, rate_q=None,
                    floor_q=None) -> Fraction:
    """F_q + r^(k-1) (gap - F_q) with r = 1 - mu c rate_q, F_q = L mu B / (2 c floor_q)."""
    L, c, M, M_q, mu, gap = map(_q, (L, c, M, M_q, mu, gap))
    q_min, q_max = _q(q_min), _q(q_max)
    rate_q = q_min if rate_q is None else _q(rate_q)
    floor_q = q_min if floor_q is None else _q(floor_q)
    B = q_max ** 2 * M + M_q
    floor = L * mu * B / (2 * c * floor_q)
    r = 1 - mu * c * rate_q
    return floor + r ** (int(k) - 1) * (gap - floor)


# -- theorem mutants ----------------------------------------------------------------------

def _theorem1_rate_without_q(original):
    def theorem1(**kw):
        b = original(**kw)
        return _with_value(b, _theorem1_value(**{n: kw[n] for n in _T1}, rate_q=1),
                           "theorem1")
    return theorem1


def _theorem1_floor_without_q(original):
    def theorem1(**kw):
        b = original(**kw)
        return _with_value(b, _theorem1_value(**{n: kw[n] for n in _T1}, floor_q=1),
                           "theorem1")
    return theorem1


def _drop_M_q(original):
    def theorem(**kw):
        return original(**{**kw, "M_q": 0})
    return theorem


def _theorem1_no_stepsize_check(original):
    """Theorem 1's formula returned for any stepsize (admissibility check removed)."""
    def theorem1(**kw):
        try:
            b = original(**kw)
        except Exception as exc:  # the assumption check the mutant removes
            from lpsgd.errors import AssumptionError

            if not isinstance(exc, AssumptionError):
                raise
            b = _Stand(mpmath.mpf(0), Fraction(0), "theorem1")
        return _with_value(b, _theorem1_value(**{n: kw[n] for n in _T1}), "theorem1")
    return theorem1


def _theorem6_q_lo_one(original):
    def theorem6(**kw):
        return original(**{**kw, "q_lo": 1})
    return theorem6


_T1 = ("L", "c", "M", "M_q", "mu", "q_min", "q_max", "gap", "k")


# -- quantiser mutants --------------------------------------------------------------------

def _finite_in_range(x: Any, fmt: Any) -> np.ndarray:
    """Finite |x| below X_max: where the two quantisers below differ only by the bug."""
    from lpsgd.formats import as_format

    a = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & (np.abs(a) < float(as_format(fmt).x_max))


def _ties_away(original):
    """nearest_even resolving ties away from zero (finite in-range inputs only, so the
    mutant differs from the original exactly at ties)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        if str(rounding) != "nearest_even":
            return out
        away = original(x, fmt, "nearest_away", **kw)
        return np.where(_finite_in_range(x, fmt), away, out).astype(out.dtype)
    return quantize


def _saturating_overflow(original):
    """Finite overflow clamps to +-X_max instead of going to inf (inf inputs untouched)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        sat = original(x, fmt, rounding, **{**kw, "saturate": True})
        finite = np.isfinite(np.asarray(x, dtype=np.float64))
        return np.where(finite, sat, out).astype(out.dtype)
    return quantize


def _stochastic_without_randomness(original):
    """Stochastic modes that ignore rng/uniforms and always use u = 1/2."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        if str(rounding) in ("stochastic", "stochastic_equal"):
            kw.pop("rng", None)
            kw["uniforms"] = np.full(np.shape(x), 0.5)
        return original(x, fmt, rounding, **kw)
    return quantize


_TH = "test_prop_theorems::"
_BR = "test_prop_bridge::"
_QZ = "test_prop_quantize::"

MUTANTS: dict[str, Mutant] = {m.name: m for m in [
    Mutant("theorem1_rate_without_q", "lpsgd.theory:theorem1",
           "Theorem 1 with q_min replaced by 1 in the rate r (claims no slowdown).",
           _theorem1_rate_without_q, (_TH + "test_theorem1_exact_quadratic",)),
    Mutant("theorem1_floor_without_q", "lpsgd.theory:theorem1",
           "Theorem 1 with the floor lacking the 1/q_min factor.",
           _theorem1_floor_without_q, (_TH + "test_theorem1_exact_quadratic",)),
    Mutant("theorem1_without_M_q", "lpsgd.theory:theorem1",
           "Theorem 1 with the quantisation noise M_q dropped.",
           _drop_M_q, (_TH + "test_theorem1_exact_quadratic",)),
    Mutant("theorem3_without_M_q", "lpsgd.theory:theorem3",
           "Theorem 3 with the quantisation noise M_q dropped.",
           _drop_M_q, (_TH + "test_theorem3_exact_quadratic",)),
    Mutant("theorem1_no_stepsize_check", "lpsgd.theory:theorem1",
           "Theorem 1 applied to any stepsize, including mu > 2/(q L) (divergence).",
           _theorem1_no_stepsize_check, (_TH + "test_theorem1_any_stepsize",)),
    Mutant("theorem6_q_lo_one", "lpsgd.theory:theorem6",
           "Theorem 6 with q_lo(t) replaced by 1 (ignores truncation shrinkage).",
           _theorem6_q_lo_one, (_BR + "test_theorem6_gradient_descent",)),
    Mutant("quantize_ties_away", "lpsgd.fast:quantize",
           "fast.quantize resolving nearest_even ties away from zero.",
           _ties_away, (_QZ + "test_fast_matches_reference_ties",
                        _QZ + "test_fast_matches_reference")),
    Mutant("quantize_overflow_saturates", "lpsgd.fast:quantize",
           "fast.quantize saturating to X_max on overflow instead of giving inf.",
           _saturating_overflow, (_QZ + "test_fast_matches_reference",)),
    Mutant("quantize_stochastic_no_randomness", "lpsgd.fast:quantize",
           "fast.quantize stochastic modes ignoring their randomness (u = 1/2 always).",
           _stochastic_without_randomness,
           (_QZ + "test_stochastic_rounding_distribution",)),
]}
