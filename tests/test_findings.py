"""lpsgd.findings on a small slice of the bundled breast cancer data (fast), and with scaled
formats (MX, NVFP4) on the bundled data."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest

import lpsgd.fast as fast
from lpsgd import data, findings, theory
from lpsgd.errors import InvalidArgument
from lpsgd.scaled import SCALED_PRESETS


@pytest.fixture(scope="module")
def small():
    X, y, names, _ = data._bundled_arrays("breast_cancer")
    return data.from_arrays(X[:150, :6], y[:150], loss="logistic", name="cancer-slice",
                            names=names[:6])


@pytest.fixture(scope="module")
def result(small):
    cfg = findings.FindingsConfig(problem=small, formats=("bf16", "float8_e4m3fn", "e2m1"),
                                  roundings=("toward_zero", "stochastic"), runs=6, steps=40,
                                  batch=8, seed=3, gd_steps=30)
    return findings.run_findings(cfg)


def test_config_validation():
    with pytest.raises(InvalidArgument, match="fp8"):
        findings.FindingsConfig(formats=("fp8",)).validated()   # ambiguous alias
    with pytest.raises(InvalidArgument, match="roundings"):
        findings.FindingsConfig(roundings=("nearest",)).validated()
    with pytest.raises(InvalidArgument, match="runs >= 2"):
        findings.FindingsConfig(runs=1).validated()
    with pytest.raises(InvalidArgument, match="formats"):
        findings.FindingsConfig(formats="bfloat16").validated()


def test_stepsize_admissible(small, result):
    mu, why = result.mu, result.mu_rule
    assert mu <= 1 / small.L
    # round to nearest is absent: q_hi = 1 for toward_zero; SR of e2m1 sets M_G'
    assert "float4_e2m1fn" in why and mu == pytest.approx(1 / (small.L * (1 + 1 / 16)))
    with pytest.raises(InvalidArgument, match="no admissible stepsize"):
        findings.admissible_stepsize(small, [findings.FindingsConfig().validated().formats[0]],
                                     ["up"], 8)


def test_measurements_replay_from_seed(small, result):
    again = findings.run_findings(result.config)
    for a, b in zip(result.configs, again.configs):
        assert np.array_equal(a.q_mean, b.q_mean, equal_nan=True)
        assert np.array_equal(a.gap_mean, b.gap_mean)
    assert result.eps == again.eps


def test_shrinkage_measured_as_projection(result):
    tz = result.get("float4_e2m1fn", "toward_zero")
    assert np.all(tz.q_mean[~np.isnan(tz.q_mean)] <= 1)     # truncation never enlarges
    bf = result.get("bfloat16", "toward_zero")
    assert 0.99 < bf.q_hat < 1
    assert tz.q_hat < bf.q_hat
    assert result.baseline.q_hat == 1.0 and result.baseline.underflow == 0


def test_predicted_slowdown_is_theorem1_ratio():
    v = findings.predicted_slowdown(mu=0.1, c=0.5, q_min=0.5)
    assert v == pytest.approx(float(theory.asymptotic_slowdown(mu=0.1, c=0.5, q_min=0.5)))
    assert v >= 2
    assert findings.predicted_slowdown(mu=0.1, c=0.5, q_min=0) == math.inf


def test_hitting_time():
    mean = np.array([4.0, 2.0, 1.0, 0.5])
    se = np.array([0.0, 0.5, 0.5, 0.1])
    assert findings.hitting_time(mean, se, 1.0, 2.0) == (3, 2, 4)
    assert findings.hitting_time(mean, se, 0.1, 2.0) == (None, 3, None)


def test_checks_and_theorems(result):
    names = {c.name: c for c in result.checks}
    assert names["Theorem 7 bfloat16 stochastic"].status == "holds"
    for g in result.gd:
        assert g.holds, g.summary()
    assert {c.finding for c in result.checks} == {"F1", "F2", "F3"}
    assert all(c.false_alarm for c in result.checks if c.finding != "F3"
               or "order" in c.name)
    assert result.z > 3


def test_report_section(result, tmp_path):
    md = result.markdown(plots_dir="plots")
    assert "F* =" in md and "Theorem 1 ratio" in md and "![" in md
    assert "not zero-mean given g" in md
    html = result.html()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html
    d = json.loads(json.dumps(result.as_dict()))
    assert d["schema"] == findings.SCHEMA and len(d["configs"]) == 6
    paths = findings.plots(result, tmp_path)
    assert [p.name for p in paths] == ["findings_q.png", "findings_gaps.png",
                                       "findings_slowdown.png", "findings_floors.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


# -- scaled formats (MX, NVFP4) ---------------------------------------------------------------
def test_scaled_formats_accepted_and_resolved():
    from lpsgd.formats import PRESETS
    from lpsgd.scaled import ScaledFormat

    own = ScaledFormat("float8_e5m2", block_size=8, rule="ceil")
    cfg = findings.FindingsConfig(formats=("mxfp8_e4m3", "mxfp4_e2m1_rceil", "mxint8", "nvfp4",
                                           own, "e4m3fn", "mxfp8_e4m3")).validated()
    assert cfg.formats == (SCALED_PRESETS["mxfp8_e4m3"], SCALED_PRESETS["mxfp4_e2m1_rceil"],
                           SCALED_PRESETS["mxint8"], SCALED_PRESETS["nvfp4"], own,
                           PRESETS["float8_e4m3fn"])                 # duplicates dropped
    assert cfg.as_dict()["formats"][:2] == ["mxfp8_e4m3", "mxfp4_e2m1_rceil"]
    for bad, hint in (("mxfp4", "mxfp4_e2m1"), ("mxfp8_e4m", "mxfp8_e4m3"),
                      ("nvfp", "nvfp4"), ("fp9", "fp8")):
        with pytest.raises(InvalidArgument, match=f"formats='{bad}'.*scaled preset.*"
                                                  f"Did you mean '{hint}'"):
            findings.FindingsConfig(formats=(bad,)).validated()
    with pytest.raises(InvalidArgument, match="formats"):
        findings.FindingsConfig(formats=SCALED_PRESETS["nvfp4"]).validated()
    with pytest.raises(InvalidArgument, match="formats to hold format names.*3.5"):
        findings.FindingsConfig(formats=(3.5,)).validated()
    # constants read from the element
    assert findings.format_kind(PRESETS["bfloat16"]) == "unscaled"
    assert findings.format_kind(own) == "e8m0 ceil, blocks of 8"
    assert findings.deterministic_q_hi(SCALED_PRESETS["mxfp4_e2m1"], "toward_zero") == 1
    assert findings.deterministic_q_hi(SCALED_PRESETS["nvfp4"], "nearest_even") == \
        theory.format_shrinkage(PRESETS["float4_e2m1fn"], "nearest_even", 6.0)[1]
    # Theorem 9's M_G' for rceil: delta = (4^-m + n_B s_f^2 kappa^2)/4, E2M1: m = 1,
    # s_f = 1/2, kappa = 2/X_f = 1/3, n_B = 32
    delta = (Fraction(1, 4) + 32 * Fraction(1, 4) * Fraction(1, 9)) / 4
    m, why = findings.stochastic_m_g(SCALED_PRESETS["mxfp4_e2m1_rceil"], 0.5)
    assert m == pytest.approx(float((1 + delta) * Fraction(3, 2)), rel=1e-15)
    assert "Theorem 9" in why
    assert findings.stochastic_m_g(SCALED_PRESETS["mxfp4_e2m1"], 0.5) == (
        1.0, "no theorem applies")


def test_ordered_pairs_within_one_kind():
    from lpsgd.formats import PRESETS
    from lpsgd.scaled import SCALED_PRESETS as S

    e4, e2 = PRESETS["float8_e4m3fn"], PRESETS["float4_e2m1fn"]
    fmts = [e4, S["mxfp8_e4m3"], e2, S["mxfp4_e2m1"], S["mxfp4_e2m1_rceil"]]
    # unscaled with unscaled, MX floor with MX floor; the rceil format has no partner of
    # its rule, and no pair crosses kinds
    assert findings._ordered_pairs(fmts) == [(e4, e2), (S["mxfp8_e4m3"], S["mxfp4_e2m1"])]
    assert findings.scaled_twins(fmts) == [(e4, S["mxfp8_e4m3"]), (e2, S["mxfp4_e2m1"]),
                                           (e2, S["mxfp4_e2m1_rceil"])]


@pytest.mark.parametrize("name", ["mxfp8_e4m3", "mxfp4_e2m1", "mxfp4_e2m1_rceil", "mxint8",
                                  "nvfp4"])
def test_clipped_fraction_matches_the_encoded_scales(name):
    """clipped_fraction counts |g_i| > X_f s_B with s_B (and S) as the reference encoder
    decides them: the same count on seeded data spanning many binades."""
    from lpsgd.reference.scaled import encode

    fmt = SCALED_PRESETS[name]
    rng = np.random.default_rng(7)
    g = rng.standard_normal((4, 70)) * np.exp2(rng.integers(-20, 20, (4, 1)))
    clipped = 0
    for row in g:
        enc = encode(row, fmt)
        s_b = np.repeat(enc.scales, fmt.block_size)[:row.size] / enc.tensor_scale
        clipped += int(np.sum(np.abs(row) > float(fmt.x_f) * s_b))
    assert findings.clipped_fraction(fmt, g) == clipped / g.size
    if fmt.rule in ("ceil", "rceil"):
        assert clipped == 0            # the scale rule leaves room for the block maximum
    elif name != "mxint8":
        assert clipped > 0             # floor (and nearest E4M3 scales) clip some maxima


@pytest.fixture(scope="module")
def scaled_result():
    """A default-sized run (breast cancer, 32 runs x 600 steps) with one MX format and its
    unscaled twin."""
    cfg = findings.FindingsConfig(formats=("float4_e2m1fn", "mxfp4_e2m1_rceil"),
                                  roundings=("toward_zero", "stochastic"), seed=0,
                                  gd_steps=100)
    return findings.run_findings(cfg)


def test_scaled_run_theorems_and_stepsize(scaled_result):
    r = scaled_result
    names = {c.name: c for c in r.checks}
    assert names["Theorem 9 mxfp4_e2m1_rceil stochastic"].status == "holds"
    assert names["Theorem 8 mxfp4_e2m1_rceil toward_zero"].status == "holds"
    assert names["Theorems 5/6 float4_e2m1fn toward_zero"].status == "holds"
    assert all(g.holds for g in r.gd)
    # Theorem 9's M_G' > Theorem 7's for e2m1 and > q_hi = 1 of truncation: it sets mu
    m, _ = findings.stochastic_m_g(findings.resolve_findings_format("mxfp4_e2m1_rceil"),
                                   r.M_V)
    assert "Theorem 9" in r.mu_rule and r.mu == (1 - 4 * findings._EPS) / (r.problem.L * m)
    d = r.as_dict()
    kinds = {(c["format"], c["rounding"]): c["kind"] for c in d["configs"]}
    assert kinds[("mxfp4_e2m1_rceil", "stochastic")] == "e8m0 rceil, blocks of 32"


def test_block_scaling_removes_most_underflow(scaled_result):
    """F1's block-scaling claim, computed from the data: minibatch gradients of the
    problem at w = 0 and at w*, quantised directly, flush far fewer components with the
    block scale; the runner's check agrees with its own measurements."""
    from lpsgd.objectives import Minibatch

    r = scaled_result
    oracle = Minibatch(r.problem.objective, 32)
    rng = np.random.default_rng(0)
    g = np.stack([oracle.sample(w, rng) for w in (np.zeros(r.problem.d),
                                                  r.problem.solution.w_star)
                  for _ in range(8)])
    nz = g != 0
    under = {}
    for name in ("float4_e2m1fn", "mxfp4_e2m1_rceil"):
        q = np.stack([fast.quantize(row, findings.resolve_findings_format(name),
                                    "toward_zero") for row in g])
        under[name] = np.sum((q == 0) & nz) / np.sum(nz)
    assert under["mxfp4_e2m1_rceil"] < under["float4_e2m1fn"] / 2
    for mode in ("toward_zero", "stochastic"):
        c = {x.name: x for x in r.checks}[f"block scaling {mode} float4_e2m1fn -> "
                                          f"mxfp4_e2m1_rceil"]
        a, b = r.get("float4_e2m1fn", mode), r.get("mxfp4_e2m1_rceil", mode)
        assert b.underflow < a.underflow / 2 and c.status == "confirmed"
        assert c.observed["underflow_scaled"] == b.underflow
    md = r.markdown()
    assert "Block scaling (float4_e2m1fn -> mxfp4_e2m1_rceil" in md
    assert "each gradient is one block" in md          # d = 31 <= 32


