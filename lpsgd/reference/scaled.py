"""The exact quantiser for scaled formats (MX, NVFP4), in rational arithmetic.

The semantics are those of :mod:`lpsgd.scaled`; this module computes them with
:class:`fractions.Fraction` only, element by element, so each step reads like the rule:

* every input value is converted exactly (``Fraction(float)``); the block maximum
  ``a_B``, its binary exponent ``floor(log2 a_B)`` (from the numerator's and the
  denominator's bit lengths) and the E8M0 exponent of each rule are exact integers;
  ``rceil`` is the smallest ``e`` with ``a_B <= X_f 2^e``, found by comparison;
* the NVFP4 per-tensor scale is float32 arithmetic done exactly: ``a_tensor`` rounded to
  the nearest float32 (ties to even; inf above float32's overflow threshold), then
  ``X_s X_f / a_tensor`` rounded to the nearest float32 the same way; the block scale is
  the exact ``a_B S / X_f`` rounded to the nearest E4M3 value (ties to even, saturating
  at 448);
* each element ``y = |x_i| / s_B`` (or ``|x_i| S / s_B``) is a rational number; it is
  rounded on the element's grid by :func:`round_exact` (the rules of
  :mod:`lpsgd.reference.quantize`: spacing ``2^(max(e, e_min) - M)`` at ``y``, the mode
  picks ``n`` or ``n + 1``, flush below ``N_min`` without subnormals) and clamped to
  ``X_f``; stochastic modes round up iff ``u < frac`` (``stochastic``) or iff
  ``frac > 0`` and ``u < 1/2`` (``stochastic_equal``), one uniform per element;
* the result ``sign * Q_f(y) * s_B`` (or ``... * s_B / S``) is exact and is rounded once
  to float64 (``float(Fraction)`` rounds correctly to nearest, ties to even); for E8M0
  scales it is dyadic and the conversion is exact.

NaN blocks: a block with a NaN or an infinity has a NaN scale (E8M0's code 0xFF, E4M3's
NaN), which carries no sign; every element of the block comes back as a NaN with the sign
bit clear, whatever the signs of the inputs (under the bit-equality rule of
:mod:`lpsgd.bitwise` the sign of a NaN counts, so both layers must agree on it).

Randomness: ``uniforms`` shaped like ``x``, or ``rng``, from which ``rng.random(x.shape)``
is drawn in one call before anything else, exactly as :mod:`lpsgd.fast.scaled` draws it.
The scale is computed first, deterministically; the uniforms only round the elements.
"""

from __future__ import annotations

import math
import typing
from fractions import Fraction
from typing import Any

import numpy as np

from lpsgd._quantize_common import Prepared, finish, prepare
from lpsgd.formats import PRESETS, Format
from lpsgd.reference.quantize import rounds_up
from lpsgd.rounding import RoundingMode
from lpsgd.scaled import E4M3_SCALE, E8M0_MAX, E8M0_MIN, ScaledFormat

__all__ = ["quantize_scaled", "encode", "Encoded", "round_exact", "floor_log2",
           "e8m0_exponent", "tensor_scale", "e4m3_block_scale", "prepare", "finish"]

_HALF = Fraction(1, 2)
_BINARY32 = PRESETS["binary32"]


# --------------------------------------------------------------------------------------
# Blocks of a row (argument checks and the layout live in lpsgd._quantize_common).
# --------------------------------------------------------------------------------------
def block_slices(n: int, block_size: int) -> list[slice]:
    """The blocks of a row of ``n`` elements; a shorter last block is a block of its own."""
    return [slice(lo, min(lo + block_size, n)) for lo in range(0, n, block_size)]


# --------------------------------------------------------------------------------------
# Exact pieces.
# --------------------------------------------------------------------------------------
def _pow2(e: int) -> Fraction:
    return Fraction(2) ** e


def floor_log2(v: Fraction) -> int:
    """floor(log2 v) for a positive rational, from bit lengths (no logarithm)."""
    e = v.numerator.bit_length() - v.denominator.bit_length()
    return e - 1 if _pow2(e) > v else e


def round_exact(y: Fraction, neg: bool, f: Format, mode: RoundingMode,
                u: float | None) -> Fraction:
    """The magnitude of ``y >= 0`` (sign ``neg``) rounded on the grid of ``f`` with an
    unbounded exponent range (the caller clamps to X_f): exact for any rational ``y``."""
    if y == 0:
        return Fraction(0)
    qe = max(floor_log2(y), f.e_min) - f.man_bits
    t = y / _pow2(qe)
    n = t.numerator // t.denominator
    frac = t - n
    up = rounds_up(mode, n, frac, neg, None if u is None else Fraction(u), _HALF)
    mag = (n + int(up)) * _pow2(qe)
    if not f.subnormals and mag < f.n_min:
        return Fraction(0)  # flush to zero, whatever the mode
    return mag


