"""The format semantics of lpsgd.reference.quantize rule by rule, hand-derived (both paths).

binary16: X_max = 0x1.ffcp+15 (65504), overflow threshold of round to nearest
(2 - 2^-11) 2^15 = 0x1.ffep+15 (65520), N_min = 0x1p-14, s = 0x1p-24.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lpsgd import fast, reference
from lpsgd.bitwise import same_values
from lpsgd.formats import Format

QUANTIZERS = [fast.quantize, reference.quantize]
H = float.fromhex
XMAX16 = H("0x1.ffcp+15")   # 65504
TIE16 = H("0x1.ffep+15")    # 65520, halfway between X_max and 2^16
ABOVE = np.nextafter(TIE16, 0)  # just below the tie, above X_max
INF = math.inf


def _bits_equal(got, want) -> bool:
    """Every element agrees under lpsgd.bitwise's rule (NaN signs included)."""
    return bool(np.all(same_values(got, want)))


# (mode, [x...], [expected...]) on binary16
OVERFLOW_16 = [
    ("nearest_even", [ABOVE, TIE16, -TIE16, 1e6], [XMAX16, INF, -INF, INF]),
    ("nearest_away", [ABOVE, TIE16, -TIE16], [XMAX16, INF, -INF]),
    ("nearest_zero", [TIE16, np.nextafter(TIE16, INF), -1e6], [XMAX16, INF, -INF]),
    ("toward_zero", [TIE16, -1e6, INF, -INF], [XMAX16, -XMAX16, INF, -INF]),
    ("up", [np.nextafter(XMAX16, INF), -1e6], [INF, -XMAX16]),
    ("down", [1e6, np.nextafter(-XMAX16, -INF)], [XMAX16, -INF]),
    ("odd", [TIE16, 1e300, -1e300], [XMAX16, XMAX16, -XMAX16]),
]


@pytest.mark.parametrize("q", QUANTIZERS)
@pytest.mark.parametrize("mode, x, want", OVERFLOW_16)
def test_ieee_overflow_rules(q, mode, x, want) -> None:
    assert _bits_equal(q(np.array(x), "binary16", mode), want)
    # saturate clamps every overflow, and infinite inputs, to +-X_max
    clamp = [math.copysign(min(abs(w), XMAX16), w) for w in want]
    x_inf = np.array(x + [INF, -INF])
    assert _bits_equal(q(x_inf, "binary16", mode, saturate=True), clamp + [XMAX16, -XMAX16])


@pytest.mark.parametrize("q", QUANTIZERS)
def test_stochastic_rounding_just_above_xmax(q) -> None:
    """For X_max < |x| < 2^(e_max + 1) stochastic rounding picks X_max or the overflow
    with the usual probabilities.  binary16: X_max = 65504, spacing 32 in the top binade,
    so x = 65512 lies 8/32 = 1/4 of the way to 2^16 (which overflows to inf)."""
    x = np.array([65512.0, -65512.0, 65536.0 + 1, XMAX16])
    for u, want in [(0.2, [INF, -INF, INF, XMAX16]), (0.3, [XMAX16, -XMAX16, INF, XMAX16]),
                    (0.999, [XMAX16, -XMAX16, INF, XMAX16])]:
        assert _bits_equal(q(x, "binary16", "stochastic", uniforms=np.full(4, u)), want), u
    for u, want in [(0.4, [INF, -INF, INF, XMAX16]), (0.6, [XMAX16, -XMAX16, INF, XMAX16])]:
        assert _bits_equal(q(x, "binary16", "stochastic_equal", uniforms=np.full(4, u)),
                           want), u
    assert _bits_equal(q(x, "binary16", "stochastic", uniforms=np.full(4, 0.2),
                         saturate=True), [XMAX16, -XMAX16, XMAX16, XMAX16])
    # float8_e4m3fn saturates stochastic overflow: 460 (between 448 and the NaN code's
    # 480) and 500 (between 480 and 512) give 448 whichever neighbour is drawn.
    for u in (0.0, 0.999):
        got = q(np.array([460.0, -500.0]), "float8_e4m3fn", "stochastic",
                uniforms=np.full(2, u))
        assert _bits_equal(got, [448.0, -448.0])


def test_stochastic_overflow_frequency_just_above_xmax() -> None:
    """The overflow frequency at x = 65512 is 1/4 (5 standard errors), not 1: the mean of
    the finite results and the overflows together is unbiased up to the overflow."""
    n = 200_000
    got = fast.quantize(np.full(n, 65512.0), "binary16", "stochastic",
                        rng=np.random.default_rng(3))
    assert set(np.unique(got).tolist()) == {XMAX16, INF}
    freq = float(np.mean(np.isinf(got)))
    assert abs(freq - 0.25) <= 5 * math.sqrt(0.25 * 0.75 / n), freq


