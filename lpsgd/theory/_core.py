"""The Bound type and the exact-arithmetic plumbing shared by every theorem.

Every argument is converted to an exact :class:`fractions.Fraction` (floats, numpy
floats and mpf values are dyadic rationals, so the conversion is exact; ints and
Fractions are exact already).  Each bound is then evaluated in rational arithmetic and
rounded once, to nearest, into an mpf of :data:`PRECISION` bits (more when an input
carries more bits), so ``Bound.value`` is the correctly rounded right-hand side and
``Bound.exact`` the rational itself.  Powers ``r^(k-1)`` and long schedules whose exact
rationals would exceed :data:`EXACT_BITS_LIMIT` bits are evaluated instead in mpmath at
a working precision with ample guard bits (``Bound.exact`` is then None); no mpmath
global precision is ever assigned.

Sizes: every argument, as p/q in lowest terms, must have ``|p|, q <= 2^MAX_EXPONENT``
(:data:`lpsgd._validate.MAX_EXPONENT` = 2^15: nonzero magnitudes in [2^-32768, 2^32768],
every float64 and binary128 value included), integer arguments too (``k <= 2^32768``);
larger ones raise InvalidArgument naming the argument, so that no bound takes more than
a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from mpmath import libmp

from lpsgd._validate import MAX_EXPONENT, check_exact_size, check_int, check_real, nstr
from lpsgd._validate import show as _show
from lpsgd.errors import AssumptionError, InvalidArgument

__all__ = ["Bound", "PRECISION", "EXACT_BITS_LIMIT", "MAX_EXPONENT", "BCN2018", "PAPER"]

#: Bits of ``Bound.value`` (at least; inputs with longer mantissas raise it).
PRECISION = 256
#: Largest estimated size, in bits, of an exact rational we are willing to build.
EXACT_BITS_LIMIT = 1 << 16

PAPER = ("arXiv 2508.07142 (Why does stochastic gradient descent slow down in "
         "low-precision training?)")
BCN2018 = ("Bottou, Curtis, Nocedal (2018), Optimization methods for large-scale machine "
           "learning, SIAM Review 60(2)")


@dataclasses.dataclass(frozen=True)
class Bound:
    """The right-hand side of a theorem, evaluated exactly, with what it assumed.

    Attributes:
        value: the bound as an mpmath mpf (the exact rational rounded once to nearest at
            :data:`PRECISION` bits or more).
        theorem: the name of the function that produced it (``"theorem1"``, ...).
        kind: ``"upper"``: the theorem claims ``observed <= value``.
        assumptions: the assumptions that were checked, each with its numbers.
        reference: the statement, the function that evaluates it, and the literature it
            restates (the paper, Bottou, Curtis, Nocedal 2018) or "derived here".
        terms: named parts of the bound (floor, rate, transient, ...) for reports.
        exact: the bound as an exact Fraction, or None when a power or a long schedule
            was evaluated in mpmath instead (see the module docstring).
    """

    value: mpmath.mpf
    theorem: str
    kind: str = "upper"
    assumptions: tuple[str, ...] = ()
    reference: str = ""
    terms: Mapping[str, mpmath.mpf] = dataclasses.field(default_factory=dict, compare=False)
    exact: Fraction | None = dataclasses.field(default=None, compare=False)

    def __float__(self) -> float:
        # Fraction -> float is correctly rounded; mpf -> float rounds to nearest too.
        # Beyond the float64 range the result is +-inf, as float() of a huge mpf gives
        # (float() of a huge Fraction would raise OverflowError instead).
        if self.exact is not None:
            try:
                return float(self.exact)
            except OverflowError:
                return math.inf if self.exact > 0 else -math.inf
        return float(self.value)

    def holds(self, observed: object, *, rtol: float = 0.0) -> bool:
        """Whether ``observed <= value * (1 + rtol)`` (exactly, for exact observations)."""
        check_real("rtol", rtol, min_value=0)
        check_exact_size("rtol", rtol)
        check_real("observed", observed, allow_inf=True)
        check_exact_size("observed", observed)
        obs = to_fraction(observed)
        if obs is None:
            return observed < 0
        scale = 1 + to_fraction(rtol)
        if self.exact is not None:
            return obs <= self.exact * scale
        # value = man 2^exp: after a long run 2^exp can be 2^-(10^9); compare the
        # magnitudes first, so the exact rational is built only when they are close
        # (and then it is no larger than the observation and rtol themselves).
        man, exp = self.value.man_exp
        return _le_scaled(obs, Fraction(man) * scale, exp)

    def __repr__(self) -> str:
        return (f"Bound({self.theorem}: {self.kind} {nstr(self.value)}, "
                f"{len(self.assumptions)} assumptions)")


def _le_scaled(x: Fraction, t: Fraction, exp: int) -> bool:
    """``x <= t 2^exp``, exactly, without building 2^exp when the sides are far apart."""
    if t == 0:
        return x <= 0
    if x == 0:
        return t > 0
    if (x < 0) != (t < 0):
        return x < 0
    lx, lt = value_log2(abs(x)), value_log2(abs(t)) + exp  # each log2 to within 1
    if lx + 2 < lt:
        return x > 0  # |x| < |t| 2^exp
    if lx > lt + 2:
        return x < 0
    return x <= t * _pow2(exp)


def _pow2(e: int) -> Fraction:
    return Fraction(1 << e) if e >= 0 else Fraction(1, 1 << -e)


# -- exact conversions ------------------------------------------------------------------
def to_fraction(value: Any) -> Fraction | None:
    """The exact rational value of a finite real (None for +-inf)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    if isinstance(value, mpmath.mpf):
        if mpmath.isinf(value):
            return None
        man, exp = value.man_exp
        return Fraction(man) * Fraction(2) ** exp
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, np.floating):
        value = float(value)  # float32/float16 widen to float64 exactly
    if isinstance(value, float):
        return None if math.isinf(value) else Fraction(value)
    as_ratio = getattr(value, "as_integer_ratio", None)
    if as_ratio is not None:
        return Fraction(*as_ratio())
    return Fraction(float(value))


