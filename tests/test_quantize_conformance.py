"""fast.quantize == reference.quantize bit for bit, on inputs built to break it.

Results are compared with lpsgd.bitwise.same_values, the one bit-equality rule: equal
float64 bits (so -0.0 != 0.0), or NaN with the same sign bit (payloads are not compared).
Inputs: lpsgd.stress.stress_values of every preset and of seeded random (E, M, flags)
formats, every rounding mode, saturate on and off; stochastic modes with the same uniforms
(random ones and ones placed exactly on the decision threshold) and with the same seed.  A
focused Hypothesis strategy searches further.
"""

from __future__ import annotations

import importlib
import tracemalloc
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lpsgd import fast, reference
from lpsgd.bitwise import same_values
from lpsgd.errors import InvalidArgument
from lpsgd.formats import PRESETS, Format
from lpsgd.rounding import ROUNDING_MODES, STOCHASTIC_MODES
from lpsgd.stress import stress_values

fast_module = importlib.import_module("lpsgd.fast.quantize")


def assert_same_bits(x, got, want, label: str) -> None:
    """Fail with the worst case (input, bits) unless got and want agree bit for bit."""
    __tracebackhide__ = True
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (
        f"{label}: dtype/shape {got.dtype}{got.shape} != {want.dtype}{want.shape}")
    g64 = got.astype(np.float64).reshape(-1)
    w64 = want.astype(np.float64).reshape(-1)
    same = same_values(g64, w64)
    if not same.all():
        bad = np.flatnonzero(~same)
        i = bad[0]
        xi = float(np.asarray(x, dtype=np.float64).reshape(-1)[i])
        raise AssertionError(
            f"{label}: {bad.size} of {same.size} results differ; first at x={xi.hex()} "
            f"({xi!r}): ACTUAL={g64[i].hex()} DESIRED={w64[i].hex()}")


def _values(f: Format) -> np.ndarray:
    # Formats of at most 9 bits: every stress value; wider: a seeded sample that keeps
    # all boundary points (the reference costs ~20 us per element).
    return stress_values(f, max_values=None if f.total_bits <= 9 else 1200)


def _random_formats(count: int, seed: int) -> list[Format]:
    rng = np.random.default_rng(seed)
    out: list[Format] = []
    while len(out) < count:
        e, m = int(rng.integers(1, 12)), int(rng.integers(0, 53))
        kind = rng.integers(0, 3)
        inf, nan = [(True, True), (False, True), (False, False)][kind]
        try:
            f = Format(e, m, subnormals=bool(rng.integers(0, 2)), inf=inf, nan=nan)
        except InvalidArgument:
            continue  # e.g. an IEEE-like format with E = 1 has no normal numbers
        if f.fits_binary64:
            out.append(f)
    return out


def _uniforms(x: np.ndarray, seed: int) -> np.ndarray:
    """Random uniforms, with the extreme values 0 and 1 - 2^-53 mixed in."""
    u = np.random.default_rng(seed).random(x.shape)
    u.reshape(-1)[::7] = 0.0
    u.reshape(-1)[3::7] = np.nextafter(1.0, 0.0)
    return u


def _check(x: np.ndarray, f: Format, mode: str, saturate: bool, seed: int = 0) -> None:
    kwargs = {"uniforms": _uniforms(x, seed)} if mode in STOCHASTIC_MODES else {}
    want = reference.quantize(x, f, mode, saturate=saturate, **kwargs)
    got = fast.quantize(x, f, mode, saturate=saturate, **kwargs)
    assert_same_bits(x, got, want, f"{f.label} {mode} saturate={saturate}")


@pytest.mark.parametrize("mode", ROUNDING_MODES)
@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_on_stress_values(name: str, mode: str) -> None:
    f = PRESETS[name]
    x = _values(f)
    for saturate in (False, True):
        _check(x, f, mode, saturate)


