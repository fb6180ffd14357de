"""lpsgd.theory: every bound equals its formula (lpsgd.theory's docstrings), evaluated here independently.

The formulas are re-typed below from the docstrings of lpsgd.theory and evaluated in
exact rational arithmetic (fractions.Fraction) at the same inputs; a bound must match
exactly (``Bound.exact``) or, where powers were evaluated in mpmath, within its working
precision.  The classical statements of Bottou, Curtis and Nocedal (2018) are typed
from the paper (Theorems 4.6, 4.7, 4.8 and the inequality summed in the proof of 4.10,
with their mu = mu_G = 1) and must be reproduced exactly at q = 1, M_q = 0.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import lpsgd.theory as theory
from lpsgd.errors import AssumptionError
from lpsgd.formats import preset, PRESETS

F = Fraction
#: Relative accuracy promised for Bound.value (rounded once at >= 256 bits; the mpmath
#: fallback path carries >= 64 guard bits, so 2^-250 leaves room for both).
REL = F(1, 2 ** 250)


def close(value: mpmath.mpf, want: Fraction) -> bool:
    """|value - want| <= REL |want| (exact comparison of the mpf's rational value)."""
    got = theory._core.to_fraction(value)
    return abs(got - want) <= REL * abs(want)


def check(bound: theory.Bound, want: Fraction) -> None:
    __tracebackhide__ = True
    if bound.exact is not None:
        assert bound.exact == want, (bound, float(want))
    assert close(bound.value, want), (bound, float(want))
    assert float(bound) == pytest.approx(float(want), rel=1e-15, abs=0)


# -- admissible inputs ------------------------------------------------------------------
positive = st.floats(min_value=1e-3, max_value=1e3)
unit = st.floats(min_value=1e-3, max_value=1.0)
nonneg = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e3))


def below(limit: Fraction, u: float) -> float:
    """A float stepsize in (0, limit]: limit * u rounded, stepped down if it rounded up."""
    mu = float(limit * F(u))
    if F(mu) > limit:
        mu = math.nextafter(mu, 0.0)
    return mu


@st.composite
def model_args(draw, convex: bool = True) -> dict:
    L = draw(positive)
    args = dict(L=L, M=draw(nonneg), M_V=draw(nonneg), M_q=draw(nonneg))
    if convex:
        args["c"] = L * draw(unit)
    q_min = draw(unit)
    args.update(q_min=q_min, q_max=draw(st.floats(min_value=q_min, max_value=1.0)),
                gap=draw(nonneg))
    return args


@st.composite
def theorem1_args(draw) -> dict:
    args = draw(model_args())
    args["mu"] = below(1 / (F(args["L"]) * (1 + F(args["M_V"]))), draw(unit))
    args["k"] = draw(st.integers(min_value=1, max_value=120))
    return args


# -- the formulas, typed from the statements --------------------------------------------------
def B_of(a: dict) -> Fraction:
    return F(a["q_max"]) ** 2 * F(a["M"]) + F(a["M_q"])


def theorem1_formula(a: dict) -> Fraction:
    L, c, mu, q, gap = (F(a[n]) for n in ("L", "c", "mu", "q_min", "gap"))
    r = 1 - mu * c * q
    Fq = L * mu * B_of(a) / (2 * c * q)
    return Fq + r ** (a["k"] - 1) * (gap - Fq)


def theorem2_formula(a: dict) -> Fraction:
    L, c, beta, gamma, q, gap = (F(a[n]) for n in ("L", "c", "beta", "gamma", "q_min", "gap"))
    nu = max(beta ** 2 * L * B_of(a) / (2 * (beta * c * q - 1)), (gamma + 1) * gap)
    return nu / (gamma + a["k"])


def theorem3_formula(a: dict) -> Fraction:
    L, mu, q, gap = (F(a[n]) for n in ("L", "mu", "q_min", "gap"))
    return L * mu * B_of(a) / q + 2 * gap / (a["K"] * mu * q)


def theorem4_formula(a: dict) -> Fraction:
    L, q, gap = (F(a[n]) for n in ("L", "q_min", "gap"))
    return 2 / q * gap + L * B_of(a) / q * sum(F(m) ** 2 for m in a["mus"])


# -- Theorems 1-4 -------------------------------------------------------------------------
@given(theorem1_args())
@example(dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mu=0.25, q_min=0.5, q_max=1.0,
              gap=3.0, k=7))
def test_theorem1_is_its_formula(a):
    b = theory.theorem1(**a)
    check(b, theorem1_formula(a))
    assert b.theorem == "theorem1" and b.kind == "upper"
    L, c, mu, q = (F(a[n]) for n in ("L", "c", "mu", "q_min"))
    assert b.terms["rate"] == theory._core.to_mpf(1 - mu * c * q, 256)
    assert 0 <= 1 - mu * c * q < 1  # admissibility implies the rate is a contraction


