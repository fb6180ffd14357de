"""Mutants: deliberately wrong bounds and broken quantisers the property suite must refute.

A property suite that cannot fail proves nothing (THEORY.md section 6).  Each
:class:`Mutant` names a public function (``"lpsgd.theory:theorem1"``), builds a wrong
replacement from the original, and lists the properties expected to refute it.  The
tests in ``properties/test_mutants.py`` substitute the mutant for the public function,
run those properties under the active Hypothesis profile and assert that they fail;
reports show the counterexample each one found.

The weakened theorems call the original first, so every assumption check still runs and
only the value of the bound changes (except the ``*_no_stepsize_check`` mutants, whose
point is to drop the stepsize check; the properties ``test_theorem{1,2,3,4}_any_stepsize``
refute them with stepsizes up to twice 2/(q L)).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

__all__ = ["Mutant", "MUTANTS", "substituted", "mutant_names"]


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A wrong replacement for one public function.

    Attributes:
        name: short identifier (the test is ``test_mutant_<name>``).
        target: ``"module:attribute"`` of the public function it replaces.
        description: what is wrong, in one sentence.
        build: maps the original function to the mutant.
        properties: ``"test_module::test_function"`` names of the properties that must
            refute it (any one failing refutes it).
    """

    name: str
    target: str
    description: str
    build: Callable[[Callable[..., Any]], Callable[..., Any]]
    properties: tuple[str, ...]

    def resolve(self) -> tuple[Any, str]:
        module, attr = self.target.split(":")
        return importlib.import_module(module), attr


@contextlib.contextmanager
def substituted(mutant: Mutant | str) -> Iterator[Callable[..., Any]]:
    """Replace the target of ``mutant`` by the mutant inside the ``with`` block."""
    m = MUTANTS[mutant] if isinstance(mutant, str) else mutant
    module, attr = m.resolve()
    original = getattr(module, attr)
    replacement = m.build(original)
    setattr(module, attr, replacement)
    try:
        yield replacement
    finally:
        setattr(module, attr, original)


def mutant_names() -> list[str]:
    return list(MUTANTS)


# -- helpers ------------------------------------------------------------------------------

def _q(value: Any) -> Fraction:
    """An exact Fraction of a real (float, int, Fraction, mpf)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, mpmath.mpf):
        man, exp = mpmath.mpf(value).man_exp
        return Fraction(int(man)) * Fraction(2) ** int(exp)
    return Fraction(value)


def _with_value(bound: Any, value: Fraction, theorem: str) -> Any:
    """A copy of the original Bound with a different value (marked as a mutant)."""
    with mpmath.workprec(256):
        mp_value = mpmath.mpf(value.numerator) / value.denominator
    try:
        return dataclasses.replace(bound, value=mp_value, exact=value,
                                   theorem=f"{theorem} (mutant)")
    except TypeError:  # not a dataclass Bound: return a minimal stand-in
        return _Stand(mp_value, value, f"{theorem} (mutant)")


@dataclasses.dataclass(frozen=True)
class _Stand:
    value: Any
    exact: Fraction
    theorem: str
    kind: str = "upper"
    assumptions: tuple[str, ...] = ()
    reference: str = "mutant"

    def __float__(self) -> float:
        return float(self.exact)


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


def _overriding(**overrides):
    """A mutant builder: the original, called with some keyword arguments replaced."""
    def build(original):
        def mutant(**kw):
            return original(**{**kw, **overrides})
        return mutant
    return build


#: The quantisation noise M_q dropped.
_drop_M_q = _overriding(M_q=0)
#: Theorems 5 and 6 with q_lo(t) replaced by 1 (truncation shrinkage ignored).
_q_lo_one = _overriding(q_lo=1)
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


def _theorem7_without_rounding_noise(original):
    """Theorem 7 with M' = M (delta and d s^2/4 dropped): plain Theorem 1 at q = 1."""
    def theorem7(**kw):
        b = original(**kw)
        value = _theorem1_value(L=kw["L"], c=kw["c"], M=kw["M"], M_q=0, mu=kw["mu"],
                                q_min=1, q_max=1, gap=kw["gap"], k=kw["k"])
        return _with_value(b, value, "theorem7")
    return theorem7


