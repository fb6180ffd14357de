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

Each property is a factory of the implementations it uses (``solve`` of lpsgd.data,
``quantize``, ``sampling_constants`` and ``predicted_slowdown`` of lpsgd.findings), lpsgd's by
default (``test_x = x()``); each has a mutant of its own in
:mod:`lpsgd.suite.quantizer_mutants` (an F* off by 1e-6 either way, the sampling constants
dropped, a slowdown without q_min).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

import lpsgd.data as data
import lpsgd.fast as fast
import lpsgd.findings as findings
import lpsgd.scaled_strategies as sst
import lpsgd.strategies as lst
import lpsgd.theory as theory
from lpsgd.fast import sgd
from lpsgd.formats import PRESETS
from lpsgd.objectives import Minibatch
from lpsgd.scaled import SCALED_PRESETS
from lpsgd.suite import compare

_EPS = float(np.finfo(np.float64).eps)
_FAST = [n for n, f in PRESETS.items() if f.fits_binary64 and f.total_bits <= 16]
_EXAMPLES = lst.scaled_examples(1 / 10, minimum=4)
#: Relative tolerance of the observed slowdown against the prediction: each run decays the
#: gap by about 1e-6, so the float64 rounding of F(w_k) - F* (relative error of order
#: eps |F*| / gap) enters the per-step log rate divided by K - 1; measured below 4e-12 over
#: 40 random draws.  1e-6 is far above that and far below the factor of about 1/q a wrong
#: prediction is off by.
SLOWDOWN_RTOL = 1e-6


def _slice(name: str, rows: int, cols: int, reg: float, offset: int = 0, *,
           solve=data.solve):
    X, y, names, _ = data._bundled_arrays(name)
    loss = data.BUNDLED[name][0]
    r = slice(offset, offset + rows)
    return data.from_arrays(X[r, :cols], y[r], loss=loss, reg=reg, names=names[:cols],
                            name=f"{name}[{offset}:{offset + rows}, :{cols}]", solve=solve)


_problems = st.tuples(st.sampled_from(("breast_cancer", "diabetes")), st.integers(30, 150),
                      st.integers(2, 8), st.floats(0.05, 1.0), st.integers(0, 200))


def findings_f_star_certified(*, solve=data.solve):
    @settings(max_examples=_EXAMPLES)
    @example(("breast_cancer", 150, 8, 0.01, 0), 0.5)
    @given(_problems, st.floats(0.01, 2.0))
    def test_findings_f_star_certified(spec, scale):
        """F* of lpsgd.data: ||grad F(w*)|| (mpmath) < 1e-25, F(w*) - F* within the
        certificate, and F(w* + v) >= F* for perturbations v."""
        p = _slice(*spec, solve=solve)
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
                fv = F.value_mp([wi + mpmath.mpf(float(vi))
                                 for wi, vi in zip(s.w_star_mp, v)])
                worst = min(worst, fv - s.f_star_mp)
        note(f"{p.name} reg={p.reg} |grad|={mpmath.nstr(gnorm, 5)} "
             f"F(w*)-F*={mpmath.nstr(excess, 5)} certificate={mpmath.nstr(s.f_star_error, 5)} "
             f"min F(w*+v)-F*={mpmath.nstr(worst, 5)}")
        compare.assert_upper(
            "test_findings_f_star_certified",
            [(1, abs(excess), s.f_star_error), (2, gnorm, mpmath.mpf("1e-25")),
             (3, -worst, s.f_star_error)], rtol=compare.EXACT,
            context={"problem": p.name, "reg": p.reg, "scale": scale},
            claim="test_findings_f_star_certified: k=1 |F(w*) - F*| <= certificate, k=2 "
                  "||grad F(w*)|| <= 1e-25, k=3 F* - F(w* + v) <= certificate")
    return test_findings_f_star_certified


test_findings_f_star_certified = findings_f_star_certified()


_GD_MODES = ("toward_zero", "nearest_even", "nearest_away", "nearest_zero")


def _assert_full_gradient(name: str, g, p, fmt_name: str, mode: str, K: int,
                          bound: str) -> None:
    """F(w_k) - F* <= the run's bound + tol at every k (tol: the float64 evaluation of F)."""
    __tracebackhide__ = True
    compare.assert_upper(
        name, [(k, float(g.gaps[k - 1]), float(g.bound[k - 1] + g.tol))
               for k in range(1, len(g.gaps) + 1)],
        rtol=compare.EXACT, identity_at_1=True,
        context={"problem": p.name, "fmt": fmt_name, "mode": mode, "K": K, "reg": p.reg,
                 "which": g.which, "tol": g.tol},
        claim=f"{name}: F(w_k) - F* <= {bound} + tol")


