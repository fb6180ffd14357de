"""Theorems 1-4 (the shrinkage model of low-precision SGD) and their schedule-aware forms.

Model: ``g~_k = q_k g_k + e_k`` with ``q_k in [q_min, q_max] subset (0, 1]``,
``E[e_k | w_k, g_k] = 0``, ``E||e_k||^2 <= M_q``; iteration ``w_{k+1} = w_k - mu_k g~_k``.
Assumptions used by the statements (each theorem checks the ones it needs):

* (A1) F is L-smooth: ``||grad F(w) - grad F(v)|| <= L ||w - v||``;
* (A2) the stochastic gradient ``g_k = g(w_k, xi_k)`` is unbiased,
  ``E_k[g_k] = grad F(w_k)``, with ``E_k||g_k - grad F(w_k)||^2 <= M + M_V ||grad F(w_k)||^2``;
  ``M_G = 1 + M_V``, so ``E_k||g_k||^2 <= M + M_G ||grad F(w_k)||^2``;
* (A3) F is c-strongly convex, used as ``||grad F(w)||^2 >= 2c (F(w) - F*)``;
* (A4) F is bounded below by ``F_inf``;
* the shrinkage ``q_k in (0, 1]`` is fixed before the noise of step k is drawn, and the
  quantisation error ``e_k`` has ``E[e_k | w_k, g_k] = 0``, ``E||e_k||^2 <= M_q``;
* admissible stepsizes: ``mu_k <= 1/(L M_G)``.

Every proof rests on the one-step inequality (from A1, A2, admissibility and ``q_k <= 1``)
``E_k[F(w_{k+1})] - F(w_k) <= -(mu_k q_k / 2) ||grad F(w_k)||^2``
``+ (L mu_k^2 / 2)(q_k^2 M + M_q)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import mpmath

from lpsgd.errors import InvalidArgument
from lpsgd.theory._core import (BCN2018, EXACT_BITS_LIMIT, PAPER, Bound, Checker,
                                affine_power, bits, num, show, to_mpf, work_precision)

__all__ = ["theorem1", "theorem2", "theorem3", "theorem4", "theorem1_schedule",
           "theorem3_schedule"]

Real = float | int | Fraction | mpmath.mpf


def _ref(theorem: str, classical: str) -> str:
    fn = "lpsgd.theory." + theorem.lower().replace(" ", "")
    return (f"{theorem} ({fn}), the shrinkage model; {PAPER}; with q = 1 and M_q = 0 it is "
            f"{classical} of {BCN2018} (their mu = mu_G = 1)")


def _common(ck: Checker, L: Fraction, M: Fraction, M_V: Fraction, M_q: Fraction) -> Fraction:
    """Checks A1 and A2; returns M_G = 1 + M_V."""
    ck.smoothness(L)
    ck.variances(M=M, M_V=M_V, M_q=M_q)
    return 1 + M_V


def _stepsize(ck: Checker, name: str, mu: Fraction, L: Fraction, M_G: Fraction,
              shown: str | None = None) -> None:
    ck.stepsize(name, mu, 1 / (L * M_G), "1/(L*M_G)",
                f"L={ck.shown['L']}, M_G=1+M_V={num(M_G)}", shown=shown)


def theorem1_constants(ck: Checker, *, L: Real, c: Real, M: Real, M_V: Real, M_q: Real,
                       mu: Real, q_min: Real, q_max: Real,
                       gap: Real) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """Parse and check Theorem 1's arguments; return (r, F_q, B, gap) exactly."""
    L_, c_, M_, MV, Mq = (ck.real(n, v) for n, v in
                          (("L", L), ("c", c), ("M", M), ("M_V", M_V), ("M_q", M_q)))
    mu_, qmin, qmax, gap_ = (ck.real(n, v) for n, v in
                             (("mu", mu), ("q_min", q_min), ("q_max", q_max), ("gap", gap)))
    M_G = _common(ck, L_, M_, MV, Mq)
    ck.strong_convexity(c_, L_)
    ck.shrinkage(qmin, qmax)
    _stepsize(ck, "mu", mu_, L_, M_G)
    ck.gap(gap_)
    B = qmax ** 2 * M_ + Mq
    r = 1 - mu_ * c_ * qmin
    floor = L_ * mu_ * B / (2 * c_ * qmin)
    return r, floor, B, gap_


