"""Exact shrinkage profiles of the quantisers (lpsgd.theory.formats_bridge) and measured shrinkage.

For an elementwise quantiser Q write rho(x) = Q(x) / x.  :func:`profile` gives, exactly
(as :class:`fractions.Fraction`), for a format and a rounding mode:

* ``smallest_surviving``: the infimum of the magnitudes |x| with Q(x) != 0 (whether the
  infimum itself survives is ``survives_at_infimum``);
* ``q_hi``: sup of rho(x) over finite 0 < |x| <= X_max (``math.inf`` when unbounded);
* ``q_lo(t)``: inf of rho(x) over t <= |x| <= X_max;
* for the stochastic modes ``quantum(x)`` and ``variance_bound(x) = quantum(x)^2 / 4``.

Both signs of x are covered (``up`` and ``down`` are not sign symmetric).  For the
stochastic modes q_lo and q_hi are pathwise: they bound rho over every possible outcome
(the lower neighbour gives q_lo, the upper one q_hi); on average Q(x) = x (subnormals on).

Closed forms (s = 2^(e_min - M), N = N_min = 2^e_min, X = X_max, "grid" = the values of
the format with the subnormal grid below N, down(t)/up(t) the grid neighbours of t,
sp(g) the distance from a grid point g to the next one, flush(v) = 0 when subnormals are
off and v < N):

======================  ============================  ================================
mode                    smallest_surviving            q_hi
======================  ============================  ================================
toward_zero             s (N without subnormals)      1
nearest_*               s/2 (N - s/2 without)         2 (2^(M+1) / (2^(M+1) - 1) without)
up, down, stochastic*   0 (N - s without)             inf (2^M / (2^M - 1) without, M>=1)
odd                     0 (N without, M >= 1)         inf (1 + 2^-M without, M >= 1)
======================  ============================  ================================

q_lo(t): rho is constant-numerator on pieces between switch points, so its infimum on a
piece [a, b) with value g is g / b.  Within the subnormal range and within a binade the
piece infima increase with the significand (per parity class for ``odd``), and every
normal binade repeats the same pattern; so q_lo(t) is the smaller of the piece of t
(or the first odd piece from t for ``odd``) and the first piece(s) of a later binade
starting below X:

* toward_zero (and up, down, stochastic*): g0 = flush(down(t)); 0 if g0 = 0, else
  min(g0 / (g0 + sp(g0)), 2^M / (2^M + 1) if some 2^e in (g0, X), e >= e_min); 1 at t = X.
* nearest_*: g0 = Q(t); 0 if g0 = 0, else min(g0 / (g0 + sp(g0)/2),
  2^(M+1) / (2^(M+1) + 1) if some 2^e in (g0, X)); 1 if g0 = X.
* odd: 0 if Q(t) = 0; g1 = the first grid point >= down(t) with an odd significand;
  min(g1 / (g1 + sp(g1)) if g1 < X, and (2^M + 1)/(2^M + 2) if some binade start 2^e > g1
  has 2^e + 2 q_e <= X (M = 0: 1/2 if 2^(e+1) <= X)); 1 when no piece qualifies.

tests/test_shrinkage.py checks every formula against brute force with the reference
quantiser over every code, tie and neighbour of small formats.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from typing import Any, Callable

import mpmath
import numpy as np

from lpsgd._validate import check_real, show
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format, as_format
from lpsgd.rounding import RoundingMode, rounding_mode
from lpsgd.scaled import is_scaled

__all__ = ["ShrinkageProfile", "profile", "projection_shrinkage", "norm_ratio"]

Number = Fraction | float


@dataclasses.dataclass(frozen=True)
class ShrinkageProfile:
    """The exact shrinkage profile of (format, rounding) (see the module docstring)."""

    fmt: Format
    rounding: RoundingMode
    smallest_surviving: Fraction
    survives_at_infimum: bool
    q_hi: Number
    _q_lo: Callable[[Fraction], Fraction] = dataclasses.field(repr=False)

    def q_lo(self, t: Any) -> Fraction:
        """inf of Q(x)/x over t <= |x| <= X_max (exact), for 0 < t <= X_max."""
        t = _as_fraction("t", t)
        if t <= 0 or t > self.fmt.x_max:
            raise InvalidArgument(f"Expected 0 < t <= X_max={_text(self.fmt.x_max)} for "
                                  f"{self.fmt.label} but got t={_text(t)}")
        return self._q_lo(t)

    def quantum(self, x: Any) -> Fraction:
        """Distance between the two possible stochastic results of x (exact).

        2^(max(e, e_min) - M) for |x| in the binade of exponent e; s at x = 0; without
        subnormals N_min for |x| < N_min (the outcomes are 0 and N_min).
        """
        self._need_stochastic("quantum")
        a = abs(_as_fraction("x", x))
        f = self.fmt
        if a > f.x_max:
            raise InvalidArgument(f"Expected |x| <= X_max={_text(f.x_max)} but got "
                                  f"x={_text(x)}")
        if a == 0:
            return f.subnormal_spacing
        if not f.subnormals and a < f.n_min:
            return f.n_min
        return _spacing_in_binade(f, a)

    def variance_bound(self, x: Any) -> Fraction:
        """quantum(x)^2 / 4 >= Var Q(x) (a two-point law spread over quantum(x))."""
        return self.quantum(x) ** 2 / 4

    def _need_stochastic(self, what: str) -> None:
        if not self.rounding.is_stochastic:
            raise InvalidArgument(f"{what} is defined for the stochastic modes; got "
                                  f"rounding={self.rounding.value!r}")


# -- exact grid helpers -------------------------------------------------------------------

def _text(v: Fraction) -> str:
    """A value in messages: its nearest float64, or (beyond float64) 17 digits."""
    try:
        f = float(v)
    except OverflowError:
        f = math.inf
    return repr(f) if math.isfinite(f) and (f != 0 or v == 0) else show(v)


def _as_fraction(name: str, v: Any) -> Fraction:
    if isinstance(v, Fraction):
        return v
    check_real(name, v)
    if isinstance(v, mpmath.mpf):
        man, exp = v.man_exp  # exact, whatever the mpf's precision
        return Fraction(man) * Fraction(2) ** exp
    if isinstance(v, np.floating):
        return Fraction(float(v))  # float32/float64 values are exact as Python floats
    return Fraction(v)


def _floor_log2(a: Fraction) -> int:
    e = a.numerator.bit_length() - a.denominator.bit_length()
    return e - 1 if Fraction(2) ** e > a else e


def _spacing_in_binade(f: Format, a: Fraction) -> Fraction:
    """Spacing of the grid at a > 0 (the subnormal grid below N_min)."""
    return Fraction(2) ** (max(_floor_log2(a), f.e_min) - f.man_bits)


def _down(f: Format, a: Fraction) -> Fraction:
    """Largest grid point <= a (a >= 0), on the subnormal grid below N_min."""
    if a == 0:
        return a
    q = _spacing_in_binade(f, a)
    return (a // q) * q


def _sp(f: Format, g: Fraction) -> Fraction:
    """Distance from grid point g >= 0 to the next grid point above it."""
    return f.subnormal_spacing if g < f.n_min else _spacing_in_binade(f, g)


def _flush(f: Format, v: Fraction) -> Fraction:
    return Fraction(0) if (not f.subnormals and v < f.n_min) else v


def _significand(f: Format, g: Fraction) -> int:
    """Integer significand of a grid point (j for j*s below N_min)."""
    return int(g / _sp(f, g)) if g < f.n_min else int(g / _spacing_in_binade(f, g))


def _nearest(f: Format, mode: RoundingMode, a: Fraction) -> Fraction:
    """The nearest-mode rounding of a >= 0 on the grid, flushed (no overflow: a <= X)."""
    lo = _down(f, a)
    if lo == a:
        return _flush(f, a)
    hi = lo + _sp(f, lo)
    mid = (lo + hi) / 2
    if a > mid:
        r = hi
    elif a < mid:
        r = lo
    elif mode is RoundingMode.NEAREST_AWAY:
        r = hi
    elif mode is RoundingMode.NEAREST_ZERO:
        r = lo
    else:
        r = lo if _significand(f, lo) % 2 == 0 else hi
    return _flush(f, r)


def _odd(f: Format, a: Fraction) -> Fraction:
    lo = _down(f, a)
    if lo == a:
        return _flush(f, a)
    r = lo if _significand(f, lo) % 2 == 1 else lo + _sp(f, lo)
    return _flush(f, r)


def _binade_start_between(f: Format, lo: Fraction, hi: Fraction) -> Fraction | None:
    """Smallest 2^e with e >= e_min and lo < 2^e < hi, or None."""
    e = f.e_min if lo < f.n_min else _floor_log2(lo) + 1
    p = Fraction(2) ** e
    return p if lo < p < hi else None


# -- the profiles ---------------------------------------------------------------------------

def _q_lo_toward_zero(f: Format) -> Callable[[Fraction], Fraction]:
    m, x_max = f.man_bits, f.x_max

    def q_lo(t: Fraction) -> Fraction:
        if t == x_max:
            return Fraction(1)
        g0 = _flush(f, _down(f, t))
        if g0 == 0:
            return Fraction(0)
        best = g0 / (g0 + _sp(f, g0))
        if _binade_start_between(f, g0, x_max) is not None:
            best = min(best, Fraction(2 ** m, 2 ** m + 1))
        return best
    return q_lo


def _q_lo_nearest(f: Format, mode: RoundingMode) -> Callable[[Fraction], Fraction]:
    m, x_max = f.man_bits, f.x_max

    def q_lo(t: Fraction) -> Fraction:
        g0 = _nearest(f, mode, t)
        if g0 == 0:
            return Fraction(0)
        if g0 == x_max:
            return Fraction(1)
        best = g0 / (g0 + _sp(f, g0) / 2)
        if _binade_start_between(f, g0, x_max) is not None:
            best = min(best, Fraction(2 ** (m + 1), 2 ** (m + 1) + 1))
        return best
    return q_lo


def _q_lo_odd(f: Format) -> Callable[[Fraction], Fraction]:
    m, x_max = f.man_bits, f.x_max

    def q_lo(t: Fraction) -> Fraction:
        if _odd(f, t) == 0:
            return Fraction(0)
        g1 = _down(f, t)
        if _significand(f, g1) % 2 == 0:
            g1 = g1 + _sp(f, g1)
        best = Fraction(1)
        if g1 < x_max:
            best = min(best, g1 / (g1 + _sp(f, g1)))
        # later binades all repeat one pattern: the first one after g1 decides
        p = _binade_start_between(f, g1, x_max)
        if p is not None:
            q = _spacing_in_binade(f, p)
            if m == 0 and 2 * p <= x_max:
                best = min(best, Fraction(1, 2))
            elif m >= 1 and p + 2 * q <= x_max:
                best = min(best, Fraction(2 ** m + 1, 2 ** m + 2))
        return best
    return q_lo


def profile(fmt: Format | str, rounding: str | RoundingMode) -> ShrinkageProfile:
    """The exact shrinkage profile of quantising to ``fmt`` with ``rounding``.

    A block-scaled format (:class:`lpsgd.scaled.ScaledFormat` or a scaled preset name)
    with a deterministic element mode gives its block-scale profile instead:
    :func:`lpsgd.theory.scaled_model.scaled_constants`, whose ``q_lo(t)`` takes ``t``
    relative to the block scale (``|g_i| / s_B``) and which carries ``q_hi``, ``kappa`` and
    ``Y``.

    Args:
        fmt: a Format or a preset name (unscaled or scaled).
        rounding: any mode of :data:`lpsgd.rounding.ROUNDING_MODES` (a deterministic one
            for scaled formats).

    Returns:
        A :class:`ShrinkageProfile` (exact Fractions; ``q_hi`` may be ``math.inf``), or
        for a scaled format a :class:`lpsgd.theory.scaled_model.ScaledConstants`.

    Raises:
        InvalidArgument: an unknown format or mode; a stochastic mode with a scaled format.
        AssumptionError: a scaled format whose constants are not derived (an E4M3 block
            scale, NVFP4).
    """
    if is_scaled(fmt):
        from lpsgd.theory.scaled_model import scaled_constants  # the theory imports us

        return scaled_constants(fmt, rounding)
    f = as_format(fmt)
    mode = rounding_mode(rounding)
    m, s, n = f.man_bits, f.subnormal_spacing, f.n_min
    sub = f.subnormals
    if mode is RoundingMode.TOWARD_ZERO:
        return ShrinkageProfile(f, mode, s if sub else n, True, Fraction(1),
                                _q_lo_toward_zero(f))
    if mode.is_nearest:
        if sub:
            smallest, at = s / 2, mode is RoundingMode.NEAREST_AWAY
            q_hi: Number = Fraction(2)
        else:
            smallest = n - s / 2
            # the tie N - s/2 goes up under nearest_away, and under nearest_even when the
            # significand 2^M of N is even (M >= 1)
            at = (mode is RoundingMode.NEAREST_AWAY
                  or (mode is RoundingMode.NEAREST_EVEN and m >= 1))
            q_hi = Fraction(2 ** (m + 1), 2 ** (m + 1) - 1)
        return ShrinkageProfile(f, mode, smallest, at, q_hi, _q_lo_nearest(f, mode))
    if mode is RoundingMode.ODD:
        if sub or m == 0:
            return ShrinkageProfile(f, mode, Fraction(0), False, math.inf, _q_lo_odd(f))
        return ShrinkageProfile(f, mode, n, True, 1 + Fraction(1, 2 ** m), _q_lo_odd(f))
    # up, down, stochastic, stochastic_equal: lower side as toward_zero, upper side up
    if sub or m == 0:
        smallest, q_hi = Fraction(0), math.inf
    else:
        smallest, q_hi = n - s, Fraction(2 ** m, 2 ** m - 1)
    return ShrinkageProfile(f, mode, smallest, False, q_hi, _q_lo_toward_zero(f))


# -- measured shrinkage of vectors ----------------------------------------------------------

def _pair(qg: Any, g: Any) -> tuple[np.ndarray, np.ndarray]:
    qa = np.asarray(qg, dtype=np.float64)
    ga = np.asarray(g, dtype=np.float64)
    if qa.shape != ga.shape or ga.ndim == 0:
        raise InvalidArgument(f"Expected qg and g of the same shape with at least one axis "
                              f"but got shapes {qa.shape} and {ga.shape}")
    return qa, ga


def projection_shrinkage(qg: Any, g: Any) -> np.ndarray | float:
    """q^ = <Q(g), g> / ||g||^2 along the last axis (NaN where g = 0).

    Then Q(g) = q^ g + e with e orthogonal to g (lpsgd.theory.formats_bridge).
    """
    qa, ga = _pair(qg, g)
    num = np.sum(qa * ga, axis=-1)
    den = np.sum(ga * ga, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if np.ndim(out) == 0 else out


def norm_ratio(qg: Any, g: Any) -> np.ndarray | float:
    """||Q(g)|| / ||g|| along the last axis (NaN where g = 0)."""
    qa, ga = _pair(qg, g)
    num = np.linalg.norm(qa, axis=-1)
    den = np.linalg.norm(ga, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if np.ndim(out) == 0 else out
