"""Theorems 1-4 of THEORY.md section 2 against the exact expectations on quadratics.

The ground truth is the second-moment recursion of THEORY.md section 4
(:func:`lpsgd.reference.expectations.quadratic_moments`), evaluated in mpmath at 50
digits: there is no sampling error, so a bound below an expectation is a counterexample.
The only tolerance is MP_RTOL, covering the rounding of 50-digit arithmetic (the bounds
are equalities at k = 1 and, for d = 1 at mu q L = 1, at some later k too).

Every theorem is called through its module (``theory.theorem1(...)``) so that a mutant
substituted in :mod:`lpsgd.theory` is what runs.  Each example records the worst
observed/bound ratio over k >= 2 (k = 1 is an identity) with every constant needed to
replay it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import example, given, note
from hypothesis import strategies as st

import lpsgd.record as record
import lpsgd.reference.expectations as expectations
import lpsgd.schedules as schedules
import lpsgd.strategies as lst
import lpsgd.theory as theory
from lpsgd.errors import AssumptionError
from lpsgd.objectives import DiagonalQuadratic

#: Relative tolerance of comparisons against the 50-digit mpmath recursion.
MP_RTOL = mpmath.mpf("1e-40")
#: Largest number of iterates per example.
MAX_K = 40


def _mp(x) -> mpmath.mpf:
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


def _check(name: str, pairs: list[tuple[int, mpmath.mpf, mpmath.mpf]], *,
           identity_at_1: bool = True, **context) -> None:
    """Assert observed <= bound (1 + MP_RTOL) for every (k, observed, bound); record the
    worst ratio, over k >= 2 when k = 1 is an identity (bound = gap = observed)."""
    __tracebackhide__ = True
    with mpmath.workdps(60):
        ratios = [(obs / b if b > 0 else (mpmath.inf if obs > 0 else mpmath.mpf(0)), k, obs, b)
                  for k, obs, b in pairs]
        tail = ([r for r in ratios if r[1] >= 2] if identity_at_1 else ratios) or ratios
        worst = max(tail, key=lambda r: r[0])
        bad = [(k, obs, b) for _, k, obs, b in ratios if obs > b * (1 + MP_RTOL)]
    record.observe(name, float(worst[2]), float(worst[3]), k=worst[1], **context)
    if bad:
        k, obs, b = bad[0]
        msg = (f"{name}: observed {mpmath.nstr(obs, 20)} > bound {mpmath.nstr(b, 20)} at "
               f"k={k} ({len(bad)} violations); constants: {context}")
        note(msg)
        raise AssertionError(msg)


def _q_extremes(sched, steps: int) -> tuple[float, float]:
    """q_min, q_max over the steps k = 1..steps that the compared iterates depend on."""
    steps = max(steps, 1)
    return sched.min_value(steps), sched.max_value(steps)


def _context(problem, **extra) -> dict:
    ctx = problem.replay()
    ctx.update({k: (repr(v) if not isinstance(v, int | float | str | list | tuple) else v)
                for k, v in extra.items()})
    return ctx


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


@given(_fixed_step_case())
@example(case=_SHRINKING_EXAMPLE)
def test_theorem1_exact_quadratic(case):
    """Theorem 1: E[F(w_k) - F*] <= F_q + r^(k-1) (gap - F_q), fixed stepsize."""
    problem, mu, sched, K = case
    obj = problem.objective
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=mu, q=sched,
                                         sigma2=problem.sigma2, tau2=problem.tau2)
    q_min, q_max = _q_extremes(sched, K - 1)
    gap = mom.gaps[0]
    consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, mu=mu,
                  q_min=q_min, q_max=q_max, gap=gap)
    note(f"schedule={sched!r} q={sched.values(max(K - 1, 1))} K={K}")
    pairs = [(k, mom.gaps[k - 1], theory.theorem1(**consts, k=k).value)
             for k in range(1, K + 1)]
    _check("test_theorem1_exact_quadratic", pairs,
           **_context(problem, mu=mu, schedule=sched, K=K, q_min=q_min, q_max=q_max))


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


@given(_diminishing_case())
def test_theorem2_exact_quadratic(case):
    """Theorem 2: E[F(w_k) - F*] <= nu / (gamma + k), mu_k = beta / (gamma + k)."""
    problem, beta, gamma, sched, K, q_min, q_max = case
    obj = problem.objective
    mom = expectations.quadratic_moments(obj, problem.w1, K=K,
                                         mu=schedules.diminishing(beta, gamma), q=sched,
                                         sigma2=problem.sigma2, tau2=problem.tau2)
    gap = mom.gaps[0]
    consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, beta=beta,
                  gamma=gamma, q_min=q_min, q_max=q_max, gap=gap)
    note(f"schedule={sched!r} q={sched.values(max(K - 1, 1))} K={K}")
    pairs = [(k, mom.gaps[k - 1], theory.theorem2(**consts, k=k).value)
             for k in range(1, K + 1)]
    _check("test_theorem2_exact_quadratic", pairs,
           **_context(problem, beta=beta, gamma=gamma, schedule=sched, K=K, q_min=q_min,
                      q_max=q_max))


@given(_fixed_step_case())
@example(case=_SHRINKING_EXAMPLE)
def test_theorem3_exact_quadratic(case):
    """Theorem 3: (1/K) sum_k E||grad F(w_k)||^2 <= L mu B / q_min + 2 gap / (K mu q_min)."""
    problem, mu, sched, K = case
    obj = problem.objective
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=mu, q=sched,
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
            pairs.append((k, total / k, theory.theorem3(**consts, K=k).value))
    _check("test_theorem3_exact_quadratic", pairs, identity_at_1=False,
           **_context(problem, mu=mu, schedule=sched, K=K, q_min=q_min, q_max=q_max))


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


@given(_stepsize_sequence_case())
def test_theorem4_exact_quadratic(case):
    """Theorem 4: sum_k mu_k E||grad F(w_k)||^2 <= (2/q_min) gap + (L B/q_min) sum mu_k^2."""
    problem, stepsize, sched, K = case
    obj = problem.objective
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=stepsize, q=sched,
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
            b = theory.theorem4(L=obj.L, M=problem.M, M_V=0, M_q=problem.M_q,
                                mus=mus[:k], q_min=q_min, q_max=q_max, gap=gap)
            pairs.append((k, total, b.value))
    _check("test_theorem4_exact_quadratic", pairs, identity_at_1=False,
           **_context(problem, stepsize=stepsize, schedule=sched, K=K, q_min=q_min,
                      q_max=q_max))


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


@given(_any_stepsize_case())
def test_theorem1_any_stepsize(case):
    """Theorem 1 for any stepsize: either it refuses (AssumptionError) or its bound holds.

    Stepsizes above 1/(L M_G) break admissibility; above 2/(q L) SGD diverges, so a
    theorem that forgot its stepsize check is refuted here.
    """
    problem, mu, q, K = case
    obj = problem.objective
    consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, mu=mu, q_min=q,
                  q_max=q)
    try:
        theory.theorem1(**consts, gap=float(obj.value(np.array(problem.w1))) - obj.f_star, k=1)
    except AssumptionError as exc:
        note(f"refused: {exc}")
        # A refusal must only happen for inadmissible stepsizes (everything else here
        # satisfies the assumptions).
        assert Fraction(mu) * Fraction(obj.L) > 1, f"refused an admissible case: {exc}"
        record.observe("test_theorem1_any_stepsize", 0.0, 1.0, refused=True, mu=mu, q=q)
        return
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=mu, q=q,
                                         sigma2=problem.sigma2, tau2=problem.tau2)
    gap = mom.gaps[0]
    pairs = [(k, mom.gaps[k - 1], theory.theorem1(**consts, gap=gap, k=k).value)
             for k in range(1, K + 1)]
    _check("test_theorem1_any_stepsize", pairs,
           **_context(problem, mu=mu, q=q, K=K))


@given(_stepsize_sequence_case())
def test_theorem1_schedule_exact_quadratic(case):
    """Schedule-aware Theorem 1: E[F(w_{n+1}) - F*] <= a_{n+1} with the actual (mu_k, q_k)."""
    problem, stepsize, sched, K = case
    obj = problem.objective
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=stepsize, q=sched,
                                         sigma2=problem.sigma2, tau2=problem.tau2)
    mus = _exact_mus(stepsize, K)
    qs = [Fraction(v) for v in sched.values(K)]
    gap = mom.gaps[0]
    note(f"stepsize={stepsize!r} schedule={sched!r} q={sched.values(K)} K={K}")
    pairs = [(1, gap, gap)]
    for n in range(1, K):
        b = theory.theorem1_schedule(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q,
                                     mus=mus[:n], qs=qs[:n], gap=gap)
        pairs.append((n + 1, mom.gaps[n], b.value))
    _check("test_theorem1_schedule_exact_quadratic", pairs,
           **_context(problem, stepsize=stepsize, schedule=sched, K=K))


@given(_stepsize_sequence_case())
def test_theorem3_schedule_exact_quadratic(case):
    """Schedule-aware Theorem 3: sum_k eta_k E||grad F(w_k)||^2 <= 2 gap
    + L sum_k mu_k^2 (q_k^2 M + M_q), eta_k = mu_k q_k."""
    problem, stepsize, sched, K = case
    obj = problem.objective
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=stepsize, q=sched,
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
            b = theory.theorem3_schedule(L=obj.L, M=problem.M, M_q=problem.M_q, mus=mus[:k],
                                         qs=qs[:k], gap=gap)
            pairs.append((k, total, b.value))
    _check("test_theorem3_schedule_exact_quadratic", pairs, identity_at_1=False,
           **_context(problem, stepsize=stepsize, schedule=sched, K=K))


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


@given(_dense_case())
def test_theorem1_exact_dense_quadratic(case):
    """Theorem 1 on dense quadratics (rotated spectra): the full matrix recursion
    S_{k+1} = P S_k P^T + mu^2 (q^2 Sigma_xi + Sigma_e) of THEORY.md section 4."""
    obj, w1, sigma2, tau2, mu, sched, K = case
    mom = expectations.quadratic_moments(obj, w1, K=K, mu=mu, q=sched, sigma2=sigma2,
                                         tau2=tau2)
    q_min, q_max = _q_extremes(sched, K - 1)
    M = sum((Fraction(v) for v in sigma2), Fraction(0))  # exact: a float sum may round down
    M_q = sum((Fraction(v) for v in tau2), Fraction(0))
    gap = mom.gaps[0]
    note(f"A={obj.A.tolist()} w*={obj.w_star.tolist()} L={obj.L!r} c={obj.c!r} w1={w1} "
         f"sigma2={sigma2} tau2={tau2} mu={mu!r} schedule={sched!r} K={K}")
    pairs = [(k, mom.gaps[k - 1], theory.theorem1(L=obj.L, c=obj.c, M=M, M_V=0, M_q=M_q,
                                                  mu=mu, q_min=q_min, q_max=q_max, gap=gap,
                                                  k=k).value)
             for k in range(1, K + 1)]
    _check("test_theorem1_exact_dense_quadratic", pairs,
           A=obj.A.tolist(), w_star=obj.w_star.tolist(), L=obj.L, c=obj.c, w1=w1,
           sigma2=list(sigma2), tau2=list(tau2), mu=mu, schedule=repr(sched), K=K,
           q_min=q_min, q_max=q_max)


def _refused(name: str, exc: AssumptionError, mu_1, L, **context) -> None:
    """An AssumptionError is only allowed for an inadmissible (first) stepsize."""
    note(f"refused: {exc}")
    assert Fraction(mu_1) * Fraction(L) > 1, f"refused an admissible case: {exc}"
    record.observe(name, 0.0, 1.0, refused=True, **context)


@given(_any_stepsize_case())
def test_theorem3_any_stepsize(case):
    """Theorem 3 for any fixed stepsize: a refusal (AssumptionError) or a bound that holds
    (above 2/(q L) the gradients grow, so a Theorem 3 without its stepsize check fails)."""
    problem, mu, q, K = case
    obj = problem.objective
    consts = dict(L=obj.L, M=problem.M, M_V=0, M_q=problem.M_q, mu=mu, q_min=q, q_max=q)
    gap0 = float(obj.value(np.array(problem.w1))) - obj.f_star
    try:
        theory.theorem3(**consts, gap=max(gap0, 0.0), K=1)
    except AssumptionError as exc:
        _refused("test_theorem3_any_stepsize", exc, mu, obj.L, mu=mu, q=q)
        return
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=mu, q=q,
                                         sigma2=problem.sigma2, tau2=problem.tau2)
    gap = mom.gaps[0]
    pairs = []
    with mpmath.workdps(60):
        total = mpmath.mpf(0)
        for k in range(1, K + 1):
            total += mom.grad_norms2[k - 1]
            pairs.append((k, total / k, theory.theorem3(**consts, gap=gap, K=k).value))
    _check("test_theorem3_any_stepsize", pairs, identity_at_1=False,
           **_context(problem, mu=mu, q=q, K=K))


@given(_any_stepsize_case())
def test_theorem4_any_stepsize(case):
    """Theorem 4 for any constant stepsize sequence: a refusal or a bound that holds."""
    problem, mu, q, K = case
    obj = problem.objective
    consts = dict(L=obj.L, M=problem.M, M_V=0, M_q=problem.M_q, q_min=q, q_max=q)
    gap0 = float(obj.value(np.array(problem.w1))) - obj.f_star
    try:
        theory.theorem4(**consts, mus=[mu], gap=max(gap0, 0.0))
    except AssumptionError as exc:
        _refused("test_theorem4_any_stepsize", exc, mu, obj.L, mu=mu, q=q)
        return
    mom = expectations.quadratic_moments(obj, problem.w1, K=K, mu=mu, q=q,
                                         sigma2=problem.sigma2, tau2=problem.tau2)
    gap = mom.gaps[0]
    pairs = []
    with mpmath.workdps(60):
        total = mpmath.mpf(0)
        for k in range(1, K + 1):
            total += _mp(mu) * mom.grad_norms2[k - 1]
            pairs.append((k, total, theory.theorem4(**consts, mus=[mu] * k, gap=gap).value))
    _check("test_theorem4_any_stepsize", pairs, identity_at_1=False,
           **_context(problem, mu=mu, q=q, K=K))


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


@given(_any_diminishing_case())
def test_theorem2_any_stepsize(case):
    """Theorem 2 for any mu_1 = beta/(gamma + 1): a refusal or a bound that holds."""
    problem, beta, gamma, q, K = case
    obj = problem.objective
    consts = dict(L=obj.L, c=obj.c, M=problem.M, M_V=0, M_q=problem.M_q, beta=beta,
                  gamma=gamma, q_min=q, q_max=q)
    gap0 = float(obj.value(np.array(problem.w1))) - obj.f_star
    mu_1 = Fraction(beta) / (Fraction(gamma) + 1)
    try:
        theory.theorem2(**consts, gap=max(gap0, 0.0), k=1)
    except AssumptionError as exc:
        _refused("test_theorem2_any_stepsize", exc, mu_1, obj.L, beta=beta, gamma=gamma,
                 q=q)
        return
    mom = expectations.quadratic_moments(obj, problem.w1, K=K,
                                         mu=schedules.diminishing(beta, gamma), q=q,
                                         sigma2=problem.sigma2, tau2=problem.tau2)
    gap = mom.gaps[0]
    pairs = [(k, mom.gaps[k - 1], theory.theorem2(**consts, gap=gap, k=k).value)
             for k in range(1, K + 1)]
    _check("test_theorem2_any_stepsize", pairs,
           **_context(problem, beta=beta, gamma=gamma, q=q, K=K))