def to_mpf(value: Fraction, prec: int) -> mpmath.mpf:
    """``value`` rounded once to nearest (ties to even) into an mpf of ``prec`` bits.

    One integer division to ``prec + 3`` bits plus a sticky bit decides the rounding
    exactly; mpmath's own rational conversion first normalises the numerator and the
    denominator exactly, which takes seconds for denominators of a million bits.
    """
    p, q = value.numerator, value.denominator
    if p == 0:
        return mpmath.mp.make_mpf(libmp.fzero)
    neg, p = p < 0, abs(p)
    if q & (q - 1) == 0:  # dyadic: exact as it stands
        tz = (p & -p).bit_length() - 1
        man, exp = p >> tz, tz - (q.bit_length() - 1)
    else:
        shift = prec + 3 - (p.bit_length() - q.bit_length())
        quo, rem = divmod(p << shift, q) if shift >= 0 else divmod(p, q << -shift)
        man, exp = (quo << 1) | (rem != 0), -shift - 1  # >= prec + 2 bits, sticky last
    raw = libmp.from_man_exp(-man if neg else man, exp, prec, libmp.round_nearest)
    return mpmath.mp.make_mpf(raw)


def show(value: Any) -> str:
    """How an argument is written in messages: as the caller gave it."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, numbers.Integral):
        n = int(value)
        return str(n) if n.bit_length() <= 256 else num(Fraction(n))
    if isinstance(value, Fraction):
        # Huge numerators or denominators are shown by their nearest float instead.
        return str(value) if bits(value) <= 256 else num(value)
    if isinstance(value, mpmath.mpf):
        return nstr(value)
    if isinstance(value, np.floating):
        return repr(float(value))
    return _show(value)


def num(value: Fraction | None) -> str:
    """How a derived quantity is written in messages: its nearest float (or inf)."""
    if value is None:
        return "inf"
    if value.denominator == 1 and abs(value.numerator) < 10 ** 15:
        return str(value.numerator)
    try:
        f = float(value) if -1023 < value_log2(value) < 1024 else math.inf
    except OverflowError:  # just below 2^1024, rounding up to it
        f = math.inf
    if f != 0 and math.isfinite(f):
        return repr(f)
    return nstr(to_mpf(value, 64))


def value_log2(value: Fraction) -> int:
    """About log2 |value| (exact to +-1), without building a float."""
    return abs(value.numerator).bit_length() - value.denominator.bit_length()


# -- argument parsing and assumption checking -------------------------------------------
class Checker:
    """Parses arguments (InvalidArgument on NaN / non-numbers) and checks assumptions.

    Parse every argument first, then call :meth:`require`, so that a call with any
    malformed argument raises InvalidArgument before an assumption is looked at.
    """

    def __init__(self, theorem: str):
        self.theorem = theorem
        self.assumptions: list[str] = []
        self.shown: dict[str, str] = {}
        self.raw: dict[str, list[Any]] = {}  # sequence items as given, for messages
        self.prec = PRECISION

    def _track(self, q: Fraction | None) -> None:
        if q is not None and q.denominator & (q.denominator - 1) == 0:
            # A dyadic input is kept exactly at k = 1 only if Bound.value has its bits.
            self.prec = max(self.prec, q.numerator.bit_length() + 8)

    def real(self, name: str, value: Any, *, allow_inf: bool = False) -> Fraction | None:
        check_real(name, value, allow_inf=allow_inf)
        check_exact_size(name, value)
        q = to_fraction(value)
        self._track(q)
        self.shown[name] = show(value)
        return q

    def integer(self, name: str, value: Any) -> int:
        n = check_int(name, value)
        check_exact_size(name, n)
        self.shown[name] = show(n)
        return n

    def sequence(self, name: str, values: Any, *, allow_empty: bool = False) -> list[Fraction]:
        if isinstance(values, str | bytes) or not isinstance(values, Iterable | np.ndarray):
            raise InvalidArgument(
                f"Expected {name} to be a sequence of real numbers but got {name}={show(values)}")
        if isinstance(values, np.ndarray) and values.ndim != 1:
            raise InvalidArgument(f"Expected {name} to be one-dimensional but got "
                                  f"{name} with shape {values.shape}")
        items = list(values)
        if not items and not allow_empty:
            raise InvalidArgument(f"Expected {name} to be non-empty but got {name}={show(values)}")
        out = []
        for i, v in enumerate(items):
            check_real(f"{name}[{i}]", v)
            check_exact_size(f"{name}[{i}]", v)
            q = to_fraction(v)
            self._track(q)
            out.append(q)
        self.shown[name] = f"{len(out)} values"
        self.raw[name] = items
        return out

    def require(self, ok: bool, holds: str, fails: str) -> None:
        """Record assumption ``holds`` or raise AssumptionError with ``fails``."""
        if not ok:
            raise AssumptionError(f"{self.theorem}: {fails}")
        self.assumptions.append(holds)

    # common assumptions, worded once
    def positive(self, name: str, value: Fraction, what: str) -> None:
        s = self.shown[name]
        self.require(value > 0, f"{what} {name}={s} > 0", f"{what} {name}={s} must be > 0")

    def nonnegative(self, name: str, value: Fraction, what: str) -> None:
        s = self.shown[name]
        self.require(value >= 0, f"{what} {name}={s} >= 0",
                     f"{what} {name}={s} must be >= 0")

    def at_least_one(self, name: str, value: int, what: str) -> None:
        s = self.shown[name]
        self.require(value >= 1, f"{what} {name}={s} >= 1", f"{what} {name}={s} must be >= 1")

    def smoothness(self, L: Fraction) -> None:
        self.positive("L", L, "(A1) smoothness constant")

    def strong_convexity(self, c: Fraction, L: Fraction) -> None:
        sc, sL = self.shown["c"], self.shown["L"]
        self.require(c > 0, f"(A3) strong convexity c={sc} > 0",
                     f"(A3) strong convexity c={sc} must be > 0")
        self.require(c <= L, f"(A3) c={sc} <= L={sL}",
                     f"(A3) strong convexity c={sc} exceeds the smoothness constant L={sL} "
                     f"(an L-smooth c-strongly convex F has c <= L)")

    def variances(self, **values: Fraction) -> None:
        for name, v in values.items():
            self.nonnegative(name, v, "(A2) variance constant")

    def shrinkage(self, q_min: Fraction, q_max: Fraction) -> None:
        for name, q in (("q_min", q_min), ("q_max", q_max)):
            s = self.shown[name]
            self.require(0 < q <= 1, f"shrinkage {name}={s} in (0, 1]",
                         f"shrinkage {name}={s} is outside (0, 1]")
        self.require(q_min <= q_max, f"q_min={self.shown['q_min']} <= q_max={self.shown['q_max']}",
                     f"q_min={self.shown['q_min']} exceeds q_max={self.shown['q_max']}")

    def gap(self, gap: Fraction, what: str = "F(w_1) - F*") -> None:
        s = self.shown["gap"]
        self.require(gap >= 0, f"initial gap gap={s} >= 0",
                     f"initial gap gap={s} is negative (gap = {what} >= 0)")

    def stepsize(self, name: str, mu: Fraction, limit: Fraction, limit_text: str,
                 detail: str = "", shown: str | None = None) -> None:
        s = shown if shown is not None else self.shown[name]
        self.require(mu > 0, f"stepsize {name}={s} > 0", f"stepsize {name}={s} must be > 0")
        extra = f" ({detail})" if detail else ""
        self.require(mu <= limit, f"stepsize {name}={s} <= {limit_text}={num(limit)}",
                     f"stepsize {name}={s} exceeds {limit_text}={num(limit)}{extra}")

    def bound(self, *, exact: Fraction | None, value: mpmath.mpf | None = None,
              reference: str, terms: Mapping[str, Fraction | mpmath.mpf]) -> Bound:
        if exact is not None:
            value = to_mpf(exact, self.prec)
        shown_terms = {k: (to_mpf(v, self.prec) if isinstance(v, Fraction) else v)
                       for k, v in terms.items()}
        return Bound(value=value, theorem=self.theorem, kind="upper",
                     assumptions=tuple(self.assumptions), reference=reference,
                     terms=shown_terms, exact=exact)


# -- evaluation -------------------------------------------------------------------------
def bits(q: Fraction) -> int:
    return q.numerator.bit_length() + q.denominator.bit_length()


def power(base: Fraction, n: int) -> Fraction | None:
    """``base**n`` exactly, or None when the rational would be too large to build."""
    if n == 0:
        return Fraction(1)
    if base == 0 or base == 1:
        return base
    if bits(base) * n > EXACT_BITS_LIMIT:
        return None
    return base ** n


def affine_power(a: Fraction, base: Fraction, n: int, b: Fraction,
                 prec: int) -> tuple[Fraction | None, mpmath.mpf, Fraction | mpmath.mpf]:
    """``a + base**n * b``: exact when affordable, else in mpmath with guard bits.

    The mpmath path (``0 < base < 1``) evaluates ``a (1 - base^n) + base^n (a + b)`` with
    ``base^n = exp(y)``, ``1 - base^n = -expm1(y)``, ``y = n log1p(-(1 - base))``: for the
    theorems ``a`` (the floor) and ``a + b`` (the gap) are >= 0, so no cancellation.

    Returns (exact or None, value rounded to ``prec`` bits, base**n).
    """
    p = power(base, n)
    if p is not None:
        exact = a + p * b
        return exact, to_mpf(exact, prec), p
    work = prec + 64 + 2 * n.bit_length()
    with mpmath.workprec(work):
        y = n * mpmath.log1p(-to_mpf(1 - base, work))
        pm = mpmath.exp(y)
        v = to_mpf(a, work) * -mpmath.expm1(y) + pm * to_mpf(a + b, work)
    with mpmath.workprec(prec):
        return None, +v, +pm


def work_precision(prec: int, steps: int) -> int:
    """Working precision for ``steps`` rounded operations to stay far below ``prec`` bits."""
    return prec + 64 + 2 * max(steps, 1).bit_length()