def e8m0_exponent(a: Fraction, fmt: ScaledFormat) -> int:
    """The E8M0 exponent of a block with maximum ``a > 0`` under ``fmt.rule``, clamped."""
    big = floor_log2(a)
    if fmt.rule == "floor":
        e = big - fmt.emax_f
    elif fmt.rule == "ceil":
        e = (big if a == _pow2(big) else big + 1) - fmt.emax_f
    else:  # rceil: the smallest e with a <= X_f 2^e
        e = big - fmt.emax_f - 1
        while a > fmt.x_f * _pow2(e):
            e += 1
    return min(max(e, E8M0_MIN), E8M0_MAX)


def _nearest_float32(v: Fraction) -> Fraction | None:
    """v >= 0 rounded to the nearest float32 (ties to even); None when it overflows."""
    if v >= _BINARY32.overflow_threshold:
        return None
    return round_exact(v, False, _BINARY32, RoundingMode.NEAREST_EVEN, None)


def tensor_scale(a_tensor: float, fmt: ScaledFormat) -> Fraction:
    """The per-tensor scale S of an e4m3-scaled format, as float32 arithmetic gives it.

    ``a_tensor`` is the float64 maximum magnitude of the whole input (NaN if any NaN).
    """
    if math.isnan(a_tensor) or math.isinf(a_tensor):
        return Fraction(1)
    a32 = _nearest_float32(Fraction(a_tensor))
    if a32 is None or a32 == 0:
        return Fraction(1)
    num = _nearest_float32(fmt.tensor_numerator)  # 2688 for NVFP4: a float32
    s = _nearest_float32(num / a32)
    return Fraction(1) if s is None else s


def e4m3_block_scale(a: Fraction, s: Fraction, fmt: ScaledFormat) -> Fraction:
    """E4M3 nearest-even of the exact ``a S / X_f``, saturating at 448."""
    v = a * s / fmt.x_f
    return min(round_exact(v, False, E4M3_SCALE, RoundingMode.NEAREST_EVEN, None),
               E4M3_SCALE.x_max)


# --------------------------------------------------------------------------------------
# Blocks.
# --------------------------------------------------------------------------------------
class _Block(typing.NamedTuple):
    status: str               # "nan", "zero" or "ok"
    scale: Fraction | None    # 2^e (e8m0) or s_B (e4m3); None for NaN blocks
    exponent: int | None      # e8m0 exponent (zero blocks: -127)
    elements: list[Fraction]  # signed element values Q_f(y_i) (exact)


def _block(xs: np.ndarray, us: np.ndarray | None, p: Prepared, s: Fraction) -> _Block:
    sf, mode = p.fmt, p.mode
    vals = [float(v) for v in xs]
    if any(math.isnan(v) or math.isinf(v) for v in vals):
        return _Block("nan", None, None, [])
    mags = [abs(Fraction(v)) for v in vals]
    a = max(mags)
    if a == 0:
        return _Block("zero", _pow2(E8M0_MIN) if sf.scale == "e8m0" else Fraction(0),
                      E8M0_MIN if sf.scale == "e8m0" else None,
                      [Fraction(0)] * len(vals))
    if sf.scale == "e8m0":
        e = e8m0_exponent(a, sf)
        scale, factor = _pow2(e), _pow2(-e)
    else:
        e = None
        scale = e4m3_block_scale(a, s, sf)
        if scale == 0:
            return _Block("zero", scale, None, [Fraction(0)] * len(vals))
        factor = s / scale
    out = []
    for i, (v, m) in enumerate(zip(vals, mags)):
        neg = math.copysign(1.0, v) < 0
        ui = None if us is None else float(us[i])
        g = min(round_exact(m * factor, neg, sf.grid, mode, ui), sf.x_f)
        out.append(-g if neg else g)
    return _Block("ok", scale, e, out)


def _run(p: Prepared):
    """Yield (row index, block slice, block) over every block of the laid-out input."""
    n = p.x.shape[-1]
    rows = p.x.reshape(-1, n) if p.x.size else np.zeros((0, max(n, 1)))
    urows = None if p.u is None else p.u.reshape(rows.shape)
    s = Fraction(1)
    if p.fmt.scale == "e4m3" and p.x.size:
        a_t = float(np.max(np.abs(p.x)))
        s = tensor_scale(a_t, p.fmt)
    for r in range(rows.shape[0]):
        for sl in block_slices(n, p.fmt.block_size):
            us = None if urows is None else urows[r, sl]
            yield r, sl, _block(rows[r, sl], us, p, s), s


