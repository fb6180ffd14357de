"""lpsgd.findings on a small slice of the bundled breast cancer data (fast)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lpsgd import data, findings, theory
from lpsgd.errors import InvalidArgument


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
