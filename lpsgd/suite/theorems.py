"""The properties of Theorems 1-4, of the slowdown statements and of the reduction to the
classical theorems, as functions of the implementations they check.

Each factory takes, as keyword arguments, the implementations its property uses (the bound
functions of :mod:`lpsgd.theory`, the exact recursion
:func:`lpsgd.reference.expectations.quadratic_moments`, the exact engine's ``shrink``),
defaulting to lpsgd's own, and returns the Hypothesis test.  The pytest files under
``properties/`` call them with the defaults; a mutant is another implementation passed in;
:func:`lpsgd.testing.check_bound` passes a user's bound.  A bound function may return a
:class:`lpsgd.theory.Bound` or a plain number.

Ground truths:

* exact expectations on quadratics: the second-moment recursion of SGD with shrinkage
  (:func:`lpsgd.reference.expectations.quadratic_moments`), evaluated in mpmath at 50
  digits: there is no sampling error, so a bound below an expectation is a
  counterexample; the only tolerance is :data:`lpsgd.suite.compare.MP_RTOL`;
* Monte Carlo on objectives without exact expectations (logistic regression and least
  squares with minibatch or additive noise for Theorems 1 and 2, the nonconvex Cauchy loss
  for Theorems 3 and 4): :data:`RUNS` trajectories of the batched engine, compared by
  ``mean - Z se - slack <= bound (1 + MC_RTOL)``;
* the classical theorems (Bottou, Curtis, Nocedal 2018, Theorems 4.6-4.10 with their
  mu = mu_G = 1), evaluated here in rational arithmetic, at q = 1 and M_q = 0.

Every comparison goes through :mod:`lpsgd.suite.compare`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

import lpsgd.fast.sgd as fast_sgd
import lpsgd.record as record
import lpsgd.reference.expectations as expectations
import lpsgd.reference.sgd as rsgd
import lpsgd.schedules as schedules
import lpsgd.strategies as lst
import lpsgd.theory as theory
from lpsgd.errors import AssumptionError
from lpsgd.formats import Format
from lpsgd.objectives import (AdditiveNoise, CauchyLoss, DiagonalQuadratic, LeastSquares,
                              LogisticRegression, Minibatch)
from lpsgd.suite import compare

__all__ = [
    # exact expectations on quadratics
    "theorem1_exact_quadratic", "theorem2_exact_quadratic", "theorem3_exact_quadratic",
    "theorem4_exact_quadratic", "theorem1_any_stepsize", "theorem2_any_stepsize",
    "theorem3_any_stepsize", "theorem4_any_stepsize", "theorem1_schedule_exact_quadratic",
    "theorem3_schedule_exact_quadratic", "theorem1_exact_dense_quadratic",
    # Monte Carlo
    "theorem1_montecarlo", "theorem2_montecarlo", "theorem3_montecarlo",
    "theorem4_montecarlo",
    # slowdown, floors, reduction to the classical theorems
    "effective_stepsize_equivalence", "gap_monotone_in_q", "iterations_to_eps_slowdown",
    "floor_grows_as_precision_falls", "reduction_to_classical",
    "GROUND_TRUTH", "RUNS", "MAX_K",
]

#: Largest number of iterates per example of the exact properties.
MAX_K = 40
#: Independent trajectories per Monte Carlo example.
RUNS = 1000


def _value(bound: Any) -> Any:
    """The value of a bound: a Bound's ``value``, or the number returned."""
    return getattr(bound, "value", bound)


def _float(bound: Any) -> float:
    return float(_value(bound))


def _mp(x: Any) -> mpmath.mpf:
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


def _q(x: Any) -> Fraction:
    """An exact Fraction of a real (float, int, Fraction, mpf)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, mpmath.mpf):
        man, exp = x.man_exp
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(float(x))


def _named(name: str, prop: Callable[..., Any]) -> Callable[..., Any]:
    """Give the returned test the pytest name it is collected under (for messages)."""
    prop.__name__ = prop.__qualname__ = name
    return prop


# =============================================================================================
# Exact expectations on quadratics (Theorems 1-4)
# =============================================================================================

def _q_extremes(sched, steps: int) -> tuple[float, float]:
    """q_min, q_max over the steps k = 1..steps that the compared iterates depend on."""
    steps = max(steps, 1)
    return sched.min_value(steps), sched.max_value(steps)


def _context(problem, **extra) -> dict:
    ctx = problem.replay()
    ctx.update({k: (repr(v) if not isinstance(v, int | float | str | list | tuple) else v)
                for k, v in extra.items()})
    return ctx


def _noisy(problem) -> bool:
    """Noise present (the statements' M and M_q terms matter)."""
    return bool(problem.M > 0 or problem.M_q > 0)


#: Run under every profile and seed by the fixed-stepsize properties: no noise, a strong
#: constant shrinkage q = 1/8 at mu = 1/L, so the rate is decided by mu c q_min alone
#: (where a bound that forgets q_min claims a rate the iterates cannot reach).
_SHRINKING_EXAMPLE = (lst.QuadraticSGD(DiagonalQuadratic(np.array([1.0])), w1=(1.0,),
                                       sigma2=(0.0,), tau2=(0.0,)),
                      1.0, schedules.constant_q(0.125), 3)


@st.composite
def _fixed_step_case(draw, *, adversarial: bool = True):
    problem = draw(lst.quadratic_sgd_problems())
    L = problem.objective.L
    mu = draw(lst.stepsizes(L=L))
    kinds = None if adversarial else ("constant", "random", "periodic")
    sched = draw(lst.shrinkage_schedules(problem=problem, mu=mu, kinds=kinds))
    K = draw(st.one_of(st.integers(2, 8), st.integers(2, MAX_K)))  # k = 1 is checked too
    return problem, mu, sched, K


def theorem1_exact_quadratic(*, theorem1=theory.theorem1,
                             quadratic_moments=expectations.quadratic_moments):
    """Theorem 1 against the exact expectations on diagonal quadratics."""

    @given(_fixed_step_case())
    @example(case=_SHRINKING_EXAMPLE)
    def prop(case):
        """Theorem 1: E[F(w_k) - F*] <= F_q + r^(k-1) (gap - F_q), fixed stepsize."""
        problem, mu, sched, K = case
        obj = problem.objective
        mom = quadratic_moments(obj, problem.w1, K=K, mu=mu, q=sched,
                                sigma2=problem.sigma2, tau2=problem.tau2)
        q_min, q_max = _q_extremes(sched, K - 1)
        gap = mom.gaps[0]
        consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, mu=mu,
                      q_min=q_min, q_max=q_max, gap=gap)
        note(f"schedule={sched!r} q={sched.values(max(K - 1, 1))} K={K}")
        pairs = [(k, mom.gaps[k - 1], theorem1(**consts, k=k), {**consts, "k": k})
                 for k in range(1, K + 1)]
        compare.assert_upper("test_theorem1_exact_quadratic", pairs, identity_at_1=True,
                             nontrivial=_noisy(problem),
                             context=_context(problem, mu=mu, schedule=sched, K=K,
                                              q_min=q_min, q_max=q_max))

    return _named("test_theorem1_exact_quadratic", prop)


