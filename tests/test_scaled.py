"""Scaled formats (lpsgd.scaled): constants, hand-derived quantisations, encode, bad input.

Every expected value is derived in the comment beside it; exact constants are hex floats.
Each hand case runs through both quantisers (reference and fast).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lpsgd import fast, reference
from lpsgd.errors import InvalidArgument
from lpsgd.formats import PRESETS, Format
from lpsgd.reference.scaled import encode, round_exact
from lpsgd.rounding import ROUNDING_MODES, RoundingMode
from lpsgd.scaled import (
    SCALED_PRESETS,
    IntElement,
    ScaledFormat,
    as_scaled_format,
    scaled_preset,
    scaled_preset_names,
)

H = float.fromhex
BOTH = pytest.mark.parametrize("q", [reference.quantize, fast.quantize],
                               ids=["reference", "fast"])


def _bits(a) -> list[str]:
    """Readable bits under lpsgd.bitwise's rule: float64 hex, a NaN as its sign and 'nan'."""
    flat = np.asarray(a, dtype=np.float64).reshape(-1)
    return [("-nan" if np.signbit(v) else "nan") if np.isnan(v) else float(v).hex()
            for v in flat]


# -- the format and its presets ----------------------------------------------------------

def test_preset_constants():
    # emax_f: exponent of the element's largest binade; X_f its largest magnitude
    want = {"mxfp8_e4m3": (8, 448), "mxfp8_e5m2": (15, 57344), "mxfp6_e3m2": (4, 28),
            "mxfp6_e2m3": (2, Fraction(15, 2)), "mxfp4_e2m1": (2, 6),
            "mxint8": (0, Fraction(127, 64)), "nvfp4": (2, 6)}
    for name, (emax, xf) in want.items():
        f = scaled_preset(name)
        assert (f.emax_f, f.x_f) == (emax, xf), name
        if name != "nvfp4" and name != "mxint8":
            twin = scaled_preset(name + "_rceil")
            assert (twin.rule, twin.element, twin.block_size) == ("rceil", f.element, 32)
    nv = scaled_preset("nvfp4")
    assert (nv.block_size, nv.scale, nv.rule, nv.tensor_numerator) == (16, "e4m3",
                                                                        "nearest", 2688)
    assert scaled_preset("mxint8").kind == "int"
    assert len(scaled_preset_names()) == 12


def test_frozen_hashable_and_equal():
    a = ScaledFormat("float4_e2m1fn")
    b = ScaledFormat(PRESETS["float4_e2m1fn"], block_size=32, scale="e8m0", rule="floor")
    assert a == b == SCALED_PRESETS["mxfp4_e2m1"] and hash(a) == hash(b)
    assert {a: 1}[SCALED_PRESETS["mxfp4_e2m1"]] == 1
    with pytest.raises(AttributeError):
        a.block_size = 16  # type: ignore[misc]
    assert ScaledFormat("int8").element == IntElement(8)
    assert as_scaled_format("nvfp4") is SCALED_PRESETS["nvfp4"]


# -- hand-derived cases ------------------------------------------------------------------

