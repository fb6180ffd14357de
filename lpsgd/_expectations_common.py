"""Argument checks shared by the exact and the fast expectations of shrunk SGD.

:mod:`lpsgd.reference.expectations` (mpmath) and :mod:`lpsgd.fast.expectations` (float64)
compute the same recursion and closed-form floor independently; what they share is only
this layer: reading the quadratic, the noise covariances and the schedules (one wording
for every bad argument) and the stability assumption of the stationary floor.  Neither
layer imports the other.
"""

from __future__ import annotations

import numpy as np

from lpsgd._validate import check_int, check_real
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.objectives import DenseQuadratic, DiagonalQuadratic, as_real_array
from lpsgd.schedules import as_schedule

__all__ = ["quadratic_args", "floor_args", "check_stable"]


def _parse_quadratic(objective) -> tuple[bool, np.ndarray]:
    if isinstance(objective, DiagonalQuadratic):
        return True, objective.lambdas
    if isinstance(objective, DenseQuadratic):
        return False, objective.A
    raise InvalidArgument(
        f"Expected objective to be a DiagonalQuadratic or DenseQuadratic but got "
        f"objective={objective!r}")


def _noise_matrix(name: str, value, d: int) -> np.ndarray:
    """A covariance from None (0), a number (isotropic), variances (d,) or a matrix (d, d)."""
    if value is None:
        return np.zeros((d, d))
    arr = as_real_array(name, value, ndim=(0, 1, 2))
    if arr.ndim == 0:
        if arr < 0:
            raise InvalidArgument(f"Expected {name} >= 0 but got {name}={float(arr)!r}")
        return float(arr) * np.eye(d)
    if arr.ndim == 1:
        if arr.shape != (d,):
            raise InvalidArgument(f"Expected {name} to have shape ({d},) but got shape "
                                  f"{arr.shape}")
        if arr.min() < 0:
            raise InvalidArgument(
                f"Expected {name} >= 0 elementwise (variances) but got {name} containing "
                f"{float(arr.min())!r}")
        return np.diag(arr)
    if arr.shape != (d, d):
        raise InvalidArgument(f"Expected {name} to have shape ({d}, {d}) but got shape "
                              f"{arr.shape}")
    if not np.array_equal(arr, arr.T):
        raise InvalidArgument(f"Expected {name} to be a symmetric covariance but got an "
                              f"asymmetric matrix")
    if np.diag(arr).min() < 0:
        raise InvalidArgument(
            f"Expected {name} to have variances >= 0 on its diagonal but got "
            f"{float(np.diag(arr).min())!r}")
    return arr


def quadratic_args(objective, w1, K, mu, q, sigma2, tau2):
    """The checked arguments of ``quadratic_moments``: ``(diagonal, A, d, w1, K, mu, q,
    Sigma_xi, Sigma_e)`` with mu and q as schedules and the covariances as (d, d) arrays."""
    diagonal, A = _parse_quadratic(objective)
    d = objective.d
    w1 = as_real_array("w1", w1, shape=(d,))
    K = check_int("K", K, min_value=1)
    mu = as_schedule(mu, "mu", kind="stepsize")
    q = as_schedule(q, "q", kind="shrinkage")
    Sx = _noise_matrix("sigma2", sigma2, d)
    Se = _noise_matrix("tau2", tau2, d)
    return diagonal, A, d, w1, K, mu, q, Sx, Se


def check_stable(etas_lam, mu, q) -> None:
    """AssumptionError unless ``0 < mu q lambda_i < 2`` for every given ``mu q lambda_i``."""
    for i, x in enumerate(etas_lam):
        if not 0 < x < 2:
            raise AssumptionError(
                f"stationary floor needs 0 < mu*q*lambda_i < 2 for every i; got "
                f"mu*q*lambda_{i + 1}={float(x)!r} (mu={mu!r}, q={q!r})")


def floor_args(objective, mu, q, sigma2, tau2):
    """The checked arguments of ``stationary_floor``: ``(diagonal, A, d, mu, q, Sigma_xi,
    Sigma_e)`` with mu > 0 and 0 < q <= 1 plain reals."""
    diagonal, A = _parse_quadratic(objective)
    d = objective.d
    mu = check_real("mu", mu, min_value=0, exclude_min=True)
    q = check_real("q", q, min_value=0, max_value=1, exclude_min=True)
    Sx = _noise_matrix("sigma2", sigma2, d)
    Se = _noise_matrix("tau2", tau2, d)
    return diagonal, A, d, mu, q, Sx, Se