@st.composite
def _diminishing_case(draw):
    # A quarter of the draws start at the minimiser (noise only), where nu is the noise
    # term alone and every part of B (M_q included) decides the bound.
    noise_only = draw(st.integers(0, 3)) == 0
    problem = draw(lst.quadratic_sgd_problems(regimes=("noise_only",) if noise_only
                                              else None))
    obj = problem.objective
    K = draw(st.one_of(st.integers(2, 8), st.integers(2, MAX_K)))  # k = 1 is checked too
    sched = draw(lst.shrinkage_schedules(kinds=("constant", "random", "periodic")))
    q_min, q_max = _q_extremes(sched, K - 1)
    beta, gamma = draw(lst.diminishing_stepsizes(L=obj.L, c=obj.c, q_min=q_min))
    return problem, beta, gamma, sched, K, q_min, q_max


def theorem2_exact_quadratic(*, theorem2=theory.theorem2,
                             quadratic_moments=expectations.quadratic_moments):
    """Theorem 2 against the exact expectations on diagonal quadratics."""

    @given(_diminishing_case())
    def prop(case):
        """Theorem 2: E[F(w_k) - F*] <= nu / (gamma + k), mu_k = beta / (gamma + k)."""
        problem, beta, gamma, sched, K, q_min, q_max = case
        obj = problem.objective
        mom = quadratic_moments(obj, problem.w1, K=K, mu=schedules.diminishing(beta, gamma),
                                q=sched, sigma2=problem.sigma2, tau2=problem.tau2)
        gap = mom.gaps[0]
        consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, beta=beta,
                      gamma=gamma, q_min=q_min, q_max=q_max, gap=gap)
        note(f"schedule={sched!r} q={sched.values(max(K - 1, 1))} K={K}")
        pairs = [(k, mom.gaps[k - 1], theorem2(**consts, k=k), {**consts, "k": k})
                 for k in range(1, K + 1)]
        compare.assert_upper("test_theorem2_exact_quadratic", pairs, identity_at_1=True,
                             nontrivial=_noisy(problem),
                             context=_context(problem, beta=beta, gamma=gamma,
                                              schedule=sched, K=K, q_min=q_min,
                                              q_max=q_max))

    return _named("test_theorem2_exact_quadratic", prop)


def theorem3_exact_quadratic(*, theorem3=theory.theorem3,
                             quadratic_moments=expectations.quadratic_moments):
    """Theorem 3 against the exact expectations on diagonal quadratics."""

    @given(_fixed_step_case())
    @example(case=_SHRINKING_EXAMPLE)
    def prop(case):
        """Theorem 3: (1/K) sum_k E||grad F(w_k)||^2 <= L mu B / q_min + 2 gap / (K mu q_min)."""
        problem, mu, sched, K = case
        obj = problem.objective
        mom = quadratic_moments(obj, problem.w1, K=K, mu=mu, q=sched,
                                sigma2=problem.sigma2, tau2=problem.tau2)
        # The proof telescopes up to F(w_{K+1}): q_1..q_K enter.
        q_min, q_max = _q_extremes(sched, K)
        gap = mom.gaps[0]
        consts = dict(L=obj.L, M=problem.M, M_V=0, M_q=problem.M_q, mu=mu, q_min=q_min,
                      q_max=q_max, gap=gap)
        note(f"schedule={sched!r} q={sched.values(K)} K={K}")
        pairs = []
        with mpmath.workdps(60):
            total = mpmath.mpf(0)
            for k in range(1, K + 1):
                total += mom.grad_norms2[k - 1]
                pairs.append((k, total / k, theorem3(**consts, K=k), {**consts, "K": k}))
        compare.assert_upper("test_theorem3_exact_quadratic", pairs,
                             nontrivial=_noisy(problem),
                             context=_context(problem, mu=mu, schedule=sched, K=K,
                                              q_min=q_min, q_max=q_max))

    return _named("test_theorem3_exact_quadratic", prop)


@st.composite
def _stepsize_sequence_case(draw):
    # A quarter of the draws are the regime where these sums are tightest: equal
    # eigenvalues, mu = 1/L, a constant q and many steps (so that sum_k eta_k c is large
    # and the iterates reach their floor).  Noise-free, the Theorem 4 ratio is then
    # 1/(2 - q): q in [1/8, 1/2] is where shrinkage costs most, q near 1 where the
    # bound is nearly attained; both are drawn.
    if draw(st.integers(0, 3)) == 0:
        problem = draw(lst.quadratic_sgd_problems(max_condition=1.0))
        stepsize = schedules.constant(lst.admissible_stepsize(problem.objective.L))
        q_hi = draw(st.sampled_from((0.5, 1.0)))
        sched = schedules.constant_q(draw(lst.shrinkage_levels(min_value=2.0 ** -3,
                                                               max_value=q_hi)))
        return problem, stepsize, sched, draw(st.integers(16, MAX_K))
    problem = draw(lst.quadratic_sgd_problems())
    L = problem.objective.L
    K = draw(st.one_of(st.integers(2, 8), st.integers(2, MAX_K)))  # k = 1 is checked too
    if draw(st.booleans()):
        mu = draw(lst.stepsizes(L=L))
        stepsize = schedules.constant(mu)
    else:
        gamma = draw(st.one_of(st.just(2.0 ** -4), st.floats(2.0 ** -4, 64.0)))
        beta = draw(st.sampled_from([1.0, 0.5, 0.25])) * (gamma + 1) / L
        # Exactly admissible: mu_1 = beta / (gamma + 1) <= 1 / L.
        while Fraction(beta) / (Fraction(gamma) + 1) > 1 / Fraction(L):
            beta = float(Fraction(beta) * (1 - Fraction(1, 2 ** 50)))
        stepsize = schedules.diminishing(beta, gamma)
    sched = draw(lst.shrinkage_schedules(problem=problem, mu=stepsize))
    return problem, stepsize, sched, K


def _exact_mus(stepsize, K: int) -> list[Fraction]:
    if isinstance(stepsize, schedules.Diminishing):
        b, g = Fraction(stepsize.beta), Fraction(stepsize.gamma)
        return [b / (g + k) for k in range(1, K + 1)]
    return [Fraction(v) for v in stepsize.values(K)]


def theorem4_exact_quadratic(*, theorem4=theory.theorem4,
                             quadratic_moments=expectations.quadratic_moments):
    """Theorem 4 against the exact expectations on diagonal quadratics."""

    @given(_stepsize_sequence_case())
    def prop(case):
        """Theorem 4: sum_k mu_k E||grad F(w_k)||^2 <= (2/q_min) gap + (L B/q_min) sum mu_k^2."""
        problem, stepsize, sched, K = case
        obj = problem.objective
        mom = quadratic_moments(obj, problem.w1, K=K, mu=stepsize, q=sched,
                                sigma2=problem.sigma2, tau2=problem.tau2)
        q_min, q_max = _q_extremes(sched, K)
        mus = _exact_mus(stepsize, K)
        gap = mom.gaps[0]
        note(f"stepsize={stepsize!r} schedule={sched!r} q={sched.values(K)} K={K}")
        pairs = []
        with mpmath.workdps(60):
            total = mpmath.mpf(0)
            for k in range(1, K + 1):
                total += _mp(mus[k - 1]) * mom.grad_norms2[k - 1]
                args = dict(L=obj.L, M=problem.M, M_V=0, M_q=problem.M_q, mus=mus[:k],
                            q_min=q_min, q_max=q_max, gap=gap)
                pairs.append((k, total, theorem4(**args), args))
        compare.assert_upper("test_theorem4_exact_quadratic", pairs,
                             nontrivial=_noisy(problem),
                             context=_context(problem, stepsize=stepsize, schedule=sched,
                                              K=K, q_min=q_min, q_max=q_max))

    return _named("test_theorem4_exact_quadratic", prop)