# M = 0 formats (bit 52 is then an exponent bit; a fast-path bug once lived there) and
# M = 52 (nothing to drop) are listed on purpose besides the random ones.
# E = 1, M = 0 fn formats have spacing 2 below N_min: float64 subnormals divided by it
# underflow (another bug that once lived in the fast slow path).
EDGE_FORMATS = [Format(3, 0), Format(4, 0, subnormals=False), Format(2, 0, inf=False),
                Format(3, 0, inf=False, nan=False), Format(11, 0), Format(8, 52),
                Format(2, 1, subnormals=False, inf=False, nan=False),
                Format(1, 0, inf=False, nan=False), Format(1, 1, inf=False),
                Format(1, 1, inf=False, nan=False)]


@pytest.mark.parametrize("f", _random_formats(14, seed=2026) + EDGE_FORMATS,
                         ids=lambda f: f.label)
def test_random_formats_on_stress_values(f: Format) -> None:
    x = stress_values(f, seed=1, max_values=250)
    for i, mode in enumerate(ROUNDING_MODES):
        _check(x, f, mode, saturate=bool(i % 2), seed=i)
        if f.man_bits == 0 or f.exp_bits == 1:
            _check(x, f, mode, saturate=not i % 2, seed=i)


# A focused strategy: a small format, and values drawn from its stress values plus
# arbitrary float64 numbers (the public strategies in lpsgd.strategies go further).
@st.composite
def _cases(draw):
    e = draw(st.integers(1, 11))
    m = draw(st.integers(0, 52))
    inf, nan = draw(st.sampled_from([(True, True), (False, True), (False, False)]))
    try:
        f = Format(e, m, subnormals=draw(st.booleans()), inf=inf, nan=nan)
    except InvalidArgument:
        f = Format(max(e, 2), m)
    if not f.fits_binary64:
        f = Format(min(e, 8), min(m, 23))
    pool = stress_values(f, seed=draw(st.integers(0, 3)), max_values=400)
    picks = draw(st.lists(st.sampled_from(list(pool)) | st.floats(width=64), min_size=1,
                          max_size=16))
    mode = draw(st.sampled_from(ROUNDING_MODES))
    return f, np.array(picks, dtype=np.float64), mode, draw(st.booleans())


@settings(max_examples=80)
@example((Format(5, 10), np.array([65520.0, -65520.0, 2.0 ** -25, -(2.0 ** -25)]),
          "nearest_even", False))
@example((Format(3, 0, subnormals=False), np.array([0.0, 0.5000000000000001]), "odd", False))
@example((Format(3, 0), np.array([1.5, 3.0, -6.0, 0.75]), "nearest_even", False))
@given(_cases())
def test_hypothesis_fast_equals_reference(case) -> None:
    f, x, mode, saturate = case
    _check(x, f, mode, saturate)


# -- stochastic: decision threshold, seeds, chunked draws ---------------------------------

def test_stochastic_threshold_is_exact() -> None:
    """u == frac rounds down, the float64 just below frac rounds up (frac computed exactly).

    frac = (|x| - lo) / (hi - lo) with lo, hi the neighbours from the reference's
    toward_zero and up modes on |x|: an independent derivation of the fraction.
    """
    f = Format(4, 3)
    x = stress_values(f)
    x = x[np.isfinite(x) & (np.abs(x) <= float(f.x_max)) & (x != 0)]
    a = np.abs(x)
    lo = reference.quantize(a, f, "toward_zero")
    hi = reference.quantize(a, f, "up")
    inexact = lo != hi
    x, a, lo, hi = x[inexact], a[inexact], lo[inexact], hi[inexact]
    frac = np.array([float((Fraction(ai) - Fraction(l)) / (Fraction(h) - Fraction(l)))
                     for ai, l, h in zip(a, lo, hi)])
    sign = np.where(np.signbit(x), -1.0, 1.0)
    for u, want in ((frac, lo), (np.nextafter(frac, 0.0), hi)):
        for q in (fast.quantize, reference.quantize):
            assert_same_bits(x, q(x, f, "stochastic", uniforms=u), sign * want,
                             f"{q.__module__} u at frac")


