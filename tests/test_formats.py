"""lpsgd.formats: constants derived from (E, M, flags), codes, encode/decode, presets.

Expected constants are written as hex floats with the decimal in a comment; they come
from the IEEE 754 definitions and the ml_dtypes/OCP FP8 specifications, independently of
the formulas in lpsgd.formats (where ml_dtypes is installed, its finfo is compared too).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from lpsgd.errors import InvalidArgument
from lpsgd.formats import PRESETS, Format, as_format, preset

H = float.fromhex

# name: (bias, e_min, e_max, N_min, s, X_max)
KNOWN = {
    "binary64": (1023, -1022, 1023, H("0x1p-1022"), H("0x1p-1074"), H("0x1.fffffffffffffp+1023")),
    "binary32": (127, -126, 127, H("0x1p-126"), H("0x1p-149"), H("0x1.fffffep+127")),
    # binary16: N_min 6.103515625e-05, s 5.960464477539063e-08, X_max 65504
    "binary16": (15, -14, 15, H("0x1p-14"), H("0x1p-24"), H("0x1.ffcp+15")),
    # bfloat16: X_max 3.3895313892515355e+38
    "bfloat16": (127, -126, 127, H("0x1p-126"), H("0x1p-133"), H("0x1.fep+127")),
    "tf32": (127, -126, 127, H("0x1p-126"), H("0x1p-136"), H("0x1.ffcp+127")),
    # float8_e5m2: X_max 57344
    "float8_e5m2": (15, -14, 15, H("0x1p-14"), H("0x1p-16"), H("0x1.cp+15")),
    # float8_e4m3fn: X_max 448, s 0.001953125
    "float8_e4m3fn": (7, -6, 8, H("0x1p-6"), H("0x1p-9"), H("0x1.cp+8")),
    # float8_e4m3 (IEEE-like): X_max 240
    "float8_e4m3": (7, -6, 7, H("0x1p-6"), H("0x1p-9"), H("0x1.ep+7")),
    # float8_e3m4: X_max 15.5
    "float8_e3m4": (3, -2, 3, H("0x1p-2"), H("0x1p-6"), H("0x1.fp+3")),
    # float6_e3m2fn: X_max 28
    "float6_e3m2fn": (3, -2, 4, H("0x1p-2"), H("0x1p-4"), H("0x1.cp+4")),
    # float6_e2m3fn: X_max 7.5
    "float6_e2m3fn": (1, 0, 2, H("0x1p+0"), H("0x1p-3"), H("0x1.ep+2")),
    # float4_e2m1fn: X_max 6
    "float4_e2m1fn": (1, 0, 2, H("0x1p+0"), H("0x1p-1"), H("0x1.8p+2")),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_preset_constants(name: str) -> None:
    f = preset(name)
    bias, e_min, e_max, n_min, s, x_max = KNOWN[name]
    assert (f.bias, f.e_min, f.e_max) == (bias, e_min, e_max)
    assert f.n_min == Fraction(n_min) and f.subnormal_spacing == Fraction(s)
    assert f.x_max == Fraction(x_max)
    assert f.unit_roundoff == Fraction(1, 2 ** (f.man_bits + 1))
    assert f.fits_binary64


@pytest.mark.parametrize("name", [n for n in KNOWN if n.startswith(("float", "bfloat"))])
def test_preset_constants_match_ml_dtypes(name: str) -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    if not hasattr(ml_dtypes, name):
        pytest.skip(f"ml_dtypes has no {name}")
    fi = ml_dtypes.finfo(getattr(ml_dtypes, name))
    f = preset(name)
    assert float(fi.max) == float(f.x_max)
    assert float(fi.smallest_normal) == float(f.n_min)
    assert float(fi.smallest_subnormal) == float(f.subnormal_spacing)
    assert int(fi.nmant) == f.man_bits


def test_every_code_round_trips() -> None:
    for name in ("float8_e4m3fn", "float8_e5m2", "float6_e2m3fn", "float4_e2m1fn"):
        f = preset(name)
        for code in range(2 ** f.total_bits):
            v = f.decode(code)
            if np.isnan(v):
                assert f.is_nan_code(code)
                continue
            assert f.encode(v) == code, (name, code, v)
    # the e4m3fn NaN code 0x7f and its top normal 0x7e (448)
    e4 = preset("float8_e4m3fn")
    assert np.isnan(e4.decode(0x7F)) and e4.decode(0x7E) == 448.0


def test_codes_count() -> None:
    assert len(preset("float8_e5m2").codes()) == 256
    assert len(Format(3, 2, subnormals=False).codes()) == 64 - 2 * 3  # subnormal codes left out
    with pytest.raises(InvalidArgument, match="at most 16 bits"):
        preset("binary32").codes()


def test_fits_binary64() -> None:
    assert Format(11, 52).fits_binary64
    assert not Format(11, 53).fits_binary64
    assert not Format(12, 10).fits_binary64
    assert not Format(11, 52, inf=False).fits_binary64  # e_max = 1024
    # without subnormals the first normal binade still has spacing 2^(e_min - M)
    assert Format(11, 52, subnormals=False).fits_binary64
    assert not Format(11, 53, subnormals=False).fits_binary64


def test_preset_names_and_aliases() -> None:
    assert preset("fp16") is PRESETS["binary16"]
    assert as_format("bf16") is PRESETS["bfloat16"]
    with pytest.raises(InvalidArgument, match=r"Unknown format='float8_e4m3f'.*Did you mean"):
        preset("float8_e4m3f")


# Every bad argument of Format, one row each, with the pinned message.
@pytest.mark.parametrize("call, message", [
    (lambda: Format(0, 3), "Expected exp_bits >= 1 but got exp_bits=0"),
    (lambda: Format(5, -1), "Expected man_bits >= 0 but got man_bits=-1"),
    (lambda: Format(21, 3), "Expected exp_bits <= 20 but got exp_bits=21"),
    (lambda: Format(np.int64(100), 3), "Expected exp_bits <= 20 but got exp_bits=100"),
    (lambda: Format(np.uint64(30), 3), "Expected exp_bits <= 20 but got exp_bits=30"),
    (lambda: Format(5, np.uint64(10 ** 6)), "Expected man_bits <= 4096 but got man_bits=1000000"),
    (lambda: Format(10 ** 400, 3),
     "Expected exp_bits <= 20 but got exp_bits=1.0e+400"),
    (lambda: Format(5.0, 3), "Expected exp_bits to be an integer but got exp_bits=5.0"),
    (lambda: Format(True, 3), "Expected exp_bits to be an integer but got exp_bits=True"),
    (lambda: Format(5, 2, nan=np.int64(2)), "Expected nan to be a bool but got nan=np.int64(2)"),
    (lambda: Format(5, 2, name=123), "Expected name to be a str or None but got name=123"),
    (lambda: Format(15, 112).float_constants(),
     "e15m112 has n_min of about 2^-16382, below the smallest float64, so float_constants() "
     "cannot give it as a float; use the exact constants (Format.x_max, n_min, "
     "subnormal_spacing, unit_roundoff)"),
    (lambda: Format(11, 50, inf=False).float_constants(),
     "e11m50fn has x_max of about 2^1024, above the largest float64, so float_constants() "
     "cannot give it as a float; use the exact constants (Format.x_max, n_min, "
     "subnormal_spacing, unit_roundoff)"),
    (lambda: Format(11, 0, inf=False, nan=False).decode(2047),
     "code=2047 of e11m0fn_nonan has the value 1.7976931348623159e+308, above the largest "
     "float64, so decode() cannot give it as a float"),
])
def test_bad_format_arguments(call, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        call()
    assert str(info.value) == message


@pytest.mark.parametrize("e, m", [(np.int64(8), np.int64(100)), (5, np.uint64(30)),
                                  (np.uint8(11), np.int16(52)), (np.int32(20), np.uint64(4096))])
def test_numpy_integer_arguments_are_converted_exactly(e, m) -> None:
    f, want = Format(e, m), Format(int(e), int(m))
    assert type(f.exp_bits) is int and type(f.man_bits) is int
    assert f == want and hash(f) == hash(want) and repr(f) == repr(want)
    assert f.unit_roundoff == Fraction(1, 2 ** (int(m) + 1))
    assert f.x_max == want.x_max and f.max_significand == 2 ** (int(m) + 1) - 1


def test_widest_format_constants_are_quick() -> None:
    # E = 20 is MAX_EXP_BITS: e_max = 2^19 - 1, the constants have about 2^19 bits.
    f = Format(20, 4096)
    assert f.e_max == 2 ** 19 - 1 and f.e_min == 2 - 2 ** 19
    assert f.x_max == (2 ** 4097 - 1) * Fraction(2) ** (f.e_max - 4096)
    assert f.subnormal_spacing == Fraction(1, 2 ** (4096 - f.e_min))


def test_float_constants_of_a_float64_format() -> None:
    c = preset("binary16").float_constants()
    assert c == {"bias": 15, "e_min": -14, "e_max": 15, "n_min": H("0x1p-14"),
                 "s": H("0x1p-24"), "x_max": 65504.0, "unit_roundoff": H("0x1p-11")}