@st.composite
def _any_stepsize_case(draw):
    problem = draw(lst.quadratic_sgd_problems(max_dim=3))
    L = problem.objective.L
    q = draw(lst.shrinkage_levels(min_value=2.0 ** -3))
    # mu from a sixteenth of 2/(q L) to twice it: admissible, stable but inadmissible,
    # and divergent stepsizes.
    frac = draw(st.one_of(st.sampled_from([0.5, 1.0, 1.5, 2.0]), st.floats(2.0 ** -4, 2.0)))
    mu = float(Fraction(frac) * 2 / (Fraction(q) * Fraction(L)))
    K = draw(st.integers(2, 24))
    return problem, mu, q, K


def _refused(name: str, exc: AssumptionError, mu_1, L, **context) -> None:
    """An AssumptionError is only allowed for an inadmissible (first) stepsize."""
    note(f"refused: {exc}")
    assert Fraction(mu_1) * Fraction(L) > 1, (
        f"{name}: refused an admissible case (mu_1 L <= 1): {exc}; constants {context}")
    record.observe(name, 0.0, 1.0, refused=True, **context)


def theorem1_any_stepsize(*, theorem1=theory.theorem1,
                          quadratic_moments=expectations.quadratic_moments):
    """Theorem 1 at any stepsize: a refusal or a bound that holds."""

    @given(_any_stepsize_case())
    def prop(case):
        """Theorem 1 for any stepsize: either it refuses (AssumptionError) or its bound holds.

        Stepsizes above 1/(L M_G) break admissibility; above 2/(q L) SGD diverges, so a
        theorem that forgot its stepsize check is refuted here.
        """
        problem, mu, q, K = case
        obj = problem.objective
        consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, mu=mu, q_min=q,
                      q_max=q)
        try:
            theorem1(**consts, gap=float(obj.value(np.array(problem.w1))) - obj.f_star, k=1)
        except AssumptionError as exc:
            _refused("test_theorem1_any_stepsize", exc, mu, obj.L, mu=mu, q=q)
            return
        mom = quadratic_moments(obj, problem.w1, K=K, mu=mu, q=q, sigma2=problem.sigma2,
                                tau2=problem.tau2)
        gap = mom.gaps[0]
        pairs = [(k, mom.gaps[k - 1], theorem1(**consts, gap=gap, k=k),
                  {**consts, "gap": gap, "k": k}) for k in range(1, K + 1)]
        compare.assert_upper("test_theorem1_any_stepsize", pairs, identity_at_1=True,
                             nontrivial=_noisy(problem),
                             context=_context(problem, mu=mu, q=q, K=K))

    return _named("test_theorem1_any_stepsize", prop)


def theorem1_schedule_exact_quadratic(*, theorem1_schedule=theory.theorem1_schedule,
                                      quadratic_moments=expectations.quadratic_moments):
    """The schedule-aware Theorem 1 against the exact expectations."""

    @given(_stepsize_sequence_case())
    def prop(case):
        """Schedule-aware Theorem 1: E[F(w_{n+1}) - F*] <= a_{n+1} with the actual (mu_k, q_k)."""
        problem, stepsize, sched, K = case
        obj = problem.objective
        mom = quadratic_moments(obj, problem.w1, K=K, mu=stepsize, q=sched,
                                sigma2=problem.sigma2, tau2=problem.tau2)
        mus = _exact_mus(stepsize, K)
        qs = [Fraction(v) for v in sched.values(K)]
        gap = mom.gaps[0]
        note(f"stepsize={stepsize!r} schedule={sched!r} q={sched.values(K)} K={K}")
        pairs = [(1, gap, gap)]
        for n in range(1, K):
            args = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, mus=mus[:n],
                        qs=qs[:n], gap=gap)
            pairs.append((n + 1, mom.gaps[n], theorem1_schedule(**args), args))
        compare.assert_upper("test_theorem1_schedule_exact_quadratic", pairs,
                             identity_at_1=True, nontrivial=_noisy(problem),
                             context=_context(problem, stepsize=stepsize, schedule=sched,
                                              K=K))

    return _named("test_theorem1_schedule_exact_quadratic", prop)


def theorem3_schedule_exact_quadratic(*, theorem3_schedule=theory.theorem3_schedule,
                                      quadratic_moments=expectations.quadratic_moments):
    """The schedule-aware Theorem 3 against the exact expectations."""

    @given(_stepsize_sequence_case())
    def prop(case):
        """Schedule-aware Theorem 3: sum_k eta_k E||grad F(w_k)||^2 <= 2 gap
        + L sum_k mu_k^2 (q_k^2 M + M_q), eta_k = mu_k q_k."""
        problem, stepsize, sched, K = case
        obj = problem.objective
        mom = quadratic_moments(obj, problem.w1, K=K, mu=stepsize, q=sched,
                                sigma2=problem.sigma2, tau2=problem.tau2)
        mus = _exact_mus(stepsize, K)
        qs = [Fraction(v) for v in sched.values(K)]
        gap = mom.gaps[0]
        note(f"stepsize={stepsize!r} schedule={sched!r} q={sched.values(K)} K={K}")
        pairs = []
        with mpmath.workdps(60):
            total = mpmath.mpf(0)
            for k in range(1, K + 1):
                total += _mp(mus[k - 1] * qs[k - 1]) * mom.grad_norms2[k - 1]
                args = dict(L=obj.L, M=problem.M, M_q=problem.M_q, mus=mus[:k], qs=qs[:k],
                            gap=gap)
                pairs.append((k, total, theorem3_schedule(**args), args))
        compare.assert_upper("test_theorem3_schedule_exact_quadratic", pairs,
                             nontrivial=_noisy(problem),
                             context=_context(problem, stepsize=stepsize, schedule=sched,
                                              K=K))

    return _named("test_theorem3_schedule_exact_quadratic", prop)


@st.composite
def _dense_case(draw):
    obj = draw(lst.dense_quadratics())
    d = obj.d
    start_at_minimiser = draw(st.booleans())
    offsets = [0.0] * d if start_at_minimiser else [draw(st.floats(-8.0, 8.0))
                                                    for _ in range(d)]
    w1 = [float(a + b) for a, b in zip(obj.w_star, offsets)]
    sigma2 = draw(lst.noise_levels(d=d))
    tau2 = draw(lst.noise_levels(d=d))
    mu = draw(lst.stepsizes(L=obj.L))
    sched = draw(lst.shrinkage_schedules(kinds=("constant", "random", "periodic")))
    K = draw(st.one_of(st.integers(2, 8), st.integers(2, MAX_K)))  # k = 1 is checked too
    return obj, w1, sigma2, tau2, mu, sched, K