@pytest.mark.parametrize("mode", STOCHASTIC_MODES)
def test_same_seed_same_bits_any_shape(mode: str) -> None:
    x = stress_values("float8_e4m3", max_values=60).reshape(3, 4, 5)
    a = fast.quantize(x, "float8_e4m3", mode, rng=np.random.default_rng(7))
    b = reference.quantize(x, "float8_e4m3", mode, rng=np.random.default_rng(7))
    c = fast.quantize(x, "float8_e4m3", mode,
                      uniforms=np.random.default_rng(7).random(x.shape))
    assert_same_bits(x, a, b, "fast rng vs reference rng")
    assert_same_bits(x, a, c, "fast rng vs fast uniforms")
    d = fast.quantize(x, "float8_e4m3", mode, rng=np.random.default_rng(8))
    assert not np.array_equal(a, d)  # a different seed does change some results


def test_rng_draws_in_chunks_equal_one_call() -> None:
    """The fast path draws per chunk; the stream must equal one rng.random(shape) call."""
    n = 2 * fast_module.CHUNK + 17
    x = np.random.default_rng(3).standard_normal(n)
    a = fast.quantize(x, "binary16", "stochastic", rng=np.random.default_rng(11))
    b = fast.quantize(x, "binary16", "stochastic",
                      uniforms=np.random.default_rng(11).random(n))
    assert_same_bits(x, a, b, "chunked rng")
    # and the chunked fast path agrees with the reference across a chunk boundary
    k = fast_module.CHUNK
    sl = slice(k - 40, k + 40)
    u = np.random.default_rng(11).random(n)
    assert_same_bits(x[sl], a[sl], reference.quantize(x[sl], "binary16", "stochastic",
                                                      uniforms=u[sl]), "boundary")


# -- shapes, dtypes, layout ---------------------------------------------------------------

def test_shapes_scalars_and_layout() -> None:
    x = stress_values("float8_e5m2", max_values=120).reshape(4, 30)
    for view in (x, x.T, x[:, ::3], x[::-1]):
        before = view.copy()
        got = fast.quantize(view, "float8_e5m2", "odd")
        assert got.shape == view.shape and got.dtype == np.float64
        assert_same_bits(view, got, reference.quantize(view, "float8_e5m2", "odd"), "view")
        assert_same_bits(view, view, before, "input unchanged")
    for scalar in (1.0 + 2.0 ** -3, np.float64(-0.0), np.float32(3.3)):
        got, want = fast.quantize(scalar, "float8_e5m2"), reference.quantize(scalar,
                                                                             "float8_e5m2")
        assert got.shape == () and got.dtype == np.asarray(scalar).dtype
        assert_same_bits(np.asarray(scalar), got, want, "scalar")
    empty = np.empty((0, 3))
    assert fast.quantize(empty, "binary16").shape == (0, 3)
    assert reference.quantize(empty, "binary16").shape == (0, 3)


@pytest.mark.parametrize("mode", ROUNDING_MODES)
def test_float32_inputs(mode: str) -> None:
    f = PRESETS["bfloat16"]
    x64 = stress_values(f, max_values=400)
    with np.errstate(over="ignore"):
        x32 = x64.astype(np.float32)
    kwargs = {"uniforms": _uniforms(x32, 5)} if mode in STOCHASTIC_MODES else {}
    got = fast.quantize(x32, f, mode, **kwargs)
    want = reference.quantize(x32, f, mode, **kwargs)
    assert got.dtype == np.float32
    assert_same_bits(x32, got, want, "float32")
    # the float32 results are the float64 results of the same (widened) inputs
    wide = fast.quantize(x32.astype(np.float64), f, mode, **kwargs)
    assert_same_bits(x32, got.astype(np.float64), wide, "float32 vs float64")


def test_float32_result_not_representable_is_refused() -> None:
    # 9 exponent bits reach past float32's range: rounding float32's largest value up
    # gives 2^128 (0x1p+128), which float32 cannot hold.
    f = Format(9, 10)
    big = np.array([np.finfo(np.float32).max], dtype=np.float32)
    for q in (fast.quantize, reference.quantize):
        with pytest.raises(InvalidArgument, match="not representable in float32"):
            q(big, f, "up")
        assert q(big.astype(np.float64), f, "up")[0] == 2.0 ** 128