def test_scaled_report_and_plots(scaled_result, tmp_path):
    paths = findings.write_report(scaled_result, tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths if p.suffix == ".png")
    d = json.loads((tmp_path / "results.json").read_text())
    assert d["config"]["formats"] == ["float4_e2m1fn", "mxfp4_e2m1_rceil"]
    assert "e8m0 rceil, blocks of 32" in (tmp_path / "report.html").read_text()


def test_floor_and_nvfp4_theorems_not_applicable(small):
    cfg = findings.FindingsConfig(problem=small, formats=("mxfp4_e2m1", "nvfp4"),
                                  roundings=("toward_zero", "stochastic"), runs=4, steps=12,
                                  batch=8, seed=1, gd_steps=10)
    r = findings.run_findings(cfg)
    names = {c.name: c for c in r.checks}
    assert names["Theorem 9 mxfp4_e2m1 stochastic"].status == "not applicable"
    assert "ceil or rceil" in names["Theorem 9 mxfp4_e2m1 stochastic"].detail
    assert names["Theorem 9 nvfp4 stochastic"].status == "not applicable"
    assert "e4m3 block scale" in names["Theorem 9 nvfp4 stochastic"].detail
    assert names["Theorem 8 nvfp4 toward_zero"].status == "not applicable"
    assert names["Theorem 8 mxfp4_e2m1 toward_zero"].status == "holds"
    assert [g.fmt for g in r.gd] == ["mxfp4_e2m1"]          # GD not run for nvfp4
    assert r.as_dict()["full_gradient_not_applicable"][0]["format"] == "nvfp4"
