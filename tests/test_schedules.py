"""Stepsize and shrinkage schedules: values, exact twins, prefixes, the adversarial pattern."""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from lpsgd import schedules
from lpsgd.objectives import DiagonalQuadratic
from lpsgd.reference import expectations as rexp

ALL = {
    "constant": schedules.constant(0.1),
    "diminishing": schedules.diminishing(2.0, 3.0),
    "constant_q": schedules.constant_q(0.5),
    "random_q": schedules.random_q(0.3, seed=1),
    "periodic_q": schedules.periodic_q([1.0, 0.25, 0.5]),
    "adversarial_q": schedules.adversarial_q(0.25, lambdas=[1.0, 0.5], s1=[1.0, 1.0], mu=0.5,
                                             sigma2=[1.0, 1.0]),
}


@pytest.mark.parametrize("name", ALL)
def test_values_are_a_prefix_and_match_exact_twin(name):
    s = ALL[name]
    v10, v25 = s.values(10), s.values(25)
    assert v25[:10] == v10 and len(v25) == 25
    with mpmath.workdps(40):
        exact = s.values_mp(25)
        # the float values are the exact ones rounded to nearest
        assert all(float(e) == v for e, v in zip(exact, v25))
        # min/max are exact (Fractions for diminishing, the given numbers otherwise)
        assert schedules.to_mpf(s.min_value(25)) == min(exact)
        assert schedules.to_mpf(s.max_value(25)) == max(exact)
    if s.kind == "shrinkage":
        assert all(0 < v <= 1 for v in v25)
    else:
        assert all(v > 0 for v in v25)


def test_diminishing_is_exact():
    s = schedules.diminishing(1, 2)
    assert s._exact(3) == [Fraction(1, 3), Fraction(1, 4), Fraction(1, 5)]
    with mpmath.workdps(60):
        assert s.values_mp(3)[0] == mpmath.mpf(1) / 3
    assert s.values(2) == (1 / 3, 1 / 4)


def test_periodic_cycles_and_constant():
    assert schedules.periodic_q([0.5, 1.0]).values(5) == (0.5, 1.0, 0.5, 1.0, 0.5)
    assert schedules.constant_q(0.75).values(3) == (0.75,) * 3
    assert schedules.constant(0.25).values_mp(2) == (mpmath.mpf(0.25),) * 2


def test_random_q_seeded_and_uniform():
    a = schedules.random_q(0.2, seed=5).values(4000)
    assert a == schedules.random_q(0.2, seed=5).values(4000)
    assert a != schedules.random_q(0.2, seed=6).values(4000)
    x = np.array(a)
    assert x.min() >= 0.2 and x.max() < 1
    # mean of Uniform[0.2, 1) is 0.6, sd 0.8/sqrt(12): within 5 standard errors
    assert abs(x.mean() - 0.6) <= 5 * 0.8 / np.sqrt(12 * len(x))


def test_adversarial_without_noise_is_q_min():
    s = schedules.adversarial_q(0.3, lambdas=[0.5, 1.0, 1.5], s1=[1.0, 2.0, 3.0], mu=0.6)
    assert set(s.values(30)) == {0.3}


def _final_gap(lam, s1, mu, qs, sigma2):
    obj = DiagonalQuadratic(lam)
    w1 = np.sqrt(s1)
    q = schedules.periodic_q(list(qs))  # one period = the whole horizon
    return rexp.quadratic_moments(obj, w1, K=len(qs) + 1, mu=mu, q=q, sigma2=sigma2).gaps[-1]


def test_adversarial_is_worst_case_in_one_dimension():
    """d = 1: the greedy endpoint schedule maximises the final exact gap over all 2^K
    endpoint schedules and over random interior ones (each step is increasing in s_k and
    convex in q_k), which is the claim of AdversarialQ's docstring."""
    lam, s1, mu, sigma2, K = [1.5], [4.0], 0.5, [2.0], 8
    adv = schedules.adversarial_q(0.2, lambdas=lam, s1=s1, mu=mu, sigma2=sigma2).values(K)
    assert len(set(adv)) == 2          # it does switch between q_min and 1 here
    best = _final_gap(lam, s1, mu, adv, sigma2)
    for qs in itertools.product([0.2, 1.0], repeat=K):
        assert _final_gap(lam, s1, mu, qs, sigma2) <= best
    rng = np.random.default_rng(0)
    for _ in range(50):
        qs = rng.uniform(0.2, 1.0, K)
        assert _final_gap(lam, s1, mu, qs, sigma2) <= best


def test_adversarial_beats_constant_schedules_in_higher_dimension():
    lam, s1, mu, sigma2 = [0.5, 1.0, 2.0], [4.0, 1.0, 0.25], 0.4, [1.0, 0.5, 0.25]
    K = 40
    adv = schedules.adversarial_q(0.25, lambdas=lam, s1=s1, mu=mu, sigma2=sigma2).values(K)
    g_adv = _final_gap(lam, s1, mu, adv, sigma2)
    for q in (0.25, 0.5, 1.0):
        assert g_adv >= _final_gap(lam, s1, mu, [q] * K, sigma2)


def test_schedules_keep_mpmath_precision():
    before = (mpmath.mp.prec, mpmath.mp.dps)
    for s in ALL.values():
        s.values_mp(5)
    schedules.adversarial_q(0.5, lambdas=[1.0], s1=[1.0], mu=0.1).values(3)
    assert (mpmath.mp.prec, mpmath.mp.dps) == before
