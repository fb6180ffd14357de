"""The mutants of the theory side: deliberately wrong bounds, recursions and transforms the
property suite must refute.

A property suite that cannot fail proves nothing: each :class:`lpsgd.suite.mutant.Mutant`
here is a wrong implementation of one function (a weakened theorem, a recursion with the
wrong effective stepsize, a shrinkage applied twice), built from lpsgd's own, with the
property factories (``"test_module::factory"``) that must refute it.  Nothing is
substituted in lpsgd's modules: ``properties/test_mutants.py`` calls each factory with
``**{mutant.slot: mutant.implementation()}`` and asserts that the test it returns fails.

The weakened theorems call the original first, so every assumption check still runs and
only the value of the bound changes (except the ``*_no_stepsize_check`` mutants, whose point
is to drop the stepsize check; the ``theorem{1,2,3,4}_any_stepsize`` properties refute them
with stepsizes up to twice 2/(q L)).

:data:`MUTANTS` is the whole registry: these, the quantiser-side ones of
:mod:`lpsgd.suite.quantizer_mutants` and those of the worst-case properties.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

import lpsgd.reference.expectations as _expectations
import lpsgd.reference.sgd as _rsgd
import lpsgd.theory as _theory
from lpsgd.suite.mutant import Mutant
from lpsgd.suite.mutant import Stand as _Stand
from lpsgd.suite.mutant import exact_fraction as _q
from lpsgd.suite.mutant import overriding as _overriding
from lpsgd.suite.mutant import with_value as _with_value

__all__ = ["Mutant", "MUTANTS", "THEORY_MUTANTS"]


# -- helpers ------------------------------------------------------------------------------
def _theorem1_value(*, L, c, M, M_q, mu, q_min, q_max, gap, k, rate_q=None,
                    floor_q=None) -> Fraction:
    """F_q + r^(k-1) (gap - F_q) with r = 1 - mu c rate_q, F_q = L mu B / (2 c floor_q)."""
    L, c, M, M_q, mu, gap = map(_q, (L, c, M, M_q, mu, gap))
    q_min, q_max = _q(q_min), _q(q_max)
    rate_q = q_min if rate_q is None else _q(rate_q)
    floor_q = q_min if floor_q is None else _q(floor_q)
    B = q_max ** 2 * M + M_q
    floor = L * mu * B / (2 * c * floor_q)
    r = 1 - mu * c * rate_q
    return floor + r ** (int(k) - 1) * (gap - floor)


# -- theorem mutants ----------------------------------------------------------------------

def _theorem1_rate_without_q(original):
    def theorem1(**kw):
        b = original(**kw)
        return _with_value(b, _theorem1_value(**{n: kw[n] for n in _T1}, rate_q=1),
                           "theorem1")
    return theorem1


def _theorem1_floor_without_q(original):
    def theorem1(**kw):
        b = original(**kw)
        return _with_value(b, _theorem1_value(**{n: kw[n] for n in _T1}, floor_q=1),
                           "theorem1")
    return theorem1


#: The quantisation noise M_q dropped.
_drop_M_q = _overriding(M_q=0)
#: Theorem 2 with nu reduced to its noise term: the (gamma + 1) gap branch forgotten.
_theorem2_without_gap = _overriding(gap=0)
#: iterations_to_eps counting with q = 1 whatever q_min (no slowdown).
_iterations_ignore_q = _overriding(q_min=1, q_max=1)


def _theorem1_no_stepsize_check(original):
    """Theorem 1's formula returned for any stepsize (admissibility check removed)."""
    def theorem1(**kw):
        try:
            b = original(**kw)
        except Exception as exc:  # the assumption check the mutant removes
            from lpsgd.errors import AssumptionError

            if not isinstance(exc, AssumptionError):
                raise
            b = _Stand(mpmath.mpf(0), Fraction(0), "theorem1")
        return _with_value(b, _theorem1_value(**{n: kw[n] for n in _T1}), "theorem1")
    return theorem1


_T1 = ("L", "c", "M", "M_q", "mu", "q_min", "q_max", "gap", "k")


def _assumption_error() -> type[Exception]:
    from lpsgd.errors import AssumptionError

    return AssumptionError


def _checked_or_stand(original, kw, theorem: str):
    """The original Bound, or a stand-in when only an assumption check refused it (the
    no-stepsize-check mutants drop that check)."""
    try:
        return original(**kw)
    except _assumption_error():
        return _Stand(mpmath.mpf(0), Fraction(0), theorem)


