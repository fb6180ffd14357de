"""The paper's three findings, checked on real data with real quantisers.

:func:`run_findings` takes a :class:`FindingsConfig` (a problem from :mod:`lpsgd.data`,
formats, rounding modes, runs, steps, seed) and runs, in the batched engine
(:func:`lpsgd.fast.sgd.run`):

* minibatch SGD ``w_{k+1} = w_k - mu Q(g_k)``, ``g_k`` the mean of ``batch`` component
  gradients drawn with replacement, ``Q`` the format and mode (and the float64 baseline,
  ``Q`` = identity), ``runs`` seeded runs from ``w_1 = 0``.  Every configuration uses the
  same seed, so the deterministic modes and the baseline draw the same minibatches
  (common random numbers: their differences carry less noise);
* full-gradient descent ``w_{k+1} = w_k - mu Q(grad F(w_k))`` for every deterministic
  mode (the setting of Theorems 5 and 6, where the bounds must hold).

Recorded per step: the measured shrinkage ``q^ = <Q(g), g> / ||g||^2`` (the engine's
projection), the residual ``||Q(g) - q^ g||^2`` (its mean over runs is an empirical
``M_q``), the gap ``F(w_k) - F*`` (mean and standard error over runs), the fraction of
nonzero gradient components flushed to 0 (underflow) and of components above ``X_max``.

Stepsize rule (admissible for every theorem used): ``mu = 1 / (L * m)`` with ``m`` the
largest of ``M_G = 1 + M_V`` (the minibatch constant), ``q_hi`` of each deterministic
(format, mode) (:func:`lpsgd.theory.format_shrinkage`; 2 for round-to-nearest with
subnormals) and ``M_G' = (1 + 2^(-2m)/4) M_G`` of each stochastically rounded format
(Theorem 7; ``(1 + delta) M_G`` of Theorem 9 for an MX format of rule ceil or rceil, none
for a scaled format no stochastic theorem covers: :func:`stochastic_m_g`), rounded down
by 4 ulps (the theorems check it exactly).  So ``mu <= 1/L``.

Scaled formats (:class:`lpsgd.scaled.ScaledFormat`: MX presets such as ``mxfp8_e4m3``,
``mxfp4_e2m1`` and their ``_rceil`` twins, ``mxint8``, ``nvfp4``) run beside unscaled ones,
blocks along the d components of each gradient.  Where the element's constants are read,
a scaled format uses its element: ``q_hi`` of a deterministic mode is the element's
(:func:`deterministic_q_hi`, with the reason it bounds NVFP4 too), Theorem 8 replaces
Theorems 5 and 6 for full-gradient descent with an MX format, Theorem 9 replaces Theorem 7
for stochastic rounding with an MX format of rule ceil or rceil (its ``M_G'`` enters the
stepsize rule); where a theorem's assumptions fail (the floor rule clips block maxima, an
NVFP4 scale is not a power of two) the check is "not applicable" and names the
assumption.  The "overflow" fraction of a scaled format counts the components clipped to
``X_f`` times their block's scale.  Orderings by bits compare formats of one kind only
(:func:`format_kind`); each unscaled format with a scaled twin of the same element
(:func:`scaled_twins`) gets the check "block scaling removes most underflow".

Target ``eps = sqrt(gap_1 * floor_64)``: half way, on a log scale, between the initial
gap and the float64 baseline's floor (its mean gap over the last quarter of the run),
where the gap curve is still steep, so iteration counts to eps are precise; slowdowns up
to ``(steps + 1) / K_64(eps)`` are measured inside the run (longer ones are reported as
lower bounds).

Findings as checks (:class:`Check`), each with its false-alarm rate: every statistical
check uses ``Z`` standard errors with ``Z`` from a Bonferroni correction over the
statistical checks of the run, so that the probability that ANY of them reports
"contradicted" while the finding holds is at most ``alpha`` (default 1%; normal
approximation of run means over ``runs`` independent runs).  The theorem checks (5, 6,
7) are bounds: "violated" there is a failure of the theory (or of the code), not noise:
Theorems 5 and 6 are deterministic (tolerance: float64 evaluation of F), Theorem 7 is
compared with ``mean - Z se``.

Plots: :func:`plot_q`, :func:`plot_gaps`, :func:`plot_slowdown`, :func:`plot_floors`
(or :func:`plots` for all four) write PNGs into a folder (matplotlib object API on the
Agg canvas, no pyplot state).  :meth:`FindingsResult.markdown`, :meth:`FindingsResult.html`
and :meth:`FindingsResult.as_dict` give a report section in one call each.
"""

from __future__ import annotations

import dataclasses
import html as _html
import math
import statistics
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

from lpsgd import data as _data
from lpsgd import theory
from lpsgd._validate import check_int, check_real
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.fast import sgd
from lpsgd.formats import Format
from lpsgd.objectives import Minibatch
from lpsgd.rounding import rounding_mode
from lpsgd.scaled import SCALED_PRESETS, ScaledFormat
from lpsgd.theory.fast import _affine as _affine_curve
from lpsgd.theory.scaled_model import _kappa_y, scaled_sr_delta

__all__ = ["FindingsConfig", "FindingsResult", "ConfigResult", "GDResult", "Check",
           "resolve_findings_format", "format_kind", "deterministic_q_hi", "stochastic_m_g",
           "clipped_fraction", "scaled_twins", "DEFAULT_FORMATS", "DEFAULT_ROUNDINGS",
           "SCHEMA", "run_findings",
           "admissible_stepsize", "sampling_constants", "predicted_slowdown",
           "full_gradient_bound", "hitting_time", "plots", "plot_q", "plot_gaps",
           "plot_slowdown", "plot_floors", "write_report"]

SCHEMA = "lpsgd.findings/1"
DEFAULT_FORMATS = ("bfloat16", "binary16", "float8_e5m2", "float8_e4m3fn", "float4_e2m1fn")
DEFAULT_ROUNDINGS = ("nearest_even", "toward_zero", "stochastic")
_EPS = float(np.finfo(np.float64).eps)


# -- configuration ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FindingsConfig:
    """What to run.

    Attributes:
        problem: a bundled name (:data:`lpsgd.data.BUNDLED`), a path to a CSV/.npz file
            (then ``loss`` is required) or a :class:`lpsgd.data.Problem`.
        loss: ``"logistic"`` or ``"least_squares"`` for a user's file.
        reg: L2 regularisation lambda (default :data:`lpsgd.data.DEFAULT_REG`).
        formats: format names (presets, aliases, ``eXmY`` specs, scaled presets such as
            ``mxfp8_e4m3`` or ``nvfp4``), Formats or ScaledFormats
            (:func:`resolve_findings_format`).
        roundings: rounding mode names.
        runs: seeded runs R per configuration (>= 2, for standard errors).
        steps: SGD steps per run (iterates k = 1..steps+1).
        batch: minibatch size.
        seed: seed of every run (the same for every configuration).
        gd_steps: full-gradient descent steps per deterministic configuration (0: none).
        alpha: family-wise false-alarm rate of the statistical checks.
    """

    problem: Any = "breast_cancer"
    loss: str | None = None
    reg: float = _data.DEFAULT_REG
    formats: tuple = DEFAULT_FORMATS
    roundings: tuple = DEFAULT_ROUNDINGS
    runs: int = 32
    steps: int = 600
    batch: int = 32
    seed: int = 0
    gd_steps: int = 300
    alpha: float = 0.01

    def validated(self) -> FindingsConfig:
        """A copy with formats resolved to Formats or ScaledFormats and modes to names;
        InvalidArgument
        naming the field and the value otherwise."""
        if isinstance(self.formats, str | Format | ScaledFormat) or not self.formats:
            raise InvalidArgument(f"Expected formats to be a non-empty sequence of format names "
                                  f"but got formats={self.formats!r}")
        fmts = []
        for f in self.formats:
            fmt = resolve_findings_format(f, "formats")
            if fmt not in fmts:
                fmts.append(fmt)
        if isinstance(self.roundings, str) or not self.roundings:
            raise InvalidArgument(f"Expected roundings to be a non-empty sequence of mode names "
                                  f"but got roundings={self.roundings!r}")
        modes = []
        for m in self.roundings:
            v = rounding_mode(m, "roundings").value
            if v not in modes:
                modes.append(v)
        check_int("runs", self.runs, min_value=2)
        check_int("steps", self.steps, min_value=4)
        check_int("batch", self.batch, min_value=1)
        check_int("seed", self.seed, min_value=0, max_value=2**64 - 1)
        check_int("gd_steps", self.gd_steps, min_value=0)
        check_real("alpha", self.alpha, min_value=0, exclude_min=True, max_value=1,
                   exclude_max=True)
        check_real("reg", self.reg, min_value=0, exclude_min=True)
        return dataclasses.replace(self, formats=tuple(fmts), roundings=tuple(modes))

    def as_dict(self) -> dict[str, Any]:
        prob = self.problem if isinstance(self.problem, str) else getattr(self.problem, "name",
                                                                          repr(self.problem))
        return {"problem": prob, "loss": self.loss, "reg": self.reg,
                "formats": [_fmt_name(f) for f in self.formats],
                "roundings": list(self.roundings), "runs": self.runs, "steps": self.steps,
                "batch": self.batch, "seed": self.seed, "gd_steps": self.gd_steps,
                "alpha": self.alpha}