def theorem1(*, L: Real, c: Real, M: Real, M_V: Real, M_q: Real, mu: Real, q_min: Real,
             q_max: Real, gap: Real, k: int) -> Bound:
    """Theorem 1: strongly convex objective, fixed stepsize, linear rate to a floor.

    Problem: F L-smooth (A1) and c-strongly convex (A3); stochastic gradients with
    (A2) ``E_k||g_k||^2 <= M + M_G ||grad F(w_k)||^2``, ``M_G = 1 + M_V``.

    Method: ``w_{k+1} = w_k - mu (q_k g_k + e_k)``, ``q_k in [q_min, q_max]``,
    ``E||e_k||^2 <= M_q``.

    Claim: with ``B = q_max^2 M + M_q`` (the per-step noise budget), ``r = 1 - mu c q_min``
    and ``F_q = L mu B / (2 c q_min)``, for every ``k >= 1``
    ``E[F(w_k) - F*] <= F_q + r^(k-1) (F(w_1) - F* - F_q)``: linear convergence at the
    rate r (slower as q_min falls) to the floor F_q of the bound (at fixed q_max higher as
    q_min falls, and higher with quantisation noise M_q; with q_min = q_max = q it is
    ``L mu (q M + M_q / q) / (2c)``, whose gradient-noise part falls with q).

    Assumptions (checked): ``L > 0``; ``0 < c <= L``; ``M, M_V, M_q >= 0``;
    ``0 < q_min <= q_max <= 1``; ``0 < mu <= 1/(L M_G)`` (so ``0 <= r < 1``);
    ``gap = F(w_1) - F* >= 0``; ``k >= 1`` an integer.

    Provenance: the paper's result (arXiv 2508.07142: shrinkage slows the rate and raises
    the floor), restated here with every constant explicit; with ``q_min = q_max = 1`` and
    ``M_q = 0`` it is Theorem 4.6 of Bottou, Curtis, Nocedal (2018) (their
    ``mu = mu_G = 1``).

    Returns:
        Bound with terms ``floor`` (F_q), ``rate`` (r), ``noise_budget`` (B) and
        ``transient`` (r^(k-1) (gap - F_q)).
    """
    ck = Checker("theorem1")
    k_ = ck.integer("k", k)
    r, floor, B, gap_ = theorem1_constants(ck, L=L, c=c, M=M, M_V=M_V, M_q=M_q, mu=mu,
                                           q_min=q_min, q_max=q_max, gap=gap)
    ck.at_least_one("k", k_, "iteration")
    exact, value, p = affine_power(floor, r, k_ - 1, gap_ - floor, ck.prec)
    transient = p * (gap_ - floor) if exact is not None else value - to_mpf(floor, ck.prec)
    return ck.bound(exact=exact, value=value, reference=_ref("Theorem 1", "Theorem 4.6"),
                    terms={"floor": floor, "rate": r, "noise_budget": B,
                           "transient": transient})


