"""The sweeps of a report: the conformance matrix and the plots.

Each sweep is a function ``sweep(*, profile, seed, outdir) -> dict`` returning a JSON-ready
section: ``title``, ``status`` ("ok", "skipped" or "error"), ``note``, ``images`` (PNG
file names written into ``outdir``), ``caption``, ``data`` and optionally ``tables``
(a list of {"title", "header", "rows"}).
Sizes scale with the profile (``SCALE``) so that the ci profile spends a few seconds per
sweep.  Plots use matplotlib's object API on the Agg canvas (no pyplot, no global
backend switch), so generating a report does not disturb a caller's matplotlib state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lpsgd.suite import compare

__all__ = ["SWEEPS", "SCALE", "CONFORMANCE_VALUES", "conformance", "theorem1_sweep",
           "slowdown_sweep", "floor_sweep", "shrinkage_profile_sweep",
           "measured_shrinkage_sweep", "bench_sweep", "scaled_formats_sweep",
           "worstcase_sweep", "values_equal"]

#: Multiplier on the sizes of the sweeps per profile.
SCALE = {"ci": 1.0, "dev": 0.5, "thorough": 4.0}

#: Stress values checked per (format, rounding mode) cell of the conformance matrix.
CONFORMANCE_VALUES = {"ci": 256, "dev": 96, "thorough": 4096}

_DPI = 100


class Skip(Exception):
    """A sweep that cannot run in this environment (e.g. optional peers missing)."""


def _scaled(n: int, profile: str, *, minimum: int = 1) -> int:
    return max(minimum, int(round(n * SCALE[profile])))


def _figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (7.5, 4.6)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig: Any, outdir: Path, name: str) -> str:
    fig.savefig(outdir / name, dpi=_DPI, format="png")
    return name


def values_equal(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Elementwise "same quantiser result": lpsgd's one rule, :func:`lpsgd.bitwise.same_values`
    (equal float64 bits, so +0 != -0; NaN equals NaN of the same sign)."""
    from lpsgd.bitwise import same_values

    return same_values(got, want)


