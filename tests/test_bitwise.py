"""The one bit-equality rule (lpsgd.bitwise): equal float64 bits, or NaN with the same sign."""

from __future__ import annotations

import numpy as np
import pytest

from lpsgd import fast, reference
from lpsgd.bitwise import count_mismatches, same_values
from lpsgd.errors import InvalidArgument


def _nan(sign: int, payload: int) -> float:
    """A float64 NaN with the given sign bit and fraction bits (quiet bit included)."""
    bits = (sign << 63) | (0x7FF << 52) | payload
    return float(np.array([bits], dtype=np.uint64).view(np.float64)[0])


def test_zero_signs_and_neighbours_differ() -> None:
    one_up = np.nextafter(1.0, 2.0)
    got = np.array([0.0, -0.0, 1.0, one_up, np.inf, -np.inf])
    want = np.array([-0.0, 0.0, one_up, 1.0, np.inf, -np.inf])
    assert same_values(got, want).tolist() == [False, False, False, False, True, True]
    assert count_mismatches(got, want) == 4


def test_nan_sign_counts_and_payload_does_not() -> None:
    pos_quiet, pos_other = _nan(0, 1 << 51), _nan(0, (1 << 51) | 12345)
    neg_quiet, neg_signalling = _nan(1, 1 << 51), _nan(1, 1)
    got = np.array([pos_quiet, pos_other, neg_quiet, neg_signalling, pos_quiet, 1.0])
    want = np.array([pos_other, pos_quiet, neg_signalling, neg_quiet, neg_quiet, np.nan])
    assert same_values(got, want).tolist() == [True, True, True, True, False, False]


def test_a_sign_blind_rule_is_not_this_rule() -> None:
    """The rule the tests used to copy (any two NaNs agree) accepts -NaN for NaN; this one
    does not: the case on which the two rules differ."""
    got, want = np.array([-np.nan]), np.array([np.nan])
    sign_blind = (got.view(np.uint64) == want.view(np.uint64)) | (
        np.isnan(got) & np.isnan(want))
    assert sign_blind.all()
    assert not same_values(got, want).any()


def test_broadcasting_and_float32() -> None:
    col = np.array([[1.5], [-0.0]])
    assert same_values(col, np.array([1.5, -0.0])).tolist() == [[True, False], [False, True]]
    assert count_mismatches(np.float32(0.1), np.float64(np.float32(0.1))) == 0
    assert count_mismatches(np.float32(0.1), 0.1) == 1
    assert count_mismatches(np.array([-np.nan], np.float32), np.array([-np.nan])) == 0
    assert same_values(3, 3.0).shape == ()


@pytest.mark.parametrize("got, want, named", [
    (np.array([1j]), np.array([1.0]), "got"),
    (np.array([1.0]), np.array(["a"]), "want"),
    (np.zeros(3), np.zeros(2), "got.shape=(3,)"),
])
def test_bad_input_names_the_argument(got, want, named) -> None:
    with pytest.raises(InvalidArgument, match=named.replace("(", r"\(").replace(")", r"\)")):
        same_values(got, want)


@pytest.mark.parametrize("fmt", ["binary16", "float8_e4m3fn", "float4_e2m1fn"])
def test_quantisers_keep_nan_signs(fmt: str) -> None:
    """The rule is the documented semantics: a NaN result carries the input's sign bit, so
    the two layers agree on it and a sign-flipping quantiser does not."""
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 1e300, -1e300, 0.3, -0.3])
    for mode in ["nearest_even", "up", "toward_zero"]:
        want = reference.quantize(x, fmt, mode)
        assert count_mismatches(fast.quantize(x, fmt, mode), want) == 0
        flipped = np.where(np.isnan(want), -want, want)
        if np.isnan(want).any():
            assert count_mismatches(flipped, want) == np.isnan(want).sum()


@pytest.mark.parametrize("fmt", ["mxfp4_e2m1", "mxfp8_e4m3", "nvfp4"])
def test_scaled_nan_blocks_are_nan_with_the_sign_bit_clear(fmt):
    """A NaN block is the scale's NaN code, which has no sign: both layers return NaN with
    the sign bit clear for every element, whatever the inputs' signs."""
    x = -np.linspace(1.0, 2.0, 32)
    x[3] = -np.nan
    x[20] = -np.inf
    want = reference.quantize(x, fmt)
    assert count_mismatches(fast.quantize(x, fmt), want) == 0
    nan_part = np.isnan(want)
    assert nan_part.sum() >= 16 and not np.signbit(want[nan_part]).any()
    assert count_mismatches(-want, want) == nan_part.sum() + (~nan_part).sum()