def theorem2(*, L: Real, c: Real, M: Real, M_V: Real, M_q: Real, beta: Real, gamma: Real,
             q_min: Real, q_max: Real, gap: Real, k: int) -> Bound:
    """Theorem 2: strongly convex objective, diminishing stepsizes, O(1/k) rate.

    Problem: as Theorem 1 (A1, A2, A3).

    Method: the shrinkage model with ``mu_k = beta / (gamma + k)``.

    Claim: with ``B = q_max^2 M + M_q`` and
    ``nu = max{beta^2 L B / (2 (beta c q_min - 1)), (gamma + 1)(F(w_1) - F*)}``,
    ``E[F(w_k) - F*] <= nu / (gamma + k)`` for every ``k >= 1``.  beta must exceed
    ``1/(c q_min)``: a schedule tuned for full precision can lose the O(1/k) rate under
    shrinkage.

    Assumptions (checked): those of Theorem 1 except the fixed stepsize, plus
    ``beta > 1/(c q_min)``, ``gamma > 0`` and ``mu_1 = beta/(gamma+1) <= 1/(L M_G)``
    (so every ``mu_k <= mu_1`` is admissible).

    Provenance: the paper's diminishing-stepsize result (arXiv 2508.07142) restated; with
    ``q = 1``, ``M_q = 0`` it is Theorem 4.7 of Bottou, Curtis, Nocedal (2018).

    Returns:
        Bound with terms ``nu``, ``noise_term`` and ``start_term`` (the two arguments of
        the max) and ``stepsize_k`` (mu_k).
    """
    ck = Checker("theorem2")
    L_, c_, M_, MV, Mq = (ck.real(n, v) for n, v in
                          (("L", L), ("c", c), ("M", M), ("M_V", M_V), ("M_q", M_q)))
    b, g, qmin, qmax, gap_ = (ck.real(n, v) for n, v in
                              (("beta", beta), ("gamma", gamma), ("q_min", q_min),
                               ("q_max", q_max), ("gap", gap)))
    k_ = ck.integer("k", k)
    M_G = _common(ck, L_, M_, MV, Mq)
    ck.strong_convexity(c_, L_)
    ck.shrinkage(qmin, qmax)
    lim = 1 / (c_ * qmin)
    ck.require(b > lim, f"beta={ck.shown['beta']} > 1/(c*q_min)={num(lim)}",
               f"beta={ck.shown['beta']} must exceed 1/(c*q_min)={num(lim)} "
               f"(c={ck.shown['c']}, q_min={ck.shown['q_min']})")
    ck.positive("gamma", g, "stepsize offset")
    mu1 = b / (g + 1)
    _stepsize(ck, "mu_1", mu1, L_, M_G, shown=f"beta/(gamma+1)={num(mu1)}")
    ck.gap(gap_)
    ck.at_least_one("k", k_, "iteration")
    B = qmax ** 2 * M_ + Mq
    noise_term = b ** 2 * L_ * B / (2 * (b * c_ * qmin - 1))
    start_term = (g + 1) * gap_
    nu = max(noise_term, start_term)
    exact = nu / (g + k_)
    return ck.bound(exact=exact, reference=_ref("Theorem 2", "Theorem 4.7"),
                    terms={"nu": nu, "noise_term": noise_term, "start_term": start_term,
                           "stepsize_k": b / (g + k_)})


def theorem3(*, L: Real, M: Real, M_V: Real, M_q: Real, mu: Real, q_min: Real,
             q_max: Real, gap: Real, K: int) -> Bound:
    """Theorem 3: nonconvex objective, fixed stepsize, average squared gradient.

    Problem: F L-smooth (A1), bounded below by F_inf (A4); (A2) as in Theorem 1.

    Method: the shrinkage model with a fixed stepsize ``mu``.

    Claim: with ``B = q_max^2 M + M_q``, for every ``K >= 1``
    ``(1/K) sum_{k=1..K} E||grad F(w_k)||^2 <= L mu B / q_min + 2 (F(w_1) - F_inf) / (K mu q_min)``.

    Assumptions (checked): ``L > 0``; ``M, M_V, M_q >= 0``; ``0 < q_min <= q_max <= 1``;
    ``0 < mu <= 1/(L M_G)``; ``gap = F(w_1) - F_inf >= 0``; ``K >= 1`` an integer.

    Provenance: the paper's nonconvex result (arXiv 2508.07142) restated; with ``q = 1``,
    ``M_q = 0`` it is Theorem 4.8 of Bottou, Curtis, Nocedal (2018).

    Returns:
        Bound with terms ``floor`` (L mu B / q_min) and ``transient``.
    """
    ck = Checker("theorem3")
    L_, M_, MV, Mq = (ck.real(n, v) for n, v in
                      (("L", L), ("M", M), ("M_V", M_V), ("M_q", M_q)))
    mu_, qmin, qmax, gap_ = (ck.real(n, v) for n, v in
                             (("mu", mu), ("q_min", q_min), ("q_max", q_max), ("gap", gap)))
    K_ = ck.integer("K", K)
    M_G = _common(ck, L_, M_, MV, Mq)
    ck.shrinkage(qmin, qmax)
    _stepsize(ck, "mu", mu_, L_, M_G)
    ck.gap(gap_, "F(w_1) - F_inf")
    ck.at_least_one("K", K_, "number of iterations")
    B = qmax ** 2 * M_ + Mq
    floor = L_ * mu_ * B / qmin
    transient = 2 * gap_ / (K_ * mu_ * qmin)
    return ck.bound(exact=floor + transient, reference=_ref("Theorem 3", "Theorem 4.8"),
                    terms={"floor": floor, "transient": transient, "noise_budget": B})


