"""Slowdown quantities, from the transient term of Theorem 1.

``K_q(eps)`` is the smallest ``k >= 1`` with ``r^(k-1) (gap - F_q) <= eps``, where
``r = 1 - mu c q_min`` and ``F_q`` are Theorem 1's rate and floor.  Since
``-log(1 - x)`` is convex and vanishes at 0, ``-log(1 - x q) <= -q log(1 - x)``: the
shrunk rate needs at least ``1/q_min`` times as many steps per factor of e.  Two honest
caveats, checked by the tests:

* the integer counts carry ceilings, so ``K_q / K_1 >= 1/q_min`` holds only for small
  enough eps (for large eps both counts can be 1 or 2);
* as ``eps -> 0`` the ratio tends to ``log(1 - mu c) / log(1 - mu c q_min)``
  (:func:`asymptotic_slowdown`), which is ``>= 1/q_min`` and tends to ``1/q_min`` only as
  ``mu c -> 0`` as well.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
from mpmath.ctx_iv import MPIntervalContext

from lpsgd.theory._core import Checker, num, power
from lpsgd.theory.shrinkage_model import Real, theorem1_constants

__all__ = ["iterations_to_eps", "slowdown_ratio", "asymptotic_slowdown"]

_MAX_INTERVAL_PREC = 1 << 20


def _pow_le(r: Fraction, n: int, rho: Fraction) -> bool:
    """Whether ``r**n <= rho`` (0 < r < 1, 0 < rho < 1, n >= 0), decided exactly."""
    p = power(r, n)
    if p is not None:
        return p <= rho
    # Too large to build: compare n log r with log rho in certified interval arithmetic,
    # doubling the precision until the intervals separate.  They always do eventually:
    # r**n == rho would need rho's denominator to have about n times r's bits.
    # A private interval context, so no shared precision is touched.
    iv = MPIntervalContext()
    prec = 128
    while prec <= _MAX_INTERVAL_PREC:
        iv.prec = prec
        lhs = n * iv.log(iv.mpf(r.numerator) / r.denominator)
        rhs = iv.log(iv.mpf(rho.numerator) / rho.denominator)
        if lhs.b < rhs.a:
            return True
        if lhs.a > rhs.b:
            return False
        prec *= 2
    raise ArithmeticError(f"cannot decide r**n <= rho for n={n}")  # pragma: no cover


def _count(r: Fraction, amplitude: Fraction, eps: Fraction) -> int:
    """Smallest k >= 1 with r^(k-1) * amplitude <= eps (0 <= r < 1, eps > 0)."""
    if amplitude <= eps:
        return 1
    if r == 0:
        return 2
    rho = eps / amplitude
    # n ~ log(rho) / log1p(-(1 - r)); log1p keeps r = 1 - 2^-128 apart from 1, and a
    # second pass at more bits than n has makes the guess exact to within a step or
    # two, so the exact loops below run at most a few times.
    x = 1 - r
    prec = 128
    for _ in range(2):
        with mpmath.workprec(prec):
            guess = mpmath.log(mpmath.mpf(rho.numerator) / rho.denominator) / mpmath.log1p(
                -mpmath.mpf(x.numerator) / x.denominator)
            n = max(int(mpmath.ceil(guess)), 1)
        prec = 128 + n.bit_length()
    while n > 1 and _pow_le(r, n - 1, rho):
        n -= 1
    while not _pow_le(r, n, rho):
        n += 1
    return n + 1


def _transient(name: str, *, L: Real, c: Real, M: Real, M_V: Real, M_q: Real, mu: Real,
               q_min: Real, q_max: Real, gap: Real,
               eps: Real) -> tuple[Fraction, Fraction, Fraction]:
    ck = Checker(name)
    eps_ = ck.real("eps", eps)
    r, floor, _, gap_ = theorem1_constants(ck, L=L, c=c, M=M, M_V=M_V, M_q=M_q, mu=mu,
                                           q_min=q_min, q_max=q_max, gap=gap)
    ck.positive("eps", eps_, "target")
    return r, gap_ - floor, eps_


def iterations_to_eps(*, L: Real, c: Real, M: Real, M_V: Real, M_q: Real, mu: Real,
                      q_min: Real, q_max: Real, gap: Real, eps: Real) -> int:
    """Iterations for Theorem 1's transient to fall to ``eps``: K_q(eps), exactly.

    Returns the smallest integer ``k >= 1`` with ``r^(k-1) (gap - F_q) <= eps``, where
    ``r = 1 - mu c q_min`` and ``F_q = L mu B / (2 c q_min)`` (Theorem 1's rate and floor).
    Decided in exact rational arithmetic, or by certified interval arithmetic when the
    powers are too large to build.

    Assumptions (checked): those of :func:`lpsgd.theory.theorem1` and ``eps > 0``.
    """
    r, amplitude, eps_ = _transient("iterations_to_eps", L=L, c=c, M=M, M_V=M_V, M_q=M_q,
                                    mu=mu, q_min=q_min, q_max=q_max, gap=gap, eps=eps)
    return _count(r, amplitude, eps_)


def slowdown_ratio(*, L: Real, c: Real, M: Real, M_V: Real, M_q: Real, mu: Real,
                   q_min: Real, q_max: Real, gap: Real, eps: Real) -> Fraction:
    """K_q(eps) / K_1(eps): the bound's slowdown caused by shrinkage.

    ``K_q`` is :func:`iterations_to_eps` at the given arguments and ``K_1`` the same with
    ``q_min = q_max = 1`` (all other constants, M_q included, unchanged), so the ratio
    isolates the shrinkage.  For small eps it is at least ``1/q_min``; as ``eps -> 0`` it
    tends to :func:`asymptotic_slowdown` (see the module docstring for both caveats).

    Returns:
        The exact ratio as a Fraction.
    """
    args = dict(L=L, c=c, M=M, M_V=M_V, M_q=M_q, mu=mu, gap=gap, eps=eps)
    r_q, a_q, eps_ = _transient("slowdown_ratio", q_min=q_min, q_max=q_max, **args)
    r_1, a_1, _ = _transient("slowdown_ratio", q_min=1, q_max=1, **args)
    return Fraction(_count(r_q, a_q, eps_), _count(r_1, a_1, eps_))


def asymptotic_slowdown(*, mu: Real, c: Real, q_min: Real) -> mpmath.mpf:
    """The eps -> 0 limit of :func:`slowdown_ratio`: ``log(1 - mu c) / log(1 - mu c q_min)``.

    It is at least ``1/q_min`` (convexity of ``-log(1 - x)``) and tends to ``1/q_min`` as
    ``mu c -> 0``.  ``mu c = 1`` (full-precision rate 0) gives ``+inf``.

    Assumptions (checked): ``mu > 0``, ``c > 0``, ``mu c <= 1``, ``q_min in (0, 1]``.

    Returns:
        An mpf at 256 bits (the logarithms are irrational: rounded, not exact).
    """
    ck = Checker("asymptotic_slowdown")
    mu_, c_, q_ = ck.real("mu", mu), ck.real("c", c), ck.real("q_min", q_min)
    ck.positive("mu", mu_, "stepsize")
    ck.positive("c", c_, "(A3) strong convexity")
    x = mu_ * c_
    ck.require(x <= 1, f"mu*c={num(x)} <= 1",
               f"mu*c={num(x)} exceeds 1 (mu={ck.shown['mu']}, c={ck.shown['c']}): "
               f"Theorem 1's rate 1 - mu*c would be negative")
    ck.require(0 < q_ <= 1, f"shrinkage q_min={ck.shown['q_min']} in (0, 1]",
               f"shrinkage q_min={ck.shown['q_min']} is outside (0, 1]")
    if x == 1:
        return mpmath.inf if q_ < 1 else mpmath.mpf(1)
    with mpmath.workprec(ck.prec + 32):
        xm = mpmath.mpf(x.numerator) / x.denominator
        qm = mpmath.mpf(q_.numerator) / q_.denominator
        v = mpmath.log1p(-xm) / mpmath.log1p(-xm * qm)
    with mpmath.workprec(ck.prec):
        return +v