def _with_terms(bound: Any, value: Fraction, theorem: str, **terms: Fraction) -> Any:
    """A copy of a Bound with a different value and some terms replaced (exact values
    shown as 256-bit mpf, like the originals)."""
    out = _with_value(bound, value, theorem)
    with mpmath.workprec(256):
        shown = {k: mpmath.mpf(v.numerator) / v.denominator for k, v in terms.items()}
    if not hasattr(out, "terms"):
        return out
    return dataclasses.replace(out, terms={**out.terms, **shown})


def _theorem8_value(kw: dict, q_eff: Fraction, floor_den: Fraction) -> Fraction:
    """F_t + r^(k-1) (gap - F_t), r = 1 - mu c q_eff, F_t = d t^2 4^-127 / (2 c floor_den)."""
    c, mu, t, gap = map(_q, (kw["c"], kw["mu"], kw["t"], kw["gap"]))
    floor = int(kw["d"]) * t * t / Fraction(4) ** 127 / (2 * c * floor_den)
    r = 1 - mu * c * q_eff
    return floor + r ** (int(kw["k"]) - 1) * (gap - floor)


def _theorem8_without_clipping(original):
    """Theorem 8 with q_lo(t) from the element's rounding alone under floor (the clipping
    of block maxima in (X_f, 2^(emax_f+1)) to X_f ignored)."""
    def theorem8(**kw):
        from lpsgd.scaled import as_scaled_format
        from lpsgd.theory import scaled_constants

        b = original(**kw)
        fmt = as_scaled_format(kw["fmt"])
        if fmt.rule != "floor":
            return b
        consts = scaled_constants(fmt, kw["rounding"])
        t = _q(kw["t"])
        q_lo = consts.element_q_lo(t)
        loss = fmt.block_size * t * t * consts.kappa ** 2
        q_eff = q_lo * (1 - loss)
        return _with_terms(b, _theorem8_value(kw, q_eff, 1 - loss), "theorem8",
                           q_lo=q_lo, q_eff=q_eff, rate=1 - _q(kw["mu"]) * _q(kw["c"]) * q_eff)
    return theorem8


def _theorem8_without_loss(original):
    """Theorem 8 with loss(t) dropped: q_eff = q_lo(t), F_t = d t^2 4^-127 / (2c), and no
    loss(t) < 1 requirement (claims the scale costs nothing)."""
    def theorem8(**kw):
        from lpsgd.errors import AssumptionError
        from lpsgd.scaled import as_scaled_format
        from lpsgd.theory import scaled_constants

        try:
            b = original(**kw)
        except AssumptionError as exc:
            if "loss(t)" not in str(exc):
                raise
            b = None
            fmt = as_scaled_format(kw["fmt"])
            consts = scaled_constants(fmt, kw["rounding"])
            q_hi = consts.q_hi
            if (consts.q_lo(kw["t"]) == 0 or not isinstance(q_hi, Fraction)
                    or _q(kw["mu"]) > 1 / (_q(kw["L"]) * q_hi)):
                raise
        fmt = as_scaled_format(kw["fmt"])
        q_lo = scaled_constants(fmt, kw["rounding"]).q_lo(kw["t"])
        return _with_terms(b, _theorem8_value(kw, q_lo, Fraction(1)), "theorem8",
                           q_lo=q_lo, q_eff=q_lo, loss=Fraction(0))
    return theorem8


def _theorem9_on_floor(original):
    """Theorem 9 applied to a floor-scaled format: the refusal skipped (ceil's constants,
    whose kappa = 2^(1-emax_f) is twice floor's, so delta is if anything larger)."""
    def theorem9(**kw):
        from lpsgd.scaled import as_scaled_format

        fmt = as_scaled_format(kw["fmt"])
        if fmt.scale == "e8m0" and fmt.rule == "floor":
            kw = {**kw, "fmt": dataclasses.replace(fmt, rule="ceil")}
        return original(**kw)
    return theorem9


