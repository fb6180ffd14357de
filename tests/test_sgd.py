"""The SGD engines: exact expectations vs Monte Carlo, fast vs reference, composition."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from lpsgd import schedules
from lpsgd.fast import expectations as fexp
from lpsgd.fast import sgd as fast
from lpsgd.objectives import (AdditiveNoise, CauchyLoss, DenseQuadratic, DiagonalQuadratic,
                              LeastSquares, LogisticRegression, Minibatch)
from lpsgd.reference import expectations as rexp
from lpsgd.reference import sgd as ref
from lpsgd.suite import compare

U64 = compare.U64  # unit roundoff of binary64, 2^-53
Z = compare.Z      # Monte Carlo comparisons fail beyond Z standard errors
#: gamma_n = n u / (1 - n u): relative error bound of n successive float64 roundings.
gamma = compare.float64_rounding


LAM = [0.25, 1.0, 2.0]
DIAG = DiagonalQuadratic(LAM, w_star=[1.0, -0.5, 0.25])
W1 = np.array([3.0, 1.0, -2.0])
SIGMA2 = np.array([0.5, 0.25, 1.0])
TAU2 = np.array([0.0625, 0.125, 0.0])

Q_SCHEDULES = {
    "constant": schedules.constant_q(0.5),
    "random": schedules.random_q(0.25, seed=11),
    "periodic": schedules.periodic_q([1.0, 0.25, 0.5]),
    "adversarial": schedules.adversarial_q(0.25, lambdas=LAM, s1=[4.0, 2.25, 5.0625], mu=0.4,
                                           sigma2=SIGMA2, tau2=TAU2),
}


def _model(mod, q, tau2):
    return mod.chain(mod.shrink(q), mod.add_noise(tau2))


# -- exact expectations vs Monte Carlo -------------------------------------------------------
@pytest.mark.parametrize("qname", Q_SCHEDULES)
def test_monte_carlo_matches_exact_recursion_diagonal(qname):
    q = Q_SCHEDULES[qname]
    K, R = 40, 4000
    res = fast.run(DIAG, W1, K=K, mu=0.4, gradient=_model(fast, q, TAU2),
                   oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), runs=R, seed=2)
    exact = rexp.quadratic_moments(DIAG, W1, K=K, mu=0.4, q=q, sigma2=SIGMA2, tau2=TAU2)
    for field, want in (("gaps", exact.gaps), ("grad_norms2", exact.grad_norms2)):
        mean, se = res.stats(field)
        name = f"monte_carlo_matches_exact_recursion_diagonal[{qname}].{field}"
        # k = 1: deterministic start
        compare.assert_equal(name, mean[0], float(want[0]), rtol=compare.EXACT,
                             context={"k": 1})
        compare.assert_equal(name, mean[1:], [float(v) for v in want[1:]], rtol=compare.EXACT,
                             atol=Z * se[1:], k=range(2, K + 1), context={"runs": R})


@pytest.mark.parametrize("mu", [0.3, schedules.diminishing(4.0, 8.0)], ids=["const", "dimin"])
def test_monte_carlo_matches_exact_recursion_dense(mu):
    A = DenseQuadratic.random(4, c=0.2, L=2.5, seed=5, w_star=[1.0, 0.0, -1.0, 0.5])
    cov = np.array([[1.0, 0.25, 0.0, 0.0], [0.25, 0.5, 0.1, 0.0],
                    [0.0, 0.1, 0.75, 0.0], [0.0, 0.0, 0.0, 0.2]])
    tau2 = np.array([0.05, 0.0, 0.1, 0.02])
    q = schedules.periodic_q([0.5, 1.0, 0.75])
    K, R = 40, 4000
    w1 = np.array([2.0, -1.0, 0.5, 1.0])
    res = fast.run(A, w1, K=K, mu=mu, gradient=_model(fast, q, tau2),
                   oracle=AdditiveNoise(A, cov=cov), runs=R, seed=3)
    exact = rexp.quadratic_moments(A, w1, K=K, mu=mu, q=q, sigma2=cov, tau2=tau2)
    mean, se = res.stats("gaps")
    compare.assert_equal("monte_carlo_matches_exact_recursion_dense", mean[1:],
                         [float(v) for v in exact.gaps[1:]], rtol=compare.EXACT,
                         atol=Z * se[1:], k=range(2, K + 1), context={"runs": R})


def test_monte_carlo_detects_a_wrong_expectation():
    """The 5-standard-error check has power: a 10% error in the noise level is caught."""
    res = fast.run(DIAG, W1, K=60, mu=0.4, gradient=_model(fast, 0.5, TAU2),
                   oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), runs=4000, seed=4)
    wrong = fexp.quadratic_moments(DIAG, W1, K=60, mu=0.4, q=0.5, sigma2=1.1 * SIGMA2,
                                   tau2=TAU2)
    mean, se = res.stats("gaps")
    with pytest.raises(AssertionError, match="Mismatched: "):
        compare.assert_equal("monte_carlo_detects_a_wrong_expectation", mean[1:],
                             wrong.gaps[1:], rtol=compare.EXACT, atol=Z * se[1:],
                             k=range(2, 61), context={"sigma2": "1.1 x true"})


# -- fast vs reference with a derived tolerance ---------------------------------------------
def _forward_error_bounds(obj, res_ref, mus, qs):
    """Bounds E_k >= ||w~_k - w_k||_2 for the fast iterates w~ against the exact ones w.

    Derivation (first order in u, same random draws in both layers): the fast layer
    computes, from w~_k, r = w~ - w*, grad = A r (an inner product of length n_A = 1 for
    diagonal A, d for dense A), g = grad + sqrt(s) z, g~ = q g + sqrt(t) z', mu g~, and
    w~ - mu g~.  The longest chain of roundings feeding the step has 7 + n_A operations,
    so the computed step differs from the exact step at w~_k by at most
    ``gamma_(7 + n_A) mu (q (|A||r| + |xi|) + |e|)`` componentwise, and the final
    subtraction adds ``u |w_(k+1)|``: call the 2-norm of this ``delta_k``.  The exact
    step is affine in w with linear part ``P_k = I - mu_k q_k A``, and ``||P_k||_2 <= 1``
    when ``0 <= mu_k q_k lambda <= 2``, so ``e_(k+1) = P_k e_k + delta_k`` gives
    ``E_(k+1) = E_k + delta_k``.  Magnitudes are taken from the exact trajectory; the
    fast ones differ by O(E_k) (relative 1e-13 here), a second-order effect covered by
    the factor (1 + 1e-6).
    """
    assert max(m * q for m, q in zip(mus, qs)) * obj.L <= 2
    absA = np.abs(obj.hessian)
    n_A = 1 if isinstance(obj, DiagonalQuadratic) else obj.d
    g7 = gamma(7 + n_A)
    E = [0.0]
    for k in range(res_ref.K - 1):
        w = np.array([float(v) for v in res_ref.iterates[k, 0]])
        w_next = np.array([float(v) for v in res_ref.iterates[k + 1, 0]])
        g = np.array([float(v) for v in res_ref.gradients[k, 0]])
        gt = np.array([float(v) for v in res_ref.directions[k, 0]])
        grad = obj.grad(w)
        xi = np.abs(g - grad)
        e = np.abs(gt - qs[k] * g)
        local = g7 * mus[k] * (qs[k] * (absA @ np.abs(w - obj.w_star) + xi) + e) \
            + U64 * np.abs(w_next)
        E.append(E[-1] + float(np.linalg.norm(local)))
    return np.array(E) * (1 + 1e-6)


@pytest.mark.parametrize("kind", ["diagonal", "dense"])
@pytest.mark.parametrize("mu", [0.4, schedules.diminishing(3.0, 6.0)], ids=["const", "dimin"])
def test_fast_matches_reference_within_derived_bound(kind, mu):
    obj = DIAG if kind == "diagonal" else DenseQuadratic.random(
        3, c=0.25, L=2.0, seed=7, w_star=[1.0, -0.5, 0.25])
    q = schedules.periodic_q([1.0, 0.5, 0.75])
    K = 60
    oracle = AdditiveNoise(obj, sigma2=SIGMA2)
    r_fast = fast.run(obj, W1, K=K, mu=mu, gradient=_model(fast, q, TAU2), oracle=oracle,
                      seed=9, trajectory=True)
    r_ref = ref.run(obj, W1, K=K, mu=mu, gradient=_model(ref, q, TAU2), oracle=oracle,
                    seed=9, trajectory=True)
    mus = schedules.as_schedule(mu, "mu", kind="stepsize").values(K - 1)
    E = _forward_error_bounds(obj, r_ref, mus, q.values(K - 1))
    w_ref = r_ref.iterates[:, 0].astype(float)
    # float(mpf) rounds: allow its half ulp on top of the bound
    err = np.linalg.norm(r_fast.iterates[:, 0] - w_ref, axis=1)
    allowed = E + U64 * np.linalg.norm(w_ref, axis=1)
    name = f"fast_matches_reference_within_derived_bound[{kind}-{mu!r}]"
    compare.assert_upper(name, [(k + 1, e, a) for k, (e, a) in enumerate(zip(err, allowed))],
                         rtol=compare.EXACT, context={"kind": kind, "mu": repr(mu)},
                         claim=f"{name}: ||w_fast - w_exact|| <= derived forward error")
    assert err.max() > 0 and E[-1] < 1e-12  # rounding happens; the bound is informative
    n_A = 1 if kind == "diagonal" else obj.d
    absA = np.abs(obj.hessian)
    for k in range(K):
        exact = float(r_ref.gaps[k, 0])
        grad_norm = math.sqrt(float(r_ref.grad_norms2[k, 0]))
        r = np.abs(r_ref.iterates[k, 0].astype(float) - obj.w_star)
        # |F(w~) - F(w)| <= ||grad F(w)|| E + L E^2 / 2, plus evaluating F in float64:
        # r (1 rounding), A r (n_A), the sum of d products (d), the halving (exact):
        # gamma_(d + n_A + 1) |r|^T |A| |r| / 2 (= gamma * gap for diagonal A).
        tol = (grad_norm * E[k] + obj.L * E[k] ** 2 / 2
               + gamma(obj.d + n_A + 1) * float(r @ absA @ r) / 2)
        compare.assert_equal(name, r_fast.gaps[k, 0], exact, rtol=compare.EXACT,
                             atol=tol * (1 + 1e-6), k=k + 1, record_example=False,
                             context={"kind": kind, "mu": repr(mu)},
                             claim=f"{name}: gap of the fast iterate == exact gap")


def test_fast_matches_reference_with_quantisers_in_the_loop():
    """Stochastic rounding of the gradient to bfloat16 and round-to-nearest of the iterate
    to binary32.  The stochastic decision ``u < frac`` sees frac to within ~2^8 u, so a
    flip needs u within ~1e-13 of frac (random, negligible).  The iterate rounding sees
    ``w - mu g~``: with a dyadic stepsize (0.375) that update is exact in float64 (binary32
    w, bfloat16 g~, 2-bit mu), so both layers round the same number and the quantised
    directions and iterates are equal bit for bit; the gaps differ only by float64
    evaluation of F (gamma_(d + 3)).  With a non-dyadic mu (0.4) the float64 rounding of
    the update can land exactly on a binary32 midpoint (double rounding) and the layers
    legitimately differ by one binary32 ulp: the second half of the test shows it."""
    oracle = AdditiveNoise(DIAG, sigma2=SIGMA2)
    kw = dict(K=40, mu=0.375, oracle=oracle, seed=12, trajectory=True)
    r_fast = fast.run(DIAG, W1, gradient=fast.chain(fast.shrink(0.5),
                                                    fast.quantize("bfloat16", "stochastic")),
                      iterate=fast.quantize("binary32", "nearest_even"), **kw)
    r_ref = ref.run(DIAG, W1, gradient=ref.chain(ref.shrink(0.5),
                                                 ref.quantize("bfloat16", "stochastic")),
                    iterate=ref.quantize("binary32", "nearest_even"), **kw)
    dirs_ref = r_ref.directions.astype(float)
    name = "fast_matches_reference_with_quantisers_in_the_loop"
    compare.assert_no_mismatch(name + ".directions", r_fast.directions, dirs_ref,
                               context={"mu": 0.375})
    compare.assert_no_mismatch(name + ".iterates", r_fast.iterates,
                               r_ref.iterates.astype(float), context={"mu": 0.375})
    exact = r_ref.gaps[:, 0].astype(float)
    compare.assert_equal(name + ".gaps", r_fast.gaps[:, 0], exact, rtol=gamma(DIAG.d + 3),
                         context={"mu": 0.375})
    # the iterates really are binary32 numbers and the directions bfloat16 numbers
    assert np.all(r_fast.iterates.astype(np.float32).astype(float) == r_fast.iterates)
    bits = r_fast.directions.view(np.uint64) & np.uint64((1 << 45) - 1)
    assert np.all(bits == 0)
    # non-dyadic stepsize: double rounding makes the layers differ, by binary32 ulps
    kw["mu"] = 0.4
    f2 = fast.run(DIAG, W1, gradient=fast.chain(fast.shrink(0.5),
                                                fast.quantize("bfloat16", "stochastic")),
                  iterate=fast.quantize("binary32", "nearest_even"), **kw)
    r2 = ref.run(DIAG, W1, gradient=ref.chain(ref.shrink(0.5),
                                              ref.quantize("bfloat16", "stochastic")),
                 iterate=ref.quantize("binary32", "nearest_even"), **kw)
    diff = np.abs(f2.iterates - r2.iterates.astype(float))
    assert diff.max() > 0
    # at most one binary32 ulp of max(|w|, 1) per step, over 40 steps
    compare.assert_equal(name + ".double_rounding", f2.iterates, r2.iterates.astype(float),
                         rtol=compare.EXACT,
                         atol=2.0 ** -23 * np.maximum(np.abs(f2.iterates), 1.0) * 40,
                         context={"mu": 0.4})


def test_minibatch_draws_the_same_indices_in_both_layers():
    ls = LeastSquares.synthetic(30, 3, seed=1)
    oracle = Minibatch(ls, 4)
    kw = dict(K=3, mu=0.05, oracle=oracle, seed=21, trajectory=True)
    r_fast = fast.run(ls, np.zeros(3), **kw)
    r_ref = ref.run(ls, np.zeros(3), **kw)
    # from the same w_1 = 0 the first stochastic gradients differ only by float64
    # evaluation of g_j = (1/b) sum_(i in S) x_ij (x_i^T w - y_i): at w = 0 the residual is
    # -y_i exactly, then a product, b - 1 additions and a division: gamma_(b + 1) times
    # (1/b) sum |x_ij y_i| <= max_i |x_ij y_i|
    g_ref = r_ref.gradients[0, 0].astype(float)
    scale = np.max(np.abs(ls.X * ls.y[:, None]), axis=0)
    compare.assert_equal("minibatch_draws_the_same_indices_in_both_layers",
                         r_fast.gradients[0, 0], g_ref, rtol=compare.EXACT,
                         atol=gamma(4 + 1) * scale, context={"batch": 4, "seed": 21})
    assert np.array_equal(r_fast.gradients[0, 0] != 0, g_ref != 0)
    # a different seed draws other indices
    other = fast.run(ls, np.zeros(3), **{**kw, "seed": 22})
    assert not np.array_equal(other.gradients[0, 0], r_fast.gradients[0, 0])


# -- structure of the iteration ---------------------------------------------------------------
def test_effective_stepsize_equivalence_exact_engine():
    """No noise, constant q: (mu, q) iterates equal (mu q, 1) iterates in exact arithmetic;
    the exact layer works at DPS digits, so they agree to ~10^-(DPS - 5)."""
    for obj in (DIAG, CauchyLoss([0.5, -1.0, 2.0])):
        a = ref.run(obj, W1, K=30, mu=0.75, gradient=ref.shrink(0.375))
        b = ref.run(obj, W1, K=30, mu=0.75 * 0.375, gradient=None)
        c = ref.run(obj, W1, K=30, mu=0.75, gradient=ref.shrink(0.5))
        tol = mpmath.mpf(10) ** (5 - ref.DPS)
        # |x - y| <= tol (1 + |y|)
        compare.assert_equal("effective_stepsize_equivalence_exact_engine",
                             list(a.w_final[0]), list(b.w_final[0]), rtol=tol, atol=tol,
                             context={"objective": type(obj).__name__})
        assert any(abs(x - z) > 1e-6 for x, z in zip(a.w_final[0], c.w_final[0]))


def test_measured_shrinkage_of_pure_shrink_is_q():
    q = schedules.periodic_q([1.0, 0.25, 0.625])
    res = fast.run(DIAG, W1, K=10, mu=0.4, gradient=fast.shrink(q),
                   oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), runs=5, seed=1)
    want = np.array(q.values(9))[:, None]
    # q g costs one rounding per component; the two inner products gamma_(d+1) each
    for field in ("q_proj", "norm_ratios"):
        compare.assert_equal(f"measured_shrinkage_of_pure_shrink_is_q.{field}",
                             getattr(res, field), np.broadcast_to(want, res.q_proj.shape),
                             rtol=2 * gamma(DIAG.d + 2), context={"q": repr(q)})


def test_measured_shrinkage_of_truncation_within_profile():
    """toward_zero in bfloat16 (m = 7) on normal-range gradients: every component has
    rho in (2^7 / (2^7 + 1), 1] (the truncation shrinkage of lpsgd.shrinkage), so the
    projection does too."""
    res = fast.run(DIAG, W1, K=30, mu=0.4, gradient=fast.quantize("bfloat16", "toward_zero"),
                   oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), runs=200, seed=5)
    assert np.all(res.q_proj > 128 / 129) and np.all(res.q_proj <= 1)
    assert res.q_proj.min() < 1 - 1e-4      # truncation does shrink


def test_stochastic_rounding_is_unbiased_in_the_loop():
    res = fast.run(DIAG, W1, K=20, mu=0.4, gradient=fast.quantize("float8_e4m3fn",
                                                                  "stochastic"),
                   oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), runs=3000, seed=6,
                   trajectory=True)
    mean, se = res.stats("q_proj")
    # given g (no component above X_max = 448 here), E[Q(g)] = g, so
    # E[<Q(g), g> / ||g||^2 | g] = 1 exactly: the mean over runs is 1 within 5 se
    assert np.abs(res.gradients).max() < 448
    assert np.all(se > 0)
    compare.assert_equal("stochastic_rounding_is_unbiased_in_the_loop", mean, 1.0,
                         rtol=compare.EXACT, atol=Z * se, k=range(1, len(mean) + 1),
                         context={"fmt": "float8_e4m3fn", "runs": 3000})


def test_divergence_above_two_over_qL_is_recorded_not_raised():
    res = fast.run(DIAG, W1, K=2000, mu=2.5, gradient=fast.shrink(0.5), runs=2)
    # mu q L = 2.5 > 2: the error along lambda = 2 grows by |1 - 2.5| = 1.5 per step
    assert res.gaps[100, 0] > 1e10 * res.gaps[0, 0]
    assert not np.isfinite(res.gaps[-1]).all()


def test_seed_reproducible_and_runs_independent():
    kw = dict(K=15, mu=0.3, gradient=_model(fast, 0.5, TAU2),
              oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), runs=4)
    a, b = fast.run(DIAG, W1, seed=3, **kw), fast.run(DIAG, W1, seed=3, **kw)
    c = fast.run(DIAG, W1, seed=4, **kw)
    np.testing.assert_array_equal(a.gaps, b.gaps)
    assert not np.array_equal(a.gaps, c.gaps)
    assert len({tuple(a.gaps[-1])}) == 1 and len(set(a.gaps[-1])) == 4
    starts = np.tile(W1, (4, 1)) + np.arange(4)[:, None]
    d = fast.run(DIAG, starts, seed=3, **kw)
    np.testing.assert_array_equal(d.gaps[0], DIAG.value(starts))
    assert a.gaps.shape == (15, 4) and a.q_proj.shape == (14, 4) and a.w_final.shape == (4, 3)


def test_nonquadratic_objectives_run_in_both_layers():
    lr = LogisticRegression.synthetic(40, 3, reg=0.1, seed=2)
    res = fast.run(lr, np.zeros(3), K=50, mu=1.0 / lr.L, oracle=Minibatch(lr, 5), runs=50,
                   seed=1)
    floor = float(lr.f_star_error) + 4 * U64  # F(w) - f_star >= -(error of f_star)
    compare.assert_upper("nonquadratic_objectives_run_in_both_layers",
                         [(None, float(-g), floor) for g in res.gaps.ravel()],
                         rtol=compare.EXACT, context={"objective": "logistic"},
                         claim="F(w_k) - f_star >= -(certified error of f_star)")
    assert res.gap_mean[-1] < res.gap_mean[0]
    cl = CauchyLoss([1.0, -2.0])
    r1 = fast.run(cl, np.array([0.0, 0.0]), K=20, mu=0.25)
    r2 = ref.run(cl, np.array([0.0, 0.0]), K=20, mu=0.25)
    compare.assert_equal("nonquadratic_objectives_run_in_both_layers.cauchy", r1.gaps[:, 0],
                         r2.gaps[:, 0].astype(float), rtol=compare.FLOAT64_RTOL,
                         context={"objective": "cauchy"})
    assert np.all(np.diff(r1.gaps[:, 0]) <= 0)   # mu <= 1/L: descent on an L-smooth F


def test_reference_keeps_mpmath_precision():
    before = (mpmath.mp.prec, mpmath.mp.dps)
    ref.run(DIAG, W1, K=5, mu=0.3, gradient=ref.quantize("binary16", "stochastic"),
            oracle=AdditiveNoise(DIAG, sigma2=SIGMA2))
    assert (mpmath.mp.prec, mpmath.mp.dps) == before


def test_update_quantisation_makes_every_step_a_format_number():
    """With update=quantize(...), w_k - w_(k+1) = Q(mu_k g~_k): in the exact layer the
    difference of consecutive iterates is exactly a bfloat16 number (8 significant bits)."""
    res = ref.run(DIAG, W1, K=12, mu=0.3, update=ref.quantize("bfloat16", "nearest_even"),
                  oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), seed=3, trajectory=True)
    with mpmath.workdps(ref.DPS):
        for k in range(11):
            for a, b in zip(res.iterates[k, 0], res.iterates[k + 1, 0]):
                step = a - b
                assert step == 0 or mpmath.frexp(step)[0] * 2 ** 8 % 1 == 0
                assert float(step) == step  # representable, so the float check applies
    steps = (res.iterates[:-1, 0] - res.iterates[1:, 0]).astype(float)
    assert np.all(steps.astype(np.float32).view(np.uint32) & np.uint32(0xFFFF) == 0)
    # without the update quantiser the steps are not bfloat16 numbers
    plain = ref.run(DIAG, W1, K=12, mu=0.3, oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), seed=3,
                    trajectory=True)
    steps = (plain.iterates[:-1, 0] - plain.iterates[1:, 0]).astype(float)
    assert np.any(steps.astype(np.float32).view(np.uint32) & np.uint32(0xFFFF) != 0)


def test_measured_shrinkage_uses_the_shrinkage_module_definitions():
    """The engines' fused measurements equal lpsgd.shrinkage's projection_shrinkage and
    norm_ratio on the recorded (g_k, g~_k).  Both sides sum d products in float64 in
    different orders: each inner product is within gamma_d of exact, so the ratios agree
    to 2 gamma_d + u relative (the norm ratio, a square root, to half of that plus u)."""
    shrinkage = pytest.importorskip("lpsgd.shrinkage")
    kw = dict(K=25, mu=0.4, oracle=AdditiveNoise(DIAG, sigma2=SIGMA2), seed=8, trajectory=True)
    r_fast = fast.run(DIAG, W1, gradient=fast.quantize("float8_e4m3fn", "toward_zero"),
                      runs=50, **kw)
    want_p = shrinkage.projection_shrinkage(r_fast.directions, r_fast.gradients)
    want_n = shrinkage.norm_ratio(r_fast.directions, r_fast.gradients)
    tol = 2 * gamma(DIAG.d) + U64
    name = "measured_shrinkage_uses_the_shrinkage_module_definitions"
    compare.assert_equal(name + ".q_proj", r_fast.q_proj, want_p, rtol=tol, context={})
    compare.assert_equal(name + ".norm_ratios", r_fast.norm_ratios, want_n, rtol=tol,
                         context={})
    assert np.any(r_fast.q_proj < 1)
    r_ref = ref.run(DIAG, W1, gradient=ref.quantize("float8_e4m3fn", "toward_zero"), **kw)
    g = r_ref.gradients[:, 0].astype(float)
    gt = r_ref.directions[:, 0].astype(float)   # float8 numbers: exact as float64
    # g rounded to float64 (relative u per component) moves the ratios by <= 2u + gamma_d
    compare.assert_equal(name + ".reference.q_proj", r_ref.q_proj[:, 0].astype(float),
                         shrinkage.projection_shrinkage(gt, g), rtol=tol + 4 * U64,
                         context={})
    compare.assert_equal(name + ".reference.norm_ratios", r_ref.norm_ratios[:, 0].astype(float),
                         shrinkage.norm_ratio(gt, g), rtol=tol + 4 * U64, context={})
