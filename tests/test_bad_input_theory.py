"""Every broken assumption of lpsgd.theory, one table row each, with the pinned message.

Valid numbers that break an assumption raise AssumptionError naming the assumption and
the numbers; NaN, infinities and non-numbers raise InvalidArgument naming the argument.
No row may return a number.
"""

from __future__ import annotations

import re
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import lpsgd.theory as theory
from lpsgd._validate import show
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.formats import Format

T1 = dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mu=0.25, q_min=0.5, q_max=1.0, gap=3.0, k=2)
T2 = dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, beta=4.0, gamma=15.0, q_min=0.5, q_max=1.0,
          gap=3.0, k=2)
T3 = dict(L=4.0, M=1.0, M_V=1.0, M_q=0.5, mu=0.125, q_min=0.5, q_max=1.0, gap=3.0, K=2)
T4 = dict(L=4.0, M=1.0, M_V=1.0, M_q=0.5, mus=[0.125, 0.0625], q_min=0.5, q_max=1.0,
          gap=3.0)
T5 = dict(L=4.0, c=1.0, mu=0.125, q_lo=0.5, q_hi=2.0, gap=3.0, k=2)
T6 = dict(L=4.0, c=1.0, d=3, mu=0.125, t=0.01, q_lo=0.5, q_hi=2.0, gap=3.0, k=2)
T7 = dict(L=4.0, c=1.0, d=3, M=1.0, M_V=0.0, fmt="float8_e4m3fn", mu=0.2, gap=3.0, k=2)
S1 = dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mus=[0.25, 0.125], qs=[0.5, 1.0], gap=3.0)
S3 = dict(L=4.0, M=1.0, M_q=0.5, mus=[0.25, 0.125], qs=[0.5, 1.0], gap=3.0)
EPS = dict(L=4.0, c=1.0, M=1.0, M_V=0.0, M_q=0.5, mu=0.25, q_min=0.5, q_max=1.0, gap=3.0,
           eps=1e-3)

A, I = AssumptionError, InvalidArgument