def _fmt_name(f) -> str:
    return f.label if isinstance(f, Format | ScaledFormat) else str(f)


def resolve_findings_format(f: Any, option: str = "formats") -> Format | ScaledFormat:
    """A format of the runner: a :class:`~lpsgd.formats.Format` that fits binary64, a
    :class:`~lpsgd.scaled.ScaledFormat`, a scaled preset name (``mxfp8_e4m3``, ``nvfp4``,
    ...) or an element format name (presets, aliases, ``eXmY`` specs).

    Raises:
        InvalidArgument: naming ``option`` and the value; an unknown name suggests the
        closest element or scaled preset.
    """
    from lpsgd._validate import closest
    from lpsgd.commands._args import resolve_format

    if isinstance(f, ScaledFormat):
        return f
    if isinstance(f, str) and f.strip() in SCALED_PRESETS:
        return SCALED_PRESETS[f.strip()]
    if isinstance(f, Format):
        fmt = f
    elif isinstance(f, str):
        try:
            fmt = resolve_format(f, option)
        except InvalidArgument as exc:
            msg = str(exc)
            if not msg.startswith(f"Unknown {option}="):
                raise
            msg, *element_hint = msg.split(". Did you mean")
            msg += f"; or a scaled preset ({', '.join(SCALED_PRESETS)})"
            t = f.strip().lower()
            starts = [n for n in SCALED_PRESETS if n.startswith(t)] if t else []
            hint = starts[0] if starts else closest(t, SCALED_PRESETS)
            other = element_hint[0].strip(" ?'") if element_hint else None
            if other is not None and not starts and (
                    hint is None or _likeness(t, other) >= _likeness(t, hint)):
                hint = other
            if hint is not None:
                msg += f". Did you mean {hint!r}?"
            raise InvalidArgument(msg) from None
    else:
        raise InvalidArgument(f"Expected {option} to hold format names, Formats or "
                              f"ScaledFormats but got {f!r}")
    if not fmt.fits_binary64:
        raise InvalidArgument(f"Expected {option} that fit binary64 but got {fmt.label}")
    return fmt


def _likeness(a: str, b: str) -> float:
    import difflib

    return difflib.SequenceMatcher(None, a, b.lower()).ratio()


def _element(fmt: Format | ScaledFormat) -> Format:
    """The binary format the values are rounded in: the format itself, or a scaled
    format's element grid."""
    return fmt.grid if isinstance(fmt, ScaledFormat) else fmt


def format_kind(fmt: Format | ScaledFormat) -> str:
    """What kind of format: ``"unscaled"``, or the scale, rule, block size and element kind
    of a scaled one (``"e8m0 floor, blocks of 32"``).  Orderings by bits compare formats
    of one kind only."""
    if not isinstance(fmt, ScaledFormat):
        return "unscaled"
    kind = f"{fmt.scale} {fmt.rule}, blocks of {fmt.block_size}"
    return kind + (", integer elements" if fmt.kind == "int" else "")


def deterministic_q_hi(fmt: Format | ScaledFormat, mode: str) -> Fraction | float:
    """``q_hi >= sup Q(y)_i / y_i`` of a deterministic (format, mode), the constant of the
    stepsize rule ``mu <= 1/(L q_hi)``.

    Unscaled: :func:`lpsgd.theory.format_shrinkage` over the whole range.  MX (e8m0
    scales): the element's ``q_hi`` (:func:`lpsgd.theory.scaled_constants`).  NVFP4 (e4m3
    scales): the element's ``q_hi`` from :func:`lpsgd.shrinkage.profile` is still an upper
    bound: the block and tensor scales multiply ``y_i`` and divide the rounded element by
    the same positive number, so ``Q(y)_i / y_i = rho_f(x_i)`` with ``x_i`` the scaled
    element; a clamped element has ratio ``X_f / x_i < 1 <= q_hi`` and a block whose scale
    is 0 has ratio 0.  The final rounding of the exact value to float64 is monotone and
    ``q_hi y_i`` is a float64 when ``q_hi`` is 1 or 2 (truncation and round to nearest),
    so it cannot push the ratio above ``q_hi``; for other ``q_hi`` it adds at most a
    relative 2^-53, which the 4-ulp margin of :func:`admissible_stepsize` covers.
    """
    if isinstance(fmt, ScaledFormat):
        if fmt.scale == "e8m0":
            return theory.scaled_constants(fmt, mode).q_hi
        from lpsgd import shrinkage

        return shrinkage.profile(fmt.grid, mode).q_hi
    return theory.format_shrinkage(fmt, mode, float(fmt.x_max))[1]


def stochastic_m_g(fmt: Format | ScaledFormat, M_V: float) -> tuple[float, str]:
    """The stepsize constant of a stochastically rounded format and what it is.

    Unscaled: Theorem 7's ``M_G' = (1 + 2^(-2m)/4) M_G``; MX with rule ceil or rceil:
    Theorem 9's ``M_G' = (1 + delta) M_G``.  Where no theorem applies (MX floor, NVFP4:
    clipped or rounded block scales make the rounding biased) the format sets no
    constraint of its own (1.0: ``M_G`` alone).
    """
    if isinstance(fmt, ScaledFormat):
        if fmt.scale == "e8m0" and fmt.rule != "floor" and fmt.grid.subnormals:
            m = (1 + float(scaled_sr_delta(fmt)[0])) * (1.0 + M_V)
            return m, f"M_G' = (1 + delta) M_G = {m:.6g} (Theorem 9)"
        return 1.0, "no theorem applies"
    m = (1 + 0.25 * 4.0 ** -fmt.man_bits) * (1.0 + M_V)
    return m, f"M_G' = (1 + 2^(-2m)/4) M_G = {m:.6g}"


# -- building blocks (public so that properties and mutants can reach them) ---------------------
def sampling_constants(problem, batch: int) -> tuple[float, float]:
    """(M, M_V) of A2 for minibatches of ``batch`` components drawn with replacement: the
    finite sum's own derived constants (``minibatch_constants``, each with its proof)."""
    return problem.objective.minibatch_constants(batch)


def admissible_stepsize(problem, formats: Sequence[Format], roundings: Sequence[str],
                        batch: int, *,
                        sampling_constants: Callable[[Any, int], tuple[float, float]]
                        = sampling_constants) -> tuple[float, str]:
    """``mu = 1 / (L m)`` (module docstring) and which constraint set ``m``.

    ``sampling_constants`` gives (M, M_V) of the minibatches (default: this module's); a
    property checking another implementation passes it here.
    """
    if not callable(sampling_constants):
        raise InvalidArgument(f"Expected sampling_constants to be a callable (problem, batch) "
                              f"-> (M, M_V) but got sampling_constants={sampling_constants!r}")
    _, M_V = sampling_constants(problem, batch)
    best, why = 1.0 + M_V, f"M_G = 1 + M_V = {1.0 + M_V:.6g} (minibatch)"
    for fmt in formats:
        for mode in roundings:
            if rounding_mode(mode).is_stochastic:
                m, what = stochastic_m_g(fmt, M_V)
                what = f"{what} ({fmt.label}, {mode})"
            else:
                m = float(deterministic_q_hi(fmt, mode))
                what = f"q_hi = {m:.6g} ({fmt.label}, {mode})"
            if m > best:
                best, why = m, what
    if not math.isfinite(best):
        raise InvalidArgument(f"no admissible stepsize: {why} (a mode that can enlarge a "
                              f"component without bound, such as up or odd, has q_hi = inf)")
    # rounded down by a few ulps, so the theorems' exact (rational) checks pass too
    return (1.0 - 4 * _EPS) / (problem.L * best), why


def predicted_slowdown(*, mu: float, c: float, q_min: float) -> float:
    """The model's slowdown from shrinkage ``q_min``: Theorem 1's rate ratio
    ``log(1 - mu c) / log(1 - mu c q_min)`` (:func:`lpsgd.theory.asymptotic_slowdown`),
    ``inf`` for ``q_min <= 0``; about ``1/q_min`` when ``mu c`` is small."""
    if not q_min > 0:
        return math.inf
    return float(theory.asymptotic_slowdown(mu=mu, c=c, q_min=min(float(q_min), 1.0)))


def hitting_time(mean: np.ndarray, se: np.ndarray, eps: float,
                 z: float) -> tuple[int | None, int | None, int | None]:
    """(K, K_lo, K_hi): the first iterate k (1-based) with ``mean <= eps``, with
    ``mean - z se <= eps`` and with ``mean + z se <= eps`` (None if never)."""
    def first(x):
        idx = np.flatnonzero(x <= eps)
        return int(idx[0]) + 1 if idx.size else None
    se = np.nan_to_num(se, nan=0.0)
    return first(mean), first(mean - z * se), first(mean + z * se)