def test_peak_memory_at_most_one_and_a_half_inputs() -> None:
    """Chunking: the output (1x) plus work buffers stay below 1.5x the input's bytes."""
    n = 1 << 21
    x = np.random.default_rng(0).standard_normal(n)
    x[::1000] *= 1e-7  # some elements take the special (subnormal) path
    x32 = x.astype(np.float32)
    tiny = x * 1e-6  # nearly every element below binary16's N_min: the batched slow path
    cases = [(x, "binary16", "nearest_even", {}),
             (tiny, "binary16", "stochastic", {"rng": np.random.default_rng(1)}),
             (x, "float8_e4m3fn", "nearest_even", {}),
             (x, "binary16", "stochastic", {"rng": np.random.default_rng(0)}),
             (x32, "bfloat16", "nearest_even", {}),
             ((x * 1e-40).astype(np.float32), "bfloat16", "stochastic",
              {"rng": np.random.default_rng(2)})]
    for arr, fmt, mode, kwargs in cases:
        tracemalloc.start()
        try:
            out = fast.quantize(arr, fmt, mode, **kwargs)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        del out
        assert peak <= 1.5 * arr.nbytes, (fmt, mode, arr.dtype, peak / arr.nbytes)


@pytest.mark.parametrize("bitgen", [np.random.PCG64, np.random.PCG64DXSM, np.random.SFC64,
                                    np.random.Philox, np.random.MT19937])
@pytest.mark.parametrize("mode", STOCHASTIC_MODES)
def test_every_bit_generator_gives_the_reference_stream(bitgen, mode: str) -> None:
    """With rng the fast path may read the raw 64-bit draws behind Generator.random();
    for every bit generator the bits must equal rounding with those uniforms."""
    n = fast_module.CHUNK + 300
    x = np.random.default_rng(4).standard_normal(n)
    x[::50] *= 2.0 ** -20  # some elements in the subnormal range (the special path)
    for fmt in ("binary16", "float8_e4m3fn", "binary64"):
        got = fast.quantize(x, fmt, mode, rng=np.random.Generator(bitgen(9)))
        want = fast.quantize(x, fmt, mode, uniforms=np.random.Generator(bitgen(9)).random(n))
        assert_same_bits(x, got, want, f"{bitgen.__name__} {fmt}")
    small = x[:50]
    assert_same_bits(small, fast.quantize(small, "binary16", mode,
                                          rng=np.random.Generator(bitgen(2))),
                     reference.quantize(small, "binary16", mode,
                                        rng=np.random.Generator(bitgen(2))), "reference")


@pytest.mark.parametrize("mode", ["nearest_even", "stochastic", "down"])
def test_many_special_elements_across_chunks(mode: str) -> None:
    """Elements outside [N_min, X_max] are rounded in batches spanning chunks."""
    n = 3 * fast_module.CHUNK + 5
    rng = np.random.default_rng(6)
    x = rng.standard_normal(n) * 2.0 ** rng.integers(-40, 20, n)
    x[::3] = rng.standard_normal(x[::3].size) * 1e-6  # binary16 subnormal range
    u = rng.random(n)
    kwargs = {"uniforms": u} if mode == "stochastic" else {}
    got = fast.quantize(x, "binary16", mode, **kwargs)
    x32 = x.astype(np.float32)
    got32 = fast.quantize(x32, "binary16", mode, **kwargs)
    for k in (0, fast_module.CHUNK, 2 * fast_module.CHUNK, n - 60):
        sl = slice(max(k - 60, 0), k + 60)
        kw = {"uniforms": u[sl]} if mode == "stochastic" else {}
        assert_same_bits(x[sl], got[sl], reference.quantize(x[sl], "binary16", mode, **kw),
                         f"float64 near {k}")
        assert_same_bits(x32[sl], got32[sl],
                         reference.quantize(x32[sl], "binary16", mode, **kw), f"float32 near {k}")
