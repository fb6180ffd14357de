"""The fast quantiser: numpy, any shape, bit for bit equal to :mod:`lpsgd.reference.quantize`.

Semantics (modes, overflow, NaN, subnormals, randomness) are those documented in
:mod:`lpsgd.reference.quantize`; this module only changes how they are computed.  "Bit for
bit" is the rule of :mod:`lpsgd.bitwise`: equal float64 bits, or NaN with the same sign bit
(NaN results keep the input's sign; the payload is not part of the contract).

How it is fast, and why it stays exact:

* The input is processed in chunks of :data:`CHUNK` elements (half that for float32)
  through preallocated buffers, so the extra memory beyond the output is a few chunk
  buffers, about 2 MB whatever the input size: for inputs of a few million elements the
  peak extra memory, output included, stays below 1.5x the input (a test measures it
  with tracemalloc).  A non-contiguous input is first copied to a contiguous one.
* The common case, a float64 ``x`` with ``N_min <= |x| <= X_max``, is rounded on the
  uint64 view of its bits.  With ``k = 52 - M`` dropped bits, ``x`` in the binade of
  exponent ``e`` has spacing ``2^(e - M)``, which is exactly the weight of bit ``k``:
  every mode is ``(bits + add) & ~(2^k - 1)`` for a mode-dependent ``add`` (``2^(k-1) - 1
  + lsb`` for ties-to-even, ``2^k - 1`` to round up in magnitude, ...), and a carry out
  of the mantissa correctly bumps the exponent.  Inputs at most ``X_max`` cannot round
  beyond ``X_max``, so no overflow check is needed on this path.
* Elements below ``N_min`` (the target's subnormal range, float64 subnormals, zeros) lie
  on one grid of spacing ``s = 2^(e_min - M)``; they are rounded in bulk, chunk by chunk,
  on ``y = |x| / s`` (see :func:`_round_small`): an exact scaling, so ``floor(y)`` and
  ``y - floor(y)`` are exact and the mode decides exactly.  Low-precision gradients
  often have most components down there.
* Every other element (overflow, inf, NaN, and the small ones of the few formats whose
  ``1/s`` is not a float64) is picked by one range test, collected across chunks, and
  rounded in batches through ``frexp``/``ldexp``: ``y = |x| / q`` is an exact power-of-two scaling,
  ``f = y - floor(y)`` is an exact float64, so the mode's decision (``f`` against 1/2,
  ``u < f``) is exact.  Exponents come from the bits
  or from ``frexp``, never from a logarithm, and no value passes through float32,
  float16 or any other intermediate format.
* Stochastic rounding up iff ``u < f`` is, with ``U = floor(u 2^k)`` and the dropped bits
  ``low = f 2^k`` (both integers), ``U < low``, i.e. ``low + (2^k - 1 - U) >= 2^k``: the
  same add-and-mask with ``add = 2^k - 1 - U``.
* With ``rng``, the uniforms are drawn chunk by chunk; ``Generator.random`` produces the
  same stream whether it is asked for n numbers at once or in consecutive pieces, so
  this equals the reference's single ``rng.random(np.shape(x))`` call (a test checks it).
  For the usual bit generators the 64-bit draws behind those doubles are used directly
  (see :data:`_RAW_DOUBLE_GENERATORS`): same numbers, one pass less.

float32 inputs are widened exactly to float64, rounded, and returned as float32; a result
float32 cannot hold exactly (for example a rounding up past the float32 range into a
format with a wider exponent) raises InvalidArgument.  Formats that do not fit binary64
raise InvalidArgument pointing to :func:`lpsgd.reference.quantize`.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

from lpsgd._quantize_common import (
    check_common,
    check_float32_results,
    check_randomness,
    input_array,
    non_float_input,
)
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format
from lpsgd.rounding import RoundingMode
from lpsgd.scaled import check_element_axis, is_scaled

__all__ = ["quantize", "CHUNK"]

#: Elements per chunk: the work buffers stay in the L2 cache while the per-chunk Python
#: overhead stays below a tenth of a nanosecond per element.
CHUNK = 1 << 16

#: Elements per call of the exact slow path (its temporaries are a few of this size).
_SPECIAL_SLICE = 1 << 13

_ABS = np.uint64(0x7FFF_FFFF_FFFF_FFFF)
_F64_TINY = float(np.finfo(np.float64).tiny)   # 2^-1022, smallest normal float64
_F64_SUB = float(np.finfo(np.float64).smallest_subnormal)  # 2^-1074

#: Bit generators whose ``Generator.random()`` doubles are ``(next_uint64 >> 11) * 2^-53``,
#: one 64-bit draw per double (MT19937 builds its doubles from two 32-bit draws and is
#: not listed).  For them the fast path reads the same 64-bit stream with
#: ``bit_generator.random_raw`` and never forms the doubles: ``floor(u 2^k)`` is
#: ``raw >> (64 - k)`` and ``u < 1/2`` is "top bit clear".  tests check that this equals
#: rounding with ``uniforms=Generator(...).random(shape)`` for each of them.
_RAW_DOUBLE_GENERATORS = (np.random.PCG64, np.random.PCG64DXSM, np.random.SFC64,
                          np.random.Philox)
_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class _Plan:
    """The constants of one (format, mode, saturate) call, derived once."""

    def __init__(self, f: Format, mode: RoundingMode, saturate: bool) -> None:
        self.f, self.mode, self.saturate = f, mode, saturate
        self.k = 52 - f.man_bits
        self.low = np.uint64((1 << self.k) - 1)
        self.keep = np.uint64(~((1 << self.k) - 1) & 0xFFFF_FFFF_FFFF_FFFF)
        self.half_m1 = np.uint64((1 << (self.k - 1)) - 1) if self.k else np.uint64(0)
        self.xmax = float(f.x_max)
        self.nmin = float(f.n_min)
        self.nmin_bits = np.float64(self.nmin).view(np.uint64)
        # range test: (bits & ~sign) - nmin_bits <= span, one unsigned comparison
        self.span = np.uint64(int(np.float64(self.xmax).view(np.uint64)) - int(self.nmin_bits))
        self.scale = float(2.0 ** self.k)
        # The grid below N_min has spacing s = 2^(e_min - M).  When 1/s is a float64
        # (0 <= M - e_min <= 1023; every preset) values below N_min are rounded in bulk
        # by _round_small; otherwise (E = 1, M = 0, or formats near binary64's range)
        # they take the exact frexp/ldexp route of _round_special.
        sub_exp = f.man_bits - f.e_min
        self.small_bulk = 0 <= sub_exp <= 1023 and self.nmin <= self.xmax
        self.sub_scale = float(2.0 ** sub_exp) if self.small_bulk else 0.0
        self.sub_step = float(2.0 ** -sub_exp) if self.small_bulk else 0.0


@functools.lru_cache(maxsize=256)
def _plan(f: Format, mode: RoundingMode, saturate: bool) -> _Plan:
    """The plan of a call, derived once per (format, mode, saturate): its exact constants
    cost more than rounding a thousand elements.  Plans are never modified."""
    return _Plan(f, mode, saturate)


def _check_input(x: Any) -> np.ndarray:
    if isinstance(x, bool | np.bool_):
        raise non_float_input(x, fast=True)
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, float | np.floating | list | tuple):
        arr = input_array(x, fast=True)
    else:
        raise non_float_input(x, fast=True)
    if arr.dtype not in _FLOAT_DTYPES:
        raise non_float_input(x, fast=True)
    return arr


def _round_common(b: np.ndarray, u: np.ndarray | None, raw: np.ndarray | None,
                  plan: _Plan, r: np.ndarray, t: np.ndarray) -> None:
    """Add-and-mask rounding of float64 bits ``b`` into ``r`` (``t`` is scratch).

    Correct for elements with N_min <= |x| <= X_max; others are overwritten later.
    Stochastic modes take the uniforms ``u``, or the raw 64-bit draws ``raw`` they are
    made from (see :data:`_RAW_DOUBLE_GENERATORS`).
    """
    mode, k = plan.mode, plan.k
    if k == 0:  # binary64 precision: every normal is representable
        np.copyto(r, b)
        return
    if k == 52 and mode in (RoundingMode.NEAREST_EVEN, RoundingMode.ODD):
        # M = 0: bit k is the exponent's last bit, not a significand bit; every normal
        # significand is 1 (odd), so ties go up (as nearest_away) and odd truncates.
        mode = RoundingMode.NEAREST_AWAY if mode is RoundingMode.NEAREST_EVEN else \
            RoundingMode.TOWARD_ZERO
    if mode is RoundingMode.NEAREST_EVEN:
        np.right_shift(b, np.uint64(k), out=t)
        np.bitwise_and(t, np.uint64(1), out=t)
        np.add(t, plan.half_m1, out=t)
        np.add(b, t, out=r)
    elif mode is RoundingMode.NEAREST_AWAY:
        np.add(b, plan.half_m1 + np.uint64(1), out=r)
    elif mode is RoundingMode.NEAREST_ZERO:
        np.add(b, plan.half_m1, out=r)
    elif mode is RoundingMode.TOWARD_ZERO:
        np.copyto(r, b)
    elif mode in (RoundingMode.UP, RoundingMode.DOWN):
        # add 2^k - 1 (round up in magnitude) for x > 0 under "up", x < 0 under "down"
        np.right_shift(b, np.uint64(63), out=t)  # 1 for negative
        if mode is RoundingMode.UP:
            np.subtract(t, np.uint64(1), out=t)  # positive: all ones, negative: 0
        else:
            np.subtract(np.uint64(0), t, out=t)  # negative: all ones, positive: 0
        np.bitwise_and(t, plan.low, out=t)
        np.add(b, t, out=r)
    elif mode is RoundingMode.ODD:
        # (low + 2^k - 1) has bit k set iff some dropped bit is set: OR it in (sticky)
        np.bitwise_and(b, plan.low, out=t)
        np.add(t, plan.low, out=t)
        np.bitwise_and(b, plan.keep, out=r)
        np.bitwise_and(t, np.uint64(1 << k), out=t)
        np.bitwise_or(r, t, out=r)
        return
    elif mode is RoundingMode.STOCHASTIC:
        if raw is not None:  # u = (raw >> 11) 2^-53, so U = floor(u 2^k) = raw >> (64 - k)
            np.right_shift(raw, np.uint64(64 - k), out=t)
        else:
            np.multiply(u, plan.scale, out=t, casting="unsafe")  # U = floor(u 2^k) < 2^k
        np.subtract(plan.low, t, out=t)
        np.add(b, t, out=r)
    else:  # STOCHASTIC_EQUAL: round up in magnitude iff u < 1/2 (and x inexact)
        if raw is not None:  # u < 1/2 iff the top raw bit is 0
            np.right_shift(raw, np.uint64(63), out=t)
            np.subtract(t, np.uint64(1), out=t)  # all ones iff u < 1/2
            np.bitwise_and(t, plan.low, out=t)
        else:
            np.less(u, 0.5, out=t, casting="unsafe")
            np.multiply(t, plan.low, out=t)
        np.add(b, t, out=r)
    np.bitwise_and(r, plan.keep, out=r)


class _Work:
    """The chunk buffers of one thread, allocated once and reused by every call.

    About 4.7 MB per thread that ever quantised.  Allocating them per call cost more
    than rounding a 65,536-element input: every fresh buffer is a new mapping of
    memory, paid in page faults on first touch.
    """

    def __init__(self) -> None:
        m = CHUNK
        self.t = np.empty(m, dtype=np.uint64)
        self.ok = np.empty(m, dtype=bool)
        self.wide = np.empty(m)
        self.res = np.empty(m)
        self.u = np.empty(m)
        self.mask = np.empty(m, dtype=np.uint64)
        # the scratch of _round_small
        self.y = np.empty(m)
        self.m = np.empty(m)
        self.su = np.empty(m)
        self.flag = np.empty(m, dtype=bool)
        self.flag2 = np.empty(m, dtype=bool)
        self.bits = np.empty(m, dtype=np.uint64)

    def small(self, n: int):
        return (self.y[:n], self.m[:n], self.su[:n], self.flag[:n], self.flag2[:n],
                self.bits[:n])


_local = threading.local()


def _work() -> _Work:
    # quantize never re-enters itself, so one set of buffers per thread suffices
    work = getattr(_local, "work", None)
    if work is None:
        work = _local.work = _Work()
    return work


def _uniforms(raw: np.ndarray, out: np.ndarray | None = None,
              scratch: np.ndarray | None = None) -> np.ndarray:
    """The doubles ``Generator.random`` makes from raw 64-bit draws: ``(raw >> 11) 2^-53``
    (the shifted draws are below 2^53, so the int64 view converts exactly)."""
    shifted = np.right_shift(raw, np.uint64(11), out=scratch)
    return np.multiply(shifted.view(np.int64), 2.0 ** -53, out=out, casting="unsafe")


def _round_small(x: np.ndarray, u: np.ndarray | None, raw: np.ndarray | None,
                 plan: _Plan, work: _Work) -> np.ndarray:
    """Exact rounding of float64 values with ``|x| < N_min`` (zeros included) in bulk.

    Only for plans with ``small_bulk``.  There the result is a multiple ``m s`` of the
    spacing ``s = 2^(e_min - M)`` with ``0 <= m <= 2^M``: ``y = |x| / s`` is an exact
    power-of-two scaling up (also for float64 subnormals), so ``n = floor(y)`` and
    ``frac = y - n`` are exact and every mode's decision is the one of
    :func:`_round_special`; ``rint`` is round half to even on ``n``.  ``m s`` is exact.
    Other elements of ``x`` give meaningless values (the caller keeps only the small
    ones), under an errstate that silences their floating-point warnings.  Returns a
    view of ``work``'s buffer ``m``.
    """
    mode = plan.mode
    y, m, ub, flag, flag2, bits = work.small(x.size)
    with np.errstate(over="ignore", invalid="ignore"):
        np.abs(x, out=y)
        np.multiply(y, plan.sub_scale, out=y)
        if mode is RoundingMode.NEAREST_EVEN:
            np.rint(y, out=m)
        elif mode is RoundingMode.TOWARD_ZERO:
            np.floor(y, out=m)
        else:
            np.floor(y, out=m)
            frac = np.subtract(y, m, out=y)
            if mode is RoundingMode.NEAREST_AWAY:
                np.greater_equal(frac, 0.5, out=flag)
            elif mode is RoundingMode.NEAREST_ZERO:
                np.greater(frac, 0.5, out=flag)
            elif mode in (RoundingMode.UP, RoundingMode.DOWN):
                # up in magnitude when inexact and x > 0 under "up", x < 0 under "down"
                np.signbit(x, out=flag2)
                if mode is RoundingMode.UP:
                    np.logical_not(flag2, out=flag2)
                np.greater(frac, 0.0, out=flag)
                np.logical_and(flag, flag2, out=flag)
            elif mode is RoundingMode.ODD:
                np.greater(frac, 0.0, out=flag)
                np.fmod(m, 2.0, out=y)
                np.equal(y, 0.0, out=flag2)
                np.logical_and(flag, flag2, out=flag)
            else:
                if raw is not None:
                    u = _uniforms(raw, out=ub, scratch=bits)
                if mode is RoundingMode.STOCHASTIC:
                    np.less(u, frac, out=flag)
                else:
                    np.greater(frac, 0.0, out=flag)
                    np.less(u, 0.5, out=flag2)
                    np.logical_and(flag, flag2, out=flag)
            np.add(m, flag, out=m)
        np.multiply(m, plan.sub_step, out=m)
        if not plan.f.subnormals:  # flush to zero, whatever the mode
            np.greater_equal(m, plan.nmin, out=flag)
            np.multiply(m, flag, out=m)
        return np.copysign(m, x, out=m)


def _select(small: np.ndarray, value: np.ndarray, r: np.ndarray, mask: np.ndarray) -> None:
    """``r[small] = value[small]`` for float64 bit views, branch-free (a masked copy is
    several times slower on a random mask)."""
    np.subtract(np.uint64(0), small, out=mask, casting="unsafe")  # all ones where small
    np.bitwise_xor(r, value, out=value)
    np.bitwise_and(value, mask, out=value)
    np.bitwise_xor(r, value, out=r)                                 # r ^ ((r ^ v) & mask)


def _round_special(xs: np.ndarray, us: np.ndarray | None, plan: _Plan) -> np.ndarray:
    """Exact rounding of arbitrary float64 values (few elements): frexp/ldexp route."""
    f, mode = plan.f, plan.mode
    neg = np.signbit(xs)
    a = np.abs(xs)
    mag = np.zeros_like(a)
    nan = np.isnan(a)
    inf = np.isinf(a)
    fin = ~(nan | inf) & (a != 0)
    if fin.any():
        af = a[fin]
        e = np.frexp(af)[1] - 1  # floor(log2 |x|), exact also for float64 subnormals
        qe = np.maximum(e, f.e_min) - f.man_bits
        y = np.ldexp(af, -qe)    # |x| / q, exact unless it falls below 2^-1022
        n = np.floor(y)
        frac = y - n             # exact, except for the case below
        # q = 2^qe > 1 happens only for E = 1, M = 0 (fn) formats, where a float64
        # subnormal |x| divided by q can lose its last bit or vanish.  Then n = 0 and
        # 0 < frac < 1/2, and u < frac is decided exactly as u q < |x| (a scaling up).
        tiny = (qe > 0) & (y < _F64_TINY)
        if tiny.any():
            frac[tiny] = _F64_SUB
        nf = neg[fin]
        if mode is RoundingMode.NEAREST_EVEN:
            odd = np.fmod(n, 2.0) == 1.0
            up = (frac > 0.5) | ((frac == 0.5) & odd)
        elif mode is RoundingMode.NEAREST_AWAY:
            up = frac >= 0.5
        elif mode is RoundingMode.NEAREST_ZERO:
            up = frac > 0.5
        elif mode is RoundingMode.TOWARD_ZERO:
            up = np.zeros(af.shape, dtype=bool)
        elif mode is RoundingMode.UP:
            up = (frac > 0) & ~nf
        elif mode is RoundingMode.DOWN:
            up = (frac > 0) & nf
        elif mode is RoundingMode.ODD:
            up = (frac > 0) & (np.fmod(n, 2.0) == 0.0)
        elif mode is RoundingMode.STOCHASTIC:
            uf = us[fin]
            up = uf < frac
            if tiny.any():
                up[tiny] = np.ldexp(uf[tiny], qe[tiny]) < af[tiny]
        else:
            up = (frac > 0) & (us[fin] < 0.5)
        with np.errstate(over="ignore"):
            r = np.ldexp(n + up, qe)  # exact, or inf far beyond X_max
        if not f.subnormals:
            r[r < plan.nmin] = 0.0    # flush to zero, whatever the mode
        over = r > plan.xmax  # every mode: stochastic rounding reaches X_max from above
        if over.any():
            r[over] = _overflow_values(nf[over], plan)
        mag[fin] = r
    if inf.any():
        if f.kind == "ieee" and not plan.saturate:
            mag[inf] = np.inf
        else:
            mag[inf] = _overflow_values(neg[inf], plan)
    mag[nan] = np.nan
    out = np.copysign(mag, np.where(neg, -1.0, 1.0))  # NaN results keep the input's sign
    if nan.any() and mode is RoundingMode.NEAREST_EVEN and f.kind == "fn_nonan":
        # ml_dtypes: NaN into a format without NaN gives a zero of the opposite sign
        out[nan] = np.where(neg[nan], 0.0, -0.0)
    return out


def _overflow_values(neg: np.ndarray, plan: _Plan) -> np.ndarray:
    """Magnitudes of overflowed results (sign applied by the caller; NaN where NaN)."""
    f, mode = plan.f, plan.mode
    xmax, inf = plan.xmax, np.inf
    if plan.saturate:
        return np.full(neg.shape, xmax)
    if f.kind != "ieee":
        value = np.nan if (mode is RoundingMode.NEAREST_EVEN and f.kind == "fn") else xmax
        return np.full(neg.shape, value)
    if mode in (RoundingMode.TOWARD_ZERO, RoundingMode.ODD):
        return np.full(neg.shape, xmax)
    if mode is RoundingMode.UP:
        return np.where(neg, xmax, inf)
    if mode is RoundingMode.DOWN:
        return np.where(neg, inf, xmax)
    return np.full(neg.shape, inf)


def quantize(x: Any, fmt: Format | str, rounding: str | RoundingMode = "nearest_even", *,
             rng: np.random.Generator | None = None, uniforms: Any = None,
             saturate: bool = False, axis: int = -1) -> np.ndarray:
    """Round ``x`` to the format ``fmt``, bit for bit as :func:`lpsgd.reference.quantize`.

    Args:
        x: float64 or float32 numpy array (any shape) or scalar, or a Python float.
        fmt: a :class:`~lpsgd.formats.Format` that fits binary64, or a preset name, or a
            :class:`~lpsgd.scaled.ScaledFormat` or scaled preset name, handled by
            :func:`lpsgd.fast.scaled.quantize_scaled`.
        rounding: one of :data:`lpsgd.rounding.ROUNDING_MODES`.
        rng: numpy Generator for the stochastic modes (draws ``rng.random(np.shape(x))``,
            in chunks that give the same numbers).
        uniforms: uniforms in [0, 1) shaped like ``x`` for the stochastic modes.
        saturate: clamp overflows and infinite inputs to ``+-X_max`` in any format.
        axis: the block axis of a scaled format (:mod:`lpsgd.scaled`); element formats
            accept only the default -1.

    Returns:
        An array of the same shape and dtype as ``x`` (float64 for Python floats; 0-d
        for scalars).

    Raises:
        InvalidArgument: bad names or flags, non-float input, bad randomness arguments,
            a format wider than binary64, or a float32 input whose result float32
            cannot hold.
    """
    if is_scaled(fmt):  # a ScaledFormat or a scaled preset name: lpsgd.fast.scaled
        from lpsgd.fast.scaled import quantize_scaled

        return quantize_scaled(x, fmt, rounding, rng=rng, uniforms=uniforms,
                               saturate=saturate, axis=axis)
    check_element_axis(axis)
    f, mode, saturate = check_common(fmt, rounding, saturate)
    if not f.fits_binary64:
        raise InvalidArgument(
            f"fmt={f.label} (exp_bits={f.exp_bits}, man_bits={f.man_bits}) does not fit "
            f"binary64, which lpsgd.fast.quantize needs; use lpsgd.reference.quantize "
            f"for wider formats")
    arr = _check_input(x)
    u_all = check_randomness(mode, arr.shape, rng, uniforms)
    plan = _plan(f, mode, saturate)

    src = np.ascontiguousarray(arr).reshape(-1)
    size = src.size
    is32 = arr.dtype == np.float32
    out = np.empty(size, dtype=np.float64 if not is32 else np.float32)
    u_flat = None if u_all is None else np.ascontiguousarray(u_all).reshape(-1)

    # float32 inputs use half-size chunks: the float64 work buffers are then the same
    # fraction of the input's bytes as for float64 inputs
    chunk = CHUNK // 2 if is32 else CHUNK
    m = min(chunk, max(size, 1))
    work = _work()
    t, ok = work.t[:m], work.ok[:m]
    wide = work.wide[:m] if is32 else None
    res = work.res[:m] if is32 else None
    raw_draws = (mode.is_stochastic and rng is not None and plan.k > 0
                 and type(rng.bit_generator) in _RAW_DOUBLE_GENERATORS)
    ubuf = (work.u[:m]
            if (mode.is_stochastic and rng is not None and not raw_draws) else None)

    # Elements outside [N_min, X_max] are collected (global index, uniform) and rounded
    # together once chunk/8 of them are pending: one exact frexp/ldexp pass per batch
    # instead of one per chunk, with memory still bounded by the chunk size.
    pending_idx: list[np.ndarray] = []
    pending_u: list[np.ndarray] = []
    pending = 0

    def flush() -> None:
        all_idx = np.concatenate(pending_idx)
        all_u = np.concatenate(pending_u) if pending_u else None
        pending_idx.clear()
        pending_u.clear()
        # in slices, so that the temporaries of _round_special stay small
        for lo in range(0, all_idx.size, _SPECIAL_SLICE):
            gidx = all_idx[lo:lo + _SPECIAL_SLICE]
            us = None if all_u is None else all_u[lo:lo + _SPECIAL_SLICE]
            values = _round_special(src[gidx].astype(np.float64), us, plan)
            out[gidx] = check_float32_results(values) if is32 else values

    for start in range(0, size, chunk):
        stop = min(start + chunk, size)
        n = stop - start
        if is32:
            xw = wide[:n]
            np.copyto(xw, src[start:stop])  # exact widening
            rw = res[:n]
        else:
            xw = src[start:stop]
            rw = out[start:stop]
        b = xw.view(np.uint64)
        r = rw.view(np.uint64)
        u = raw = None
        if mode.is_stochastic:
            if raw_draws:
                raw = rng.bit_generator.random_raw(n)
            elif ubuf is not None:
                u = ubuf[:n]
                rng.random(out=u)
            else:
                u = u_flat[start:stop]
        tt, okk = t[:n], ok[:n]
        _round_common(b, u, raw, plan, r, tt)
        # One unsigned range test for N_min <= |x| <= X_max (wrap-around makes values
        # below N_min huge); the other elements go the exact frexp/ldexp way.
        np.bitwise_and(b, _ABS, out=tt)
        np.subtract(tt, plan.nmin_bits, out=tt)
        np.less_equal(tt, plan.span, out=okk)
        n_out = n - int(np.count_nonzero(okk))
        if n_out:
            # |x| < N_min wrapped around to tt >= 2^63: with a bulk plan those are
            # rounded here, the rest (overflow, inf, NaN) is left pending
            if plan.small_bulk and n_out * 8 >= n:  # many: over the whole chunk
                small = tt.view(np.int64) < 0
                vals = _round_small(xw, u, raw, plan, work)
                _select(small, vals.view(np.uint64), r, work.mask[:n])
                np.logical_or(okk, small, out=okk)
                np.logical_not(okk, out=okk)
                idx = np.flatnonzero(okk)
            else:
                np.logical_not(okk, out=okk)
                idx = np.flatnonzero(okk)
                if plan.small_bulk:                  # few: gather the small ones
                    is_small = tt[idx].view(np.int64) < 0
                    sidx = idx[is_small]
                    if sidx.size:
                        rw[sidx] = _round_small(
                            xw[sidx], None if u is None else u[sidx],
                            None if raw is None else raw[sidx], plan, work)
                        idx = idx[~is_small]
            if idx.size:
                if raw is not None:
                    pending_u.append(_uniforms(raw[idx]))
                elif u is not None:
                    pending_u.append(u[idx])  # a copy: ubuf is reused by the next chunk
                if is32:
                    rw[idx] = 0.0  # placeholder until the batch is rounded (float32-safe)
                pending_idx.append(idx + start)
                pending += idx.size
        if is32:
            out[start:stop] = check_float32_results(rw)
        if pending >= chunk // 8:
            flush()
            pending = 0
    if pending:
        flush()
    return out.reshape(arr.shape)