@given(theorem1_args())
def test_theorem1_equals_gap_at_k1(a):
    a = dict(a, k=1)
    b = theory.theorem1(**a)
    assert b.exact == F(a["gap"])
    assert b.value == mpmath.mpf(a["gap"])


@st.composite
def theorem2_args(draw) -> dict:
    a = draw(model_args())
    L, c, q, MG = F(a["L"]), F(a["c"]), F(a["q_min"]), 1 + F(a["M_V"])
    # beta in (1/(c q_min), (gamma+1)/(L M_G)]: pick gamma large enough for both.
    beta = float(1 / (c * q) * F(draw(st.floats(min_value=1.001, max_value=10.0))))
    need = F(beta) * L * MG - 1  # gamma >= need makes mu_1 = beta/(gamma+1) admissible
    gamma = float(max(need, F(0)) * F(draw(st.floats(min_value=1.0, max_value=4.0)))) + 1e-3
    if F(beta) / (F(gamma) + 1) > 1 / (L * MG):
        gamma = math.nextafter(float(need), math.inf) + 1e-3
    a.update(beta=beta, gamma=gamma, k=draw(st.integers(min_value=1, max_value=10 ** 6)))
    return a


@given(theorem2_args())
def test_theorem2_is_its_formula(a):
    check(theory.theorem2(**a), theorem2_formula(a))


@st.composite
def theorem3_args(draw) -> dict:
    a = draw(model_args(convex=False))
    a["mu"] = below(1 / (F(a["L"]) * (1 + F(a["M_V"]))), draw(unit))
    a["K"] = draw(st.integers(min_value=1, max_value=10 ** 9))
    return a


@given(theorem3_args())
def test_theorem3_is_its_formula(a):
    check(theory.theorem3(**a), theorem3_formula(a))


@st.composite
def theorem4_args(draw) -> dict:
    a = draw(model_args(convex=False))
    limit = 1 / (F(a["L"]) * (1 + F(a["M_V"])))
    a["mus"] = [below(limit, u) for u in draw(st.lists(unit, min_size=1, max_size=50))]
    return a


@given(theorem4_args())
def test_theorem4_is_its_formula(a):
    check(theory.theorem4(**a), theorem4_formula(a))


def test_theorem4_accepts_arrays_and_exact_fractions():
    mus = [F(1, 10), F(1, 20), F(1, 30)]
    a = dict(L=F(3), M=F(1, 7), M_V=0, M_q=F(2, 9), q_min=F(1, 3), q_max=F(2, 3), gap=F(5))
    want = theorem4_formula(dict(a, mus=mus))
    assert theory.theorem4(**a, mus=mus).exact == want
    got = theory.theorem4(**a, mus=np.array([0.1, 0.05, 1 / 30])).exact
    assert got == theorem4_formula(dict(a, mus=[0.1, 0.05, 1 / 30]))


# -- classical reduction (Bottou, Curtis, Nocedal 2018, section 4, mu = mu_G = 1) ---------
@given(theorem1_args())
def test_theorem1_reduces_to_bcn_theorem_4_6(a):
    # BCN Theorem 4.6 (fixed stepsize, strongly convex): with 0 < alpha <= mu/(L M_G),
    # E[F(w_k) - F*] <= alpha L M/(2 c mu) + (1 - alpha c mu)^(k-1)
    #                   (F(w_1) - F* - alpha L M/(2 c mu)).
    a = dict(a, q_min=1.0, q_max=1.0, M_q=0.0)
    alpha, L, M, c, gap = (F(a[n]) for n in ("mu", "L", "M", "c", "gap"))
    mu_bcn = F(1)
    fl = alpha * L * M / (2 * c * mu_bcn)
    classical = fl + (1 - alpha * c * mu_bcn) ** (a["k"] - 1) * (gap - fl)
    check(theory.theorem1(**a), classical)


@given(theorem2_args())
def test_theorem2_reduces_to_bcn_theorem_4_7(a):
    # BCN Theorem 4.7: alpha_k = beta/(gamma + k), beta > 1/(c mu), alpha_1 <= mu/(L M_G):
    # E[F(w_k) - F*] <= nu/(gamma + k), nu = max{beta^2 L M/(2(beta c mu - 1)),
    #                                            (gamma + 1)(F(w_1) - F*)}.
    a = dict(a, q_min=1.0, q_max=1.0, M_q=0.0)
    beta, gamma, L, M, c, gap = (F(a[n]) for n in ("beta", "gamma", "L", "M", "c", "gap"))
    nu = max(beta ** 2 * L * M / (2 * (beta * c - 1)), (gamma + 1) * gap)
    check(theory.theorem2(**a), nu / (gamma + a["k"]))


