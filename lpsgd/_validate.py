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

from lpsgd.errors import InvalidArgument

__all__ = ["check_int", "check_real", "check_choice", "check_bool", "closest"]


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
    msg = f"Unknown {name}={value!r}; valid values are: {', '.join(choices)}"
    if hint is not None:
        msg += f". Did you mean {hint!r}?"
    raise InvalidArgument(msg)


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool | numbers.Integral) or value not in (0, 1):
        raise InvalidArgument(f"Expected {name} to be a bool but got {name}={value!r}")
    return bool(value)


def check_int(name: str, value: object, *, min_value: int | None = None,
              max_value: int | None = None) -> int:
    """Return ``value`` as an int; bools and non-integral numbers are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(f"Expected {name} to be an integer but got {name}={value!r}")
    value = int(value)
    if min_value is not None and value < min_value:
        raise InvalidArgument(f"Expected {name} >= {min_value} but got {name}={value!r}")
    if max_value is not None and value > max_value:
        raise InvalidArgument(f"Expected {name} <= {max_value} but got {name}={value!r}")
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
        raise InvalidArgument(f"Expected {name} to be a real number but got {name}={value!r}")
    if isinstance(value, mpmath.mpf):
        nan, inf = mpmath.isnan(value), mpmath.isinf(value)
    else:
        nan, inf = math.isnan(value), math.isinf(value)
    if nan:
        raise InvalidArgument(f"Expected {name} to be a number but got {name}=nan")
    if inf and not allow_inf:
        raise InvalidArgument(f"Expected {name} to be finite but got {name}={value!r}")
    if min_value is not None:
        if value < min_value or (exclude_min and value == min_value):
            op = ">" if exclude_min else ">="
            raise InvalidArgument(f"Expected {name} {op} {min_value} but got {name}={value!r}")
    if max_value is not None:
        if value > max_value or (exclude_max and value == max_value):
            op = "<" if exclude_max else "<="
            raise InvalidArgument(f"Expected {name} {op} {max_value} but got {name}={value!r}")
    return value
