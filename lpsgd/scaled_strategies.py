"""Hypothesis strategies for scaled formats and for arrays whose blocks hit the hard cases.

The hard cases of block scaling, each reached on purpose (and listed in
:data:`HARD_MAXIMA`): a block maximum ``a_B`` equal to ``X_f 2^k`` or a power of two, or
one float64 (or float32) ulp either side of them (the float log2 trap: a logarithm of
``2^k (1 - 2^-53)`` rounds to ``k``); values the element format clips (between ``X_f``
and ``2^(emax_f + 1)``); ``a_B`` near ``2^(emax_f - 127)`` and ``2^(127 + emax_f)`` (the
E8M0 clamps), float64 and float32 subnormals; elements that are exact grid values or
ties after scaling (at the scale of the floor rule and at twice it, which covers ceil and
rceil), tiny elements that land in the element's subnormals, zeros of both signs, NaN and
inf anywhere in a block, blocks of equal values, and a last block that is shorter.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from lpsgd.formats import PRESETS, Format
from lpsgd.scaled import SCALED_PRESETS, ScaledFormat

__all__ = ["scaled_formats", "hard_block_arrays", "HARD_MAXIMA", "uniform_arrays",
           "hard_cases", "wide_block_cases"]

_ELEMENTS = ("float8_e4m3fn", "float8_e5m2", "float6_e3m2fn", "float6_e2m3fn",
             "float4_e2m1fn", "float8_e4m3", "binary16")
#: Names of the hard block maxima drawn by :func:`hard_block_arrays`.
HARD_MAXIMA = ("xf_pow2", "xf_pow2_up", "xf_pow2_down", "pow2", "pow2_up", "pow2_down",
               "pow2_down32", "clipped", "clamp_low", "clamp_high", "subnormal64",
               "subnormal32", "random")


@st.composite
def _random_element(draw: Any) -> Format:
    kind = draw(st.sampled_from(["ieee", "fn", "fn_nonan"]))
    e = draw(st.integers(2, 5))
    m = draw(st.integers(0 if kind != "fn" else 1, 4))
    return Format(e, m, subnormals=draw(st.booleans()), inf=kind == "ieee",
                  nan=kind != "fn_nonan")


def scaled_formats(*, scale: str | None = "e8m0") -> st.SearchStrategy[ScaledFormat]:
    """Scaled presets, and random (element, block size, rule) choices.

    ``scale``: "e8m0", "e4m3" or None for both.
    """
    presets = [f for f in SCALED_PRESETS.values() if scale in (None, f.scale)]
    elements = st.one_of(st.sampled_from([PRESETS[n] for n in _ELEMENTS]), _random_element())
    sizes = st.sampled_from([1, 2, 3, 4, 5, 8, 16, 32])

    def build(args: tuple) -> ScaledFormat:
        elem, size, sc, rule = args
        return ScaledFormat(elem, block_size=size, scale=sc, rule=rule)

    scales = [s for s in ("e8m0", "e4m3") if scale in (None, s)]
    randoms = st.sampled_from(scales).flatmap(
        lambda s: st.tuples(elements, sizes, st.just(s),
                            st.sampled_from(["floor", "ceil", "rceil"] if s == "e8m0"
                                            else ["nearest"])).map(build))
    return st.one_of(st.sampled_from(presets), randoms)


def _ulp_up(v: float) -> float:
    return float(np.nextafter(v, math.inf))


def _ulp_down(v: float) -> float:
    return float(np.nextafter(v, 0.0))


def _maximum(kind: str, fmt: ScaledFormat, k: int, r: float) -> float:
    xf, em = float(fmt.x_f), fmt.emax_f
    if kind.startswith("xf_pow2"):
        v = math.ldexp(xf, k)
        return {"xf_pow2": v, "xf_pow2_up": _ulp_up(v), "xf_pow2_down": _ulp_down(v)}[kind]
    if kind == "pow2_down32":
        return float(np.nextafter(np.float32(math.ldexp(1.0, k)), np.float32(0)))
    if kind.startswith("pow2"):
        v = math.ldexp(1.0, k)
        return {"pow2": v, "pow2_up": _ulp_up(v), "pow2_down": _ulp_down(v)}[kind]
    if kind == "clipped":  # between X_f and 2^(emax_f+1), times 2^k
        top = math.ldexp(1.0, em + 1)
        return math.ldexp(xf + (top - xf) * r, k) if top > xf else math.ldexp(xf, k)
    if kind == "clamp_low":
        return math.ldexp(1.0 + r, em - 127 + (k % 5) - 3)
    if kind == "clamp_high":
        return math.ldexp(1.0 + r, min(127 + em + (k % 5) - 2, 1023))
    if kind == "subnormal64":
        return math.ldexp(1.0 + r, -1074 + (k % 40) + 20) if r < 0.5 else 5e-324 * (1 + k % 7)
    if kind == "subnormal32":
        return float(np.float32(math.ldexp(1.0 + r, -149 + (k % 20) + 2)))
    return math.ldexp(1.0 + r, k)


def _grid(fmt: ScaledFormat) -> list[Fraction]:
    """Some magnitudes of the element grid (all of a small element)."""
    g = fmt.grid
    if g.total_bits <= 8:
        vals = sorted({abs(Fraction(float(v))) for v in g.codes() if np.isfinite(v)})
    else:
        vals = [Fraction(1), Fraction(3, 2), g.x_max, g.smallest_positive, g.n_min]
    return [v for v in vals if v <= fmt.x_f] or [Fraction(0)]


@st.composite
def _block(draw: Any, fmt: ScaledFormat, length: int) -> list[float]:
    kind = draw(st.sampled_from(HARD_MAXIMA), label="max kind")
    k = draw(st.integers(-40, 40))
    r = draw(st.floats(0.0, 1.0, exclude_max=True))
    a = _maximum(kind, fmt, k, r)
    if draw(st.integers(0, 9)) == 0:
        return [a if draw(st.booleans()) else -a for _ in range(length)]  # equal values
    if draw(st.integers(0, 11)) == 0:
        return [draw(st.sampled_from([0.0, -0.0])) for _ in range(length)]  # zero block
    if not math.isfinite(a) or a == 0:
        a = 1.0
    e = math.frexp(a)[1] - 1 - fmt.emax_f
    grid = _grid(fmt)
    out = []
    for _ in range(length - 1):
        pick = draw(st.integers(0, 9))
        s = math.ldexp(1.0, e + draw(st.integers(0, 1)))
        if pick <= 2:  # a grid value after scaling
            v = float(draw(st.sampled_from(grid))) * s
        elif pick <= 4:  # a tie (midpoint of two grid values) after scaling
            i = draw(st.integers(0, max(len(grid) - 2, 0)))
            hi = grid[i + 1] if i + 1 < len(grid) else grid[i] * 2
            v = float((grid[i] + hi) / 2) * s
        elif pick == 5:  # the element's subnormals (or below) after scaling
            v = float(fmt.grid.subnormal_spacing) * s * draw(st.sampled_from([0.25, 0.5, 1,
                                                                               1.5, 3]))
        elif pick == 6:
            v = draw(st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 0.0, a,
                                      # float64 subnormals and near-subnormals: scaled by
                                      # 2^-e with e > 0 they lose bits (the exact route)
                                      5e-324, 2.5e-310, math.ldexp(1 + 2 ** -52, -960)]))
        else:
            v = a * draw(st.floats(0.0, 1.0))
        if math.isfinite(v) and draw(st.booleans()):
            v = float(np.nextafter(v, draw(st.sampled_from([0.0, math.inf])))) if \
                draw(st.integers(0, 3)) == 0 else v
        while math.isfinite(v) and abs(v) > a:  # keep the planted maximum the maximum
            v /= 2
        out.append(-v if draw(st.booleans()) else v)
    out.insert(draw(st.integers(0, len(out))), a if draw(st.booleans()) else -a)
    return out


@st.composite
def hard_block_arrays(draw: Any, fmt: ScaledFormat, *, max_blocks: int = 3,
                      max_rows: int = 2) -> tuple[np.ndarray, int]:
    """(x, axis): a float64 array (1-D or 2-D) whose blocks along ``axis`` hit the hard
    cases; the last block along the axis is often shorter."""
    size = fmt.block_size
    nb = draw(st.integers(1, max_blocks))
    short = draw(st.integers(0, size - 1)) if draw(st.booleans()) else 0
    n = max(nb * size - short, 1)
    rows = draw(st.integers(1, max_rows))
    data = []
    for _ in range(rows):
        row: list[float] = []
        while len(row) < n:
            row.extend(draw(_block(fmt, min(size, n - len(row)))))
        data.append(row[:n])
    x = np.array(data, dtype=np.float64)
    if rows == 1 and draw(st.booleans()):
        return x[0], -1
    if draw(st.booleans()):
        return np.ascontiguousarray(x.T), 0  # blocks along the first axis
    return x, -1


def uniform_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Uniforms in [0, 1) shaped ``shape``, with 0, 1/2 and the largest below 1 often."""
    n = int(np.prod(shape)) if shape else 1
    one = st.one_of(st.just(0.0), st.just(0.5), st.just(float(np.nextafter(1.0, 0.0))),
                    st.floats(0.0, 1.0, exclude_max=True))
    return st.lists(one, min_size=n, max_size=n).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape))


