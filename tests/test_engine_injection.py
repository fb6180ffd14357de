"""A quantiser passed to the SGD engines' quantize transforms is the quantiser they run.

The former mutant mechanism replaced the module attribute ``lpsgd.fast.quantize`` and
relied on every consumer looking it up at call time.  The fast engine binds its quantiser
when it is imported, so such a substitution never reached the engine's quantize transform:
the first test below shows that leak (the substitution is made and undone inside the test,
as a demonstration; nothing else in lpsgd or its properties replaces module attributes).
The engines now take the quantiser (``quantize(fmt, rounding, quantizer=...)``), and the
properties pass theirs in: the other tests show that an injected wrong quantiser changes the
engines' iterates and is refuted by the quantised-SGD property.
"""

from __future__ import annotations

import numpy as np
import pytest

import lpsgd.fast as fast
import lpsgd.reference as reference
from lpsgd.bitwise import count_mismatches
from lpsgd.errors import InvalidArgument
from lpsgd.fast import sgd as fast_sgd
from lpsgd.objectives import DiagonalQuadratic
from lpsgd.reference import sgd as reference_sgd
from lpsgd.suite.quantizer_mutants import MUTANTS

F = DiagonalQuadratic([1.0, 2.0, 0.5])
W1 = [0.1, -0.3, 0.7]  # gradients 0.1, -0.6, 0.35: none is a float8_e4m3fn value
FMT, MODE = "float8_e4m3fn", "nearest_even"
RUN = {"K": 12, "mu": 0.25, "runs": 1, "seed": 0, "trajectory": True}


def _truncating():
    """The nearest modes truncating: a wrong quantiser built from fast.quantize."""
    return MUTANTS["quantize_nearest_truncates"].implementation()


def _iterates(gradient) -> np.ndarray:
    return fast_sgd.run(F, W1, gradient=gradient, **RUN).iterates


def test_the_mutant_differs_from_the_quantiser_on_these_gradients():
    """Not a vacuous case: the wrong quantiser changes the first quantised gradient."""
    g1 = F.grad(np.array(W1))
    assert count_mismatches(_truncating()(g1, FMT, MODE), fast.quantize(g1, FMT, MODE)) > 0


def test_a_module_attribute_substitution_does_not_reach_the_engine():
    """The old design's leak: with lpsgd.fast.quantize replaced by the mutant, the engine's
    quantize transform still runs lpsgd's quantiser (0 of the iterates' elements change)."""
    clean = _iterates(fast_sgd.quantize(FMT, MODE))
    original = fast.quantize
    mutant = _truncating()
    fast.quantize = mutant  # demonstration of the old mechanism, undone below
    try:
        assert fast.quantize is mutant
        patched = _iterates(fast_sgd.quantize(FMT, MODE))
    finally:
        fast.quantize = original
    assert fast.quantize is original
    assert count_mismatches(patched, clean) == 0


def test_an_injected_quantiser_reaches_the_fast_engine():
    clean = _iterates(fast_sgd.quantize(FMT, MODE))
    injected = _iterates(fast_sgd.quantize(FMT, MODE, quantizer=_truncating()))
    assert count_mismatches(injected, clean) > 0
    # the mutant's iterates are the exact truncating descent: each direction is the
    # truncated gradient of the previous iterate
    res = fast_sgd.run(F, W1, gradient=fast_sgd.quantize(FMT, MODE, quantizer=_truncating()),
                       **RUN)
    for k in range(RUN["K"] - 1):
        g = F.grad(res.iterates[k, 0])
        assert count_mismatches(res.directions[k, 0], fast.quantize(g, FMT, "toward_zero")) == 0


def test_an_injected_quantiser_reaches_the_exact_engine():
    calls = []

    def counting(x, fmt, rounding, **kw):
        calls.append(rounding)
        return reference.quantize(x, fmt, rounding, **kw)

    kw = {**RUN, "K": 4}
    a = reference_sgd.run(F, W1, gradient=reference_sgd.quantize(FMT, MODE), **kw)
    b = reference_sgd.run(F, W1, gradient=reference_sgd.quantize(FMT, MODE, quantizer=counting),
                          **kw)
    assert calls == [MODE] * (kw["K"] - 1)
    assert all(x == y for x, y in zip(a.iterates.ravel(), b.iterates.ravel()))


def test_the_transform_names_an_injected_quantiser():
    assert "quantizer=" not in repr(fast_sgd.quantize(FMT, MODE))
    assert "quantizer=" in repr(fast_sgd.quantize(FMT, MODE, quantizer=_truncating()))


@pytest.mark.parametrize("module", [fast_sgd, reference_sgd], ids=["fast", "reference"])
def test_a_quantizer_that_is_not_callable_is_refused(module):
    with pytest.raises(InvalidArgument, match="quantizer=3"):
        module.quantize(FMT, MODE, quantizer=3)


@pytest.mark.parametrize("name", ["quantize_ties_away"])
def test_a_planted_quantiser_mutant_fails_the_quantised_sgd_property(name):
    """The property comparing the fast engine with quantised gradients against the exact
    engine refutes the mutant when it is passed as ``quantize`` (it reaches the engine).

    quantize_ties_away is refuted first by the conformance properties in the mutant suite,
    so its refutation through the engines is shown here; quantize_nearest_truncates is
    refuted through the engines alone there (quantize_nearest_truncates_engine).
    """
    import importlib
    import pathlib
    import sys

    here = pathlib.Path(__file__).resolve().parent.parent / "properties"
    sys.path.insert(0, str(here))
    try:
        props = importlib.import_module("test_prop_quantize")
    finally:
        sys.path.remove(str(here))
    import lpsgd.record as record

    prop = props.sgd_quantized_matches_reference(quantize=MUTANTS[name].implementation())
    with record.quiet():
        try:
            prop()
        except (AssertionError, BaseExceptionGroup) as exc:  # several distinct failures
            errors = list(getattr(exc, "exceptions", [exc]))
        else:
            pytest.fail(f"mutant {name} survived the quantised-SGD property")
    assert any("fast.sgd == reference.sgd bit for bit" in str(e) for e in errors), errors


def test_the_fast_engine_imports_nothing_from_the_reference_layer():
    """fast == reference compares two independent engines: the shared checks and result
    fields come from lpsgd._engine_common, not from lpsgd.reference."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(fast_sgd))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
    assert not any(m and m.startswith("lpsgd.reference") for m in imported), imported
    assert "lpsgd._engine_common" in imported


def test_the_oracles_public_sampling_is_the_engines_draw():
    """AdditiveNoise.sample_given_grad(_mp) draws what sample(_mp) draws, from a given
    gradient; the engines call these public methods."""
    import mpmath

    from lpsgd.objectives import AdditiveNoise

    oracle = AdditiveNoise(F, sigma2=[0.1, 0.2, 0.3])
    w = np.array(W1)
    a = oracle.sample(w, np.random.default_rng(5))
    b = oracle.sample_given_grad(F.grad(w), np.random.default_rng(5))
    assert count_mismatches(a, b) == 0
    wm = [mpmath.mpf(v) for v in W1]
    c = oracle.sample_mp(wm, np.random.default_rng(5))
    d = oracle.sample_given_grad_mp(F.grad_mp(wm), np.random.default_rng(5))
    assert c == d