def theorem4(*, L: Real, M: Real, M_V: Real, M_q: Real, mus: Sequence[Real], q_min: Real,
             q_max: Real, gap: Real) -> Bound:
    """Theorem 4: nonconvex objective, any admissible stepsizes, weighted gradient sum.

    Problem: as Theorem 3 (A1, A2, A4).

    Method: the shrinkage model with stepsizes ``mus = (mu_1, ..., mu_K)``.

    Claim: with ``B = q_max^2 M + M_q``,
    ``sum_{k=1..K} mu_k E||grad F(w_k)||^2 <= (2 / q_min)(F(w_1) - F_inf)``
    ``+ (L B / q_min) sum_{k=1..K} mu_k^2``; so with ``sum mu_k = inf`` and
    ``sum mu_k^2 < inf`` the mu-weighted average of ``E||grad F||^2`` tends to 0.

    Assumptions (checked): as Theorem 3, with every ``0 < mu_k <= 1/(L M_G)``.

    Provenance: the paper's nonconvex diminishing-stepsize result (arXiv 2508.07142)
    restated; with ``q = 1``, ``M_q = 0`` it is the inequality the proof of Theorem 4.10 of
    Bottou, Curtis, Nocedal (2018) sums (their mu = 1).

    Returns:
        Bound with terms ``start_term``, ``noise_term`` and ``sum_mu_squared``.
    """
    ck = Checker("theorem4")
    L_, M_, MV, Mq = (ck.real(n, v) for n, v in
                      (("L", L), ("M", M), ("M_V", M_V), ("M_q", M_q)))
    mus_ = ck.sequence("mus", mus)
    qmin, qmax, gap_ = (ck.real(n, v) for n, v in
                        (("q_min", q_min), ("q_max", q_max), ("gap", gap)))
    M_G = _common(ck, L_, M_, MV, Mq)
    ck.shrinkage(qmin, qmax)
    _check_stepsizes(ck, mus_, L_, M_G)
    ck.gap(gap_, "F(w_1) - F_inf")
    B = qmax ** 2 * M_ + Mq
    s2 = _sum_squares(mus_)
    start = 2 * gap_ / qmin
    noise = L_ * B * s2 / qmin
    return ck.bound(exact=start + noise, reference=_ref("Theorem 4", "Theorem 4.10"),
                    terms={"start_term": start, "noise_term": noise, "sum_mu_squared": s2})


def _check_stepsizes(ck: Checker, mus: list[Fraction], L: Fraction, M_G: Fraction) -> None:
    """Every mu_k in (0, 1/(L M_G)]; names the first offender; records one assumption."""
    limit = 1 / (L * M_G)
    raw = ck.raw["mus"]
    for i, m in enumerate(mus):
        if not 0 < m <= limit:
            ck.stepsize(f"mus[{i}]", m, limit, "1/(L*M_G)",
                        f"L={ck.shown['L']}, M_G=1+M_V={num(M_G)}",
                        shown=show(raw[i]))
    ck.assumptions.append(f"every stepsize mus[k] in (0, 1/(L*M_G)={num(limit)}] "
                          f"(K={len(mus)}, max {num(max(mus))})")


