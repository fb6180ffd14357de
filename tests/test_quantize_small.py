"""The bulk route for |x| < N_min in lpsgd.fast.quantize, checked against two oracles.

Values below the format's N_min (subnormal range, float64 subnormals, zeros) are rounded
in bulk on the grid of spacing s = 2^(e_min - M) (``_round_small``), either over a whole
chunk (many small values) or after gathering them (few).  Both routes are compared bit
for bit with the reference on the stress values below N_min, and, on many more random
values, with the exact frexp/ldexp route (``_round_special``) that the reference already
pins, for every preset, random (E, M) formats, every mode, subnormals on and off.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from lpsgd import fast, reference
from lpsgd.formats import PRESETS, Format
from lpsgd.rounding import ROUNDING_MODES, RoundingMode
from lpsgd.stress import stress_values

from test_quantize_conformance import assert_same_bits

fq = importlib.import_module("lpsgd.fast.quantize")

FORMATS = [PRESETS[n] for n in PRESETS] + [
    Format(3, 2, subnormals=False), Format(2, 1), Format(1, 1, inf=False, nan=False), Format(4, 0),
    Format(5, 3, subnormals=False, name="e5m3_ftz"), Format(8, 0, subnormals=False)]


def _small_values(f: Format, count: int, seed: int) -> np.ndarray:
    """Random magnitudes below N_min: on the grid, exact ties, neighbours, float64 subnormals."""
    rng = np.random.default_rng(seed)
    s = float(f.n_min) / 2.0 ** f.man_bits
    m = rng.integers(0, 2 ** min(f.man_bits, 50) + 1, size=count).astype(np.float64)
    grid = m * s                      # on the grid (N_min itself included)
    ties = (m + 0.5) * s              # exact ties (exact in float64: s is a power of two)
    rnd = rng.random(count) * float(f.n_min)
    parts = [grid, ties, np.nextafter(ties, 0), np.nextafter(ties, np.inf), rnd,
             rng.random(count) * 2.0 ** -1060, np.array([0.0, 5e-324, 2.0 ** -1022])]
    v = np.concatenate(parts)
    v = v[v < float(f.n_min)]
    sign = np.where(rng.random(v.size) < 0.5, -1.0, 1.0)
    return np.concatenate([v * sign, -v[:50]])


def _special_route(x: np.ndarray, u: np.ndarray | None, f: Format, mode: str,
                   saturate: bool = False) -> np.ndarray:
    plan = fq._Plan(f, RoundingMode(mode), saturate)
    return fq._round_special(x, u, plan)


def test_presets_take_the_bulk_route_and_the_exceptions_do_not():
    assert all(fq._Plan(f, RoundingMode.NEAREST_EVEN, False).small_bulk
               for f in PRESETS.values() if f.name != "binary64")
    # 1/s not a float64 (E = 1, M = 0 has s = 2; binary64 has s = 2^-1074)
    assert not fq._Plan(Format(1, 0, inf=False, nan=False), RoundingMode.NEAREST_EVEN,
                        False).small_bulk
    assert not fq._Plan(PRESETS["binary64"], RoundingMode.NEAREST_EVEN, False).small_bulk


@pytest.mark.parametrize("mode", ROUNDING_MODES)
@pytest.mark.parametrize("f", FORMATS, ids=lambda f: f.label)
def test_bulk_equals_exact_route_on_random_small_values(f: Format, mode: str) -> None:
    x = _small_values(f, 3000, seed=hash((f.label, mode)) % 2 ** 32)
    rng = np.random.default_rng(7)
    u = rng.random(x.size) if mode in ("stochastic", "stochastic_equal") else None
    # threshold uniforms: u exactly equal to the fraction decides "down" (u < frac fails)
    if u is not None and f.man_bits < 50:
        s = float(f.n_min) / 2.0 ** f.man_bits
        y = np.abs(x) / s
        u[::3] = (y - np.floor(y))[::3]
    want = _special_route(x, u, f, mode)
    dense = fast.quantize(x, f, mode, uniforms=u)                # all small: bulk over chunks
    assert_same_bits(x, dense, want, f"{f.label} {mode} dense")
    # few small values among many normal ones: the gathered route
    big = np.full(x.size * 9, 1.5 * float(f.n_min))
    mixed = np.concatenate([x, big])
    perm = np.random.default_rng(3).permutation(mixed.size)
    mixed = mixed[perm]
    um = None if u is None else np.concatenate([u, rng.random(big.size)])[perm]
    got = fast.quantize(mixed, f, mode, uniforms=um)
    is_small = perm < x.size
    assert_same_bits(mixed[is_small], got[is_small], want[perm[is_small]],
                     f"{f.label} {mode} gathered")


@pytest.mark.parametrize("mode", ROUNDING_MODES)
@pytest.mark.parametrize("name", ["binary16", "float8_e4m3fn", "float4_e2m1fn", "bfloat16"])
def test_bulk_equals_reference_on_stress_values_below_n_min(name: str, mode: str) -> None:
    f = PRESETS[name]
    x = stress_values(f, max_values=3000)
    x = x[np.abs(x) < float(f.n_min)]
    assert x.size > 20
    u = np.random.default_rng(11).random(x.size) if mode.startswith("stochastic") else None
    for subnormals in (True, False):
        g = Format(f.exp_bits, f.man_bits, subnormals=subnormals, inf=f.inf, nan=f.nan)
        want = np.array([float(reference.quantize(v, g, mode,
                                                  uniforms=None if u is None else u[i]))
                         for i, v in enumerate(x)])
        assert_same_bits(x, fast.quantize(x, g, mode, uniforms=u), want,
                         f"{g.label} {mode}")


@pytest.mark.parametrize("mode", ["stochastic", "stochastic_equal"])
def test_bulk_route_with_raw_draws_equals_given_uniforms(mode: str) -> None:
    """With an rng the bulk route reads the raw 64-bit draws: same results as uniforms."""
    x = np.random.default_rng(0).standard_normal(2 * fq.CHUNK + 99) * 2.0 ** -7
    a = fast.quantize(x, "float8_e4m3fn", mode, rng=np.random.default_rng(5))
    b = fast.quantize(x, "float8_e4m3fn", mode,
                      uniforms=np.random.default_rng(5).random(x.shape))
    assert_same_bits(x, a, b, mode)
    assert np.count_nonzero(np.abs(x) < 2.0 ** -6) > x.size // 2  # the bulk route ran


def test_float32_inputs_below_n_min():
    x = (np.random.default_rng(1).standard_normal(5000) * 2.0 ** -12).astype(np.float32)
    for mode in ROUNDING_MODES:
        u = np.random.default_rng(2).random(x.shape) if mode.startswith("stochastic") else None
        got = fast.quantize(x, "float8_e5m2", mode, uniforms=u)
        want = fast.quantize(x.astype(np.float64), "float8_e5m2", mode, uniforms=u)
        assert got.dtype == np.float32
        assert_same_bits(x, got.astype(np.float64), want, mode)


@pytest.mark.parametrize("mode", ROUNDING_MODES)
@pytest.mark.parametrize("name", ["binary16", "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn"])
@pytest.mark.parametrize("share_small", [0.05, 0.6])
def test_chunks_mixing_small_normal_and_special_values(name: str, mode: str,
                                                       share_small: float) -> None:
    """Both routes (bulk over the chunk, gathered) next to overflow, inf and NaN."""
    f = PRESETS[name]
    rng = np.random.default_rng(21)
    n = 6000
    small = _small_values(f, n, seed=5)[:int(n * share_small)]
    normal = rng.uniform(float(f.n_min), float(f.x_max), n - small.size - 400)
    over = float(f.x_max) * rng.uniform(1.0, 3.0, 394)
    specials = np.array([np.inf, -np.inf, np.nan, -np.nan, float(f.x_max), -0.0])
    x = np.concatenate([small, normal * np.sign(rng.standard_normal(normal.size)),
                        -over, specials])
    x = x[rng.permutation(x.size)]
    u = rng.random(x.size) if mode.startswith("stochastic") else None
    for saturate in (False, True):
        want = _special_route(x, u, f, mode, saturate)
        got = fast.quantize(x, f, mode, uniforms=u, saturate=saturate)
        assert_same_bits(x, got, want, f"{name} {mode} share={share_small} sat={saturate}")


def _ties_away_small(original):
    """A broken bulk route: ties of nearest_even resolved away from zero."""
    def broken(x, u, raw, plan, work):
        if plan.mode is not RoundingMode.NEAREST_EVEN:
            return original(x, u, raw, plan, work)
        y = np.abs(x) * plan.sub_scale
        return np.copysign(np.floor(y + 0.5) * plan.sub_step, x)
    return broken


@pytest.mark.parametrize("share_small", [0.05, 1.0], ids=["gathered", "bulk"])
def test_a_broken_bulk_route_is_caught(monkeypatch, share_small: float) -> None:
    """The comparisons above can fail: a wrong tie rule in the bulk route is reported."""
    f = PRESETS["float8_e4m3fn"]
    x = _small_values(f, 500, seed=1)
    if share_small < 1:
        x = np.concatenate([x, np.full(x.size * 19, 1.5 * float(f.n_min))])
    want = _special_route(x, None, f, "nearest_even")
    monkeypatch.setattr(fq, "_round_small", _ties_away_small(fq._round_small))
    with pytest.raises(AssertionError, match="results differ"):
        assert_same_bits(x, fast.quantize(x, f, "nearest_even"), want, "broken")
