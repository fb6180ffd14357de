"""The report's "Not checked" and "exercised" lists stay true against the property suite.

Each entry of :data:`lpsgd.theory.statements.NOT_CHECKED` names a witness: a check below
that fails as soon as the suite starts exercising what the entry says it does not (then
the entry must be reworded or dropped).  Each regime of
:data:`lpsgd.theory.statements.EXERCISED` must name existing properties whose source (or
the source of the strategies and property factories they use) really draws it.  The
checks read the suite's source with :mod:`ast`, so a planted property is caught without
running it; each helper is shown to catch a planted case.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from lpsgd.report.suite import checkout_root
from lpsgd.theory import statements as st

ROOT = checkout_root()
#: The code that decides what the properties draw: the property files, the property
#: factories of lpsgd.suite and the strategies.
SUITE_SOURCES = (sorted((ROOT / "properties").glob("*.py"))
                 + sorted((ROOT / "lpsgd" / "suite").glob("*.py"))
                 + [ROOT / "lpsgd" / "strategies.py", ROOT / "lpsgd" / "scaled_strategies.py"])


def identifiers(source: str) -> set[str]:
    """Every name, attribute, keyword and imported name used in ``source`` (comments and
    docstrings excluded)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            out.add(node.arg)
        elif isinstance(node, ast.alias):
            out.add(node.asname or node.name.rsplit(".", 1)[-1])
    return out


def _ids(paths) -> set[str]:
    return set().union(*(identifiers(Path(p).read_text(encoding="utf-8")) for p in paths))


def used_markers(markers, ids: set[str]) -> list[str]:
    """The identifiers of ``ids`` that contain one of ``markers`` (case-insensitive)."""
    return sorted(i for i in ids if any(m in i.lower() for m in markers))


def _objective_classes() -> dict[str, type]:
    import lpsgd.data  # noqa: F401  (RidgeLeastSquares)
    from lpsgd.objectives import Objective

    out, todo = {}, [Objective]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            out[sub.__name__] = sub
            todo.append(sub)
    return out


#: Objectives the suite may draw: smooth with a known L (A1). The Cauchy loss is the
#: one nonconvex one.
SMOOTH = {"DiagonalQuadratic", "DenseQuadratic", "LeastSquares", "RidgeLeastSquares",
          "LogisticRegression", "CauchyLoss", "_FiniteSum"}
NONCONVEX = {"CauchyLoss"}
#: Files that check Theorems 1-4 against exact values.
EXACT_1_4 = [ROOT / "properties" / "test_prop_theorems.py", ROOT / "lpsgd" / "suite" /
             "theorems.py"]


def _referenced_objectives(paths) -> set[str]:
    return _ids(paths) & set(_objective_classes())


# -- the witnesses ---------------------------------------------------------------------------
def check_rounding_independence() -> None:
    # the suite never builds correlated or reused rounding noise ...
    assert not used_markers(("correlat", "shared_uniform", "reuse_uniform", "reused_uniform",
                             "same_uniforms"), _ids(SUITE_SOURCES))
    # ... and the engines' stochastic rounding draws fresh uniforms at every call
    from lpsgd import fast

    x = np.full(4096, 1 + 2.0 ** -9)  # halfway-ish between two bfloat16 values
    rng = np.random.default_rng(0)
    a = np.asarray(fast.quantize(x, "bfloat16", "stochastic", rng=rng))
    b = np.asarray(fast.quantize(x, "bfloat16", "stochastic", rng=rng))
    assert 0.3 < np.mean(a != b) < 0.7  # independent draws disagree about half the time


def check_theorems_1_4_synthetic() -> None:
    ids = _ids(EXACT_1_4 + [ROOT / "properties" / "test_prop_montecarlo.py"])
    assert "quantize" not in ids and "quantizer" not in ids


def check_smooth_objectives() -> None:
    drawn = _referenced_objectives(SUITE_SOURCES)
    assert drawn, "no objective found in the suite's source"
    assert drawn <= SMOOTH, f"objectives outside the smooth list: {drawn - SMOOTH}"


def check_nonconvex_cauchy_only() -> None:
    drawn = _referenced_objectives(SUITE_SOURCES)
    convex = {"DiagonalQuadratic", "DenseQuadratic", "LeastSquares", "RidgeLeastSquares",
              "LogisticRegression", "_FiniteSum"}
    assert drawn - convex <= NONCONVEX
    assert not _referenced_objectives([ROOT / "properties" / "test_prop_theorems.py"]) \
        & NONCONVEX