def theorem1_exact_dense_quadratic(*, theorem1=theory.theorem1,
                                   quadratic_moments=expectations.quadratic_moments):
    """Theorem 1 against the exact expectations on dense quadratics."""

    @given(_dense_case())
    def prop(case):
        """Theorem 1 on dense quadratics (rotated spectra): the full matrix recursion
        S_{k+1} = P S_k P^T + mu^2 (q^2 Sigma_xi + Sigma_e) of the exact expectations."""
        obj, w1, sigma2, tau2, mu, sched, K = case
        mom = quadratic_moments(obj, w1, K=K, mu=mu, q=sched, sigma2=sigma2, tau2=tau2)
        q_min, q_max = _q_extremes(sched, K - 1)
        M = sum((Fraction(v) for v in sigma2), Fraction(0))  # exact: a float sum may round down
        M_q = sum((Fraction(v) for v in tau2), Fraction(0))
        gap = mom.gaps[0]
        note(f"A={obj.A.tolist()} w*={obj.w_star.tolist()} L={obj.L!r} c={obj.c!r} w1={w1} "
             f"sigma2={sigma2} tau2={tau2} mu={mu!r} schedule={sched!r} K={K}")
        consts = dict(L=obj.L, c=obj.c, M=M, M_V=0, M_q=M_q, mu=mu, q_min=q_min, q_max=q_max,
                      gap=gap)
        pairs = [(k, mom.gaps[k - 1], theorem1(**consts, k=k), {**consts, "k": k})
                 for k in range(1, K + 1)]
        compare.assert_upper("test_theorem1_exact_dense_quadratic", pairs,
                             identity_at_1=True, nontrivial=bool(M > 0 or M_q > 0),
                             context=dict(A=obj.A.tolist(), w_star=obj.w_star.tolist(),
                                          L=obj.L, c=obj.c, w1=w1, sigma2=list(sigma2),
                                          tau2=list(tau2), mu=mu, schedule=repr(sched), K=K,
                                          q_min=q_min, q_max=q_max))

    return _named("test_theorem1_exact_dense_quadratic", prop)


def theorem3_any_stepsize(*, theorem3=theory.theorem3,
                          quadratic_moments=expectations.quadratic_moments):
    """Theorem 3 at any stepsize: a refusal or a bound that holds."""

    @given(_any_stepsize_case())
    def prop(case):
        """Theorem 3 for any fixed stepsize: a refusal (AssumptionError) or a bound that holds
        (above 2/(q L) the gradients grow, so a Theorem 3 without its stepsize check fails)."""
        problem, mu, q, K = case
        obj = problem.objective
        consts = dict(L=obj.L, M=problem.M, M_V=0, M_q=problem.M_q, mu=mu, q_min=q, q_max=q)
        gap0 = float(obj.value(np.array(problem.w1))) - obj.f_star
        try:
            theorem3(**consts, gap=max(gap0, 0.0), K=1)
        except AssumptionError as exc:
            _refused("test_theorem3_any_stepsize", exc, mu, obj.L, mu=mu, q=q)
            return
        mom = quadratic_moments(obj, problem.w1, K=K, mu=mu, q=q, sigma2=problem.sigma2,
                                tau2=problem.tau2)
        gap = mom.gaps[0]
        pairs = []
        with mpmath.workdps(60):
            total = mpmath.mpf(0)
            for k in range(1, K + 1):
                total += mom.grad_norms2[k - 1]
                args = {**consts, "gap": gap, "K": k}
                pairs.append((k, total / k, theorem3(**args), args))
        compare.assert_upper("test_theorem3_any_stepsize", pairs,
                             nontrivial=_noisy(problem),
                             context=_context(problem, mu=mu, q=q, K=K))

    return _named("test_theorem3_any_stepsize", prop)


def theorem4_any_stepsize(*, theorem4=theory.theorem4,
                          quadratic_moments=expectations.quadratic_moments):
    """Theorem 4 at any constant stepsize: a refusal or a bound that holds."""

    @given(_any_stepsize_case())
    def prop(case):
        """Theorem 4 for any constant stepsize sequence: a refusal or a bound that holds."""
        problem, mu, q, K = case
        obj = problem.objective
        consts = dict(L=obj.L, M=problem.M, M_V=0, M_q=problem.M_q, q_min=q, q_max=q)
        gap0 = float(obj.value(np.array(problem.w1))) - obj.f_star
        try:
            theorem4(**consts, mus=[mu], gap=max(gap0, 0.0))
        except AssumptionError as exc:
            _refused("test_theorem4_any_stepsize", exc, mu, obj.L, mu=mu, q=q)
            return
        mom = quadratic_moments(obj, problem.w1, K=K, mu=mu, q=q, sigma2=problem.sigma2,
                                tau2=problem.tau2)
        gap = mom.gaps[0]
        pairs = []
        with mpmath.workdps(60):
            total = mpmath.mpf(0)
            for k in range(1, K + 1):
                total += _mp(mu) * mom.grad_norms2[k - 1]
                args = {**consts, "mus": [mu] * k, "gap": gap}
                pairs.append((k, total, theorem4(**args), args))
        compare.assert_upper("test_theorem4_any_stepsize", pairs,
                             nontrivial=_noisy(problem),
                             context=_context(problem, mu=mu, q=q, K=K))

    return _named("test_theorem4_any_stepsize", prop)


@st.composite
def _any_diminishing_case(draw):
    problem, mu_1, q, K = draw(_any_stepsize_case())
    obj = problem.objective
    # gamma + 1 above 1/(mu_1 c q), so beta = mu_1 (gamma + 1) > 1/(c q) (Theorem 2's
    # condition on beta holds and only mu_1's admissibility varies); a gamma near its
    # lower limit keeps mu_k above 2/(q L) for about gamma steps when mu_1 is.
    need = 1 / (Fraction(mu_1) * Fraction(obj.c) * Fraction(q)) - 1
    excess = draw(st.one_of(st.just(2.0 ** -4), st.floats(2.0 ** -4, 4.0)))
    gamma = float(max(need, Fraction(0)) * (1 + Fraction(excess)) + Fraction(excess))
    beta = float(Fraction(mu_1) * (Fraction(gamma) + 1))
    while Fraction(beta) * Fraction(obj.c) * Fraction(q) <= 1:
        beta = math.nextafter(beta, math.inf)
    return problem, beta, gamma, q, K


def theorem2_any_stepsize(*, theorem2=theory.theorem2,
                          quadratic_moments=expectations.quadratic_moments):
    """Theorem 2 at any first stepsize: a refusal or a bound that holds."""

    @given(_any_diminishing_case())
    def prop(case):
        """Theorem 2 for any mu_1 = beta/(gamma + 1): a refusal or a bound that holds."""
        problem, beta, gamma, q, K = case
        obj = problem.objective
        consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, beta=beta,
                      gamma=gamma, q_min=q, q_max=q)
        gap0 = float(obj.value(np.array(problem.w1))) - obj.f_star
        mu_1 = Fraction(beta) / (Fraction(gamma) + 1)
        try:
            theorem2(**consts, gap=max(gap0, 0.0), k=1)
        except AssumptionError as exc:
            _refused("test_theorem2_any_stepsize", exc, mu_1, obj.L, beta=beta, gamma=gamma,
                     q=q)
            return
        mom = quadratic_moments(obj, problem.w1, K=K, mu=schedules.diminishing(beta, gamma),
                                q=q, sigma2=problem.sigma2, tau2=problem.tau2)
        gap = mom.gaps[0]
        pairs = [(k, mom.gaps[k - 1], theorem2(**consts, gap=gap, k=k),
                  {**consts, "gap": gap, "k": k}) for k in range(1, K + 1)]
        compare.assert_upper("test_theorem2_any_stepsize", pairs, identity_at_1=True,
                             nontrivial=_noisy(problem),
                             context=_context(problem, beta=beta, gamma=gamma, q=q, K=K))

    return _named("test_theorem2_any_stepsize", prop)


# =============================================================================================
# Monte Carlo (Theorems 1-4 on objectives without exact expectations)
# =============================================================================================

def _mc_examples() -> int:
    """Examples of a Monte Carlo property: half the active profile's, at least 15 (read
    when the factory is called, after the profile is loaded)."""
    return lst.scaled_examples(0.5, minimum=15)