def _sum_squares(values: list[Fraction]) -> Fraction:
    """sum v^2 exactly; dyadic inputs (floats) are summed as integers (fast, exact)."""
    if all(v.denominator & (v.denominator - 1) == 0 for v in values):
        shift = max(v.denominator.bit_length() - 1 for v in values)
        total = sum(v.numerator ** 2 << (2 * (shift - (v.denominator.bit_length() - 1)))
                    for v in values)
        return Fraction(total, 1 << (2 * shift))
    return sum((v * v for v in values), Fraction(0))


def _schedule(ck: Checker, mus: Sequence[Real], qs: Sequence[Real], *,
              allow_empty: bool) -> tuple[list[Fraction], list[Fraction]]:
    mus_ = ck.sequence("mus", mus, allow_empty=allow_empty)
    qs_ = ck.sequence("qs", qs, allow_empty=allow_empty)
    if len(mus_) != len(qs_):
        raise InvalidArgument(f"Expected mus and qs of the same length but got "
                              f"len(mus)={len(mus_)} and len(qs)={len(qs_)}")
    return mus_, qs_


def _check_schedule(ck: Checker, mus_: list[Fraction], qs_: list[Fraction], L: Fraction,
                    M_G: Fraction) -> None:
    raw_q = ck.raw["qs"]
    for i, q in enumerate(qs_):
        if not 0 < q <= 1:
            s = show(raw_q[i])
            ck.require(False, "", f"shrinkage qs[{i}]={s} is outside (0, 1]")
    if qs_:
        ck.assumptions.append(f"every shrinkage qs[k] in (0, 1] (min {num(min(qs_))}, "
                              f"max {num(max(qs_))})")
        _check_stepsizes(ck, mus_, L, M_G)


def theorem1_schedule(*, L: Real, c: Real, M: Real, M_V: Real, M_q: Real,
                      mus: Sequence[Real], qs: Sequence[Real], gap: Real) -> Bound:
    """Theorem 1, schedule-aware: any admissible stepsizes and deterministic shrinkages.

    Problem: as Theorem 1 (A1, A2, A3).

    Method: the shrinkage model run for ``n = len(mus)`` steps with stepsizes
    ``mus[k-1] = mu_k`` and deterministic shrinkage factors ``qs[k-1] = q_k``.

    Claim: with ``a_1 = F(w_1) - F*`` and
    ``a_{k+1} = (1 - mu_k c q_k) a_k + (L mu_k^2 / 2)(q_k^2 M + M_q)``,
    ``E[F(w_{n+1}) - F*] <= a_{n+1}``.  The step uses ``1 - mu_k c q_k >= 0`` (from
    ``mu_k <= 1/(L M_G)``, ``c <= L``, ``q_k <= 1``) and ``E[F(w_k) - F*] >= 0``.  For
    a constant ``mu`` and ``q_k in [q_min, q_max]`` it is never larger than Theorem 1 at
    ``k = n + 1``, and for a constant ``q`` it equals it; ``mus = qs = ()`` gives
    ``gap``.  It also covers Theorem 2's diminishing stepsizes.

    Assumptions (checked): ``L > 0``; ``0 < c <= L``; ``M, M_V, M_q >= 0``; every
    ``q_k in (0, 1]``; every ``0 < mu_k <= 1/(L M_G)``; ``gap >= 0``; ``len(mus) ==
    len(qs)``.

    Provenance: derived here from the one-step inequality and A3, as in the proof of
    Theorem 1 but without replacing ``q_k`` by ``q_min`` and ``q_k^2`` by ``q_max^2``
    (sharper, same proof); in the setting of arXiv 2508.07142.

    Returns:
        Bound on ``E[F(w_{n+1}) - F*]``, terms ``steps`` (n) and ``contraction``
        (prod_k (1 - mu_k c q_k)).
    """
    ck = Checker("theorem1_schedule")
    L_, c_, M_, MV, Mq = (ck.real(n, v) for n, v in
                          (("L", L), ("c", c), ("M", M), ("M_V", M_V), ("M_q", M_q)))
    gap_ = ck.real("gap", gap)
    M_G = 1 + MV
    mus_, qs_ = _schedule(ck, mus, qs, allow_empty=True)
    _common(ck, L_, M_, MV, Mq)
    ck.strong_convexity(c_, L_)
    _check_schedule(ck, mus_, qs_, L_, M_G)
    ck.gap(gap_)
    factors = [1 - m * c_ * q for m, q in zip(mus_, qs_)]
    adds = [L_ * m * m * (q * q * M_ + Mq) / 2 for m, q in zip(mus_, qs_)]
    size = sum(bits(f) for f in factors) + bits(gap_)
    ref = ("schedule-aware form of Theorem 1 (lpsgd.theory.theorem1_schedule, derived "
           "here); " + PAPER)
    if size <= EXACT_BITS_LIMIT:
        a, prod = gap_, Fraction(1)
        for f, add in zip(factors, adds):
            a = f * a + add
            prod *= f
        return ck.bound(exact=a, reference=ref,
                        terms={"steps": Fraction(len(factors)), "contraction": prod})
    work = work_precision(ck.prec, 3 * len(factors))
    with mpmath.workprec(work):
        a, prod = to_mpf(gap_, work), mpmath.mpf(1)
        for f, add in zip(factors, adds):
            fm = to_mpf(f, work)
            a = fm * a + to_mpf(add, work)
            prod *= fm
    with mpmath.workprec(ck.prec):
        return ck.bound(exact=None, value=+a, reference=ref,
                        terms={"steps": Fraction(len(factors)), "contraction": +prod})