@pytest.mark.parametrize("q", QUANTIZERS)
def test_fn_formats(q) -> None:
    nan, neg_nan = math.nan, -math.nan
    x = np.array([464.0, np.nextafter(464.0, INF), -500.0, INF, -INF, nan, neg_nan])
    # float8_e4m3fn: X_max 448; 464 is the tie between 448 (even) and the NaN slot 480;
    # an overflow to NaN carries the sign of x, a NaN input keeps its sign bit
    assert _bits_equal(q(x, "float8_e4m3fn"), [448.0, nan, neg_nan, nan, neg_nan, nan,
                                               neg_nan])
    assert _bits_equal(q(x, "float8_e4m3fn", "toward_zero"),
                       [448.0, 448.0, -448.0, 448.0, -448.0, nan, neg_nan])
    assert _bits_equal(q(x, "float8_e4m3fn", saturate=True),
                       [448.0, 448.0, -448.0, 448.0, -448.0, nan, neg_nan])
    # float4_e2m1fn (no inf, no NaN): saturate to 6; a NaN input gives the zero of the
    # opposite sign under nearest_even (as ml_dtypes), NaN under the other modes
    nan_pos = np.array([np.nan, 100.0, -INF])
    nan_neg = np.array([-np.nan])
    assert _bits_equal(q(nan_pos, "float4_e2m1fn"), [-0.0, 6.0, -6.0])
    assert _bits_equal(q(nan_neg, "float4_e2m1fn"), [0.0])
    assert _bits_equal(q(nan_pos, "float4_e2m1fn", "up"), [np.nan, 6.0, -6.0])


@pytest.mark.parametrize("q", QUANTIZERS)
@pytest.mark.parametrize("mode", ["nearest_even", "nearest_away", "up", "down", "odd",
                                  "toward_zero"])
def test_flush_to_zero_whatever_the_mode(q, mode) -> None:
    """Without subnormals a result below N_min becomes a zero of the input's sign."""
    f = Format(5, 10, subnormals=False)
    nmin, s = H("0x1p-14"), H("0x1p-24")
    x = np.array([s, -s, 3 * s, -(nmin - s)])
    assert _bits_equal(q(x, f, mode), [0.0, -0.0, 0.0, -0.0])
    # just below N_min: round on the subnormal grid first, so nearest modes reach N_min
    y = np.array([nmin - s / 4, -(nmin - s / 4)])
    want = {"nearest_even": [nmin, -nmin], "nearest_away": [nmin, -nmin],
            "up": [nmin, -0.0], "down": [0.0, -nmin], "odd": [0.0, -0.0],
            "toward_zero": [0.0, -0.0]}[mode]
    assert _bits_equal(q(y, f, mode), want)


@pytest.mark.parametrize("q", QUANTIZERS)
def test_signed_zeros_and_subnormal_ties(q) -> None:
    s = H("0x1p-24")
    x = np.array([0.0, -0.0, s / 2, -s / 2, 3 * s / 2, -1e-30, 1e-30])
    assert _bits_equal(q(x, "binary16"), [0.0, -0.0, 0.0, -0.0, 2 * s, -0.0, 0.0])
    assert _bits_equal(q(x, "binary16", "nearest_away"), [0.0, -0.0, s, -s, 2 * s, -0.0, 0.0])
    assert _bits_equal(q(x, "binary16", "up"), [0.0, -0.0, s, -0.0, 2 * s, -0.0, s])
    assert _bits_equal(q(x, "binary16", "odd"), [0.0, -0.0, s, -s, s, -s, s])


@pytest.mark.parametrize("q", QUANTIZERS)
def test_ties_in_the_normal_range(q) -> None:
    # 1 + 2^-11 is the tie between 1 and 1 + 2^-10 (binary16); 1 + 3 * 2^-11 the next one
    x = np.array([1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, -(1 + 2.0 ** -11)])
    one, step = 1.0, 2.0 ** -10
    assert _bits_equal(q(x, "binary16"), [one, one + 2 * step, -one])
    assert _bits_equal(q(x, "binary16", "nearest_away"), [one + step, one + 2 * step,
                                                          -(one + step)])
    assert _bits_equal(q(x, "binary16", "nearest_zero"), [one, one + step, -one])
    assert _bits_equal(q(x, "binary16", "odd"), [one + step, one + step, -(one + step)])