@functools.lru_cache(maxsize=64)
def _finite_sum(kind: str, n: int, d: int, seed: int, reg: float):
    if kind == "logistic":
        return LogisticRegression.synthetic(n, d, reg=reg, seed=seed)
    return LeastSquares.synthetic(n, d, seed=seed)


def _f_star_slack(obj) -> float:
    """An upper bound on |f_star (float) - F*| from the objective's certificate."""
    exact = getattr(obj, "f_star_mp", None)
    err = float(getattr(obj, "f_star_error", 0.0) or 0.0)
    if exact is None:
        return 0.0
    exact = exact() if callable(exact) else exact
    return abs(float(obj.f_star) - float(exact)) + err + 1e-15 * abs(float(obj.f_star))


@st.composite
def _convex_case(draw):
    kind = draw(st.sampled_from(("logistic", "least_squares")))
    spec = (kind, draw(st.sampled_from((10, 40))), draw(st.integers(1, 3)),
            draw(st.integers(0, 3)), draw(st.sampled_from((0.05, 0.25))))
    # (kind, n, d, seed, reg): the synthetic data set, rebuilt from its seed.
    obj = _finite_sum(*spec)
    d = obj.d
    if draw(st.booleans()):
        batch = draw(st.sampled_from((1, 2, 8)))
        oracle, oracle_spec = Minibatch(obj, batch), f"Minibatch(batch={batch})"
    else:
        sigma2 = draw(st.sampled_from((0.0, 0.01, 0.25)))
        oracle, oracle_spec = (AdditiveNoise(obj, sigma2=sigma2),
                               f"AdditiveNoise(sigma2={sigma2})")
    replay = {"objective": dict(zip(("kind", "n", "d", "seed", "reg"), spec)),
              "oracle": oracle_spec}
    tau2 = draw(st.sampled_from((0.0, 1e-3, 0.05)))
    q = draw(lst.shrinkage_schedules(min_q=2.0 ** -3, kinds=("constant", "random",
                                                             "periodic")))
    w1 = np.array([draw(st.floats(-2.0, 2.0)) for _ in range(d)])
    K = draw(st.integers(2, 25))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return obj, oracle, tau2, q, w1, K, seed, replay


def _consts(obj, oracle):
    return float(oracle.M), float(oracle.M_V), 1 + Fraction(float(oracle.M_V))


def theorem1_montecarlo(*, theorem1=theory.theorem1):
    """Theorem 1 against Monte Carlo SGD on logistic regression / least squares."""

    @settings(max_examples=_mc_examples())
    @given(_convex_case(), st.floats(2.0 ** -4, 1.0))
    def prop(case, frac):
        """Theorem 1 on logistic regression / least squares with minibatch or additive noise."""
        obj, oracle, tau2, q, w1, K, seed, replay = case
        M, M_V, M_G = _consts(obj, oracle)
        mu = lst.admissible_stepsize(obj.L, float(M_G), frac)
        res = fast_sgd.run(obj, w1, K=K, mu=mu, oracle=oracle, runs=RUNS, seed=seed,
                           gradient=fast_sgd.chain(fast_sgd.shrink(q), fast_sgd.add_noise(tau2)))
        steps = max(K - 1, 1)
        q_min, q_max = q.min_value(steps), q.max_value(steps)
        slack = _f_star_slack(obj)
        gap = float(obj.value(w1) - obj.f_star) + slack
        M_q = obj.d * tau2
        args = [dict(L=obj.L, c=obj.c, M=M, M_V=M_V, M_q=M_q, mu=mu, q_min=q_min,
                     q_max=q_max, gap=gap, k=k) for k in range(1, K + 1)]
        bounds = [_float(theorem1(**a)) for a in args]
        ctx = dict(**replay, M=M, M_V=M_V, tau2=tau2, schedule=repr(q), w1=w1.tolist(),
                   mu=mu, K=K, seed=seed, runs=RUNS)
        note(f"{ctx}")
        compare.assert_mc_upper("test_theorem1_montecarlo", res.gap_mean, res.gap_se,
                                bounds, slack=slack, context=ctx, args=args,
                                nontrivial=bool(M > 0 or M_V > 0 or tau2 > 0))

    return _named("test_theorem1_montecarlo", prop)


def theorem2_montecarlo(*, theorem2=theory.theorem2):
    """Theorem 2 against Monte Carlo SGD on logistic regression / least squares."""

    @settings(max_examples=_mc_examples())
    @given(_convex_case(), st.floats(2.0 ** -4, 1.0))
    def prop(case, excess):
        """Theorem 2 (mu_k = beta/(gamma + k)) on logistic regression / least squares."""
        obj, oracle, tau2, q, w1, K, seed, replay = case
        M, M_V, M_G = _consts(obj, oracle)
        steps = max(K - 1, 1)
        q_min, q_max = q.min_value(steps), q.max_value(steps)
        beta = float(Fraction(1) / (Fraction(obj.c) * Fraction(float(q_min)))
                     * (1 + Fraction(excess)))
        gamma = float(Fraction(beta) * Fraction(obj.L) * M_G) + 1.0  # mu_1 <= 1/(L M_G)
        res = fast_sgd.run(obj, w1, K=K, mu=schedules.diminishing(beta, gamma), oracle=oracle,
                           runs=RUNS, seed=seed,
                           gradient=fast_sgd.chain(fast_sgd.shrink(q), fast_sgd.add_noise(tau2)))
        slack = _f_star_slack(obj)
        gap = float(obj.value(w1) - obj.f_star) + slack
        args = [dict(L=obj.L, c=obj.c, M=M, M_V=M_V, M_q=obj.d * tau2, beta=beta, gamma=gamma,
                     q_min=q_min, q_max=q_max, gap=gap, k=k) for k in range(1, K + 1)]
        bounds = [_float(theorem2(**a)) for a in args]
        ctx = dict(**replay, M=M, M_V=M_V, tau2=tau2, schedule=repr(q), w1=w1.tolist(),
                   beta=beta, gamma=gamma, K=K, seed=seed, runs=RUNS)
        note(f"{ctx}")
        compare.assert_mc_upper("test_theorem2_montecarlo", res.gap_mean, res.gap_se,
                                bounds, slack=slack, context=ctx, args=args,
                                nontrivial=bool(M > 0 or M_V > 0 or tau2 > 0))

    return _named("test_theorem2_montecarlo", prop)


@st.composite
def _nonconvex_case(draw):
    d = draw(st.integers(1, 3))
    obj = CauchyLoss(np.array([draw(st.floats(-2.0, 2.0)) for _ in range(d)]))
    sigma2 = draw(st.sampled_from((0.0, 0.01, 0.25, 1.0)))
    tau2 = draw(st.sampled_from((0.0, 1e-3, 0.05)))
    q = draw(lst.shrinkage_schedules(min_q=2.0 ** -3, kinds=("constant", "random",
                                                             "periodic")))
    # Three regimes, as lpsgd.strategies.quadratic_sgd_problems: "general" starts up to 4
    # away from the minimiser (the nonconvex region |t| > 1 included); "near_minimum"
    # starts where the curvature is close to L = 2 (2^-10 <= |t| <= 2^-2), where the
    # one-step inequality behind Theorems 3 and 4 is nearly an equality; "noise_only"
    # starts at the minimiser, so the noise terms alone make the sums.
    regime = draw(st.sampled_from(("noise_only", "near_minimum", "general")))
    if regime == "general":
        offset = [draw(st.floats(-4.0, 4.0)) for _ in range(d)]
    elif regime == "near_minimum":
        offset = [draw(st.sampled_from((-1.0, 1.0))) * draw(st.floats(2.0 ** -10, 0.25))
                  for _ in range(d)]
    else:  # quantisation noise always, gradient noise none or small
        offset = [0.0] * d
        sigma2 = draw(st.sampled_from((0.0, 0.0, 0.01)))  # quantisation noise alone, mostly
        if tau2 == 0.0:
            tau2 = draw(st.sampled_from((1e-3, 0.05)))
    w1 = obj.a + np.array(offset)
    K = draw(st.integers(1, 25))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return obj, sigma2, tau2, q, w1, K, seed


