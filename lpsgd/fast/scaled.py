"""The fast quantiser for scaled formats, bit for bit equal to :mod:`lpsgd.reference.scaled`.

Semantics: :mod:`lpsgd.scaled`.  How it is computed (numpy, whole blocks at once):

* E8M0 formats go chunk by chunk (:data:`_CHUNK` elements of whole blocks; a shorter
  last block is padded with zeros, which change no maximum and round to zero), so the
  extra memory beyond the result is a few chunk buffers.  Block maxima ``a_B`` are
  maxima of the bits of ``|x|`` (non-negative float64 values order as their bits, and
  NaN bits lie above those of inf), so a maximum at or above the bits of inf marks
  exactly the blocks that become NaN.
* E8M0 exponents come from those bits (:func:`_block_exponents`): ``floor(log2 a_B)`` is
  the biased exponent minus 1023; ``ceil`` adds one unless the mantissa bits are zero;
  ``rceil`` adds one iff the significand exceeds that of ``X_f`` (``a_B > X_f
  2^(e - emax_f)``), so no logarithm is ever taken.  Zero and float64 subnormal maxima
  lie far below the clamp at -127.  (:func:`e8m0_exponents` is the same from ``frexp``.)
* Elements: ``y = x 2^-e`` is one multiplication of each block by the float64 ``2^-e``,
  an exact scaling unless the product falls below 2^-1022, which needs ``e > 0`` and an
  element more than a thousand binades below the block's maximum.  Only blocks with
  ``e > 0`` are checked (``y 2^e != x``), and the few elements found are rounded
  exactly by this module's own rational rounding (:func:`_round_rational`, integer
  arithmetic; no code of the reference layer is used).  The others go through
  :func:`lpsgd.fast.quantize.quantize` on the element grid with the uniforms of the
  elements, after clamping ``y`` to ``[-X_f, X_f]``.  Clamping first changes nothing:
  the result is ``min(Q(|y|), X_f)`` with the sign of ``y`` (saturating), ``X_f`` is on
  the grid, and every mode is, for a fixed uniform, monotone in the magnitude, so
  ``Q(min(|y|, X_f)) = min(Q(|y|), X_f)``; it spares the element quantiser its overflow
  route and clamps integer elements to ``127/64``, below their grid's largest value.
  ``Q_f(y) 2^e`` (one multiplication) is exact: every scaled value is a float64 (the
  element formats a ScaledFormat accepts are limited so).  Signs ride along: every
  step keeps the sign of ``x``, zeros included.
* NVFP4 (E4M3 scales): the per-tensor scale is float32 arithmetic itself (a numpy
  float32 division).  The block scales and the element roundings depend on exact
  products and quotients (``a_B S / X_f``, ``|x_i| S / s_B``) that float64 cannot hold;
  each is computed in float64 with a relative error below 2^-51, widened to an interval
  ``[lo, hi]`` that surely contains the exact value (relative 2^-48, plus 2^-1000 for
  underflow), and both ends are rounded.  Every rounding mode is, for a fixed sign and
  uniform, a monotone function of the magnitude, so where the two ends agree that is the
  exact result; where they differ (ties, values on the grid, and values within 2^-48 of
  a decision point, which random data almost never hits) the exact rational rounding
  :func:`_round_rational` decides.  The result ``Q_f s_B / S`` is then one IEEE division of the
  exact ``Q_f s_B`` by the float32 ``S``: the exact value rounded once to float64.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from lpsgd._quantize_common import Prepared, finish, prepare
from lpsgd.fast.quantize import quantize as _element_quantize
from lpsgd.formats import PRESETS, Format
from lpsgd.rounding import RoundingMode
from lpsgd.scaled import E4M3_SCALE, E8M0_MAX, E8M0_MIN, ScaledFormat

__all__ = ["quantize_scaled", "e8m0_exponents", "tensor_scale"]

#: Relative and absolute widening of the NVFP4 intervals (see the module docstring).
_REL = 2.0 ** -48
_ABS = 2.0 ** -1000


_BINARY32 = PRESETS["binary32"]

#: Elements per chunk of the E8M0 path: the work buffers stay in the L2 cache and the
#: extra memory is a few buffers of this size, whatever the input's size.
_CHUNK = 1 << 17

_ABS = np.uint64(0x7FFF_FFFF_FFFF_FFFF)
_INF = np.uint64(0x7FF0_0000_0000_0000)        # the bits of inf; NaN bits are larger
_MANT = np.uint64((1 << 52) - 1)
_ONE = np.uint64(0x3FF0_0000_0000_0000)        # the bits of 1.0


# --------------------------------------------------------------------------------------
# The exact fallback: rational rounding in integer arithmetic, this module's own.
# --------------------------------------------------------------------------------------
def _round_rational(y: Fraction, neg: bool, f: Format, mode: RoundingMode,
                    u: float | None) -> Fraction:
    """The magnitude ``y >= 0`` (sign ``neg``) rounded on the grid of ``f`` with an
    unbounded exponent range, exactly: ``y = N / D`` is split as ``n + r / D`` spacings
    with integers only, and the mode compares integers (``2 r`` with ``D``, ``u D`` with
    ``r`` as ``u_num D < r u_den``).  The caller clamps to X_f."""
    num, den = y.numerator, y.denominator
    if num == 0:
        return Fraction(0)
    # floor(log2 (num / den)): start from the bit lengths, correct by one comparison
    e = num.bit_length() - den.bit_length()
    if (num << max(-e, 0)) < (den << max(e, 0)):
        e -= 1
    qe = max(e, f.e_min) - f.man_bits
    big_n, big_d = num << max(-qe, 0), den << max(qe, 0)   # y / 2^qe = big_n / big_d
    n, r = divmod(big_n, big_d)
    if r == 0:
        up = False
    elif mode in (RoundingMode.NEAREST_EVEN, RoundingMode.NEAREST_AWAY,
                  RoundingMode.NEAREST_ZERO):
        twice = 2 * r
        if twice != big_d:
            up = twice > big_d
        else:  # exactly halfway
            up = (mode is RoundingMode.NEAREST_AWAY
                  or (mode is RoundingMode.NEAREST_EVEN and n & 1 == 1))
    elif mode is RoundingMode.TOWARD_ZERO:
        up = False
    elif mode is RoundingMode.UP:
        up = not neg
    elif mode is RoundingMode.DOWN:
        up = neg
    elif mode is RoundingMode.ODD:
        up = n & 1 == 0
    else:
        u_num, u_den = float(u).as_integer_ratio()
        if mode is RoundingMode.STOCHASTIC:
            up = u_num * big_d < r * u_den
        else:  # STOCHASTIC_EQUAL
            up = 2 * u_num < u_den
    mag = Fraction(n + int(up)) * (Fraction(2) ** qe)
    if not f.subnormals and mag < f.n_min:
        return Fraction(0)  # flush to zero, whatever the mode
    return mag


def _e4m3_scale_exact(a: Fraction, s: Fraction, fmt: ScaledFormat) -> Fraction:
    """E4M3 nearest-even of the exact ``a S / X_f``, saturating at 448 (the fallback of
    the block scales where the float64 interval is unsure)."""
    v = _round_rational(a * s / fmt.x_f, False, E4M3_SCALE, RoundingMode.NEAREST_EVEN, None)
    return min(v, E4M3_SCALE.x_max)


def _float32_constant(v: Fraction) -> np.float32:
    """The exact rational ``v >= 0`` rounded once to the nearest float32 (ties to even)."""
    if v >= _BINARY32.overflow_threshold:
        return np.float32(np.inf)
    r = _round_rational(v, False, _BINARY32, RoundingMode.NEAREST_EVEN, None)
    return np.float32(float(r))  # r is a float32 value: both conversions are exact


# --------------------------------------------------------------------------------------
# The vectorised quantiser.
# --------------------------------------------------------------------------------------
def e8m0_exponents(a: np.ndarray, fmt: ScaledFormat) -> np.ndarray:
    """E8M0 exponents (int64, clamped to [-127, 127]) of positive finite block maxima."""
    m, ex = np.frexp(a)               # a = m 2^ex, 1/2 <= m < 1, exact
    big = ex.astype(np.int64) - 1     # floor(log2 a)
    if fmt.rule == "floor":
        e = big - fmt.emax_f
    elif fmt.rule == "ceil":
        e = big + (m != 0.5) - fmt.emax_f
    else:  # rceil: a <= X_f 2^(big - emax_f) iff m <= X_f / 2^(emax_f + 1)
        sig = float(fmt.x_f / Fraction(2) ** (fmt.emax_f + 1))
        e = big - fmt.emax_f + (m > sig)
    return np.clip(e, E8M0_MIN, E8M0_MAX)


def tensor_scale(a_tensor: float, fmt: ScaledFormat) -> float:
    """The per-tensor scale S = X_s X_f / a_tensor in float32 arithmetic (1 when a_tensor
    is 0 or not finite as a float32, or the quotient overflows)."""
    if not np.isfinite(a_tensor):
        return 1.0
    with np.errstate(over="ignore"):
        a32 = np.float32(a_tensor)
        num = _float32_constant(fmt.tensor_numerator)
        if a32 == 0 or not np.isfinite(a32):
            return 1.0
        s = num / a32
    return float(s) if np.isfinite(s) else 1.0


def _blocks(a: np.ndarray, block_size: int) -> np.ndarray:
    """Block maxima of |x| along the last axis (shape (..., n_blocks))."""
    n = a.shape[-1]
    nb = -(-n // block_size)
    pad = nb * block_size - n
    if pad:
        a = np.concatenate([a, np.zeros(a.shape[:-1] + (pad,))], axis=-1)
    return a.reshape(a.shape[:-1] + (nb, block_size)).max(axis=-1)


def _spread(v: np.ndarray, block_size: int, n: int) -> np.ndarray:
    """A per-block array broadcast to the elements (shape (..., n))."""
    return np.repeat(v, block_size, axis=-1)[..., :n]


def _clamp(r: np.ndarray, fmt: ScaledFormat) -> np.ndarray:
    if fmt.kind == "int":
        return np.copysign(np.minimum(np.abs(r), float(fmt.x_f)), r)
    return r


def _exact_elements(p: Prepared, idx: tuple[np.ndarray, ...], factor: np.ndarray,
                    out: np.ndarray) -> None:
    """Round the elements at ``idx`` exactly: y = |x| * factor (Fractions), clamped."""
    sf = p.fmt
    for k, pos in enumerate(zip(*idx)):
        v = float(p.x[pos])
        neg = bool(np.signbit(v))
        u = None if p.u is None else float(p.u[pos])
        g = min(_round_rational(abs(Fraction(v)) * factor[k], neg, sf.grid, p.mode, u),
                sf.x_f)
        out[pos] = -float(g) if neg else float(g)


def _block_exponents(amax_bits: np.ndarray, fmt: ScaledFormat) -> np.ndarray:
    """E8M0 exponents (int64, clamped) from the bits of finite block maxima ``>= 0``.

    A normal ``a_B`` has ``floor(log2 a_B)`` = its biased exponent - 1023 and significand
    ``1.m`` (``m`` its 52 mantissa bits): ``ceil`` adds one iff ``m != 0``, ``rceil`` iff
    ``1.m`` exceeds the significand of ``X_f`` (``a_B > X_f 2^(e - emax_f)``).  Zero and
    float64 subnormal maxima read as ``2^-1023`` or below, far under the clamp ``-127``,
    which is their exponent under every rule.
    """
    big = (amax_bits >> np.uint64(52)).view(np.int64) - (1023 + fmt.emax_f)
    if fmt.rule == "ceil":
        big += (amax_bits & _MANT) != 0
    elif fmt.rule == "rceil":
        big += (amax_bits & _MANT) > _significand_bits(fmt)
    np.maximum(big, E8M0_MIN, out=big)
    return np.minimum(big, E8M0_MAX, out=big)


def _significand_bits(fmt: ScaledFormat) -> np.uint64:
    """The 52 mantissa bits of ``X_f`` as a float64 (its significand ``1.m`` is
    ``X_f / 2^emax_f``, in ``[1, 2)``: ``X_f`` lies in the binade of ``emax_f``)."""
    return np.float64(float(fmt.x_f)).view(np.uint64) & _MANT


def _pow2(e: np.ndarray) -> np.ndarray:
    """``2^e`` as float64 for int64 ``|e| <= 1022``, from the exponent bits."""
    return ((e + 1023) << 52).view(np.float64)


def _exact_into(r: np.ndarray, pos: np.ndarray, xs: np.ndarray, us: np.ndarray | None,
                e: np.ndarray, fmt: ScaledFormat, mode: RoundingMode) -> None:
    """``r[pos] = Q_f(x 2^-e)`` (clamped, signed) for the few elements whose scaled value
    float64 cannot hold, by the exact rational rounding."""
    for k in range(pos.size):
        v = float(xs[k])
        neg = bool(np.signbit(v))
        u = None if us is None else float(us[k])
        y = abs(Fraction(v)) * Fraction(2) ** -int(e[k])
        g = min(_round_rational(y, neg, fmt.grid, mode, u), fmt.x_f)
        r[pos[k]] = -float(g) if neg else float(g)


def _mx_flat(x: np.ndarray, u: np.ndarray | None, fmt: ScaledFormat,
             mode: RoundingMode) -> np.ndarray:
    """The E8M0 quantisation of a flat contiguous ``x`` made of whole blocks, chunk by
    chunk (see the module docstring); returns a new array."""
    size = fmt.block_size
    out = np.empty(x.size)
    per = max(1, _CHUNK // size)                       # blocks per chunk
    t = np.empty(min(per * size, x.size), dtype=np.uint64)
    y = t.view(np.float64)                             # |x| bits first, then y in place
    grid, xf = fmt.grid, float(fmt.x_f)
    nblocks = x.size // size
    for start in range(0, nblocks, per):
        m = min(per, nblocks - start)
        lo, hi = start * size, (start + m) * size
        xb = x[lo:hi].reshape(m, size)
        tb = t[:hi - lo].reshape(m, size)
        np.bitwise_and(xb.view(np.uint64), _ABS, out=tb)
        amax = np.maximum.reduce(tb, axis=1)           # |x| orders as its bits; NaN > inf
        bad = amax >= _INF
        any_bad = bool(bad.any())
        e = _block_exponents(np.where(bad, _ONE, amax) if any_bad else amax, fmt)
        yb = y[:hi - lo].reshape(m, size)
        np.multiply(xb, _pow2(-e)[:, None], out=yb)  # exact unless below 2^-1022
        ur = None if u is None else u[lo:hi]
        down = np.flatnonzero(e > 0)                   # only there can x 2^-e lose bits
        row = col = None
        if down.size:
            back = yb[down] * _pow2(e[down])[:, None]  # exact: a scaling up
            row, col = np.nonzero(back != xb[down])
        # |y| beyond X_f gives X_f in every mode (saturating): clamping first is the same
        # (every mode is monotone in the magnitude and X_f is on the grid), spares the
        # element quantiser its overflow route and clamps integer elements to 127/64
        np.clip(yb, -xf, xf, out=yb)
        r = _element_quantize(y[:hi - lo], grid, mode, uniforms=ur, saturate=True)
        if row is not None and row.size:
            blk = down[row]
            pos = blk * size + col
            _exact_into(r, pos, xb[blk, col], None if ur is None else ur[pos], e[blk],
                        fmt, mode)
        ob = out[lo:hi].reshape(m, size)
        np.multiply(r.reshape(m, size), _pow2(e)[:, None], out=ob)  # exact
        if any_bad:
            ob[bad] = np.nan
    return out


def _mx(p: Prepared) -> np.ndarray:
    sf, x, u = p.fmt, p.x, p.u
    n, size = x.shape[-1], sf.block_size
    with np.errstate(invalid="ignore", over="ignore"):
        if n % size == 0:
            return _mx_flat(x.reshape(-1), None if u is None else u.reshape(-1), sf,
                            p.mode).reshape(x.shape)
        # a shorter last block: pad every row with zeros (which change no maximum and
        # round to zero) to whole blocks, and cut the padding off the result
        nb = -(-n // size)
        rows = x.reshape(-1, n)
        xp = np.zeros((rows.shape[0], nb * size))
        xp[:, :n] = rows
        up = None
        if u is not None:
            up = np.zeros(xp.shape)
            up[:, :n] = u.reshape(-1, n)
            up = up.reshape(-1)
        res = _mx_flat(xp.reshape(-1), up, sf, p.mode).reshape(xp.shape)
        return np.ascontiguousarray(res[:, :n]).reshape(x.shape)


def _interval(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An interval surely holding the exact value of a float64 estimate ``v >= 0``."""
    lo = np.maximum(v * (1 - _REL) - _ABS, 0.0)
    return lo, v * (1 + _REL) + _ABS


