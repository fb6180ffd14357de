"""lpsgd.worstcase: closed forms, bad input, solver failures, the mutants the worst-case
properties refute on their own, and the report sweep."""

from __future__ import annotations

import math

import pytest

import lpsgd.record as record
import lpsgd.theory as theory
import lpsgd.worstcase as wc
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.suite import worstcase as suite_wc

try:
    from lpsgd.mutants import MUTANTS
except ImportError:  # moved into the suite package
    from lpsgd.suite.mutants import MUTANTS

#: Closed forms are pinned to this relative error (the solver is asked for 1e-8).
CLOSED_FORM_RTOL = 1e-6


# -- closed forms ---------------------------------------------------------------------------
@pytest.mark.parametrize("L, c, mu, q, n, gap", [
    (2.0, 0.3, 0.8, 0.5, 1, 3.0),
    (2.0, 0.3, 0.8, 0.5, 2, 3.0),
    (2.0, 0.3, 0.8, 0.5, 5, 3.0),
    (1.0, 0.1, 1.0, 1.0, 4, 1.0),    # eta = 1/L exactly
    (4.0, 1.0, 0.125, 0.25, 3, 0.5),
])
def test_gradient_descent_closed_form(L, c, mu, q, n, gap):
    """eta = mu q <= 1/L: the worst F(w_{n+1}) - F* is (1 - eta c)^(2n) gap, i.e.
    (1 - eta c)^(2(k-1)) gap at k = n + 1 (attained by c x^2 / 2)."""
    r = wc.gradient_descent_gap(L=L, c=c, mus=[mu] * n, qs=[q] * n, gap=gap)
    want = (1 - mu * q * c) ** (2 * n) * gap
    assert r.value == pytest.approx(want, rel=CLOSED_FORM_RTOL)
    assert r.status == "optimal" and r.accuracy <= wc.WORSTCASE_RTOL / 10
    assert r.size == n + 3  # x*, w_1 and the gradients at w_1..w_{n+1}


@pytest.mark.parametrize("L, c, mu, q, M, M_q, gap", [
    (2.0, 0.3, 0.8, 0.5, 0.3, 0.1, 3.0),
    (1.0, 0.25, 1.0, 0.25, 0.0, 1.0, 0.0),   # from the minimiser: noise alone
    (1.0, 0.5, 0.5, 1.0, 2.0, 0.0, 1.0),
])
def test_one_noisy_step_closed_form(L, c, mu, q, M, M_q, gap):
    """One step of w - mu (q grad F + n) with E||n||^2 <= B = q^2 M + M_q and
    eta = mu q <= 1/L: (1 - eta c)^2 gap + L mu^2 B / 2 (here mu is the nominal stepsize,
    so the noise enters as mu^2 B; the descent part as the effective eta = mu q).  Upper
    bound: E F(x - mu n) <= F(x) + L mu^2 E||n||^2 / 2 for zero-mean n; attained by
    c x^2/2 + L y^2/2 with the noise along y."""
    r = wc.scenario_tree_gap(L=L, c=c, mus=[mu], qs=[q], M=M, M_q=M_q, gap=gap)
    B = q * q * M + M_q
    want = (1 - mu * q * c) ** 2 * gap + L * mu * mu * B / 2
    assert r.value == pytest.approx(want, rel=CLOSED_FORM_RTOL)


def test_nonconvex_one_step_closed_form():
    """K = 1: ||grad F(w_1)||^2 <= 2 L (F(w_1) - F_inf) for L-smooth F bounded below, and
    the relaxation reaches it."""
    r = wc.nonconvex_average_gradient(L=2.0, mu=0.5, qs=[0.5], gap=1.0)
    assert r.value == pytest.approx(4.0, rel=CLOSED_FORM_RTOL)


def test_theorem1_equals_worst_case_from_the_minimiser():
    """From w_1 = x*, one step: Theorem 1's bound F_q (1 - r) = L mu^2 B / 2 is the worst
    case exactly (the equality the floor property's explicit example relies on)."""
    b = theory.theorem1(L=1.0, c=0.5, M=0, M_V=0, M_q=1.0, mu=1.0, q_min=0.25, q_max=0.25,
                        gap=0, k=2)
    r = wc.scenario_tree_gap(L=1.0, c=0.5, mus=[1.0], qs=[0.25], M=0, M_q=1.0, gap=0)
    assert r.value == pytest.approx(float(b), rel=CLOSED_FORM_RTOL)


def test_zero_gap_without_noise_is_trivial():
    r = wc.gradient_descent_gap(L=1.0, c=0.5, mus=[1.0], qs=[1.0], gap=0)
    assert r.value == 0 and r.status == "trivial"