def findings_full_gradient_theorems_5_6(*, solve=data.solve, quantize=fast.quantize):
    @settings(max_examples=_EXAMPLES)
    @example(("breast_cancer", 120, 6, 1.0, 0), "bfloat16", "toward_zero", 150)
    @example(("diabetes", 150, 8, 1.0, 0), "binary16", "nearest_even", 150)
    @given(_problems, st.sampled_from(_FAST), st.sampled_from(_GD_MODES),
           st.integers(10, 150))
    def test_findings_full_gradient_theorems_5_6(spec, fmt_name, mode, K):
        """Full-gradient descent with a deterministic quantiser on real data stays below
        the least of Theorem 5's and Theorem 6's bounds (findings.full_gradient_bound) at
        every k, up to the float64 evaluation of F (the bound's ``tol``)."""
        p = _slice(*spec, solve=solve)
        fmt = PRESETS[fmt_name]
        _, q_hi = theory.format_shrinkage(fmt, mode, float(fmt.x_max))
        mu = (1 - 4 * _EPS) / (p.L * float(q_hi))
        g = findings._full_gradient(p, fmt, mode, mu, K, quantizer=quantize)
        note(f"{p.name} reg={p.reg} {fmt_name} {mode} K={K} mu={mu!r} bound: {g.which}; "
             f"final gap {g.final_gap!r} bound {g.bound[-1]!r}")
        assert "exceeded X_max" not in g.which, "no theorem applies: a component overflowed"
        _assert_full_gradient("test_findings_full_gradient_theorems_5_6", g, p, fmt_name,
                              mode, K, "least of Theorems 5 and 6")
    return test_findings_full_gradient_theorems_5_6


test_findings_full_gradient_theorems_5_6 = findings_full_gradient_theorems_5_6()


# -- scaled formats on real data: the bounds where their assumptions hold exactly -----------
_Q_HI_MODES = ("toward_zero", "nearest_even", "nearest_away", "nearest_zero")


def findings_scaled_q_hi_bounds_the_ratio(*, q_hi=findings.deterministic_q_hi,
                                          quantize=fast.quantize):
    @settings(max_examples=_EXAMPLES)
    @example((SCALED_PRESETS["nvfp4"], (np.array([6.0, 0.26, 1.0, -0.3]), -1)),
             "nearest_even")
    @example((SCALED_PRESETS["mxfp4_e2m1"], (np.array([7.9, 0.26, -0.49, 3e-300]), -1)),
             "nearest_away")
    @given(sst.scaled_formats(scale=None).flatmap(
        lambda f: st.tuples(st.just(f), sst.hard_block_arrays(f))),
        st.sampled_from(_Q_HI_MODES))
    def test_findings_scaled_q_hi_bounds_the_ratio(fmt_x, mode):
        """The stepsize constant of a deterministic scaled format bounds every component's
        ratio: 0 <= Q(y)_i / y_i <= q_hi (findings.deterministic_q_hi), exactly (Fractions),
        for MX and NVFP4 (whose block and tensor scales only rescale the element's
        rounding, and whose final float64 rounding is monotone), on blocks that hit the
        hard cases (clipping, ties, subnormal scales, zero blocks)."""
        fmt, (x, axis) = fmt_x
        q = np.asarray(quantize(x, fmt, mode, axis=axis), dtype=np.float64)
        bound = q_hi(fmt, mode)
        ok = np.isfinite(x) & np.isfinite(q) & (x != 0)
        worst, at = Fraction(0), None
        for xi, qi in zip(x[ok].tolist(), q[ok].tolist()):
            r = Fraction(qi) / Fraction(xi)
            if r < 0 or r > worst:
                worst, at = (r, xi) if r >= 0 else (Fraction(-1), xi)
                if r < 0:
                    break
        note(f"{fmt.label} {mode} q_hi={bound} worst ratio {worst} at {at!r}")
        compare.assert_upper(
            "test_findings_scaled_q_hi_bounds_the_ratio",
            [(1, worst, Fraction(bound)), (2, -worst, Fraction(0))], rtol=compare.EXACT,
            context={"fmt": fmt.label, "mode": mode, "at": at},
            claim="test_findings_scaled_q_hi_bounds_the_ratio: k=1 Q(y)_i/y_i <= q_hi, "
                  "k=2 Q(y)_i/y_i >= 0")
    return test_findings_scaled_q_hi_bounds_the_ratio


test_findings_scaled_q_hi_bounds_the_ratio = findings_scaled_q_hi_bounds_the_ratio()


_MX = [n for n, f in SCALED_PRESETS.items() if f.scale == "e8m0"]