def _theorem2_value(*, L, c, M, M_q, beta, gamma, q_min, q_max, gap, k,
                    rate_q=None) -> Fraction:
    """nu / (gamma + k), nu = max{beta^2 L B / (2 (beta c rate_q - 1)), (gamma + 1) gap}."""
    L, c, M, M_q, beta, gamma, gap = map(_q, (L, c, M, M_q, beta, gamma, gap))
    q_min, q_max = _q(q_min), _q(q_max)
    rate_q = q_min if rate_q is None else _q(rate_q)
    B = q_max ** 2 * M + M_q
    denom = 2 * (beta * c * rate_q - 1)
    # An inadmissible beta (beta c q <= 1, only reachable without the checks) has no
    # finite noise term; the no-check mutant then claims the start term alone.
    noise = beta ** 2 * L * B / denom if denom > 0 else Fraction(0)
    nu = max(noise, (gamma + 1) * gap)
    return nu / (gamma + int(k))


def _theorem3_value(*, L, M, M_q, mu, q_min, q_max, gap, K, q=None) -> Fraction:
    """L mu B / q + 2 gap / (K mu q), q = q_min unless given."""
    L, M, M_q, mu, gap = map(_q, (L, M, M_q, mu, gap))
    q_min, q_max = _q(q_min), _q(q_max)
    q = q_min if q is None else _q(q)
    B = q_max ** 2 * M + M_q
    return L * mu * B / q + 2 * gap / (int(K) * mu * q)


def _theorem4_value(*, L, M, M_q, mus, q_min, q_max, gap, q=None) -> Fraction:
    """(2 / q) gap + (L B / q) sum mu_k^2, q = q_min unless given."""
    L, M, M_q, gap = map(_q, (L, M, M_q, gap))
    q_min, q_max = _q(q_min), _q(q_max)
    q = q_min if q is None else _q(q)
    B = q_max ** 2 * M + M_q
    s2 = sum((_q(m) ** 2 for m in mus), Fraction(0))
    return 2 * gap / q + L * B * s2 / q


_T2 = ("L", "c", "M", "M_q", "beta", "gamma", "q_min", "q_max", "gap", "k")
_T3 = ("L", "M", "M_q", "mu", "q_min", "q_max", "gap", "K")
_T4 = ("L", "M", "M_q", "mus", "q_min", "q_max", "gap")


def _theorem2_without_q(original):
    """Theorem 2 with nu computed as if q_min = 1 (beta c - 1 for beta c q_min - 1)."""
    def theorem2(**kw):
        b = original(**kw)
        return _with_value(b, _theorem2_value(**{n: kw[n] for n in _T2}, rate_q=1),
                           "theorem2")
    return theorem2


def _theorem3_without_q(original):
    """Theorem 3 with q_min dropped from the floor and the transient."""
    def theorem3(**kw):
        b = original(**kw)
        return _with_value(b, _theorem3_value(**{n: kw[n] for n in _T3}, q=1), "theorem3")
    return theorem3


def _theorem4_without_q(original):
    """Theorem 4 with q_min dropped from both terms."""
    def theorem4(**kw):
        b = original(**kw)
        return _with_value(b, _theorem4_value(**{n: kw[n] for n in _T4}, q=1), "theorem4")
    return theorem4


def _theorem2_no_stepsize_check(original):
    """Theorem 2's formula returned for any mu_1 = beta/(gamma+1) (admissibility check
    removed)."""
    def theorem2(**kw):
        b = _checked_or_stand(original, kw, "theorem2")
        return _with_value(b, _theorem2_value(**{n: kw[n] for n in _T2}), "theorem2")
    return theorem2


def _theorem3_no_stepsize_check(original):
    def theorem3(**kw):
        b = _checked_or_stand(original, kw, "theorem3")
        return _with_value(b, _theorem3_value(**{n: kw[n] for n in _T3}), "theorem3")
    return theorem3


def _theorem4_no_stepsize_check(original):
    def theorem4(**kw):
        b = _checked_or_stand(original, kw, "theorem4")
        return _with_value(b, _theorem4_value(**{n: kw[n] for n in _T4}), "theorem4")
    return theorem4


def _theorem1_schedule_without_q(original):
    """Schedule-aware Theorem 1 contracting with 1 - mu_k c instead of 1 - eta_k c,
    eta_k = mu_k q_k (the noise term keeps q_k)."""
    def theorem1_schedule(**kw):
        b = original(**kw)
        L, c, M, M_q, gap = (_q(kw[n]) for n in ("L", "c", "M", "M_q", "gap"))
        a = gap
        for m, q in zip(kw["mus"], kw["qs"]):
            m, q = _q(m), _q(q)
            a = (1 - m * c) * a + L * m * m * (q * q * M + M_q) / 2
        return _with_value(b, a, "theorem1_schedule")
    return theorem1_schedule