# The stepsize as a fraction of the admissibility limit 1/L; the limit itself is drawn
# often, because the bounds are tightest there.
_FRACTIONS = st.one_of(st.just(1.0), st.floats(2.0 ** -4, 1.0))


def theorem3_montecarlo(*, theorem3=theory.theorem3):
    """Theorem 3 against Monte Carlo SGD on the nonconvex Cauchy loss."""

    @settings(max_examples=_mc_examples())
    @given(_nonconvex_case(), _FRACTIONS)
    def prop(case, frac):
        """Theorem 3 on the nonconvex Cauchy loss: (1/K) sum_k E||grad F(w_k)||^2."""
        obj, sigma2, tau2, q, w1, K, seed = case
        mu = lst.admissible_stepsize(obj.L, 1.0, frac)
        res = fast_sgd.run(obj, w1, K=K, mu=mu, oracle=AdditiveNoise(obj, sigma2=sigma2),
                           runs=RUNS, seed=seed,
                           gradient=fast_sgd.chain(fast_sgd.shrink(q), fast_sgd.add_noise(tau2)))
        q_min, q_max = q.min_value(K), q.max_value(K)
        gap = float(obj.value(w1)) * (1 + 1e-15)  # F_inf = 0; F(w_1) rounded up
        # Running averages over k = 1..K', per run, then their mean and standard error.
        avgs = np.cumsum(res.grad_norms2, axis=0) / np.arange(1, K + 1)[:, None]
        means = avgs.mean(axis=1)
        ses = avgs.std(axis=1, ddof=1) / math.sqrt(RUNS)
        args = [dict(L=obj.L, M=obj.d * sigma2, M_V=0, M_q=obj.d * tau2, mu=mu, q_min=q_min,
                     q_max=q_max, gap=gap, K=k) for k in range(1, K + 1)]
        bounds = [_float(theorem3(**a)) for a in args]
        ctx = dict(a=obj.a.tolist(), sigma2=sigma2, tau2=tau2, schedule=repr(q),
                   w1=w1.tolist(), mu=mu, K=K, seed=seed, runs=RUNS)
        note(f"{ctx}")
        compare.assert_mc_upper("test_theorem3_montecarlo", means, ses, bounds, context=ctx,
                                args=args, nontrivial=bool(sigma2 > 0 or tau2 > 0))

    return _named("test_theorem3_montecarlo", prop)


def theorem4_montecarlo(*, theorem4=theory.theorem4):
    """Theorem 4 against Monte Carlo SGD on the nonconvex Cauchy loss."""

    @settings(max_examples=_mc_examples())
    @given(_nonconvex_case(), _FRACTIONS,
           st.one_of(st.just(16.0), st.floats(2.0 ** -4, 16.0)))
    # The hardest case for the noise terms, run under every profile and seed: a start at
    # the minimiser with quantisation noise only, so the sum is the M_q term alone (the ci
    # profile's counterexample to the mutant without M_q).
    @example(case=(CauchyLoss(np.array([0.0])), 0.0, 1e-3, schedules.constant_q(0.125),
                   np.array([0.0]), 2, 0), frac=1.0, gamma=16.0)
    def prop(case, frac, gamma):
        """Theorem 4 on the Cauchy loss with mu_k = beta/(gamma + k): sum mu_k E||grad F||^2."""
        obj, sigma2, tau2, q, w1, K, seed = case
        beta = float(Fraction(frac) * (Fraction(gamma) + 1) / Fraction(obj.L))
        while Fraction(beta) / (Fraction(gamma) + 1) > 1 / Fraction(obj.L):
            beta = math.nextafter(beta, 0.0)  # mu_1 exactly admissible after rounding
        stepsize = schedules.diminishing(beta, gamma)
        res = fast_sgd.run(obj, w1, K=K, mu=stepsize,
                           oracle=AdditiveNoise(obj, sigma2=sigma2), runs=RUNS, seed=seed,
                           gradient=fast_sgd.chain(fast_sgd.shrink(q), fast_sgd.add_noise(tau2)))
        mus = [Fraction(beta) / (Fraction(gamma) + k) for k in range(1, K + 1)]
        q_min, q_max = q.min_value(K), q.max_value(K)
        gap = float(obj.value(w1)) * (1 + 1e-15)
        weights = np.array([float(m) for m in mus])[:, None]
        sums = np.cumsum(weights * res.grad_norms2, axis=0)
        means = sums.mean(axis=1)
        ses = sums.std(axis=1, ddof=1) / math.sqrt(RUNS)
        args = [dict(L=obj.L, M=obj.d * sigma2, M_V=0, M_q=obj.d * tau2, mus=mus[:k],
                     q_min=q_min, q_max=q_max, gap=gap) for k in range(1, K + 1)]
        bounds = [_float(theorem4(**a)) for a in args]
        ctx = dict(a=obj.a.tolist(), sigma2=sigma2, tau2=tau2, schedule=repr(q),
                   w1=w1.tolist(), beta=beta, gamma=gamma, K=K, seed=seed, runs=RUNS)
        note(f"{ctx}")
        compare.assert_mc_upper("test_theorem4_montecarlo", means, ses, bounds, context=ctx,
                                args=args, nontrivial=bool(sigma2 > 0 or tau2 > 0))

    return _named("test_theorem4_montecarlo", prop)


# =============================================================================================
# Slowdown, floors and the reduction to the classical theorems
# =============================================================================================

@st.composite
def _equivalence_case(draw):
    kind = draw(st.sampled_from(("quadratic", "cauchy")))
    if kind == "quadratic":
        obj = draw(lst.quadratics(max_dim=3))
    else:
        a = [draw(st.floats(-2.0, 2.0)) for _ in range(draw(st.integers(1, 3)))]
        obj = CauchyLoss(np.array(a))
    d = obj.d
    w1 = [draw(st.floats(-8.0, 8.0)) for _ in range(d)]
    # Any admissible mu: mu q is then usually not a float64, and the exact engine must take
    # it unrounded (a regression it once failed, kept as an explicit example below).
    mu = draw(lst.stepsizes(L=obj.L))
    q = draw(lst.shrinkage_levels())
    K = draw(st.integers(2, 12))
    return obj, w1, mu, q, K