# -- conformance matrix ----------------------------------------------------------------------
def conformance(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """fast.quantize == reference.quantize on lpsgd.stress.stress_values, per preset and
    rounding mode; stochastic modes compare with the same uniforms given to both."""
    from lpsgd import fast, reference, stress
    from lpsgd.formats import PRESETS
    from lpsgd.rounding import ROUNDING_MODES, rounding_mode

    budget = CONFORMANCE_VALUES[profile]
    rng = np.random.default_rng([seed, 1])
    cells: dict[str, dict[str, Any]] = {}
    checked = mismatches = 0
    examples: list[dict[str, Any]] = []
    for name, fmt in PRESETS.items():
        xs = np.asarray(stress.stress_values(fmt, seed=seed, max_values=budget), dtype=np.float64)
        cells[name] = {}
        for mode in ROUNDING_MODES:
            kwargs: dict[str, Any] = {}
            if rounding_mode(mode).is_stochastic:
                kwargs["uniforms"] = rng.random(xs.shape)
            try:
                got = np.asarray(fast.quantize(xs, fmt, mode, **kwargs), dtype=np.float64)
                want = np.asarray(reference.quantize(xs, fmt, mode, **kwargs),
                                  dtype=np.float64)
            except Exception as exc:  # noqa: BLE001 - shown in the cell, counted as failure
                cells[name][mode] = {"checked": 0, "mismatches": 1,
                                     "error": f"{type(exc).__name__}: {exc}"}
                mismatches += 1
                continue
            bad = ~values_equal(got, want)
            n_bad = int(bad.sum())
            cells[name][mode] = {"checked": int(xs.size), "mismatches": n_bad}
            checked += int(xs.size)
            mismatches += n_bad
            for i in np.flatnonzero(bad)[:3]:
                examples.append({"format": name, "rounding": mode, "x": float(xs[i]).hex(),
                                 "fast": float(got[i]).hex(), "reference": float(want[i]).hex()})
    scaled_checked, scaled_bad = _scaled_conformance(cells, examples, rng)
    checked += scaled_checked
    mismatches += scaled_bad
    return {
        "title": "Conformance: fast == reference",
        "status": "ok",
        "description": (f"Up to {budget} values per cell from lpsgd.stress.stress_values "
                        f"(seed {seed}); a value matches when both paths return the same "
                        f"float64 (lpsgd.bitwise: same bits, so -0 != +0; NaN matches NaN of "
                        f"the same sign). Stochastic modes get the same uniforms in both "
                        f"paths. The scaled presets (rows mx*, nvfp4) are checked on the "
                        f"block hard cases of lpsgd.scaled_strategies (block maxima at "
                        f"binade and clipping edges, scale clamps, ties after scaling, zero, "
                        f"NaN and inf blocks, short blocks, blocks spanning a thousand "
                        f"binades), one call per case."),
        "formats": list(cells), "modes": list(ROUNDING_MODES), "cells": cells,
        "checked": checked, "mismatches": mismatches, "mismatch_examples": examples[:50],
    }


conformance.title = "Conformance: fast == reference"


def _scaled_conformance(cells: dict[str, dict[str, Any]], examples: list[dict[str, Any]],
                        rng: np.random.Generator) -> tuple[int, int]:
    """The conformance cells of the scaled presets (added to ``cells``): fast against
    reference on every block hard case, per rounding mode; (checked, mismatches)."""
    from lpsgd import fast, reference
    from lpsgd.rounding import ROUNDING_MODES, rounding_mode
    from lpsgd.scaled_strategies import hard_cases, wide_block_cases

    checked = mismatches = 0
    for fmt, x, axis in hard_cases() + wide_block_cases():
        row = cells.setdefault(fmt.name, {m: {"checked": 0, "mismatches": 0}
                                          for m in ROUNDING_MODES})
        for mode in ROUNDING_MODES:
            kwargs: dict[str, Any] = {"axis": axis}
            if rounding_mode(mode).is_stochastic:
                kwargs["uniforms"] = rng.random(x.shape)
            try:
                want = np.asarray(reference.quantize(x, fmt, mode, **kwargs), dtype=np.float64)
            except ValueError:  # a result float32 cannot hold: the fast path must refuse too
                try:
                    fast.quantize(x, fmt, mode, **kwargs)
                except ValueError:
                    continue
                row[mode]["mismatches"] += 1
                mismatches += 1
                continue
            got = np.asarray(fast.quantize(x, fmt, mode, **kwargs), dtype=np.float64)
            bad = ~values_equal(got, want)
            row[mode]["checked"] += int(x.size)
            row[mode]["mismatches"] += int(bad.sum())
            checked += int(x.size)
            mismatches += int(bad.sum())
            for i in np.flatnonzero(bad.ravel())[:3]:
                examples.append({"format": fmt.name, "rounding": mode,
                                 "x": float(x.ravel()[i]).hex(),
                                 "fast": float(got.ravel()[i]).hex(),
                                 "reference": float(want.ravel()[i]).hex()})
    return checked, mismatches


# -- quadratic helpers -----------------------------------------------------------------------
def _quadratic(d: int, c: float, L: float, w_star: np.ndarray | None = None):
    from lpsgd.objectives import DiagonalQuadratic

    # geometric spacing puts eigenvalues near both c and L
    return DiagonalQuadratic(np.geomspace(c, L, d), w_star=w_star)


def _moments(quad: Any, *, mu: float, q: float, K: int, w1: np.ndarray, sigma2: Any,
             tau2: Any, exact: bool = False) -> np.ndarray:
    """E[F(w_k) - F*] for k = 1..K under constant mu and q (the exact second-moment
    recursion of lpsgd.reference.expectations, or its float64 twin in lpsgd.fast)."""
    if exact:
        from lpsgd.reference import expectations as mod
    else:
        from lpsgd.fast import expectations as mod
    out = mod.quadratic_moments(quad, w1, K=K, mu=mu, q=q, sigma2=sigma2, tau2=tau2)
    return np.asarray([float(v) for v in out.gaps], dtype=np.float64)


# -- Theorem 1: exact expectation against the bound -------------------------------------------
def direction(qs: list[float], values: list[float], *, rtol: float = 1e-9) -> str:
    """How ``values`` move as q falls (``qs`` in decreasing order): "rises", "falls",
    "is flat", or "falls, then rises" / "rises, then falls" (one turn), else
    "is not monotone"."""
    if any(b >= a for a, b in zip(qs, qs[1:])):
        raise ValueError(f"Expected qs in decreasing order but got qs={qs}")
    steps = []
    for a, b in zip(values, values[1:]):
        if abs(b - a) <= rtol * max(abs(a), abs(b)):
            continue
        s = "rises" if b > a else "falls"
        if not steps or steps[-1] != s:
            steps.append(s)
    if not steps:
        return "is flat"
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        return f"{steps[0]}, then {steps[1]}"
    return "is not monotone"


def _path(qs: list[float], values: list[float]) -> str:
    """``values`` along ``qs`` in words: its direction and its end (and turning) values."""
    d = direction(qs, values)
    text = f"{d}: {values[0]:.3g} at q = {qs[0]:g}"
    if d in ("falls, then rises", "rises, then falls"):
        i = int(np.argmin(values) if d.startswith("falls") else np.argmax(values))
        text += f", {'lowest' if d.startswith('falls') else 'highest'} {values[i]:.3g} at " \
                f"q = {qs[i]:.3g}"
    return text + f", {values[-1]:.3g} at q = {qs[-1]:g}"


def theorem1_caption(floors: dict[str, Any], *, worst: float, worst_after: float,
                     fast_vs_exact: float, mc_runs: int, worst_z: float) -> str:
    """The Theorem 1 sweep's caption, its claims about the floors computed from the plotted
    floor values (``floors``: "q" in decreasing order, "bound", "exact", "gradient_part",
    "quantisation_part")."""
    qs = floors["q"]
    parts = []
    for key, what in (("bound", "the bound's floor F_q = L mu (q^2 M + M_q) / (2 c q)"),
                      ("exact", "the exact stationary value"),
                      ("gradient_part", "its gradient-noise part "
                                        "sum_i mu q sigma_i^2 / (2 (2 - mu q lambda_i))"),
                      ("quantisation_part", "its quantisation-noise part "
                                            "sum_i mu tau_i^2 / (2 q (2 - mu q lambda_i))")):
        parts.append(f"{what} {_path(qs, floors[key])}")
    ratio = [b / e for b, e in zip(floors["bound"], floors["exact"])]
    return ("Left: the exact E[F(w_k) - F*] (solid, the second-moment recursion in mpmath, "
            "lpsgd.reference.expectations) with constant shrinkage q = q_min = q_max, "
            "against the Theorem 1 bound (dashed), on a log scale; smaller q contracts "
            "more slowly in both. Worst exact/bound over all k and q: "
            f"{worst:.6g} (they are equal at k = 1); over k >= 2: {worst_after:.3g}. "
            "Crosses: the mean of "
            f"{mc_runs} runs of the SGD engine (lpsgd.fast.sgd: shrink by q, add "
            "N(0, tau^2) quantisation noise, Gaussian gradient noise), within "
            f"{worst_z:.2f} standard errors of the exact values at every k; the float64 "
            f"recursion (lpsgd.fast) agrees with the exact one to a relative "
            f"{fast_vs_exact:.2g}. Right: the floors against q, here with q_min = "
            "q_max = q, so the gradient-noise budget q^2 M shrinks with q. As q falls, "
            + "; ".join(parts) + ". The bound's floor exceeds the exact stationary value "
            f"by a factor {min(ratio):.3g} to {max(ratio):.3g}.")


def theorem1_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """Exact E[F(w_k) - F*] on a quadratic against the Theorem 1 bound, several q_min,
    with a Monte Carlo run of the SGD engine as a cross-check of the recursion, and the
    exact stationary value against the bound's floor as a function of q."""
    from lpsgd import theory
    from lpsgd.fast import sgd
    from lpsgd.objectives import AdditiveNoise
    from lpsgd.reference import expectations

    d, c, L = 8, 0.1, 1.0
    quad = _quadratic(d, c, L)
    K = _scaled(300, profile, minimum=50)
    mu = 0.5
    sigma2 = np.full(d, 1e-3 / d)
    tau2 = np.full(d, 2e-4 / d)
    M, M_q = float(sigma2.sum()), float(tau2.sum())
    w1 = np.ones(d)
    gap = float(quad.gap(w1))
    qs = [1.0, 0.5, 0.2, 0.1]
    fig, axes = _figure(1, 2, size=(13, 4.8))
    ax = axes[0, 0]
    colors = ["C0", "C1", "C2", "C3", "C4"]
    data = []
    worst = worst_after = 0.0
    above = 0  # exact values above their bound (the suite's rule, lpsgd.suite.compare)
    fast_vs_exact = 0.0
    worst_z = 0.0
    mc_runs = _scaled(200, profile, minimum=100)
    oracle = AdditiveNoise(quad, sigma2=sigma2)
    every = max(1, K // 15)
    ks = np.arange(1, K + 1)
    for q, col in zip(qs, colors):
        exact = _moments(quad, mu=mu, q=q, K=K, w1=w1, sigma2=sigma2, tau2=tau2, exact=True)
        fast_gaps = _moments(quad, mu=mu, q=q, K=K, w1=w1, sigma2=sigma2, tau2=tau2)
        fast_vs_exact = max(fast_vs_exact, float(np.max(np.abs(fast_gaps - exact) / exact)))
        bound = np.array([float(theory.theorem1(L=L, c=c, M=M, M_V=0.0, M_q=M_q, mu=mu,
                                                q_min=q, q_max=q, gap=gap, k=int(k)))
                          for k in ks])
        ratio = float(np.max(exact / bound))
        worst = max(worst, ratio)
        above += int(np.sum(compare.exceeds(exact, bound)))
        worst_after = max(worst_after, float(np.max((exact / bound)[1:])))
        # Monte Carlo cross-check of the engine against the exact recursion
        mc = sgd.run(quad, w1, K=K, mu=mu, gradient=sgd.chain(sgd.shrink(q),
                                                              sgd.add_noise(tau2)),
                     oracle=oracle, runs=mc_runs, seed=seed)
        mean, se = mc.gap_mean, mc.gap_se
        z = np.abs(mean - exact)[1:] / np.maximum(se[1:], 1e-300)  # k = 1 is deterministic
        worst_z = max(worst_z, float(np.max(z)))
        ax.semilogy(ks, exact, color=col, lw=1.8, label=f"exact, q={q:g}")
        ax.semilogy(ks, bound, color=col, lw=1.2, ls="--", label=f"Theorem 1 bound, q={q:g}")
        ax.semilogy(ks[::every], mean[::every], "x", color=col, ms=4,
                    label=f"SGD mean of {mc_runs} runs, q={q:g}")
        data.append({"q": q, "worst_ratio": ratio, "final_exact": float(exact[-1]),
                     "final_bound": float(bound[-1]), "mc_final_mean": float(mean[-1]),
                     "mc_final_se": float(se[-1]), "mc_max_z": float(np.max(z))})
    ax.set_xlabel("iteration k")
    ax.set_ylabel("E[F(w_k) - F*]")
    ax.set_title(f"Exact expectation vs Theorem 1 (d={d}, c={c:g}, L={L:g}, mu={mu:g}, "
                 f"M={M:g}, M_q={M_q:g})", fontsize=9)
    ax.legend(fontsize=6, loc="upper right", ncol=2)
    ax.grid(True, which="both", alpha=0.3)

    # the floors against q: the bound's F_q and the exact stationary value, split into
    # its gradient-noise and quantisation-noise parts (closed form, mpmath)
    fq = [float(v) for v in np.geomspace(1.0, 0.05, _scaled(12, profile, minimum=8))]
    floors: dict[str, Any] = {"q": fq, "bound": [], "exact": [], "gradient_part": [],
                              "quantisation_part": []}
    for q in fq:
        b = theory.theorem1(L=L, c=c, M=M, M_V=0.0, M_q=M_q, mu=mu, q_min=q, q_max=q,
                            gap=gap, k=1)
        floors["bound"].append(float(b.terms["floor"]))
        floors["exact"].append(float(expectations.stationary_floor(
            quad, mu=mu, q=q, sigma2=sigma2, tau2=tau2)))
        floors["gradient_part"].append(float(expectations.stationary_floor(
            quad, mu=mu, q=q, sigma2=sigma2, tau2=None)))
        floors["quantisation_part"].append(float(expectations.stationary_floor(
            quad, mu=mu, q=q, sigma2=None, tau2=tau2)))
    ax2 = axes[0, 1]
    ax2.loglog(fq, floors["bound"], "s--", color="k", label="Theorem 1 floor F_q (bound)")
    ax2.loglog(fq, floors["exact"], "o-", color="C0", label="exact stationary value")
    ax2.loglog(fq, floors["gradient_part"], ":", color="C2",
               label="exact, gradient-noise part")
    ax2.loglog(fq, floors["quantisation_part"], "-.", color="C3",
               label="exact, quantisation-noise part")
    ax2.invert_xaxis()
    ax2.set_xlabel("shrinkage q (decreasing to the right)")
    ax2.set_ylabel("floor: lim E[F(w_k) - F*]")
    ax2.set_title("Floors against q", fontsize=9)
    ax2.legend(fontsize=7)
    ax2.grid(True, which="both", alpha=0.3)
    img = _save(fig, outdir, "theorem1_bound.png")
    problems = []
    if above:
        problems.append(f"bound violated at {above} steps: worst exact/bound ratio {worst:.6g}")
    if worst_z > compare.Z:
        problems.append(f"Monte Carlo mean of the engine differs from the exact recursion by "
                        f"{worst_z:.3g} standard errors (> {compare.Z:g})")
    if any(b < e for b, e in zip(floors["bound"], floors["exact"])):
        problems.append("the bound's floor lies below the exact stationary value")
    ratio = [b / e for b, e in zip(floors["bound"], floors["exact"])]
    loose = [{"statement": "theorem1",
              "text": (f"Theorem 1's floor F_q against the exact stationary value on the "
                       f"sweep's quadratic (d={d}, c={c:g}, L={L:g}, mu={mu:g}): "
                       f"{floors['bound'][0]:.3g} vs {floors['exact'][0]:.3g} at q = 1 "
                       f"(x{ratio[0]:.3g}), {floors['bound'][-1]:.3g} vs "
                       f"{floors['exact'][-1]:.3g} at q = {fq[-1]:g} (x{ratio[-1]:.3g}). "
                       f"The bound charges the whole noise budget q_max^2 M + M_q at the "
                       f"slowest rate mu c q_min, and its rate 1 - mu c q is the square "
                       f"root of the exact per-step contraction (1 - mu q lambda)^2 of the "
                       f"flattest direction. Over the transient (k >= 2) the exact "
                       f"expectation reaches at most {worst_after:.3g} of the bound."),
              "ratio_min": min(ratio), "ratio_max": max(ratio)}]
    caption = theorem1_caption(floors, worst=worst, worst_after=worst_after,
                               fast_vs_exact=fast_vs_exact, mc_runs=mc_runs, worst_z=worst_z)
    return {"title": "Theorem 1: exact E[F(w_k) - F*] against the bound",
            "status": "error" if problems else "ok",
            "note": "; ".join(problems),
            "images": [img],
            "caption": caption,
            "loose": loose,
            "data": {"K": K, "curves": data, "worst_ratio": worst,
                     "worst_ratio_after_first": worst_after,
                     "fast_vs_exact_rel": fast_vs_exact, "mc_runs": mc_runs,
                     "mc_max_z": worst_z, "floors": floors,
                     "constants": {"d": d, "c": c, "L": L, "mu": mu, "M": M, "M_q": M_q,
                                   "lambdas": quad.lambdas.tolist(),
                                   "sigma2": sigma2.tolist(), "tau2": tau2.tolist()}}}


theorem1_sweep.title = "Theorem 1: exact E[F(w_k) - F*] against the bound"


# -- slowdown: iterations to eps --------------------------------------------------------------
def slowdown_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """Iterations until E[F(w_k) - F*] <= eps against 1/q_min: exact and the bound."""
    from lpsgd import theory

    d, c, L = 8, 0.1, 1.0
    quad = _quadratic(d, c, L)
    mu = 1.0
    w1 = np.ones(d)
    gap = float(quad.gap(w1))
    eps = 1e-3 * gap
    n_q = _scaled(8, profile, minimum=4)
    qs = np.geomspace(1.0, 0.05, n_q)
    exact_k, bound_k = [], []
    for q in qs:
        kb = int(theory.iterations_to_eps(L=L, c=c, M=0, M_V=0, M_q=0, mu=mu, q_min=float(q),
                                          q_max=float(q), gap=gap, eps=eps))
        K = int(kb * 1.1) + 10
        g = _moments(quad, mu=mu, q=float(q), K=K, w1=w1, sigma2=None, tau2=None)
        hit = np.flatnonzero(g <= eps)
        exact_k.append(int(hit[0]) + 1 if hit.size else None)
        bound_k.append(kb)
    fig, axes = _figure()
    ax = axes[0, 0]
    inv = 1.0 / qs
    ek = np.array([np.nan if v is None else v for v in exact_k], dtype=float)
    ax.loglog(inv, ek, "o-", label="exact (recursion)")
    ax.loglog(inv, bound_k, "s--", label="Theorem 1 bound (iterations_to_eps)")
    ax.loglog(inv, ek[0] * inv, ":", color="gray", label="exact K at q=1, times 1/q_min")
    ax.set_xlabel("1 / q_min")
    ax.set_ylabel(f"iterations to E[F - F*] <= {eps:.3g}")
    ax.set_title(f"Slowdown: no noise, d={d}, c={c:g}, L={L:g}, mu={mu:g}", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    img = _save(fig, outdir, "slowdown.png")
    rows = [[f"{q:.4g}", f"{1 / q:.4g}", "-" if e is None else e, b,
             "-" if e is None else f"{e / exact_k[0]:.3g}"]
            for q, e, b in zip(qs, exact_k, bound_k)]
    done = [(q, e, b) for q, e, b in zip(qs, exact_k, bound_k) if e is not None]
    growth = [(e / exact_k[0]) * q for q, e, _ in done]  # (K_q / K_1) / (1/q)
    over = [b / e for _, e, b in done]
    loose = [{"statement": "slowdown",
              "text": (f"Iterations to eps = {eps:.3g} (noise-free quadratic, d={d}, "
                       f"c={c:g}, L={L:g}, mu={mu:g}): Theorem 1's count "
                       f"(iterations_to_eps) is {min(over):.3g} to {max(over):.3g} times "
                       f"the exact one (e.g. {bound_k[0]} against {exact_k[0]} at q = 1, "
                       f"{done[-1][2]} against {done[-1][1]} at q = {done[-1][0]:.3g}): the "
                       f"bound contracts by 1 - mu c q per step, the square root of the "
                       f"exact factor (1 - mu q c)^2 of the flattest direction, and the "
                       f"other directions contract faster still. Its slowdown "
                       f"K_q / K_1 at q = {done[-1][0]:.3g} is "
                       f"{done[-1][2] / bound_k[0]:.3g}, the exact one "
                       f"{done[-1][1] / exact_k[0]:.3g}, 1/q_min {1 / done[-1][0]:.3g}."),
              "ratio_min": min(over), "ratio_max": max(over)}]
    return {"title": "Slowdown: iterations to eps against 1/q_min",
            "status": "ok", "images": [img], "loose": loose,
            "caption": (f"Noise-free quadratic, constant shrinkage q = q_min = q_max, "
                        f"eps = {eps:.3g}. The exact count comes from the second-moment "
                        f"recursion, the bound's from lpsgd.theory.iterations_to_eps. The "
                        f"exact slowdown K_q / K_1 is {min(growth):.3g} to "
                        f"{max(growth):.3g} times 1/q_min over the plotted q; the bound's "
                        f"count is {min(over):.3g} to {max(over):.3g} times the exact "
                        f"one."),
            "tables": [{"header": ["q_min", "1/q_min", "exact K", "bound K",
                                   "exact K / exact K(q=1)"], "rows": rows}],
            "data": {"eps": eps, "q": qs.tolist(), "exact": exact_k, "bound": bound_k,
                     "exact_over_inverse_q": growth, "bound_over_exact": over}}


slowdown_sweep.title = "Slowdown: iterations to eps against 1/q_min"


# -- error floor against mantissa bits ---------------------------------------------------------
#: The series of the floor sweep: (key, rounding mode, gradient noise?).
_FLOOR_SERIES = (("toward_zero", "toward_zero", False), ("nearest_even", "nearest_even", False),
                 ("stochastic", "stochastic", False), ("stochastic_noise", "stochastic", True))
_FLOOR_MODES = tuple(key for key, _, _ in _FLOOR_SERIES)
_FLOOR_LABELS = {"toward_zero": "toward_zero (GD)", "nearest_even": "nearest_even (GD)",
                 "stochastic": "stochastic (GD, no gradient noise)",
                 "stochastic_noise": "stochastic (SGD, gradient noise s^2 per component)"}


def _span(values: list[float], digits: int = 2) -> str:
    """``"a-b"`` for the range of ``values`` at ``digits`` significant digits, or one
    number when both ends print the same."""
    lo, hi = f"{min(values):.{digits}g}", f"{max(values):.{digits}g}"
    return lo if lo == hi else f"{lo}-{hi}"


def _per_bit(values: list[float]) -> tuple[float, float]:
    """The range of values[m] / values[m + 1] (the factor lost per mantissa bit)."""
    f = [a / b for a, b in zip(values, values[1:]) if a > 0 and b > 0]
    return (min(f), max(f)) if f else (math.nan, math.nan)


def floor_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """Final F(w_K) - F* of gradient descent with quantised gradients, against the
    Theorem 6 (deterministic modes) and Theorem 7 (stochastic rounding) bounds; Theorem 7
    also under gradient noise at the scale of the format's subnormal spacing, where the
    rounding noise is a large part of the total."""
    from lpsgd import theory
    from lpsgd.fast import sgd
    from lpsgd.formats import Format
    from lpsgd.objectives import AdditiveNoise
    from lpsgd.reference import expectations

    d, c, L = 4, 0.25, 1.0
    # w* off the dyadic grid: with w* = 0 and w_1 = 1 every iterate is dyadic and
    # stochastic rounding can land exactly on w* and stay there (the gap would be 0).
    w_star = np.linspace(0.1, 0.7, d) / 3
    quad = _quadratic(d, c, L, w_star)
    exp_bits = 5
    mu = 0.5  # <= 1/(L q_hi) with q_hi <= 2, and <= 1/(L M_G') = 1/(1 + delta) for SR
    K = _scaled(700, profile, minimum=400)
    reps = _scaled(32, profile, minimum=16)
    w1 = w_star + 1.0
    gap = float(quad.gap(w1))
    m_values = list(range(0, 11)) if profile != "dev" else list(range(0, 11, 2))
    results: dict[str, dict[str, list]] = {m: {"measured": [], "se": [], "bound": []}
                                            for m in _FLOOR_MODES}
    no_rounding: list[float] = []  # exact stationary value of the noisy run, no rounding
    for m in m_values:
        fmt = Format(exp_bits, m)
        s_ = fmt.subnormal_spacing
        # Theorem 6 threshold: the smallest t with q_lo(t) > 0. Toward zero keeps every
        # |x| >= s; round to nearest keeps every |x| > s/2 (s/2 itself ties to 0), so a
        # t just above s/2 gives a floor about 4 times lower.
        thresholds = {"toward_zero": s_, "nearest_even": s_ / 2 + s_ / 2**20}
        sigma2 = np.full(d, float(s_) ** 2)  # gradient noise at the rounding's own scale
        no_rounding.append(float(expectations.stationary_floor(quad, mu=mu, sigma2=sigma2)))
        for key, mode, noisy in _FLOOR_SERIES:
            stochastic = mode == "stochastic"
            oracle = AdditiveNoise(quad, sigma2=sigma2) if noisy else None
            res = sgd.run(quad, w1, K=K, mu=mu, gradient=sgd.quantize(fmt, mode),
                          oracle=oracle, runs=reps if stochastic else 1, seed=seed)
            final = np.asarray(res.gaps[-1], dtype=np.float64)
            measured = float(final.mean())
            se = float(final.std(ddof=1) / math.sqrt(final.size)) if final.size > 1 else 0.0
            if stochastic:
                M = float(sigma2.sum()) if noisy else 0.0
                b = theory.theorem7(L=L, c=c, d=d, M=M, M_V=0, fmt=fmt, mu=mu, gap=gap, k=K)
            else:
                t = thresholds[mode]
                q_lo, q_hi = theory.format_shrinkage(fmt, mode, t)
                b = theory.theorem6(L=L, c=c, d=d, mu=mu, t=t, q_lo=q_lo, q_hi=q_hi, gap=gap,
                                    k=K)
            results[key]["measured"].append(measured)
            results[key]["se"].append(se)
            results[key]["bound"].append(float(b))
    fig, axes = _figure(size=(8.5, 5.2))
    ax = axes[0, 0]
    # Stochastic rounding of noise-free gradients is unbiased with a variance that
    # vanishes with the gradient, so it can pass the deterministic floors by many decades
    # (down to float64 resolution); values far below the plotted range are drawn as
    # triangles on the bottom edge (their numbers are in the table).
    shown_vals = [v for key in _FLOOR_MODES for k2 in ("measured", "bound")
                  for v in results[key][k2]
                  if v > 0 and (key != "stochastic" or k2 == "bound")]
    bottom = min(shown_vals) / 30
    below: dict[str, list[int]] = {}
    colors = {"toward_zero": "C3", "nearest_even": "C0", "stochastic": "C2",
              "stochastic_noise": "C1"}
    for key in _FLOOR_MODES:
        col = colors[key]
        meas = np.array(results[key]["measured"])
        inside = meas >= bottom
        mean_of = f", mean of {reps}" if key.startswith("stochastic") else ""
        if inside.any():
            ax.semilogy(np.array(m_values)[inside], meas[inside], "o-", color=col, ms=4,
                        label=f"{_FLOOR_LABELS[key]}: measured{mean_of}")
        if not inside.all():
            below[key] = [m for m, ok in zip(m_values, inside) if not ok]
            ax.semilogy(np.array(m_values)[~inside], np.full((~inside).sum(), bottom * 1.3),
                        "v", color=col, ms=7,
                        label=f"{_FLOOR_LABELS[key]}: measured{mean_of}, BELOW the axis "
                              f"(<= {float(meas[~inside].max()):.2g})")
        theorem = "7" if key.startswith("stochastic") else "6"
        ax.semilogy(m_values, results[key]["bound"], "--", color=col,
                    label=f"{_FLOOR_LABELS[key]}: Theorem {theorem} bound")
    ax.semilogy(m_values, no_rounding, ":", color="C1",
                label="SGD with the same gradient noise, no rounding: exact floor")
    ax.set_ylim(bottom=bottom)
    ax.set_xlabel(f"mantissa bits m (Format(E={exp_bits}, m))")
    ax.set_ylabel(f"F(w_K) - F*, K={K}")
    ax.set_title(f"Error floor with quantised gradients (d={d}, c={c:g}, L={L:g}, "
                 f"mu={mu:g})", fontsize=9)
    ax.legend(fontsize=6.5, loc="upper right")
    ax.grid(True, which="both", alpha=0.3)
    img = _save(fig, outdir, "error_floor.png")
    violations = []
    for key in _FLOOR_MODES:
        r = results[key]
        # deterministic runs: no sampling error; stochastic: Z standard errors (the suite's
        # rule, lpsgd.suite.compare)
        se = r["se"] if key.startswith("stochastic") else None
        bad = compare.exceeds(r["measured"], r["bound"], se=se)
        for m, x, b, over in zip(m_values, r["measured"], r["bound"], bad):
            if over:
                violations.append({"mode": key, "m": m, "measured": x, "bound": b})
    rows = [[m] + [f"{results[key]['measured'][i]:.3g} / {results[key]['bound'][i]:.3g}"
                   for key in _FLOOR_MODES] + [f"{no_rounding[i]:.3g}"]
            for i, m in enumerate(m_values)]
    ratio = {key: [x / b for x, b in zip(results[key]["measured"], results[key]["bound"])]
             for key in _FLOOR_MODES}
    cost = [x / e for x, e in zip(results["stochastic_noise"]["measured"], no_rounding)]
    per_bit = {key: _per_bit(results[key]["measured"]) for key in ("toward_zero",
                                                                  "nearest_even")}
    step = m_values[1] - m_values[0]
    per = "per mantissa bit" if step == 1 else f"per {step} mantissa bits"
    below_text = "; ".join(f"{_FLOOR_LABELS[k]} at m = {', '.join(map(str, v))}"
                           for k, v in below.items())
    caption = (
        f"Gradient descent from w_1 = w* + (1, ..., 1) on a quadratic, the gradient "
        f"quantised to Format({exp_bits}, m) each step (lpsgd.fast.sgd), iterates in "
        f"float64; stochastic rounding: mean of {reps} runs, checked at 5 standard "
        f"errors. Deterministic modes stall once gradient components underflow; their "
        f"floors fall by a factor {_span(per_bit['toward_zero'], 3)} (toward_zero) and "
        f"{_span(per_bit['nearest_even'], 3)} (nearest_even) {per}, and reach "
        f"{_span(ratio['toward_zero'])} and {_span(ratio['nearest_even'])} of their "
        f"Theorem 6 bounds (t = s, the subnormal "
        f"spacing, for toward_zero; t just above s/2 for nearest_even). Stochastic "
        f"rounding without gradient noise: its rounding variance vanishes with the "
        f"gradient, so it ends far below the deterministic floors"
        + (f" (triangles on the bottom edge, BELOW the plotted range: {below_text}; values "
           f"in the table)" if below else "")
        + f". Stochastic rounding under gradient noise of variance s^2 per component, "
        f"the regime where Theorem 7's rounding term d s^2 / 4 matters: the measured "
        f"floor is {_span(ratio['stochastic_noise'])} "
        f"of the Theorem 7 bound and {_span(cost, 3)} times the exact floor "
        f"of the same SGD without rounding (dotted).")
    loose = [
        {"statement": "theorem6",
         "text": (f"Theorem 6's underflow floor against gradient descent with real "
                  f"toward_zero / nearest_even rounding to Format({exp_bits}, m), m = "
                  f"{m_values[0]}..{m_values[-1]}: the measured floor is "
                  f"{_span(ratio['toward_zero'])} "
                  f"(toward_zero) and {_span(ratio['nearest_even'])} (nearest_even) of the "
                  f"bound d t^2 / (2c): "
                  f"the bound assumes every component sits just below t at once."),
         "ratio_min": min(ratio["toward_zero"] + ratio["nearest_even"]),
         "ratio_max": max(ratio["toward_zero"] + ratio["nearest_even"])},
        {"statement": "theorem7",
         "text": (f"Theorem 7's floor under real stochastic rounding with gradient noise "
                  f"of variance s^2 per component (d={d}, c={c:g}, mu={mu:g}): the measured "
                  f"floor is {_span(ratio['stochastic_noise'])} of the bound. The bound "
                  f"L mu M' / (2c) charges the noise at the flattest curvature c and the "
                  f"rounding variance at its maximum s^2/4 per component; the measured "
                  f"rounding cost is a factor {_span(cost, 3)} on the "
                  f"floor without rounding. Without gradient noise the bound is looser "
                  f"still (measured/bound down to {min(ratio['stochastic']):.2g})."),
         "ratio_min": min(ratio["stochastic_noise"]),
         "ratio_max": max(ratio["stochastic_noise"])},
    ]
    return {"title": "Error floor against mantissa bits",
            "status": "ok" if not violations else "error",
            "note": "" if not violations else f"bound exceeded: {violations}",
            "images": [img], "caption": caption, "loose": loose,
            "tables": [{"header": ["m"] + [f"{_FLOOR_LABELS[key]}: measured / bound"
                                           for key in _FLOOR_MODES]
                        + ["no rounding, same noise: exact floor"], "rows": rows}],
            "data": {"m": m_values, "K": K, "violations": violations, "bottom": bottom,
                     "below_axis": below, "no_rounding": no_rounding, **results}}


floor_sweep.title = "Error floor against mantissa bits"


# -- shrinkage profile -------------------------------------------------------------------------
_PROFILE_PRESETS = ("binary16", "bfloat16", "float8_e5m2", "float8_e4m3fn", "float6_e2m3fn",
                    "float4_e2m1fn")


def shrinkage_profile_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """rho(x) = Q(x)/x against |x| for several presets, underflow region shaded."""
    from lpsgd import fast, shrinkage
    from lpsgd.formats import preset

    n = _scaled(3000, profile, minimum=500)
    fig, axes = _figure(2, 3, size=(11, 6.2))
    rows = []
    extremes: dict[str, dict[str, float]] = {}
    for ax, name in zip(axes.ravel(), _PROFILE_PRESETS):
        fmt = preset(name)
        lo = float(fmt.smallest_positive) / 8
        hi = float(fmt.x_max)
        x = np.geomspace(lo, hi, n)
        n_min = float(fmt.n_min)
        for mode, col in (("toward_zero", "C3"), ("nearest_even", "C0")):
            rho = np.asarray(fast.quantize(x, fmt, mode), dtype=np.float64) / x
            ax.plot(x, rho, color=col, lw=0.9, label=mode)
            alive = rho[rho > 0]
            extremes.setdefault(name, {})[mode] = (float(alive.min()), float(alive.max()))
        prof_tz = shrinkage.profile(fmt, "toward_zero")
        prof_ne = shrinkage.profile(fmt, "nearest_even")
        surv = float(prof_tz.smallest_surviving)
        ax.axvspan(lo, float(prof_ne.smallest_surviving), color="0.6", alpha=0.35, lw=0,
                   label="Q(x) = 0 (both modes)")
        ax.axvspan(float(prof_ne.smallest_surviving), surv, color="0.8", alpha=0.35, lw=0,
                   label="Q(x) = 0 (toward_zero only)")
        ax.axvspan(surv, n_min, color="gold", alpha=0.18, lw=0, label="subnormal range")
        ax.set_xscale("log", base=2)
        ax.set_ylim(-0.05, 2.1)
        ax.set_title(name, fontsize=9)
        ax.grid(True, alpha=0.3)
        q_hi = prof_ne.q_hi
        rows.append([name, f"{float(prof_tz.smallest_surviving):.4g}",
                     f"{float(prof_ne.smallest_surviving):.4g}", f"{n_min:.4g}",
                     f"{float(prof_tz.q_lo(fmt.n_min)):.6g}",
                     "inf" if q_hi == math.inf else f"{float(q_hi):.6g}"])
    axes[0, 0].legend(fontsize=7, loc="lower right", framealpha=0.9)
    for ax in axes[1]:
        ax.set_xlabel("|x| (log2 scale)")
    for ax in axes[:, 0]:
        ax.set_ylabel("Q(x) / x")
    img = _save(fig, outdir, "shrinkage_profile.png")
    return {"title": "Shrinkage profile Q(x)/x",
            "status": "ok", "images": [img],
            "caption": (f"rho(x) = Q(x)/x on a log grid of {n} positive x per preset, up to "
                        f"X_max. Dark gray: x rounds to 0 in both modes; light gray: toward "
                        f"zero only; gold: the subnormal range. On the plotted points toward "
                        f"zero never enlarges (largest rho "
                        f"{max(v['toward_zero'][1] for v in extremes.values()):.6g}) and "
                        f"its smallest nonzero rho is "
                        f"{min(v['toward_zero'][0] for v in extremes.values()):.3g}; round "
                        f"to nearest reaches rho = "
                        f"{max(v['nearest_even'][1] for v in extremes.values()):.3g} near the "
                        f"subnormal edge (the table's q_hi is the supremum over all x). "
                        f"The smallest surviving magnitude is an infimum: for nearest_even, "
                        f"s/2 itself ties to 0 and every larger magnitude survives."),
            "tables": [{"header": ["preset", "smallest surviving (toward_zero)",
                                   "smallest surviving (nearest_even)", "N_min",
                                   "q_lo(N_min) toward_zero", "q_hi nearest_even"],
                        "rows": rows}],
            "data": {"presets": list(_PROFILE_PRESETS), "points": n,
                     "rho_extremes": extremes}}


shrinkage_profile_sweep.title = "Shrinkage profile Q(x)/x"


# -- measured shrinkage during SGD --------------------------------------------------------------
_MEASURED = (("bfloat16", "toward_zero"), ("float8_e5m2", "toward_zero"),
             ("float8_e4m3fn", "toward_zero"), ("float8_e4m3fn", "nearest_even"))


def measured_shrinkage_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """q^_k = <Q(g_k), g_k>/||g_k||^2 and ||Q(g_k)||/||g_k|| along quantised SGD runs."""
    from lpsgd.fast import sgd
    from lpsgd.objectives import AdditiveNoise

    d, c, L = 16, 0.05, 1.0
    quad = _quadratic(d, c, L)
    sigma2 = 1e-6
    oracle = AdditiveNoise(quad, sigma2=sigma2)
    K = _scaled(400, profile, minimum=150)
    runs = _scaled(16, profile, minimum=8)
    mu = 0.5
    w1 = np.ones(d)
    fig, axes = _figure(1, 3, size=(12, 4.0))
    data = []
    for (name, mode), col in zip(_MEASURED, ("C0", "C1", "C2", "C3")):
        res = sgd.run(quad, w1, K=K, mu=mu, gradient=sgd.quantize(name, mode), oracle=oracle,
                      runs=runs, seed=seed)
        gap = res.gap_mean
        proj = res.q_proj_mean
        norm = res.norm_ratio_mean
        label = f"{name}, {mode}"
        axes[0, 0].semilogy(np.arange(1, gap.size + 1), gap, color=col, lw=1, label=label)
        ks = np.arange(1, proj.size + 1)
        axes[0, 1].plot(ks, proj, color=col, lw=1, label=label)
        axes[0, 2].plot(ks, norm, color=col, lw=1, label=label)
        data.append({"format": name, "rounding": mode, "q_hat_min": float(np.nanmin(proj)),
                     "q_hat_last": float(proj[-1]), "norm_ratio_last": float(norm[-1]),
                     "gap_last": float(gap[-1])})
    axes[0, 0].set_title("mean F(w_k) - F*", fontsize=9)
    axes[0, 1].set_title("mean projection q^ = <Q(g), g> / ||g||^2", fontsize=9)
    axes[0, 2].set_title("mean norm ratio ||Q(g)|| / ||g||", fontsize=9)
    for ax, ylabel in zip(axes[0], ("F(w_k) - F* (mean over runs)", "q^ (mean over runs)",
                                    "||Q(g)|| / ||g|| (mean over runs)")):
        ax.set_xlabel("iteration k")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6.5)
    img = _save(fig, outdir, "measured_shrinkage.png")
    low = min(data, key=lambda r: r["q_hat_min"])
    rows = [[r["format"], r["rounding"], f"{r['q_hat_min']:.4g}", f"{r['q_hat_last']:.4g}",
             f"{r['norm_ratio_last']:.4g}", f"{r['gap_last']:.3g}"] for r in data]
    return {"title": "Measured shrinkage during quantised SGD",
            "status": "ok", "images": [img],
            "caption": (f"SGD (lpsgd.fast.sgd, mean of {runs} runs) on a d={d} quadratic "
                        f"(c={c:g}, L={L:g}, mu={mu:g}) with gradient noise of variance "
                        f"{sigma2:g} per component, the stochastic gradient quantised each "
                        f"step. As the iterate approaches w*, gradient components fall into "
                        f"the subnormal range or below it. The smallest mean q^ is "
                        f"{low['q_hat_min']:.3g} ({low['format']}, {low['rounding']}); "
                        + "; ".join(f"{r['format']} {r['rounding']} ends at q^ = "
                                    f"{r['q_hat_last']:.3g} with norm ratio "
                                    f"{r['norm_ratio_last']:.3g}" for r in data)
                        + ". A norm ratio above q^ means part of the rounding error is "
                          "orthogonal to g: noise, not shrinkage."),
            "tables": [{"header": ["format", "rounding", "min q^", "last q^",
                                   "last norm ratio", "last F - F*"], "rows": rows}],
            "data": {"K": K, "runs": runs, "results": data}}


measured_shrinkage_sweep.title = "Measured shrinkage during quantised SGD"


# -- the paper's findings on real data ---------------------------------------------------------


def findings_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """The paper's three findings on the bundled breast-cancer data (lpsgd.findings, its
    default configuration: bfloat16, binary16, float8_e5m2, float8_e4m3fn, float4_e2m1fn
    under nearest_even, toward_zero and stochastic rounding)."""
    from lpsgd import findings

    cfg = findings.FindingsConfig(seed=seed, runs=_scaled(32, profile, minimum=16))
    r = findings.run_findings(cfg)
    images = [Path(p).name for p in findings.plots(r, outdir)]
    rows = []
    for c in r.configs:
        point = c.slowdown[0]
        rows.append([c.fmt, c.mode, f"{c.q_hat:.4g}", f"{c.underflow:.2%}",
                     "never" if point is None else f"{point:.3g}",
                     "-" if c.predicted is None else f"{c.predicted:.3g}",
                     f"{c.floor:.3g}"])
    checks = [[k.finding, k.name, k.status, k.detail or k.statement] for k in r.checks
              if not k.status.startswith(("confirmed", "holds", "consistent"))]
    counts: dict[str, int] = {}
    for k in r.checks:
        counts[k.status] = counts.get(k.status, 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    prob = r.problem
    return {"title": findings_sweep.title,
            # a violated bound or a contradicted finding makes the section fail loudly
            "status": "ok" if r.ok else "error",
            "images": images,
            "caption": (f"Minibatch SGD ({cfg.runs} seeded runs x {cfg.steps} steps, batch "
                        f"{cfg.batch}, mu = {r.mu:.4g}: {r.mu_rule}) on {prob.name} with "
                        f"quantised gradients, beside float64. F1: the measured shrinkage q^ "
                        f"per format and mode; F2: iterations to eps = {r.eps:.3g} relative "
                        f"to float64, against Theorem 1's rate ratio at the measured q_min; "
                        f"F3: the floor (mean gap over the last quarter of the iterates). "
                        f"Checks: {tally}; statistical ones at Z = {r.z:.3g} standard errors "
                        f"(family-wise false-alarm rate {cfg.alpha:g} over "
                        f"{r.n_stat_checks} checks). Where a theorem's assumptions fail (a "
                        f"deterministic rounding error is not zero-mean given the gradient) "
                        f"the prediction is compared, not asserted. Replay: lpsgd findings "
                        f"--seed {seed} --runs {cfg.runs}."),
            "tables": [{"title": "Per format and mode",
                        "header": ["format", "rounding", "q^", "underflow",
                                   "slowdown", "predicted", "floor"], "rows": rows},
                       {"title": "Checks that are not plain confirmations",
                        "header": ["finding", "check", "status", "detail"], "rows": checks}],
            # the scalars (the per-step curves are in the plots and in lpsgd findings)
            "data": {"config": cfg.as_dict(), "problem": prob.name, "mu": r.mu, "eps": r.eps,
                     "z": r.z, "ok": r.ok, "checks": [k.as_dict() for k in r.checks],
                     "configs": [{"format": c.fmt, "rounding": c.mode, "q_hat": c.q_hat,
                                  "q_hat_se": c.q_hat_se, "q_min": c.q_min,
                                  "underflow": c.underflow, "slowdown": list(c.slowdown),
                                  "predicted": c.predicted, "inv_q_min": c.inv_q_min,
                                  "floor": c.floor, "floor_se": c.floor_se,
                                  "thm1_floor": c.thm1_floor, "thm7_floor": c.thm7_floor}
                                 for c in r.configs]}}


findings_sweep.title = "The paper's findings on real data (breast cancer)"


# -- optional: peers -------------------------------------------------------------------------
_BENCH_FORMATS = ("binary16", "bfloat16", "float8_e5m2", "float8_e4m3fn")


def bench_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """lpsgd.peers: the other installed quantisers checked against the reference
    (mismatch counts) and timed against lpsgd.fast (the numbers of ``lpsgd bench``, on a
    smaller input)."""
    title = "Peers: other quantisers checked and timed"
    try:
        from lpsgd import peers
    except ImportError as exc:
        return {"title": title, "status": "skipped", "note": f"lpsgd.peers not importable: {exc}"}
    status = peers.peer_status()
    installed = [s.name for s in status if s.available and s.name != "numpy"]
    if not installed:
        return {"title": title, "status": "skipped",
                "note": "no peer quantiser installed (pip install '.[peers]'): "
                        + "; ".join(f"{s.name}: {s.note}" for s in status if not s.available)}
    scale = SCALE[profile]
    modes = ("nearest_even", "toward_zero", "stochastic")
    bench = peers.benchmark(formats=_BENCH_FORMATS, size=_scaled(20_000, profile, minimum=2_000),
                            repeat=3 if scale <= 1 else 7, modes=modes,
                            reference_size=_scaled(50, profile, minimum=20), seed=seed)
    rows = [[r.format, r.rounding, r.implementation, f"{r.min_ns:.1f}",
             "-" if r.ratio is None else f"{r.ratio:.2f}"] for r in bench.rows]
    check = peers.check_peers(modes=("nearest_even", "toward_zero"),
                              examples=_scaled(200, profile, minimum=50), seed=seed,
                              draws=200)
    crows = [[r.peer, r.format, r.rounding, r.checked, r.mismatches,
              ", ".join(f"{k} {n}" for k, n in r.kinds.items()) or "-"] for r in check.results]
    return {"title": title, "status": "ok",
            "tables": [{"title": "Speed (nanoseconds per element)",
                        "header": ["format", "rounding", "implementation", "min ns/elem",
                                   "x lpsgd.fast"], "rows": rows},
                       {"title": "Conformance of the peers against lpsgd.reference",
                        "header": ["peer", "format", "rounding", "checked", "mismatches",
                                   "kinds"], "rows": crows}],
            "caption": (f"Method: {bench.method.rstrip('.')}. Conformance of the peers "
                        f"(nearest_even and toward_zero, lpsgd.testing.check_quantizer) "
                        f"follows; a peer's "
                        f"mismatch is a fact about that peer, not a failure of this report."),
            "data": {"bench": bench.as_dict(),
                     "check": [{k: v for k, v in r.as_dict().items() if k != "examples"}
                               for r in check.results],
                     "skipped": [s.name for s in status if not s.available]}}


bench_sweep.title = "Peers: other quantisers checked and timed"


def scaled_formats_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """Block-scaled formats (:mod:`lpsgd.report.scaled_sweep`, imported late: it uses the
    plotting helpers of this module)."""
    from lpsgd.report.scaled_sweep import scaled_sweep

    return scaled_sweep(profile=profile, seed=seed, outdir=outdir)


def worstcase_sweep(*, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """Bound / worst case over the function class (:mod:`lpsgd.report.worstcase_sweep`);
    skipped when the worst-case extra (PEPit, cvxpy, Clarabel) is not installed."""
    import importlib.util

    if importlib.util.find_spec("PEPit") is None or importlib.util.find_spec("cvxpy") is None:
        return {"title": worstcase_sweep.title, "status": "skipped",
                "note": "the worst-case extra (PEPit, cvxpy, Clarabel) is not installed"}
    from lpsgd.report.worstcase_sweep import worstcase_sweep as sweep

    return sweep(profile=profile, seed=seed, outdir=outdir)


scaled_formats_sweep.title = "Scaled formats: block-scale shrinkage and gradient descent"
worstcase_sweep.title = "Worst case over the function class: how loose each theorem is"


SWEEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "conformance": conformance,
    "theorem1": theorem1_sweep,
    "slowdown": slowdown_sweep,
    "floor": floor_sweep,
    "shrinkage_profile": shrinkage_profile_sweep,
    "measured_shrinkage": measured_shrinkage_sweep,
    "findings": findings_sweep,
    "bench": bench_sweep,
    "scaled": scaled_formats_sweep,
    "worstcase": worstcase_sweep,
}