def _t_grid(fmt: Format | ScaledFormat) -> list[float]:
    """Thresholds t for Theorem 6 (or, scaled, Theorem 8): powers of two from the smallest
    positive (element) value to X_max (to Y, the largest scaled magnitude)."""
    lo = float(_element(fmt).smallest_positive)
    hi = float(fmt.x_max) if isinstance(fmt, Format) else float(_kappa_y(fmt)[1])
    out, t = [], lo
    while t <= hi:
        out.append(t)
        t *= 2.0
    return out


def full_gradient_bound(problem, fmt: Format | ScaledFormat, mode: str, *, mu: float,
                        gap1: float, K: int, t_min: float | None) -> tuple[np.ndarray, str]:
    """The least of Theorem 6's bounds over thresholds t (and Theorem 5's, when no
    gradient component of the trajectory underflowed: ``t_min`` is the smallest nonzero
    component magnitude seen, with ``q_lo(t_min) > 0``), for k = 1..K.

    For an MX (e8m0) scaled format: the least of Theorem 8's bounds over thresholds t on
    scaled magnitudes with ``loss(t) < 1``.  For an e4m3 (NVFP4) scale no theorem applies:
    AssumptionError naming the assumption (Theorem 8's own refusal)."""
    if isinstance(fmt, ScaledFormat):
        return _theorem8_bound(problem, fmt, mode, mu=mu, gap1=gap1, K=K)
    k = np.arange(1, K + 1)
    best = np.full(K, np.inf)
    which = ""
    F = problem
    for t in _t_grid(fmt):
        q_lo, q_hi = theory.format_shrinkage(fmt, mode, t)
        if q_lo <= 0 or not math.isfinite(q_hi) or mu > 1 / (F.L * float(q_hi)):
            continue
        b = theory.fast.theorem6(L=F.L, c=F.c, d=F.d, mu=mu, t=t, q_lo=q_lo, q_hi=q_hi,
                                 gap=gap1, k=k)
        if b[-1] < best[-1]:
            which = f"Theorem 6 at t = {t:.3g} (q_lo = {float(q_lo):.4g})"
        best = np.minimum(best, b)
    if t_min is not None and 0 < t_min <= float(fmt.x_max):
        q_lo, q_hi = theory.format_shrinkage(fmt, mode, t_min)
        if q_lo > 0 and math.isfinite(q_hi) and mu <= 1 / (F.L * float(q_hi)):
            b = theory.fast.theorem5(L=F.L, c=F.c, mu=mu, q_lo=q_lo, q_hi=q_hi, gap=gap1, k=k)
            if b[-1] < best[-1]:
                which = f"Theorem 5 with q_lo(t_min = {t_min:.3g}) = {float(q_lo):.4g}"
            best = np.minimum(best, b)
    return best, which


def _theorem8_bound(problem, fmt: ScaledFormat, mode: str, *, mu: float, gap1: float,
                    K: int) -> tuple[np.ndarray, str]:
    F = problem
    theory.scaled_constants(fmt, mode)   # refuses an e4m3 (NVFP4) scale, naming why
    k = np.arange(1, K + 1, dtype=np.float64)
    best = np.full(K, np.inf)
    which = ""
    for t in _t_grid(fmt):
        try:
            b = theory.theorem8(L=F.L, c=F.c, d=F.d, mu=mu, t=t, fmt=fmt, rounding=mode,
                                gap=gap1, k=1)
        except AssumptionError:
            continue       # this t breaks loss(t) < 1 or q_lo(t) > 0
        curve = _affine_curve(float(b.terms["floor"]), b.terms["rate"], float(b.value), k)
        if curve[-1] < best[-1]:
            which = (f"Theorem 8 at t = {t:.3g} (q_lo = {float(b.terms['q_lo']):.4g}, "
                     f"loss = {float(b.terms['loss']):.3g})")
        best = np.minimum(best, curve)
    return best, which


# -- results ---------------------------------------------------------------------------------
@dataclasses.dataclass
class Check:
    """One finding checked: status is confirmed / consistent / contradicted /
    inconclusive (statistical) or holds / violated (a theorem's bound) or compared
    (prediction vs observation where the assumptions fail)."""

    finding: str
    name: str
    statement: str
    status: str
    observed: Any = None
    expected: Any = None
    detail: str = ""
    false_alarm: str = ""

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


@dataclasses.dataclass
class ConfigResult:
    """Minibatch SGD statistics of one (format, mode) or of the float64 baseline."""

    fmt: str
    mode: str
    man_bits: int | None
    exp_bits: int | None
    q_mean: np.ndarray          # per step, mean over runs
    q_se: np.ndarray
    q_hat: float                # mean over steps and runs
    q_hat_se: float             # SE of the per-run means
    q_run_means: np.ndarray     # per run
    q_min: float                # min over steps of q_mean
    q_max: float
    M_q: np.ndarray             # per step mean residual ||Q(g) - q g||^2
    gap_mean: np.ndarray        # per iterate k = 1..K
    gap_se: np.ndarray
    floor: float                # mean gap over the last quarter of iterates
    floor_se: float
    floor_runs: np.ndarray
    underflow: float            # fraction of nonzero components flushed to 0
    overflow: float             # fraction of components above X_max (scaled: clipped)
    rel_error: float            # mean ||Q(g) - g|| / ||g||
    K_eps: tuple = (None, None, None)
    slowdown: tuple = (None, None, None)     # (point, lo, hi); None = not reached
    predicted: float | None = None           # Theorem 1 rate ratio at q_min
    inv_q_min: float | None = None
    thm1_floor: float | None = None
    thm7_floor: float | None = None
    thm7_curve: np.ndarray | None = None
    thm7_holds: bool | None = None
    seconds: float = 0.0
    kind: str = "unscaled"                   # format_kind (or "-" for the baseline)
    underflow_runs: np.ndarray | None = None  # underflow fraction of each run
    theorem: str = "Theorem 7"               # the stochastic bound checked (7 or 9)
    not_applicable: str = ""                 # why no stochastic bound applies

    @property
    def label(self) -> str:
        return "float64" if self.mode == "-" else f"{self.fmt} {self.mode}"

    def summary(self) -> dict[str, Any]:
        return _jsonable({
            "format": self.fmt, "rounding": self.mode, "man_bits": self.man_bits,
            "exp_bits": self.exp_bits, "q_hat": self.q_hat, "q_hat_se": self.q_hat_se,
            "q_min": self.q_min, "q_max": self.q_max, "M_q_max": float(np.nanmax(self.M_q)),
            "M_q_mean": float(np.nanmean(self.M_q)), "floor": self.floor,
            "floor_se": self.floor_se, "underflow_fraction": self.underflow,
            "overflow_fraction": self.overflow, "relative_error": self.rel_error,
            "K_eps": list(self.K_eps), "slowdown": list(self.slowdown),
            "predicted_slowdown_theorem1": self.predicted, "inv_q_min": self.inv_q_min,
            "theorem1_floor": self.thm1_floor, "theorem7_floor": self.thm7_floor,
            "theorem7_holds": self.thm7_holds, "seconds": self.seconds,
            "kind": self.kind, "stochastic_bound": self.theorem,
            "not_applicable": self.not_applicable,
            "curves": {"q_mean": self.q_mean, "q_se": self.q_se, "M_q": self.M_q,
                       "gap_mean": self.gap_mean, "gap_se": self.gap_se}})


@dataclasses.dataclass
class GDResult:
    """Full-gradient descent with a deterministic quantiser against Theorems 5/6."""

    fmt: str
    mode: str
    gaps: np.ndarray
    bound: np.ndarray
    which: str
    tol: float
    holds: bool
    worst_ratio: float
    final_gap: float
    theorem: str = "Theorems 5/6"

    def summary(self) -> dict[str, Any]:
        return _jsonable({"format": self.fmt, "rounding": self.mode, "holds": self.holds,
                          "theorem": self.theorem,
                          "bound": self.which, "tolerance": self.tol,
                          "worst_observed_over_bound": self.worst_ratio,
                          "final_gap": self.final_gap, "final_bound": float(self.bound[-1])})


