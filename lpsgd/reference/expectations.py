"""Exact expectations of shrunk SGD on quadratics, in mpmath.

Model: ``F(w) = 1/2 (w - w*)^T A (w - w*) + F*``, iteration
``w_{k+1} = w_k - mu_k (q_k (grad F(w_k) + xi_k) + e_k)`` with independent zero-mean
gradient noise ``xi_k`` (covariance ``Sigma_xi``) and quantisation noise ``e_k``
(covariance ``Sigma_e``).  With ``S_k = E[(w_k - w*)(w_k - w*)^T]`` and
``P_k = I - mu_k q_k A``:

.. math:: S_{k+1} = P_k S_k P_k^T + \\mu_k^2 (q_k^2 \\Sigma_\\xi + \\Sigma_e),

``E[F(w_k) - F*] = 1/2 tr(A S_k)`` and ``E||grad F(w_k)||^2 = tr(A S_k A)``.  For diagonal
A only the diagonal of ``S_k`` matters (``P_k`` diagonal), which gives the per-coordinate
recursion ``s_{k+1,i} = (1 - mu_k q_k lambda_i)^2 s_{k,i} + mu_k^2 (q_k^2 sigma_i^2 +
tau_i^2)``.  These are deterministic: evaluated here at ``DPS`` digits they are the
ground truth the bounds of Theorems 1-4 are compared with.

Indexing: ``w_1`` is the (deterministic) start, and ``quadratic_moments(..., K=K)`` returns
the values for ``k = 1..K``, using ``mu_1..mu_{K-1}`` and ``q_1..q_{K-1}``.
"""

from __future__ import annotations

from typing import NamedTuple

import mpmath
import numpy as np

from lpsgd._expectations_common import check_stable, floor_args, quadratic_args
from lpsgd.schedules import to_mpf

__all__ = ["Moments", "quadratic_moments", "stationary_floor", "DPS"]

#: Working precision (decimal digits) of the exact layer.  The recursion is a contraction
#: (|1 - mu q lambda| < 1 in the stable regime), so rounding errors do not grow: each of
#: the K values is correct to about DPS - log10(K d) digits.
DPS = 50


class Moments(NamedTuple):
    """``gaps[k-1] = E[F(w_k) - F*]`` and ``grad_norms2[k-1] = E||grad F(w_k)||^2``."""

    gaps: tuple
    grad_norms2: tuple


def quadratic_moments(objective, w1, *, K: int, mu, q=1.0, sigma2=None,
                      tau2=None) -> Moments:
    """Exact ``E[F(w_k) - F*]`` and ``E||grad F(w_k)||^2`` for k = 1..K (mpmath, DPS digits).

    Args:
        objective: a :class:`~lpsgd.objectives.DiagonalQuadratic` (per-coordinate
            recursion) or :class:`~lpsgd.objectives.DenseQuadratic` (matrix recursion).
        w1: the deterministic start (d,).
        K: number of iterates (values for k = 1..K).
        mu: stepsize, a number or a stepsize schedule.
        q: shrinkage, a number in (0, 1] or a shrinkage schedule.
        sigma2: gradient-noise covariance: None, a variance for every coordinate,
            variances (d,) or a (d, d) matrix.
        tau2: quantisation-noise covariance, same forms.

    Returns:
        :class:`Moments` of two K-tuples of mpf.
    """
    diagonal, A, d, w1, K, mu, q, Sx, Se = quadratic_args(objective, w1, K, mu, q, sigma2, tau2)
    with mpmath.workdps(DPS):
        mus, qs = mu.values_mp(K - 1), q.values_mp(K - 1)
        e = [to_mpf(a) - to_mpf(b) for a, b in zip(w1, objective.w_star)]
        if diagonal:
            return _diagonal(A, e, mus, qs, np.diag(Sx), np.diag(Se), K)
        return _dense(A, e, mus, qs, Sx, Se, K)