@BOTH
@pytest.mark.parametrize(("fmt", "x", "want"), [
    # float log2 trap: a_B = 512 (1 - 2^-24) = 0x1.fffffep+8, floor(log2) = 8, e = 8 - 8 =
    # 0, s = 1; 511.99997 > X_f = 448 clips to 448.  (A float32 log2 says 9: s = 2, 256.)
    ("mxfp8_e4m3", [H("0x1.fffffep+8")], [H("0x1.cp+8")]),
    # the float64 twin 512 (1 - 2^-53): the same scale 1, the same clip to 448
    ("mxfp8_e4m3", [H("0x1.fffffffffffffp+8")], [H("0x1.cp+8")]),
    # floor clipping: 480 and 500 have E = 8, s = 1: both clip to 448; 1 stays 1
    ("mxfp8_e4m3", [480.0, 1.0], [448.0, 1.0]),
    ("mxfp8_e4m3", [500.0, -1.0], [448.0, -1.0]),
    # E2M1: 7 has E = 2, e = 0: clips to X_f = 6
    ("mxfp4_e2m1", [7.0, 0.75], [6.0, 1.0]),   # 0.75: tie of 0.5 and 1 -> even (1 = 1.0b)
    # E2M3: 7.9 has E = 2, e = 0: clips to 7.5
    ("mxfp6_e2m3", [7.9], [7.5]),
    # E3M2: 30, E = 4, e = 0: clips to 28
    ("mxfp6_e3m2", [30.0], [28.0]),
    # E5M2: 61440, E = 15, e = 0: clips to 57344
    ("mxfp8_e5m2", [61440.0], [57344.0]),
    # rceil: e = ceil(log2(7/6)) = 1, s = 2; 3.5 is a tie of 3 (n = 3, odd) and 4: 4 -> 8
    ("mxfp4_e2m1_rceil", [7.0], [8.0]),
    # rceil at a_B = X_f 2^2 = 24 exactly: e = 2, 24 / 4 = 6, back to 24
    ("mxfp4_e2m1_rceil", [24.0, 1.0], [24.0, 0.0]),   # 1/4 = 0.25 < 0.5/2 -> 0
    # one ulp above 24: e = 3, s = 8; 24(1 + 2^-52) / 8 = 3 (1 + 2^-52) -> 3 -> 24
    ("mxfp4_e2m1_rceil", [H("0x1.8000000000001p+4")], [24.0]),
    # one ulp below 24: e = 2, s = 4; 5.999... -> 6 -> 24
    ("mxfp4_e2m1_rceil", [H("0x1.7ffffffffffffp+4")], [24.0]),
    # floor at 500 for E2M1: E = 8, e = 6, s = 64: 7.8 clips to 6 -> 384
    ("mxfp4_e2m1", [500.0], [384.0]),
    # rceil at 500: ceil(log2(500 / 6)) = ceil(6.38) = 7, s = 128: 3.906 -> 4 -> 512
    ("mxfp4_e2m1_rceil", [500.0], [512.0]),
    # mxint8: a_B = 1.5, e = 0: 1.5 = 96/64; 0.01 * 64 = 0.64 -> 1 -> 2^-6
    ("mxint8", [1.5, 0.01], [1.5, H("0x1p-6")]),
    # mxint8: a_B = 3.99, E = 1, s = 2: 1.995 * 64 = 127.68 -> 128, clamped to 127:
    # 127/64 * 2 = 3.96875 = 0x1.fcp+1
    ("mxint8", [3.99, -3.99], [H("0x1.fcp+1"), -H("0x1.fcp+1")]),
    # E8M0 clamp low: a_B = 2^-140, e = -148 -> -127; y = 2^-13 < 2^-10 (half the
    # smallest E4M3 2^-9) -> 0
    ("mxfp8_e4m3", [2.0 ** -140, -2.0 ** -141], [0.0, -0.0]),
    # E8M0 clamp high: a_B = 2^1000, e = 992 -> 127; y = 2^873 clips to 448:
    # 448 2^127 = 0x1.cp+135
    ("mxfp8_e4m3", [2.0 ** 1000], [H("0x1.cp+135")]),
])
def test_hand_cases(q, fmt, x, want):
    got = q(np.array(x), fmt)
    assert _bits(got) == _bits(want)


@BOTH
def test_ceil_rule(q):
    f = ScaledFormat("float4_e2m1fn", rule="ceil")
    # a_B = 4: ceil(log2 4) = 2, e = 0, s = 1 -> 4.  a_B = 5: ceil(log2 5) = 3, e = 1,
    # s = 2: 2.5 ties 2 (n = 2, even) and 3 -> 2 -> 4
    assert _bits(q(np.array([4.0]), f)) == _bits([4.0])
    assert _bits(q(np.array([5.0]), f)) == _bits([4.0])


@BOTH
def test_clamp_low_directed(q):
    # a_B = 2^-140: s = 2^-127 (clamped); y = 2^-13, up -> smallest E4M3 2^-9 -> 2^-136
    assert _bits(q(np.array([2.0 ** -140]), "mxfp8_e4m3", "up")) == _bits([2.0 ** -136])