def test_worst_case_scales_with_the_class():
    """G = 2F has constants (2L, 2c), and gradient descent on G with halved stepsizes visits
    the points it visits on F, so worst_(2L,2c)(gap) = 2 worst_(L,c)(gap/2) = worst_(L,c)(gap)
    (the noise-free worst case is linear in gap): a check of the rescaling to L = 1 the
    programs are solved in."""
    a = wc.gradient_descent_gap(L=1.0, c=0.2, mus=[0.5, 0.75], qs=[1.0, 0.5], gap=2.0)
    b = wc.gradient_descent_gap(L=2.0, c=0.4, mus=[0.25, 0.375], qs=[1.0, 0.5], gap=2.0)
    assert a.value == pytest.approx(b.value, rel=CLOSED_FORM_RTOL)


# -- bad input ------------------------------------------------------------------------------
_GD = dict(L=1.0, c=0.5, mus=[1.0], qs=[1.0], gap=1.0)
_TREE = dict(L=1.0, c=0.5, mus=[0.5], qs=[1.0], M=1.0, M_q=0.0, gap=1.0)
_ADV = dict(L=1.0, c=0.5, mu=0.5, q_lo=0.5, q_hi=1.0, steps=2, gap=1.0)


@pytest.mark.parametrize("fn, overrides, name", [
    (wc.gradient_descent_gap, {"c": 1.0}, "c"),            # c = L: the solver package fails
    (wc.gradient_descent_gap, {"c": 2.0}, "c"),
    (wc.gradient_descent_gap, {"c": 0.0}, "c"),
    (wc.gradient_descent_gap, {"L": -1.0}, "L"),
    (wc.gradient_descent_gap, {"L": math.nan}, "L"),
    (wc.gradient_descent_gap, {"mus": [2.0]}, "eta"),      # eta = 2/L
    (wc.gradient_descent_gap, {"mus": [-1.0]}, "mus[0]"),
    (wc.gradient_descent_gap, {"qs": [0.0]}, "qs[0]"),
    (wc.gradient_descent_gap, {"qs": [1.5]}, "qs[0]"),
    (wc.gradient_descent_gap, {"qs": [1.0, 1.0]}, "len(qs)"),
    (wc.gradient_descent_gap, {"mus": [], "qs": []}, "mus"),
    (wc.gradient_descent_gap, {"mus": [0.1] * 41, "qs": [1.0] * 41}, "len(mus)"),
    (wc.gradient_descent_gap, {"gap": -1.0}, "gap"),
    (wc.gradient_descent_gap, {"mus": "1"}, "mus"),
    (wc.gradient_descent_gap, {"solver_options": 3}, "solver_options"),
    (wc.scenario_tree_gap, {"mus": [0.5] * 5, "qs": [1.0] * 5}, "len(mus)=5"),
    (wc.scenario_tree_gap, {"mus": [0.5] * 3, "qs": [1.0] * 3, "branches": 3}, "branches=3"),
    (wc.scenario_tree_gap, {"branches": 1}, "branches"),
    (wc.scenario_tree_gap, {"M": -1.0}, "M"),
    (wc.scenario_tree_gap, {"M_q": math.inf}, "M_q"),
    (wc.adversarial_direction_gap, {"steps": 0}, "steps"),
    (wc.adversarial_direction_gap, {"q_hi": 0.25}, "q_hi"),
    (wc.adversarial_direction_gap, {"mu": 2.0}, "mu"),
    (wc.adversarial_direction_gap, {"q_lo": 0.0}, "q_lo"),
])
def test_bad_input_names_the_argument(fn, overrides, name):
    base = {wc.gradient_descent_gap: _GD, wc.scenario_tree_gap: _TREE,
            wc.adversarial_direction_gap: _ADV}[fn]
    with pytest.raises(InvalidArgument, match=name.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        fn(**{**base, **overrides})


@pytest.mark.parametrize("fn, kw", [
    (wc.nonconvex_average_gradient, dict(L=1.0, mu=3.0, qs=[1.0])),
    (wc.nonconvex_weighted_gradient, dict(L=1.0, mus=[1.0, 2.5], qs=[1.0, 1.0])),
])
def test_bad_stepsize_nonconvex(fn, kw):
    with pytest.raises(InvalidArgument, match="eta"):
        fn(**kw)


def test_non_optimal_status_raises():
    """A solver stopped early (2 iterations) does not report optimal: SolverError, no value."""
    with pytest.raises(wc.SolverError, match="status"):
        wc.gradient_descent_gap(L=1.0, c=0.1, mus=[1.0] * 3, qs=[1.0] * 3,
                                solver_options={"max_iter": 2})
    # not a refused assumption: a property that skips refused examples cannot skip it
    assert not issubclass(wc.SolverError, AssumptionError)


# -- the mutants the worst case refutes on its own -------------------------------------------
#: Rate and stepsize mutants of lpsgd's theorems that a worst-case property refutes alone,
#: with the factory that does it.
REFUTED_BY_WORSTCASE = {
    "theorem1_rate_without_q": "theorem1_worstcase",
    "theorem1_rate_without_q_montecarlo": "theorem1_worstcase",
    "theorem1_no_stepsize_check": "theorem1_worstcase",
    "theorem1_floor_without_q": "theorem1_noise_worstcase",
    "theorem1_without_M_q": "theorem1_noise_worstcase",
    "theorem1_without_M_q_dense": "theorem1_noise_worstcase",
    "theorem2_no_stepsize_check": "theorem2_worstcase",
    "theorem2_without_gap_montecarlo": "theorem2_worstcase",
    "theorem2_without_M_q": "theorem2_noise_worstcase",
    "theorem3_without_q": "theorem3_worstcase",
    "theorem3_no_stepsize_check": "theorem3_worstcase",
    "theorem4_without_q": "theorem4_worstcase",
    "theorem4_no_stepsize_check": "theorem4_worstcase",
    "theorem5_q_lo_one": "theorem5_worstcase",
}
#: Mutants of the same theorems the worst-case properties do not refute, and why.
NOT_REFUTED_BY_WORSTCASE = {
    "theorem1_floor_doubled": "a valid (larger) bound; only the reduction to the classical "
                              "theorem can see it",
    "theorem2_without_q": "changes only nu's noise term, which needs more steps than a "
                          "scenario tree can hold (at most 4) to exceed the start term",
    "theorem3_without_M_q": "the nonconvex formulations have no noise",
    "theorem3_without_M_q_montecarlo": "the nonconvex formulations have no noise",
    "theorem4_without_M_q": "the nonconvex formulations have no noise",
    "theorem4_without_M_q_montecarlo": "the nonconvex formulations have no noise",
}


def _slot(mutant) -> str:
    target = getattr(mutant, "target", "")
    return getattr(mutant, "slot", None) or str(target).split(":")[-1]


def test_mutant_lists_cover_the_checked_theorems():
    """Every mutant of Theorems 1-5 is listed, and the registry's worst-case mutants
    (refuted in properties/test_mutants.py) are the listed ones with their factory."""
    checked = {n for n, m in MUTANTS.items()
               if _slot(m) in suite_wc.FACTORIES and n not in suite_wc.MUTANTS}
    assert checked == set(REFUTED_BY_WORSTCASE) | set(NOT_REFUTED_BY_WORSTCASE)
    for name, m in suite_wc.MUTANTS.items():
        base = name.removesuffix("_worstcase")
        assert m.properties == (f"test_prop_worstcase::{REFUTED_BY_WORSTCASE[base]}",)


def _refutes(name: str, **options) -> None:
    mutant = MUTANTS[name]
    slot = _slot(mutant)
    factory = getattr(suite_wc, REFUTED_BY_WORSTCASE[name])
    prop = factory(**{slot: mutant.build(getattr(theory, slot))}, shrink=False, **options)
    with record.quiet(), pytest.raises((AssertionError, BaseExceptionGroup)):
        prop()


@pytest.mark.parametrize("name", sorted(n for n in REFUTED_BY_WORSTCASE
                                        if f"{n}_worstcase" not in suite_wc.MUTANTS))
def test_worstcase_property_refutes_mutant(name):
    """The listed mutants (those with a registered ``<name>_worstcase`` twin are refuted in
    properties/test_mutants.py)."""
    _refutes(name)


def test_rate_mutant_refuted_by_generated_draws_alone():
    """Theorem 1 without q_min in the rate fails on the drawn examples too, without the
    property's explicit examples."""
    _refutes("theorem1_rate_without_q", explicit=False)


# -- the report sweep -----------------------------------------------------------------------
def test_worstcase_sweep(tmp_path):
    from lpsgd.report.worstcase_sweep import worstcase_sweep

    out = worstcase_sweep(profile="ci", seed=0, outdir=tmp_path)
    assert out["status"] == "ok"
    assert all((tmp_path / img).is_file() for img in out["images"])
    curves = out["data"]["curves"]
    # the table's numbers are the computed ones
    t1 = curves["Theorem 1, no noise, q=1"]
    row = out["tables"][0]["rows"][0]
    assert row[1] == t1["k"][-1]
    assert float(row[2]) == pytest.approx(t1["bound"][-1], rel=1e-5)
    assert float(row[3]) == pytest.approx(t1["worst"][-1], rel=1e-5)
    assert float(row[4]) == pytest.approx(t1["ratio"][-1], rel=1e-3)
    # "the rate is the square root of the exact one": bound / worst = (1 - mu c)^-(k-1)
    L, c, mu = out["data"]["L"], out["data"]["c"], out["data"]["mu"]
    for k, r in zip(t1["k"], t1["ratio"]):
        assert r == pytest.approx((1 - mu * c) ** -(k - 1), rel=1e-5)
    # caption direction: every bound is above its worst case
    ratios = [r for cur in curves.values() for r in cur["ratio"]]
    assert min(ratios) >= 1 - wc.WORSTCASE_RTOL
    assert "Every bound is above its worst case" in out["caption"]
