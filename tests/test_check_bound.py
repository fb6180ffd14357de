"""lpsgd.testing.check_bound on three bounds a researcher might write for Theorem 1.

* ``looser``: twice lpsgd's bound -- valid, so no property may break it;
* ``rate_without_q``: the formula with r = 1 - mu c (q_min dropped from the rate) -- a
  claimed speed the shrunk iterates cannot reach;
* ``floor_sign_error``: ``-F_q + r^(k-1) (gap + F_q)`` (the floor's sign flipped) -- below
  the noise floor as soon as there is noise.

Each counterexample replays: the function called again with the recorded constants gives
the recorded claim, the ground truth is above it, and for the exact recursion on quadratics
the ground truth itself is recomputed from the example's constants.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import lpsgd.schedules as schedules
import lpsgd.testing as testing
import lpsgd.theory as theory
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.objectives import DiagonalQuadratic
from lpsgd.reference.expectations import quadratic_moments


def _floats(*values):
    return [float(v) for v in values]


def _checked(L, M_V, mu):
    if mu * L * (1 + M_V) > 1:
        raise AssumptionError(f"stepsize mu={mu!r} exceeds 1/(L M_G)")


def looser(**kw):
    """Correct but loose: twice Theorem 1 (its assumption checks included)."""
    return 2 * theory.theorem1(**kw).value


def rate_without_q(*, L, c, M, M_V, M_q, mu, q_min, q_max, gap, k):
    """Theorem 1's formula with the rate r = 1 - mu c: q_min dropped from the rate."""
    L, c, M, M_V, M_q, mu, q_min, q_max, gap = _floats(L, c, M, M_V, M_q, mu, q_min, q_max,
                                                       gap)
    _checked(L, M_V, mu)
    floor = L * mu * (q_max ** 2 * M + M_q) / (2 * c * q_min)
    return floor + (1 - mu * c) ** (k - 1) * (gap - floor)


def floor_sign_error(*, L, c, M, M_V, M_q, mu, q_min, q_max, gap, k):
    """Theorem 1's formula with the sign of the floor F_q flipped."""
    L, c, M, M_V, M_q, mu, q_min, q_max, gap = _floats(L, c, M, M_V, M_q, mu, q_min, q_max,
                                                       gap)
    _checked(L, M_V, mu)
    floor = L * mu * (q_max ** 2 * M + M_q) / (2 * c * q_min)
    return -floor + (1 - mu * c * q_min) ** (k - 1) * (gap + floor)


@pytest.fixture(scope="module")
def results():
    return {fn.__name__: testing.check_bound(fn, "theorem1", seed=0)
            for fn in (looser, rate_without_q, floor_sign_error)}


def test_a_looser_correct_bound_passes(results):
    r = results["looser"]
    assert r.ok and r.violations == 0 and r.examples == []
    assert r.checked > 0
    assert 0 < r.worst_ratio <= 0.5 * (1 + 1e-12)  # twice the bound: at most half of it used
    assert "test_theorem1_exact_quadratic" in r.properties
    assert "test_theorem1_montecarlo" in r.properties


@pytest.mark.parametrize("name", ["rate_without_q", "floor_sign_error"])
def test_wrong_bounds_are_caught(results, name):
    r = results[name]
    assert not r.ok and r.violations == len(r.examples) == len(r.failures) >= 1
    assert r.worst_ratio > 1
    by_property = {f.property: f for f in r.failures}
    assert "test_theorem1_exact_quadratic" in by_property
    # the message is the comparison helper's, for the shrunk example
    msg = by_property["test_theorem1_exact_quadratic"].message
    assert msg.startswith("test_theorem1_exact_quadratic: observed <= bound (upper, rtol=")
    assert "\nMismatched: " in msg and "\n ACTUAL: " in msg and "\n DESIRED: <= " in msg


