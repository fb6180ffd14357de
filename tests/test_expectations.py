"""Exact second-moment recursions (lpsgd.reference.expectations): both layers, floor, rotation."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from lpsgd import schedules
from lpsgd.errors import AssumptionError
from lpsgd.fast import expectations as fast
from lpsgd.objectives import DenseQuadratic, DiagonalQuadratic
from lpsgd.reference import expectations as ref

U64 = 2.0 ** -53  # unit roundoff of binary64, 0x1p-53 = 1.1102230246251565e-16


def gamma(n: int) -> float:
    """gamma_n = n u / (1 - n u): relative error bound of n successive float64 roundings."""
    return n * U64 / (1 - n * U64)

DIAG = DiagonalQuadratic([0.5, 1.0, 2.0], w_star=[0.25, -1.0, 3.0])
W1 = np.array([1.0, -2.0, 1.0])
SIGMA2 = [1.0, 0.5, 0.25]
TAU2 = [0.125, 0.0, 0.0625]

Q_SCHEDULES = {
    "constant": schedules.constant_q(0.5),
    "random": schedules.random_q(0.2, seed=3),
    "periodic": schedules.periodic_q([1.0, 0.25, 0.5]),
    "adversarial": schedules.adversarial_q(0.25, lambdas=[0.5, 1.0, 2.0], s1=[0.5625, 1.0, 4.0],
                                           mu=0.3, sigma2=SIGMA2, tau2=TAU2),
}
MU_SCHEDULES = {"constant": schedules.constant(0.3), "diminishing": schedules.diminishing(3.0, 9.0)}


@pytest.mark.parametrize("qname", Q_SCHEDULES)
@pytest.mark.parametrize("muname", MU_SCHEDULES)
def test_fast_matches_exact_diagonal(qname, muname):
    """Forward error of the float64 recursion.

    Every quantity in the diagonal recursion is a sum of non-negative terms except
    ``1 - x`` with ``x = mu q lambda``: x carries 2 roundings (absolute error 2u x), so
    ``1 - x`` has relative error ``(2x / (1 - x) + 1) u <= 4u`` for ``x <= 0.6`` (asserted);
    squaring gives ``a`` within 9u, ``a s`` adds 1u, ``b = mu^2 (q^2 sigma^2 + tau^2)`` is
    within 5u, and ``a s + b`` adds 1u: each step adds at most 11u relative to what it
    carries; ``s_1 = (w_1 - w*)^2`` starts within 3u, so by induction ``s_k`` is within
    ``(11 (k - 1) + 3) u`` (first order), and the weighted sums over d coordinates add
    ``(d + 1) u`` (``lambda_i^2`` one more).
    """
    K = 60
    kw = dict(K=K, mu=MU_SCHEDULES[muname], q=Q_SCHEDULES[qname], sigma2=SIGMA2, tau2=TAU2)
    mus = np.array(MU_SCHEDULES[muname].values(K - 1))
    qs = np.array(Q_SCHEDULES[qname].values(K - 1))
    assert (mus * qs).max() * DIAG.L <= 0.6
    exact = ref.quadratic_moments(DIAG, W1, **kw)
    approx = fast.quadratic_moments(DIAG, W1, **kw)
    for k in range(K):
        rtol = gamma(11 * k + 3 + DIAG.d + 2)
        for e, a in ((exact.gaps[k], approx.gaps[k]), (exact.grad_norms2[k],
                                                        approx.grad_norms2[k])):
            assert abs(a - e) <= rtol * e, (k, a, e)


def test_fast_matches_exact_dense():
    """Forward error of the float64 matrix recursion S' = P S P^T + mu^2 (q^2 Sx + Se).

    Per step, the two matrix products (inner products of length d each) and the three
    additions/scalings give a local error ``|fl(S') - S'| <= gamma_(2d+3) (|P||S||P|^T
    + mu^2 (q^2 |Sx| + |Se|))`` elementwise; in Frobenius norm call it ``l_k``.  Errors
    carried from earlier steps are mapped by ``X -> P X P^T`` with ``||P||_2 <= 1`` (here
    ``mu q lambda <= 2``), so ``||dS_k||_F <= sum_(j<k) l_j``.  The gap ``tr(A S)/2`` then
    errs by ``||A||_F ||dS_k||_F / 2`` plus its own evaluation, ``gamma_(d^2)
    sum |A| |S| / 2``.  Magnitudes |S_k| come from the float64 recursion itself (their
    own error is second order).
    """
    A = DenseQuadratic.random(4, c=0.3, L=2.0, seed=1, w_star=[1.0, 0.0, -1.0, 0.5])
    cov = np.array([[1.0, 0.25, 0, 0], [0.25, 0.5, 0, 0], [0, 0, 0.75, 0], [0, 0, 0, 0.1]])
    tau2 = 0.05
    K, mu = 40, 0.4
    q = schedules.periodic_q([1.0, 0.5])
    kw = dict(K=K, mu=mu, q=q, sigma2=cov, tau2=tau2)
    w1 = np.array([2.0, 1.0, 0.0, -1.0])
    exact = ref.quadratic_moments(A, w1, **kw)
    approx = fast.quadratic_moments(A, w1, **kw)
    d, H = A.d, A.A
    assert mu * A.L <= 2
    e = w1 - A.w_star
    S = np.outer(e, e)
    err_S = 0.0
    g_step, g_eval = gamma(2 * d + 3), gamma(d * d)
    worst = 0.0
    for k, qk in enumerate(q.values(K)):
        tol = 0.5 * np.linalg.norm(H) * err_S + g_eval * 0.5 * float(np.sum(np.abs(H * S)))
        diff = abs(approx.gaps[k] - float(exact.gaps[k]))
        assert diff <= tol * (1 + 1e-6) + U64 * float(exact.gaps[k]), (k, diff, tol)
        worst = max(worst, tol / float(exact.gaps[k]))
        P = np.eye(d) - mu * qk * H
        noise = mu * mu * (qk * qk * cov + tau2 * np.eye(d))
        err_S += g_step * np.linalg.norm(np.abs(P) @ np.abs(S) @ np.abs(P).T + np.abs(noise))
        S = P @ S @ P.T + noise
    assert worst < 1e-12  # the derived tolerance is informative


@pytest.mark.parametrize("q", [1.0, 0.5, 0.125])
def test_recursion_converges_to_closed_form_floor(q):
    """gap_k - floor = 1/2 sum_i lambda_i a_i^(k-1) (s_1i - s_inf,i), a_i = (1 - mu q l_i)^2,
    so |gap_K - floor| <= max_i a_i^(K-1) * 1/2 sum_i lambda_i |s_1i - s_inf,i|; we check
    the recursion, run independently, against the closed form with that derived bound."""
    mu, K = 0.6, 1000
    lam = DIAG.lambdas
    with mpmath.workdps(ref.DPS):
        floor = ref.stationary_floor(DIAG, mu=mu, q=q, sigma2=SIGMA2, tau2=TAU2)
        exact = ref.quadratic_moments(DIAG, W1, K=K, mu=mu, q=q, sigma2=SIGMA2, tau2=TAU2)
        a = [(1 - mpmath.mpf(mu) * q * li) ** 2 for li in lam]
        s1 = [(x - y) ** 2 for x, y in zip(W1, DIAG.w_star)]
        s_inf = [mpmath.mpf(mu) ** 2 * (q * q * s + t) / (1 - ai)
                 for s, t, ai in zip(SIGMA2, TAU2, a)]
        spread = mpmath.fsum(li * abs(mpmath.mpf(x) - y) for li, x, y in zip(lam, s1, s_inf)) / 2
        for k in (1, 10, 100, K):
            bound = max(a) ** (k - 1) * spread + mpmath.mpf(10) ** (10 - ref.DPS)
            assert abs(exact.gaps[k - 1] - floor) <= bound
        # the floor is actually approached (the check above is not vacuous)
        assert abs(exact.gaps[-1] - floor) < mpmath.mpf(10) ** -20 * floor
    assert abs(fast.stationary_floor(DIAG, mu=mu, q=q, sigma2=SIGMA2, tau2=TAU2)
               - float(floor)) <= 8 * DIAG.d * U64 * float(floor)


def _hadamard_quadratic():
    # H/2 with H the 4x4 Hadamard matrix is orthogonal with entries +-1/2, so
    # A = U diag(lam) U^T and the rotated noise are exact in binary64.
    H = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0
    lam = np.array([0.5, 1.0, 1.5, 2.0])
    return H, lam


def test_dense_equals_diagonal_after_rotation_exactly():
    U, lam = _hadamard_quadratic()
    diag = DiagonalQuadratic(lam, w_star=[1.0, 0.0, -1.0, 2.0])
    dense = DenseQuadratic((U * lam) @ U.T, w_star=U @ diag.w_star)
    sigma2 = np.array([1.0, 0.5, 0.25, 2.0])
    tau2 = np.array([0.0625, 0.125, 0.0, 0.25])
    rot = lambda v: (U * v) @ U.T  # noqa: E731
    w1 = np.array([0.5, 1.0, 1.5, -2.0])
    kw = dict(K=30, mu=schedules.diminishing(2.0, 3.0), q=schedules.periodic_q([0.5, 1.0]))
    m_diag = ref.quadratic_moments(diag, w1, sigma2=sigma2, tau2=tau2, **kw)
    m_dense = ref.quadratic_moments(dense, U @ w1, sigma2=rot(sigma2), tau2=rot(tau2), **kw)
    tol = mpmath.mpf(10) ** (8 - ref.DPS)
    for a, b in zip(m_diag.gaps + m_diag.grad_norms2, m_dense.gaps + m_dense.grad_norms2):
        assert abs(a - b) <= tol * abs(a)
    f_diag = ref.stationary_floor(diag, mu=0.5, q=0.5, sigma2=sigma2, tau2=tau2)
    f_dense = ref.stationary_floor(dense, mu=0.5, q=0.5, sigma2=rot(sigma2), tau2=rot(tau2))
    assert abs(f_diag - f_dense) <= tol * f_diag


def test_dense_random_rotation_matches_diagonal():
    """A general rotation is only exact up to float64 rounding of A: agreement to ~1e-13."""
    lam = np.array([0.3, 0.9, 1.7, 2.5, 3.0])
    dense = DenseQuadratic.from_spectrum(lam, seed=4)
    U = dense.rotation
    diag = DiagonalQuadratic(lam)
    sigma2 = np.array([1.0, 0.2, 0.3, 0.4, 0.5])
    C = (U * sigma2) @ U.T
    C = (C + C.T) / 2
    w1 = np.array([1.0, -1.0, 2.0, 0.5, 0.0])
    a = fast.quadratic_moments(diag, w1, K=50, mu=0.5, q=0.5, sigma2=sigma2)
    b = fast.quadratic_moments(dense, U @ w1, K=50, mu=0.5, q=0.5, sigma2=C)
    np.testing.assert_allclose(b.gaps, a.gaps, rtol=1e-12)


def test_effective_stepsize_equivalence_exact():
    """No noise, constant q: (mu, q) gives exactly the moments of (mu q, 1)."""
    for obj in (DIAG, DenseQuadratic.random(3, c=0.5, L=2.0, seed=2)):
        w1 = np.array([1.0, -3.0, 0.5])
        m1 = ref.quadratic_moments(obj, w1, K=40, mu=0.75, q=0.375)
        m2 = ref.quadratic_moments(obj, w1, K=40, mu=0.75 * 0.375, q=1.0)  # exact product
        for a, b in zip(m1.gaps, m2.gaps):
            assert a == b
        # and a different q does change them (the check can fail)
        m3 = ref.quadratic_moments(obj, w1, K=40, mu=0.75, q=0.5)
        assert m3.gaps[-1] != m1.gaps[-1]


def test_k1_is_the_initial_gap():
    m = ref.quadratic_moments(DIAG, W1, K=1, mu=0.3, sigma2=SIGMA2)
    with mpmath.workdps(ref.DPS):
        assert m.gaps[0] == DIAG.value_mp(W1) - DIAG.f_star
    assert len(m.gaps) == 1


@pytest.mark.parametrize("layer", [ref, fast], ids=["reference", "fast"])
@pytest.mark.parametrize("mu,q", [(1.0, 1.0), (2.0, 0.5), (4.0, 1.0)])
def test_floor_refuses_unstable_stepsizes(layer, mu, q):
    # mu q lambda_max = 2 (boundary, excluded) or 4
    with pytest.raises(AssumptionError, match=r"mu\*q\*lambda"):
        layer.stationary_floor(DIAG, mu=mu, q=q, sigma2=SIGMA2)


def test_floor_refuses_zero_eigenvalue():
    with pytest.raises(AssumptionError):
        ref.stationary_floor(DiagonalQuadratic([0.0, 1.0]), mu=0.5, sigma2=1.0)