def _theorem3_schedule_without_q(original):
    """Schedule-aware Theorem 3 weighting the gradient sum by mu_k instead of eta_k.

    The mutant claims sum_k mu_k E||grad F(w_k)||^2 <= RHS; since eta_k <= q_max mu_k,
    that claim bounds the eta-weighted sum the property measures by q_max * RHS, which
    is the value returned.
    """
    def theorem3_schedule(**kw):
        b = original(**kw)
        q_max = max(_q(q) for q in kw["qs"])
        return _with_value(b, q_max * _q(b.exact if b.exact is not None else b.value),
                           "theorem3_schedule")
    return theorem3_schedule
def _floor_doubled(original):
    """Theorem 1 with the floor twice as large: still an upper bound, but not the
    classical one at q = 1 (only the reduction property can see it)."""
    def theorem1(**kw):
        b = original(**kw)
        args = {n: kw[n] for n in _T1}
        return _with_value(b, _theorem1_value(**args, floor_q=_q(kw["q_min"]) / 2),
                           "theorem1")
    return theorem1


def _moments_q_divides(original):
    """The exact recursion with the shrinkage dividing the stepsize (eta = mu / q)."""
    def quadratic_moments(objective, w1, *, K, mu, q=1.0, **kw):
        if isinstance(q, int | float | Fraction) and isinstance(mu, int | float | Fraction):
            return original(objective, w1, K=K, mu=Fraction(mu) / Fraction(q) ** 2, q=q, **kw)
        return original(objective, w1, K=K, mu=mu, q=q, **kw)
    return quadratic_moments


def _shrink_twice(original):
    """shrink(q) multiplying the gradient by q twice."""
    chain = _rsgd.chain

    def shrink(q):
        return chain(original(q), original(q))
    return shrink




_TH = "test_prop_theorems::"
_MC = "test_prop_montecarlo::"
_SL = "test_prop_slowdown::"
_T = _theory