@given(theorem3_args())
def test_theorem3_reduces_to_bcn_theorem_4_8(a):
    # BCN Theorem 4.8 (fixed stepsize, nonconvex): with 0 < alpha <= mu/(L M_G),
    # E[(1/K) sum_k ||grad F(w_k)||^2] <= alpha L M / mu + 2 (F(w_1) - F_inf)/(K mu alpha).
    a = dict(a, q_min=1.0, q_max=1.0, M_q=0.0)
    alpha, L, M, gap = (F(a[n]) for n in ("mu", "L", "M", "gap"))
    classical = alpha * L * M / 1 + 2 * gap / (a["K"] * 1 * alpha)
    check(theory.theorem3(**a), classical)


@given(theorem4_args())
def test_theorem4_reduces_to_bcn_theorem_4_10(a):
    # Proof of BCN Theorem 4.10 (diminishing stepsizes, nonconvex): summing Lemma 4.4,
    # sum_k alpha_k E||grad F(w_k)||^2 <= 2 (F(w_1) - F_inf)/mu + (L M / mu) sum alpha_k^2.
    a = dict(a, q_min=1.0, q_max=1.0, M_q=0.0)
    L, M, gap = (F(a[n]) for n in ("L", "M", "gap"))
    classical = 2 * gap + L * M * sum(F(m) ** 2 for m in a["mus"])
    check(theory.theorem4(**a), classical)


# -- schedule-aware forms ----------------------------------------------------------------
@st.composite
def schedule_args(draw, convex: bool = True) -> dict:
    a = draw(model_args(convex=convex))
    limit = 1 / (F(a["L"]) * (1 + F(a["M_V"])))
    n = draw(st.integers(min_value=1 if not convex else 0, max_value=60))
    a["mu"] = below(limit, draw(unit))
    a["qs"] = [draw(st.floats(min_value=a["q_min"], max_value=a["q_max"])) for _ in range(n)]
    return a


@given(schedule_args())
def test_theorem1_schedule_is_its_recursion_and_never_above_theorem1(a):
    n = len(a["qs"])
    mus = [a["mu"]] * n
    keys = ("L", "c", "M", "M_V", "M_q", "gap")
    b = theory.theorem1_schedule(**{k: a[k] for k in keys}, mus=mus, qs=a["qs"])
    L, c, M, Mq, gap = (F(a[k]) for k in ("L", "c", "M", "M_q", "gap"))
    x = gap
    for m, q in zip(mus, a["qs"]):
        m, q = F(m), F(q)
        x = (1 - m * c * q) * x + L * m * m * (q * q * M + Mq) / 2
    check(b, x)
    t1 = theory.theorem1(**{k: a[k] for k in keys}, mu=a["mu"], q_min=a["q_min"],
                         q_max=a["q_max"], k=n + 1)
    assert b.value <= t1.value
    if n == 0:
        assert b.exact == gap


@given(theorem1_args())
def test_theorem1_schedule_equals_theorem1_for_a_constant_q(a):
    a = dict(a, q_max=a["q_min"], k=min(a["k"], 60))
    b = theory.theorem1_schedule(**{k: a[k] for k in ("L", "c", "M", "M_V", "M_q", "gap")},
                                 mus=[a["mu"]] * (a["k"] - 1), qs=[a["q_min"]] * (a["k"] - 1))
    assert b.exact == theory.theorem1(**a).exact


@given(theorem2_args())
def test_theorem1_schedule_with_diminishing_steps_is_below_theorem2(a):
    k = min(a["k"], 40)
    beta, gamma = F(a["beta"]), F(a["gamma"])
    mus = [beta / (gamma + j) for j in range(1, k)]
    qs = [a["q_min"]] * (k - 1)
    b = theory.theorem1_schedule(**{n: a[n] for n in ("L", "c", "M", "M_V", "M_q", "gap")},
                                 mus=mus, qs=qs)
    assert b.value <= theory.theorem2(**dict(a, k=k)).value


