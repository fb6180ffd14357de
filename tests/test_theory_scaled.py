"""Unit tests of the block-scaled constants and Theorems 8 and 9, hand-derived values."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

import lpsgd.theory as theory
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.scaled import ScaledFormat, scaled_preset


def sf(element, rule, n=32):
    return ScaledFormat(element, block_size=n, rule=rule)


@pytest.mark.parametrize("element, rule, kappa, Y, clip", [
    # floor: kappa = 2^-emax, Y = 2^(emax+1); clipping cap X_f / Y
    ("float8_e4m3fn", "floor", F(1, 256), F(512), F(448, 512)),
    ("float8_e5m2", "floor", F(1, 2 ** 15), F(2 ** 16), F(57344, 65536)),
    ("float4_e2m1fn", "floor", F(1, 4), F(8), F(6, 8)),
    # ceil: kappa = 2^(1-emax), Y = 2^emax, nothing clipped
    ("float8_e4m3fn", "ceil", F(1, 128), F(256), F(1)),
    ("float4_e2m1fn", "ceil", F(1, 2), F(4), F(1)),
    # rceil: kappa = 2/X_f, Y = X_f, nothing clipped
    ("float8_e4m3fn", "rceil", F(2, 448), F(448), F(1)),
    ("float4_e2m1fn", "rceil", F(1, 3), F(6), F(1)),
])
def test_scaled_constants_hand_derived(element, rule, kappa, Y, clip):
    c = theory.scaled_constants(sf(element, rule), "nearest_even")
    assert (c.kappa, c.Y, c.clip) == (kappa, Y, clip)
    assert c.Y_attained == (rule != "floor")


def test_q_lo_floor_is_capped_by_clipping():
    # E4M3 nearest_even: rounding alone keeps rho >= 16/17 in the normal range; floor's
    # clipping caps q_lo at 448/512 = 7/8 whatever t.
    c = theory.scaled_constants("mxfp8_e4m3", "nearest_even")
    assert c.q_lo(F(1)) == F(7, 8) and c.q_lo(F(500)) == F(7, 8)
    assert c.element_q_lo(F(1)) == F(16, 17) and c.element_q_lo(F(500)) == 1
    r = theory.scaled_constants("mxfp8_e4m3_rceil", "nearest_even")
    assert r.q_lo(F(1)) == F(16, 17) and r.q_lo(F(448)) == 1
    # E2M1 toward_zero: y -> 1.5^- rounds to 1 (2/3); floor's cap 6/8 is above it.
    c = theory.scaled_constants("mxfp4_e2m1", "toward_zero")
    assert c.q_lo(F(1)) == F(2, 3)
    assert c.q_lo(F(6)) == F(3, 4)  # only [6, 8): clipping alone
    assert c.q_lo(F(7)) == F(3, 4)
    r = theory.scaled_constants("mxfp4_e2m1_rceil", "toward_zero")
    assert r.q_lo(F(6)) == 1 and r.q_lo(F(5)) == F(2, 3)  # y -> 6^- rounds to 4
    assert c.q_hi == 1 and r.q_hi == 1


def test_q_lo_t_above_Y_refused():
    c = theory.scaled_constants("mxfp4_e2m1", "toward_zero")
    with pytest.raises(InvalidArgument):
        c.q_lo(F(8))
    r = theory.scaled_constants(sf("float4_e2m1fn", "ceil"), "toward_zero")
    # ceil, Y = 4: exact for t <= 2 (y -> 3^- rounds to 2); above, the infimum over
    # [t, X_f] is kept, a lower bound (the true one over [4, 4] is 1)
    assert r.q_lo(F(2)) == F(2, 3) and r.q_lo(F(4)) <= 1
    with pytest.raises(InvalidArgument):
        r.q_lo(F(5))


def test_scaled_constants_refusals():
    with pytest.raises(AssumptionError, match="not derived"):
        theory.scaled_constants(scaled_preset("nvfp4"), "nearest_even")
    with pytest.raises(InvalidArgument):
        theory.scaled_constants("mxfp8_e4m3", "stochastic")


BASE8 = dict(L=1, c=F(1, 2), d=4, mu=1, t=1, fmt="mxfp4_e2m1", rounding="toward_zero",
             gap=1, k=3)


def test_theorem8_loss_refused():
    # kappa = 1/4, n_B = 32, t = 1: loss(t) = 32/16 = 2 >= 1
    with pytest.raises(AssumptionError, match="loss\\(t\\)"):
        theory.theorem8(**BASE8)


def test_theorem8_hand_value():
    kw = dict(BASE8, t=F(1, 2), fmt=ScaledFormat("float4_e2m1fn", block_size=4, rule="floor"))
    b = theory.theorem8(**kw)
    loss = 4 * F(1, 4) * F(1, 16)  # n_B t^2 kappa^2 = 1/16
    q_lo = F(1, 2)  # E2M1 toward_zero from t = 1/2: y -> 1^- rounds to 1/2
    q_eff = q_lo * (1 - loss)
    r = 1 - F(1, 2) * q_eff
    Ft = 4 * F(1, 4) * F(1, 4 ** 127) / (2 * F(1, 2) * (1 - loss))
    assert b.exact == Ft + r ** 2 * (1 - Ft)
    assert float(b.terms["loss"]) == float(loss) and float(b.terms["q_eff"]) == float(q_eff)


@pytest.mark.parametrize("change, match", [
    (dict(rounding="stochastic"), "stochastic"),
    (dict(fmt="nvfp4"), "not derived"),
    (dict(mu=F(3, 2)), "exceeds 1/\\(L\\*q_hi\\)"),
    (dict(t=F(1, 8)), "q_lo\\(t\\)=0"),
    (dict(c=2), "exceeds the smoothness"),
    (dict(rounding="up"), "infinite"),
])
def test_theorem8_refusals(change, match):
    kw = {**BASE8, "t": F(1, 2), "fmt": ScaledFormat("float4_e2m1fn", block_size=4), **change}
    with pytest.raises(AssumptionError, match=match):
        theory.theorem8(**kw)


def test_theorem8_invalid():
    with pytest.raises(InvalidArgument):
        theory.theorem8(**dict(BASE8, L=float("nan")))


BASE9 = dict(L=1, c=F(1, 2), d=3, M=F(1, 10), M_V=0, fmt="mxfp4_e2m1_rceil", mu=F(1, 2),
             gap=1, k=4)


def test_theorem9_hand_value():
    b = theory.theorem9(**BASE9)
    # E2M1: m = 1, s_f = 1/2, rceil kappa = 2/6, n_B = 32
    delta = (F(1, 4) + 32 * F(1, 4) * F(1, 9)) / 4
    M1 = (1 + delta) * F(1, 10) + 3 * F(1, 4) / 4 ** 128
    floor = F(1, 2) * M1 / (2 * F(1, 2))
    assert float(b.terms["delta"]) == float(delta)
    assert b.exact == floor + F(3, 4) ** 3 * (1 - floor)


def test_theorem9_stepsize_limit():
    delta = (F(1, 4) + 32 * F(1, 4) * F(1, 9)) / 4
    theory.theorem9(**dict(BASE9, mu=1 / (1 + delta)))
    with pytest.raises(AssumptionError, match="M_G'"):
        theory.theorem9(**dict(BASE9, mu=1 / (1 + delta) + F(1, 10 ** 6)))


def test_theorem9_refusals():
    with pytest.raises(AssumptionError,
                       match=r"Theorem 9 assumes Y <= X_f \(ceil or rceil scale rule\)"):
        theory.theorem9(**dict(BASE9, fmt="mxfp4_e2m1"))
    with pytest.raises(AssumptionError, match="not derived"):
        theory.theorem9(**dict(BASE9, fmt="nvfp4"))
    with pytest.raises(AssumptionError, match="M=-1"):
        theory.theorem9(**dict(BASE9, M=-1))


def test_int8_floor_clipping():
    # mxint8: emax_f = 0, X_f = 127/64, floor Y = 2: a block maximum in (127/64, 2) is
    # clamped, so q_lo <= 127/128
    c = theory.scaled_constants("mxint8", "nearest_even")
    assert (c.kappa, c.Y, c.clip) == (1, 2, F(127, 128))
    assert c.q_lo(F(1)) <= F(127, 128)


def test_theorem9_flush_to_zero_element_refused():
    from lpsgd.formats import Format

    fmt = ScaledFormat(Format(4, 3, subnormals=False), block_size=8, rule="rceil")
    with pytest.raises(AssumptionError, match="flushes subnormals"):
        theory.theorem9(**dict(BASE9, fmt=fmt))


def test_theorem8_t_at_Y():
    kw = {**BASE8, "fmt": ScaledFormat("float4_e2m1fn", block_size=1, rule="ceil"),
          "t": F(4, 3) + F(1, 3), "mu": F(1, 2)}
    # ceil: Y = 4 attained, loss(t) = t^2/4 < 1 needs t < 2
    b = theory.theorem8(**kw)
    assert float(b.terms["loss"]) == float(F(5, 3) ** 2 / 4)
    with pytest.raises(AssumptionError, match="loss"):
        theory.theorem8(**{**kw, "t": 2})