#: The theory-side mutants, by name.
THEORY_MUTANTS: dict[str, Mutant] = {m.name: m for m in [
    Mutant("theorem1_rate_without_q",
           "Theorem 1 with q_min replaced by 1 in the rate r (claims no slowdown).",
           "theorem1", _T.theorem1, _theorem1_rate_without_q,
           (_TH + "theorem1_exact_quadratic",)),
    Mutant("theorem1_floor_without_q", "Theorem 1 with the floor lacking the 1/q_min factor.",
           "theorem1", _T.theorem1, _theorem1_floor_without_q,
           (_TH + "theorem1_exact_quadratic",)),
    Mutant("theorem1_without_M_q", "Theorem 1 with the quantisation noise M_q dropped.",
           "theorem1", _T.theorem1, _drop_M_q,
           (_TH + "theorem1_exact_quadratic", _TH + "theorem1_exact_dense_quadratic",
            _TH + "theorem1_any_stepsize")),
    Mutant("theorem3_without_M_q", "Theorem 3 with the quantisation noise M_q dropped.",
           "theorem3", _T.theorem3, _drop_M_q,
           (_TH + "theorem3_exact_quadratic", _TH + "theorem3_any_stepsize")),
    Mutant("theorem1_no_stepsize_check",
           "Theorem 1 applied to any stepsize, including mu > 2/(q L) (divergence).",
           "theorem1", _T.theorem1, _theorem1_no_stepsize_check,
           (_TH + "theorem1_any_stepsize",)),
    Mutant("theorem2_without_q",
           "Theorem 2 with nu computed as if q_min = 1 (beta c - 1 for beta c q_min - 1).",
           "theorem2", _T.theorem2, _theorem2_without_q, (_TH + "theorem2_exact_quadratic",)),
    Mutant("theorem2_without_M_q", "Theorem 2 with the quantisation noise M_q dropped.",
           "theorem2", _T.theorem2, _drop_M_q, (_TH + "theorem2_exact_quadratic",)),
    Mutant("theorem3_without_q", "Theorem 3 with q_min dropped from the floor and the transient.",
           "theorem3", _T.theorem3, _theorem3_without_q, (_TH + "theorem3_exact_quadratic",)),
    Mutant("theorem4_without_q", "Theorem 4 with q_min dropped from both terms.",
           "theorem4", _T.theorem4, _theorem4_without_q, (_TH + "theorem4_exact_quadratic",)),
    Mutant("theorem4_without_M_q", "Theorem 4 with the quantisation noise M_q dropped.",
           "theorem4", _T.theorem4, _drop_M_q, (_TH + "theorem4_exact_quadratic",)),
    Mutant("theorem1_schedule_without_q",
           "Schedule-aware Theorem 1 contracting with mu_k instead of eta_k = mu_k q_k.",
           "theorem1_schedule", _T.theorem1_schedule, _theorem1_schedule_without_q,
           (_TH + "theorem1_schedule_exact_quadratic",)),
    Mutant("theorem3_schedule_without_q",
           "Schedule-aware Theorem 3 weighting by mu_k instead of eta_k = mu_k q_k.",
           "theorem3_schedule", _T.theorem3_schedule, _theorem3_schedule_without_q,
           (_TH + "theorem3_schedule_exact_quadratic",)),
    Mutant("theorem2_no_stepsize_check",
           "Theorem 2 applied to any mu_1, including mu_1 > 2/(q L) (divergence).",
           "theorem2", _T.theorem2, _theorem2_no_stepsize_check,
           (_TH + "theorem2_any_stepsize",)),
    Mutant("theorem3_no_stepsize_check",
           "Theorem 3 applied to any stepsize, including mu > 2/(q L) (divergence).",
           "theorem3", _T.theorem3, _theorem3_no_stepsize_check,
           (_TH + "theorem3_any_stepsize",)),
    Mutant("theorem4_no_stepsize_check",
           "Theorem 4 applied to any stepsizes, including mu > 2/(q L) (divergence).",
           "theorem4", _T.theorem4, _theorem4_no_stepsize_check,
           (_TH + "theorem4_any_stepsize",)),
    # Every property fails on at least one mutant on its own: the ones below are each
    # refuted by the single property they list.
    Mutant("theorem1_rate_without_q_montecarlo",
           "Theorem 1 without q_min in the rate, against Monte Carlo SGD.",
           "theorem1", _T.theorem1, _theorem1_rate_without_q, (_MC + "theorem1_montecarlo",)),
    Mutant("theorem2_without_gap_montecarlo",
           "Theorem 2 with nu missing its (gamma + 1) gap branch, against Monte Carlo SGD.",
           "theorem2", _T.theorem2, _theorem2_without_gap, (_MC + "theorem2_montecarlo",)),
    Mutant("theorem3_without_M_q_montecarlo",
           "Theorem 3 without the quantisation noise M_q, against Monte Carlo SGD on the "
           "Cauchy loss.",
           "theorem3", _T.theorem3, _drop_M_q, (_MC + "theorem3_montecarlo",)),
    Mutant("theorem4_without_M_q_montecarlo",
           "Theorem 4 without the quantisation noise M_q, against Monte Carlo SGD on the "
           "Cauchy loss.",
           "theorem4", _T.theorem4, _drop_M_q, (_MC + "theorem4_montecarlo",)),
    Mutant("theorem1_floor_doubled",
           "Theorem 1 with its floor doubled: valid, but not the classical bound at q = 1.",
           "theorem1", _T.theorem1, _floor_doubled, (_SL + "reduction_to_classical",)),
    Mutant("moments_q_divides",
           "The exact recursion with effective stepsize mu / q instead of mu q.",
           "quadratic_moments", _expectations.quadratic_moments, _moments_q_divides,
           (_SL + "gap_monotone_in_q",)),
    Mutant("shrink_twice", "The exact engine's shrink(q) multiplying the gradient by q twice.",
           "shrink", _rsgd.shrink, _shrink_twice, (_SL + "effective_stepsize_equivalence",)),
    Mutant("iterations_ignore_q", "Iterations to eps counted as if q = 1 (no slowdown).",
           "iterations_to_eps", _T.iterations_to_eps, _iterations_ignore_q,
           (_SL + "iterations_to_eps_slowdown",)),
    Mutant("theorem1_without_M_q_dense",
           "Theorem 1 without the quantisation noise M_q, against the dense exact recursion.",
           "theorem1", _T.theorem1, _drop_M_q, (_TH + "theorem1_exact_dense_quadratic",)),
]}


def _registry() -> dict[str, Mutant]:
    from lpsgd.suite import quantizer_mutants

    out = {**THEORY_MUTANTS, **quantizer_mutants.MUTANTS}
    try:  # the worst-case properties need the optional solvers
        from lpsgd.suite import worstcase
    except ImportError:
        return out
    out.update(getattr(worstcase, "MUTANTS", {}))
    return out


#: Every mutant of the suite, by name: the theory side, the quantiser side and (when its
#: solvers are installed) the mutants of the worst-case properties
#: (``lpsgd.suite.worstcase.MUTANTS``, if it defines them).
MUTANTS: dict[str, Mutant] = _registry()