# (function, base arguments, changes, error type, the full message)
CASES = [
    # Theorem 1: every assumption
    ("theorem1", T1, dict(mu=0.3), A,
     "theorem1: stepsize mu=0.3 exceeds 1/(L*M_G)=0.25 (L=4.0, M_G=1+M_V=1)"),
    ("theorem1", T1, dict(mu=0.2, M_V=0.5), A,
     "theorem1: stepsize mu=0.2 exceeds 1/(L*M_G)=0.16666666666666666 (L=4.0, M_G=1+M_V=1.5)"),
    ("theorem1", T1, dict(mu=0.0), A, "theorem1: stepsize mu=0.0 must be > 0"),
    ("theorem1", T1, dict(mu=-0.1), A, "theorem1: stepsize mu=-0.1 must be > 0"),
    ("theorem1", T1, dict(q_min=0.0), A, "theorem1: shrinkage q_min=0.0 is outside (0, 1]"),
    ("theorem1", T1, dict(q_min=-0.5), A, "theorem1: shrinkage q_min=-0.5 is outside (0, 1]"),
    ("theorem1", T1, dict(q_max=1.5), A, "theorem1: shrinkage q_max=1.5 is outside (0, 1]"),
    ("theorem1", T1, dict(q_min=0.8, q_max=0.5), A, "theorem1: q_min=0.8 exceeds q_max=0.5"),
    ("theorem1", T1, dict(M=-1.0), A, "theorem1: (A2) variance constant M=-1.0 must be >= 0"),
    ("theorem1", T1, dict(M_V=-0.5), A,
     "theorem1: (A2) variance constant M_V=-0.5 must be >= 0"),
    ("theorem1", T1, dict(M_q=-2), A, "theorem1: (A2) variance constant M_q=-2 must be >= 0"),
    ("theorem1", T1, dict(c=0.0), A, "theorem1: (A3) strong convexity c=0.0 must be > 0"),
    ("theorem1", T1, dict(c=5.0), A,
     "theorem1: (A3) strong convexity c=5.0 exceeds the smoothness constant L=4.0 "
     "(an L-smooth c-strongly convex F has c <= L)"),
    ("theorem1", T1, dict(L=0.0), A, "theorem1: (A1) smoothness constant L=0.0 must be > 0"),
    ("theorem1", T1, dict(gap=-1.0), A,
     "theorem1: initial gap gap=-1.0 is negative (gap = F(w_1) - F* >= 0)"),
    ("theorem1", T1, dict(k=0), A, "theorem1: iteration k=0 must be >= 1"),
    # Theorem 1: not numbers
    ("theorem1", T1, dict(mu=float("nan")), I, "Expected mu to be a number but got mu=nan"),
    ("theorem1", T1, dict(L=np.nan), I, "Expected L to be a number but got L=nan"),
    ("theorem1", T1, dict(gap=float("inf")), I,
     "Expected gap to be finite but got gap=inf"),
    ("theorem1", T1, dict(c="1"), I, "Expected c to be a real number but got c='1'"),
    ("theorem1", T1, dict(M=None), I, "Expected M to be a real number but got M=None"),
    ("theorem1", T1, dict(q_min=True), I,
     "Expected q_min to be a real number but got q_min=True"),
    ("theorem1", T1, dict(k=2.0), I, "Expected k to be an integer but got k=2.0"),
    ("theorem1", T1, dict(mu=0.3, k="2"), I, "Expected k to be an integer but got k='2'"),
    # Theorem 1: arguments too large to compute with exactly and fast (MAX_EXPONENT)
    ("theorem1", T1, dict(c=mpmath.mpf(2) ** -1000000), I,
     "Expected c to be 0 or of magnitude in [2^-32768, 2^32768] but got "
     "c=mpf('1.0100340591980302e-301030') (about 2^-1000000)"),
    ("theorem1", T1, dict(c=Fraction(1, 2 ** 1000000)), I,
     "Expected c to be 0 or of magnitude in [2^-32768, 2^32768] but got "
     "c=1.0100340591980302e-301030 (about 2^-1000000)"),
    ("theorem1", T1, dict(k=2 ** 40000), I,
     "Expected k to be 0 or of magnitude in [2^-32768, 2^32768] but got "
     "k=1.5842603725730787e+12041 (about 2^40000)"),
    ("theorem1", T1, dict(gap=Fraction(3 ** 30000, 7 ** 20000)), I,
     "Expected gap to be a ratio of integers of at most 2^32768 (in lowest terms) but got "
     "gap=4.7516156573825018e-2589 (numerator of 47549 bits, denominator of 56148 bits)"),
    ("theorem1", T1, dict(L=10 ** 5000), A,
     "theorem1: stepsize mu=0.25 exceeds 1/(L*M_G)=1.0e-5000 (L=1.0e+5000, M_G=1+M_V=1)"),
    # Theorem 2
    ("theorem2", T2, dict(beta=2.0), A,
     "theorem2: beta=2.0 must exceed 1/(c*q_min)=2 (c=1.0, q_min=0.5)"),
    ("theorem2", T2, dict(gamma=0.0), A, "theorem2: stepsize offset gamma=0.0 must be > 0"),
    ("theorem2", T2, dict(gamma=14.0), A,
     "theorem2: stepsize mu_1=beta/(gamma+1)=0.26666666666666666 exceeds 1/(L*M_G)=0.25 "
     "(L=4.0, M_G=1+M_V=1)"),
    ("theorem2", T2, dict(q_max=0.25), A, "theorem2: q_min=0.5 exceeds q_max=0.25"),
    ("theorem2", T2, dict(gamma=float("nan")), I,
     "Expected gamma to be a number but got gamma=nan"),
    # Theorem 3
    ("theorem3", T3, dict(mu=0.25), A,
     "theorem3: stepsize mu=0.25 exceeds 1/(L*M_G)=0.125 (L=4.0, M_G=1+M_V=2)"),
    ("theorem3", T3, dict(K=0), A, "theorem3: number of iterations K=0 must be >= 1"),
    ("theorem3", T3, dict(gap=-0.5), A,
     "theorem3: initial gap gap=-0.5 is negative (gap = F(w_1) - F_inf >= 0)"),
    ("theorem3", T3, dict(K=1.5), I, "Expected K to be an integer but got K=1.5"),
    # Theorem 4
    ("theorem4", T4, dict(mus=[0.125, 0.25]), A,
     "theorem4: stepsize mus[1]=0.25 exceeds 1/(L*M_G)=0.125 (L=4.0, M_G=1+M_V=2)"),
    ("theorem4", T4, dict(mus=[0.0]), A, "theorem4: stepsize mus[0]=0.0 must be > 0"),
    ("theorem4", T4, dict(mus=[0.1, float("nan")]), I,
     "Expected mus[1] to be a number but got mus[1]=nan"),
    ("theorem4", T4, dict(mus=[]), I, "Expected mus to be non-empty but got mus=[]"),
    ("theorem4", T4, dict(mus=0.1), I,
     "Expected mus to be a sequence of real numbers but got mus=0.1"),
    ("theorem4", T4, dict(mus=np.ones((2, 2)) / 10), I,
     "Expected mus to be one-dimensional but got mus with shape (2, 2)"),
    # schedule-aware forms
    ("theorem1_schedule", S1, dict(qs=[0.5, 1.25]), A,
     "theorem1_schedule: shrinkage qs[1]=1.25 is outside (0, 1]"),
    ("theorem1_schedule", S1, dict(mus=[0.25, 0.5]), A,
     "theorem1_schedule: stepsize mus[1]=0.5 exceeds 1/(L*M_G)=0.25 (L=4.0, M_G=1+M_V=1)"),
    ("theorem1_schedule", S1, dict(qs=[0.5]), I,
     "Expected mus and qs of the same length but got len(mus)=2 and len(qs)=1"),
    ("theorem3_schedule", S3, dict(qs=[0.0, 1.0]), A,
     "theorem3_schedule: shrinkage qs[0]=0.0 is outside (0, 1]"),
    ("theorem3_schedule", S3, dict(M_V=1.0), A,
     "theorem3_schedule: stepsize mus[0]=0.25 exceeds 1/(L*M_G)=0.125 (L=4.0, M_G=1+M_V=2)"),
    ("theorem3_schedule", S3, dict(mus=[], qs=[]), I,
     "Expected mus to be non-empty but got mus=[]"),
    # Theorem 5
    ("theorem5", T5, dict(mu=0.25), A,
     "theorem5: stepsize mu=0.25 exceeds 1/(L*q_hi)=0.125 (L=4.0, q_hi=2.0)"),
    ("theorem5", T5, dict(q_lo=0.0), A, "theorem5: q_lo=0.0 is outside (0, q_hi]=(0, 2.0]"),
    ("theorem5", T5, dict(q_lo=3.0), A, "theorem5: q_lo=3.0 is outside (0, q_hi]=(0, 2.0]"),
    ("theorem5", T5, dict(q_hi=float("inf")), A,
     "theorem5: q_hi=inf is infinite: no stepsize mu <= 1/(L*q_hi) is admissible"),
    ("theorem5", T5, dict(q_hi=0.0), A, "theorem5: q_hi=0.0 must be > 0"),
    # Theorem 6
    ("theorem6", T6, dict(mu=0.25), A,
     "theorem6: stepsize mu=0.25 exceeds 1/(L*q_hi)=0.125 (L=4.0, q_hi=2.0)"),
    ("theorem6", T6, dict(t=-0.5), A, "theorem6: underflow threshold t=-0.5 must be >= 0"),
    ("theorem6", T6, dict(d=0), A, "theorem6: dimension d=0 must be >= 1"),
    ("theorem6", T6, dict(q_lo=0), A, "theorem6: q_lo=0 is outside (0, q_hi]=(0, 2.0]"),
    ("theorem6", T6, dict(c=8.0), A,
     "theorem6: (A3) strong convexity c=8.0 exceeds the smoothness constant L=4.0 "
     "(an L-smooth c-strongly convex F has c <= L)"),
    ("theorem6", T6, dict(d=3.0), I, "Expected d to be an integer but got d=3.0"),
    ("theorem6", T6, dict(t=float("nan")), I, "Expected t to be a number but got t=nan"),
    # Theorem 7
    ("theorem7", T7, dict(mu=0.25), A,
     # m = 3: delta = 2^-6/4 = 1/256, M_G' = 257/256, 1/(L M_G') = 64/257
     "theorem7: stepsize mu=0.25 exceeds 1/(L*M_G')=0.2490272373540856 "
     "(M_G'=(1+delta)*(1+M_V)=1.00390625, delta=2^(-2m)/4=0.00390625, m=3)"),
    ("theorem7", T7, dict(fmt=Format(4, 3, subnormals=False)), A,
     "theorem7: fmt=e4m3_nosub flushes subnormals to zero, so stochastic rounding is "
     "biased below N_min and Theorem 7 does not apply"),
    ("theorem7", T7, dict(M=-1.0), A, "theorem7: (A2) variance constant M=-1.0 must be >= 0"),
    ("theorem7", T7, dict(M=mpmath.mpf("1e-301030")), I,
     "Expected M to be 0 or of magnitude in [2^-32768, 2^32768] but got "
     "M=mpf('9.9999999999999995e-301031') (about 2^-1000001)"),
    ("theorem4", T4, dict(mus=[0.125, mpmath.mpf("1e-100000")]), I,
     "Expected mus[1] to be 0 or of magnitude in [2^-32768, 2^32768] but got "
     "mus[1]=mpf('9.9999999999999997e-100001') (about 2^-332193)"),
    ("theorem6", T6, dict(q_lo=-1e58, L=1e308, c=10 ** 400), A,
     "theorem6: (A3) strong convexity c=1.0e+400 exceeds the smoothness constant L=1e+308 "
     "(an L-smooth c-strongly convex F has c <= L)"),
    ("theorem6", T6, dict(d=10 ** 5000, k=0), A, "theorem6: iteration k=0 must be >= 1"),
    ("theorem7", T7, dict(fmt="float8_e4m3fnx"), I,
     "Unknown format='float8_e4m3fnx'; valid values are: "),
    ("theorem7", T7, dict(fmt=8), I,
     "Expected fmt to be a Format or a preset name but got fmt=8"),
    # Bridges and slowdown
    ("stochastic_rounding_constants", dict(fmt="bfloat16", M=1.0, M_G=1.0, d=3),
     dict(M_G=0.5), A,
     "stochastic_rounding_constants: M_G=0.5 must be >= 1 (M_G = 1 + M_V with M_V >= 0)"),
    ("stochastic_rounding_constants", dict(fmt="bfloat16", M=1.0, M_G=1.0, d=3),
     dict(d=0), A, "stochastic_rounding_constants: dimension d=0 must be >= 1"),
    ("iterations_to_eps", EPS, dict(eps=0.0), A, "iterations_to_eps: target eps=0.0 must be > 0"),
    ("iterations_to_eps", EPS, dict(mu=0.5), A,
     "iterations_to_eps: stepsize mu=0.5 exceeds 1/(L*M_G)=0.25 (L=4.0, M_G=1+M_V=1)"),
    ("slowdown_ratio", EPS, dict(q_min=1.5, q_max=1.5), A,
     "slowdown_ratio: shrinkage q_min=1.5 is outside (0, 1]"),
    ("slowdown_ratio", EPS, dict(eps=float("nan")), I,
     "Expected eps to be a number but got eps=nan"),
    ("asymptotic_slowdown", dict(mu=0.5, c=1.0, q_min=0.5), dict(mu=4.0), A,
     "asymptotic_slowdown: mu*c=4 exceeds 1 (mu=4.0, c=1.0): "
     "Theorem 1's rate 1 - mu*c would be negative"),
    ("asymptotic_slowdown", dict(mu=0.5, c=1.0, q_min=0.5), dict(q_min=Fraction(3, 2)), A,
     "asymptotic_slowdown: shrinkage q_min=3/2 is outside (0, 1]"),
    # the float64 twins check the same assumptions (and the k array)
    ("fast.theorem1", T1, dict(mu=0.3), A,
     "theorem1: stepsize mu=0.3 exceeds 1/(L*M_G)=0.25 (L=4.0, M_G=1+M_V=1)"),
    ("fast.theorem1", T1, dict(k=np.array([1, 0, 3])), A, "theorem1: iteration k=0 must be >= 1"),
    ("fast.theorem3", T3, dict(K=np.array([1.0, 2.0])), I,
     "Expected K to be an integer or an integer array but got K=array([1., 2.])"),
    ("fast.theorem6", T6, dict(t=float("nan")), I, "Expected t to be a number but got t=nan"),
    ("format_shrinkage", dict(fmt="float8_e4m3fn", rounding="toward_zero", t=0.5),
     dict(rounding="stochastic"), I,
     "Expected a deterministic rounding mode but got rounding='stochastic'; stochastic "
     "rounding does not shrink: use stochastic_rounding_constants"),
    ("format_shrinkage", dict(fmt="float8_e4m3fn", rounding="toward_zero", t=0.5),
     dict(t=1000.0), I, "Expected t <= 448 but got t=1000.0"),
    ("format_shrinkage", dict(fmt="float8_e4m3fn", rounding="toward_zero", t=0.5),
     dict(t=-1.0), I, "Expected t > 0 but got t=-1.0"),
    ("format_shrinkage", dict(fmt="float8_e4m3fn", rounding="toward_zero", t=0.5),
     dict(t=0), I, "Expected t > 0 but got t=0"),
]