def _diagonal(lam, e, mus, qs, sx, se, K) -> Moments:
    lam = [to_mpf(v) for v in lam]
    sx = [to_mpf(v) for v in sx]
    se = [to_mpf(v) for v in se]
    s = [ei * ei for ei in e]
    gaps, gn = [], []
    for k in range(K):
        gaps.append(mpmath.fsum(li * si for li, si in zip(lam, s)) / 2)
        gn.append(mpmath.fsum(li * li * si for li, si in zip(lam, s)))
        if k == K - 1:
            break
        mu, q = mus[k], qs[k]
        s = [(1 - mu * q * li) ** 2 * si + mu ** 2 * (q ** 2 * xi + ti)
             for li, si, xi, ti in zip(lam, s, sx, se)]
    return Moments(tuple(gaps), tuple(gn))


def _dense(A, e, mus, qs, Sx, Se, K) -> Moments:
    d = len(e)
    Am = mpmath.matrix(A.tolist())
    A2 = Am * Am
    Sxm, Sem = mpmath.matrix(Sx.tolist()), mpmath.matrix(Se.tolist())
    em = mpmath.matrix(e)
    S = em * em.T
    eye = mpmath.eye(d)
    gaps, gn = [], []
    for k in range(K):
        gaps.append(mpmath.fsum(Am[i, j] * S[j, i] for i in range(d) for j in range(d)) / 2)
        gn.append(mpmath.fsum(A2[i, j] * S[j, i] for i in range(d) for j in range(d)))
        if k == K - 1:
            break
        mu, q = mus[k], qs[k]
        P = eye - (mu * q) * Am
        S = P * S * P.T + (mu ** 2) * ((q ** 2) * Sxm + Sem)
    return Moments(tuple(gaps), tuple(gn))


def stationary_floor(objective, *, mu, q=1.0, sigma2=None, tau2=None) -> mpmath.mpf:
    """Closed-form ``lim_k E[F(w_k) - F*]`` for constant mu and q.

    .. math:: E[F - F^*]_\\infty = \\sum_i \\frac{\\mu (q^2 \\sigma_i^2 + \\tau_i^2)}
              {2 q (2 - \\mu q \\lambda_i)}

    For dense A the same formula holds in A's eigenbasis ``A = U diag(lambda) U^T`` with
    ``sigma_i^2 = (U^T Sigma_xi U)_ii`` and ``tau_i^2 = (U^T Sigma_e U)_ii`` (the stationary
    ``S~ = U^T S U`` has ``S~_ii = mu^2 C~_ii / (1 - (1 - mu q lambda_i)^2)``, and
    ``1/2 tr(A S) = 1/2 sum_i lambda_i S~_ii``); U is computed by ``mpmath.eigsy``.

    Raises:
        AssumptionError: unless ``0 < mu q lambda_i < 2`` for every eigenvalue.
    """
    diagonal, A, d, mu, q, Sx, Se = floor_args(objective, mu, q, sigma2, tau2)
    with mpmath.workdps(DPS):
        m, qq = to_mpf(mu), to_mpf(q)
        if diagonal:
            lam = [to_mpf(v) for v in A]
            cx = [to_mpf(v) for v in np.diag(Sx)]
            ce = [to_mpf(v) for v in np.diag(Se)]
        else:
            ev, U = mpmath.eigsy(mpmath.matrix(A.tolist()))
            lam = [ev[i] for i in range(d)]
            Cx = U.T * mpmath.matrix(Sx.tolist()) * U
            Ce = U.T * mpmath.matrix(Se.tolist()) * U
            cx = [Cx[i, i] for i in range(d)]
            ce = [Ce[i, i] for i in range(d)]
        check_stable([m * qq * li for li in lam], mu, q)
        return mpmath.fsum(m * (qq ** 2 * x + t) / (2 * qq * (2 - m * qq * li))
                           for li, x, t in zip(lam, cx, ce))
