"""The suite can fail: every mutant of :mod:`lpsgd.mutants` is refuted (THEORY.md section 6).

Each test substitutes one mutant for its public function, runs the properties listed for
it under the active Hypothesis profile (derandomized under ``ci``, so the refutation is
deterministic) and asserts that one of them fails.  The falsifying example Hypothesis
prints (its ``__notes__``) is recorded with :func:`lpsgd.record.mutant` for the report.

While a mutant is in place, :func:`lpsgd.record.observe` is replaced by a version that
still targets the ratio (so the search steers towards the violation) but records
nothing: the ratios a mutant produces are not the properties' results.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import pathlib

import pytest

import lpsgd.mutants as mutants
import lpsgd.record as record


def _observe_quietly(name, observed, bound, **context):
    r = record.ratio(observed, bound)
    if math.isfinite(r):
        try:
            import hypothesis

            hypothesis.target(r, label=name)
        except Exception:  # outside a test, or this label already targeted
            pass
    return r


def _property(spec: str):
    """The property function named ``"test_module::test_function"``.

    Under pytest's default import mode the test modules are importable by name (their
    folder is on sys.path); otherwise they are loaded from this folder by path.
    """
    module, func = spec.split("::")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        path = pathlib.Path(__file__).with_name(f"{module}.py")
        loader_spec = importlib.util.spec_from_file_location(f"lpsgd_properties_{module}", path)
        mod = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(mod)
    return getattr(mod, func)


def _counterexample(exc: BaseException) -> str:
    parts = [str(exc).strip()]
    for e in [exc, *getattr(exc, "exceptions", [])]:
        parts.extend(str(n) for n in getattr(e, "__notes__", []))
    return "\n".join(p for p in parts if p)


def _refute(name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the properties of mutant ``name`` with the mutant in place; return the
    counterexample text of the first one that fails (pytest.fail if none does)."""
    mutant = mutants.MUTANTS[name]
    module, attr = mutant.resolve()
    monkeypatch.setattr(module, attr, mutant.build(getattr(module, attr)))
    monkeypatch.setattr(record, "observe", _observe_quietly)
    for spec in mutant.properties:
        prop = _property(spec)
        try:
            prop()
        except (AssertionError, BaseExceptionGroup) as exc:
            text = f"{spec} failed:\n{_counterexample(exc)}"
            monkeypatch.undo()
            record.mutant(name, True, text)
            return text
    monkeypatch.undo()
    record.mutant(name, False, None)
    pytest.fail(f"mutant {name!r} ({mutant.description}) survived {mutant.properties}")


def test_mutant_registry_complete():
    """Every mutant has a test here, and every target and property exists."""
    tests = {n[len("test_mutant_"):] for n in globals() if n.startswith("test_mutant_")}
    assert set(mutants.MUTANTS) <= tests
    for m in mutants.MUTANTS.values():
        module, attr = m.resolve()
        assert callable(getattr(module, attr))
        for spec in m.properties:
            assert callable(_property(spec))


def test_mutant_theorem1_rate_without_q(monkeypatch):
    assert "test_theorem1_exact_quadratic" in _refute("theorem1_rate_without_q", monkeypatch)


def test_mutant_theorem1_floor_without_q(monkeypatch):
    assert "test_theorem1" in _refute("theorem1_floor_without_q", monkeypatch)


def test_mutant_theorem1_without_M_q(monkeypatch):
    assert "test_theorem1" in _refute("theorem1_without_M_q", monkeypatch)


def test_mutant_theorem3_without_M_q(monkeypatch):
    assert "test_theorem3" in _refute("theorem3_without_M_q", monkeypatch)


def test_mutant_theorem1_no_stepsize_check(monkeypatch):
    assert "test_theorem1_any_stepsize" in _refute("theorem1_no_stepsize_check",
                                                   monkeypatch)


def test_mutant_theorem6_q_lo_one(monkeypatch):
    assert "test_theorem6" in _refute("theorem6_q_lo_one", monkeypatch)


def test_mutant_quantize_ties_away(monkeypatch):
    assert "test_fast_matches_reference" in _refute("quantize_ties_away", monkeypatch)