@dataclasses.dataclass
class FindingsResult:
    """Everything :func:`run_findings` measured; ``as_dict``/``markdown``/``html`` and the
    plot functions turn it into a report."""

    config: FindingsConfig
    problem: Any
    mu: float
    mu_rule: str
    M: float
    M_V: float
    eps: float
    z: float
    n_stat_checks: int
    baseline: ConfigResult
    configs: list[ConfigResult]
    gd: list[GDResult]
    checks: list[Check]
    seconds: float
    command: str = ""
    gd_skipped: list = dataclasses.field(default_factory=list)  # (format, mode, why)

    @property
    def ok(self) -> bool:
        """No theorem bound violated and no statistical check contradicted."""
        return not any(c.status in ("violated", "contradicted") for c in self.checks)

    def get(self, fmt: str, mode: str) -> ConfigResult:
        for c in self.configs:
            if c.fmt == fmt and c.mode == mode:
                return c
        raise KeyError((fmt, mode))

    def as_dict(self) -> dict[str, Any]:
        return _jsonable({
            "schema": SCHEMA, "ok": self.ok, "config": self.config.as_dict(),
            "problem": self.problem.as_dict(), "stepsize": {"mu": self.mu, "rule": self.mu_rule},
            "sampling_constants": {"M": self.M, "M_V": self.M_V},
            "eps": self.eps, "z": self.z, "statistical_checks": self.n_stat_checks,
            "baseline": self.baseline.summary(),
            "configs": [c.summary() for c in self.configs],
            "full_gradient": [g.summary() for g in self.gd],
            "full_gradient_not_applicable": [
                {"format": f, "rounding": m, "why": why} for f, m, why in self.gd_skipped],
            "checks": [c.as_dict() for c in self.checks], "seconds": self.seconds,
            "command": self.command})

    def markdown(self, *, plots_dir: str | None = None, level: int = 1) -> str:
        return _markdown(self, plots_dir, level)

    def html(self, *, plots_dir: str | None = None) -> str:
        return _html_page(self, plots_dir)


# -- the run ---------------------------------------------------------------------------------
def _stats_config(res, fmt: Format | None, mode: str, F, eps_floor_from: int) -> ConfigResult:
    qp = res.q_proj                       # (K-1, R)
    q_mean, q_se = sgd.mc_mean_se(qp)
    run_means = np.nanmean(qp, axis=0)
    q_hat, q_hat_se = sgd.mc_mean_se(run_means[None, :])
    gs, ds = res.gradients, res.directions            # (K-1, R, d)
    resid = ds - qp[..., None] * gs
    M_q = np.nanmean(np.einsum("krd,krd->kr", resid, resid), axis=1)
    gg = np.einsum("krd,krd->kr", gs, gs)
    diff = ds - gs
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.sqrt(np.einsum("krd,krd->kr", diff, diff) / gg)
    nz = gs != 0
    flushed = (ds == 0) & nz
    underflow = float(np.sum(flushed) / max(int(np.sum(nz)), 1))
    underflow_runs = np.sum(flushed, axis=(0, 2)) / np.maximum(np.sum(nz, axis=(0, 2)), 1)
    overflow = 0.0 if fmt is None else clipped_fraction(fmt, gs)
    gap_mean, gap_se = res.stats("gaps")
    tail = res.gaps[eps_floor_from:]
    floor_runs = np.mean(tail, axis=0)
    fl, fl_se = sgd.mc_mean_se(floor_runs[None, :])
    return ConfigResult(
        fmt="float64" if fmt is None else fmt.label, mode=mode,
        man_bits=None if fmt is None else _element(fmt).man_bits,
        exp_bits=None if fmt is None else _element(fmt).exp_bits,
        q_mean=q_mean, q_se=q_se, q_hat=float(q_hat[0]), q_hat_se=float(q_hat_se[0]),
        q_run_means=run_means, q_min=float(np.nanmin(q_mean)), q_max=float(np.nanmax(q_mean)),
        M_q=M_q, gap_mean=gap_mean, gap_se=gap_se, floor=float(fl[0]),
        floor_se=float(fl_se[0]), floor_runs=floor_runs, underflow=underflow,
        overflow=overflow, rel_error=float(np.nanmean(rel)),
        kind="-" if fmt is None else format_kind(fmt), underflow_runs=underflow_runs)


def clipped_fraction(fmt: Format | ScaledFormat, g: np.ndarray) -> float:
    """The fraction of the components of ``g`` (rows along the last axis, each row one
    quantised vector) above the largest magnitude the format gives them: ``X_max`` for an
    unscaled format, ``X_f s_B`` in its block for a scaled one (blocks of ``n_B`` along the
    last axis).  MX: the E8M0 exponent read from the bits of the block maximum (exact;
    zero under ceil and rceil by construction).  NVFP4: the float32 tensor scale and the
    block scale as E4M3 rounding to nearest of the float64 product ``a_B S / X_f`` (the
    quantiser decides that product exactly: a tie decided differently is possible, so this
    fraction is a measurement, not an exact count)."""
    if not isinstance(fmt, ScaledFormat):
        return float(np.mean(np.abs(g) > float(fmt.x_max)))
    from lpsgd.fast import scaled as fs

    a = np.abs(g)
    if a.size == 0:
        return 0.0
    n, nb = a.shape[-1], fmt.block_size
    blocks = fs._blocks(a, nb)
    x_f = float(fmt.x_f)
    pos = blocks > 0
    if fmt.scale == "e8m0":
        e = np.zeros(blocks.shape, dtype=np.int64)
        e[pos] = fs.e8m0_exponents(blocks[pos], fmt)
        limit = x_f * np.ldexp(1.0, e)
    else:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            a_t = np.max(a, axis=-1, keepdims=True).astype(np.float32)
            num = np.float32(float(fmt.tensor_numerator))
            S = (num / a_t).astype(np.float64)
            S = np.where((a_t > 0) & np.isfinite(a_t) & np.isfinite(S), S, 1.0)
            s_b = _quantize_e4m3(blocks * S / x_f)
            limit = np.where(s_b > 0, x_f * s_b / S, np.inf)
    limit = np.where(pos, limit, np.inf)
    return float(np.mean(a > fs._spread(limit, nb, n)))


def _quantize_e4m3(x: np.ndarray) -> np.ndarray:
    from lpsgd.fast import quantize
    from lpsgd.scaled import E4M3_SCALE

    return quantize(x, E4M3_SCALE, "nearest_even", saturate=True)