def quantize_scaled(x: Any, fmt: ScaledFormat | str,
                    rounding: str | RoundingMode = "nearest_even", *,
                    rng: np.random.Generator | None = None, uniforms: Any = None,
                    saturate: bool = False, axis: int = -1) -> np.ndarray:
    """Quantise ``x`` to the scaled format ``fmt`` exactly (see :mod:`lpsgd.scaled`).

    ``saturate`` is accepted for symmetry with element formats and changes nothing:
    elements are always clamped to ``+-X_f``.  Returns float64 (float32 for float32
    inputs of E8M0 formats), the input's shape.
    """
    p = prepare(x, fmt, rounding, rng, uniforms, saturate, axis)
    n = p.x.shape[-1]
    res = np.empty(p.x.shape, dtype=np.float64)
    rows = res.reshape(-1, n) if res.size else None
    xrows = p.x.reshape(-1, n) if res.size else None
    for r, sl, b, s in (_run(p) if res.size else ()):
        if b.status == "nan":
            rows[r, sl] = np.nan
        elif b.status == "zero":
            rows[r, sl] = np.copysign(0.0, xrows[r, sl])
        else:
            mult = b.scale if p.fmt.scale == "e8m0" else b.scale / s
            vals = [float(g * mult) for g in b.elements]  # exact value, rounded once
            rows[r, sl] = np.copysign(np.abs(np.array(vals)), xrows[r, sl])
    return finish(res, p)


class Encoded(typing.NamedTuple):
    """Codes and scales of a scaled quantisation.

    Attributes:
        codes: int64, the input's shape: the element bit patterns (two's complement for
            integer elements); 0 in NaN blocks, whose scale code says NaN.
        scales: float64, the input's shape with the block axis cut to the number of
            blocks: the block scale values (2^e, or s_B), NaN for NaN blocks.
        scale_codes: int64, same shape as ``scales``: E8M0 codes ``e + 127`` (255 is
            NaN; zero blocks have code 0, the scale 2^-127) or the E4M3 bit patterns
            (0x7F is NaN).
        exponents: int64, E8M0 exponents (e8m0 formats; -128 marks NaN blocks) or None.
        tensor_scale: the per-tensor scale S (1.0 for E8M0 formats).

    Then ``decode(codes) * scales / tensor_scale`` (block-broadcast) is the quantised
    value: exactly for E8M0 formats, up to the final rounding to float64 for NVFP4.
    """

    codes: np.ndarray
    scales: np.ndarray
    scale_codes: np.ndarray
    exponents: np.ndarray | None
    tensor_scale: float


def encode(x: Any, fmt: ScaledFormat | str, rounding: str | RoundingMode = "nearest_even",
           *, rng: np.random.Generator | None = None, uniforms: Any = None,
           axis: int = -1) -> Encoded:
    """The element codes and block scales of ``quantize(x, fmt, rounding, ...)``."""
    p = prepare(x, fmt, rounding, rng, uniforms, False, axis)
    sf = p.fmt
    n = p.x.shape[-1]
    nb = -(-n // sf.block_size)
    codes = np.zeros(p.x.shape, dtype=np.int64)
    scales = np.zeros(p.x.shape[:-1] + (nb,), dtype=np.float64)
    scale_codes = np.zeros(scales.shape, dtype=np.int64)
    exps = np.zeros(scales.shape, dtype=np.int64) if sf.scale == "e8m0" else None
    crow = codes.reshape(-1, n) if codes.size else None
    srow, scrow = scales.reshape(-1, max(nb, 1)), scale_codes.reshape(-1, max(nb, 1))
    erow = None if exps is None else exps.reshape(-1, max(nb, 1))
    s = Fraction(1)
    for r, sl, b, s in (_run(p) if p.x.size else ()):
        j = sl.start // sf.block_size
        if b.status == "nan":
            srow[r, j] = np.nan
            scrow[r, j] = 255 if sf.scale == "e8m0" else E4M3_SCALE.encode(np.nan)
            if erow is not None:
                erow[r, j] = E8M0_MIN - 1
            continue
        srow[r, j] = float(b.scale)
        if sf.scale == "e8m0":
            scrow[r, j] = b.exponent + 127
            erow[r, j] = b.exponent
        else:
            scrow[r, j] = E4M3_SCALE.encode(float(b.scale))
        xs = p.x.reshape(-1, n)[r, sl]
        for i, g in enumerate(b.elements):
            value = float(g) if g != 0 else math.copysign(0.0, float(xs[i]))
            crow[r, sl.start + i] = sf.element.encode(value if sf.kind == "float" else g)
    back = (lambda a: np.moveaxis(a, -1, p.axis).reshape(p.shape)) if p.shape else \
        (lambda a: a.reshape(()))
    sback = (lambda a: np.moveaxis(a, -1, p.axis)) if p.shape else (lambda a: a.reshape(()))
    return Encoded(back(codes), sback(scales), sback(scale_codes),
                   None if exps is None else sback(exps), float(s))
