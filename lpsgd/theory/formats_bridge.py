"""Theorems 5-7: from real formats and rounding modes to the shrinkage model.

Theorems 5 and 6 concern deterministic elementwise quantisers described by their ratio
``rho(x) = Q(x)/x`` (bounded by ``q_lo``/``q_hi``, which :func:`format_shrinkage` derives
from a format and mode); Theorem 7 concerns stochastic rounding, described by the
format's mantissa bits and subnormal spacing (:func:`stochastic_rounding_constants`).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, NamedTuple

import mpmath

from lpsgd._validate import check_real
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format, as_format
from lpsgd.rounding import RoundingMode, rounding_mode
from lpsgd.theory._core import PAPER, Bound, Checker, affine_power, num, to_fraction, to_mpf

__all__ = ["theorem5", "theorem6", "theorem7", "format_shrinkage",
           "stochastic_rounding_constants"]

Real = float | int | Fraction | mpmath.mpf


def _ratio_bounds(ck: Checker, q_lo: Fraction | None, q_hi: Fraction | None) -> None:
    """0 < q_lo <= q_hi < inf (a ratio bound q_hi = inf leaves no admissible stepsize)."""
    s_lo, s_hi = ck.shown["q_lo"], ck.shown["q_hi"]
    ck.require(q_hi is not None, f"q_hi={s_hi} finite",
               f"q_hi={s_hi} is infinite: no stepsize mu <= 1/(L*q_hi) is admissible")
    ck.require(q_hi > 0, f"q_hi={s_hi} > 0", f"q_hi={s_hi} must be > 0")
    ck.require(0 < q_lo <= q_hi, f"q_lo={s_lo} in (0, q_hi={s_hi}]",
               f"q_lo={s_lo} is outside (0, q_hi]=(0, {s_hi}]")


def theorem5(*, L: Real, c: Real, mu: Real, q_lo: Real, q_hi: Real, gap: Real,
             k: int) -> Bound:
    """Theorem 5: deterministic diagonal shrinkage of full gradients, linear rate.

    Problem: F L-smooth (A1) and c-strongly convex (A3).

    Method: ``w_{k+1} = w_k - mu D_k grad F(w_k)`` with ``D_k`` diagonal, entries in
    ``[q_lo, q_hi]`` (for example a deterministic elementwise quantiser, whose
    ``D_k = diag(rho(g_i))``).

    Claim: each step decreases F by at least ``(mu q_lo / 2) ||grad F(w_k)||^2``, hence
    ``F(w_k) - F* <= (1 - mu c q_lo)^(k-1) (F(w_1) - F*)`` for every ``k >= 1``.

    Assumptions (checked): ``L > 0``; ``0 < c <= L``; ``0 < q_lo <= q_hi < inf``
    (``q_hi`` may exceed 1: rounding to nearest can enlarge a component);
    ``0 < mu <= 1/(L q_hi)``; ``gap >= 0``; ``k >= 1``.

    Provenance: derived here (a bridge from deterministic rounding to the model, not a
    result of arXiv 2508.07142): the descent lemma with ``||D g||^2 <= q_hi <g, D g>`` and
    ``<g, D g> >= q_lo ||g||^2``, then A3.

    Returns:
        Bound with terms ``rate`` (1 - mu c q_lo).
    """
    ck = Checker("theorem5")
    L_, c_, mu_ = ck.real("L", L), ck.real("c", c), ck.real("mu", mu)
    q_lo_, q_hi_ = ck.real("q_lo", q_lo), ck.real("q_hi", q_hi, allow_inf=True)
    gap_ = ck.real("gap", gap)
    k_ = ck.integer("k", k)
    ck.smoothness(L_)
    ck.strong_convexity(c_, L_)
    _ratio_bounds(ck, q_lo_, q_hi_)
    ck.stepsize("mu", mu_, 1 / (L_ * q_hi_), "1/(L*q_hi)",
                f"L={ck.shown['L']}, q_hi={ck.shown['q_hi']}")
    ck.gap(gap_)
    ck.at_least_one("k", k_, "iteration")
    r = 1 - mu_ * c_ * q_lo_
    exact, value, _ = affine_power(Fraction(0), r, k_ - 1, gap_, ck.prec)
    return ck.bound(exact=exact, value=value,
                    reference=f"Theorem 5 (lpsgd.theory.theorem5, derived here); {PAPER}",
                    terms={"rate": r})


def theorem6(*, L: Real, c: Real, d: int, mu: Real, t: Real, q_lo: Real, q_hi: Real,
             gap: Real, k: int) -> Bound:
    """Theorem 6: the underflow floor of gradient descent with a deterministic quantiser.

    Problem: F on R^d, L-smooth (A1) and c-strongly convex (A3).

    Method: ``w_{k+1} = w_k - mu Q(grad F(w_k))`` with Q elementwise, sign-preserving or
    zero, ``rho(x) = Q(x)/x in [q_lo, q_hi]`` for ``|x| >= t`` and ``rho(x) in [0, q_hi]``
    for ``|x| < t`` (no component above X_max, or its saturation counted in q_lo).

    Constants: ``t`` any threshold with ``q_lo(t) > 0``; for a format and a deterministic
    rounding mode :func:`format_shrinkage` gives ``q_lo(t)`` and ``q_hi`` exactly (toward
    zero keeps every ``|x| >= s``, the subnormal spacing; round to nearest every
    ``|x| > s/2``).

    Claim: with ``F_t = d t^2 / (2c)``, for every ``k >= 1``
    ``F(w_k) - F* <= F_t + (1 - mu c q_lo)^(k-1) (F(w_1) - F* - F_t)``: low precision
    stalls once every gradient component underflows, and the floor grows like ``t^2``.

    The recursion behind it, ``e_{k+1} - F_t <= (1 - mu c q_lo)(e_k - F_t)``, is affine,
    so no relation between ``gap`` and ``F_t`` is needed: for ``gap < F_t`` the bound
    holds too (it then exceeds ``gap``; descent alone gives ``gap``).

    Assumptions (checked): ``L > 0``; ``0 < c <= L``; ``d >= 1`` an integer; ``t >= 0``;
    ``0 < q_lo <= q_hi < inf``; ``0 < mu <= 1/(L q_hi)``; ``gap >= 0``; ``k >= 1``.
    ``q_lo = 0`` (t below the smallest surviving magnitude) is refused: the rate would
    be 1 and the statement empty.

    Provenance: derived here (the underflow floor behind the paper's observation that
    low precision stalls; the statement is not in arXiv 2508.07142): the components with
    ``|g_i| < t`` lose at most ``d t^2`` of ``||g||^2``, the others keep ``rho >= q_lo``;
    then A3.

    Returns:
        Bound with terms ``floor`` (F_t), ``rate`` and ``transient``.
    """
    ck = Checker("theorem6")
    L_, c_ = ck.real("L", L), ck.real("c", c)
    d_ = ck.integer("d", d)
    mu_, t_ = ck.real("mu", mu), ck.real("t", t)
    q_lo_, q_hi_ = ck.real("q_lo", q_lo), ck.real("q_hi", q_hi, allow_inf=True)
    gap_ = ck.real("gap", gap)
    k_ = ck.integer("k", k)
    ck.smoothness(L_)
    ck.strong_convexity(c_, L_)
    ck.at_least_one("d", d_, "dimension")
    ck.nonnegative("t", t_, "underflow threshold")
    _ratio_bounds(ck, q_lo_, q_hi_)
    ck.stepsize("mu", mu_, 1 / (L_ * q_hi_), "1/(L*q_hi)",
                f"L={ck.shown['L']}, q_hi={ck.shown['q_hi']}")
    ck.gap(gap_)
    ck.at_least_one("k", k_, "iteration")
    floor = d_ * t_ ** 2 / (2 * c_)
    r = 1 - mu_ * c_ * q_lo_
    exact, value, p = affine_power(floor, r, k_ - 1, gap_ - floor, ck.prec)
    transient = p * (gap_ - floor) if exact is not None else value - to_mpf(floor, ck.prec)
    return ck.bound(exact=exact, value=value,
                    reference=f"Theorem 6 (lpsgd.theory.theorem6, derived here); {PAPER}",
                    terms={"floor": floor, "rate": r, "transient": transient})


def _sr_constants(fmt: Format) -> tuple[Fraction, Fraction]:
    """(delta, s) of a format: delta = 2^(-2m)/4, s the subnormal spacing."""
    return Fraction(1, 4 * 4 ** fmt.man_bits), Fraction(fmt.subnormal_spacing)


def _require_gradual_underflow(ck: Checker, fmt: Format) -> None:
    ck.require(fmt.subnormals, f"fmt={fmt.label} has subnormals (unbiased rounding near 0)",
               f"fmt={fmt.label} flushes subnormals to zero, so stochastic rounding is "
               f"biased below N_min and Theorem 7 does not apply")


def stochastic_rounding_constants(fmt: Format | str, M: Real, M_G: Real,
                                  d: int) -> tuple[Fraction, Fraction]:
    """The second-moment constants of stochastically rounded gradients (Theorem 7).

    Stochastic rounding (mode ``"stochastic"``) is unbiased and adds variance at most
    ``quantum(x)^2/4 <= max(2^(-2m) x^2, s^2)/4`` per component, so a gradient with
    ``E||g||^2 <= M + M_G ||grad F||^2`` becomes one with
    ``M' = (1 + delta) M + d s^2 / 4`` and ``M_G' = (1 + delta) M_G``,
    ``delta = 2^(-2m)/4``.

    Args:
        fmt: a Format or preset name, with subnormals (m = man_bits, s = subnormal
            spacing).
        M: A2's constant M >= 0.
        M_G: A2's M_G = 1 + M_V >= 1.
        d: dimension >= 1.

    Returns:
        (M', M_G') as exact Fractions.

    Raises:
        InvalidArgument: a malformed argument.
        AssumptionError: M < 0, M_G < 1, d < 1, or a format without subnormals.
    """
    ck = Checker("stochastic_rounding_constants")
    fmt_ = as_format(fmt)
    M_, MG = ck.real("M", M), ck.real("M_G", M_G)
    d_ = ck.integer("d", d)
    ck.nonnegative("M", M_, "(A2) variance constant")
    ck.require(MG >= 1, f"M_G={ck.shown['M_G']} >= 1",
               f"M_G={ck.shown['M_G']} must be >= 1 (M_G = 1 + M_V with M_V >= 0)")
    ck.at_least_one("d", d_, "dimension")
    _require_gradual_underflow(ck, fmt_)
    delta, s = _sr_constants(fmt_)
    return (1 + delta) * M_ + d_ * s * s / 4, (1 + delta) * MG


def theorem7(*, L: Real, c: Real, d: int, M: Real, M_V: Real, fmt: Format | str, mu: Real,
             gap: Real, k: int) -> Bound:
    """Theorem 7: SGD with stochastically rounded gradients: a higher floor, same rate.

    Problem: F on R^d, L-smooth (A1), c-strongly convex (A3), (A2) with M, M_V.

    Method: ``w_{k+1} = w_k - mu Q_SR(g_k)`` with Q_SR stochastic rounding (mode
    ``"stochastic"``) to ``fmt``, no component above X_max.

    Claim: Theorem 1 holds with ``q_min = q_max = 1``, ``M_q = 0`` and (M, M_G) replaced
    by ``M' = (1 + delta) M + d s^2 / 4`` and ``M_G' = (1 + delta) M_G``,
    ``delta = 2^(-2m)/4`` (:func:`stochastic_rounding_constants`): with ``r = 1 - mu c``
    and ``F' = L mu M' / (2c)``, ``E[F(w_k) - F*] <= F' + r^(k-1) (F(w_1) - F* - F')``.
    Stochastic rounding does not shrink, it adds noise: the floor rises, the rate does not.

    Constants: ``m`` the format's stored mantissa bits, ``s = 2^(e_min - m)`` its
    subnormal spacing (``e_min = 2 - 2^(E-1)``), so the rounding variance of a component
    ``x`` is at most ``max(2^(-2m) x^2, s^2) / 4``.

    Assumptions (checked): ``L > 0``; ``0 < c <= L``; ``d >= 1``; ``M, M_V >= 0``; fmt a
    Format or preset name with subnormals; ``0 < mu <= 1/(L M_G')``; ``gap >= 0``;
    ``k >= 1``.  Not checkable here: no gradient component exceeds X_max.

    Provenance: derived here: stochastic rounding is unbiased with variance at most
    ``quantum(x)^2 / 4`` per component, so its output satisfies A2 with (M', M_G') and
    Theorem 1 (q = 1, the classical Theorem 4.6 of Bottou, Curtis, Nocedal 2018) applies.

    Returns:
        Bound with terms ``floor`` (F'), ``rate``, ``M_prime``, ``M_G_prime``, ``delta``
        and ``transient``.
    """
    ck, a = unbiased_rounding_arguments("theorem7", as_format, L=L, c=c, d=d, M=M,
                                        M_V=M_V, fmt=fmt, mu=mu, gap=gap, k=k)
    _require_gradual_underflow(ck, a.fmt)
    delta, s = _sr_constants(a.fmt)
    return unbiased_rounding_bound(
        ck, a, delta=delta, additive=a.d * s * s / 4,
        delta_text=f"delta=2^(-2m)/4={num(delta)}, m={a.fmt.man_bits}",
        reference=f"Theorem 7 (lpsgd.theory.theorem7, derived here: Theorem 1 with q = 1 "
                  f"and (M', M_G')); {PAPER}")


class UnbiasedRoundingArguments(NamedTuple):
    """The checked arguments of Theorems 7 and 9."""

    L: Any
    c: Any
    d: int
    M: Any
    M_V: Any
    fmt: Any
    mu: Any
    gap: Any
    k: int


def unbiased_rounding_arguments(name: str, resolve_format: Callable[[Any], Any], *, L, c, d,
                                M, M_V, fmt, mu, gap, k
                                ) -> tuple[Checker, UnbiasedRoundingArguments]:
    """Read and check the arguments Theorems 7 and 9 share (``resolve_format`` turns
    ``fmt`` into the theorem's kind of format); the caller checks what is its own."""
    ck = Checker(name)
    L_, c_ = ck.real("L", L), ck.real("c", c)
    d_ = ck.integer("d", d)
    M_, MV = ck.real("M", M), ck.real("M_V", M_V)
    fmt_ = resolve_format(fmt)
    mu_, gap_ = ck.real("mu", mu), ck.real("gap", gap)
    k_ = ck.integer("k", k)
    ck.smoothness(L_)
    ck.strong_convexity(c_, L_)
    ck.at_least_one("d", d_, "dimension")
    ck.variances(M=M_, M_V=MV)
    return ck, UnbiasedRoundingArguments(L_, c_, d_, M_, MV, fmt_, mu_, gap_, k_)


def unbiased_rounding_bound(ck: Checker, a: UnbiasedRoundingArguments, *, delta, additive,
                            delta_text: str, reference: str) -> Bound:
    """Theorem 1 with q = 1 for an unbiased rounding whose noise is at most
    ``delta ||g||^2 + additive``: M' = (1 + delta) M + additive, M_G' = (1 + delta)(1 + M_V),
    mu <= 1/(L M_G'); the common end of Theorems 7 and 9."""
    L, c, M, M_V, mu, gap, k = a.L, a.c, a.M, a.M_V, a.mu, a.gap, a.k
    M1 = (1 + delta) * M + additive
    MG1 = (1 + delta) * (1 + M_V)
    ck.stepsize("mu", mu, 1 / (L * MG1), "1/(L*M_G')",
                f"M_G'=(1+delta)*(1+M_V)={num(MG1)}, {delta_text}")
    ck.gap(gap)
    ck.at_least_one("k", k, "iteration")
    floor = L * mu * M1 / (2 * c)
    r = 1 - mu * c
    exact, value, p = affine_power(floor, r, k - 1, gap - floor, ck.prec)
    transient = p * (gap - floor) if exact is not None else value - to_mpf(floor, ck.prec)
    return ck.bound(exact=exact, value=value, reference=reference,
                    terms={"floor": floor, "rate": r, "M_prime": M1, "M_G_prime": MG1,
                           "delta": delta, "transient": transient})


def format_shrinkage(fmt: Format | str, rounding: str | RoundingMode,
                     t: Real) -> tuple[Fraction, Fraction | float]:
    """(q_lo(t), q_hi) of a format and deterministic rounding mode, for Theorems 5 and 6.

    ``q_lo(t) = inf Q(x)/x`` over ``t <= |x| <= X_max`` and ``q_hi = sup Q(x)/x`` over
    finite ``0 < |x| <= X_max``, both exact, taken from
    :func:`lpsgd.shrinkage.profile`.  ``q_lo(t)`` is 0 when ``t`` is below the smallest
    magnitude that survives; ``q_hi`` may be ``math.inf`` (mode ``"up"``).

    Args:
        fmt: a Format or preset name.
        rounding: a deterministic rounding mode name.
        t: threshold, ``0 < t <= X_max``.

    Raises:
        InvalidArgument: malformed argument, a stochastic mode, or t outside (0, X_max].
    """
    fmt_ = as_format(fmt)
    mode = rounding_mode(rounding)
    if mode.is_stochastic:
        raise InvalidArgument(
            f"Expected a deterministic rounding mode but got rounding={mode.value!r}; "
            f"stochastic rounding does not shrink: use stochastic_rounding_constants")
    check_real("t", t, min_value=0, exclude_min=True, max_value=fmt_.x_max)
    from lpsgd import shrinkage  # imported late: the module is optional at import time

    prof = shrinkage.profile(fmt_, mode.value)
    floor = Fraction(fmt_.subnormal_spacing) / 4
    if isinstance(t, mpmath.mpf) and mpmath.mag(t) < fmt_.e_min - fmt_.man_bits - 4:
        # Far below every switch point of rho (all at multiples of s/2): q_lo(t) equals
        # q_lo(s/4) there, and the exact value of an mpf such as 2^-(10^12) is never built.
        return prof.q_lo(floor), prof.q_hi
    return prof.q_lo(to_fraction(t)), prof.q_hi
