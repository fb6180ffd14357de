"""Objectives: gradients, mpmath twins, the computed constants L, c, F*, and the oracles."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from lpsgd.objectives import (AdditiveNoise, CauchyLoss, DenseQuadratic, DiagonalQuadratic,
                              LeastSquares, LogisticRegression, Minibatch)

EPS = np.finfo(np.float64).eps  # 0x1p-52 = 2.220446049250313e-16


def _objectives():
    return [
        DiagonalQuadratic([0.1, 1.0, 3.0], w_star=[1.0, -2.0, 0.5], f_star=0.25),
        DenseQuadratic.random(5, c=0.2, L=4.0, seed=3, w_star=np.arange(5.0)),
        LeastSquares.synthetic(40, 4, seed=5),
        LogisticRegression.synthetic(60, 3, reg=0.05, seed=7),
        CauchyLoss([0.5, -1.0, 2.0, 0.0]),
    ]


OBJECTIVES = _objectives()
IDS = [o.name for o in OBJECTIVES]


@pytest.mark.parametrize("obj", OBJECTIVES, ids=IDS)
def test_grad_matches_central_differences(obj):
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = rng.standard_normal(obj.d) * 2
        h = 1e-6
        fd = np.array([(obj.value(w + h * e) - obj.value(w - h * e)) / (2 * h)
                       for e in np.eye(obj.d)])
        # central difference error O(h^2 F''') plus rounding O(eps |F| / h)
        tol = 1e-6 * max(1.0, abs(obj.value(w)))
        np.testing.assert_allclose(obj.grad(w), fd, rtol=0, atol=tol)


@pytest.mark.parametrize("obj", OBJECTIVES, ids=IDS)
def test_numpy_matches_mpmath_twin(obj):
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, obj.d))
    values, grads = obj.value(W), obj.grad(W)
    assert values.shape == (4,) and grads.shape == (4, obj.d)
    with mpmath.workdps(40):
        for r in range(4):
            v_mp = obj.value_mp(W[r])
            g_mp = obj.grad_mp(W[r])
            # float64 evaluation: a few ulps per term times the number of terms summed
            n_terms = getattr(obj, "n", obj.d) * obj.d
            scale = float(mpmath.fsum(abs(x) for x in g_mp)) + 1.0
            assert abs(values[r] - float(v_mp)) <= 8 * n_terms * EPS * (abs(float(v_mp)) + 1)
            assert max(abs(g - float(gm)) for g, gm in zip(grads[r], g_mp)) \
                <= 8 * n_terms * EPS * scale
            # a single point gives a row of the batch (BLAS may sum in another order)
            np.testing.assert_allclose(obj.value(W[r]), values[r], rtol=4 * n_terms * EPS)
            np.testing.assert_allclose(obj.grad(W[r]), grads[r], rtol=0,
                                       atol=4 * n_terms * EPS * scale)


@pytest.mark.parametrize("obj", OBJECTIVES, ids=IDS)
def test_lipschitz_ratio_never_exceeds_L(obj):
    rng = np.random.default_rng(2)
    worst = 0.0
    w_star = getattr(obj, "w_star", np.zeros(obj.d))
    for scale in (1e-3, 0.1, 1.0, 10.0):
        W = w_star + scale * rng.standard_normal((200, obj.d))
        V = W + scale * rng.standard_normal((200, obj.d)) * 0.1
        ratio = (np.linalg.norm(obj.grad(W) - obj.grad(V), axis=1)
                 / np.linalg.norm(W - V, axis=1))
        worst = max(worst, float(ratio.max()))
    assert worst <= obj.L * (1 + 1e-9)
    # and L is not grossly loose: random pairs get within a factor 4 of it
    assert worst >= obj.L / 4


@pytest.mark.parametrize("obj", OBJECTIVES[:4], ids=IDS[:4])
def test_strong_convexity_c(obj):
    assert obj.c is not None and obj.c > 0
    rng = np.random.default_rng(3)
    W = rng.standard_normal((300, obj.d)) * 3
    V = rng.standard_normal((300, obj.d)) * 3
    lhs = np.einsum("rd,rd->r", obj.grad(W) - obj.grad(V), W - V)
    assert np.all(lhs >= obj.c * np.sum((W - V) ** 2, axis=1) * (1 - 1e-9))


def test_quadratic_constants_exact():
    q = DiagonalQuadratic([0.5, 2.0, 0.0])
    assert (q.L, q.c) == (2.0, None)
    dq = DenseQuadratic.from_spectrum([0.25, 1.0, 8.0], seed=0)
    # eigenvalues of the rounded matrix are within the widened interval [c, L]
    assert dq.c <= 0.25 <= dq.c * (1 + 1e-12) and dq.L / (1 + 1e-12) <= 8.0 <= dq.L


def test_cauchy_second_derivative_bound():
    # phi''(t) = 2 (1 - t^2) / (1 + t^2)^2: max 2 at t = 0, min -1/4 at t^2 = 3
    t = np.linspace(-50, 50, 200001)
    phi2 = 2 * (1 - t * t) / (1 + t * t) ** 2
    assert phi2.max() <= 2.0 and phi2.min() >= -0.25
    # the gradient's derivative by differences agrees with the formula
    f = CauchyLoss([0.0])
    h = 1e-5
    fd = (f.grad((t[::1000] + h)[:, None]) - f.grad((t[::1000] - h)[:, None]))[:, 0] / (2 * h)
    np.testing.assert_allclose(fd, phi2[::1000], atol=1e-8)
    assert f.value(np.array([0.0])) == 0.0 == f.f_inf


def test_least_squares_f_star():
    ls = LeastSquares.synthetic(30, 5, seed=11)
    w_ls = np.linalg.lstsq(ls.X, ls.y, rcond=None)[0]
    assert abs(ls.f_star - float(ls.value(w_ls))) <= 1e-12 * max(ls.f_star, 1e-300)
    assert ls.f_star_error < mpmath.mpf(10) ** -60
    with mpmath.workdps(50):
        g = ls.grad_mp(ls.w_star_mp)
        assert max(abs(x) for x in g) < mpmath.mpf(10) ** -40
    W = ls.w_star + np.random.default_rng(0).standard_normal((100, 5))
    assert np.all(ls.value(W) >= ls.f_star)


def test_logistic_f_star_certified():
    lr = LogisticRegression.synthetic(80, 4, reg=0.02, seed=13)
    assert lr.f_star_error < mpmath.mpf(10) ** -30
    rng = np.random.default_rng(4)
    W = lr.w_star + rng.standard_normal((200, 4)) * rng.choice([1e-4, 1e-2, 1.0], (200, 1))
    assert np.all(lr.value(W) >= lr.f_star - 4 * EPS)
    # L formula: lambda_max(X^T X)/(4n) + reg, widened by a tiny margin only
    lam = np.linalg.eigvalsh(lr.X.T @ lr.X).max() / (4 * lr.n) + lr.reg
    assert lam <= lr.L <= lam * (1 + 1e-12)


@pytest.mark.parametrize("obj", [LeastSquares.synthetic(30, 3, seed=17),
                                 LogisticRegression.synthetic(30, 3, reg=0.1, seed=19)],
                         ids=["least_squares", "logistic"])
@pytest.mark.parametrize("batch", [1, 4])
def test_minibatch_variance_constants_hold(obj, batch):
    """The exact minibatch variance at many points stays below M + M_V ||grad F||^2."""
    oracle = Minibatch(obj, batch)
    rng = np.random.default_rng(5)
    for scale in (0.01, 1.0, 100.0):
        W = obj.w_star + scale * rng.standard_normal((50, obj.d))
        gF = obj.grad(W)
        comps = np.stack([obj.component_grads(W, np.full((50, 1), i)) for i in range(obj.n)])
        var = np.mean(np.sum((comps - gF) ** 2, axis=2), axis=0) / batch   # with replacement
        bound = oracle.M + oracle.M_V * np.sum(gF * gF, axis=1)
        assert np.all(var <= bound)
    # the sampled gradient is unbiased: Monte Carlo mean within 5 standard errors
    w = obj.w_star + 0.3
    g = oracle.sample(np.tile(w, (20000, 1)), np.random.default_rng(6))
    se = g.std(axis=0, ddof=1) / np.sqrt(len(g))
    assert np.all(np.abs(g.mean(axis=0) - obj.grad(w)) <= 5 * se)


def test_additive_noise_second_moment_and_draws():
    obj = DiagonalQuadratic([1.0, 2.0])
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    oracle = AdditiveNoise(obj, cov=cov)
    assert oracle.M == 3.0 and oracle.M_V == 0.0
    w = np.zeros((50000, 2))
    xi = oracle.sample(w, np.random.default_rng(7))
    emp = np.cov(xi.T)
    se = np.sqrt((cov ** 2 + np.outer(np.diag(cov), np.diag(cov))) / len(xi))
    assert np.all(np.abs(emp - cov) <= 5 * se)
    # one run in the fast layer and the exact layer draw the same numbers
    d_oracle = AdditiveNoise(obj, sigma2=[0.5, 2.0])
    fast = d_oracle.sample(np.array([[1.0, -1.0]]), np.random.default_rng(8))[0]
    with mpmath.workdps(30):
        exact = d_oracle.sample_mp([mpmath.mpf(1), mpmath.mpf(-1)], np.random.default_rng(8))
    np.testing.assert_allclose(fast, [float(x) for x in exact], rtol=4 * EPS)


def test_mpmath_global_precision_untouched():
    before = (mpmath.mp.prec, mpmath.mp.dps)
    for obj in OBJECTIVES:
        obj.value_mp(np.zeros(obj.d))
    LogisticRegression.synthetic(20, 2, reg=0.1, seed=1).f_star
    assert (mpmath.mp.prec, mpmath.mp.dps) == before


@pytest.mark.parametrize("obj", OBJECTIVES, ids=IDS)
def test_fused_value_grad_equals_separate(obj):
    W = np.random.default_rng(9).standard_normal((6, obj.d))
    v, g = obj._value_grad(W)
    # the same operations in the same order: bit-identical
    np.testing.assert_array_equal(v, obj.value(W))
    np.testing.assert_array_equal(g, obj.grad(W))