def run_findings(config: FindingsConfig | None = None, *,
                 progress: Callable[[int, int, str], None] | None = None,
                 command: str = "") -> FindingsResult:
    """Run the experiment of ``config`` (default :class:`FindingsConfig`) and check the
    findings.  ``progress(done, total, label)`` is called after each configuration.

    Every number replays from ``config.seed``.  BLAS runs on one thread meanwhile (when
    threadpoolctl, a scikit-learn dependency, is installed): the products here are small,
    and a multi-threaded BLAS sharing busy cores made the default run ten times slower.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - the data extra brings it
        return _run_findings(config, progress, command)
    with threadpool_limits(1, "blas"):
        return _run_findings(config, progress, command)


def _run_findings(config, progress, command) -> FindingsResult:
    t0 = time.perf_counter()
    cfg = (config or FindingsConfig()).validated()
    prob = cfg.problem
    if isinstance(prob, str):
        prob = _data.load_problem(prob, loss=cfg.loss, reg=cfg.reg)
    elif not isinstance(prob, _data.Problem):
        raise InvalidArgument(f"Expected problem to be a name, a path or an lpsgd.data.Problem "
                              f"but got problem={prob!r}")
    F = prob.objective
    M, M_V = sampling_constants(prob, cfg.batch)
    mu, rule = admissible_stepsize(prob, cfg.formats, cfg.roundings, cfg.batch)
    oracle = Minibatch(F, cfg.batch)
    K = cfg.steps + 1
    w1 = np.zeros(F.d)
    tail_from = K - max(K // 4, 1)
    pairs = [(f, m) for f in cfg.formats for m in cfg.roundings]
    det = [(f, m) for f, m in pairs if not rounding_mode(m).is_stochastic]
    # no deterministic theorem for e4m3 (NVFP4) block scales: GD is not run, and the
    # report says why (Theorem 8's own refusal)
    gd_skipped = []
    for f, m in det:
        if isinstance(f, ScaledFormat) and f.scale != "e8m0":
            try:
                theory.scaled_constants(f, m)
            except AssumptionError as exc:
                gd_skipped.append((f.label, m, str(exc)))
    det = [(f, m) for f, m in det if (f.label, m) not in {(a, b) for a, b, _ in gd_skipped}]
    total = 1 + len(pairs) + (len(det) if cfg.gd_steps else 0)
    done = 0

    def tick(label):
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    t = time.perf_counter()
    base_res = sgd.run(F, w1, K=K, mu=mu, oracle=oracle, runs=cfg.runs, seed=cfg.seed,
                       trajectory=True)
    base = _stats_config(base_res, None, "-", F, tail_from)
    base.seconds = time.perf_counter() - t
    del base_res
    tick("float64")
    results = []
    for fmt, mode in pairs:
        t = time.perf_counter()
        res = sgd.run(F, w1, K=K, mu=mu, oracle=oracle, runs=cfg.runs, seed=cfg.seed,
                      gradient=sgd.quantize(fmt, mode),
                      trajectory=True)
        cr = _stats_config(res, fmt, mode, F, tail_from)
        del res
        cr.seconds = time.perf_counter() - t
        results.append(cr)
        tick(f"{fmt.label} {mode}")
    gd = []
    if cfg.gd_steps:
        for fmt, mode in det:
            gd.append(_full_gradient(prob, fmt, mode, mu, cfg.gd_steps + 1))
            tick(f"GD {fmt.label} {mode}")

    # Statistical checks counted for Bonferroni (see _checks): F1 per config, F1/F3
    # orderings per comparable pair and mode, F2 per config.
    n_pairs = sum(1 for m in cfg.roundings for a, b in _ordered_pairs(cfg.formats))
    n_twins = len(scaled_twins(cfg.formats)) * len(cfg.roundings)
    n_stat = 2 * len(pairs) + 2 * n_pairs + n_twins
    z = statistics.NormalDist().inv_cdf(1 - cfg.alpha / (2 * max(n_stat, 1)))
    eps = math.sqrt(float(base.gap_mean[0]) * base.floor) if base.floor > 0 else \
        float(base.gap_mean[K // 2])
    base.K_eps = hitting_time(base.gap_mean, base.gap_se, eps, z)
    for (fmt, _), cr in zip(pairs, results):
        _predictions(cr, fmt, base, prob, mu, M, M_V, eps, z, K)
    out = FindingsResult(config=cfg, problem=prob, mu=mu, mu_rule=rule, M=M, M_V=M_V,
                         eps=eps, z=z, n_stat_checks=n_stat, baseline=base, configs=results,
                         gd=gd, checks=[], seconds=0.0, command=command,
                         gd_skipped=gd_skipped)
    out.checks = _checks(out)
    out.seconds = time.perf_counter() - t0
    return out


def _full_gradient(prob, fmt: Format | ScaledFormat, mode: str, mu: float, K: int, *,
                   quantizer: Callable[..., np.ndarray] | None = None) -> GDResult:
    """Full-gradient descent quantised by ``quantizer`` (default :func:`lpsgd.fast.quantize`)
    against the least of Theorems 5 and 6, or of Theorem 8 for an MX format
    (:func:`full_gradient_bound`)."""
    F = prob.objective
    res = sgd.run(F, np.zeros(F.d), K=K, mu=mu,
                  gradient=sgd.quantize(fmt, mode, quantizer=quantizer), runs=1, seed=0,
                  trajectory=True)
    gaps = res.gaps[:, 0]
    g = np.abs(res.gradients[:, 0, :])
    nz = g[g > 0]
    flushed = bool(np.any((res.directions[:, 0, :] == 0) & (res.gradients[:, 0, :] != 0)))
    t_min = None if flushed or nz.size == 0 else float(nz.min())
    bound, which = full_gradient_bound(prob, fmt, mode, mu=mu, gap1=float(gaps[0]), K=K,
                                       t_min=t_min)
    # float64 evaluation of F: sums of n terms, each within a few ulps
    tol = 4.0 * (F.n + F.d) * _EPS * (abs(prob.f_star) + float(gaps[0]))
    # an unscaled component above X_max: no theorem applies (a block scale has no such limit
    # short of 2^127 Y)
    over = not isinstance(fmt, ScaledFormat) and np.abs(g).max() > float(fmt.x_max)
    holds = bool(np.all(gaps <= bound + tol)) and not over
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bound > 0, gaps / bound, np.where(gaps > tol, np.inf, 0.0))
    return GDResult(fmt=fmt.label, mode=mode, gaps=gaps, bound=bound,
                    which=which + (" (a component exceeded X_max: no theorem applies)"
                                   if over else ""),
                    tol=tol, holds=holds, worst_ratio=float(np.nanmax(ratio[1:]))
                    if K > 1 else 0.0, final_gap=float(gaps[-1]),
                    theorem="Theorem 8" if isinstance(fmt, ScaledFormat) else "Theorems 5/6")


def _predictions(cr: ConfigResult, fmt: Format, base: ConfigResult, prob, mu, M, M_V, eps, z,
                 K) -> None:
    cr.K_eps = hitting_time(cr.gap_mean, cr.gap_se, eps, z)
    K1, K1_lo, K1_hi = base.K_eps
    k, k_lo, k_hi = cr.K_eps

    def ratio(a, b):
        return None if a is None or b is None else a / b
    # Interval: the quantised run at its earliest plausible crossing against the baseline
    # at its latest, and conversely.
    cr.slowdown = (ratio(k, K1), ratio(k_lo, K1_hi), ratio(k_hi, K1_lo))
    q_min = min(cr.q_min, 1.0)
    cr.predicted = predicted_slowdown(mu=mu, c=prob.c, q_min=q_min)
    cr.inv_q_min = math.inf if not q_min > 0 else 1.0 / q_min
    if q_min > 0:
        try:
            b = theory.theorem1(L=prob.L, c=prob.c, M=M, M_V=M_V,
                                M_q=float(np.nanmax(cr.M_q)), mu=mu, q_min=q_min,
                                q_max=min(max(cr.q_max, q_min), 1.0),
                                gap=float(cr.gap_mean[0]), k=1)
            cr.thm1_floor = float(b.terms["floor"])
        except AssumptionError:
            cr.thm1_floor = None
    if cr.mode == "stochastic":
        scaled = isinstance(fmt, ScaledFormat)
        cr.theorem = "Theorem 9" if scaled else "Theorem 7"
        thm = theory.theorem9 if scaled else theory.theorem7
        try:
            b = thm(L=prob.L, c=prob.c, d=prob.d, M=M, M_V=M_V, fmt=fmt, mu=mu,
                    gap=float(cr.gap_mean[0]), k=1)
        except AssumptionError as exc:
            cr.thm7_holds = None
            cr.not_applicable = str(exc)
            return
        kk = np.arange(1, K + 1, dtype=np.float64)
        curve = _affine_curve(float(b.terms["floor"]), b.terms["rate"], float(b.value), kk)
        cr.thm7_curve = curve
        cr.thm7_floor = float(b.terms["floor"])
        if cr.overflow > 0:
            what = "a block maximum clipped" if scaled else "components above X_max"
            cr.not_applicable = (f"{cr.overflow:.2%} of components were {what}, where "
                                 f"stochastic rounding is not unbiased")
            cr.thm7_holds = None
            return
        lower = cr.gap_mean - z * np.nan_to_num(cr.gap_se, nan=0.0)
        cr.thm7_holds = bool(np.all(lower <= curve * (1 + 1e-12)))


def _positive_difference(d: np.ndarray, z: float) -> tuple[float, float, str]:
    """Mean and standard error of per-run differences ``d``, and whether they show the
    difference positive (confirmed), negative (contradicted) or neither at ``z`` se."""
    m, s = sgd.mc_mean_se(d[None, :])
    m, s = float(m[0]), float(s[0])
    return m, s, ("confirmed" if m - z * s > 0 else
                  "contradicted" if m + z * s < 0 else "inconclusive")


def _ordered_pairs(formats: Sequence[Format | ScaledFormat]
                   ) -> list[tuple[Format | ScaledFormat, Format | ScaledFormat]]:
    """(A, B) of one kind (:func:`format_kind`: unscaled with unscaled, MX with MX of the
    same rule and block size, ...) with B's element no wider than A's in exponent and
    mantissa, narrower in one.  Unscaled: B's values are (for these presets) a subset of
    A's, so truncation shrinks more in B.  MX under one rule: a block's grid is the
    element's values times the block's power-of-two scale, and B's grid in a block is (for
    these presets) a subset of A's up to the block maximum.  Across kinds the value sets
    are not nested (a block scale follows the block's maximum, an unscaled grid does not),
    so no pair is formed."""
    out = []
    for a in formats:
        for b in formats:
            ea, eb = _element(a), _element(b)
            if (format_kind(a) == format_kind(b)
                    and eb.exp_bits <= ea.exp_bits and eb.man_bits <= ea.man_bits
                    and (eb.exp_bits, eb.man_bits) != (ea.exp_bits, ea.man_bits)):
                out.append((a, b))
    return out


def scaled_twins(formats: Sequence[Format | ScaledFormat]
                 ) -> list[tuple[Format, ScaledFormat]]:
    """(unscaled E, scaled S) with S's element equal to E: the pairs on which the effect of
    block scaling is measured (e4m3 and mxfp8_e4m3, e2m1 and mxfp4_e2m1, ...)."""
    return [(a, b) for a in formats for b in formats
            if not isinstance(a, ScaledFormat) and isinstance(b, ScaledFormat)
            and b.element == a]


# -- the checks -------------------------------------------------------------------------------
_WHY_DET = ("the rounding error Q(g) - g is a deterministic function of the gradient, so "
            "it is not zero-mean given g (Theorem 1 assumes E[e_k | w_k, g_k] = 0)")
_WHY_SR = ("stochastic rounding is unbiased: E[Q(g) | g] = g, so q = 1 and the model "
           "predicts no slowdown, only a higher floor (Theorem 7; Theorem 9 for block "
           "scales that clip nothing)")


def _fmt_num(x, digits=4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    if isinstance(x, int):
        return str(x)
    return f"{x:.{digits}g}"


def _checks(r: FindingsResult) -> list[Check]:
    cfg, z = r.config, r.z
    fa = (f"Z = {z:.2f} standard errors; Bonferroni over {r.n_stat_checks} statistical "
          f"checks: P(any false 'contradicted') <= {cfg.alpha:g}")
    out: list[Check] = []
    # F1: shrinkage
    for cr in r.configs:
        lo, hi = cr.q_hat - z * cr.q_hat_se, cr.q_hat + z * cr.q_hat_se
        obs = {"q_hat": cr.q_hat, "se": cr.q_hat_se, "underflow_fraction": cr.underflow,
               "overflow_fraction": cr.overflow}
        if cr.mode == "stochastic":
            status = "consistent" if lo <= 1 <= hi else "contradicted"
            detail = _WHY_SR
            if cr.overflow > 0:
                # the finding is about unbiased rounding; clipped (or overflowing)
                # components make Q biased toward 0, so q^ < 1 is the mechanism, not noise
                where = ("were clipped to X_f times their block's scale" if cr.kind !=
                         "unscaled" else "exceeded X_max")
                detail += (f"; but {cr.overflow:.2%} of components {where}, where rounding "
                           f"is not unbiased (assumption fails: compared, not checked)")
                status = "compared"
            out.append(Check("F1", f"q_hat {cr.label}", "stochastic rounding does not shrink: "
                             "q^ = 1 within noise", status, obs, 1.0, detail, fa))
        else:
            status = "confirmed" if hi < 1 else ("contradicted" if lo > 1 else "consistent")
            if cr.mode == "toward_zero":
                stmt, what = "truncation shrinks: q^ < 1", "every inexact component shrinks"
            else:
                stmt = ("a deterministic mode does not enlarge on average: q^ < 1 where "
                        "components underflow, 1 within noise otherwise")
                what = f"{cr.underflow:.1%} of nonzero components underflow to 0"
                if cr.overflow > 0 and cr.kind != "unscaled":
                    what += (f", {cr.overflow:.1%} are clipped to X_f times their block's "
                             f"scale")
                if status == "consistent":
                    status = "consistent (q^ = 1 within noise)"
            out.append(Check("F1", f"q_hat {cr.label}", stmt, status, obs, "<= 1", what, fa))
    for mode in cfg.roundings:
        if rounding_mode(mode).is_stochastic:
            continue
        for a, b in _ordered_pairs(cfg.formats):
            ca, cb = r.get(a.label, mode), r.get(b.label, mode)
            # paired: same seeds, same minibatches
            m, s, status = _positive_difference(ca.q_run_means - cb.q_run_means, z)
            out.append(Check("F1", f"q_hat order {mode} {a.label} > {b.label}",
                             f"fewer bits shrink more: q^({b.label}) < q^({a.label})",
                             status, {"difference": m, "se": s}, "> 0",
                             f"paired over {cfg.runs} runs with the same minibatches", fa))
    for mode in cfg.roundings:
        for a, b in scaled_twins(cfg.formats):
            ca, cb = r.get(a.label, mode), r.get(b.label, mode)
            obs = {"underflow_unscaled": ca.underflow, "underflow_scaled": cb.underflow,
                   "q_hat_unscaled": ca.q_hat, "q_hat_scaled": cb.q_hat}
            # "most": the scaled underflow below half the unscaled one, run by run
            m, s, status = _positive_difference(ca.underflow_runs - 2 * cb.underflow_runs, z)
            if not np.any(ca.underflow_runs > 0):
                status = "not applicable (no underflow to remove)"
            obs.update(difference=m, se=s)
            out.append(Check("F1", f"block scaling {mode} {a.label} -> {b.label}",
                             f"block scaling removes most underflow: underflow({b.label}) < "
                             f"underflow({a.label}) / 2", status, obs, "> 0",
                             f"per run: underflow({a.label}) - 2 underflow({b.label}); "
                             "each block's scale follows its largest component, so small "
                             "gradients land in the element's normal range", fa))
    # F2: slowdown
    for cr in r.configs:
        pt, lo, hi = cr.slowdown
        obs = {"observed": pt, "interval": [lo, hi], "K_eps": list(cr.K_eps),
               "K_eps_float64": list(r.baseline.K_eps)}
        pred = cr.predicted
        if pt is None and cr.K_eps[2] is None and lo is None:
            bound = cfg.steps + 1
            status = ("consistent" if pred is not None and pred * r.baseline.K_eps[0] > bound
                      else "model under-predicts")
            obs["observed"] = f"> {bound / r.baseline.K_eps[0]:.3g} (eps not reached)"
        else:
            hi_ = math.inf if hi is None else hi
            lo_ = lo if lo is not None else (pt if pt is not None else 0.0)
            status = "consistent" if lo_ <= pred <= hi_ else (
                "model over-predicts" if pred > hi_ else "model under-predicts")
        why = _WHY_SR if cr.mode == "stochastic" else _WHY_DET
        if cr.mode != "stochastic" and cr.underflow >= 0.01:
            why += (f"; and {cr.underflow:.1%} of components underflow, so q depends on the "
                    f"gradient's size and q_min (the worst step) overstates the average")
        out.append(Check("F2", f"slowdown {cr.label}",
                         "iterations to eps relative to float64 vs Theorem 1's rate ratio at "
                         "the measured q_min (and 1/q_min)", status, obs,
                         {"theorem1_rate_ratio": pred, "inv_q_min": cr.inv_q_min},
                         f"eps = {r.eps:.4g}; " + why, fa))
    # F3: floors vs bits
    for mode in cfg.roundings:
        for a, b in _ordered_pairs(cfg.formats):
            ca, cb = r.get(a.label, mode), r.get(b.label, mode)
            m, s, status = _positive_difference(cb.floor_runs - ca.floor_runs, z)
            note = ("paired over runs" if mode != "stochastic" else
                    "runs differ in their rounding draws (not paired)")
            if isinstance(a, ScaledFormat) and not rounding_mode(mode).is_stochastic:
                # With a deterministic mode the precision floor of a block-scaled format
                # (Theorem 8's, of order 4^-127) is negligible for both, so the model does
                # not predict this order; the floor is the minibatch noise, which a
                # smaller q^ damps like a smaller stepsize (Theorem 1's floor from the
                # measured constants falls with q^ too).
                note = (f"observed {status}; compared, not checked: Theorem 8's precision "
                        f"floor is negligible for both, the floor is the minibatch noise, "
                        f"and shrinkage acts as a smaller stepsize (Theorem 1 floors from "
                        f"measured constants: {_fmt_num(ca.thm1_floor)} for {a.label}, "
                        f"{_fmt_num(cb.thm1_floor)} for {b.label})")
                status = "compared"
            out.append(Check("F3", f"floor order {mode} {a.label} < {b.label}",
                             f"fewer bits, higher floor: floor({b.label}) > floor({a.label})",
                             status, {"difference": m, "se": s}, "> 0", note, fa))
    for cr in r.configs:
        if cr.mode == "stochastic":
            status = ("holds" if cr.thm7_holds else "violated" if cr.thm7_holds is False
                      else "not applicable")
            if cr.theorem == "Theorem 9":
                stmt = ("SGD with stochastically rounded block-scaled minibatch gradients "
                        "stays below Theorem 9's bound (assumptions: an e8m0 scale with "
                        "rule ceil or rceil, so nothing is clipped; elements with "
                        "subnormals; the finite sum's sampling constants M, M_V; "
                        "mu <= 1/(L M_G'))")
            else:
                stmt = ("SGD with stochastically rounded minibatch gradients stays below "
                        "Theorem 7's bound (assumptions hold: unbiased rounding with "
                        "subnormals, the finite sum's sampling constants M, M_V, "
                        "mu <= 1/(L M_G'))")
            detail = ("compared at every k with mean - Z se" if status != "not applicable"
                      else f"assumption fails: {cr.not_applicable}")
            out.append(Check("F3", f"{cr.theorem} {cr.label}", stmt, status,
                             {"floor": cr.floor}, {f"{cr.theorem.lower().replace(' ', '')}"
                                                   f"_floor": cr.thm7_floor},
                             detail,
                             "a bound: 'violated' is a failure of the theory or the code"))
        else:
            out.append(Check("F3", f"Theorem 1 floor {cr.label}",
                             "observed floor vs Theorem 1's floor from measured q_min, q_max, "
                             "M_q (assumptions fail)", "compared",
                             {"floor": cr.floor}, {"theorem1_floor": cr.thm1_floor},
                             _WHY_DET + (" (q_min = 0: no Theorem 1 floor)"
                                         if cr.thm1_floor is None else ""), ""))
    for g in r.gd:
        thm = g.theorem
        scaled = thm == "Theorem 8"
        status = "holds" if g.holds else "violated"
        if not math.isfinite(float(g.bound[-1])):
            status = "not applicable (no admissible threshold t)"
        out.append(Check("F3", f"{thm} {g.fmt} {g.mode}",
                         "full-gradient descent with a deterministic quantiser stays below "
                         + ("the least of Theorem 8's bounds over thresholds t (block-scaled; "
                            "assumptions hold exactly)" if scaled else
                            "the least of Theorem 5's and Theorem 6's bounds (assumptions "
                            "hold exactly)"), status,
                         {"final_gap": g.final_gap, "worst_ratio": g.worst_ratio},
                         {"final_bound": float(g.bound[-1]), "bound": g.which},
                         f"float64 tolerance {g.tol:.2g}",
                         "deterministic: 'violated' is a failure of the theory or the code"))
    for f, m, why in r.gd_skipped:
        out.append(Check("F3", f"Theorem 8 {f} {m}", "full-gradient descent with a "
                         "deterministic block-scaled quantiser below Theorem 8's bound",
                         "not applicable", None, None, f"assumption fails: {why}", ""))
    return out


# -- report section ---------------------------------------------------------------------------
def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return lines


def _slow_text(cr: ConfigResult, r: FindingsResult) -> str:
    pt, lo, hi = cr.slowdown
    if pt is None:
        if cr.K_eps[1] is None:
            return f"> {(r.config.steps + 1) / r.baseline.K_eps[0]:.3g} (not reached)"
        return f"> {cr.K_eps[1] / r.baseline.K_eps[0]:.3g}"
    return f"{pt:.3g} [{_fmt_num(lo, 3)}, {_fmt_num(hi, 3) if hi is not None else 'inf'}]"


def _markdown(r: FindingsResult, plots_dir: str | None, level: int) -> str:
    h = "#" * level
    p, cfg = r.problem, r.config
    s = p.solution
    n_bad = sum(c.status in ("violated", "contradicted") for c in r.checks)
    lines = [f"{h} Findings on {p.name}: shrinkage, slowdown and floors of low-precision "
             f"gradients", "",
             f"**{'PASS' if r.ok else 'FAIL'}**: {len(r.checks) - n_bad}/{len(r.checks)} "
             f"checks without a violation or contradiction. "
             f"{cfg.runs} runs x {cfg.steps} steps, batch {cfg.batch}, seed {cfg.seed}, "
             f"{r.seconds:.1f} s.", ""]
    lines += [f"{h}# Problem", "",
              f"- {p.source}; loss {p.loss}, lambda = {p.reg:g}, n = {p.n}, d = {p.d}",
              f"- eigenvalues of X^T X/n + lambda I in [{p.eig_min:.6g}, {p.eig_max:.6g}]; "
              f"L = {p.L:.6g}, c = {p.c:.6g}",
              f"- F* = {mpmath.nstr(s.f_star_mp, 20)} (Newton, {s.newton_steps} float64 "
              f"steps, refined in mpmath); ||grad F|| at the solution, in mpmath at "
              f"{_data.CHECK_DPS} digits: {float(s.grad_norm_mp):.3g} (at its float64 "
              f"rounding: {float(s.grad_norm_float):.3g}); certificate F(w*) - F* <= "
              f"{float(s.f_star_error):.3g}",
              f"- minibatch constants (A2): M = {r.M:.6g}, M_V = {r.M_V:.6g}",
              f"- stepsize mu = {r.mu:.6g} = 1/(L m), m set by {r.mu_rule}",
              f"- eps = {r.eps:.6g} = sqrt(initial gap x float64 floor); float64 "
              f"reaches it at k = {r.baseline.K_eps[0]}",
              f"- statistical checks: Z = {r.z:.3f} standard errors (Bonferroni over "
              f"{r.n_stat_checks} checks, family-wise false-alarm rate <= {cfg.alpha:g})", ""]
    lines += [f"{h}# Measurements", ""]
    rows = []
    for cr in [r.baseline, *r.configs]:
        rows.append([cr.label, f"{cr.q_hat:.5f} +- {cr.q_hat_se:.1g}", f"{cr.q_min:.4f}",
                     f"{cr.underflow:.1%}", _fmt_num(float(np.nanmax(cr.M_q)), 3),
                     f"{cr.floor:.4g} +- {cr.floor_se:.1g}",
                     _fmt_num(cr.K_eps[0]) if cr.K_eps[0] else f"> {cfg.steps + 1}",
                     "1" if cr.mode == "-" else _slow_text(cr, r),
                     "-" if cr.mode == "-" else _fmt_num(cr.predicted, 3),
                     "-" if cr.mode == "-" else _fmt_num(cr.inv_q_min, 3)])
    lines += _table(["configuration", "q^ (mean +- se)", "q_min", "underflow", "M_q max",
                     "floor (last quarter)", "K(eps)", "slowdown [interval]",
                     "Theorem 1 ratio", "1/q_min"], rows)
    lines += [""]
    for fid, title in (("F1", "F1: low precision shrinks gradients"),
                       ("F2", "F2: the slowdown against q_min"),
                       ("F3", "F3: floors against bits, and the theorems")):
        lines += [f"{h}# {title}", ""]
        rows = [[c.name, c.status, _short(c.observed), _short(c.expected), c.detail]
                for c in r.checks if c.finding == fid]
        lines += _table(["check", "status", "observed", "expected", "why / note"], rows)
        lines += [""]
    lines += [f"{h}# Where the model predicts and where its assumptions fail", "",
              *_discussion(r), ""]
    if plots_dir is not None:
        lines += [f"{h}# Plots", ""]
        for name, cap in _PLOTS:
            lines += [f"![{cap}]({plots_dir.rstrip('/')}/{name})", ""]
    if r.command:
        lines += [f"{h}# How to reproduce", "", f"    {r.command}", ""]
    return "\n".join(lines)


def _short(x: Any) -> str:
    if isinstance(x, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in x.items())
    if isinstance(x, list | tuple):
        return "[" + ", ".join(_short(v) for v in x) + "]"
    if isinstance(x, float):
        return _fmt_num(x, 4)
    return str(x)


def _discussion(r: FindingsResult) -> list[str]:
    out = []
    det = [c for c in r.configs if c.mode != "stochastic"]
    sr = [c for c in r.configs if c.mode == "stochastic"]
    tz = [c for c in det if c.mode == "toward_zero"]
    if tz:
        out.append("- Truncation (toward_zero) shrinks: q^ = " + ", ".join(
            f"{c.fmt} {c.q_hat:.4f}" for c in tz) + ".")
    stalled = [c for c in det if c.q_hat < 0.5 and c.kind == "unscaled"]
    if stalled:
        out.append("- Unscaled formats whose normal range sits above the gradients flush most "
                   "components to 0 (" + ", ".join(f"{c.label}: {c.underflow:.0%} underflow, "
                                                   f"q^ = {c.q_hat:.3g}" for c in stalled)
                   + "): training stalls at a floor far above float64's; this is the "
                   "underflow floor of Theorem 6, and block scaling exists to remove it.")
    for a, b in scaled_twins(r.config.formats):
        rows = []
        for mode in r.config.roundings:
            ca, cb = r.get(a.label, mode), r.get(b.label, mode)
            rows.append(f"{mode}: {ca.underflow:.1%} -> {cb.underflow:.1%} underflow, "
                        f"q^ {ca.q_hat:.4f} -> {cb.q_hat:.4f}")
        out.append(f"- Block scaling ({a.label} -> {b.label}, {format_kind(b)}): each "
                   f"block of {b.block_size} components gets a scale that follows its "
                   f"largest magnitude, so small gradients sit in the element's normal "
                   f"range instead of below it: " + "; ".join(rows) + ". What remains is "
                   f"the underflow of components far below their block's maximum"
                   + (", and under the floor rule a block maximum can be clipped to X_f "
                      f"(up to {max(r.get(b.label, m).overflow for m in r.config.roundings):.2%}"
                      f" of components here), so rounding is biased and Theorem 9 does not "
                      f"apply" if b.scale == "e8m0" and b.rule == "floor" else "") + "."
                   + (f" Here d = {r.problem.d} <= {b.block_size}: each gradient is one "
                      f"block, so the block scale acts as a per-tensor scale."
                      if r.problem.d <= b.block_size else ""))
    sc_tz = [c for c in det if c.kind != "unscaled" and c.mode == "toward_zero"]
    if sc_tz:
        out.append("- Block-scaled truncation still shrinks (q^ = " + ", ".join(
            f"{c.fmt} {c.q_hat:.4f}" for c in sc_tz) + "), but with almost no underflow its "
            "precision floor (Theorem 8's) is negligible: the floor is the minibatch noise, "
            "which the shrinkage damps like a smaller stepsize (floors " + ", ".join(
                f"{c.fmt} {c.floor:.3g}" for c in sc_tz) + f"; float64 "
            f"{r.baseline.floor:.3g}), so fewer element bits need not raise it.")
    if sr:
        out.append("- Stochastic rounding does not shrink (q^ = " + ", ".join(
            f"{c.fmt} {c.q_hat:.4f}" for c in sr) + "); it raises the floor instead, most "
            "for the fewest mantissa bits (floors " + ", ".join(
            f"{c.fmt} {c.floor:.3g}" for c in sr) + f"; float64 {r.baseline.floor:.3g}).")
    out.append("- Theorem 1 needs E[e_k | w_k, g_k] = 0: " + _WHY_DET + ". Its prediction is "
               "still a useful guide where q is nearly constant (truncation without "
               "underflow); where q depends on the gradient's size (underflow) the worst "
               "step q_min overstates the slowdown of the average step.")
    out.append("- The constants are worst-case: c = lambda is the global strong convexity "
               "of the regularised loss and M bounds the minibatch variance everywhere, so "
               "the Theorem 1 and 7 floors lie far above the observed ones (they hold, but "
               "they do not predict the floor's size); the observed ordering of floors by "
               "bits is the finding, not the bound's value.")
    out.append("- Minibatch noise: M, M_V are the finite sum's proven constants (the "
               "assumption A2 holds); the observed residual variance M_q is an empirical "
               "mean, not a bound.")
    return out


_PLOTS = (("findings_q.png", "measured shrinkage q^ along training"),
          ("findings_gaps.png", "gap F - F* with Z-standard-error bands"),
          ("findings_slowdown.png", "observed vs predicted slowdown"),
          ("findings_floors.png", "floor vs mantissa bits"))


def _html_page(r: FindingsResult, plots_dir: str | None) -> str:
    """A self-contained HTML rendering of the Markdown (tables, lists, images)."""
    md = r.markdown(plots_dir=plots_dir)
    body, in_table, in_list = [], False, False
    for line in md.split("\n"):
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if set(line) <= set("|-"):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{_html.escape(c)}</th>" for c in cells)
                            + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{_html.escape(c)}</td>" for c in cells)
                            + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{_html.escape(line[2:])}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if line.startswith("#"):
            n = len(line) - len(line.lstrip("#"))
            body.append(f"<h{n}>{_html.escape(line[n:].strip())}</h{n}>")
        elif line.startswith("!["):
            cap, src = line[2:].split("](")
            body.append(f'<figure><img src="{_html.escape(src[:-1])}" alt="{_html.escape(cap)}">'
                        f"<figcaption>{_html.escape(cap)}</figcaption></figure>")
        elif line.startswith("    "):
            body.append(f"<pre>{_html.escape(line.strip())}</pre>")
        elif line.strip():
            text = _html.escape(line).replace("**PASS**", "<b>PASS</b>").replace(
                "**FAIL**", "<b>FAIL</b>")
            body.append(f"<p>{text}</p>")
    if in_table:
        body.append("</table>")
    if in_list:
        body.append("</ul>")
    style = ("body{font-family:sans-serif;max-width:80em;margin:2em auto}"
             "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;"
             "padding:2px 6px}img{max-width:100%}")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lpsgd findings"
            f"</title><style>{style}</style></head><body>\n" + "\n".join(body)
            + "\n</body></html>\n")


# -- plots ------------------------------------------------------------------------------------
def _figure(ncols: int, width: float = 5.0, height: float = 3.8):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height))
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _save(fig, folder: str | Path, name: str) -> Path:
    path = Path(folder) / name
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    return path


def plot_q(r: FindingsResult, folder: str | Path) -> Path:
    """q^ along training, one panel per rounding mode, one line per format."""
    modes = list(r.config.roundings)
    fig, axes = _figure(len(modes))
    for ax, mode in zip(axes, modes):
        for cr in (c for c in r.configs if c.mode == mode):
            k = np.arange(1, cr.q_mean.size + 1)
            ax.plot(k, cr.q_mean, label=cr.fmt, lw=1)
        ax.axhline(1.0, color="k", lw=0.6, ls=":")
        ax.set_title(f"q^ = <Q(g), g>/||g||^2, {mode}")
        ax.set_xlabel("step k")
        ax.set_ylabel(f"mean over {r.config.runs} runs")
        ax.legend(fontsize=7)
    return _save(fig, folder, "findings_q.png")


def plot_gaps(r: FindingsResult, folder: str | Path) -> Path:
    """Gap curves with +-Z standard error bands, one panel per mode."""
    modes = list(r.config.roundings)
    fig, axes = _figure(len(modes))
    for ax, mode in zip(axes, modes):
        for cr in [r.baseline, *(c for c in r.configs if c.mode == mode)]:
            k = np.arange(1, cr.gap_mean.size + 1)
            se = np.nan_to_num(cr.gap_se, nan=0.0)
            line, = ax.plot(k, cr.gap_mean, lw=1, label=cr.fmt,
                            color="k" if cr.mode == "-" else None)
            ax.fill_between(k, np.maximum(cr.gap_mean - r.z * se, 1e-300),
                            cr.gap_mean + r.z * se, color=line.get_color(), alpha=0.2)
        ax.axhline(r.eps, color="gray", lw=0.6, ls="--")
        ax.set_yscale("log")
        ax.set_title(f"F(w_k) - F*, {mode} (band: +-{r.z:.1f} se)")
        ax.set_xlabel("iterate k")
        ax.legend(fontsize=7)
    return _save(fig, folder, "findings_gaps.png")


def plot_slowdown(r: FindingsResult, folder: str | Path) -> Path:
    """Observed slowdown (with its interval) against Theorem 1's ratio and 1/q_min."""
    fig, (ax,) = _figure(1, 6.5, 4.5)
    xs, labels = [], []
    cap = (r.config.steps + 1) / r.baseline.K_eps[0]
    for i, cr in enumerate(r.configs):
        pt, lo, hi = cr.slowdown
        x = i
        xs.append(x)
        labels.append(cr.label)
        if pt is None:
            ax.plot([x], [cap], marker="^", color="C0", ls="none")
        else:
            lo_ = lo if lo is not None else pt
            hi_ = hi if hi is not None else cap
            ax.errorbar([x], [pt], yerr=[[pt - lo_], [max(hi_ - pt, 0)]], fmt="o",
                        color="C0", ms=4)
        if cr.predicted is not None and math.isfinite(cr.predicted):
            ax.plot([x], [min(cr.predicted, 1e3)], marker="x", color="C3", ls="none")
        if cr.inv_q_min is not None and math.isfinite(cr.inv_q_min):
            ax.plot([x], [min(cr.inv_q_min, 1e3)], marker="+", color="C2", ls="none", ms=9)
    ax.plot([], [], "o", color="C0", label="observed (interval; ^ = not reached)")
    ax.plot([], [], "x", color="C3", label="Theorem 1 rate ratio at q_min")
    ax.plot([], [], "+", color="C2", label="1/q_min")
    ax.axhline(1.0, color="k", lw=0.6, ls=":")
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, rotation=70, fontsize=7)
    ax.set_ylabel(f"K(eps) / K_float64(eps), eps = {r.eps:.3g}")
    ax.legend(fontsize=7)
    return _save(fig, folder, "findings_slowdown.png")