@given(schedule_args(convex=False))
def test_theorem3_schedule_is_its_formula_and_below_theorems_3_and_4(a):
    n = len(a["qs"])
    mus, qs = [a["mu"]] * n, a["qs"]
    b = theory.theorem3_schedule(L=a["L"], M=a["M"], M_q=a["M_q"], M_V=a["M_V"], mus=mus,
                                 qs=qs, gap=a["gap"])
    L, M, Mq, gap = (F(a[k]) for k in ("L", "M", "M_q", "gap"))
    want = 2 * gap + L * sum(F(m) ** 2 * (F(q) ** 2 * M + Mq) for m, q in zip(mus, qs))
    check(b, want)
    # sum eta_k G_k >= mu q_min sum G_k: Theorem 3 times K mu q_min bounds the same sum.
    t3 = theory.theorem3(**{k: a[k] for k in ("L", "M", "M_V", "M_q", "mu", "q_min",
                                              "q_max", "gap")}, K=n)
    assert b.exact <= t3.exact * n * F(a["mu"]) * F(a["q_min"])
    t4 = theory.theorem4(**{k: a[k] for k in ("L", "M", "M_V", "M_q", "q_min", "q_max",
                                              "gap")}, mus=mus)
    assert b.exact <= t4.exact * F(a["q_min"])


def test_theorem3_schedule_matches_theorem3_for_constant_q():
    kw = dict(L=2.0, M=0.5, M_V=0.25, M_q=0.125, gap=1.5)
    mu, q, K = 0.25, 0.75, 9
    t3 = theory.theorem3(**kw, mu=mu, q_min=q, q_max=q, K=K)
    ts = theory.theorem3_schedule(**kw, mus=[mu] * K, qs=[q] * K)
    assert ts.exact == t3.exact * K * F(mu) * F(q)


def test_long_schedule_takes_the_mpmath_path():
    # 3000 steps exceed the exact-rational budget: value from mpmath, still accurate.
    kw = dict(L=4.0, c=0.5, M=1.0, M_V=0.0, M_q=0.25, gap=2.0)
    mus, qs = [0.1] * 3000, [0.6] * 3000
    b = theory.theorem1_schedule(**kw, mus=mus, qs=qs)
    assert b.exact is None
    with mpmath.workprec(800):
        r = 1 - mpmath.mpf(0.1) * mpmath.mpf(0.5) * mpmath.mpf(0.6)
        add = 4 * mpmath.mpf(0.1) ** 2 * (mpmath.mpf(0.6) ** 2 + mpmath.mpf(0.25)) / 2
        x = mpmath.mpf(2)
        for _ in range(3000):
            x = r * x + add
        assert abs(b.value - x) <= x * mpmath.mpf(2) ** -250


# -- large k: the mpmath path --------------------------------------------------------------
@pytest.mark.parametrize("k", [500, 10 ** 6, 10 ** 12])
def test_theorem1_large_k_agrees_with_independent_high_precision(k):
    a = dict(L=4.0, c=0.3, M=1.0, M_V=0.5, M_q=0.25, mu=0.1, q_min=0.4, q_max=0.9, gap=2.0,
             k=k)
    b = theory.theorem1(**a)
    assert b.exact is None
    with mpmath.workprec(600):
        r = 1 - mpmath.mpf(0.1) * mpmath.mpf(0.3) * mpmath.mpf(0.4)
        B = mpmath.mpf(0.9) ** 2 + mpmath.mpf(0.25)
        Fq = 4 * mpmath.mpf(0.1) * B / (2 * mpmath.mpf(0.3) * mpmath.mpf(0.4))
        want = Fq + r ** (k - 1) * (2 - Fq)
        assert abs(b.value - want) <= abs(want) * mpmath.mpf(2) ** -250


def test_mpmath_global_precision_is_untouched():
    before = (mpmath.mp.prec, mpmath.iv.prec)
    theory.theorem1(L=4.0, c=0.3, M=1.0, M_V=0.5, M_q=0.25, mu=0.1, q_min=0.4, q_max=0.9,
                    gap=2.0, k=10 ** 9)
    theory.slowdown_ratio(L=4.0, c=0.3, M=0.0, M_V=0.0, M_q=0.0, mu=0.1, q_min=0.4,
                          q_max=0.9, gap=2.0, eps=1e-300)
    theory.asymptotic_slowdown(mu=0.1, c=0.5, q_min=0.5)
    assert (mpmath.mp.prec, mpmath.iv.prec) == before


# -- Theorems 5, 6, 7 ----------------------------------------------------------------------
@st.composite
def ratio_args(draw) -> dict:
    L = draw(positive)
    q_hi = draw(st.floats(min_value=1e-2, max_value=2.0))
    q_lo = q_hi * draw(unit)
    return dict(L=L, c=L * draw(unit), q_lo=q_lo, q_hi=q_hi,
                mu=below(1 / (F(L) * F(q_hi)), draw(unit)), gap=draw(nonneg),
                k=draw(st.integers(min_value=1, max_value=100)))