def test_mutant_quantize_overflow_saturates(monkeypatch):
    assert "test_fast_matches_reference" in _refute("quantize_overflow_saturates",
                                                    monkeypatch)


def test_mutant_quantize_stochastic_no_randomness(monkeypatch):
    assert "test_stochastic" in _refute("quantize_stochastic_no_randomness", monkeypatch)


def test_mutant_theorem2_without_q(monkeypatch):
    assert "test_theorem2" in _refute("theorem2_without_q", monkeypatch)


def test_mutant_theorem2_without_M_q(monkeypatch):
    assert "test_theorem2" in _refute("theorem2_without_M_q", monkeypatch)


def test_mutant_theorem3_without_q(monkeypatch):
    assert "test_theorem3" in _refute("theorem3_without_q", monkeypatch)


def test_mutant_theorem4_without_q(monkeypatch):
    assert "test_theorem4" in _refute("theorem4_without_q", monkeypatch)


def test_mutant_theorem4_without_M_q(monkeypatch):
    assert "test_theorem4" in _refute("theorem4_without_M_q", monkeypatch)


def test_mutant_theorem1_schedule_without_q(monkeypatch):
    assert "test_theorem1_schedule" in _refute("theorem1_schedule_without_q", monkeypatch)


def test_mutant_theorem3_schedule_without_q(monkeypatch):
    assert "test_theorem3_schedule" in _refute("theorem3_schedule_without_q", monkeypatch)


def test_mutant_theorem5_q_lo_one(monkeypatch):
    assert "test_theorem5" in _refute("theorem5_q_lo_one", monkeypatch)


def test_mutant_theorem7_without_rounding_noise(monkeypatch):
    assert "test_theorem7" in _refute("theorem7_without_rounding_noise", monkeypatch)


def test_mutant_theorem2_no_stepsize_check(monkeypatch):
    assert "test_theorem2_any_stepsize" in _refute("theorem2_no_stepsize_check", monkeypatch)


def test_mutant_theorem3_no_stepsize_check(monkeypatch):
    assert "test_theorem3_any_stepsize" in _refute("theorem3_no_stepsize_check", monkeypatch)


def test_mutant_theorem4_no_stepsize_check(monkeypatch):
    assert "test_theorem4_any_stepsize" in _refute("theorem4_no_stepsize_check", monkeypatch)


# -- every property fails on its own on at least one mutant --------------------------------

def test_mutant_theorem1_rate_without_q_montecarlo(monkeypatch):
    assert "test_theorem1_montecarlo" in _refute("theorem1_rate_without_q_montecarlo",
                                                 monkeypatch)


def test_mutant_theorem2_without_gap_montecarlo(monkeypatch):
    assert "test_theorem2_montecarlo" in _refute("theorem2_without_gap_montecarlo",
                                                 monkeypatch)


def test_mutant_theorem3_without_M_q_montecarlo(monkeypatch):
    assert "test_theorem3_montecarlo" in _refute("theorem3_without_M_q_montecarlo",
                                                 monkeypatch)


def test_mutant_theorem4_without_M_q_montecarlo(monkeypatch):
    assert "test_theorem4_montecarlo" in _refute("theorem4_without_M_q_montecarlo",
                                                 monkeypatch)


def test_mutant_theorem1_floor_doubled(monkeypatch):
    assert "test_reduction_to_classical" in _refute("theorem1_floor_doubled", monkeypatch)


def test_mutant_moments_q_divides(monkeypatch):
    assert "test_gap_monotone_in_q" in _refute("moments_q_divides", monkeypatch)


def test_mutant_shrink_twice(monkeypatch):
    assert "test_effective_stepsize_equivalence" in _refute("shrink_twice", monkeypatch)


def test_mutant_iterations_ignore_q(monkeypatch):
    assert "test_iterations_to_eps_slowdown" in _refute("iterations_ignore_q", monkeypatch)


def test_mutant_quantize_up_moves_exact(monkeypatch):
    assert "test_quantize_idempotent" in _refute("quantize_up_moves_exact", monkeypatch)


def test_mutant_quantize_nearest_truncates(monkeypatch):
    assert "test_quantize_error_within_spacing" in _refute("quantize_nearest_truncates",
                                                           monkeypatch)