def effective_stepsize_equivalence(*, shrink=rsgd.shrink):
    """The iterates of (mu, q) and (mu q, 1) in the exact engine, with ``shrink`` the
    shrinkage transform checked."""

    @settings(max_examples=lst.scaled_examples(0.5, minimum=20))
    @given(_equivalence_case())
    # Regression: 0.0013020833333333333 * 0.75 is not a float64; the exact engine once built
    # its schedule values outside its working precision and rounded this stepsize to 53 bits.
    @example(case=(DiagonalQuadratic(np.array([3.0]), w_star=np.array([1.5])), [0.0],
                   0.0013020833333333333, 0.75, 2))
    def prop(case):
        """Without noise and with a constant q the iterates of (mu, q) equal those of
        (mu q, 1) (exact engine, 50 digits: equal to MP_RTOL), on quadratics and on the
        nonconvex Cauchy loss.  mu q is passed as an exact rational."""
        obj, w1, mu, q, K = case
        a = rsgd.run(obj, w1, K=K, mu=mu, gradient=shrink(q), trajectory=True)
        b = rsgd.run(obj, w1, K=K, mu=_q(mu) * _q(q), trajectory=True)
        note(f"objective={type(obj).__name__} w1={w1} mu={mu!r} q={q!r} K={K}")
        # Relative to max(|w|, 1): iterates near zero are compared absolutely.
        with mpmath.workdps(60):
            scale = [max(abs(wa), abs(wb), mpmath.mpf(1))
                     for wa, wb in zip(a.iterates.reshape(-1), b.iterates.reshape(-1))]
            actual = [wa / s for wa, s in zip(a.iterates.reshape(-1), scale)]
            desired = [wb / s for wb, s in zip(b.iterates.reshape(-1), scale)]
        compare.assert_equal("test_effective_stepsize_equivalence", actual, desired,
                             rtol=compare.EXACT, atol=compare.MP_RTOL,
                             claim="test_effective_stepsize_equivalence: iterates of (mu, q) "
                                   "== iterates of (mu q, 1), relative to max(|w|, 1)",
                             context=dict(objective=type(obj).__name__, w1=w1, mu=mu, q=q,
                                          K=K))

    return _named("test_effective_stepsize_equivalence", prop)


@st.composite
def _monotone_case(draw):
    obj = draw(lst.quadratics(max_dim=4))
    offsets = [draw(st.floats(-8.0, 8.0)) for _ in range(obj.d)]
    w1 = [float(a + b) for a, b in zip(obj.w_star, offsets)]
    mu = draw(lst.stepsizes(L=obj.L))  # mu L <= 1, hence mu q L <= 1 for q <= 1
    q1 = draw(lst.shrinkage_levels())
    q2 = draw(lst.shrinkage_levels(min_value=q1))
    K = draw(st.integers(2, 30))
    return obj, w1, mu, q1, q2, K


def gap_monotone_in_q(*, quadratic_moments=expectations.quadratic_moments):
    """E[F(w_k) - F*] non-increasing in q, by the exact recursion ``quadratic_moments``."""

    @given(_monotone_case())
    # Run under every profile and seed: a step where q matters (mu L = 1/4, q from 1/2 to
    # 1); the mutant with mu / q in place of mu q reverses the order of the two gaps here.
    @example(case=(DiagonalQuadratic(np.array([1.0]), w_star=np.array([0.0])), [1.0], 0.25,
                   0.5, 1.0, 3))
    def prop(case):
        """Noise-free quadratics with mu q L <= 1: E[F(w_k) - F*] is non-increasing in q at
        every k (exact recursion)."""
        obj, w1, mu, q1, q2, K = case
        low = quadratic_moments(obj, w1, K=K, mu=mu, q=q1).gaps
        high = quadratic_moments(obj, w1, K=K, mu=mu, q=q2).gaps
        note(f"lambdas={obj.lambdas.tolist()} w1={w1} mu={mu!r} q1={q1!r} q2={q2!r} K={K}")
        pairs = [(k, high[k - 1], low[k - 1]) for k in range(1, K + 1)]
        compare.assert_upper("test_gap_monotone_in_q", pairs, identity_at_1=True,
                             claim=f"test_gap_monotone_in_q: E[F - F*] at q={q2!r} <= "
                                   f"E[F - F*] at q={q1!r}",
                             context=dict(lambdas=obj.lambdas.tolist(), w1=w1, mu=mu, q1=q1,
                                          q2=q2, K=K))

    return _named("test_gap_monotone_in_q", prop)


@st.composite
def _slowdown_case(draw):
    L = draw(st.floats(2.0 ** -3, 16.0))
    c = draw(st.one_of(st.just(L), st.floats(L / 64, L)))
    mu = draw(lst.stepsizes(L=L))
    q_min = draw(lst.shrinkage_levels(min_value=2.0 ** -5))
    gap = draw(st.floats(2.0 ** -10, 2.0 ** 10))
    eps = gap * draw(st.one_of(st.floats(2.0 ** -60, 1.0), st.floats(2.0 ** -8, 1.0)))
    return L, c, mu, q_min, gap, eps


def iterations_to_eps_slowdown(*, iterations_to_eps=theory.iterations_to_eps,
                               slowdown_ratio=theory.slowdown_ratio,
                               asymptotic_slowdown=theory.asymptotic_slowdown):
    """The iteration counts to eps slow down by at least 1/q_min."""

    @given(_slowdown_case())
    def prop(case):
        """K_q(eps) / K_1(eps) >= 1/q_min up to the rounding of iteration counts.

        Without noise the transient of Theorem 1 is r^(k-1) gap; with real counts
        n_q = log(eps/gap) / log(1 - mu c q) >= n_1 / q (convexity of -log(1 - x)), so the
        integer counts K = 1 + ceil(n) satisfy (K_q - 1) q_min >= K_1 - 2 exactly.  As
        eps -> 0 the ratio tends to asymptotic_slowdown >= 1/q_min, checked as well.
        """
        L, c, mu, q_min, gap, eps = case
        args = dict(L=L, c=c, M=0, M_V=0, M_q=0, mu=mu, gap=gap, eps=eps)
        k_q = iterations_to_eps(**args, q_min=q_min, q_max=q_min)
        k_1 = iterations_to_eps(**args, q_min=1, q_max=1)
        note(f"L={L!r} c={c!r} mu={mu!r} q_min={q_min!r} gap={gap!r} eps={eps!r} "
             f"K_q={k_q} K_1={k_1}")
        ctx = dict(L=L, c=c, mu=mu, q_min=q_min, gap=gap, eps=eps, K_q=k_q, K_1=k_1)
        lhs = Fraction(k_q - 1) * Fraction(q_min)
        compare.assert_upper("test_iterations_to_eps_slowdown", max(k_1 - 2, 0), lhs,
                             rtol=compare.EXACT, context=ctx,
                             claim="test_iterations_to_eps_slowdown: K_1 - 2 <= "
                                   "(K_q - 1) q_min")
        # slowdown_ratio is defined as K_q / K_1 of the same counts.
        ratio = slowdown_ratio(**args, q_min=q_min, q_max=q_min)
        compare.assert_equal("test_iterations_to_eps_slowdown", ratio, Fraction(k_q, k_1),
                             rtol=compare.EXACT, context=ctx, record_example=False,
                             claim="test_iterations_to_eps_slowdown: slowdown_ratio == "
                                   "K_q / K_1")
        if Fraction(mu) * Fraction(c) < 1:
            asym = asymptotic_slowdown(mu=mu, c=c, q_min=q_min)
            with mpmath.workprec(256):
                compare.assert_upper("test_iterations_to_eps_slowdown", mpmath.mpf(1),
                                     asym * mpmath.mpf(q_min), rtol=compare.MP256_RTOL,
                                     context=ctx, record_example=False,
                                     claim="test_iterations_to_eps_slowdown: 1 <= "
                                           "asymptotic_slowdown q_min")

    return _named("test_iterations_to_eps_slowdown", prop)


@st.composite
def _precision_pair(draw):
    E = draw(st.integers(3, 8))
    m = draw(st.integers(1, 10))
    kind = draw(st.sampled_from(("mantissa", "exponent")))
    fine = Format(E, m)
    coarse = Format(E, m - 1) if kind == "mantissa" else Format(E - 1, m)
    obj = draw(lst.quadratics(max_dim=4))
    M = draw(st.floats(0.0, 4.0))
    return fine, coarse, obj, M