def findings_full_gradient_theorem8(*, quantize=fast.quantize):
    @settings(max_examples=_EXAMPLES)
    @example(("breast_cancer", 120, 6, 1.0, 0), "mxfp4_e2m1", "toward_zero", 150)
    @example(("diabetes", 150, 8, 1.0, 0), "mxfp8_e4m3_rceil", "nearest_even", 100)
    @given(_problems, st.sampled_from(_MX), st.sampled_from(_GD_MODES), st.integers(10, 150))
    def test_findings_full_gradient_theorem8(spec, fmt_name, mode, K):
        """Full-gradient descent with a deterministic MX block quantiser on real data stays
        below the least of Theorem 8's bounds over thresholds t
        (findings.full_gradient_bound) at every k, up to the float64 evaluation of F; mu
        from the element's q_hi (findings.deterministic_q_hi)."""
        p = _slice(*spec)
        fmt = SCALED_PRESETS[fmt_name]
        mu = (1 - 4 * _EPS) / (p.L * float(findings.deterministic_q_hi(fmt, mode)))
        g = findings._full_gradient(p, fmt, mode, mu, K, quantizer=quantize)
        note(f"{p.name} reg={p.reg} {fmt_name} {mode} K={K} mu={mu!r} bound: {g.which}; "
             f"final gap {g.final_gap!r} bound {g.bound[-1]!r}")
        assert g.theorem == "Theorem 8" and np.isfinite(g.bound[-1]), g.which
        _assert_full_gradient("test_findings_full_gradient_theorem8", g, p, fmt_name, mode, K,
                              "least of Theorem 8's bounds")
    return test_findings_full_gradient_theorem8


test_findings_full_gradient_theorem8 = findings_full_gradient_theorem8()


def findings_theorem7_stochastic_rounding(*, solve=data.solve,
                                          sampling_constants=findings.sampling_constants,
                                          quantize=fast.quantize):
    @settings(max_examples=_EXAMPLES)
    @example(("breast_cancer", 150, 6, 1.0, 0), "float8_e4m3fn", 4)
    @given(st.tuples(st.just("breast_cancer"), st.integers(40, 150), st.integers(2, 8),
                     st.floats(0.3, 1.0), st.integers(0, 200)),
           st.sampled_from([n for n in _FAST if PRESETS[n].subnormals]), st.integers(1, 8))
    def test_findings_theorem7_stochastic_rounding(spec, fmt_name, batch):
        """Minibatch SGD with stochastically rounded gradients on real logistic
        regression: mean gap - Z se <= Theorem 7's bound with the finite sum's (M, M_V)
        at every k."""
        p = _slice(*spec, solve=solve)
        fmt = PRESETS[fmt_name]
        M, M_V = sampling_constants(p, batch)
        mu, _ = findings.admissible_stepsize(p, [fmt], ["stochastic"], batch,
                                             sampling_constants=sampling_constants)
        K = 60
        res = sgd.run(p.objective, np.zeros(p.d), K=K, mu=mu,
                      oracle=Minibatch(p.objective, batch),
                      gradient=sgd.quantize(fmt, "stochastic", quantizer=quantize), runs=64,
                      seed=batch)
        mean, se = res.stats("gaps")
        bound = theory.fast.theorem7(L=p.L, c=p.c, d=p.d, M=M, M_V=M_V, fmt=fmt, mu=mu,
                                     gap=float(mean[0]), k=np.arange(1, K + 1))
        note(f"{p.name} reg={p.reg} {fmt_name} batch={batch} mu={mu!r} M={M!r} M_V={M_V!r}; "
             f"final mean {mean[-1]!r} bound {bound[-1]!r}")
        compare.assert_mc_upper(
            "test_findings_theorem7_stochastic_rounding", mean, np.nan_to_num(se, nan=0.0),
            bound, context={"problem": p.name, "fmt": fmt_name, "batch": batch, "mu": mu,
                            "M": M, "M_V": M_V, "runs": 64},
            claim="test_findings_theorem7_stochastic_rounding: mean F(w_k) - F* - z se <= "
                  "Theorem 7's bound with the finite sum's (M, M_V)")
    return test_findings_theorem7_stochastic_rounding


test_findings_theorem7_stochastic_rounding = findings_theorem7_stochastic_rounding()


def findings_slowdown_exact_model(*, solve=data.solve,
                                  predicted_slowdown=findings.predicted_slowdown):
    @settings(max_examples=_EXAMPLES)
    @example(0.5, 0.25, 1.0)
    @given(st.floats(0.2, 2.0), st.floats(0.2, 1.0), st.floats(0.1, 10.0))
    def test_findings_slowdown_exact_model(reg, q, scale):
        """With a constant shrinkage q of full gradients on ridge least squares (diabetes),
        started along the eigenvector of c, the observed slowdown (ratio of the per-step
        log decay of the gap with q = 1 and with q) equals the predicted slowdown."""
        p = _slice("diabetes", 442, 10, reg, solve=solve)
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
        predicted = predicted_slowdown(mu=mu, c=p.c, q_min=q)
        note(f"reg={reg} q={q} K={K} observed {observed!r} predicted {predicted!r} "
             f"(c={p.c!r}, lambda_min(H)={eigs[0]!r})")
        compare.assert_equal(
            "test_findings_slowdown_exact_model", observed, predicted, rtol=SLOWDOWN_RTOL,
            context={"reg": reg, "q": q, "scale": scale, "K": K},
            claim="test_findings_slowdown_exact_model: observed slowdown == predicted")
    return test_findings_slowdown_exact_model


test_findings_slowdown_exact_model = findings_slowdown_exact_model()
