"""The one bit-equality rule for quantiser results.

Two quantiser results agree on an element when

* their float64 bit patterns are equal (so ``0.0`` and ``-0.0`` differ, and so do two
  different finite values, however close), or
* both are NaN **with the same sign bit**.

The sign of a NaN is part of the quantiser contract (:mod:`lpsgd.reference.quantize`: a
NaN result keeps the input's sign bit, an overflow to NaN carries the sign of ``x``; for
scaled formats a NaN block is the scale's NaN code, which has no sign, and every element
of it is a NaN with the sign bit clear); the payload (the other 51 fraction bits, quiet or
signalling) is not, so it is ignored.

float32 results are compared through their exact widening to float64: the rule is about
the value each element stands for, not about the dtype (a caller that also needs equal
dtypes checks that on its own).  Integer and bool arrays are widened the same way.

Every comparison of a quantiser's result with another (fast against reference, a user's
quantiser in :func:`lpsgd.testing.check_quantizer`, the tests and the properties) uses
:func:`same_values` or :func:`count_mismatches`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lpsgd.errors import InvalidArgument

__all__ = ["same_values", "count_mismatches"]


def _as_float64(value: Any, name: str) -> np.ndarray:
    """``value`` as a float64 array, refusing what has no float64 meaning (complex, text)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise InvalidArgument(
            f"Expected {name} to be real numbers (a float, int or bool array) but got "
            f"{name} of dtype {arr.dtype}")
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 8:
        raise InvalidArgument(
            f"Expected {name} of dtype float64, float32 or float16 but got {name} of dtype "
            f"{arr.dtype} (wider than float64: compare it with a wider rule)")
    return arr.astype(np.float64, copy=False)


def same_values(got: Any, want: Any) -> np.ndarray:
    """Elementwise: does ``got`` agree with ``want`` under the bit-equality rule?

    Parameters
    ----------
    got, want : array_like
        Quantiser results (float64, float32 or narrower floats, or integers); they are
        broadcast against each other.

    Returns
    -------
    numpy.ndarray of bool
        The broadcast shape; ``True`` where the float64 bits are equal or both are NaN
        with the same sign bit.

    Raises
    ------
    InvalidArgument
        A complex, text or object argument, or shapes that do not broadcast.
    """
    g = _as_float64(got, "got")
    w = _as_float64(want, "want")
    try:
        g, w = np.broadcast_arrays(g, w)
    except ValueError:
        raise InvalidArgument(
            f"Expected got and want of shapes that broadcast but got got.shape={g.shape} "
            f"and want.shape={w.shape}") from None
    equal_bits = g.view(np.uint64) == w.view(np.uint64)
    both_nan = np.isnan(g) & np.isnan(w) & (np.signbit(g) == np.signbit(w))
    return np.asarray(equal_bits | both_nan)


def count_mismatches(got: Any, want: Any) -> int:
    """The number of elements where ``got`` and ``want`` disagree (see :func:`same_values`).

    Parameters
    ----------
    got, want : array_like
        Quantiser results, broadcast against each other.

    Returns
    -------
    int
        ``0`` exactly when the two agree bit for bit (NaN payloads aside).
    """
    return int(np.count_nonzero(~same_values(got, want)))
