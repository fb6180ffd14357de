"""fast.quantize == reference.quantize bit for bit on scaled formats, on the hard cases.

The hard cases (:func:`lpsgd.scaled_strategies.hard_cases`: block maxima at and one ulp
around X_f 2^k and powers of two, clipping values, the E8M0 clamps, subnormals, specials,
block lengths 1/31/33/40, the axis first, the NVFP4 scale corner cases) for every scaled
preset, every rounding mode, float64 and float32.  A longer random sweep is slow.
"""

from __future__ import annotations

import numpy as np
import pytest

from lpsgd import fast, reference
from lpsgd.bitwise import count_mismatches
from lpsgd.rounding import ROUNDING_MODES, RoundingMode
from lpsgd.scaled import SCALED_PRESETS, ScaledFormat
from lpsgd.scaled_strategies import hard_cases, wide_block_cases

_CASES = hard_cases() + wide_block_cases()  # the wide blocks reach the exact route


def _compare(fmt, x, axis, mode, u=None) -> int:
    kw = {"uniforms": u} if RoundingMode(mode).is_stochastic else {}
    try:
        want = reference.quantize(x, fmt, mode, axis=axis, **kw)
    except ValueError:  # a float32 result float32 cannot hold: both must refuse
        with pytest.raises(ValueError):
            fast.quantize(x, fmt, mode, axis=axis, **kw)
        return 0
    got = fast.quantize(x, fmt, mode, axis=axis, **kw)
    assert got.dtype == want.dtype and got.shape == want.shape
    return count_mismatches(got, want)


@pytest.mark.parametrize("mode", ROUNDING_MODES)
def test_hard_cases_every_preset(mode):
    rng = np.random.default_rng(0)
    bad = []
    for fmt, x, axis in _CASES:
        u = rng.random(x.shape)
        u.reshape(-1)[:3] = [0.0, 0.5, float(np.nextafter(1.0, 0.0))][:u.size]
        with np.errstate(over="ignore"):  # huge maxima become float32 infinities
            x32 = x.astype(np.float32)
        for xi in (x, x32):
            if _compare(fmt, xi, axis, mode, u):
                bad.append((fmt.label, xi.dtype, [float(v).hex() for v in xi.reshape(-1)]))
    assert not bad, f"{len(bad)} of {2 * len(_CASES)} hard cases differ; first: {bad[0]}"


def test_hard_cases_count():
    # every preset contributes its maxima, lengths and special blocks
    assert len(_CASES) >= 400
    assert {f.name for f, _, _ in _CASES} == set(SCALED_PRESETS)


def test_float32_results_are_float32_except_nvfp4():
    x = np.linspace(-3, 3, 40, dtype=np.float32)
    for fmt in ("mxfp8_e4m3", "mxint8"):
        assert fast.quantize(x, fmt).dtype == np.float32
    # NVFP4 results are the exact value rounded once to float64
    assert fast.quantize(x, "nvfp4").dtype == np.float64


def test_empty_and_scalar():
    for q in (fast.quantize, reference.quantize):
        assert q(np.zeros((0, 3)), "mxfp4_e2m1").shape == (0, 3)
        assert float(q(np.float64(7.0), "mxfp4_e2m1")) == 6.0
        assert q(np.float64(7.0), "mxfp4_e2m1").shape == ()


def _random_format(rng) -> ScaledFormat:
    elements = ["float8_e4m3fn", "float8_e5m2", "float6_e3m2fn", "float6_e2m3fn",
                "float4_e2m1fn", "binary16", "bfloat16"]
    if rng.random() < 0.2:
        return ScaledFormat(str(rng.choice(elements[:-1])), block_size=int(rng.integers(1, 33)),
                            scale="e4m3", rule="nearest")
    return ScaledFormat(str(rng.choice(elements)), block_size=int(rng.integers(1, 65)),
                        rule=str(rng.choice(["floor", "ceil", "rceil"])))


def _random_x(rng, n):
    x = rng.standard_normal(n) * 2.0 ** rng.integers(-20, 20, n)
    pick = rng.random(n)
    x[pick < 0.05] = 0.0
    x[(pick > 0.05) & (pick < 0.1)] = np.round(x[(pick > 0.05) & (pick < 0.1)] * 8) / 8
    return x


def test_random_sweep_small():
    rng = np.random.default_rng(1)
    for _ in range(40):
        fmt = _random_format(rng)
        x = _random_x(rng, int(rng.integers(1, 120)))
        for mode in ROUNDING_MODES:
            assert _compare(fmt, x, -1, mode, rng.random(x.shape)) == 0, (fmt, mode)


@pytest.mark.slow
def test_random_sweep_long():
    rng = np.random.default_rng(2)
    for _ in range(600):
        fmt = _random_format(rng)
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 200)))
        x = _random_x(rng, int(np.prod(shape))).reshape(shape)
        axis = int(rng.integers(-2, 2))
        for mode in ROUNDING_MODES:
            assert _compare(fmt, x, axis, mode, rng.random(shape)) == 0, (fmt, mode, axis)
