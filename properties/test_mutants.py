"""The suite can fail: every mutant of :mod:`lpsgd.suite.mutants` is refuted.

A mutant is a wrong implementation of one function.  Each test here calls the property
factories listed for it with the mutant in their keyword slot
(``factory(**{mutant.slot: mutant.implementation()})``), runs the returned Hypothesis
tests under the active profile (derandomized under ``lpsgd-ci``, so the refutation is
deterministic) and asserts that one of them fails.  lpsgd's modules are never modified.

The runs happen inside :func:`lpsgd.record.quiet`: the ratios a mutant produces are not the
properties' results (they are still passed to ``hypothesis.target``, so the search steers
towards the violation).  The counterexample recorded for the report with
:func:`lpsgd.record.mutant` is the message of the last failing comparison of
:mod:`lpsgd.suite.compare`, which is the example Hypothesis shrank to (it replays that one
last), or the assertion message itself when the property failed outside a comparison.
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import re

import pytest

import lpsgd.record as record
from lpsgd.suite.mutants import MUTANTS


def _module(name: str):
    """The test module ``name`` of this folder.

    Under pytest's default import mode the test modules are importable by name (their
    folder is on sys.path); otherwise they are loaded from this folder by path.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        path = pathlib.Path(__file__).with_name(f"{name}.py")
        spec = importlib.util.spec_from_file_location(f"lpsgd_properties_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod


def _attribute(spec: str):
    """The object named ``"test_module::name"``."""
    module, name = spec.split("::")
    return getattr(_module(module), name)


def _failure_text(exc: BaseException, log: list[record.Claim]) -> str:
    failed = [c.failure for c in log if c.failure is not None]
    if failed:
        return failed[-1]
    return str(exc).strip() or type(exc).__name__


def _refute(name: str) -> str:
    """Run the properties of mutant ``name`` with the mutant injected; return the
    counterexample text of the first one that fails (pytest.fail if none does)."""
    mutant = MUTANTS[name]
    implementation = mutant.implementation()
    for spec in mutant.properties:
        factory = _attribute(spec)
        prop = factory(**{mutant.slot: implementation})
        with record.quiet() as log:
            try:
                prop()
            except (AssertionError, BaseExceptionGroup) as exc:
                text = f"{spec} failed:\n{_failure_text(exc, log)}"
                record.mutant(name, True, text)
                return text
    record.mutant(name, False, None)
    pytest.fail(f"mutant {name!r} ({mutant.description}) survived {mutant.properties}")


def test_mutant_registry_complete():
    """Every mutant has a test here; every slot is a keyword of its factories, whose
    default is the implementation the mutant stands in for."""
    import inspect

    tests = {n[len("test_mutant_"):] for n in globals() if n.startswith("test_mutant_")}
    assert set(MUTANTS) <= tests, sorted(set(MUTANTS) - tests)
    for m in MUTANTS.values():
        assert callable(m.original) and callable(m.implementation())
        for spec in m.properties:
            factory = _attribute(spec)
            param = inspect.signature(factory).parameters.get(m.slot)
            assert param is not None and param.kind is param.KEYWORD_ONLY, (spec, m.slot)
            assert param.default is m.original, (spec, m.slot, param.default, m.original)


def test_mutant_theorem1_rate_without_q():
    assert "test_theorem1_exact_quadratic" in _refute("theorem1_rate_without_q")


def test_mutant_theorem1_floor_without_q():
    assert "test_theorem1" in _refute("theorem1_floor_without_q")


def test_mutant_theorem1_without_M_q():
    assert "test_theorem1" in _refute("theorem1_without_M_q")


def test_mutant_theorem3_without_M_q():
    assert "test_theorem3" in _refute("theorem3_without_M_q")


def test_mutant_theorem1_no_stepsize_check():
    assert "test_theorem1_any_stepsize" in _refute("theorem1_no_stepsize_check")


def test_mutant_theorem6_q_lo_one():
    assert "test_theorem6" in _refute("theorem6_q_lo_one")


def test_mutant_quantize_ties_away():
    assert "test_fast_matches_reference" in _refute("quantize_ties_away")


def test_mutant_quantize_overflow_saturates():
    assert "test_fast_matches_reference" in _refute("quantize_overflow_saturates")


def test_mutant_quantize_stochastic_no_randomness():
    assert "test_stochastic" in _refute("quantize_stochastic_no_randomness")


def test_mutant_theorem2_without_q():
    assert "test_theorem2" in _refute("theorem2_without_q")


def test_mutant_theorem2_without_M_q():
    assert "test_theorem2" in _refute("theorem2_without_M_q")


def test_mutant_theorem3_without_q():
    assert "test_theorem3" in _refute("theorem3_without_q")


def test_mutant_theorem4_without_q():
    assert "test_theorem4" in _refute("theorem4_without_q")


def test_mutant_theorem4_without_M_q():
    assert "test_theorem4" in _refute("theorem4_without_M_q")


def test_mutant_theorem1_schedule_without_q():
    assert "test_theorem1_schedule" in _refute("theorem1_schedule_without_q")


def test_mutant_theorem3_schedule_without_q():
    assert "test_theorem3_schedule" in _refute("theorem3_schedule_without_q")


def test_mutant_theorem5_q_lo_one():
    assert "test_theorem5" in _refute("theorem5_q_lo_one")


def test_mutant_theorem7_without_rounding_noise():
    assert "test_theorem7" in _refute("theorem7_without_rounding_noise")


def test_mutant_theorem2_no_stepsize_check():
    assert "test_theorem2_any_stepsize" in _refute("theorem2_no_stepsize_check")


def test_mutant_theorem3_no_stepsize_check():
    assert "test_theorem3_any_stepsize" in _refute("theorem3_no_stepsize_check")


def test_mutant_theorem4_no_stepsize_check():
    assert "test_theorem4_any_stepsize" in _refute("theorem4_no_stepsize_check")


# -- every property fails on its own on at least one mutant --------------------------------

def test_mutant_theorem1_rate_without_q_montecarlo():
    assert "test_theorem1_montecarlo" in _refute("theorem1_rate_without_q_montecarlo")


def test_mutant_theorem2_without_gap_montecarlo():
    assert "test_theorem2_montecarlo" in _refute("theorem2_without_gap_montecarlo")


def test_mutant_theorem3_without_M_q_montecarlo():
    assert "test_theorem3_montecarlo" in _refute("theorem3_without_M_q_montecarlo")


def test_mutant_theorem4_without_M_q_montecarlo():
    assert "test_theorem4_montecarlo" in _refute("theorem4_without_M_q_montecarlo")


def test_mutant_theorem1_floor_doubled():
    assert "test_reduction_to_classical" in _refute("theorem1_floor_doubled")


def test_mutant_moments_q_divides():
    assert "test_gap_monotone_in_q" in _refute("moments_q_divides")


def test_mutant_shrink_twice():
    assert "test_effective_stepsize_equivalence" in _refute("shrink_twice")


def test_mutant_iterations_ignore_q():
    assert "test_iterations_to_eps_slowdown" in _refute("iterations_ignore_q")


def test_mutant_quantize_up_moves_exact():
    assert "test_quantize_idempotent" in _refute("quantize_up_moves_exact")


def test_mutant_quantize_nearest_truncates():
    assert "test_quantize_error_within_spacing" in _refute("quantize_nearest_truncates")


def test_mutant_quantize_overflow_to_zero():
    assert "test_quantize_monotone" in _refute("quantize_overflow_to_zero")


def test_mutant_quantize_loses_negative_zero():
    assert "test_quantize_sign_symmetric" in _refute("quantize_loses_negative_zero")


def test_mutant_quantize_stochastic_no_randomness_rng():
    assert "test_fast_matches_reference_stochastic" in _refute(
        "quantize_stochastic_no_randomness_rng")


def test_mutant_quantize_stochastic_no_randomness_uniforms():
    assert "test_fast_matches_reference_uniforms" in _refute(
        "quantize_stochastic_no_randomness_uniforms")


def test_mutant_quantize_overflow_saturates_stress():
    assert "test_fast_matches_reference_stress" in _refute(
        "quantize_overflow_saturates_stress")


def test_mutant_theorem1_without_M_q_dense():
    assert "test_theorem1_exact_dense_quadratic" in _refute("theorem1_without_M_q_dense")


def test_mutant_quantize_ties_away_ties():
    assert "test_fast_matches_reference_ties" in _refute("quantize_ties_away_ties")



def test_mutant_scaled_scale_float_log2():
    assert "test_scaled_fast_matches_reference" in _refute("scaled_scale_float_log2")


def test_mutant_nvfp4_tensor_scale_float64():
    assert "test_nvfp4_fast_matches_reference" in _refute("nvfp4_tensor_scale_float64")


def test_mutant_theorem8_without_clipping():
    assert "test_theorem8_step_certificate" in _refute("theorem8_without_clipping")


def test_mutant_theorem8_without_loss():
    assert "test_theorem8_gradient_descent" in _refute("theorem8_without_loss")


def test_mutant_theorem9_on_floor():
    assert "biased" in _refute("theorem9_on_floor")


def test_mutant_theorem9_delta_without_scale():
    assert "test_theorem9_stochastic_rounding" in _refute("theorem9_delta_without_scale")

def test_mutant_data_f_star_high():
    assert "test_findings_f_star_certified" in _refute("data_f_star_high")


def test_mutant_data_f_star_low():
    assert "test_findings_full_gradient_theorems_5_6" in _refute("data_f_star_low")


def test_mutant_findings_no_sampling_noise():
    assert "test_findings_theorem7_stochastic_rounding" in _refute(
        "findings_no_sampling_noise")


def test_mutant_findings_slowdown_without_q():
    assert "test_findings_slowdown_exact_model" in _refute("findings_slowdown_without_q")


def _generated_test(name: str):
    def test() -> None:
        _refute(name)

    test.__name__ = test.__qualname__ = f"test_mutant_{name}"
    test.__doc__ = f"Mutant {name!r} is refuted by one of its properties."
    return test


# A mutant added to a registry without a hand-written test above still gets its test (the
# hand-written ones also check which property refutes it).
for _name in sorted(MUTANTS):
    if f"test_mutant_{_name}" not in globals():
        globals()[f"test_mutant_{_name}"] = _generated_test(_name)
del _name


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
    registry = MUTANTS

    def test_name(spec: str) -> str:
        name = spec.split("::")[1]
        return name if name.startswith("test_") else f"test_{name}"

    alone = {test_name(m.properties[0]) for m in registry.values() if len(m.properties) == 1}
    here = pathlib.Path(__file__).parent
    pattern = re.compile(r"^(?:def (test_\w+)\(|(test_\w+) = )", re.M)
    props = {defined or assigned for f in here.glob("test_prop_*.py")
             for defined, assigned in pattern.findall(f.read_text())}
    assert props - alone == set(NO_WITNESS), sorted(props - alone)