@given(ratio_args())
def test_theorem5_is_its_formula(a):
    L, c, mu, q_lo, gap = (F(a[n]) for n in ("L", "c", "mu", "q_lo", "gap"))
    check(theory.theorem5(**a), (1 - mu * c * q_lo) ** (a["k"] - 1) * gap)


@given(ratio_args(), st.floats(min_value=0.0, max_value=10.0), st.integers(1, 1000))
def test_theorem6_is_its_formula(a, t, d):
    L, c, mu, q_lo, gap = (F(a[n]) for n in ("L", "c", "mu", "q_lo", "gap"))
    Ft = d * F(t) ** 2 / (2 * c)
    b = theory.theorem6(**a, t=t, d=d)
    check(b, Ft + (1 - mu * c * q_lo) ** (a["k"] - 1) * (gap - Ft))
    assert theory.theorem6(**dict(a, k=1), t=t, d=d).exact == gap  # equality at k = 1


def sr_constants_from_theory(E: int, m: int) -> tuple[Fraction, Fraction]:
    """delta = 2^(-2m)/4 and s = 2^(e_min - m), e_min = 1 - (2^(E-1) - 1) (lpsgd.theory.formats_bridge)."""
    e_min = 1 - (2 ** (E - 1) - 1)
    return F(1, 4) / F(2) ** (2 * m), F(2) ** (e_min - m)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_theorem7_is_theorem1_with_sr_constants(name):
    fmt = preset(name)
    delta, s = sr_constants_from_theory(fmt.exp_bits, fmt.man_bits)
    L, c, d, M, M_V, gap = F(3), F(1, 2), 7, F(3, 4), F(1, 5), F(9, 4)
    Mp, MGp = (1 + delta) * M + d * s * s / 4, (1 + delta) * (1 + M_V)
    assert theory.stochastic_rounding_constants(name, M, 1 + M_V, d) == (Mp, MGp)
    mu = 1 / (L * MGp)  # the largest admissible stepsize
    for k in (1, 2, 30):
        b = theory.theorem7(L=L, c=c, d=d, M=M, M_V=M_V, fmt=name, mu=mu, gap=gap, k=k)
        Fp = L * mu * Mp / (2 * c)
        check(b, Fp + (1 - mu * c) ** (k - 1) * (gap - Fp))
        same = theory.theorem1(L=L, c=c, M=Mp, M_V=MGp - 1, M_q=0, mu=mu, q_min=1,
                               q_max=1, gap=gap, k=k)
        assert b.exact == same.exact
    with pytest.raises(AssumptionError, match="exceeds 1/\\(L\\*M_G'\\)"):
        theory.theorem7(L=L, c=c, d=d, M=M, M_V=M_V, fmt=name, mu=mu * (1 + F(1, 10 ** 9)),
                        gap=gap, k=2)


# -- slowdown (lpsgd.theory.slowdown) ---------------------------------------------------------
@st.composite
def slowdown_args(draw) -> dict:
    a = draw(theorem1_args())
    del a["k"]
    a["eps"] = draw(st.floats(min_value=1e-300, max_value=1e3))
    return a


@given(slowdown_args())
def test_iterations_to_eps_is_the_smallest_k(a):
    k = theory.iterations_to_eps(**a)
    L, c, mu, q, gap, eps = (F(a[n]) for n in ("L", "c", "mu", "q_min", "gap", "eps"))
    r = 1 - mu * c * q
    A = gap - L * mu * B_of(a) / (2 * c * q)
    assert k >= 1
    if k - 1 <= 400:  # the definition, checked exactly where the powers are affordable
        assert r ** (k - 1) * A <= eps
        if k > 1:
            assert r ** (k - 2) * A > eps
    else:
        with mpmath.workprec(400):
            lr = mpmath.log(mpmath.mpf(r.numerator) / r.denominator)
            target = mpmath.log(mpmath.mpf(eps.numerator) / eps.denominator /
                                (mpmath.mpf(A.numerator) / A.denominator))
            assert (k - 1) * lr <= target < (k - 2) * lr


def test_iterations_to_eps_on_exact_powers():
    # r = 1/2 (mu c q = 1/2), no noise: r^(k-1) * 1 <= 2^-10 first at k = 11 (equality).
    kw = dict(L=1, c=1, M=0, M_V=0, M_q=0, mu=F(1, 2), q_min=1, q_max=1, gap=1)
    assert theory.iterations_to_eps(**kw, eps=F(1, 1024)) == 11
    assert theory.iterations_to_eps(**kw, eps=F(1023, 1024 * 1024)) == 12
    assert theory.iterations_to_eps(**kw, eps=2) == 1
    # mu c q = 1: r = 0, the transient vanishes after one step.
    assert theory.iterations_to_eps(**dict(kw, mu=1), eps=F(1, 10 ** 9)) == 2