def _theorem9_delta_without_scale(original):
    """Theorem 9 with delta = 4^-m / 4: the scale-induced relative noise n_B s_f^2
    kappa^2 / 4 dropped (so larger stepsizes are admitted too)."""
    def theorem9(**kw):
        from lpsgd.errors import AssumptionError
        from lpsgd.scaled import as_scaled_format

        mu = _q(kw["mu"])
        b = original(**{**kw, "mu": mu / 2 ** 60})  # every other check of the original
        fmt = as_scaled_format(kw["fmt"])
        grid = fmt.grid
        delta = Fraction(1, 4 * 4 ** grid.man_bits)
        s_f = Fraction(grid.subnormal_spacing)
        M1 = (1 + delta) * _q(kw["M"]) + int(kw["d"]) * s_f * s_f / Fraction(4) ** 128
        MG1 = (1 + delta) * (1 + _q(kw["M_V"]))
        if mu > 1 / (_q(kw["L"]) * MG1):
            raise AssumptionError(f"theorem9: stepsize mu={kw['mu']!r} exceeds 1/(L*M_G')")
        value = _theorem1_value(L=kw["L"], c=kw["c"], M=M1, M_q=0, mu=mu, q_min=1, q_max=1,
                                gap=kw["gap"], k=kw["k"])
        return _with_terms(b, value, "theorem9", delta=delta, M_prime=M1, M_G_prime=MG1)
    return theorem9


# -- quantiser mutants --------------------------------------------------------------------

def _finite_in_range(x: Any, fmt: Any) -> np.ndarray:
    """Finite |x| below X_max: where the two quantisers below differ only by the bug."""
    from lpsgd.formats import as_format

    a = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & (np.abs(a) < float(as_format(fmt).x_max))


def _ties_away(original):
    """nearest_even resolving ties away from zero (finite in-range inputs only, so the
    mutant differs from the original exactly at ties)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        if str(rounding) != "nearest_even":
            return out
        away = original(x, fmt, "nearest_away", **kw)
        return np.where(_finite_in_range(x, fmt), away, out).astype(out.dtype)
    return quantize


def _saturating_overflow(original):
    """Finite overflow clamps to +-X_max instead of going to inf (inf inputs untouched)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        sat = original(x, fmt, rounding, **{**kw, "saturate": True})
        finite = np.isfinite(np.asarray(x, dtype=np.float64))
        return np.where(finite, sat, out).astype(out.dtype)
    return quantize


def _stochastic_without_randomness(original):
    """Stochastic modes that ignore rng/uniforms and always use u = 1/2."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        if str(rounding) in ("stochastic", "stochastic_equal"):
            kw.pop("rng", None)
            kw["uniforms"] = np.full(np.shape(x), 0.5)
        return original(x, fmt, rounding, **kw)
    return quantize


def _up_moves_exact(original):
    """Rounding "up" computed as floor + one ulp instead of ceil: representable values
    move to the next value up (finite non-zero inputs below X_max)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        if str(rounding) != "up":
            return out
        a = np.asarray(x, dtype=np.float64)
        exact = _finite_in_range(a, fmt) & (a != 0) & (out.astype(np.float64) == a)
        bumped = original(np.nextafter(a, np.inf), fmt, "up", **kw)
        return np.where(exact, bumped, out).astype(out.dtype)
    return quantize


def _nearest_truncates(original):
    """The nearest modes without their rounding increment: they truncate (toward_zero)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        if str(rounding) not in ("nearest_even", "nearest_away", "nearest_zero"):
            return out
        cut = original(x, fmt, "toward_zero", **kw)
        return np.where(_finite_in_range(x, fmt), cut, out).astype(out.dtype)
    return quantize


def _loses_negative_zero(original):
    """Results that are zero come back as +0.0, whatever the sign (the sign of a zero
    result lost, as in some peer libraries)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        return np.where(out == 0, 0.0, out).astype(out.dtype)
    return quantize