@BOTH
def test_special_blocks(q):
    f = ScaledFormat("float8_e4m3fn", block_size=2)
    x = np.array([np.nan, 1.0, -0.0, 0.0, np.inf, 2.0, 3.0, -0.0])
    # blocks: [nan, 1] -> NaN; [-0, 0] zero block keeps signs; [inf, 2] -> NaN;
    # [3, -0]: a_B = 3, E = 1, e = -7: 3 exact, -0 stays -0
    got = q(x, f)
    assert np.isnan(got[:2]).all() and np.isnan(got[4:6]).all()
    assert _bits(got[[2, 3, 6, 7]]) == _bits([-0.0, 0.0, 3.0, -0.0])


@BOTH
def test_shorter_last_block_is_its_own(q):
    f = ScaledFormat("float4_e2m1fn", block_size=4)
    x = np.array([1.0, 2.0, 3.0, 100.0, 0.3, -0.1])
    # last block [0.3, -0.1]: a_B = 0.3, E = -2, e = -4, s = 2^-4: 4.8 -> 4 -> 0.25;
    # -1.6 -> -1.5 -> -0.09375 = -0x1.8p-4 (the first block's s = 2^4 would zero them)
    got = q(x, f)
    assert _bits(got[4:]) == _bits([0.25, -H("0x1.8p-4")])
    assert _bits(got[4:]) == _bits(q(x[4:], f))


@BOTH
def test_axis(q):
    x = np.array([[1.0, 100.0], [3.0, 0.2]])
    f = ScaledFormat("float4_e2m1fn", block_size=2)
    # along axis 0 the blocks are columns: [1, 3] (s = 1: 1, 3) and [100, 0.2] (E = 6,
    # s = 16: 6.25 -> 6 -> 96; 0.0125 -> 0)
    assert _bits(q(x, f, axis=0)) == _bits([[1.0, 96.0], [3.0, 0.0]])
    assert _bits(q(x, f, axis=0)) == _bits(q(x.T, f).T)


@BOTH
def test_nvfp4_hand(q):
    # a_tensor = 3: S = fl32(2688 / 3) = 896 exactly.  Block 1, a_B = 1: 1 * 896 / 6 =
    # 149.33 -> E4M3 spacing 16 in [128, 256): 9.33 -> 9 -> s_B = 144.  Elements:
    # 1 * 896/144 = 6.22 clips to 6 -> 6 * 144 / 896 = 27/28;
    # 0.5 * 896/144 = 3.11 -> 3 -> 27/56.  Block 2: a_B = 3 -> s_B = 448 -> 6 -> 3.
    x = np.array([1.0, 0.5] + [0.0] * 14 + [3.0] * 16)
    got = q(x, "nvfp4")
    assert _bits(got[:2]) == _bits([float(Fraction(27, 28)), float(Fraction(27, 56))])
    assert _bits(got[16:]) == _bits([3.0] * 16)


@BOTH
def test_nvfp4_subnormal_and_zero_scales(q):
    # a_tensor = 2688: S = 1.  Block 2: a_B = 18 2^-9, v = 3 2^-9 (an E4M3 subnormal) =
    # s_B; 0.01 / s_B = 1.7067 -> E2M1 1.5 -> 4.5 2^-9 = 0x1.2p-7
    x = np.zeros(32)
    x[0], x[16], x[17] = 2688.0, 18 * 2.0 ** -9, 0.01
    got = q(x, "nvfp4")
    assert _bits(got[16:18]) == _bits([18 * 2.0 ** -9, H("0x1.2p-7")])
    # a_tensor = 1e6: block 2's a_B S / 6 = 1e-6 * 0.002688 / 6 << 2^-10: s_B = 0,
    # the block becomes zeros with the inputs' signs
    y = np.zeros(32)
    y[0], y[16], y[17] = 1e6, 1e-6, -3e-7
    assert _bits(q(y, "nvfp4")[16:18]) == _bits([0.0, -0.0])
    # a_tensor = 0: S = 1, every block zero; a_tensor = inf: S = 1, the inf block NaN,
    # block 2 (a_B = 6): s_B = 1, 6 -> 6
    assert _bits(q(np.zeros(16), "nvfp4")) == _bits(np.zeros(16))
    z = q(np.array([np.inf] + [1.0] * 15 + [6.0] * 16), "nvfp4")
    assert np.isnan(z[:16]).all() and _bits(z[16:]) == _bits([6.0] * 16)


