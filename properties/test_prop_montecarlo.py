"""Theorems 1-4 by Monte Carlo on objectives without exact expectations.

Logistic regression and least squares (strongly convex, minibatch or additive-noise
oracles with their own (M, M_V)) for Theorems 1 and 2; the smooth nonconvex Cauchy loss
for Theorems 3 and 4.  The batched engine :func:`lpsgd.fast.sgd.run` runs RUNS
independent trajectories of the shrinkage model (shrink by a q schedule, add Gaussian
quantisation noise of variance tau2 per coordinate, M_q = d tau2).  A property fails
only when ``mean - Z se - slack > bound (1 + RTOL)`` at some k, Z = 5 standard errors
(false alarms about 3e-7 per comparison under the normal approximation); ``slack``
covers the certified error of the computed F* (logistic regression, least squares).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

import lpsgd.fast.sgd as sgd
import lpsgd.record as record
import lpsgd.schedules as schedules
import lpsgd.strategies as lst
import lpsgd.theory as theory
from lpsgd.objectives import (AdditiveNoise, CauchyLoss, LeastSquares, LogisticRegression,
                              Minibatch)

Z = 5
RTOL = 1e-12
RUNS = 1000
_MC_EXAMPLES = lst.scaled_examples(0.5, minimum=15)


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


def _compare(name, means, ses, bounds, slack, ctx):
    """mean - Z se - slack <= bound (1 + RTOL) for every k; record the worst (k >= 2)."""
    __tracebackhide__ = True
    worst, bad = None, None
    for k, (m, s, b) in enumerate(zip(means, ses, bounds), start=1):
        lower = m - Z * s - slack
        r = lower / b if b > 0 else (math.inf if lower > 0 else 0.0)
        if (k >= 2 or len(bounds) == 1) and (worst is None or r > worst[0]):
            worst = (r, k, lower, b)
        if lower > b * (1 + RTOL) and bad is None:
            bad = (k, m, s, b)
    _, k, lower, b = worst
    record.observe(name, lower, b, k=k, runs=RUNS, **ctx)
    if bad is not None:
        k, m, s, b = bad
        msg = (f"{name}: at k={k} mean {m!r} - {Z} se ({s!r}) - slack {slack!r} > bound "
               f"{b!r}; constants: {ctx}")
        note(msg)
        raise AssertionError(msg)


@settings(max_examples=_MC_EXAMPLES)
@given(_convex_case(), st.floats(2.0 ** -4, 1.0))
def test_theorem1_montecarlo(case, frac):
    """Theorem 1 on logistic regression / least squares with minibatch or additive noise."""
    obj, oracle, tau2, q, w1, K, seed, replay = case
    M, M_V, M_G = _consts(obj, oracle)
    mu = lst.admissible_stepsize(obj.L, float(M_G), frac)
    res = sgd.run(obj, w1, K=K, mu=mu, oracle=oracle, runs=RUNS, seed=seed,
                  gradient=sgd.chain(sgd.shrink(q), sgd.add_noise(tau2)))
    steps = max(K - 1, 1)
    q_min, q_max = q.min_value(steps), q.max_value(steps)
    slack = _f_star_slack(obj)
    gap = float(obj.value(w1) - obj.f_star) + slack
    M_q = obj.d * tau2
    bounds = [float(theory.theorem1(L=obj.L, c=obj.c, M=M, M_V=M_V, M_q=M_q, mu=mu,
                                    q_min=q_min, q_max=q_max, gap=gap, k=k))
              for k in range(1, K + 1)]
    ctx = dict(**replay, M=M, M_V=M_V, tau2=tau2, schedule=repr(q), w1=w1.tolist(),
               mu=mu, K=K, seed=seed)
    note(f"{ctx}")
    _compare("test_theorem1_montecarlo", res.gap_mean, res.gap_se, bounds, slack, ctx)


@settings(max_examples=_MC_EXAMPLES)
@given(_convex_case(), st.floats(2.0 ** -4, 1.0))
def test_theorem2_montecarlo(case, excess):
    """Theorem 2 (mu_k = beta/(gamma + k)) on logistic regression / least squares."""
    obj, oracle, tau2, q, w1, K, seed, replay = case
    M, M_V, M_G = _consts(obj, oracle)
    steps = max(K - 1, 1)
    q_min, q_max = q.min_value(steps), q.max_value(steps)
    beta = float(Fraction(1) / (Fraction(obj.c) * Fraction(float(q_min)))
                 * (1 + Fraction(excess)))
    gamma = float(Fraction(beta) * Fraction(obj.L) * M_G) + 1.0  # mu_1 <= 1/(L M_G)
    res = sgd.run(obj, w1, K=K, mu=schedules.diminishing(beta, gamma), oracle=oracle,
                  runs=RUNS, seed=seed, gradient=sgd.chain(sgd.shrink(q),
                                                           sgd.add_noise(tau2)))
    slack = _f_star_slack(obj)
    gap = float(obj.value(w1) - obj.f_star) + slack
    bounds = [float(theory.theorem2(L=obj.L, c=obj.c, M=M, M_V=M_V, M_q=obj.d * tau2,
                                    beta=beta, gamma=gamma, q_min=q_min, q_max=q_max,
                                    gap=gap, k=k))
              for k in range(1, K + 1)]
    ctx = dict(**replay, M=M, M_V=M_V, tau2=tau2, schedule=repr(q), w1=w1.tolist(),
               beta=beta, gamma=gamma, K=K, seed=seed)
    note(f"{ctx}")
    _compare("test_theorem2_montecarlo", res.gap_mean, res.gap_se, bounds, slack, ctx)


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


@settings(max_examples=_MC_EXAMPLES)
@given(_nonconvex_case(), _FRACTIONS)
def test_theorem3_montecarlo(case, frac):
    """Theorem 3 on the nonconvex Cauchy loss: (1/K) sum_k E||grad F(w_k)||^2."""
    obj, sigma2, tau2, q, w1, K, seed = case
    mu = lst.admissible_stepsize(obj.L, 1.0, frac)
    res = sgd.run(obj, w1, K=K, mu=mu, oracle=AdditiveNoise(obj, sigma2=sigma2), runs=RUNS,
                  seed=seed, gradient=sgd.chain(sgd.shrink(q), sgd.add_noise(tau2)))
    q_min, q_max = q.min_value(K), q.max_value(K)
    gap = float(obj.value(w1)) * (1 + 1e-15)  # F_inf = 0; F(w_1) rounded up
    # Running averages over k = 1..K', per run, then their mean and standard error.
    avgs = np.cumsum(res.grad_norms2, axis=0) / np.arange(1, K + 1)[:, None]
    means = avgs.mean(axis=1)
    ses = avgs.std(axis=1, ddof=1) / math.sqrt(RUNS)
    bounds = [float(theory.theorem3(L=obj.L, M=obj.d * sigma2, M_V=0, M_q=obj.d * tau2,
                                    mu=mu, q_min=q_min, q_max=q_max, gap=gap, K=k))
              for k in range(1, K + 1)]
    ctx = dict(a=obj.a.tolist(), sigma2=sigma2, tau2=tau2, schedule=repr(q),
               w1=w1.tolist(), mu=mu, K=K, seed=seed)
    note(f"{ctx}")
    _compare("test_theorem3_montecarlo", means, ses, bounds, 0.0, ctx)


@settings(max_examples=_MC_EXAMPLES)
@given(_nonconvex_case(), _FRACTIONS, st.one_of(st.just(16.0), st.floats(2.0 ** -4, 16.0)))
# The hardest case for the noise terms, run under every profile and seed: a start at the
# minimiser with quantisation noise only, so the sum is the M_q term alone (the ci
# profile's counterexample to the mutant without M_q).
@example(case=(CauchyLoss(np.array([0.0])), 0.0, 1e-3, schedules.constant_q(0.125),
               np.array([0.0]), 2, 0), frac=1.0, gamma=16.0)
def test_theorem4_montecarlo(case, frac, gamma):
    """Theorem 4 on the Cauchy loss with mu_k = beta/(gamma + k): sum mu_k E||grad F||^2."""
    obj, sigma2, tau2, q, w1, K, seed = case
    beta = float(Fraction(frac) * (Fraction(gamma) + 1) / Fraction(obj.L))
    while Fraction(beta) / (Fraction(gamma) + 1) > 1 / Fraction(obj.L):
        beta = math.nextafter(beta, 0.0)  # mu_1 exactly admissible after rounding
    stepsize = schedules.diminishing(beta, gamma)
    res = sgd.run(obj, w1, K=K, mu=stepsize, oracle=AdditiveNoise(obj, sigma2=sigma2),
                  runs=RUNS, seed=seed, gradient=sgd.chain(sgd.shrink(q),
                                                           sgd.add_noise(tau2)))
    mus = [Fraction(beta) / (Fraction(gamma) + k) for k in range(1, K + 1)]
    q_min, q_max = q.min_value(K), q.max_value(K)
    gap = float(obj.value(w1)) * (1 + 1e-15)
    weights = np.array([float(m) for m in mus])[:, None]
    sums = np.cumsum(weights * res.grad_norms2, axis=0)
    means = sums.mean(axis=1)
    ses = sums.std(axis=1, ddof=1) / math.sqrt(RUNS)
    bounds = [float(theory.theorem4(L=obj.L, M=obj.d * sigma2, M_V=0, M_q=obj.d * tau2,
                                    mus=mus[:k], q_min=q_min, q_max=q_max, gap=gap))
              for k in range(1, K + 1)]
    ctx = dict(a=obj.a.tolist(), sigma2=sigma2, tau2=tau2, schedule=repr(q),
               w1=w1.tolist(), beta=beta, gamma=gamma, K=K, seed=seed)
    note(f"{ctx}")
    _compare("test_theorem4_montecarlo", means, ses, bounds, 0.0, ctx)