def _overflow_to_zero(original):
    """Finite inputs beyond X_max quantised to a signed zero (an exponent that wrapped)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        from lpsgd.formats import as_format

        out = original(x, fmt, rounding, **kw)
        a = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            over = np.isfinite(a) & (np.abs(a) > float(as_format(fmt).x_max))
        return np.where(over, np.copysign(0.0, a), out).astype(out.dtype)
    return quantize


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
    import lpsgd.reference.sgd as rsgd

    chain = rsgd.chain

    def shrink(q):
        return chain(original(q), original(q))
    return shrink



# -- scaled-format mutants ----------------------------------------------------------------

def _scale_float_log2(original):
    """E8M0 exponents from a float64 logarithm instead of the bits: floor(log2 a_B)
    rounds up just below a power of two (log2(2^k (1 - 2^-53)) is k in float64), and
    rceil's a_B / X_f rounds before its logarithm."""
    def e8m0_exponents(a, fmt):
        a = np.asarray(a, dtype=np.float64)
        if fmt.rule == "floor":
            e = np.floor(np.log2(a)) - fmt.emax_f
        elif fmt.rule == "ceil":
            e = np.ceil(np.log2(a)) - fmt.emax_f
        else:
            e = np.ceil(np.log2(a / float(fmt.x_f)))
        return np.clip(e.astype(np.int64), -127, 127)
    return e8m0_exponents


def _tensor_scale_float64(original):
    """The NVFP4 per-tensor scale S = 448 X_f / a_tensor computed in float64 instead of
    float32 arithmetic."""
    def tensor_scale(a_tensor, fmt):
        if not np.isfinite(a_tensor) or a_tensor == 0:
            return 1.0
        return float(fmt.tensor_numerator) / float(a_tensor)
    return tensor_scale


# -- findings mutants (lpsgd.data, lpsgd.findings) -------------------------------------------

def _f_star_shifted(delta: float):
    """lpsgd.data.solve reporting F* shifted by ``delta`` (both its float64 and mpmath
    values): an F* that is off by 1e-6."""
    def build(original):
        def solve(objective):
            s = original(objective)
            return dataclasses.replace(s, f_star=s.f_star + delta,
                                       f_star_mp=s.f_star_mp + mpmath.mpf(delta))
        return solve
    return build


def _no_sampling_noise(original):
    """The finite sum's sampling constants (M, M_V) dropped: minibatch noise ignored."""
    def sampling_constants(problem, batch):
        original(problem, batch)
        return 0.0, 0.0
    return sampling_constants


#: The predicted slowdown computed without q_min (q_min = 1: no slowdown).
_slowdown_without_q = _overriding(q_min=1)


_TH = "test_prop_theorems::"
_BR = "test_prop_bridge::"
_QZ = "test_prop_quantize::"
_MC = "test_prop_montecarlo::"
_SL = "test_prop_slowdown::"
_SC = "test_prop_scaled::"
_FD = "test_prop_findings::"
_S8 = "test_prop_scaled_theorems::"

