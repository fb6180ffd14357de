"""Mutants of the quantisers, the scaled formats, the data, the findings and Theorems 5-9.

Each is a :class:`~lpsgd.suite.mutant.Mutant`: a wrong implementation of one public
function, built from lpsgd's own (``original``) and passed to the property factories of
``properties/`` under the keyword argument ``slot``; nothing in lpsgd's modules is
replaced.  The slots here:

* ``quantize`` -- :func:`lpsgd.fast.quantize` (the quantiser the fast conformance and
  invariant properties check, and the one they hand to the SGD engine's quantize
  transform);
* ``theorem5`` ... ``theorem9`` -- the bounds of :mod:`lpsgd.theory` checked with real
  quantisers in the loop;
* ``solve`` -- :func:`lpsgd.data.solve` (F* of a real problem, passed to
  :func:`lpsgd.data.from_arrays`);
* ``sampling_constants``, ``predicted_slowdown`` -- the building blocks of
  :mod:`lpsgd.findings` of the same names.

The weakened theorems call the original first, so every assumption check still runs and
only the value of the bound changes (except where the point of the mutant is to skip a
check).  The scaled-format mutants are whole block quantisers written with the exact
pieces of :mod:`lpsgd.reference.scaled` (block slices, the exact element rounding, the
E4M3 block scale), with one choice made wrongly: the E8M0 exponent from a float64
logarithm, or the NVFP4 per-tensor scale in float64; where that choice agrees with the
correct one they return the original's result.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

import lpsgd.data as data
import lpsgd.fast as fast
import lpsgd.findings as findings
import lpsgd.theory as theory
from lpsgd.suite.mutant import Mutant
from lpsgd.suite.mutant import exact_fraction as _q
from lpsgd.suite.mutant import overriding as _overriding
from lpsgd.suite.mutant import with_value as _with_value

__all__ = ["MUTANTS"]


# -- helpers ------------------------------------------------------------------------------
def _theorem1_at_q1(*, L, c, M, mu, gap, k) -> Fraction:
    """Theorem 1's bound at q = 1 without M_q, exactly: F + (1 - mu c)^(k-1) (gap - F),
    F = L mu M / (2 c) (what Theorems 7 and 9 reduce to)."""
    L, c, M, mu, gap = map(_q, (L, c, M, mu, gap))
    floor = L * mu * M / (2 * c)
    return floor + (1 - mu * c) ** (int(k) - 1) * (gap - floor)


def _with_terms(bound: Any, value: Fraction, theorem: str, **terms: Fraction) -> Any:
    """A copy of a Bound with a different value and some terms replaced (exact values
    shown as 256-bit mpf, like the originals)."""
    out = _with_value(bound, value, theorem)
    if not hasattr(out, "terms"):  # a stand-in for a Bound the original refused
        return out
    with mpmath.workprec(256):
        shown = {k: mpmath.mpf(v.numerator) / v.denominator for k, v in terms.items()}
    return dataclasses.replace(out, terms={**out.terms, **shown})


#: Theorems 5 and 6 with q_lo(t) replaced by 1 (truncation shrinkage ignored).
_q_lo_one = _overriding(q_lo=1)
#: The predicted slowdown computed without q_min (q_min = 1: no slowdown).
_slowdown_without_q = _overriding(q_min=1)


# -- Theorems 7-9 -------------------------------------------------------------------------

def _theorem7_without_rounding_noise(original):
    """Theorem 7 with M' = M (delta and d s^2/4 dropped): plain Theorem 1 at q = 1."""
    def theorem7(**kw):
        b = original(**kw)
        value = _theorem1_at_q1(L=kw["L"], c=kw["c"], M=kw["M"], mu=kw["mu"], gap=kw["gap"],
                                k=kw["k"])
        return _with_value(b, value, "theorem7")
    return theorem7


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

        b = original(**kw)
        fmt = as_scaled_format(kw["fmt"])
        if fmt.rule != "floor":
            return b
        consts = theory.scaled_constants(fmt, kw["rounding"])
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

        fmt = as_scaled_format(kw["fmt"])
        consts = theory.scaled_constants(fmt, kw["rounding"])
        try:
            b = original(**kw)
        except AssumptionError as exc:
            if "loss(t)" not in str(exc):
                raise
            q_hi = consts.q_hi
            if (consts.q_lo(kw["t"]) == 0 or not isinstance(q_hi, Fraction)
                    or _q(kw["mu"]) > 1 / (_q(kw["L"]) * q_hi)):
                raise
            b = None
        q_lo = consts.q_lo(kw["t"])
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
        grid = as_scaled_format(kw["fmt"]).grid
        delta = Fraction(1, 4 * 4 ** grid.man_bits)
        s_f = Fraction(grid.subnormal_spacing)
        M1 = (1 + delta) * _q(kw["M"]) + int(kw["d"]) * s_f * s_f / Fraction(4) ** 128
        MG1 = (1 + delta) * (1 + _q(kw["M_V"]))
        if mu > 1 / (_q(kw["L"]) * MG1):
            raise AssumptionError(f"theorem9: stepsize mu={kw['mu']!r} exceeds 1/(L*M_G')")
        value = _theorem1_at_q1(L=kw["L"], c=kw["c"], M=M1, mu=mu, gap=kw["gap"], k=kw["k"])
        return _with_terms(b, value, "theorem9", delta=delta, M_prime=M1, M_G_prime=MG1)
    return theorem9


