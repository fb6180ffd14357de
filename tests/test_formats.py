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