def _ids():
    return [f"{fn}-{','.join(f'{k}={show(v)}' for k, v in change.items())}"[:80]
            for fn, _, change, _, _ in CASES]


@pytest.mark.parametrize("fn,base,change,error,message", CASES, ids=_ids())
def test_bad_input_raises_with_pinned_message(fn, base, change, error, message):
    args = dict(base, **change)
    func = theory
    for part in fn.split("."):
        func = getattr(func, part)
    with pytest.raises(error) as info:
        func(**args)
    assert type(info.value) is error
    if message.endswith(": "):  # a list of valid names follows; pin the start only
        assert str(info.value).startswith(message)
    else:
        assert str(info.value) == message


@pytest.mark.parametrize("fn,base", [("theorem1", T1), ("theorem2", T2), ("theorem3", T3),
                                     ("theorem4", T4), ("theorem5", T5), ("theorem6", T6),
                                     ("theorem7", T7), ("theorem1_schedule", S1),
                                     ("theorem3_schedule", S3), ("iterations_to_eps", EPS),
                                     ("slowdown_ratio", EPS)])
def test_every_base_row_is_admissible(fn, base):
    # The table's rows differ from an admissible call by exactly the change shown.
    assert getattr(theory, fn)(**base) is not None


def test_invalid_argument_is_raised_before_any_assumption():
    # k is malformed and mu inadmissible: the malformed argument is reported.
    with pytest.raises(InvalidArgument, match=re.escape("k=2.0")):
        theory.theorem1(**dict(T1, mu=0.3, k=2.0))


def test_float_of_a_bound_beyond_float64_is_inf():
    # The exact bound 1.88e308 exceeds the largest float64: float() gives inf, as float()
    # of a huge mpf does (float() of the Fraction alone raises OverflowError).
    b = theory.theorem2(**dict(T2, M=1e308))
    assert b.exact > Fraction(np.finfo(np.float64).max)
    assert float(b) == float("inf")
    assert float(theory.theorem6(**dict(T6, d=10 ** 400, gap=0.0))) == float("inf")


def test_holds_after_many_steps_is_fast():
    # r^(k-1) ~ 2^-(4.4e8): compared by magnitude, never built as an exact rational.
    b = theory.theorem5(L=1.0, c=1.0, mu=0.125, q_lo=0.5, q_hi=2.0, gap=3.0, k=4_689_230_595)
    assert b.exact is None and float(b) == 0.0
    assert b.holds(0.0) and b.holds(-1.0) and not b.holds(1e-300)