def hard_cases() -> list[tuple[ScaledFormat, np.ndarray, int]]:
    """The hard cases as explicit (fmt, x, axis) examples, for every scaled preset.

    Block maxima: ``X_f 2^k`` and one ulp either side, powers of two and one ulp either
    side (float64, and float32's ``512 (1 - 2^-24)``, the float log2 trap), the clipping
    values (E4M3 480 and 500, E2M1 7, E2M3 7.9, E3M2 30, E5M2 61440), maxima near the
    E8M0 clamps and float64/float32 subnormals; blocks of zeros and of -0, +-inf and NaN at
    the maximum's position and elsewhere; lengths 1, 31, 33 and 40; the axis first.
    """
    out: list[tuple[ScaledFormat, np.ndarray, int]] = []
    f32_trap = float(np.nextafter(np.float32(512), np.float32(0)))
    clip = [480.0, 500.0, 7.0, 7.9, 30.0, 61440.0]
    for fmt in SCALED_PRESETS.values():
        xf, em = float(fmt.x_f), fmt.emax_f
        maxima = [f32_trap, _ulp_down(512.0), 512.0, _ulp_up(512.0), *clip]
        for k in (-3, 0, 5):
            v = math.ldexp(xf, k)
            maxima += [v, _ulp_up(v), _ulp_down(v)]
        maxima += [math.ldexp(1.0, em - 126), math.ldexp(1.0, em - 127),
                   _ulp_down(math.ldexp(1.0, em - 127)), math.ldexp(1.5, em - 140),
                   math.ldexp(1.0, -127), math.ldexp(1.0, 127 + em),
                   math.ldexp(1.75, 130 + em), 5e-324, 2.5e-310,
                   float(np.float32(1e-40)), float(np.float32(1e-45))]
        # one block per maximum, with a tie and a small value beside it
        for a in maxima:
            e = math.frexp(a)[1] - 1 - em
            tie = float(fmt.grid.subnormal_spacing) * 1.5 * math.ldexp(1.0, e)
            out.append((fmt, np.array([a, -tie, a / 3, -0.0, tie / 8]), -1))
        size = fmt.block_size
        base = np.linspace(-3.0, 5.0, 40)
        for n in (1, 31, 33, 40):
            out.append((fmt, base[:n].copy(), -1))
        specials = base[:2 * size].copy()
        specials[0] = np.nan                   # NaN elsewhere in block 0
        specials[size + 3] = -np.inf           # inf in the max position of block 1
        out.append((fmt, specials, -1))
        specials = base[:2 * size].copy()
        specials[size - 1] = np.inf
        specials[size + 1] = np.nan
        out.append((fmt, specials, -1))
        zeros = np.zeros(2 * size + 3)
        zeros[size:2 * size] = -0.0
        zeros[-1] = 1.0
        out.append((fmt, zeros, -1))
        out.append((fmt, np.array([[0.5, -1.25, 448.0, 3e-5], [1e-3, 2.0, -7.0, 1.0],
                                   [6.0, 0.1, 0.0, -0.0]]), 0))
        out.append((fmt, np.full(size, -2.75), -1))  # all equal
    nv = SCALED_PRESETS["nvfp4"]
    # NVFP4: a zero block, a block scale that rounds to an E4M3 subnormal or to 0, and a
    # tensor maximum of 0 or inf; S = 1 exactly when a_tensor = 2688.
    sub = np.zeros(32)
    sub[0] = 2688.0
    sub[16], sub[17], sub[18] = 18 * 2.0 ** -9, 0.01, -5e-3   # sb = 3 2^-9 (subnormal)
    out.append((nv, sub, -1))
    tiny = np.zeros(48)
    tiny[0] = 1e6
    tiny[16], tiny[17] = 1e-6, -3e-7                            # sb rounds to 0
    tiny[32:] = -0.0
    out.append((nv, tiny, -1))
    out.append((nv, np.zeros(16), -1))
    out.append((nv, np.array([np.inf] + [1.0] * 15 + [6.0] * 16), -1))
    out.append((nv, np.array([1.0, 0.5, 0.25, -0.75] * 4 + [3.0] * 16), -1))
    return out


def wide_block_cases() -> list[tuple[ScaledFormat, np.ndarray, int]]:
    """Blocks that span a thousand binades: a huge maximum (2^1000, 1e308, 1.5 2^1023)
    beside float64 subnormals and near-subnormals, for every MX preset.  Scaled by 2^-e
    with e > 0 those small elements lose bits in float64, so a fast block quantiser must
    round them exactly (a peer computing in float64 rounds them twice)."""
    out: list[tuple[ScaledFormat, np.ndarray, int]] = []
    for fmt in SCALED_PRESETS.values():
        if fmt.scale != "e8m0":
            continue
        for a in (math.ldexp(1.0, 1000), 1e308, math.ldexp(1.5, 1023)):
            out.append((fmt, np.array([a, 5e-324, -2.5e-310, math.ldexp(1 + 2 ** -52, -960),
                                       -math.ldexp(1.5, -1000), 0.0]), -1))
    return out
