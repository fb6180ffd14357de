"""What the exact and the fast quantisers share: argument checks, input layout, result checks.

:mod:`lpsgd.reference.quantize` / :mod:`lpsgd.reference.scaled` (exact, mpmath and
fractions) and :mod:`lpsgd.fast.quantize` / :mod:`lpsgd.fast.scaled` (numpy) are two
independent implementations of the same rounding semantics, checked against each other
bit for bit.  So that such a check compares two implementations and not one with itself,
neither layer imports the other: each makes its own rounding decisions (the mode's choice
between the two neighbours, the block scale, the flush and the overflow) and only this
module is common to both:

* the checks of the arguments (format, mode, ``saturate``, ``rng``/``uniforms``, ``x``),
  with one wording for every bad argument;
* the layout of a scaled input (:class:`Prepared`: block axis last, uniforms drawn once
  in C order before anything else) and putting the result back (:func:`finish`);
* the check that results of float32 inputs are float32 values (:func:`check_float32_results`).
"""

from __future__ import annotations

import typing
from typing import Any

import numpy as np

from lpsgd._validate import check_bool, show
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format, as_format
from lpsgd.rounding import RoundingMode, rounding_mode
from lpsgd.scaled import ScaledFormat, as_scaled_format, check_block_axis

__all__ = ["check_common", "check_randomness", "input_array", "non_float_input",
           "check_float32_results", "Prepared", "prepare", "finish", "FLOAT_DTYPES"]

#: The input dtypes both quantisers accept (results keep them).
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


# --------------------------------------------------------------------------------------
# Element formats: argument checks and the float32 result check.
# --------------------------------------------------------------------------------------


def _short(value: Any) -> str:
    """repr of a value, cut short for big arrays (messages must stay readable)."""
    return show(value)


def check_common(fmt: Format | str, rounding: str | RoundingMode,
                 saturate: object) -> tuple[Format, RoundingMode, bool]:
    """Validate the format, the mode and ``saturate`` (both quantisers call this)."""
    return as_format(fmt), rounding_mode(rounding), check_bool("saturate", saturate)


def check_randomness(mode: RoundingMode, shape: tuple[int, ...], rng: object,
                     uniforms: object) -> np.ndarray | None:
    """Validate ``rng``/``uniforms`` for ``mode``; return the uniforms as float64 or None.

    Deterministic modes accept neither; stochastic modes need exactly one.  Given
    uniforms must have the input's shape, a float dtype, and lie in [0, 1) (no NaN).
    With ``rng`` this returns None and the caller draws ``rng.random(shape)``.
    """
    if not mode.is_stochastic:
        if rng is not None:
            raise InvalidArgument(f"rng is only used by stochastic modes; got rng={_short(rng)} "
                                  f"with rounding={mode.value!r}")
        if uniforms is not None:
            raise InvalidArgument(f"uniforms are only used by stochastic modes; got "
                                  f"uniforms={_short(uniforms)} with rounding={mode.value!r}")
        return None
    if rng is not None and uniforms is not None:
        raise InvalidArgument(f"Expected rng or uniforms, not both, for rounding={mode.value!r} "
                              f"but got rng={_short(rng)} and uniforms={_short(uniforms)}")
    if rng is None and uniforms is None:
        raise InvalidArgument(f"rounding={mode.value!r} needs randomness: pass rng="
                              f"numpy.random.default_rng(seed) or uniforms=<array in [0, 1)>")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise InvalidArgument(f"Expected rng to be a numpy.random.Generator (e.g. "
                                  f"numpy.random.default_rng(0)) but got rng={_short(rng)}")
        return None
    if isinstance(uniforms, bool | np.bool_):
        raise InvalidArgument(f"Expected uniforms to be floats in [0, 1) but got "
                              f"uniforms={show(uniforms)}")
    u = np.asarray(uniforms)
    if u.dtype not in FLOAT_DTYPES:
        raise InvalidArgument(f"Expected uniforms to be a float64 or float32 array but got "
                              f"uniforms={_short(uniforms)} of dtype {u.dtype}")
    if u.shape != tuple(shape):
        raise InvalidArgument(f"Expected uniforms of shape {tuple(shape)} (the shape of x) but "
                              f"got uniforms of shape {u.shape}")
    bad = ~((u >= 0) & (u < 1))  # also catches NaN
    if bad.any():
        first = u[bad].flat[0]
        raise InvalidArgument(f"Expected uniforms in [0, 1) but got uniforms containing "
                              f"{float(first)!r} ({int(bad.sum())} bad of {u.size})")
    return u.astype(np.float64, copy=False)