@given(st.floats(min_value=1e-6, max_value=0.999), st.floats(min_value=1e-3, max_value=1.0))
def test_asymptotic_slowdown_is_at_least_one_over_q_and_tends_to_it(x, q):
    Ls = theory.asymptotic_slowdown(mu=x, c=1, q_min=q)
    with mpmath.workprec(300):
        # log(1-x)/log(1-qx) - 1/q lies in [0, (1-q) x / (q (1-x))] (series of -log(1-x)).
        excess = Ls - 1 / mpmath.mpf(q)
        assert excess >= -mpmath.mpf(2) ** -240
        assert excess <= (1 - mpmath.mpf(q)) * x / (q * (1 - mpmath.mpf(x))) + mpmath.mpf(2) ** -240


@pytest.mark.parametrize("mu,q", [(0.5, 0.5), (0.01, 0.25), (1e-4, 0.1), (0.2, 0.9)])
def test_slowdown_ratio_tends_to_the_asymptotic_ratio(mu, q):
    # Noise-free, so both transients start at gap: K - 1 = ceil(log(gap/eps)/-log r) and
    # |K_q/K_1 - Ls| <= 2 Ls / (K_1 - 1) (ceilings); for small eps the ratio >= 1/q_min.
    kw = dict(L=1, c=1, M=0, M_V=0, M_q=0, mu=mu, q_min=q, q_max=q, gap=1)
    Ls = theory.asymptotic_slowdown(mu=mu, c=1, q_min=q)
    errors = []
    # (10^-9000: the arguments' size limit, lpsgd._validate.MAX_EXPONENT, is 2^-32768)
    for eps in (F(1, 10 ** 10), F(1, 10 ** 100), F(1, 10 ** 1000), F(1, 10 ** 9000)):
        ratio = theory.slowdown_ratio(**kw, eps=eps)
        K1 = theory.iterations_to_eps(**dict(kw, q_min=1, q_max=1), eps=eps)
        err = abs(mpmath.mpf(ratio.numerator) / ratio.denominator - Ls)
        assert err <= 2 * Ls / (K1 - 1)
        errors.append(err)
        if K1 >= 1000:
            assert ratio >= 1 / F(q)
    assert errors[-1] < 1e-3


def test_slowdown_ratio_can_be_below_one_over_q_for_large_eps():
    # The ceilings: with mu c = 1/2, q = 1/2, eps = 0.6: K_1 = 2 (0.5 <= 0.6) and
    # K_q = 3 (0.75 > 0.6 >= 0.5625), so K_q / K_1 = 3/2 < 2 = 1/q_min.
    kw = dict(L=1, c=1, M=0, M_V=0, M_q=0, mu=0.5, q_min=0.5, q_max=0.5, gap=1, eps=0.6)
    assert theory.slowdown_ratio(**kw) == F(3, 2)


# -- the Bound object --------------------------------------------------------------------
def test_bound_is_a_frozen_hashable_record_with_citation():
    b = theory.theorem1(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mu=0.25, q_min=0.5,
                        q_max=1.0, gap=3.0, k=3)
    assert isinstance(b.value, mpmath.mpf) and isinstance(float(b), float)
    assert hash(b) == hash(theory.theorem1(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mu=0.25,
                                           q_min=0.5, q_max=1.0, gap=3.0, k=3))
    with pytest.raises(AttributeError):
        b.value = mpmath.mpf(0)
    assert "lpsgd.theory.theorem1" in b.reference and "2508.07142" in b.reference
    assert "THEORY.md" not in b.reference
    assert "Theorem 4.6" in b.reference and "Bottou" in b.reference
    assert "stepsize mu=0.25 <= 1/(L*M_G)=0.25" in b.assumptions
    assert set(b.terms) == {"floor", "rate", "noise_budget", "transient"}
    assert b.holds(b.value) and b.holds(b.exact) and not b.holds(b.exact * (1 + F(1, 2 ** 60)))
    assert b.holds(b.exact * (1 + F(1, 2 ** 60)), rtol=1e-12)


def test_public_names():
    assert set(theory.__all__) >= {"Bound", "theorem1", "theorem2", "theorem3", "theorem4",
                                   "theorem5", "theorem6", "theorem7", "theorem1_schedule",
                                   "theorem3_schedule", "iterations_to_eps", "slowdown_ratio",
                                   "format_shrinkage", "stochastic_rounding_constants"}
    for name in theory.__all__:
        assert hasattr(theory, name)


