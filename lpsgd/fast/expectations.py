"""Expectations of shrunk SGD on quadratics in float64 (twin of lpsgd.reference.expectations).

Same names, arguments and recursion as :mod:`lpsgd.reference.expectations` (see there for
the model); here everything is numpy float64 and the results are arrays.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lpsgd._expectations_common import check_stable, floor_args, quadratic_args

__all__ = ["Moments", "quadratic_moments", "stationary_floor"]


class Moments(NamedTuple):
    """``gaps[k-1] = E[F(w_k) - F*]`` and ``grad_norms2[k-1] = E||grad F(w_k)||^2``."""

    gaps: np.ndarray
    grad_norms2: np.ndarray


def quadratic_moments(objective, w1, *, K: int, mu, q=1.0, sigma2=None,
                      tau2=None) -> Moments:
    """``E[F(w_k) - F*]`` and ``E||grad F(w_k)||^2`` for k = 1..K in float64.

    Arguments as :func:`lpsgd.reference.expectations.quadratic_moments`.
    """
    diagonal, A, d, w1, K, mu, q, Sx, Se = quadratic_args(objective, w1, K, mu, q, sigma2, tau2)
    mus = np.array(mu.values(K - 1))
    qs = np.array(q.values(K - 1))
    e = w1 - objective.w_star
    gaps = np.empty(K)
    gn = np.empty(K)
    if diagonal:
        lam, sx, se = A, np.diag(Sx), np.diag(Se)
        s = e * e
        for k in range(K):
            gaps[k] = 0.5 * float(lam @ s)
            gn[k] = float((lam * lam) @ s)
            if k < K - 1:
                m, qq = mus[k], qs[k]
                s = (1.0 - m * qq * lam) ** 2 * s + m * m * (qq * qq * sx + se)
        return Moments(gaps, gn)
    S = np.outer(e, e)
    A2 = A @ A
    eye = np.eye(d)
    for k in range(K):
        gaps[k] = 0.5 * float(np.sum(A * S))   # tr(A S) with S, A symmetric
        gn[k] = float(np.sum(A2 * S))
        if k < K - 1:
            m, qq = mus[k], qs[k]
            P = eye - (m * qq) * A
            S = P @ S @ P.T + (m * m) * (qq * qq * Sx + Se)
    return Moments(gaps, gn)


def stationary_floor(objective, *, mu, q=1.0, sigma2=None, tau2=None) -> float:
    """Closed-form stationary ``E[F - F*]`` in float64 (see the reference twin)."""
    diagonal, A, d, mu, q, Sx, Se = floor_args(objective, mu, q, sigma2, tau2)
    m, qq = float(mu), float(q)
    if diagonal:
        lam, cx, ce = A, np.diag(Sx), np.diag(Se)
    else:
        lam, U = np.linalg.eigh(A)
        cx = np.einsum("ji,jk,ki->i", U, Sx, U)
        ce = np.einsum("ji,jk,ki->i", U, Se, U)
    check_stable(m * qq * lam, mu, q)
    return float(np.sum(m * (qq * qq * cx + ce) / (2.0 * qq * (2.0 - m * qq * lam))))
