"""Argument validation in one place: every public function checks its inputs here.

All helpers raise :class:`lpsgd.errors.InvalidArgument` with a message that names the
argument and the offending value, e.g. ``Expected man_bits >= 0 but got man_bits=-1``.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable

import mpmath
import numpy as np

from lpsgd.errors import InvalidArgument

__all__ = ["check_int", "check_real", "check_choice", "check_bool", "check_exact_size",
           "closest", "show", "nstr", "MAX_EXPONENT"]

#: Size bound on the exact arguments of the theorems (:func:`check_exact_size`): a
#: real argument, written as p/q in lowest terms, needs |p| <= 2^MAX_EXPONENT and
#: q <= 2^MAX_EXPONENT, so a nonzero magnitude lies in [2^-32768, 2^32768].  Every
#: float64 and every binary128 value (down to its smallest subnormal 2^-16494) is
#: admitted; an integer argument needs |n| <= 2^MAX_EXPONENT too.  The theorems
#: multiply a handful of arguments exactly and evaluate logarithms and powers at a
#: precision that grows with their bits: at this size a bound takes milliseconds and
#: the slowest calls found (iterations_to_eps, slowdown_ratio, Theorem 1 with k near
#: 2^32768, every argument at the limit) about a second; arguments of a million bits
#: (c = 2^-1000000) took seconds to minutes, and an mpf of exponent -10^12 would not fit
#: in memory as an exact rational.
MAX_EXPONENT = 1 << 15

#: Integers and rationals of more bits than this are shown by their nearest value.
_SHOW_BITS = 256


def nstr(value: mpmath.mpf, digits: int = 17) -> str:
    """``mpmath.nstr(value, digits)`` of ``value`` first rounded to 64 bits.

    mpmath prints a value of many thousand bits through a decimal integer of as many
    digits, which Python refuses beyond 4300 digits; 64 bits hold 17 digits.
    """
    raw = mpmath.libmp.mpf_pos(value._mpf_, 64, "n")
    return mpmath.nstr(mpmath.mp.make_mpf(raw), digits)


def show(value: object) -> str:
    """``repr(value)`` for messages, safe and short for any value.

    Huge integers and fractions (whose decimal form would have thousands of digits, or
    which Python refuses to convert) are shown by their nearest value with 17 digits,
    other long reprs are cut to 120 characters.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        n = int(value)
        if n.bit_length() > _SHOW_BITS:
            return nstr(mpmath.mp.make_mpf(mpmath.libmp.from_int(n, 64, "n")))
    elif isinstance(value, numbers.Rational):
        p, q = int(value.numerator), int(value.denominator)
        if p.bit_length() + q.bit_length() > _SHOW_BITS:
            raw = mpmath.libmp.from_rational(p, q, 64, "n") if (
                p.bit_length() + q.bit_length() <= 1 << 16) else _approx_ratio(p, q)
            return nstr(mpmath.mp.make_mpf(raw))
    elif isinstance(value, mpmath.mpf):
        return f"mpf('{nstr(value)}')" if mpmath.isfinite(value) else repr(value)
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001  (a hostile __repr__ must not hide the real error)
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= 120 else text[:117] + "..."


def _bound(value: object) -> str:
    """A range bound in messages: ``str`` (448, 1/3), or :func:`show` when it is huge."""
    text = show(value)
    if isinstance(value, numbers.Rational) and text == repr(value):
        return str(value)
    return text


def _approx_ratio(p: int, q: int):
    """p/q to about 64 bits (raw mpf), from the leading bits of p and q only."""
    sp, sq = max(p.bit_length() - 128, 0), max(q.bit_length() - 128, 0)
    raw = mpmath.libmp.from_rational(p >> sp, q >> sq, 64, "n")
    return mpmath.libmp.mpf_shift(raw, sp - sq)