MUTANTS: dict[str, Mutant] = {m.name: m for m in [
    Mutant("theorem1_rate_without_q", "lpsgd.theory:theorem1",
           "Theorem 1 with q_min replaced by 1 in the rate r (claims no slowdown).",
           _theorem1_rate_without_q, (_TH + "test_theorem1_exact_quadratic",)),
    Mutant("theorem1_floor_without_q", "lpsgd.theory:theorem1",
           "Theorem 1 with the floor lacking the 1/q_min factor.",
           _theorem1_floor_without_q, (_TH + "test_theorem1_exact_quadratic",)),
    Mutant("theorem1_without_M_q", "lpsgd.theory:theorem1",
           "Theorem 1 with the quantisation noise M_q dropped.",
           _drop_M_q, (_TH + "test_theorem1_exact_quadratic",
                       _TH + "test_theorem1_exact_dense_quadratic",
                       _TH + "test_theorem1_any_stepsize")),
    Mutant("theorem3_without_M_q", "lpsgd.theory:theorem3",
           "Theorem 3 with the quantisation noise M_q dropped.",
           _drop_M_q, (_TH + "test_theorem3_exact_quadratic",
                       _TH + "test_theorem3_any_stepsize")),
    Mutant("theorem1_no_stepsize_check", "lpsgd.theory:theorem1",
           "Theorem 1 applied to any stepsize, including mu > 2/(q L) (divergence).",
           _theorem1_no_stepsize_check, (_TH + "test_theorem1_any_stepsize",)),
    Mutant("theorem6_q_lo_one", "lpsgd.theory:theorem6",
           "Theorem 6 with q_lo(t) replaced by 1 (ignores truncation shrinkage).",
           _q_lo_one, (_BR + "test_theorem6_gradient_descent",)),
    Mutant("quantize_ties_away", "lpsgd.fast:quantize",
           "fast.quantize resolving nearest_even ties away from zero.",
           _ties_away, (_QZ + "test_fast_matches_reference_ties",
                        _QZ + "test_fast_matches_reference")),
    Mutant("quantize_overflow_saturates", "lpsgd.fast:quantize",
           "fast.quantize saturating to X_max on overflow instead of giving inf.",
           _saturating_overflow, (_QZ + "test_fast_matches_reference",)),
    Mutant("quantize_stochastic_no_randomness", "lpsgd.fast:quantize",
           "fast.quantize stochastic modes ignoring their randomness (u = 1/2 always).",
           _stochastic_without_randomness,
           (_QZ + "test_stochastic_rounding_distribution",)),
    Mutant("theorem2_without_q", "lpsgd.theory:theorem2",
           "Theorem 2 with nu computed as if q_min = 1 (beta c - 1 for beta c q_min - 1).",
           _theorem2_without_q, (_TH + "test_theorem2_exact_quadratic",)),
    Mutant("theorem2_without_M_q", "lpsgd.theory:theorem2",
           "Theorem 2 with the quantisation noise M_q dropped.",
           _drop_M_q, (_TH + "test_theorem2_exact_quadratic",)),
    Mutant("theorem3_without_q", "lpsgd.theory:theorem3",
           "Theorem 3 with q_min dropped from the floor and the transient.",
           _theorem3_without_q, (_TH + "test_theorem3_exact_quadratic",)),
    Mutant("theorem4_without_q", "lpsgd.theory:theorem4",
           "Theorem 4 with q_min dropped from both terms.",
           _theorem4_without_q, (_TH + "test_theorem4_exact_quadratic",)),
    Mutant("theorem4_without_M_q", "lpsgd.theory:theorem4",
           "Theorem 4 with the quantisation noise M_q dropped.",
           _drop_M_q, (_TH + "test_theorem4_exact_quadratic",)),
    Mutant("theorem1_schedule_without_q", "lpsgd.theory:theorem1_schedule",
           "Schedule-aware Theorem 1 contracting with mu_k instead of eta_k = mu_k q_k.",
           _theorem1_schedule_without_q, (_TH + "test_theorem1_schedule_exact_quadratic",)),
    Mutant("theorem3_schedule_without_q", "lpsgd.theory:theorem3_schedule",
           "Schedule-aware Theorem 3 weighting by mu_k instead of eta_k = mu_k q_k.",
           _theorem3_schedule_without_q, (_TH + "test_theorem3_schedule_exact_quadratic",)),
    Mutant("theorem5_q_lo_one", "lpsgd.theory:theorem5",
           "Theorem 5 with q_lo replaced by 1 (rate without truncation shrinkage).",
           _q_lo_one, (_BR + "test_theorem5_gradient_descent",)),
    Mutant("theorem7_without_rounding_noise", "lpsgd.theory:theorem7",
           "Theorem 7 with M' = M (the stochastic-rounding noise delta, d s^2/4 dropped).",
           _theorem7_without_rounding_noise, (_BR + "test_theorem7_stochastic_rounding",)),
    Mutant("theorem2_no_stepsize_check", "lpsgd.theory:theorem2",
           "Theorem 2 applied to any mu_1, including mu_1 > 2/(q L) (divergence).",
           _theorem2_no_stepsize_check, (_TH + "test_theorem2_any_stepsize",)),
    Mutant("theorem3_no_stepsize_check", "lpsgd.theory:theorem3",
           "Theorem 3 applied to any stepsize, including mu > 2/(q L) (divergence).",
           _theorem3_no_stepsize_check, (_TH + "test_theorem3_any_stepsize",)),
    Mutant("theorem4_no_stepsize_check", "lpsgd.theory:theorem4",
           "Theorem 4 applied to any stepsizes, including mu > 2/(q L) (divergence).",
           _theorem4_no_stepsize_check, (_TH + "test_theorem4_any_stepsize",)),
    # Every property fails on at least one mutant on its own: the ones below are each
    # refuted by the single property they list.
    Mutant("theorem1_rate_without_q_montecarlo", "lpsgd.theory:theorem1",
           "Theorem 1 without q_min in the rate, against Monte Carlo SGD.",
           _theorem1_rate_without_q, (_MC + "test_theorem1_montecarlo",)),
    Mutant("theorem2_without_gap_montecarlo", "lpsgd.theory:theorem2",
           "Theorem 2 with nu missing its (gamma + 1) gap branch, against Monte Carlo SGD.",
           _theorem2_without_gap, (_MC + "test_theorem2_montecarlo",)),
    Mutant("theorem3_without_M_q_montecarlo", "lpsgd.theory:theorem3",
           "Theorem 3 without the quantisation noise M_q, against Monte Carlo SGD on the "
           "Cauchy loss.",
           _drop_M_q, (_MC + "test_theorem3_montecarlo",)),
    Mutant("theorem4_without_M_q_montecarlo", "lpsgd.theory:theorem4",
           "Theorem 4 without the quantisation noise M_q, against Monte Carlo SGD on the "
           "Cauchy loss.",
           _drop_M_q, (_MC + "test_theorem4_montecarlo",)),
    Mutant("theorem1_floor_doubled", "lpsgd.theory:theorem1",
           "Theorem 1 with its floor doubled: valid, but not the classical bound at q = 1.",
           _floor_doubled, (_SL + "test_reduction_to_classical",)),
    Mutant("moments_q_divides", "lpsgd.reference.expectations:quadratic_moments",
           "The exact recursion with effective stepsize mu / q instead of mu q.",
           _moments_q_divides, (_SL + "test_gap_monotone_in_q",)),
    Mutant("shrink_twice", "lpsgd.reference.sgd:shrink",
           "The exact engine's shrink(q) multiplying the gradient by q twice.",
           _shrink_twice, (_SL + "test_effective_stepsize_equivalence",)),
    Mutant("iterations_ignore_q", "lpsgd.theory:iterations_to_eps",
           "Iterations to eps counted as if q = 1 (no slowdown).",
           _iterations_ignore_q, (_SL + "test_iterations_to_eps_slowdown",)),
    Mutant("quantize_up_moves_exact", "lpsgd.fast:quantize",
           "fast.quantize rounding up as floor + 1 ulp (representable values move).",
           _up_moves_exact, (_QZ + "test_quantize_idempotent",)),
    Mutant("quantize_nearest_truncates", "lpsgd.fast:quantize",
           "fast.quantize nearest modes truncating (their rounding increment lost).",
           _nearest_truncates, (_QZ + "test_quantize_error_within_spacing",)),
    Mutant("quantize_overflow_to_zero", "lpsgd.fast:quantize",
           "fast.quantize sending finite values beyond X_max to zero.",
           _overflow_to_zero, (_QZ + "test_quantize_monotone",)),
    Mutant("quantize_loses_negative_zero", "lpsgd.fast:quantize",
           "fast.quantize returning +0.0 for every zero result (the sign of zero lost).",
           _loses_negative_zero, (_QZ + "test_quantize_sign_symmetric",)),
    Mutant("theorem1_without_M_q_dense", "lpsgd.theory:theorem1",
           "Theorem 1 without the quantisation noise M_q, against the dense exact recursion.",
           _drop_M_q, (_TH + "test_theorem1_exact_dense_quadratic",)),
    Mutant("quantize_ties_away_ties", "lpsgd.fast:quantize",
           "fast.quantize resolving nearest_even ties away from zero, on ties alone.",
           _ties_away, (_QZ + "test_fast_matches_reference_ties",)),
    Mutant("quantize_stochastic_no_randomness_rng", "lpsgd.fast:quantize",
           "fast.quantize stochastic modes ignoring their rng, against the reference.",
           _stochastic_without_randomness, (_QZ + "test_fast_matches_reference_stochastic",)),
    Mutant("quantize_stochastic_no_randomness_uniforms", "lpsgd.fast:quantize",
           "fast.quantize stochastic modes ignoring given uniforms, against the reference.",
           _stochastic_without_randomness, (_QZ + "test_fast_matches_reference_uniforms",)),
    Mutant("quantize_overflow_saturates_stress", "lpsgd.fast:quantize",
           "fast.quantize saturating on overflow, on the stress inputs.",
           _saturating_overflow, (_QZ + "test_fast_matches_reference_stress",)),
    Mutant("scaled_scale_float_log2", "lpsgd.fast.scaled:e8m0_exponents",
           "fast scaled quantiser taking E8M0 exponents from a float64 log2 (wrong just "
           "below a power of two, and for rceil just above X_f 2^k).",
           _scale_float_log2, (_SC + "test_scaled_fast_matches_reference",)),
    Mutant("nvfp4_tensor_scale_float64", "lpsgd.fast.scaled:tensor_scale",
           "fast NVFP4 quantiser computing the per-tensor scale in float64, not float32.",
           _tensor_scale_float64, (_SC + "test_nvfp4_fast_matches_reference",)),
    Mutant("data_f_star_high", "lpsgd.data:solve",
           "lpsgd.data reporting F* 1e-6 above the minimum of the real problem.",
           _f_star_shifted(1e-6), (_FD + "test_findings_f_star_certified",)),
    Mutant("data_f_star_low", "lpsgd.data:solve",
           "lpsgd.data reporting F* 1e-6 below the minimum, against Theorems 5 and 6.",
           _f_star_shifted(-1e-6), (_FD + "test_findings_full_gradient_theorems_5_6",)),
    Mutant("findings_no_sampling_noise", "lpsgd.findings:sampling_constants",
           "The findings' Theorem 7 bound without the finite sum's sampling noise (M = 0).",
           _no_sampling_noise, (_FD + "test_findings_theorem7_stochastic_rounding",)),
    Mutant("findings_slowdown_without_q", "lpsgd.findings:predicted_slowdown",
           "The findings' predicted slowdown computed without q_min (always 1).",
           _slowdown_without_q, (_FD + "test_findings_slowdown_exact_model",)),
    Mutant("theorem8_without_clipping", "lpsgd.theory:theorem8",
           "Theorem 8 with q_lo(t) from the element rounding alone under floor (the "
           "clipping of block maxima to X_f ignored).",
           _theorem8_without_clipping, (_S8 + "test_theorem8_step_certificate",)),
    Mutant("theorem8_without_loss", "lpsgd.theory:theorem8",
           "Theorem 8 with loss(t) dropped (q_eff = q_lo(t), no loss(t) < 1 check): claims "
           "the block scale costs nothing.",
           _theorem8_without_loss, (_S8 + "test_theorem8_gradient_descent",)),
    Mutant("theorem9_on_floor", "lpsgd.theory:theorem9",
           "Theorem 9 applied to a floor-scaled format, where clipped block maxima make Q "
           "biased.",
           _theorem9_on_floor, (_S8 + "test_theorem9_quantiser_moments",)),
    Mutant("theorem9_delta_without_scale", "lpsgd.theory:theorem9",
           "Theorem 9 with delta = 4^-m / 4 (the scale-induced relative noise dropped).",
           _theorem9_delta_without_scale, (_S8 + "test_theorem9_stochastic_rounding",)),
]}
