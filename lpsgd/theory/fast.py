"""The same bounds in float64 numpy, for whole curves at once (k or K as an array).

Each function takes the arguments of its exact twin in :mod:`lpsgd.theory`, except that
``k`` (or ``K``) may be an integer array; Theorem 4 returns the bound for every prefix
``mus[:K]``, K = 1..len(mus).  The assumptions are checked by the exact twin (same
errors, same messages), which also supplies the constants (floor, rate, nu, ...) rounded
once from their exact values; only the dependence on k is evaluated in float64.

Accuracy (u = 2^-53): ``y = (k-1) log r`` is computed as ``(k-1) log(r)`` for r < 1/2
and ``(k-1) log1p(-x)``, x = 1 - r, otherwise, from r or x rounded once; either way its
absolute error is at most about ``2 |y| u``.  So ``r^(k-1) = exp(y)`` and
``1 - r^(k-1) = -expm1(y)`` are within about ``(4 + 2|y|) u`` relative, and the bounds of
Theorems 1, 5, 6, 7 are evaluated as ``F (1 - r^(k-1)) + gap r^(k-1)``, a sum of
non-negative terms, so they keep that accuracy: below 1e-12 while ``|y| < 2000``.  Once
``|y| > 745`` the term ``gap r^(k-1)`` underflows: it is then below ``gap * 5e-324`` in
absolute value.  Theorems 2 and 3 cost a few roundings (<= 4u); Theorem 4's prefix sums
are within ``(K + 4) u`` relative.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from lpsgd import theory as _exact
from lpsgd._validate import show
from lpsgd.errors import AssumptionError, InvalidArgument

__all__ = ["theorem1", "theorem2", "theorem3", "theorem4", "theorem5", "theorem6",
           "theorem7"]


def _steps(theorem: str, name: str, value, what: str) -> np.ndarray:
    """An integer array (or scalar) of iteration indices, each >= 1."""
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidArgument(
            f"Expected {name} to be an integer or an integer array but got {name}={show(value)}")
    if arr.size and arr.min() < 1:
        raise AssumptionError(f"{theorem}: {what} {name}={int(arr.min())} must be >= 1")
    return arr.astype(np.float64)


def _affine(floor: float, rate, gap: float, k: np.ndarray) -> np.ndarray:
    """floor + r^(k-1) (gap - floor) as floor (1 - r^(k-1)) + gap r^(k-1), r = ``rate``.

    Both parts are non-negative (floor, gap >= 0 and 0 <= r < 1), so no cancellation.
    log r is taken as log(r) for r < 1/2 and log1p(-x), x = 1 - r, otherwise, each from a
    float rounded once from the 256-bit rate (mpmath subtraction rounds correctly), so
    the argument carries a relative error <= u either way.
    """
    r = float(rate)
    if r == 0:  # the transient vanishes after the first step
        y = np.where(k > 1, -np.inf, 0.0)
    elif r < 0.5:
        y = (k - 1) * np.log(r)
    else:
        y = (k - 1) * np.log1p(-float(1 - rate))
    return floor * -np.expm1(y) + gap * np.exp(y)


def _out(v: np.ndarray, k) -> np.ndarray | float:
    return float(v) if np.ndim(k) == 0 else v


def theorem1(*, L, c, M, M_V, M_q, mu, q_min, q_max, gap, k) -> np.ndarray | float:
    """Theorem 1 at every k of ``k`` (see :func:`lpsgd.theory.theorem1`)."""
    kk = _steps("theorem1", "k", k, "iteration")
    b = _exact.theorem1(L=L, c=c, M=M, M_V=M_V, M_q=M_q, mu=mu, q_min=q_min, q_max=q_max,
                        gap=gap, k=1)
    return _out(_affine(float(b.terms["floor"]), b.terms["rate"], float(b.value), kk), k)


def theorem2(*, L, c, M, M_V, M_q, beta, gamma, q_min, q_max, gap, k) -> np.ndarray | float:
    """Theorem 2 at every k of ``k`` (see :func:`lpsgd.theory.theorem2`)."""
    kk = _steps("theorem2", "k", k, "iteration")
    b = _exact.theorem2(L=L, c=c, M=M, M_V=M_V, M_q=M_q, beta=beta, gamma=gamma,
                        q_min=q_min, q_max=q_max, gap=gap, k=1)
    return _out(float(b.terms["nu"]) / (float(gamma) + kk), k)


def theorem3(*, L, M, M_V, M_q, mu, q_min, q_max, gap, K) -> np.ndarray | float:
    """Theorem 3 at every K of ``K`` (see :func:`lpsgd.theory.theorem3`)."""
    KK = _steps("theorem3", "K", K, "number of iterations")
    b = _exact.theorem3(L=L, M=M, M_V=M_V, M_q=M_q, mu=mu, q_min=q_min, q_max=q_max,
                        gap=gap, K=1)
    # transient(K) = transient(1) / K
    return _out(float(b.terms["floor"]) + float(b.terms["transient"]) / KK, K)


def theorem4(*, L, M, M_V, M_q, mus: Sequence, q_min, q_max, gap) -> np.ndarray:
    """Theorem 4 for every prefix ``mus[:K]``, K = 1..len(mus)."""
    if not isinstance(mus, np.ndarray | str | bytes) and isinstance(mus, Iterable):
        mus = list(mus)  # an iterator is read twice below
    b = _exact.theorem4(L=L, M=M, M_V=M_V, M_q=M_q, mus=mus, q_min=q_min, q_max=q_max,
                        gap=gap)
    m = np.asarray(mus, dtype=np.float64)
    s2 = float(b.terms["sum_mu_squared"])
    coef = float(b.terms["noise_term"]) / s2 if s2 > 0 else 0.0  # L B / q_min
    return float(b.terms["start_term"]) + coef * np.cumsum(m * m)


def theorem5(*, L, c, mu, q_lo, q_hi, gap, k) -> np.ndarray | float:
    """Theorem 5 at every k of ``k`` (see :func:`lpsgd.theory.theorem5`)."""
    kk = _steps("theorem5", "k", k, "iteration")
    b = _exact.theorem5(L=L, c=c, mu=mu, q_lo=q_lo, q_hi=q_hi, gap=gap, k=1)
    return _out(_affine(0.0, b.terms["rate"], float(b.value), kk), k)


def theorem6(*, L, c, d, mu, t, q_lo, q_hi, gap, k) -> np.ndarray | float:
    """Theorem 6 at every k of ``k`` (see :func:`lpsgd.theory.theorem6`)."""
    kk = _steps("theorem6", "k", k, "iteration")
    b = _exact.theorem6(L=L, c=c, d=d, mu=mu, t=t, q_lo=q_lo, q_hi=q_hi, gap=gap, k=1)
    return _out(_affine(float(b.terms["floor"]), b.terms["rate"], float(b.value), kk), k)


def theorem7(*, L, c, d, M, M_V, fmt, mu, gap, k) -> np.ndarray | float:
    """Theorem 7 at every k of ``k`` (see :func:`lpsgd.theory.theorem7`)."""
    kk = _steps("theorem7", "k", k, "iteration")
    b = _exact.theorem7(L=L, c=c, d=d, M=M, M_V=M_V, fmt=fmt, mu=mu, gap=gap, k=1)
    return _out(_affine(float(b.terms["floor"]), b.terms["rate"], float(b.value), kk), k)
