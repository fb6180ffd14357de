"""The findings on real data where a theorem's assumptions hold exactly (lpsgd.findings).

Problems are slices of scikit-learn's bundled data (rows, features and lambda drawn),
built through :mod:`lpsgd.data`, so F* is solved afresh for every example:

* F* is certified: at the refined solution the mpmath gradient is tiny, F there is
  within the certificate of F*, and F at perturbed points is never below F*.
* Theorems 5 and 6 (full-gradient descent, deterministic quantiser; exact assumptions):
  the gap stays below the least of their bounds at every k, up to the float64
  evaluation of F (:func:`lpsgd.findings.full_gradient_bound`).
* Theorem 7 (stochastic rounding of minibatch gradients of logistic regression, the
  finite sum's own sampling constants M, M_V = 0): the Monte Carlo mean gap minus
  Z = 5 standard errors stays below the bound at every k (a false alarm at one k has
  probability below 3e-7 under the normal approximation).
* The predicted slowdown (Theorem 1's rate ratio, :func:`lpsgd.findings.predicted_slowdown`)
  is exact for a constant shrinkage q of full gradients on ridge least squares started
  along the eigenvector of the smallest eigenvalue c: the gap then decays exactly as
  (1 - mu q c)^(2(k-1)).

Each property has a mutant of its own in :mod:`lpsgd.mutants` (an F* off by 1e-6 either
way, the sampling constants dropped, a slowdown without q_min).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

import lpsgd.data as data
import lpsgd.findings as findings
import lpsgd.record as record
import lpsgd.strategies as lst
import lpsgd.theory as theory
from lpsgd.fast import sgd
from lpsgd.formats import PRESETS
from lpsgd.objectives import Minibatch

#: Standard errors a Monte Carlo mean may exceed its bound by (Theorem 7).
Z = 5
_EPS = float(np.finfo(np.float64).eps)
_FAST = [n for n, f in PRESETS.items() if f.fits_binary64 and f.total_bits <= 16]
_EXAMPLES = lst.scaled_examples(1 / 10, minimum=4)


def _slice(name: str, rows: int, cols: int, reg: float, offset: int = 0):
    X, y, names, _ = data._bundled_arrays(name)
    loss = data.BUNDLED[name][0]
    r = slice(offset, offset + rows)
    return data.from_arrays(X[r, :cols], y[r], loss=loss, reg=reg, names=names[:cols],
                            name=f"{name}[{offset}:{offset + rows}, :{cols}]")


_problems = st.tuples(st.sampled_from(("breast_cancer", "diabetes")), st.integers(30, 150),
                      st.integers(2, 8), st.floats(0.05, 1.0), st.integers(0, 200))


@settings(max_examples=_EXAMPLES)
@example(("breast_cancer", 150, 8, 0.01, 0), 0.5)
@given(_problems, st.floats(0.01, 2.0))
def test_findings_f_star_certified(spec, scale):
    """F* of lpsgd.data: ||grad F(w*)|| (mpmath) < 1e-25, F(w*) - F* within the
    certificate, and F(w* + v) >= F* for perturbations v."""
    p = _slice(*spec)
    s = p.solution
    F = p.objective
    rng = np.random.default_rng(int(scale * 1000))
    with mpmath.workdps(data.CHECK_DPS):
        g = F.grad_mp(s.w_star_mp)
        gnorm = mpmath.sqrt(mpmath.fsum(v * v for v in g))
        f_at = F.value_mp(s.w_star_mp)
        excess = f_at - s.f_star_mp
        worst = mpmath.inf
        for _ in range(3):
            v = rng.standard_normal(p.d) * scale
            fv = F.value_mp([wi + mpmath.mpf(float(vi)) for wi, vi in zip(s.w_star_mp, v)])
            worst = min(worst, fv - s.f_star_mp)
    record.observe("test_findings_f_star_certified", float(abs(excess)),
                   float(s.f_star_error) + 1e-300, problem=p.name, reg=p.reg)
    note(f"{p.name} reg={p.reg} |grad|={mpmath.nstr(gnorm, 5)} F(w*)-F*={mpmath.nstr(excess, 5)} "
         f"certificate={mpmath.nstr(s.f_star_error, 5)} min F(w*+v)-F*={mpmath.nstr(worst, 5)}")
    assert gnorm < 1e-25, f"gradient at the solution {mpmath.nstr(gnorm, 5)}"
    assert -s.f_star_error <= excess <= s.f_star_error, (
        f"F(w*) - F* = {mpmath.nstr(excess, 8)} outside the certificate "
        f"{mpmath.nstr(s.f_star_error, 5)}")
    assert worst >= -s.f_star_error, f"F(w* + v) - F* = {mpmath.nstr(worst, 8)} < 0"


_GD_MODES = ("toward_zero", "nearest_even", "nearest_away", "nearest_zero")


@settings(max_examples=_EXAMPLES)
@example(("breast_cancer", 120, 6, 1.0, 0), "bfloat16", "toward_zero", 150)
@example(("diabetes", 150, 8, 1.0, 0), "binary16", "nearest_even", 150)
@given(_problems, st.sampled_from(_FAST), st.sampled_from(_GD_MODES), st.integers(10, 150))
def test_findings_full_gradient_theorems_5_6(spec, fmt_name, mode, K):
    """Full-gradient descent with a deterministic quantiser on real data stays below the
    least of Theorem 5's and Theorem 6's bounds (findings.full_gradient_bound) at every
    k, up to the float64 evaluation of F."""
    p = _slice(*spec)
    fmt = PRESETS[fmt_name]
    _, q_hi = theory.format_shrinkage(fmt, mode, float(fmt.x_max))
    mu = (1 - 4 * _EPS) / (p.L * float(q_hi))
    g = findings._full_gradient(p, fmt, mode, mu, K)
    k_bad = np.flatnonzero(g.gaps > g.bound + g.tol)
    record.observe("test_findings_full_gradient_theorems_5_6", float(np.max(g.gaps[1:])),
                   float(np.max(g.bound[1:] + g.tol)), problem=p.name, fmt=fmt_name,
                   mode=mode, K=K, reg=p.reg, which=g.which)
    note(f"{p.name} reg={p.reg} {fmt_name} {mode} K={K} mu={mu!r} bound: {g.which}; "
         f"final gap {g.final_gap!r} bound {g.bound[-1]!r}")
    assert "exceeded X_max" not in g.which, "no theorem applies: a component overflowed"
    assert k_bad.size == 0, (
        f"gap {g.gaps[k_bad[0]]!r} > bound {g.bound[k_bad[0]]!r} + {g.tol:.2g} at "
        f"k={k_bad[0] + 1} ({k_bad.size} violations)")


@settings(max_examples=_EXAMPLES)
@example(("breast_cancer", 150, 6, 1.0, 0), "float8_e4m3fn", 4)
@given(st.tuples(st.just("breast_cancer"), st.integers(40, 150), st.integers(2, 8),
                 st.floats(0.3, 1.0), st.integers(0, 200)),
       st.sampled_from([n for n in _FAST if PRESETS[n].subnormals]), st.integers(1, 8))
def test_findings_theorem7_stochastic_rounding(spec, fmt_name, batch):
    """Minibatch SGD with stochastically rounded gradients on real logistic regression:
    mean gap - Z se <= Theorem 7's bound with the finite sum's (M, M_V) at every k."""
    p = _slice(*spec)
    fmt = PRESETS[fmt_name]
    M, M_V = findings.sampling_constants(p, batch)
    mu, _ = findings.admissible_stepsize(p, [fmt], ["stochastic"], batch)
    K = 60
    res = sgd.run(p.objective, np.zeros(p.d), K=K, mu=mu, oracle=Minibatch(p.objective, batch),
                  gradient=sgd.quantize(fmt, "stochastic"), runs=64, seed=batch)
    mean, se = res.stats("gaps")
    bound = theory.fast.theorem7(L=p.L, c=p.c, d=p.d, M=M, M_V=M_V, fmt=fmt, mu=mu,
                                 gap=float(mean[0]), k=np.arange(1, K + 1))
    lower = mean - Z * np.nan_to_num(se, nan=0.0)
    bad = np.flatnonzero(lower > bound * (1 + 1e-12))
    j = int(np.argmax(lower[1:] / bound[1:])) + 1
    record.observe("test_findings_theorem7_stochastic_rounding", float(lower[j]),
                   float(bound[j]), problem=p.name, fmt=fmt_name, batch=batch, mu=mu, M=M,
                   k=j + 1)
    note(f"{p.name} reg={p.reg} {fmt_name} batch={batch} mu={mu!r} M={M!r} M_V={M_V!r}; "
         f"final mean {mean[-1]!r} bound {bound[-1]!r}")
    assert bad.size == 0, (f"mean - {Z} se = {lower[bad[0]]!r} > Theorem 7 bound "
                           f"{bound[bad[0]]!r} at k={bad[0] + 1}")


@settings(max_examples=_EXAMPLES)
@example(0.5, 0.25, 1.0)
@given(st.floats(0.2, 2.0), st.floats(0.2, 1.0), st.floats(0.1, 10.0))
def test_findings_slowdown_exact_model(reg, q, scale):
    """With a constant shrinkage q of full gradients on ridge least squares (diabetes),
    started along the eigenvector of c, the observed slowdown (ratio of the per-step log
    decay of the gap with q = 1 and with q) equals the predicted slowdown."""
    p = _slice("diabetes", 442, 10, reg)
    F = p.objective
    eigs, vecs = np.linalg.eigh(F.H)
    w1 = p.solution.w_star + scale * vecs[:, 0]
    mu = 1.0 / p.L
    rates = []
    for qq in (1.0, q):
        # each run long enough for a decay of about 1e-6 (far above float64 noise)
        K = int(max(5, math.ceil(math.log(1e-6) / (2 * math.log1p(-mu * p.c * qq)))))
        r = sgd.run(F, w1, K=K, mu=mu, gradient=sgd.shrink(qq), runs=1)
        gaps = r.gaps[:, 0]
        rates.append(math.log(gaps[-1] / gaps[0]) / (K - 1))
    observed = rates[0] / rates[1]
    predicted = findings.predicted_slowdown(mu=mu, c=p.c, q_min=q)
    record.observe("test_findings_slowdown_exact_model", abs(observed / predicted - 1),
                   1e-6, reg=reg, q=q, scale=scale, K=K)
    note(f"reg={reg} q={q} K={K} observed {observed!r} predicted {predicted!r} "
         f"(c={p.c!r}, lambda_min(H)={eigs[0]!r})")
    assert abs(observed / predicted - 1) <= 1e-6, (
        f"observed slowdown {observed!r} vs predicted {predicted!r}")