# -- the float64 twins (lpsgd.theory.fast) -----------------------------------------------
FAST_RTOL = 1e-12  # the numpy tolerance; fast.py derives why it suffices here


def fast_close(got: np.ndarray, want: list[float]) -> bool:
    want = np.array(want)
    return bool(np.all(np.abs(got - want) <= FAST_RTOL * np.abs(want) + 1e-300))


def _ks(k: int) -> np.ndarray:
    return np.array(sorted({1, 2, k, 10 * k}))


@given(theorem1_args())
def test_fast_theorem1_matches_exact(a):
    ks = _ks(a.pop("k"))
    got = theory.fast.theorem1(**a, k=ks)
    assert fast_close(got, [float(theory.theorem1(**a, k=int(k))) for k in ks])
    assert isinstance(theory.fast.theorem1(**a, k=3), float)


@given(theorem2_args())
def test_fast_theorem2_matches_exact(a):
    ks = _ks(min(a.pop("k"), 10 ** 5))
    got = theory.fast.theorem2(**a, k=ks)
    assert fast_close(got, [float(theory.theorem2(**a, k=int(k))) for k in ks])


@given(theorem3_args())
def test_fast_theorem3_matches_exact(a):
    Ks = _ks(a.pop("K"))
    got = theory.fast.theorem3(**a, K=Ks)
    assert fast_close(got, [float(theory.theorem3(**a, K=int(K))) for K in Ks])


@given(theorem4_args())
def test_fast_theorem4_gives_every_prefix(a):
    mus = a.pop("mus")
    got = theory.fast.theorem4(**a, mus=mus)
    assert fast_close(got, [float(theory.theorem4(**a, mus=mus[:K]))
                            for K in range(1, len(mus) + 1)])


@given(ratio_args(), st.floats(min_value=0.0, max_value=10.0), st.integers(1, 100))
# found by Hypothesis: r = 1 - 0.99999^2 is small, so x = 1 - r loses r's relative
# accuracy; the fast path now takes log(r) directly for r < 1/2
@example(dict(L=1.0, c=0.99999, q_lo=1.0, q_hi=1.0, mu=0.99999, gap=1.0, k=1), 0.0, 1)
def test_fast_theorems_5_and_6_match_exact(a, t, d):
    ks = _ks(a.pop("k"))
    got5 = theory.fast.theorem5(**a, k=ks)
    assert fast_close(got5, [float(theory.theorem5(**a, k=int(k))) for k in ks])
    got6 = theory.fast.theorem6(**a, t=t, d=d, k=ks)
    assert fast_close(got6, [float(theory.theorem6(**a, t=t, d=d, k=int(k))) for k in ks])


def test_fast_theorem7_matches_exact():
    kw = dict(L=3.0, c=0.5, d=7, M=0.75, M_V=0.2, fmt="float8_e5m2", mu=0.25, gap=2.25)
    ks = np.arange(1, 400, 7)
    got = theory.fast.theorem7(**kw, k=ks)
    assert fast_close(got, [float(theory.theorem7(**kw, k=int(k))) for k in ks])


def test_fast_rate_zero_is_exact():
    # mu c q_min = 1: r = 0, so the bound is gap at k = 1 and the floor afterwards.
    kw = dict(L=1.0, c=1.0, M=1.0, M_V=0.0, M_q=0.0, mu=1.0, q_min=1.0, q_max=1.0, gap=3.0)
    assert list(theory.fast.theorem1(**kw, k=np.array([1, 2, 50]))) == [3.0, 0.5, 0.5]


def test_sequences_may_be_iterators():
    kw = dict(L=4, M=1, M_V=0, M_q=0.5, q_min=0.5, q_max=1, gap=3)
    mus = [0.1, 0.2, 0.05]
    want = theory.theorem4(**kw, mus=mus)
    assert theory.theorem4(**kw, mus=iter(mus)) == want
    assert list(theory.fast.theorem4(**kw, mus=iter(mus))) == list(
        theory.fast.theorem4(**kw, mus=mus))
    with pytest.raises(AssumptionError, match=r"mus\[1\]=0.3 exceeds"):
        theory.theorem4(**kw, mus=(m for m in [0.1, 0.3]))