def test_mutant_quantize_overflow_to_zero(monkeypatch):
    assert "test_quantize_monotone" in _refute("quantize_overflow_to_zero", monkeypatch)


def test_mutant_quantize_loses_negative_zero(monkeypatch):
    assert "test_quantize_sign_symmetric" in _refute("quantize_loses_negative_zero",
                                                     monkeypatch)


def test_mutant_quantize_stochastic_no_randomness_rng(monkeypatch):
    assert "test_fast_matches_reference_stochastic" in _refute(
        "quantize_stochastic_no_randomness_rng", monkeypatch)


def test_mutant_quantize_stochastic_no_randomness_uniforms(monkeypatch):
    assert "test_fast_matches_reference_uniforms" in _refute(
        "quantize_stochastic_no_randomness_uniforms", monkeypatch)


def test_mutant_quantize_overflow_saturates_stress(monkeypatch):
    assert "test_fast_matches_reference_stress" in _refute(
        "quantize_overflow_saturates_stress", monkeypatch)


def test_mutant_theorem1_without_M_q_dense(monkeypatch):
    assert "test_theorem1_exact_dense_quadratic" in _refute("theorem1_without_M_q_dense",
                                                            monkeypatch)


def test_mutant_quantize_ties_away_ties(monkeypatch):
    assert "test_fast_matches_reference_ties" in _refute("quantize_ties_away_ties",
                                                         monkeypatch)



def test_mutant_scaled_scale_float_log2(monkeypatch):
    assert "test_scaled_fast_matches_reference" in _refute("scaled_scale_float_log2",
                                                           monkeypatch)


def test_mutant_nvfp4_tensor_scale_float64(monkeypatch):
    assert "test_nvfp4_fast_matches_reference" in _refute("nvfp4_tensor_scale_float64",
                                                          monkeypatch)


def test_mutant_theorem8_without_clipping(monkeypatch):
    assert "test_theorem8_step_certificate" in _refute("theorem8_without_clipping",
                                                       monkeypatch)


def test_mutant_theorem8_without_loss(monkeypatch):
    assert "test_theorem8_gradient_descent" in _refute("theorem8_without_loss", monkeypatch)


def test_mutant_theorem9_on_floor(monkeypatch):
    assert "biased" in _refute("theorem9_on_floor", monkeypatch)


def test_mutant_theorem9_delta_without_scale(monkeypatch):
    assert "test_theorem9_stochastic_rounding" in _refute("theorem9_delta_without_scale",
                                                          monkeypatch)

def test_mutant_data_f_star_high(monkeypatch):
    assert "test_findings_f_star_certified" in _refute("data_f_star_high", monkeypatch)


def test_mutant_data_f_star_low(monkeypatch):
    assert "test_findings_full_gradient_theorems_5_6" in _refute("data_f_star_low",
                                                                 monkeypatch)


def test_mutant_findings_no_sampling_noise(monkeypatch):
    assert "test_findings_theorem7_stochastic_rounding" in _refute(
        "findings_no_sampling_noise", monkeypatch)


def test_mutant_findings_slowdown_without_q(monkeypatch):
    assert "test_findings_slowdown_exact_model" in _refute("findings_slowdown_without_q",
                                                           monkeypatch)


#: Properties without a mutant of their own, and why.
NO_WITNESS = {
    "test_floor_grows_as_precision_falls":
        "compares the floors of two bounds; no plausible bug in the bridges reverses them",
    "test_fast_matches_reference_regressions":
        "pinned inputs of bugs already fixed; a plain bitwise comparison",
}


def test_every_property_fails_alone_on_some_mutant():
    """Each property is the only property of at least one mutant, so its own failure is
    demonstrated (by the test_mutant_* test of that mutant), except the listed ones."""
    import re

    alone = {m.properties[0].split("::")[1] for m in mutants.MUTANTS.values()
             if len(m.properties) == 1}
    here = pathlib.Path(__file__).parent
    props = {name for f in here.glob("test_prop_*.py")
             for name in re.findall(r"^def (test_\w+)", f.read_text(), re.M)}
    assert props - alone == set(NO_WITNESS), sorted(props - alone)