def closest(value: str, choices: Iterable[str]) -> str | None:
    """The valid choice closest to ``value`` (for "did you mean" hints), or None."""
    matches = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.4)
    return matches[0] if matches else None


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise list them and suggest one."""
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    hint = closest(value, choices) if isinstance(value, str) else None
    msg = f"Unknown {name}={show(value)}; valid values are: {', '.join(choices)}"
    if hint is not None:
        msg += f". Did you mean {hint!r}?"
    raise InvalidArgument(msg)


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool | numbers.Integral) or value not in (0, 1):
        raise InvalidArgument(f"Expected {name} to be a bool but got {name}={show(value)}")
    return bool(value)


def check_int(name: str, value: object, *, min_value: int | None = None,
              max_value: int | None = None) -> int:
    """Return ``value`` as an int; bools and non-integral numbers are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(f"Expected {name} to be an integer but got {name}={show(value)}")
    value = int(value)  # numpy integers become Python ints, exactly
    if min_value is not None and value < min_value:
        raise InvalidArgument(
            f"Expected {name} >= {_bound(min_value)} but got {name}={show(value)}")
    if max_value is not None and value > max_value:
        raise InvalidArgument(
            f"Expected {name} <= {_bound(max_value)} but got {name}={show(value)}")
    return value


def check_real(name: str, value: object, *, min_value: float | None = None,
               max_value: float | None = None, exclude_min: bool = False,
               exclude_max: bool = False, allow_inf: bool = False):
    """Return ``value`` unchanged if it is a real number in the given range.

    NaN is always rejected; infinities only pass with ``allow_inf``.  Works on Python
    numbers, numpy scalars, fractions and mpmath mpf values (the value is not converted,
    so exact inputs stay exact).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real | mpmath.mpf):
        raise InvalidArgument(f"Expected {name} to be a real number but got {name}={show(value)}")
    if isinstance(value, mpmath.mpf):
        nan, inf = mpmath.isnan(value), mpmath.isinf(value)
    elif isinstance(value, numbers.Rational):  # ints and fractions: no float conversion
        nan = inf = False
    else:
        nan, inf = math.isnan(value), math.isinf(value)
    if nan:
        raise InvalidArgument(f"Expected {name} to be a number but got {name}=nan")
    if inf and not allow_inf:
        raise InvalidArgument(f"Expected {name} to be finite but got {name}={show(value)}")
    if min_value is not None:
        if value < min_value or (exclude_min and value == min_value):
            op = ">" if exclude_min else ">="
            raise InvalidArgument(
                f"Expected {name} {op} {_bound(min_value)} but got {name}={show(value)}")
    if max_value is not None:
        if value > max_value or (exclude_max and value == max_value):
            op = "<" if exclude_max else "<="
            raise InvalidArgument(
                f"Expected {name} {op} {_bound(max_value)} but got {name}={show(value)}")
    return value


def check_exact_size(name: str, value: object) -> None:
    """Refuse a real or integer ``value`` too large to compute with exactly and fast.

    ``value`` (already checked by :func:`check_real` or :func:`check_int`; infinities
    pass) written as p/q in lowest terms must have ``|p| <= 2^MAX_EXPONENT`` and
    ``q <= 2^MAX_EXPONENT`` (:data:`MAX_EXPONENT`).  Floats always do.  The check reads
    the bit lengths only, so it is instant even for an mpf of exponent -10^12.
    """
    if isinstance(value, float | np.floating):
        return
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value) or not value:
            return
        man, exp = value.man_exp  # value = man 2^exp with man odd
        num_bits, num_pow2 = abs(man).bit_length() + max(exp, 0), abs(man) == 1
        den_bits, den_pow2 = max(-exp, 0) + 1, True
    elif isinstance(value, numbers.Rational):
        p, q = abs(int(value.numerator)), int(value.denominator)
        if p == 0:
            return
        num_bits, num_pow2 = p.bit_length(), p & (p - 1) == 0
        den_bits, den_pow2 = q.bit_length(), q & (q - 1) == 0
    else:
        return

    def fits(bits: int, pow2: bool) -> bool:  # the integer is <= 2^MAX_EXPONENT
        return bits <= MAX_EXPONENT or (bits == MAX_EXPONENT + 1 and pow2)

    if fits(num_bits, num_pow2) and fits(den_bits, den_pow2):
        return
    mag = num_bits - den_bits  # log2 |value|, to within 1
    if den_bits == 1 or not -MAX_EXPONENT <= mag <= MAX_EXPONENT:
        raise InvalidArgument(
            f"Expected {name} to be 0 or of magnitude in [2^-{MAX_EXPONENT}, "
            f"2^{MAX_EXPONENT}] but got {name}={show(value)} (about 2^{mag})")
    raise InvalidArgument(
        f"Expected {name} to be a ratio of integers of at most 2^{MAX_EXPONENT} (in lowest "
        f"terms) but got {name}={show(value)} (numerator of {num_bits} bits, denominator "
        f"of {den_bits} bits)")