def _nv(p: Prepared) -> np.ndarray:
    sf, x, mode = p.fmt, p.x, p.mode
    n, size = x.shape[-1], sf.block_size
    a = np.abs(x)
    s = tensor_scale(float(np.max(a)), sf)
    amax = _blocks(a, size)
    bad = ~np.isfinite(amax)
    ok = ~bad & (amax != 0)
    xf = float(sf.x_f)
    # block scales: E4M3 nearest-even of a_B S / X_f, on an interval, exact where unsure
    sb = np.zeros(amax.shape)
    lo, hi = _interval(amax[ok] * s / xf)
    q_lo = _element_quantize(lo, E4M3_SCALE, "nearest_even", saturate=True)
    q_hi = _element_quantize(hi, E4M3_SCALE, "nearest_even", saturate=True)
    unsure = q_lo != q_hi
    if unsure.any():
        fs = Fraction(s)
        q_lo[unsure] = [float(_e4m3_scale_exact(Fraction(float(v)), fs, sf))
                        for v in amax[ok][unsure]]
    sb[ok] = q_lo
    live = _spread(sb > 0, size, n)         # blocks with elements to round
    sb_el = _spread(sb, size, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(live, a * s / np.where(live, sb_el, 1.0), 0.0)
    lo, hi = _interval(t)
    zero = a == 0
    lo[zero] = 0.0
    hi[zero] = 0.0
    g_lo = _clamp(_element_quantize(np.copysign(lo, x), sf.grid, mode, uniforms=p.u,
                                    saturate=True), sf)
    g_hi = _clamp(_element_quantize(np.copysign(hi, x), sf.grid, mode, uniforms=p.u,
                                    saturate=True), sf)
    unsure = (g_lo != g_hi) & live
    if unsure.any():
        idx = np.nonzero(unsure)
        fs = Fraction(s)
        _exact_elements(p, idx, [fs / Fraction(float(b)) for b in sb_el[idx]], g_lo)
    res = np.where(live, (g_lo * sb_el) / s, 0.0)  # exact product, one rounding
    res = np.copysign(res, x)
    res[_spread(bad, size, n)] = np.nan
    return res


def quantize_scaled(x: Any, fmt: ScaledFormat | str,
                    rounding: str | RoundingMode = "nearest_even", *,
                    rng: np.random.Generator | None = None, uniforms: Any = None,
                    saturate: bool = False, axis: int = -1) -> np.ndarray:
    """Quantise ``x`` to the scaled format ``fmt``, bit for bit as the reference
    (:func:`lpsgd.reference.scaled.quantize_scaled`, same arguments and results)."""
    p = prepare(x, fmt, rounding, rng, uniforms, saturate, axis)
    if p.x.size == 0:
        return finish(np.empty(p.x.shape), p)
    x64 = np.ascontiguousarray(p.x)
    p = p._replace(x=x64, u=None if p.u is None else np.ascontiguousarray(p.u))
    res = _mx(p) if p.fmt.scale == "e8m0" else _nv(p)
    return finish(res, p)