# -- the bounds hold on exact expectations (the exact expectations of lpsgd.reference.expectations, in Fractions) ----------
@st.composite
def quadratic_runs(draw) -> dict:
    # Coarse dyadic grids keep the exact rationals (and the test) small and fast.
    def grid(lo: int, hi: int, den: int) -> Fraction:
        return F(draw(st.integers(min_value=lo, max_value=hi)), den)

    L = grid(1, 64, 8)
    lams = [L, L * grid(1, 16, 16)]  # spectrum {c, L}, c <= L
    sig, tau = [grid(0, 64, 16) for _ in lams], [grid(0, 64, 16) for _ in lams]
    s1 = [grid(0, 64, 8) for _ in lams]
    q_min = grid(1, 32, 32)
    q_max = q_min + (1 - q_min) * grid(0, 8, 8)
    n = draw(st.integers(min_value=1, max_value=12))
    qs = [q_min + (q_max - q_min) * grid(0, 8, 8) for _ in range(n)]
    mus = [1 / L * grid(1, 16, 16) for _ in range(n)]  # admissible: mu <= 1/(L M_G), M_G = 1
    return dict(lams=lams, sig=sig, tau=tau, s1=s1, q_min=q_min, q_max=q_max, qs=qs, mus=mus)


def exact_moments(run: dict) -> tuple[list[Fraction], list[Fraction]]:
    """E[F(w_k) - F*] and E||grad F(w_k)||^2, k = 1..n+1, by the exact recursion."""
    s, gaps, grads = list(run["s1"]), [], []
    for step in range(len(run["mus"]) + 1):
        gaps.append(sum(l * x for l, x in zip(run["lams"], s)) / 2)
        grads.append(sum(l * l * x for l, x in zip(run["lams"], s)))
        if step < len(run["mus"]):
            m, q = run["mus"][step], run["qs"][step]
            s = [(1 - m * q * l) ** 2 * x + m * m * (q * q * sg + t)
                 for l, x, sg, t in zip(run["lams"], s, run["sig"], run["tau"])]
    return gaps, grads


@given(quadratic_runs())
def test_bounds_hold_on_exact_quadratic_expectations(run):
    gaps, grads = exact_moments(run)
    L, c = run["lams"][0], run["lams"][1]
    consts = dict(L=L, M=sum(run["sig"]), M_V=0, M_q=sum(run["tau"]), gap=gaps[0])
    n = len(run["mus"])
    # schedule-aware Theorem 1 at every k (the q_k vary inside [q_min, q_max])
    for k in range(1, n + 2):
        b = theory.theorem1_schedule(**consts, c=c, mus=run["mus"][:k - 1],
                                     qs=run["qs"][:k - 1])
        assert gaps[k - 1] <= b.exact
    # Theorem 1 with the constant stepsize mus[0] and the same q_k
    mu = run["mus"][0]
    const = dict(run, mus=[mu] * n)
    cgaps, cgrads = exact_moments(const)
    for k in range(1, n + 2):
        b = theory.theorem1(**consts, c=c, mu=mu, q_min=run["q_min"], q_max=run["q_max"], k=k)
        assert cgaps[k - 1] <= b.exact
    # Theorem 3 (average of E||grad F||^2) and its schedule-aware form (eta-weighted sum)
    for K in range(1, n + 1):
        b3 = theory.theorem3(**consts, mu=mu, q_min=run["q_min"], q_max=run["q_max"], K=K)
        assert sum(cgrads[:K]) / K <= b3.exact
        bs = theory.theorem3_schedule(**consts, mus=run["mus"][:K], qs=run["qs"][:K])
        assert sum(m * q * g for m, q, g in zip(run["mus"], run["qs"], grads[:K])) <= bs.exact
        b4 = theory.theorem4(**consts, mus=run["mus"][:K], q_min=run["q_min"],
                             q_max=run["q_max"])
        assert sum(m * g for m, g in zip(run["mus"], grads[:K])) <= b4.exact


def test_large_k_with_a_rate_close_to_one_keeps_full_relative_accuracy():
    # x = mu c q = 1e-300: r^(k-1) = 1 - ~1e-294 and, with gap = 0, the bound is
    # floor (1 - r^(k-1)) ~ 5e-295; evaluated naively, floor + r^(k-1) (0 - floor) cancels
    # completely even at 400 bits (1 - x rounds to 1).  It must be right to 2^-250.
    a = dict(L=1.0, c=1e-150, M=1.0, M_V=0.0, M_q=0.0, mu=1e-150, q_min=1.0, q_max=1.0,
             gap=0.0, k=10 ** 6)
    b = theory.theorem1(**a)
    assert b.exact is None
    with mpmath.workprec(2500):
        x = mpmath.mpf(1e-150) * mpmath.mpf(1e-150)
        floor = mpmath.mpf(1e-150) / (2 * mpmath.mpf(1e-150))
        want = floor + (1 - x) ** (10 ** 6 - 1) * (0 - floor)
        assert 4e-295 < want < 6e-295
        assert abs(b.value - want) <= want * mpmath.mpf(2) ** -250
