"""Properties: every bound of Theorems 1-5 is at least the worst case over its whole class.

The ground truth is the exact worst case of the method over the function class the
theorem covers, computed by performance estimation (:mod:`lpsgd.worstcase`): a bound below
it is wrong for some L-smooth (strongly convex, or bounded below) function, not just for a
quadratic.  Each factory takes the bound function it checks as a keyword argument (lpsgd's
own by default) and returns the Hypothesis test; a mutant or a user's bound is just another
function passed in.  A bound function may return a :class:`lpsgd.theory.Bound` or a number.

==========================  ==============================================  ===============
factory                     worst case of                                   formulation
==========================  ==============================================  ===============
theorem1_worstcase          gradient descent, q schedule, no noise          (a) exact
theorem1_noise_worstcase    shrinkage model with noise, scenario tree       (c) subset
theorem2_worstcase          diminishing stepsizes, q schedule, no noise     (a) exact
theorem2_noise_worstcase    diminishing stepsizes with noise, scenario tree (c) subset
theorem3_worstcase          average ||grad F||^2, nonconvex, no noise       (d) relaxation
theorem4_worstcase          sum mu_k ||grad F||^2, nonconvex, no noise      (e) relaxation
theorem5_worstcase          any direction Theorem 5's proof allows          (b) relaxation
==========================  ==============================================  ===============

Every comparison is ``worst <= bound (1 + WORSTCASE_RTOL)``
(:data:`lpsgd.worstcase.WORSTCASE_RTOL`, the solver's accuracy being checked to a tenth of
it); a solver that does not return an optimal, accurate solution raises
:class:`lpsgd.worstcase.SolverError` and the example fails (never passes).  A quarter of
the fixed-stepsize draws take stepsizes above the admissibility limit ``1/(L M_G)`` (but
with ``mu q < 2/L``): the theorem must then refuse (AssumptionError), so a bound that forgot
its stepsize check is refuted by the worst case of the stepsize it accepted.

Examples per property: :data:`EXAMPLE_FRACTION` of the active profile's (6 under ci, 100
under thorough).  The scenario trees have at most :data:`NOISE_STEPS` steps (3; 4 under
the thorough profile), each solve taking under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from hypothesis import Phase, example, given, note, settings
from hypothesis import strategies as st

import lpsgd.strategies as lst
import lpsgd.theory as theory
import lpsgd.worstcase as wc
from lpsgd.errors import AssumptionError
from lpsgd.suite import compare
from lpsgd.suite.mutant import Mutant

__all__ = ["theorem1_worstcase", "theorem1_noise_worstcase", "theorem2_worstcase",
           "theorem2_noise_worstcase", "theorem3_worstcase", "theorem4_worstcase",
           "theorem5_worstcase", "FACTORIES", "MUTANTS", "EXAMPLE_FRACTION", "MAX_STEPS",
           "NOISE_STEPS", "THOROUGH_EXAMPLES"]

#: Share of the active profile's max_examples each property runs (at least 6).
EXAMPLE_FRACTION = 0.1
#: Largest number of steps of the deterministic formulations in the draws.
MAX_STEPS = 8
#: Largest number of steps of a scenario tree in the draws (3 steps take about 0.6 s); under
#: a profile of at least :data:`THOROUGH_EXAMPLES` examples (thorough) one more (4 steps,
#: about 5 s).
NOISE_STEPS = 3
THOROUGH_EXAMPLES = 1000


def _settings(max_examples: int | None, shrink: bool, explicit: bool) -> settings:
    """The property's settings: ``max_examples`` (default :data:`EXAMPLE_FRACTION` of the
    profile's), without the shrink phase when ``shrink`` is False (a mutant's refutation
    needs no minimal counterexample, and each shrink step is a solve), without the explicit
    examples when ``explicit`` is False (to show what the generated draws alone find)."""
    n = max_examples if max_examples is not None else \
        lst.scaled_examples(EXAMPLE_FRACTION, minimum=6)
    kw: dict[str, Any] = {"max_examples": n}
    if not shrink or not explicit:
        kw["phases"] = [ph for ph in settings.default.phases
                        if (shrink or ph is not Phase.shrink)
                        and (explicit or ph is not Phase.explicit)]
    return settings(**kw)


def _noise_steps() -> int:
    return NOISE_STEPS + (settings.default.max_examples >= THOROUGH_EXAMPLES)


def _named(name: str, prop: Callable[..., Any]) -> Callable[..., Any]:
    prop.__name__ = prop.__qualname__ = name
    return prop


# -- draws -----------------------------------------------------------------------------------
def _dyadic(lo: float, hi: float, bits: int = 6) -> st.SearchStrategy[float]:
    """Floats in [lo, hi] with few significant bits, the endpoints drawn often."""
    scale = 2 ** bits
    return st.one_of(st.just(lo), st.just(hi),
                     st.integers(int(lo * scale), int(hi * scale)).map(lambda n: n / scale)
                     .filter(lambda v: lo <= v <= hi))


@st.composite
def _class(draw, *, convex: bool = True,
           max_kappa: float = 0.75) -> tuple[float, float | None]:
    L = draw(st.sampled_from([0.5, 1.0, 2.0, 4.0]))
    if not convex:
        return L, None
    kappa = draw(_dyadic(2.0 ** -5, max_kappa))
    return L, L * kappa


@st.composite
def _qs(draw, n: int, *, q_min: float | None = None, lowest: float = 0.125) -> list[float]:
    lo = q_min if q_min is not None else draw(_dyadic(lowest, 1.0))
    if draw(st.booleans()):
        return [lo] * n
    rest = draw(st.lists(_dyadic(lo, 1.0), min_size=n, max_size=n))
    rest[draw(st.integers(0, n - 1))] = lo  # q_min is reached
    return rest


#: Smallest worst-case contraction F(w_k) - F* >= MIN_CONTRACTION gap a strongly convex draw
#: may reach: below it the worst case is too small, relative to the gap, for the solver to
#: resolve it to WORSTCASE_RTOL (it reports "optimal_inaccurate", which is an error), so
#: the draws stop after fewer steps.
MIN_CONTRACTION = 1e-3


def _steps_resolvable(etas: list[float], L: float, c: float) -> int:
    """The number of leading steps whose worst-case contraction, at least
    prod_j max(1 - eta_j c, |1 - eta_j L|)^2 (the quadratics c x^2/2 and L x^2/2), stays
    above MIN_CONTRACTION (at least one step)."""
    prod, n = 1.0, 0
    for eta in etas:
        prod *= max(1 - eta * c, abs(1 - eta * L)) ** 2
        if prod < MIN_CONTRACTION and n >= 1:
            break
        n += 1
    return n


def _admissible(L: float, M_G: float, fraction: float) -> float:
    return lst.admissible_stepsize(L, M_G, fraction)


@st.composite
def _stepsize(draw, L: float, M_G: float, q_max: float, *, allow_inadmissible: bool,
              lowest: float = 0.125) -> float:
    """mu = fraction / (L M_G): admissible (fraction <= 1), or with probability 1/4 above
    the limit but with mu q_max L <= 15/8 (the worst case is finite below 2, and the
    solver's accuracy degrades near it); ``q_max`` is the
    largest factor multiplying the gradient (q_max, or q_hi for Theorem 5)."""
    if allow_inadmissible and draw(st.integers(0, 3)) == 0:
        top = 1.875 / q_max * M_G  # mu q_max L <= 15/8: away from the stability edge 2
        frac = draw(_dyadic(1.0 + 2.0 ** -6, max(top, 1.0 + 2.0 ** -5)))
        mu = float(Fraction(frac) / (Fraction(L) * Fraction(M_G)))
        if mu * q_max * L < 2:
            return mu
    return _admissible(L, M_G, draw(_dyadic(lowest, 1.0)))


def _gap(draw, *, allow_zero: bool) -> float:
    if allow_zero and draw(st.integers(0, 2)) == 0:
        return 0.0
    return draw(_dyadic(0.25, 4.0))


def _refused(name: str, exc: AssumptionError, mu: float, L: float, M_G: float,
             context: dict[str, Any]) -> None:
    """A refusal is only allowed for an inadmissible stepsize."""
    note(f"refused: {exc}")
    assert Fraction(mu) * Fraction(L) * Fraction(M_G) > 1, (
        f"{name}: refused an admissible case (mu L M_G <= 1): {exc}; constants {context}")


def _check(name: str, worst: wc.WorstCase, bound: Any, *, k: int, nontrivial: bool | None,
           context: dict[str, Any], args: dict[str, Any]) -> None:
    """Assert worst <= bound (1 + WORSTCASE_RTOL); ``args`` are the bound's keyword
    arguments (kept for replays by :func:`lpsgd.testing.check_bound`)."""
    note(f"worst case {worst.value!r} ({worst.formulation}, status {worst.status}, accuracy "
         f"{worst.accuracy:.2g}, residual {worst.residual:.2g}, size {worst.size}, "
         f"solver {worst.solver})")
    compare.assert_upper(name, worst.value, bound, rtol=wc.WORSTCASE_RTOL, k=k,
                         nontrivial=nontrivial, context=context,
                         args=args, claim=f"{name}: worst case over the class <= bound")


# -- Theorem 1 ---------------------------------------------------------------------------------
@st.composite
def _theorem1_case(draw, *, allow_inadmissible: bool = True):
    L, c = draw(_class())
    k = draw(st.integers(2, MAX_STEPS + 1))
    qs = draw(_qs(k - 1))
    mu = draw(_stepsize(L, 1.0, max(qs), allow_inadmissible=allow_inadmissible))
    k = 1 + _steps_resolvable([mu * q for q in qs], L, c)
    qs = qs[:k - 1]
    return L, c, mu, qs, _gap(draw, allow_zero=False), k


#: Run under every profile.  Two steps at mu = 1/L with a strong shrinkage q = 1/8: the worst
#: case (1 - mu c q)^4 gap ~ 0.77 is far above what a rate without q_min claims,
#: (1 - mu c)^2 gap = 1/4 (c/L = 1/2), and below the bound (1 - mu c q)^2 gap ~ 0.88.
_THEOREM1_SHRINKING = (1.0, 0.5, 1.0, [0.125, 0.125], 1.0, 3)
#: Run under every profile.  A stepsize with mu L = 7/4 > 2 - c/L (c/L = 1/2), which
#: Theorem 1 must refuse: the worst case of one step, (1 - mu L)^2 gap = 9/16, is above the
#: value its formula would give there, (1 - mu c) gap = 1/8 (the quadratic L x^2 / 2).
_THEOREM1_LARGE_STEP = (1.0, 0.5, 1.75, [1.0], 1.0, 2)
#: One step from the minimiser with quantisation noise and q = 1/4: Theorem 1 is an
#: equality there (F_q (1 - r) = L mu^2 B / 2 = the worst case), so every factor of its
#: floor matters.
_THEOREM1_FLOOR = (1.0, 0.5, 1.0, [0.25], 0.0, 0.0, 1.0, 0.0, 1)
#: mu_1 = beta/(gamma + 1) = 17/9 (between 1/L and 2/L) with beta c q_min = 17/16 > 1:
#: Theorem 2 must refuse it; the worst case of one step, (1 - mu_1 L)^2 gap ~ 0.79, is
#: above its formula's (gamma + 1) gap / (gamma + 2) ~ 0.53.
_THEOREM2_LARGE_STEP = (1.0, 0.5, 2.125, 0.125, [1.0], 1.0, 2)
#: One step from the minimiser with quantisation noise alone (M = 0, M_q = 1, mu_1 = 1/L):
#: the worst case L mu_1^2 M_q / 2 = 1/2 is positive, so a Theorem 2 that drops M_q (and
#: with it its whole noise term) is refuted; lpsgd's bound is 25/7.
_THEOREM2_NOISE_ONLY = (1.0, 0.5, 2.5, 1.5, [1.0], 0.0, 0.0, 1.0, 0.0, 1)
#: One step with mu L = 3/2: Theorem 3 must refuse it; the worst ||grad F(w_1)||^2 = 2 L gap
#: is above its formula's 2 gap / (mu q) = 4/3 gap.
_THEOREM3_LARGE_STEP = (1.0, 1.5, [1.0], 1.0, 1)
#: Two steps at mu = 1/L, q = 1/8: the worst average ||grad F||^2 ~ 1.77 gap is above what
#: Theorem 3 without q_min claims (2 gap / (K mu) = 1), below its bound (8).
_THEOREM3_SHRINKING = (1.0, 1.0, [0.125, 0.125], 1.0, 2)
#: The same for Theorem 4: worst sum mu_k ||grad F||^2 ~ 3.53 gap, above 2 gap (without
#: q_min), below (2 / q_min) gap = 16 gap.
_THEOREM4_SHRINKING = (1.0, [1.0, 1.0], [0.125, 0.125], 1.0)
#: One step with mu L = 3/2: Theorem 4 must refuse it; the worst mu ||grad F(w_1)||^2 =
#: mu 2 L gap = 3 gap is above its formula's (2 / q) gap = 2 gap.
_THEOREM4_LARGE_STEP = (1.0, [1.5], [1.0], 1.0)
#: Two steps at mu = 1/L along d = q_lo g (allowed): the worst case, at least
#: (1 - mu c q_lo)^4 gap ~ 0.59 (c/L = 1/2, q_lo = 1/4), is above what a rate without q_lo
#: claims, (1 - mu c)^2 gap = 1/4.
_THEOREM5_SHRINKING = (1.0, 0.5, 1.0, 0.25, 1.0, 1.0, 2)


def theorem1_worstcase(*, theorem1=theory.theorem1, max_examples: int | None = None,
                       shrink: bool = True, explicit: bool = True):
    """Theorem 1 without noise against the exact worst case of gradient descent with the
    drawn q schedule over every L-smooth, c-strongly convex function."""

    @settings(_settings(max_examples, shrink, explicit))
    @given(_theorem1_case())
    @example(case=_THEOREM1_SHRINKING)
    @example(case=_THEOREM1_LARGE_STEP)
    def prop(case):
        """Theorem 1 (M = M_q = 0) >= worst F(w_k) - F* over the class (formulation (a))."""
        L, c, mu, qs, gap, k = case
        consts = dict(L=L, c=c, M=0.0, M_V=0.0, M_q=0.0, mu=mu, q_min=min(qs), q_max=max(qs),
                      gap=gap)
        ctx = {**consts, "k": k, "qs": qs}
        try:
            bound = theorem1(**consts, k=k)
        except AssumptionError as exc:
            _refused("test_theorem1_worstcase", exc, mu, L, 1.0, ctx)
            return
        worst = wc.gradient_descent_gap(L=L, c=c, mus=[mu] * (k - 1), qs=qs, gap=gap)
        _check("test_theorem1_worstcase", worst, bound, k=k, nontrivial=None, context=ctx,
               args={**consts, "k": k})

    return _named("test_theorem1_worstcase", prop)


@st.composite
def _noise_case(draw, *, allow_inadmissible: bool = False):
    L, c = draw(_class())
    steps = draw(st.integers(1, _noise_steps()))
    # Steps eta L >= 1/(8 M_G): with smaller ones the tree's points nearly coincide and
    # the solver often stalls short of the required accuracy.
    qs = draw(_qs(steps, lowest=0.25))
    M = draw(st.one_of(st.just(0.0), _dyadic(0.0, 2.0)))
    M_q = draw(st.one_of(st.just(0.0), _dyadic(0.0, 2.0)))
    if M == 0 and M_q == 0:
        M_q = 0.5
    # M_V > 0 (noise growing with the gradient) often leaves Clarabel and SCS short of
    # 1e-6 on these trees; it is drawn in a quarter of the examples, small.
    M_V = draw(st.sampled_from([0.0, 0.0, 0.0, 0.25]))
    mu = draw(_stepsize(L, 1.0 + M_V, max(qs), allow_inadmissible=allow_inadmissible,
                        lowest=0.5))
    gap = _gap(draw, allow_zero=True)
    return L, c, mu, qs, M, M_V, M_q, gap, steps


def theorem1_noise_worstcase(*, theorem1=theory.theorem1, max_examples: int | None = None,
                             shrink: bool = True, explicit: bool = True):
    """Theorem 1 with noise against the worst case over a scenario tree of admissible noise
    (two zero-sum values per node, 1-3 steps): a subset of what (A2) and the quantisation
    budget allow, so a value above the bound is a counterexample."""

    @settings(_settings(max_examples, shrink, explicit))
    @given(_noise_case())
    @example(case=_THEOREM1_FLOOR)
    def prop(case):
        """Theorem 1 >= worst E[F(w_k) - F*] over a noise scenario tree (formulation (c))."""
        L, c, mu, qs, M, M_V, M_q, gap, steps = case
        k = steps + 1
        consts = dict(L=L, c=c, M=M, M_V=M_V, M_q=M_q, mu=mu, q_min=min(qs), q_max=max(qs),
                      gap=gap)
        ctx = {**consts, "k": k, "qs": qs}
        try:
            bound = theorem1(**consts, k=k)
        except AssumptionError as exc:
            _refused("test_theorem1_noise_worstcase", exc, mu, L, 1.0 + M_V, ctx)
            return
        worst = wc.scenario_tree_gap(L=L, c=c, mus=[mu] * steps, qs=qs, M=M, M_V=M_V,
                                     M_q=M_q, gap=gap)
        _check("test_theorem1_noise_worstcase", worst, bound, k=k, nontrivial=True,
               context=ctx, args={**consts, "k": k})

    return _named("test_theorem1_noise_worstcase", prop)


# -- Theorem 2 ---------------------------------------------------------------------------------
@st.composite
def _diminishing(draw, L: float, c: float, q_min: float, q_max: float, M_G: float):
    """(beta, gamma) admissible for Theorem 2, or with probability 1/4 with mu_1 above
    1/(L M_G) (but mu_1 q_max L <= 15/8)."""
    beta, gamma = draw(lst.diminishing_stepsizes(L=L, c=c, q_min=q_min, M_G=M_G))
    if draw(st.integers(0, 3)) == 0:
        # mu_1 = beta/(gamma + 1) pushed to a fraction in (1, 2/q_max) of 1/(L M_G)
        frac = draw(_dyadic(1.0 + 2.0 ** -6, 1.875 / q_max * M_G))
        mu1 = Fraction(frac) / (Fraction(L) * Fraction(M_G))
        g = max(Fraction(0), 1 / (mu1 * Fraction(c) * Fraction(q_min)) - 1) * \
            (1 + Fraction(draw(_dyadic(2.0 ** -6, 1.0)))) + Fraction(2.0 ** -4)
        gamma = float(g)
        beta = float(mu1 * (Fraction(gamma) + 1))
        if Fraction(beta) * Fraction(c) * Fraction(q_min) <= 1 or \
                Fraction(beta) / (Fraction(gamma) + 1) * Fraction(q_max) * Fraction(L) >= 2:
            beta, gamma = draw(lst.diminishing_stepsizes(L=L, c=c, q_min=q_min, M_G=M_G))
    return beta, gamma


def _mus(beta: float, gamma: float, n: int) -> list[float]:
    return [float(Fraction(beta) / (Fraction(gamma) + j)) for j in range(1, n + 1)]


@st.composite
def _theorem2_case(draw):
    L, c = draw(_class())
    k = draw(st.integers(2, MAX_STEPS + 1))
    qs = draw(_qs(k - 1))
    beta, gamma = draw(_diminishing(L, c, min(qs), max(qs), 1.0))
    k = 1 + _steps_resolvable([m * q for m, q in zip(_mus(beta, gamma, k - 1), qs)], L, c)
    qs = qs[:k - 1]
    return L, c, beta, gamma, qs, _gap(draw, allow_zero=False), k


def _mu1(beta: float, gamma: float) -> float:
    return float(Fraction(beta) / (Fraction(gamma) + 1))


def theorem2_worstcase(*, theorem2=theory.theorem2, max_examples: int | None = None,
                       shrink: bool = True, explicit: bool = True):
    """Theorem 2 without noise against the exact worst case of gradient descent with
    stepsizes beta/(gamma + k) and the drawn q schedule."""

    @settings(_settings(max_examples, shrink, explicit))
    @given(_theorem2_case())
    @example(case=_THEOREM2_LARGE_STEP)
    def prop(case):
        """Theorem 2 (M = M_q = 0) >= worst F(w_k) - F* over the class (formulation (a))."""
        L, c, beta, gamma, qs, gap, k = case
        consts = dict(L=L, c=c, M=0.0, M_V=0.0, M_q=0.0, beta=beta, gamma=gamma,
                      q_min=min(qs), q_max=max(qs), gap=gap)
        ctx = {**consts, "k": k, "qs": qs}
        try:
            bound = theorem2(**consts, k=k)
        except AssumptionError as exc:
            _refused("test_theorem2_worstcase", exc, _mu1(beta, gamma), L, 1.0, ctx)
            return
        worst = wc.gradient_descent_gap(L=L, c=c, mus=_mus(beta, gamma, k - 1), qs=qs,
                                        gap=gap)
        _check("test_theorem2_worstcase", worst, bound, k=k, nontrivial=None, context=ctx,
               args={**consts, "k": k})

    return _named("test_theorem2_worstcase", prop)


@st.composite
def _theorem2_noise_case(draw):
    L, c, mu, qs, M, M_V, M_q, gap, steps = draw(_noise_case(allow_inadmissible=False))
    beta, gamma = draw(lst.diminishing_stepsizes(L=L, c=c, q_min=min(qs), M_G=1.0 + M_V))
    return L, c, beta, gamma, qs, M, M_V, M_q, gap, steps


def theorem2_noise_worstcase(*, theorem2=theory.theorem2, max_examples: int | None = None,
                             shrink: bool = True, explicit: bool = True):
    """Theorem 2 with noise against the worst case over a noise scenario tree (1-3 steps)."""

    @settings(_settings(max_examples, shrink, explicit))
    @given(_theorem2_noise_case())
    @example(case=_THEOREM2_NOISE_ONLY)
    def prop(case):
        """Theorem 2 >= worst E[F(w_k) - F*] over a noise scenario tree (formulation (c))."""
        L, c, beta, gamma, qs, M, M_V, M_q, gap, steps = case
        k = steps + 1
        consts = dict(L=L, c=c, M=M, M_V=M_V, M_q=M_q, beta=beta, gamma=gamma,
                      q_min=min(qs), q_max=max(qs), gap=gap)
        ctx = {**consts, "k": k, "qs": qs}
        bound = theorem2(**consts, k=k)
        worst = wc.scenario_tree_gap(L=L, c=c, mus=_mus(beta, gamma, steps), qs=qs, M=M,
                                     M_V=M_V, M_q=M_q, gap=gap)
        _check("test_theorem2_noise_worstcase", worst, bound, k=k, nontrivial=True,
               context=ctx, args={**consts, "k": k})

    return _named("test_theorem2_noise_worstcase", prop)


# -- Theorems 3 and 4 (nonconvex) ----------------------------------------------------------------
@st.composite
def _theorem3_case(draw):
    L, _ = draw(_class(convex=False))
    K = draw(st.integers(1, MAX_STEPS))
    qs = draw(_qs(K))
    mu = draw(_stepsize(L, 1.0, max(qs), allow_inadmissible=True))
    return L, mu, qs, _gap(draw, allow_zero=False), K


def theorem3_worstcase(*, theorem3=theory.theorem3, max_examples: int | None = None,
                       shrink: bool = True, explicit: bool = True):
    """Theorem 3 without noise against the worst average squared gradient norm of gradient
    descent with shrinkage over L-smooth functions bounded below (relaxed lower bound)."""

    @settings(_settings(max_examples, shrink, explicit))
    @given(_theorem3_case())
    @example(case=_THEOREM3_SHRINKING)
    @example(case=_THEOREM3_LARGE_STEP)
    def prop(case):
        """Theorem 3 (M = M_q = 0) >= worst (1/K) sum ||grad F(w_k)||^2 (formulation (d))."""
        L, mu, qs, gap, K = case
        consts = dict(L=L, M=0.0, M_V=0.0, M_q=0.0, mu=mu, q_min=min(qs), q_max=max(qs),
                      gap=gap)
        ctx = {**consts, "K": K, "qs": qs}
        try:
            bound = theorem3(**consts, K=K)
        except AssumptionError as exc:
            _refused("test_theorem3_worstcase", exc, mu, L, 1.0, ctx)
            return
        worst = wc.nonconvex_average_gradient(L=L, mu=mu, qs=qs, gap=gap)
        _check("test_theorem3_worstcase", worst, bound, k=K, nontrivial=None, context=ctx,
               args={**consts, "K": K})

    return _named("test_theorem3_worstcase", prop)


@st.composite
def _theorem4_case(draw):
    L, _ = draw(_class(convex=False))
    K = draw(st.integers(1, MAX_STEPS))
    qs = draw(_qs(K))
    if draw(st.booleans()):
        # mu_k = beta / (gamma + k) with mu_1 a fraction of 1/L (above 1 a quarter of the time)
        mu1 = draw(_stepsize(L, 1.0, max(qs), allow_inadmissible=True))
        gamma = draw(_dyadic(0.0, 8.0))
        beta = float(Fraction(mu1) * (Fraction(gamma) + 1))
        mus = _mus(beta, gamma, K)
        mus[0] = mu1  # exact
    else:
        mus = [draw(_stepsize(L, 1.0, max(qs), allow_inadmissible=True)) for _ in range(K)]
    return L, mus, qs, _gap(draw, allow_zero=False)


def theorem4_worstcase(*, theorem4=theory.theorem4, max_examples: int | None = None,
                       shrink: bool = True, explicit: bool = True):
    """Theorem 4 without noise against the worst sum_k mu_k ||grad F(w_k)||^2 of gradient
    descent with (diminishing) stepsizes and shrinkage over L-smooth functions bounded
    below (relaxed lower bound)."""

    @settings(_settings(max_examples, shrink, explicit))
    @given(_theorem4_case())
    @example(case=_THEOREM4_SHRINKING)
    @example(case=_THEOREM4_LARGE_STEP)
    def prop(case):
        """Theorem 4 (M = M_q = 0) >= worst sum_k mu_k ||grad F(w_k)||^2 (formulation (e))."""
        L, mus, qs, gap = case
        consts = dict(L=L, M=0.0, M_V=0.0, M_q=0.0, mus=mus, q_min=min(qs), q_max=max(qs),
                      gap=gap)
        ctx = {**consts, "qs": qs}
        try:
            bound = theorem4(**consts)
        except AssumptionError as exc:
            _refused("test_theorem4_worstcase", exc, max(mus), L, 1.0, ctx)
            return
        worst = wc.nonconvex_weighted_gradient(L=L, mus=mus, qs=qs, gap=gap)
        _check("test_theorem4_worstcase", worst, bound, k=len(mus), nontrivial=None,
               context=ctx, args=dict(consts))

    return _named("test_theorem4_worstcase", prop)


# -- Theorem 5 ---------------------------------------------------------------------------------
@st.composite
def _theorem5_case(draw):
    # c/L <= 1/2: with stronger convexity the solver often stalls short of the accuracy
    # required on these programs.
    L, c = draw(_class(max_kappa=0.5))
    q_lo = draw(_dyadic(0.125, 1.0))
    q_hi = draw(_dyadic(q_lo, 2.0))
    steps = draw(st.integers(1, MAX_STEPS))
    # mu <= 1/(L q_hi), or with probability 1/4 above it (mu q_hi L < 2).
    mu = draw(_stepsize(L, q_hi, q_hi, allow_inadmissible=True))
    # d_k = q g_k is allowed for every q in [q_lo, q_hi]: the worst case is at least that of
    # gradient descent with eta = mu q_lo.
    steps = _steps_resolvable([mu * q_lo] * steps, L, c)
    return L, c, mu, q_lo, q_hi, _gap(draw, allow_zero=False), steps


def theorem5_worstcase(*, theorem5=theory.theorem5, max_examples: int | None = None,
                       shrink: bool = True, explicit: bool = True):
    """Theorem 5 against the worst case over every direction with
    <d, g> >= q_lo ||g||^2 and ||d||^2 <= q_hi <d, g> (the relaxation of diagonal
    shrinkage its proof uses)."""

    @settings(_settings(max_examples, shrink, explicit))
    @given(_theorem5_case())
    @example(case=_THEOREM5_SHRINKING)
    def prop(case):
        """Theorem 5 >= worst F(w_k) - F* over the adversarial directions (formulation (b))."""
        L, c, mu, q_lo, q_hi, gap, steps = case
        k = steps + 1
        consts = dict(L=L, c=c, mu=mu, q_lo=q_lo, q_hi=q_hi, gap=gap)
        ctx = {**consts, "k": k}
        try:
            bound = theorem5(**consts, k=k)
        except AssumptionError as exc:
            _refused("test_theorem5_worstcase", exc, mu, L, q_hi, ctx)
            return
        worst = wc.adversarial_direction_gap(L=L, c=c, mu=mu, q_lo=q_lo, q_hi=q_hi,
                                             steps=steps, gap=gap)
        _check("test_theorem5_worstcase", worst, bound, k=k, nontrivial=None, context=ctx,
               args={**consts, "k": k})

    return _named("test_theorem5_worstcase", prop)


#: The factories by the keyword argument (the bound function) they take.
FACTORIES: dict[str, tuple[Callable[..., Any], ...]] = {
    "theorem1": (theorem1_worstcase, theorem1_noise_worstcase),
    "theorem2": (theorem2_worstcase, theorem2_noise_worstcase),
    "theorem3": (theorem3_worstcase,),
    "theorem4": (theorem4_worstcase,),
    "theorem5": (theorem5_worstcase,),
}


def _theory_mutant(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The builder of the theory-side mutant ``name`` (looked up when the mutant is built:
    :mod:`lpsgd.suite.mutants` imports this module to collect :data:`MUTANTS`)."""
    def build(original: Callable[..., Any]) -> Callable[..., Any]:
        from lpsgd.suite.mutants import MUTANTS as registry

        return registry[name].build(original)
    return build


_WC = "test_prop_worstcase::"

#: One mutant per worst-case property that it refutes on its own (the wrong bounds are those
#: of the theory-side mutants of the same name without ``_worstcase``).
MUTANTS: dict[str, Mutant] = {m.name: m for m in [
    Mutant("theorem1_rate_without_q_worstcase",
           "Theorem 1 with q_min replaced by 1 in the rate, against the worst case of "
           "gradient descent over the class.",
           "theorem1", theory.theorem1, _theory_mutant("theorem1_rate_without_q"),
           (_WC + "theorem1_worstcase",)),
    Mutant("theorem1_floor_without_q_worstcase",
           "Theorem 1 with the floor lacking 1/q_min, against the worst case over a noise "
           "scenario tree.",
           "theorem1", theory.theorem1, _theory_mutant("theorem1_floor_without_q"),
           (_WC + "theorem1_noise_worstcase",)),
    Mutant("theorem2_no_stepsize_check_worstcase",
           "Theorem 2 applied to any mu_1, against the worst case of gradient descent with "
           "mu_1 between 1/L and 2/L.",
           "theorem2", theory.theorem2, _theory_mutant("theorem2_no_stepsize_check"),
           (_WC + "theorem2_worstcase",)),
    Mutant("theorem2_without_M_q_worstcase",
           "Theorem 2 without the quantisation noise M_q, against the worst case over a "
           "noise scenario tree.",
           "theorem2", theory.theorem2, _theory_mutant("theorem2_without_M_q"),
           (_WC + "theorem2_noise_worstcase",)),
    Mutant("theorem3_without_q_worstcase",
           "Theorem 3 without q_min, against the worst average squared gradient norm over "
           "L-smooth functions bounded below.",
           "theorem3", theory.theorem3, _theory_mutant("theorem3_without_q"),
           (_WC + "theorem3_worstcase",)),
    Mutant("theorem4_without_q_worstcase",
           "Theorem 4 without q_min, against the worst weighted gradient sum over L-smooth "
           "functions bounded below.",
           "theorem4", theory.theorem4, _theory_mutant("theorem4_without_q"),
           (_WC + "theorem4_worstcase",)),
    Mutant("theorem5_q_lo_one_worstcase",
           "Theorem 5 with q_lo replaced by 1, against the worst case over the directions "
           "its proof allows.",
           "theorem5", theory.theorem5, _theory_mutant("theorem5_q_lo_one"),
           (_WC + "theorem5_worstcase",)),
]}