def plot_floors(r: FindingsResult, folder: str | Path) -> Path:
    """Observed floor against (element) mantissa bits per mode and format kind (and the
    Theorem 7 or 9 floor for stochastic rounding)."""
    fig, (ax,) = _figure(1, 6.5, 4.5)
    kinds = list(dict.fromkeys(c.kind for c in r.configs))
    styles = ("o-", "s--", "^-.", "v:", "d-")
    for j, mode in enumerate(r.config.roundings):
        for i, kind in enumerate(kinds):
            crs = sorted((c for c in r.configs if c.mode == mode and c.kind == kind),
                         key=lambda c: c.man_bits)
            if not crs:
                continue
            m = [c.man_bits + 0.08 * (j - 1) + 0.03 * i for c in crs]
            ax.errorbar(m, [c.floor for c in crs], yerr=[r.z * c.floor_se for c in crs],
                        fmt=styles[i % len(styles)], ms=4, lw=1, color=f"C{j}",
                        label=f"{mode} (observed)" if kind == "unscaled"
                        else f"{mode}, {kind} (observed)")
            for c, x in zip(crs, m):
                ax.annotate(c.fmt, (x, c.floor), fontsize=6)
        if mode == "stochastic":
            t7 = sorted((c.man_bits, c.thm7_floor) for c in r.configs
                        if c.mode == mode and c.thm7_floor)
            if t7:
                ax.plot(*zip(*t7), "s", color=f"C{j}", ms=3, mfc="none",
                        label="Theorem 7 / 9 floor (stochastic)")
    ax.axhline(r.baseline.floor, color="k", lw=0.8, ls=":", label="float64")
    ax.set_yscale("log")
    ax.set_xlabel("mantissa bits M")
    ax.set_ylabel("mean gap over the last quarter")
    ax.legend(fontsize=7)
    return _save(fig, folder, "findings_floors.png")


def plots(r: FindingsResult, folder: str | Path) -> list[Path]:
    """All four plots into ``folder`` (which must exist)."""
    return [plot_q(r, folder), plot_gaps(r, folder), plot_slowdown(r, folder),
            plot_floors(r, folder)]


def write_report(r: FindingsResult, folder: str | Path) -> list[Path]:
    """report.md, report.html, results.json and the plots into an existing folder."""
    import json

    folder = Path(folder)
    paths = plots(r, folder)
    (folder / "report.md").write_text(r.markdown(plots_dir="."), encoding="utf-8")
    (folder / "report.html").write_text(r.html(plots_dir="."), encoding="utf-8")
    (folder / "results.json").write_text(json.dumps(r.as_dict(), indent=1) + "\n",
                                         encoding="utf-8")
    return [*paths, folder / "report.md", folder / "report.html", folder / "results.json"]


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, bool | str) or x is None:
        return x
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        f = float(x)
        return f if math.isfinite(f) else repr(f)
    if isinstance(x, mpmath.mpf):
        return float(x)
    return str(x)