@BOTH
def test_stochastic_scale_first(q):
    # a_B = 3 (E = 1, e = -7 for E4M3); x = 0.3: y = 38.4, spacing 4 in [32, 64):
    # frac = 0.6; u = 0.5 < 0.6 -> up 40 -> 0.3125; u = 0.7 -> 36 -> 0.28125
    x = np.array([3.0, 0.3])
    assert _bits(q(x, "mxfp8_e4m3", "stochastic", uniforms=np.array([0.9, 0.5]))) == \
        _bits([3.0, 0.3125])
    assert _bits(q(x, "mxfp8_e4m3", "stochastic", uniforms=np.array([0.9, 0.7]))) == \
        _bits([3.0, 0.28125])


def test_rng_same_stream_as_uniforms():
    x = np.random.default_rng(5).standard_normal((3, 40))
    for fmt in ("mxfp4_e2m1", "nvfp4", "mxint8"):
        for mode in ("stochastic", "stochastic_equal"):
            u = np.random.default_rng(9).random(x.shape)
            want = reference.quantize(x, fmt, mode, uniforms=u)
            for qf in (reference.quantize, fast.quantize):
                got = qf(x, fmt, mode, rng=np.random.default_rng(9))
                assert _bits(got) == _bits(want)


def test_round_exact_matches_the_element_reference():
    """The rational element rounding equals reference.quantize(saturate=True) on dyadic
    values below X_max (the element quantiser the scaled path relies on)."""
    f = PRESETS["float8_e4m3fn"]
    vals = [k / 64 for k in range(1, 64 * 40, 7)] + [2.0 ** -10, 3 * 2.0 ** -11]
    u = np.linspace(0, 0.99, len(vals))
    for mode in ROUNDING_MODES:
        m = RoundingMode(mode)
        kw = {"uniforms": u} if m.is_stochastic else {}
        want = reference.quantize(np.array(vals), f, mode, saturate=True, **kw)
        got = [float(round_exact(Fraction(v), False, f, m, float(u[i]) if kw else None))
               for i, v in enumerate(vals)]
        assert got == list(want), mode


def test_encode_decodes_to_quantize():
    x = np.array([[1.0, -0.3, 448.0, 1e-3] * 9, [0.0, -0.0, 5.0, 2.5] * 9])
    for fmt in ("mxfp8_e4m3", "mxfp4_e2m1_rceil", "mxint8"):
        enc = encode(x, fmt)
        sf = scaled_preset(fmt)
        vals = np.vectorize(sf.element.decode)(enc.codes)
        scales = np.repeat(enc.scales, sf.block_size, axis=-1)[..., :x.shape[-1]]
        want = reference.quantize(x, fmt)
        if sf.kind == "int":  # two's complement has no -0: compare values
            assert np.array_equal(vals * scales, want)
        else:
            assert _bits(vals * scales) == _bits(want)
        assert (enc.scale_codes == enc.exponents + 127).all()
    enc = encode(np.array([1.0, 0.5] + [0.0] * 14 + [3.0] * 16), "nvfp4")
    assert enc.tensor_scale == 896.0 and list(enc.scales) == [144.0, 448.0]
    assert enc.scale_codes[1] == 0x7E  # 448 in E4M3: exponent 1111, mantissa 110
    enc = encode(np.array([np.nan, 1.0]), "mxfp8_e4m3")
    assert enc.scale_codes[0] == 255 and np.isnan(enc.scales[0])


# -- bad input ---------------------------------------------------------------------------