def check_worst_case_scope() -> None:
    from lpsgd.suite import worstcase

    text = next(n.text for n in st.NOT_CHECKED if n.witness == "worst_case_scope")
    assert f"at most {worstcase.MAX_STEPS} steps" in text
    assert f"at most {worstcase.NOISE_STEPS} steps" in text
    factories = {n for n in dir(worstcase) if n.endswith("_worstcase")}
    theorems = {n.removesuffix("_noise_worstcase").removesuffix("_worstcase")
                for n in factories}
    assert theorems == {f"theorem{i}" for i in range(1, 6)}, theorems


def check_wide_formats() -> None:
    from lpsgd import fast, strategies
    from lpsgd.errors import InvalidArgument
    from lpsgd.formats import Format

    with pytest.raises(InvalidArgument, match="binary64"):
        fast.quantize(np.array([1.0]), Format(15, 112), "nearest_even")
    import inspect

    defaults = inspect.signature(strategies.formats).parameters
    assert defaults["max_man_bits"].default <= 52
    assert defaults["max_exp_bits"].default <= 11


def check_nvfp4_constants() -> None:
    from lpsgd import theory
    from lpsgd.errors import AssumptionError

    with pytest.raises(AssumptionError, match="not derived"):
        theory.scaled_constants("nvfp4", "nearest_even")
    with pytest.raises(AssumptionError, match="not derived"):
        theory.theorem8(L=1, c=1, d=1, mu=0.1, t=0.1, fmt="nvfp4", rounding="nearest_even",
                        gap=1, k=2)
    with pytest.raises(AssumptionError, match="not derived"):
        theory.theorem9(L=1, c=1, d=1, M=0, M_V=0, fmt="nvfp4", mu=0.1, gap=1, k=2)


def check_noise_laws() -> None:
    laws = ("standard_t", "pareto", "laplace", "standard_cauchy", "lognormal", "weibull",
            "zipf", "gumbel")
    paths = SUITE_SOURCES + [ROOT / "lpsgd" / "objectives.py"]
    assert not used_markers(laws, _ids(paths))


WITNESSES = {
    "rounding_independence": check_rounding_independence,
    "theorems_1_4_synthetic": check_theorems_1_4_synthetic,
    "smooth_objectives": check_smooth_objectives,
    "nonconvex_cauchy_only": check_nonconvex_cauchy_only,
    "worst_case_scope": check_worst_case_scope,
    "wide_formats": check_wide_formats,
    "nvfp4_constants": check_nvfp4_constants,
    "noise_laws": check_noise_laws,
}


def test_every_entry_has_a_witness():
    assert {n.witness for n in st.NOT_CHECKED} == set(WITNESSES)


@pytest.mark.parametrize("entry", st.NOT_CHECKED, ids=lambda n: n.witness)
def test_not_checked_entry_holds(entry):
    WITNESSES[entry.witness]()


# -- the helpers catch a planted case --------------------------------------------------------
def test_markers_catch_a_planted_property():
    planted = ("def test_prop(rng):\n"
               "    noise = rng.standard_t(3, size=4)\n"
               "    u = shared_uniforms(4)\n")
    ids = identifiers(planted)
    assert used_markers(("standard_t",), ids) == ["standard_t"]
    assert used_markers(("shared_uniform",), ids) == ["shared_uniforms"]
    assert not used_markers(("pareto",), ids)
    # a docstring or comment naming a law is not a use
    assert not used_markers(("pareto",), identifiers('"""pareto"""\n# pareto\n'))


def test_objective_scan_catches_a_planted_objective(tmp_path):
    f = tmp_path / "test_planted.py"
    f.write_text("from lpsgd.objectives import CauchyLoss, LogisticRegression\n"
                 "def test_x():\n    CauchyLoss(None)\n")
    assert _referenced_objectives([f]) == {"CauchyLoss", "LogisticRegression"}


# -- what the properties exercise --------------------------------------------------------------
def _defining_files(name: str) -> list[Path]:
    out = []
    for path in sorted((ROOT / "properties").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if (isinstance(node, ast.FunctionDef) and node.name == name) or (
                    isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)):
                out.append(path)
    return out


@pytest.mark.parametrize("regime", list(st.EXERCISED))
def test_exercised_regime_is_drawn_by_its_properties(regime):
    props, marker = st.EXERCISED[regime]
    files: list[Path] = []
    for name in props:
        found = _defining_files(name)
        assert found, f"{regime}: no property {name} in properties/"
        files += found
    # the marker is in the property files or in the factories / strategies they import
    sources = files + sorted((ROOT / "lpsgd" / "suite").glob("*.py")) + [
        ROOT / "lpsgd" / "strategies.py", ROOT / "lpsgd" / "scaled_strategies.py"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    assert marker in text, f"{regime}: {marker!r} appears nowhere the properties draw from"
