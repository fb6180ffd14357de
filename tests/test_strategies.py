"""lpsgd.strategies reaches the hard cases, only generates valid inputs, and validates its
arguments."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import lpsgd.strategies as lst
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format, preset
from lpsgd.schedules import AdversarialQ, Constant, Periodic, RandomQ

# find() searches deterministically so these tests do not depend on luck or a database;
# the first hit is enough (no shrinking).
FIND = settings(max_examples=2000, database=None, derandomize=True, phases=[Phase.generate])


def _find(strategy, condition):
    return find(strategy, condition, settings=FIND)


def _is_tie(fmt: Format, x: float) -> bool:
    """x is exactly halfway between two neighbouring points of fmt's grid, up to the
    boundary X_max + spacing/2 just above the largest finite value."""
    a = abs(Fraction(x))
    if a == 0:
        return False
    if not fmt.subnormals and a < fmt.n_min:
        return a == fmt.n_min / 2
    spacing = (fmt.subnormal_spacing if a < fmt.n_min
               else Fraction(2) ** (math.frexp(float(a))[1] - 1 - fmt.man_bits))
    return (a / spacing).denominator == 2 and a <= fmt.x_max + spacing / 2


# -- formats ------------------------------------------------------------------------------

@pytest.mark.parametrize("condition", [
    lambda f: f.man_bits <= 1 and f.exp_bits <= 3,          # coarse
    lambda f: f.man_bits == 0,                              # no stored mantissa bit
    lambda f: not f.subnormals,
    lambda f: f.kind == "fn_nonan",
    lambda f: f.kind == "fn",
    lambda f: f.name == "bfloat16",                         # presets
    lambda f: f.man_bits >= 40,                             # wide
], ids=["coarse", "m0", "no_subnormals", "fn_nonan", "fn", "preset", "wide"])
def test_formats_reach(condition):
    assert condition(_find(lst.formats(), condition))


@settings(max_examples=200)
@given(lst.formats(min_exp_bits=2, max_exp_bits=6, min_man_bits=1, max_man_bits=5,
                   subnormals=False, kinds=("ieee",)))
def test_formats_respect_bounds(fmt):
    assert 2 <= fmt.exp_bits <= 6 and 1 <= fmt.man_bits <= 5
    assert not fmt.subnormals and fmt.kind == "ieee" and fmt.fits_binary64


def test_rounding_modes():
    assert _find(lst.rounding_modes(deterministic=True), lambda r: r == "odd") == "odd"
    assert _find(lst.rounding_modes(deterministic=False), lambda r: r == "stochastic_equal")
    with pytest.raises(Exception):
        _find(lst.rounding_modes(deterministic=True), lambda r: r == "stochastic")


# -- values -------------------------------------------------------------------------------

B16 = preset("binary16")
E4M3 = preset("float8_e4m3fn")


@pytest.mark.parametrize(("fmt", "name", "condition"), [
    (B16, "tie", lambda x: _is_tie(B16, x)),
    (B16, "tie_above", lambda x: _is_tie(B16, float(np.nextafter(x, -np.inf)))),
    (B16, "subnormal", lambda x: 0 < abs(x) < float(B16.n_min)),
    (B16, "underflow_tie", lambda x: abs(x) == float(B16.subnormal_spacing) / 2),
    (B16, "float64_subnormal", lambda x: 0 < abs(x) < 2.0 ** -1022),
    (B16, "overflow_threshold", lambda x: abs(x) == float(B16.overflow_threshold)),
    (B16, "overflow", lambda x: math.isfinite(x) and abs(x) > float(B16.x_max)),
    (B16, "negative_zero", lambda x: x == 0 and math.copysign(1, x) < 0),
    (B16, "nan", math.isnan),
    (B16, "inf", math.isinf),
    (E4M3, "x_max", lambda x: abs(x) == float(E4M3.x_max)),
    (E4M3, "tie", lambda x: _is_tie(E4M3, x)),
])
def test_values_for_reach(fmt, name, condition):
    assert condition(_find(lst.values_for(fmt), condition))


@settings(max_examples=150)
@given(lst.formats(), st.data())
def test_values_for_flags(fmt, data):
    x = data.draw(lst.values_for(fmt, allow_nan=False, allow_infinity=False,
                                 allow_overflow=False))
    assert math.isfinite(x) and abs(x) <= float(fmt.x_max)


@settings(max_examples=300)
@given(lst.formats(max_man_bits=20), st.data())
def test_ties_for_are_ties_or_neighbours(fmt, data):
    x = data.draw(lst.ties_for(fmt))
    near = [x, float(np.nextafter(x, -np.inf)), float(np.nextafter(x, np.inf))]
    assert any(_is_tie(fmt, v) for v in near), f"{x!r} is not a tie of {fmt} or next to one"


def test_value_arrays_shape():
    x = _find(lst.value_arrays(B16, min_size=3, max_size=5), lambda a: True)
    assert x.dtype == np.float64 and 3 <= x.size <= 5


# -- stepsizes, shrinkage, problems -------------------------------------------------------

@settings(max_examples=300)
@given(st.floats(2.0 ** -6, 64.0), st.floats(1.0, 8.0), st.data())
def test_stepsizes_admissible(L, M_G, data):
    mu = data.draw(lst.stepsizes(L=L, M_G=M_G))
    assert 0 < mu and Fraction(mu) * Fraction(L) * Fraction(M_G) <= 1


def test_stepsizes_reach_limit():
    mu = _find(lst.stepsizes(L=4.0), lambda m: m == 0.25)  # 0x1p-2 = 1/(L M_G)
    assert mu * 4.0 == 1.0


@settings(max_examples=300)
@given(st.floats(2.0 ** -4, 16.0), st.floats(2.0 ** -4, 1.0), st.floats(2.0 ** -5, 1.0),
       st.data())
def test_diminishing_stepsizes_admissible(L, c_frac, q_min, data):
    c = L * c_frac
    beta, gamma = data.draw(lst.diminishing_stepsizes(L=L, c=c, q_min=q_min))
    assert Fraction(beta) * Fraction(c) * Fraction(q_min) > 1
    assert gamma > 0 and Fraction(beta) / (Fraction(gamma) + 1) <= 1 / Fraction(L)


def test_shrinkage_levels_reach_bound():
    assert _find(lst.shrinkage_levels(min_value=0.125), lambda q: q == 0.125) == 0.125


@pytest.mark.parametrize("kind", [Constant, RandomQ, Periodic])
def test_shrinkage_schedules_kinds(kind):
    s = _find(lst.shrinkage_schedules(min_q=0.25), lambda s: isinstance(s, kind))
    assert 0.25 <= s.min_value(10) <= s.max_value(10) <= 1


def test_shrinkage_schedules_adversarial():
    problem = _find(lst.quadratic_sgd_problems(), lambda p: True)
    s = _find(lst.shrinkage_schedules(problem=problem, mu=0.01),
              lambda s: isinstance(s, AdversarialQ))
    assert len(s.values(5)) == 5


@pytest.mark.parametrize("condition", [
    lambda p: len(set(p.objective.lambdas.tolist())) == 1 and p.objective.d >= 2,
    lambda p: p.objective.L / p.objective.c >= 32,
    lambda p: np.array_equal(np.array(p.w1), p.objective.w_star) and p.M > 0,
    lambda p: p.M == 0 and p.M_q > 0,
    lambda p: p.M > 0 and p.M_q == 0 and p.sigma2[-1] > 0 and sum(p.sigma2[:-1]) == 0,
], ids=["equal_eigenvalues", "ill_conditioned", "start_at_minimiser", "only_quantisation_noise",
        "noise_on_top_eigenvalue"])
def test_quadratic_sgd_problems_reach(condition):
    assert condition(_find(lst.quadratic_sgd_problems(), condition))


# -- argument validation ------------------------------------------------------------------

@pytest.mark.parametrize(("call", "message"), [
    (lambda: lst.formats(min_man_bits=-1), "Expected min_man_bits >= 0 but got min_man_bits=-1"),
    (lambda: lst.formats(min_exp_bits=5, max_exp_bits=3),
     "Expected min_exp_bits <= max_exp_bits but got min_exp_bits=5, max_exp_bits=3"),
    (lambda: lst.formats(kinds=("ieee", "bad")), "Expected kinds to be a non-empty subset"),
    (lambda: lst.rounding_modes(deterministic="yes"), "Expected deterministic to be a bool"),
    (lambda: lst.value_arrays(B16, min_size=4, max_size=2),
     "Expected min_size <= max_size but got min_size=4, max_size=2"),
    (lambda: lst.values_for("binary17"), "Unknown format='binary17'"),
    (lambda: lst.quadratics(min_dim=0), "Expected min_dim >= 1 but got min_dim=0"),
    (lambda: lst.noise_levels(d=0), "Expected d >= 1 but got d=0"),
    (lambda: lst.stepsizes(L=0.0), "Expected L > 0 but got L=0.0"),
    (lambda: lst.stepsizes(L=1.0, M_G=0.5), "Expected M_G >= 1 but got M_G=0.5"),
    (lambda: lst.diminishing_stepsizes(L=1.0, c=1.0, q_min=1.5),
     "Expected q_min <= 1 but got q_min=1.5"),
    (lambda: lst.shrinkage_levels(min_value=0.0), "Expected min_value > 0 but got min_value=0.0"),
    (lambda: lst.shrinkage_schedules(kinds=("adversarial",)),
     "Expected problem and mu for kinds containing 'adversarial'"),
])
def test_bad_arguments(call, message):
    with pytest.raises(InvalidArgument) as info:
        call()
    assert message in str(info.value)