def _bad_rows():
    x = np.ones(8)
    rows = [
        ("unknown scale", lambda: ScaledFormat("float4_e2m1fn", scale="e5m3"),
         r"Unknown scale='e5m3'; valid values are: e8m0, e4m3"),
        ("unknown rule", lambda: ScaledFormat("float4_e2m1fn", rule="round"),
         r"Unknown rule='round' for scale='e8m0'; valid values are: floor, ceil, rceil"),
        ("rule of another scale", lambda: ScaledFormat("float4_e2m1fn", scale="e4m3"),
         r"Unknown rule='floor' for scale='e4m3'; valid values are: nearest "
         r"\(rule='floor' is for scale='e8m0'\)"),
        ("block_size 0", lambda: ScaledFormat("float4_e2m1fn", block_size=0),
         r"Expected block_size >= 1 but got block_size=0"),
        ("block_size float", lambda: ScaledFormat("float4_e2m1fn", block_size=2.0),
         r"Expected block_size to be an integer but got block_size=2.0"),
        ("element not a Format", lambda: ScaledFormat(42),
         r"Expected element to be a Format, .* but got element=42"),
        ("unknown element", lambda: ScaledFormat("float4_e2m2fn"),
         r"Unknown element='float4_e2m2fn'.*Did you mean 'float4_e2m1fn'"),
        ("element too wide", lambda: ScaledFormat("binary64"),
         r"element=binary64 is too wide for a scaled format"),
        ("e4m3 scale of a wide element", lambda: ScaledFormat("bfloat16", scale="e4m3",
                                                               rule="nearest"),
         r"element=bfloat16 is too wide for scale='e4m3'"),
        ("unknown scaled preset", lambda: scaled_preset("mxfp4_e2m2"),
         r"Unknown format='mxfp4_e2m2'.*Did you mean 'mxfp4_e2m1'"),
        ("not a scaled format", lambda: as_scaled_format(Format(4, 3)),
         r"Expected fmt to be a ScaledFormat or a scaled preset name but got fmt="),
    ]
    for name, qf in (("reference", reference.quantize), ("fast", fast.quantize)):
        rows += [
            (f"{name}-axis out of range", lambda qf=qf: qf(np.ones((2, 3)), "mxfp4_e2m1",
                                                           axis=2),
             r"Expected axis in \[-2, 1\] for an input with 2 dimensions but got axis=2"),
            (f"{name}-axis negative out of range",
             lambda qf=qf: qf(np.ones(3), "mxfp4_e2m1", axis=-2),
             r"Expected axis in \[-1, 0\] for an input with 1 dimension but got axis=-2"),
            (f"{name}-axis bool", lambda qf=qf: qf(x, "mxfp4_e2m1", axis=True),
             r"Expected axis to be an integer but got axis=True"),
            (f"{name}-axis with an element format",
             lambda qf=qf: qf(x, "binary16", axis=0),
             r"axis is only used by scaled formats; got axis=0 with an element format"),
            (f"{name}-uniforms of the wrong shape",
             lambda qf=qf: qf(x, "mxfp4_e2m1", "stochastic", uniforms=np.zeros(3)),
             r"Expected uniforms of shape \(8,\) \(the shape of x\) but got uniforms of "
             r"shape \(3,\)"),
            (f"{name}-integer input", lambda qf=qf: qf(np.arange(4), "nvfp4"),
             r"Expected x to be a float64 or float32 .* of dtype int64"),
            (f"{name}-unknown mode", lambda qf=qf: qf(x, "nvfp4", "nearest"),
             r"Unknown rounding='nearest'"),
        ]
    return [pytest.param(call, pattern, id=name) for name, call, pattern in rows]


@pytest.mark.parametrize(("call", "pattern"), _bad_rows())
def test_bad_input(call, pattern):
    with pytest.raises(InvalidArgument, match=pattern):
        call()


def test_formats_command_lists_the_scaled_presets(capsys):
    from lpsgd.cli import main

    assert main(["formats", "--scaled"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["scaled", "element", "block", "scale", "rule", "emax_f", "X_f"]
    assert [line.split()[0] for line in out[1:]] == scaled_preset_names()
    nv = next(line.split() for line in out if line.startswith("nvfp4 "))
    assert nv[1:] == ["float4_e2m1fn", "16", "e4m3", "nearest", "2", "6"]