def _what(fast: bool) -> str:
    return ("a float64 or float32 numpy array or scalar, or a Python float" if fast else
            "a float64 or float32 numpy array or scalar, a Python float, an mpmath mpf, "
            "or an object array of those")


def input_array(x: list | tuple | np.ndarray | np.floating | float, *,
                fast: bool) -> np.ndarray:
    """``numpy.asarray(x)``, with InvalidArgument for what numpy cannot turn into an array.

    Ragged nested lists (``[[1.0], [1.0, 2.0]]``), nesting deeper than numpy allows and
    integers too large for a float64 (``[1.0, 10**400]``) make numpy raise its own
    ValueError or OverflowError; both quantisers report them as a bad ``x`` instead.
    """
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise InvalidArgument(
            f"Expected x to be {_what(fast)} but got x={_short(x)}, which numpy cannot turn "
            f"into an array (rows of different lengths, or an element that is not a "
            f"float64)") from None


def non_float_input(x: object, *, fast: bool) -> InvalidArgument:
    """The error for an input that is not a float64/float32 value or array."""
    what = _what(fast)
    extra = "; object arrays and mpf values: use lpsgd.reference.quantize" if fast else ""
    dtype = getattr(x, "dtype", None)
    kind = f" of dtype {dtype}" if dtype is not None else f" of type {type(x).__name__}"
    return InvalidArgument(f"Expected x to be {what} but got x={_short(x)}{kind}{extra}")


def check_float32_results(res64: np.ndarray) -> np.ndarray:
    """Cast float64 results to float32, refusing values float32 cannot hold exactly."""
    with np.errstate(over="ignore"):
        res32 = res64.astype(np.float32)
    back = res32.astype(np.float64)
    bad = ~((back == res64) | np.isnan(res64))
    if bad.any():
        first = float(res64[bad].flat[0])
        raise InvalidArgument(
            f"The result {first!r} (float.hex {first.hex()}) is not representable in float32; "
            f"x was float32, so the result must be too: pass x as float64 "
            f"(x.astype(numpy.float64)) to get float64 results")
    return res32


# --------------------------------------------------------------------------------------
# Scaled formats: validation and layout.
# --------------------------------------------------------------------------------------
class Prepared(typing.NamedTuple):
    """A validated scaled quantisation, laid out with the block axis last."""

    fmt: ScaledFormat
    mode: RoundingMode
    x: np.ndarray            # float64, the block axis moved last, shape (..., n)
    u: np.ndarray | None     # float64 uniforms, same layout as x
    shape: tuple[int, ...]   # the input's shape
    axis: int                # the block axis (non-negative)
    dtype: np.dtype


def _as_array(x: object) -> np.ndarray:
    if isinstance(x, bool | np.bool_):
        arr = None
    elif isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, float | np.floating | list | tuple):
        arr = np.asarray(x)
    else:
        arr = None
    if arr is None or arr.dtype not in FLOAT_DTYPES:
        dtype = getattr(arr if arr is not None else x, "dtype", None)
        kind = f" of dtype {dtype}" if dtype is not None else f" of type {type(x).__name__}"
        text = repr(x)
        text = text if len(text) <= 120 else text[:117] + "..."
        raise InvalidArgument(f"Expected x to be a float64 or float32 numpy array or scalar, "
                              f"or a Python float, for a scaled format but got x={text}{kind}")
    return arr


def prepare(x: Any, fmt: Any, rounding: Any, rng: Any, uniforms: Any, saturate: Any,
            axis: Any) -> Prepared:
    """Validate every argument and lay the input out with the block axis last."""
    sf = as_scaled_format(fmt)
    mode = rounding_mode(rounding)
    check_bool("saturate", saturate)
    arr = _as_array(x)
    ax = check_block_axis(axis, arr.ndim)
    u = check_randomness(mode, arr.shape, rng, uniforms)
    if mode.is_stochastic and u is None:
        u = rng.random(arr.shape)  # one call, C order, before anything else (both paths)
    work = arr.reshape(1) if arr.ndim == 0 else arr
    xm = np.moveaxis(work.astype(np.float64, copy=False), ax, -1)  # read only: no copy
    um = None if u is None else np.moveaxis(np.asarray(u, np.float64).reshape(work.shape),
                                            ax, -1)
    return Prepared(sf, mode, xm, um, arr.shape, ax, arr.dtype)


def finish(res: np.ndarray, p: Prepared) -> np.ndarray:
    """Move the block axis back; float32 inputs of E8M0 formats get float32 results.

    NVFP4 results are the exact values rounded once to float64, so they stay float64.
    """
    out = np.moveaxis(res, -1, p.axis).reshape(p.shape)
    if p.dtype == np.float32 and p.fmt.scale == "e8m0":
        return check_float32_results(out)
    return out