def theorem3_schedule(*, L: Real, M: Real, M_q: Real, mus: Sequence[Real],
                      qs: Sequence[Real], gap: Real, M_V: Real = 0) -> Bound:
    """Theorem 3, schedule-aware: the effective-stepsize-weighted gradient sum.

    Problem: as Theorem 3 (A1, A2, A4).

    Method: the shrinkage model with stepsizes ``mus`` and deterministic shrinkage
    factors ``qs`` (step k uses ``mus[k-1]``, ``qs[k-1]``), effective stepsizes
    ``eta_k = mu_k q_k``.

    Claim: ``sum_{k=1..K} eta_k E||grad F(w_k)||^2 <= 2 (F(w_1) - F_inf)``
    ``+ L sum_{k=1..K} mu_k^2 (q_k^2 M + M_q)``.

    Assumptions (checked): ``L > 0``; ``M, M_V, M_q >= 0``; every ``q_k in (0, 1]``;
    every ``0 < mu_k <= 1/(L M_G)``; ``gap >= 0``; ``len(mus) == len(qs) >= 1``.
    ``M_V`` (A2's relative variance) defaults to 0: pass it when the oracle's variance
    grows with the gradient, since the admissible stepsizes shrink with ``M_G = 1 + M_V``.

    Provenance: derived here: the one-step inequality summed over k = 1..K, with the
    actual effective stepsizes in place of ``mu q_min`` (sharper than Theorem 3, same
    proof); in the setting of arXiv 2508.07142.

    Returns:
        Bound with terms ``start_term`` (2 gap), ``noise_term`` and ``sum_eta``.
    """
    ck = Checker("theorem3_schedule")
    L_, M_, Mq, MV = (ck.real(n, v) for n, v in
                      (("L", L), ("M", M), ("M_q", M_q), ("M_V", M_V)))
    gap_ = ck.real("gap", gap)
    M_G = 1 + MV
    mus_, qs_ = _schedule(ck, mus, qs, allow_empty=False)
    _common(ck, L_, M_, MV, Mq)
    _check_schedule(ck, mus_, qs_, L_, M_G)
    ck.gap(gap_, "F(w_1) - F_inf")
    noise = L_ * sum((m * m * (q * q * M_ + Mq) for m, q in zip(mus_, qs_)), Fraction(0))
    start = 2 * gap_
    eta = sum((m * q for m, q in zip(mus_, qs_)), Fraction(0))
    return ck.bound(exact=start + noise,
                    reference=("schedule-aware form of Theorem 3 "
                               "(lpsgd.theory.theorem3_schedule, derived here); " + PAPER),
                    terms={"start_term": start, "noise_term": noise, "sum_eta": eta})