# -- quantiser mutants (slot "quantize": lpsgd.fast.quantize) ----------------------------------

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
        if str(getattr(rounding, "value", rounding)) != "nearest_even":
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
        if str(getattr(rounding, "value", rounding)) in ("stochastic", "stochastic_equal"):
            kw.pop("rng", None)
            kw["uniforms"] = np.full(np.shape(x), 0.5)
        return original(x, fmt, rounding, **kw)
    return quantize


def _up_moves_exact(original):
    """Rounding "up" computed as floor + one ulp instead of ceil: representable values
    move to the next value up (finite non-zero inputs below X_max)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        out = original(x, fmt, rounding, **kw)
        if str(getattr(rounding, "value", rounding)) != "up":
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
        if str(getattr(rounding, "value", rounding)) not in ("nearest_even", "nearest_away",
                                                             "nearest_zero"):
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


# -- scaled-format mutants (slot "quantize", scaled formats) -----------------------------------

def _scaled_exact(p: Any, exponent: Callable[[Fraction, Any], int] | None,
                  s: Fraction) -> np.ndarray:
    """The block quantisation of the laid-out input ``p`` (lpsgd.reference.scaled.prepare)
    in exact arithmetic, with the E8M0 exponent of a block maximum given by ``exponent``
    (e8m0 formats) or the per-tensor scale ``s`` (e4m3 formats)."""
    from lpsgd.reference.scaled import block_slices, e4m3_block_scale, finish, round_exact

    sf = p.fmt
    n = p.x.shape[-1]
    res = np.empty(p.x.shape, dtype=np.float64)
    rows, xrows = res.reshape(-1, n), p.x.reshape(-1, n)
    urows = None if p.u is None else p.u.reshape(-1, n)
    for r in range(xrows.shape[0]):
        for sl in block_slices(n, sf.block_size):
            xs = xrows[r, sl]
            if not np.all(np.isfinite(xs)):
                rows[r, sl] = np.nan
                continue
            mags = [abs(Fraction(float(v))) for v in xs]
            a = max(mags)
            if sf.scale == "e8m0":
                e = exponent(a, sf) if a > 0 else 0
                factor, mult = Fraction(2) ** -e, Fraction(2) ** e
            else:
                sb = e4m3_block_scale(a, s, sf)
                factor, mult = (s / sb, sb / s) if sb > 0 else (None, None)
            if a == 0 or factor is None:
                rows[r, sl] = np.copysign(0.0, xs)
                continue
            vals = []
            for i, (v, m) in enumerate(zip(xs, mags)):
                neg = math.copysign(1.0, float(v)) < 0
                u = None if urows is None else float(urows[r, sl][i])
                g = min(round_exact(m * factor, neg, sf.grid, p.mode, u), sf.x_f)
                vals.append(float(g * mult))
            rows[r, sl] = np.copysign(np.abs(np.array(vals)), xs)
    return finish(res, p)


def _scaled_mutant(original, wrong_exponent=None, wrong_tensor_scale=None):
    """A quantiser that is ``original`` except for scaled formats of the kind the wrong
    choice concerns, where it is the exact block quantiser with that choice made wrongly
    (and ``original``'s result wherever the wrong choice equals the right one)."""
    def quantize(x, fmt, rounding="nearest_even", **kw):
        from lpsgd.reference.scaled import e8m0_exponent, prepare, tensor_scale
        from lpsgd.rounding import rounding_mode
        from lpsgd.scaled import as_scaled_format, is_scaled

        if not is_scaled(fmt):
            return original(x, fmt, rounding, **kw)
        sf = as_scaled_format(fmt)
        if (sf.scale == "e8m0") != (wrong_exponent is not None):
            return original(x, fmt, rounding, **kw)
        rng = kw.pop("rng", None)
        if rng is not None and rounding_mode(rounding).is_stochastic:
            kw["uniforms"] = rng.random(np.shape(x))  # the draw both paths make
        p = prepare(x, fmt, rounding, None, kw.get("uniforms"), kw.get("saturate", False),
                    kw.get("axis", -1))
        if p.x.size == 0:
            return original(x, fmt, rounding, **kw)
        s = Fraction(1)
        if wrong_exponent is not None:
            from lpsgd.reference.scaled import block_slices

            n = p.x.shape[-1]
            same = True
            for row in p.x.reshape(-1, n):
                for sl in block_slices(n, sf.block_size):
                    a = float(np.max(np.abs(row[sl])))
                    if math.isfinite(a) and a > 0 and (
                            wrong_exponent(Fraction(a), sf) != e8m0_exponent(Fraction(a), sf)):
                        same = False
            if same:
                return original(x, fmt, rounding, **kw)
        else:
            a_t = float(np.max(np.abs(p.x)))
            s = wrong_tensor_scale(a_t, sf)
            if s == tensor_scale(a_t, sf):
                return original(x, fmt, rounding, **kw)
        return _scaled_exact(p, wrong_exponent, s)
    return quantize


def _float_log2_exponent(a: Fraction, fmt: Any) -> int:
    """E8M0 exponent from a float64 logarithm instead of the bits: floor(log2 a_B) rounds
    up just below a power of two (log2(2^k (1 - 2^-53)) is k in float64), and rceil's
    a_B / X_f rounds before its logarithm."""
    af = float(a)
    if fmt.rule == "floor":
        e = math.floor(np.log2(af)) - fmt.emax_f
    elif fmt.rule == "ceil":
        e = math.ceil(np.log2(af)) - fmt.emax_f
    else:
        e = math.ceil(np.log2(af / float(fmt.x_f)))
    return min(max(int(e), -127), 127)


def _tensor_scale_float64(a_tensor: float, fmt: Any) -> Fraction:
    """The NVFP4 per-tensor scale S = 448 X_f / a_tensor in float64 instead of float32
    arithmetic."""
    if not math.isfinite(a_tensor) or a_tensor == 0:
        return Fraction(1)
    return Fraction(float(fmt.tensor_numerator) / a_tensor)


def _scale_float_log2(original):
    return _scaled_mutant(original, wrong_exponent=_float_log2_exponent)


def _nvfp4_scale_float64(original):
    return _scaled_mutant(original, wrong_tensor_scale=_tensor_scale_float64)


# -- data and findings mutants ------------------------------------------------------------------

def _f_star_shifted(delta: float):
    """lpsgd.data.solve reporting F* shifted by ``delta`` (both its float64 and mpmath
    values)."""
    def build(original):
        def solve(objective):
            s = original(objective)
            return dataclasses.replace(s, f_star=s.f_star + delta,
                                       f_star_mp=s.f_star_mp + mpmath.mpf(delta))
        return solve
    return build


def _q_hi_one(original):
    def deterministic_q_hi(fmt, mode):
        return 1
    return deterministic_q_hi


def _block_scale_forgotten(original):
    def quantize(x, fmt, rounding="nearest_even", **kwargs):
        return original(x, fmt.element, rounding, saturate=True)
    return quantize


def _no_sampling_noise(original):
    """The finite sum's sampling constants (M, M_V) dropped: minibatch noise ignored."""
    def sampling_constants(problem, batch):
        original(problem, batch)
        return 0.0, 0.0
    return sampling_constants


# -- the registry -------------------------------------------------------------------------------

_BR = "test_prop_bridge::"
_QZ = "test_prop_quantize::"
_SC = "test_prop_scaled::"
_FD = "test_prop_findings::"
_S8 = "test_prop_scaled_theorems::"


def _quantizer(name: str, description: str, build, properties: tuple[str, ...]) -> Mutant:
    return Mutant(name, description, "quantize", fast.quantize, build, properties)


MUTANTS: dict[str, Mutant] = {m.name: m for m in [
    Mutant("theorem5_q_lo_one",
           "Theorem 5 with q_lo replaced by 1 (rate without truncation shrinkage).",
           "theorem5", theory.theorem5, _q_lo_one, (_BR + "theorem5_gradient_descent",)),
    Mutant("theorem6_q_lo_one",
           "Theorem 6 with q_lo(t) replaced by 1 (ignores truncation shrinkage).",
           "theorem6", theory.theorem6, _q_lo_one, (_BR + "theorem6_gradient_descent",)),
    Mutant("theorem7_without_rounding_noise",
           "Theorem 7 with M' = M (the stochastic-rounding noise delta, d s^2/4 dropped).",
           "theorem7", theory.theorem7, _theorem7_without_rounding_noise,
           (_BR + "theorem7_stochastic_rounding",)),
    _quantizer("quantize_ties_away",
               "fast.quantize resolving nearest_even ties away from zero.",
               _ties_away, (_QZ + "fast_matches_reference_ties",
                            _QZ + "fast_matches_reference",
                            _QZ + "sgd_quantized_matches_reference")),
    _quantizer("quantize_overflow_saturates",
               "fast.quantize saturating to X_max on overflow instead of giving inf.",
               _saturating_overflow, (_QZ + "fast_matches_reference",)),
    _quantizer("quantize_stochastic_no_randomness",
               "fast.quantize stochastic modes ignoring their randomness (u = 1/2 always).",
               _stochastic_without_randomness, (_QZ + "stochastic_rounding_distribution",)),
    _quantizer("quantize_up_moves_exact",
               "fast.quantize rounding up as floor + 1 ulp (representable values move).",
               _up_moves_exact, (_QZ + "quantize_idempotent",)),
    _quantizer("quantize_nearest_truncates",
               "fast.quantize nearest modes truncating (their rounding increment lost).",
               _nearest_truncates, (_QZ + "quantize_error_within_spacing",)),
    # The same wrong quantiser, refuted through the SGD engines alone (each property must
    # be the only property of some mutant, so this is a mutant of its own).
    _quantizer("quantize_nearest_truncates_engine",
               "fast.quantize nearest modes truncating, as the SGD engine's quantiser "
               "(against the exact engine with the exact quantiser).",
               _nearest_truncates, (_QZ + "sgd_quantized_matches_reference",)),
    _quantizer("quantize_overflow_to_zero",
               "fast.quantize sending finite values beyond X_max to zero.",
               _overflow_to_zero, (_QZ + "quantize_monotone",)),
    _quantizer("quantize_loses_negative_zero",
               "fast.quantize returning +0.0 for every zero result (the sign of zero lost).",
               _loses_negative_zero, (_QZ + "quantize_sign_symmetric",)),
    _quantizer("quantize_ties_away_ties",
               "fast.quantize resolving nearest_even ties away from zero, on ties alone.",
               _ties_away, (_QZ + "fast_matches_reference_ties",)),
    _quantizer("quantize_stochastic_no_randomness_rng",
               "fast.quantize stochastic modes ignoring their rng, against the reference.",
               _stochastic_without_randomness, (_QZ + "fast_matches_reference_stochastic",)),
    _quantizer("quantize_stochastic_no_randomness_uniforms",
               "fast.quantize stochastic modes ignoring given uniforms, against the "
               "reference.",
               _stochastic_without_randomness, (_QZ + "fast_matches_reference_uniforms",)),
    _quantizer("quantize_overflow_saturates_stress",
               "fast.quantize saturating on overflow, on the stress inputs.",
               _saturating_overflow, (_QZ + "fast_matches_reference_stress",)),
    _quantizer("scaled_scale_float_log2",
               "fast scaled quantiser taking E8M0 exponents from a float64 log2 (wrong just "
               "below a power of two, and for rceil just above X_f 2^k).",
               _scale_float_log2, (_SC + "scaled_fast_matches_reference",)),
    _quantizer("nvfp4_tensor_scale_float64",
               "fast NVFP4 quantiser computing the per-tensor scale in float64, not float32.",
               _nvfp4_scale_float64, (_SC + "nvfp4_fast_matches_reference",)),
    Mutant("data_f_star_high",
           "lpsgd.data reporting F* 1e-6 above the minimum of the real problem.",
           "solve", data.solve, _f_star_shifted(1e-6), (_FD + "findings_f_star_certified",)),
    Mutant("data_f_star_low",
           "lpsgd.data reporting F* 1e-6 below the minimum, against Theorems 5 and 6.",
           "solve", data.solve, _f_star_shifted(-1e-6),
           (_FD + "findings_full_gradient_theorems_5_6",)),
    Mutant("findings_q_hi_one",
           "The findings' stepsize constant q_hi of a deterministic scaled format taken as 1 "
           "(the element's rounding up forgotten).",
           "q_hi", findings.deterministic_q_hi, _q_hi_one,
           (_FD + "findings_scaled_q_hi_bounds_the_ratio",)),
    Mutant("findings_block_scale_forgotten",
           "A block quantiser without its block scale (the element format alone), against "
           "Theorem 8 on real data.",
           "quantize", fast.quantize, _block_scale_forgotten,
           (_FD + "findings_full_gradient_theorem8",)),
    Mutant("findings_no_sampling_noise",
           "The findings' Theorem 7 bound without the finite sum's sampling noise (M = 0).",
           "sampling_constants", findings.sampling_constants, _no_sampling_noise,
           (_FD + "findings_theorem7_stochastic_rounding",)),
    Mutant("findings_slowdown_without_q",
           "The findings' predicted slowdown computed without q_min (always 1).",
           "predicted_slowdown", findings.predicted_slowdown, _slowdown_without_q,
           (_FD + "findings_slowdown_exact_model",)),
    Mutant("theorem8_without_clipping",
           "Theorem 8 with q_lo(t) from the element rounding alone under floor (the "
           "clipping of block maxima to X_f ignored).",
           "theorem8", theory.theorem8, _theorem8_without_clipping,
           (_S8 + "theorem8_step_certificate",)),
    Mutant("theorem8_without_loss",
           "Theorem 8 with loss(t) dropped (q_eff = q_lo(t), no loss(t) < 1 check): claims "
           "the block scale costs nothing.",
           "theorem8", theory.theorem8, _theorem8_without_loss,
           (_S8 + "theorem8_gradient_descent",)),
    Mutant("theorem9_on_floor",
           "Theorem 9 applied to a floor-scaled format, where clipped block maxima make Q "
           "biased.",
           "theorem9", theory.theorem9, _theorem9_on_floor,
           (_S8 + "theorem9_quantiser_moments",)),
    Mutant("theorem9_delta_without_scale",
           "Theorem 9 with delta = 4^-m / 4 (the scale-induced relative noise dropped).",
           "theorem9", theory.theorem9, _theorem9_delta_without_scale,
           (_S8 + "theorem9_stochastic_rounding",)),
]}