@pytest.mark.parametrize("name", ["rate_without_q", "floor_sign_error"])
def test_counterexamples_replay(results, name):
    fn = {"rate_without_q": rate_without_q, "floor_sign_error": floor_sign_error}[name]
    r = results[name]
    for example, failure in zip(r.examples, r.failures):
        constants, observed, claimed = example
        again = fn(**constants)
        assert again == claimed, (failure.property, again, claimed)
        assert observed > again, (failure.property, observed, again)
        if failure.property != "test_theorem1_exact_quadratic":
            continue
        # the ground truth again, from the example's own constants
        ctx = failure.context
        obj = DiagonalQuadratic(np.array(ctx["lambdas"]), w_star=np.array(ctx["w_star"]))
        sched = eval(ctx["schedule"], vars(schedules))  # e.g. "constant_q(0.125)"
        mom = quadratic_moments(obj, ctx["w1"], K=ctx["K"], mu=ctx["mu"], q=sched,
                                sigma2=ctx["sigma2"], tau2=ctx["tau2"])
        truth = mom.gaps[constants["k"] - 1]
        with mpmath.workdps(30):
            assert mpmath.almosteq(truth, mpmath.mpf(observed), rel_eps=1e-15)
        assert truth > again


def test_the_sign_error_is_caught_at_the_noise_floor(results):
    """The flipped floor only differs from Theorem 1 where there is noise (F_q > 0): every
    counterexample has some."""
    for example in results["floor_sign_error"].examples:
        assert example.constants["M"] + example.constants["M_q"] > 0, example


def _half_schedule_bound(**kw):
    """Half the schedule-aware Theorem 1: wrong wherever the bound is attained."""
    return theory.theorem1_schedule(**kw).value / 2


def _schedule_bound(**kw):
    return theory.theorem1_schedule(**kw).value


# The tests below check the mechanics on the schedule-aware Theorem 1, whose only property
# is an exact recursion (cheap).

def test_assert_bound_raises_with_every_counterexample():
    with pytest.raises(AssertionError, match=r"(?s)check_bound\(like='theorem1_schedule'\): "
                                             r"1 of 1 properties violated.*Mismatched"):
        testing.assert_bound(_half_schedule_bound, "theorem1_schedule", examples=10)
    assert testing.assert_bound(_schedule_bound, "theorem1_schedule", examples=5).ok


def test_same_seed_same_result():
    a = testing.check_bound(_half_schedule_bound, "theorem1_schedule", examples=5, seed=3)
    b = testing.check_bound(_half_schedule_bound, "theorem1_schedule", examples=5, seed=3)
    assert a.violations == 1
    assert a.examples == b.examples and a.checked == b.checked


def test_the_callers_hypothesis_profile_is_restored():
    from hypothesis import settings

    before = settings.get_current_profile_name()
    testing.check_bound(_schedule_bound, "theorem1_schedule", examples=2)
    assert settings.get_current_profile_name() == before


@pytest.mark.parametrize("kwargs, match", [
    (dict(fn=looser, like="theorem0"), r"Expected like to be one of \[.*'theorem1'.*\] but "
                                       r"got like='theorem0'"),
    (dict(fn=looser, like=1), r"but got like=1"),
    (dict(fn=None, like="theorem1"), r"Expected a callable fn but got fn=None"),
    (dict(fn=looser, like="theorem1", examples=0), r"examples"),
    (dict(fn=looser, like="theorem1", seed=-1), r"seed"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        testing.check_bound(**kwargs)


def test_a_number_or_a_bound_may_be_returned():
    """The properties compare a Bound's value or the number itself: the same result."""
    as_number = testing.check_bound(_schedule_bound, "theorem1_schedule", examples=5)
    as_bound = testing.check_bound(theory.theorem1_schedule, "theorem1_schedule", examples=5)
    assert as_number.ok and as_bound.ok
    assert as_number.checked == as_bound.checked
    assert math.isclose(as_number.worst_ratio, as_bound.worst_ratio)