def floor_grows_as_precision_falls(*, theorem7=theory.theorem7, theorem6=theory.theorem6,
                                   format_shrinkage=theory.format_shrinkage):
    """The floors of Theorems 6 and 7 against precision."""

    @given(_precision_pair())
    def prop(pair):
        """The floors of Theorem 7 (stochastic rounding: delta and s grow) and Theorem 6
        (truncation: the smallest surviving magnitude t grows) are larger for the coarser
        of two formats differing by one mantissa or one exponent bit."""
        fine, coarse, obj, M = pair
        delta = Fraction(1, 4 * 2 ** (2 * coarse.man_bits))
        mu = lst.admissible_stepsize(obj.L, 1 + delta)  # admissible for both formats
        floors = {}
        for fmt in (fine, coarse):
            b7 = theorem7(L=obj.L, c=obj.c, d=obj.d, M=M, M_V=0, fmt=fmt, mu=mu, gap=1, k=2)
            t = format_shrinkage(fmt, "toward_zero", fmt.smallest_positive)
            b6 = theorem6(L=obj.L, c=obj.c, d=obj.d, mu=mu, t=fmt.smallest_positive,
                          q_lo=t[0], q_hi=t[1], gap=1, k=2)
            floors[fmt] = (_q(b7.terms["floor"]), _q(b6.terms["floor"]))
        note(f"fine={fine} coarse={coarse} floors={floors}")
        f7, f6 = floors[fine]
        c7, c6 = floors[coarse]
        ctx = dict(fine=str(fine), coarse=str(coarse), M=M, mu=mu)
        compare.assert_upper("test_floor_grows_as_precision_falls", f7, c7,
                             rtol=compare.EXACT, context=ctx,
                             claim="test_floor_grows_as_precision_falls: Theorem 7 floor "
                                   "(fine) <= Theorem 7 floor (coarse)")
        compare.assert_upper("test_floor_grows_as_precision_falls", f6, c6,
                             rtol=compare.EXACT, context=ctx, record_example=False,
                             claim="test_floor_grows_as_precision_falls: Theorem 6 floor "
                                   "(fine) <= Theorem 6 floor (coarse)")

    return _named("test_floor_grows_as_precision_falls", prop)


@st.composite
def _classical_case(draw):
    L = draw(st.floats(2.0 ** -3, 16.0))
    c = draw(st.one_of(st.just(L), st.floats(L / 64, L)))
    M = draw(st.one_of(st.just(0.0), st.floats(0.0, 4.0)))
    M_V = draw(st.one_of(st.just(0.0), st.floats(0.0, 4.0)))
    M_G = 1 + Fraction(M_V)
    mu = lst.admissible_stepsize(L, float(M_G), draw(st.floats(2.0 ** -6, 1.0)))
    gap = draw(st.floats(0.0, 2.0 ** 8))
    k = draw(st.integers(1, 60))
    return L, c, M, M_V, M_G, mu, gap, k


def reduction_to_classical(*, theorem1=theory.theorem1, theorem2=theory.theorem2,
                           theorem3=theory.theorem3, theorem4=theory.theorem4):
    """Theorems 1-4 at q = 1, M_q = 0 against the classical formulas."""

    @given(_classical_case())
    def prop(case):
        """q = 1, M_q = 0: Theorems 1-4 equal Bottou-Curtis-Nocedal Theorems 4.6, 4.7, 4.8 and
        4.10 (their mu = mu_G = 1), evaluated here from the classical formulas."""
        L, c, M, M_V, M_G, mu, gap, k = case
        Lf, cf, Mf, muf, gapf = map(Fraction, (L, c, M, mu, gap))
        ctx = dict(L=L, c=c, M=M, M_V=M_V, mu=mu, gap=gap, k=k)
        # 4.6: alpha L M / (2 c) + (1 - alpha c)^(k-1) (gap - alpha L M / (2 c))
        floor = muf * Lf * Mf / (2 * cf)
        classical1 = floor + (1 - muf * cf) ** (k - 1) * (gapf - floor)
        b1 = theorem1(L=L, c=c, M=M, M_V=M_V, M_q=0, mu=mu, q_min=1, q_max=1, gap=gap, k=k)
        # 4.8: alpha L M + 2 (F(w_1) - F_inf) / (K alpha)
        classical3 = muf * Lf * Mf + 2 * gapf / (k * muf)
        b3 = theorem3(L=L, M=M, M_V=M_V, M_q=0, mu=mu, q_min=1, q_max=1, gap=gap, K=k)
        # 4.10: 2 (F(w_1) - F_inf) + L M sum alpha_k^2 (here alpha_k = mu / k, admissible)
        mus = [muf / j for j in range(1, k + 1)]
        classical4 = 2 * gapf + Lf * Mf * sum(a * a for a in mus)
        b4 = theorem4(L=L, M=M, M_V=M_V, M_q=0, mus=mus, q_min=1, q_max=1, gap=gap)
        # 4.7: nu / (gamma + k), nu = max(beta^2 L M / (2 (beta c - 1)), (gamma + 1) gap),
        # with beta = 2/c > 1/c and gamma the smallest value making alpha_1 admissible.
        beta = Fraction(2) / cf
        gamma = max(beta * Lf * M_G - 1, Fraction(1, 64))
        nu = max(beta ** 2 * Lf * Mf / (2 * (beta * cf - 1)), (gamma + 1) * gapf)
        b2 = theorem2(L=L, c=c, M=M, M_V=M_V, M_q=0, beta=beta, gamma=gamma, q_min=1,
                      q_max=1, gap=gap, k=k)
        # Bound.value is the exact rational rounded once at >= 256 bits: compared as exact
        # rationals to BOUND_VALUE_RTOL.
        compare.assert_equal("test_reduction_to_classical",
                             [_q(_value(b)) for b in (b1, b2, b3, b4)],
                             [classical1, nu / (gamma + k), classical3, classical4],
                             rtol=compare.BOUND_VALUE_RTOL, k=k, context=ctx,
                             claim="test_reduction_to_classical: [Theorems 1, 2, 3, 4] == "
                                   "[BCN 4.6, 4.7, 4.8, 4.10] at q = 1, M_q = 0")

    return _named("test_reduction_to_classical", prop)


#: The factories whose ground truth bounds a statement of :mod:`lpsgd.theory` from above,
#: by the statement they check: the ones :func:`lpsgd.testing.check_bound` runs.  (The
#: reduction to the classical theorems is an equality, which a valid but looser bound must
#: fail, and the floor comparison compares two bounds, not a bound with a ground truth.)
GROUND_TRUTH: dict[str, tuple[Callable[..., Any], ...]] = {
    "theorem1": (theorem1_exact_quadratic, theorem1_exact_dense_quadratic,
                 theorem1_any_stepsize, theorem1_montecarlo),
    "theorem2": (theorem2_exact_quadratic, theorem2_any_stepsize, theorem2_montecarlo),
    "theorem3": (theorem3_exact_quadratic, theorem3_any_stepsize, theorem3_montecarlo),
    "theorem4": (theorem4_exact_quadratic, theorem4_any_stepsize, theorem4_montecarlo),
    "theorem1_schedule": (theorem1_schedule_exact_quadratic,),
    "theorem3_schedule": (theorem3_schedule_exact_quadratic,),
}
