"""The exact quantiser: every rounding mode of lpsgd.rounding, computed in mpmath.

This is the ground truth the fast numpy quantiser (:mod:`lpsgd.fast.quantize`) is checked
against bit for bit.  Every element is handled on its own, in exact binary arithmetic
(mpmath numbers under a local :func:`mpmath.workprec` wide enough that no operation
rounds), so the code reads like the format semantics it defines:

1. ``|x| = (n + f) q`` with ``q = 2^(max(e, e_min) - M)`` the spacing of the format at
   ``x`` (``e = floor(log2 |x|)``, read from the binary exponent, never from a logarithm),
   ``n`` an integer and ``0 <= f < 1`` the exact fraction of the spacing.
2. The rounding mode picks ``n`` or ``n + 1`` (magnitudes; the sign is applied last, so
   a negative value that rounds to zero gives ``-0.0``).
3. Without subnormals, a result below ``N_min`` becomes a zero of the input's sign,
   whatever the mode (the value is first rounded on the subnormal grid, then flushed).
4. A result above ``X_max`` overflows by the policy below, in every mode.  For the
   stochastic modes this means: for ``X_max < |x| < 2^(e_max + 1)`` the two neighbours
   are ``X_max`` and the next value of the grid with an unbounded exponent range (which
   overflows), chosen with the usual probabilities, so ``E[Q(x)] = x`` holds up to the
   overflow; an earlier version overflowed every ``|x| > X_max``, which biases stochastic
   rounding just above ``X_max``.  In formats with one NaN code (float8_e4m3fn) that next
   value is the NaN code's ``(2 - 2^-M) 2^e_max``, not ``2^(e_max + 1)``; stochastic
   overflow saturates there, so both choices give ``X_max``.

Overflow:

* IEEE-like formats: the nearest modes give inf (nearest_even and nearest_away from
  ``(2 - 2^-(M+1)) 2^e_max`` on, nearest_zero only above it), ``odd`` and ``toward_zero``
  give ``X_max``, ``up`` gives +inf / ``-X_max``, ``down`` ``+X_max`` / -inf, the stochastic
  modes give inf when they round beyond ``X_max`` (rule 4).  inf inputs stay inf.
* fn formats (no inf): ``nearest_even`` follows ml_dtypes' casts: float8_e4m3fn-like
  formats (one NaN code) give NaN on overflow and for inf inputs; formats with no NaN
  saturate to ``+-X_max``.  Every other mode saturates to ``+-X_max``.
* ``saturate=True`` clamps every overflow, and inf inputs, to ``+-X_max`` in any format.

NaN inputs give NaN (a quiet NaN with the input's sign bit, as numpy's and ml_dtypes'
casts keep it; an overflow to NaN carries the sign of x), with one exception taken from
ml_dtypes: for ``nearest_even`` into a format with no NaN encoding (float6_e3m2fn,
float6_e2m3fn, float4_e2m1fn and any ``Format(..., inf=False, nan=False)``), ml_dtypes
returns a zero whose sign is the *opposite* of the NaN's sign bit, and so do we.  The
other modes return NaN for such formats (the float64 result can say "invalid input",
the format itself cannot).

Equality of results: the sign of a NaN result is part of this contract, its payload is
not.  Two results agree when their float64 bits are equal or both are NaN with the same
sign bit (:func:`lpsgd.bitwise.same_values`); "bit for bit" means exactly that everywhere
in lpsgd (fast against reference, :func:`lpsgd.testing.check_quantizer`, tests, report).

Parity (ties to even, round to odd) is that of the integer significand ``n`` at the
spacing of x, not of the bit pattern: with M = 0 every normal significand is 1 (odd), so
under nearest_even a tie between normals goes to the larger magnitude and ``odd``
truncates in the normal range; on the subnormal grid ``n = 0`` (zero) is even.

Stochastic modes take their randomness explicitly: ``uniforms`` (u in [0, 1), the input's
shape) or ``rng`` (a numpy Generator; ``u = rng.random(np.shape(x))`` is drawn in one call,
exactly as the fast path draws it, so the same seed gives the same bits).  With
``stochastic`` the magnitude rounds up iff ``u < f``; with ``stochastic_equal`` iff
``u < 1/2``; a representable ``x`` is returned unchanged.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import mpmath
import numpy as np

from lpsgd._quantize_common import (
    FLOAT_DTYPES,
    check_common,
    check_float32_results,
    check_randomness,
    input_array,
    non_float_input,
)
from lpsgd._validate import show
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format
from lpsgd.rounding import RoundingMode
from lpsgd.scaled import check_element_axis, is_scaled

__all__ = ["quantize"]


# --------------------------------------------------------------------------------------
# The exact rounding of one value.
# --------------------------------------------------------------------------------------
class _Result:
    """A quantised value: sign, and an exact magnitude (mpf), or 'nan'/'inf'."""

    __slots__ = ("neg", "mag", "special")

    def __init__(self, neg: bool, mag: mpmath.mpf | None = None,
                 special: str | None = None) -> None:
        self.neg, self.mag, self.special = neg, mag, special


def _exact(man: int, exp: int) -> mpmath.mpf:
    """man * 2^exp as an mpf, exactly (the working precision covers the mantissa)."""
    with mpmath.workprec(max(abs(man).bit_length(), 53)):
        return mpmath.mpf((man, exp))




class _Constants:
    """X_max and N_min of a format as exact mpf values (computed once per call)."""

    def __init__(self, f: Format) -> None:
        self.xmax = _exact(f.max_significand, f.e_max - f.man_bits)
        self.nmin = _exact(1, f.e_min)
        # working precision at which no step of _round_one rounds (see there)
        self.prec = max(f.man_bits + 2, 53) + 8


def _overflow(f: Format, c: _Constants, mode: RoundingMode, neg: bool,
              saturate: bool) -> _Result:
    """The result of an overflow (a rounded magnitude above X_max) under the policy."""
    if saturate:
        return _Result(neg, c.xmax)
    if f.kind != "ieee":
        if mode is RoundingMode.NEAREST_EVEN and f.kind == "fn":
            return _Result(neg, special="nan")  # ml_dtypes: float8_e4m3fn overflow is NaN
        return _Result(neg, c.xmax)
    if mode in (RoundingMode.TOWARD_ZERO, RoundingMode.ODD):
        return _Result(neg, c.xmax)
    if mode is RoundingMode.UP:
        return _Result(neg, c.xmax) if neg else _Result(neg, special="inf")
    if mode is RoundingMode.DOWN:
        return _Result(neg, special="inf") if neg else _Result(neg, c.xmax)
    return _Result(neg, special="inf")  # nearest and stochastic modes


_HALF = mpmath.mpf(0.5)


def rounds_up(mode: RoundingMode, n: int, frac, neg: bool, u, half) -> bool:
    """Whether ``mode`` takes the upper neighbour ``n + 1`` (in magnitude) of a value
    ``(n + frac)`` spacings from zero, ``0 <= frac < 1`` exact; ``u`` the uniform of the
    stochastic modes and ``half`` one half, both of the type of ``frac`` (mpf or
    Fraction), so every comparison is exact.  The one description of the modes used by
    the exact element and scaled quantisers."""
    if frac == 0:
        return False
    if mode is RoundingMode.NEAREST_EVEN:
        return frac > half or (frac == half and n % 2 == 1)
    if mode is RoundingMode.NEAREST_AWAY:
        return frac >= half
    if mode is RoundingMode.NEAREST_ZERO:
        return frac > half
    if mode is RoundingMode.TOWARD_ZERO:
        return False
    if mode is RoundingMode.UP:
        return not neg
    if mode is RoundingMode.DOWN:
        return neg
    if mode is RoundingMode.ODD:
        return n % 2 == 0
    if mode is RoundingMode.STOCHASTIC:
        return u < frac
    return u < half  # STOCHASTIC_EQUAL


def _round_one(v: mpmath.mpf, neg: bool, f: Format, c: _Constants, mode: RoundingMode,
               u: float | None, saturate: bool) -> _Result:
    """Round one exact value ``v`` (mpf; ``neg`` carries the sign, also of zeros/NaN).

    The caller holds ``mpmath.workprec(c.prec)``: the format's significand (``n + 1 <=
    2^(M+1)``) and u (53 bits) fit, so no operation below rounds; an input with a
    longer mantissa widens the precision locally.
    """
    if mpmath.isnan(v):
        if mode is RoundingMode.NEAREST_EVEN and f.kind == "fn_nonan":
            # ml_dtypes: a NaN cast to a format without NaN gives a zero of the other sign.
            return _Result(not neg, mpmath.mpf(0))
        return _Result(neg, special="nan")
    if mpmath.isinf(v):
        if f.kind == "ieee" and not saturate:
            return _Result(neg, special="inf")
        return _overflow(f, c, mode, neg, saturate)
    if v == 0:
        return _Result(neg, mpmath.mpf(0))

    man, exp = v.man_exp
    man = abs(man)                 # |x| = man * 2^exp exactly (abs() would round to prec)
    e = exp + man.bit_length() - 1  # floor(log2 |x|), from the binary exponent
    qe = max(e, f.e_min) - f.man_bits
    with mpmath.workprec(max(man.bit_length() + 8, c.prec)):
        a = mpmath.mpf((man, exp))
        y = mpmath.ldexp(a, -qe)   # |x| / q, exact (a power-of-two scaling)
        n = int(mpmath.floor(y))
        frac = y - n               # exact fraction of the spacing, in [0, 1)
    # u is a float64: exact as an mpf at c.prec >= 53 bits
    up = rounds_up(mode, n, frac, neg, None if u is None else mpmath.mpf(u), _HALF)
    mag = mpmath.ldexp(n + int(up), qe)  # n + 1 <= 2^(M+1) fits c.prec: exact

    if not f.subnormals and mag < c.nmin:
        return _Result(neg, mpmath.mpf(0))  # flush to zero, whatever the mode
    if mag > c.xmax:  # every mode, stochastic ones included (rule 4)
        return _overflow(f, c, mode, neg, saturate)
    return _Result(neg, mag)


# --------------------------------------------------------------------------------------
# Inputs and outputs.
# --------------------------------------------------------------------------------------
def _exact_mpf(v: object) -> tuple[mpmath.mpf, bool]:
    """An element as an exact mpf plus its sign bit (kept for zeros and NaN)."""
    if isinstance(v, mpmath.mpf):
        return v, bool(v < 0)  # an mpf has no -0.0; NaN counts as positive
    fv = float(v)  # float32/float64 scalars convert exactly (the caller holds >= 53 bits)
    return mpmath.mpf(fv), math.copysign(1.0, fv) < 0


def _elements(x: object) -> tuple[list[object], tuple[int, ...], np.dtype | None]:
    """Flatten x into elements; return them, the shape and the float dtype to return."""
    if isinstance(x, mpmath.mpf):
        return [x], (), None
    if isinstance(x, bool | np.bool_) or isinstance(x, numbers.Integral):
        raise non_float_input(x, fast=False)
    if isinstance(x, float | np.floating):
        dt = np.dtype(type(x)) if isinstance(x, np.floating) else np.dtype(np.float64)
        if dt not in FLOAT_DTYPES:
            raise non_float_input(x, fast=False)
        return [x], (), dt
    if isinstance(x, np.ndarray | list | tuple):
        arr = input_array(x, fast=False)
        if arr.dtype in FLOAT_DTYPES:
            return list(arr.reshape(-1)), arr.shape, arr.dtype
        if arr.dtype == object:
            items = list(arr.reshape(-1))
            for item in items:
                ok = isinstance(item, mpmath.mpf | float) and not isinstance(item, bool)
                ok = ok or (isinstance(item, np.floating)
                            and np.dtype(type(item)) in FLOAT_DTYPES)
                if not ok:
                    raise InvalidArgument(
                        f"Expected every element of x to be a float or an mpmath mpf but got "
                        f"{show(item)} of type {type(item).__name__} in x={show(x)}")
            return items, arr.shape, None
    raise non_float_input(x, fast=False)


def _to_float(r: _Result) -> float:
    sign = -1.0 if r.neg else 1.0
    if r.special == "nan":
        return math.copysign(math.nan, sign)  # the input's sign, as casts keep it
    if r.special == "inf":
        return sign * math.inf
    return math.copysign(float(r.mag), sign)  # exact: the format fits binary64


def _to_mpf(r: _Result) -> mpmath.mpf:
    if r.special == "nan":
        return mpmath.mpf("nan")
    if r.special == "inf":
        return mpmath.mpf("-inf") if r.neg else mpmath.mpf("inf")
    if not r.neg or r.mag == 0:
        return r.mag
    man, exp = r.mag.man_exp
    return _exact(-man, exp)  # unary minus would round to the global precision


def quantize(x: Any, fmt: Format | str, rounding: str | RoundingMode = "nearest_even", *,
             rng: np.random.Generator | None = None, uniforms: Any = None,
             saturate: bool = False, axis: int = -1) -> np.ndarray:
    """Round ``x`` to the format ``fmt`` exactly (the ground truth of lpsgd).

    Args:
        x: a float64 or float32 numpy array or scalar, a Python float, an mpmath mpf, or
            an object array of floats/mpf.  Integers, complex numbers and strings are
            rejected.  mpf values are used exactly (whatever their precision).
        fmt: a :class:`~lpsgd.formats.Format` or a preset name ("binary16", ...), or a
            :class:`~lpsgd.scaled.ScaledFormat` or scaled preset name ("mxfp4_e2m1",
            ...), handled by :func:`lpsgd.reference.scaled.quantize_scaled`.
        rounding: one of :data:`lpsgd.rounding.ROUNDING_MODES`.
        rng: numpy Generator for the stochastic modes (``u = rng.random(np.shape(x))``).
        uniforms: the uniforms in [0, 1) for the stochastic modes, shaped like ``x``.
        saturate: clamp overflows and infinite inputs to ``+-X_max`` in any format.
        axis: the block axis of a scaled format (:mod:`lpsgd.scaled`); element formats
            accept only the default -1.

    Returns:
        For formats that fit binary64: a numpy array of the input's float dtype (float64
        for Python floats and mpf inputs), same shape (0-d for scalars), holding the
        exact results with the sign of zero kept.  Float32 inputs whose result float32
        cannot hold raise InvalidArgument.  Wider formats: an object array of mpf (an mpf
        cannot hold -0.0, so negative zeros come back as 0).

    Raises:
        InvalidArgument: bad format/mode names, non-float input, bad randomness arguments.
    """
    if is_scaled(fmt):  # a ScaledFormat or a scaled preset name: lpsgd.reference.scaled
        from lpsgd.reference.scaled import quantize_scaled

        return quantize_scaled(x, fmt, rounding, rng=rng, uniforms=uniforms,
                               saturate=saturate, axis=axis)
    check_element_axis(axis)
    f, mode, saturate = check_common(fmt, rounding, saturate)
    items, shape, dtype = _elements(x)
    u = check_randomness(mode, shape, rng, uniforms)
    if mode.is_stochastic and u is None:
        u = rng.random(shape)  # one call, C order: the fast path draws the same numbers
    u_flat = None if u is None else u.reshape(-1)
    consts = _Constants(f)
    results = []
    with mpmath.workprec(consts.prec):
        for i, item in enumerate(items):
            v, neg = _exact_mpf(item)
            ui = None if u_flat is None else float(u_flat[i])
            results.append(_round_one(v, neg, f, consts, mode, ui, saturate))
    if not f.fits_binary64:
        out = np.empty(len(results), dtype=object)
        out[:] = [_to_mpf(r) for r in results]
        return out.reshape(shape)
    res64 = np.array([_to_float(r) for r in results], dtype=np.float64).reshape(shape)
    if dtype == np.float32:
        return check_float32_results(res64)
    return res64
