"""The suite checks implementations it is given; it never replaces anything in lpsgd.

* No code in ``lpsgd/`` or ``properties/`` assigns attributes of lpsgd's modules
  (``setattr`` on a module, ``monkeypatch``/``MonkeyPatch``), and none looks a quantiser up
  by name at call time (``importlib.import_module("lpsgd.fast")``, ``getattr(m,
  "quantize")``): a function is imported once, or passed in.  The dynamic imports that
  remain are the command-line sub-commands, the optional peer libraries, the report's
  import of every lpsgd module and the mutant tests' import of the property modules.
* The property factories take the implementations they check as keyword arguments whose
  defaults are lpsgd's own, and the pytest properties are those factories called with the
  defaults.
* The report's counterexamples come from the comparison messages, not from Hypothesis'
  printed output, and the report does not reset Hypothesis' global seed.
"""

from __future__ import annotations

import ast
import inspect
import pathlib

from lpsgd.report.suite import checkout_root

ROOT = checkout_root()

#: (file, enclosing function) pairs allowed to import a module whose name is computed, and
#: why.  A literal lpsgd module name is never allowed (except ``lpsgd`` itself, for its
#: version): import it at the top of the file.
DYNAMIC_IMPORTS = {
    ("lpsgd/cli.py", "build_parser"): "the sub-command modules lpsgd.commands.<name>",
    ("lpsgd/peers.py", "_import"): "optional peer libraries (ml_dtypes, gfloat, ...)",
    ("lpsgd/report/plugin.py", "load_lpsgd"): "every lpsgd module, before the first test",
    ("properties/test_mutants.py", "_module"): "the property modules named by the mutants",
}
#: Optional peer libraries imported by literal name (absent ones are skipped).
PEER_MODULES = ("qtorch", "gfloat", "torchao", "ml_dtypes")


def _sources() -> list[pathlib.Path]:
    return sorted([*(ROOT / "lpsgd").rglob("*.py"), *(ROOT / "properties").glob("*.py")])


def _enclosing(tree: ast.AST) -> dict[ast.AST, str]:
    """Each node -> the name of the innermost function (or "<module>") around it."""
    out: dict[ast.AST, str] = {}

    def walk(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) \
                else name
            out[child] = inner
            walk(child, inner)

    walk(tree, "<module>")
    return out


def _module_names(tree: ast.AST) -> set[str]:
    """Names bound to imported modules (``import a.b as c`` -> c; ``import a`` -> a)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name.split(".")[0]) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lpsgd"):
            # from lpsgd import fast / from lpsgd.reference import sgd: modules too
            names |= {a.asname or a.name for a in node.names
                      if a.name in {"fast", "reference", "theory", "sgd", "quantize",
                                    "expectations", "record", "data", "findings", "scaled",
                                    "schedules", "objectives", "formats", "shrinkage"}}
    return names


def _call_name(call: ast.Call) -> str:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return ""


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # the literal prefix of an f-string
        head = node.values[0] if node.values else None
        return head.value if isinstance(head, ast.Constant) else ""
    return None


def _findings(paths: list[pathlib.Path] | None = None,
              root: pathlib.Path = ROOT) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"substitution": [], "lookup": []}
    for path in _sources() if paths is None else paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        where = _enclosing(tree)
        modules = _module_names(tree)
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                ident = node.id if isinstance(node, ast.Name) else node.attr
                if ident in ("monkeypatch", "MonkeyPatch"):
                    found["substitution"].append(f"{rel}:{node.lineno} {ident}")
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            args = node.args
            if name == "setattr" and args:
                # every setattr (builtin or monkeypatch's): nothing in lpsgd sets attributes
                # by name (object.__setattr__(self, ...) of frozen dataclasses is another
                # name); one on an imported module is named as such
                target = args[0]
                on_module = (isinstance(target, ast.Name) and target.id in modules) or \
                    (isinstance(target, ast.Call) and _call_name(target) == "import_module")
                found["substitution"].append(
                    f"{rel}:{node.lineno} setattr" + (" on a module" if on_module else ""))
            if name in ("import_module", "__import__") and args:
                lit = _literal(args[0])
                fn = where.get(node, "<module>")
                if lit is None or (isinstance(args[0], ast.JoinedStr)):
                    if (rel, fn) not in DYNAMIC_IMPORTS:
                        found["lookup"].append(f"{rel}:{node.lineno} import of a computed "
                                               f"name in {fn}")
                elif lit.startswith("lpsgd") and lit != "lpsgd":
                    found["lookup"].append(f"{rel}:{node.lineno} import_module({lit!r})")
                elif not lit.startswith(("lpsgd", *PEER_MODULES)):
                    found["lookup"].append(f"{rel}:{node.lineno} import_module({lit!r})")
            if name == "getattr" and len(args) >= 2:
                lit = _literal(args[1])
                if lit is not None and "quantize" in lit:
                    found["lookup"].append(f"{rel}:{node.lineno} getattr(..., {lit!r})")
    return found


def test_no_module_attribute_is_replaced():
    assert _findings()["substitution"] == []


def test_no_quantiser_is_looked_up_by_name():
    assert _findings()["lookup"] == []


def test_the_scan_sees_what_it_forbids(tmp_path):
    """The scan is not vacuous: planted substitutions and look-ups are reported (and the
    frozen-dataclass idiom object.__setattr__(self, ...) is not)."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import importlib\nimport lpsgd.fast as fast\n\n"
        "def f(x, self, name):\n"
        "    setattr(fast, 'quantize', x)\n"
        "    importlib.import_module('lpsgd.reference')\n"
        "    importlib.import_module(name)\n"
        "    object.__setattr__(self, 'x', x)\n"
        "    return getattr(fast, 'quantize'), pytest.MonkeyPatch()\n")
    found = _findings([planted], tmp_path)
    assert found == {
        "substitution": ["planted.py:5 setattr on a module", "planted.py:9 MonkeyPatch"],
        "lookup": ["planted.py:6 import_module('lpsgd.reference')",
                   "planted.py:7 import of a computed name in f",
                   "planted.py:9 getattr(..., 'quantize')"]}


def test_theory_factories_take_lpsgd_implementations_by_default():
    import lpsgd.reference.expectations as expectations
    import lpsgd.reference.sgd as rsgd
    import lpsgd.theory as theory
    from lpsgd.suite import theorems

    defaults = {**{n: getattr(theory, n) for n in theory.__all__ if callable(getattr(theory, n))},
                "quadratic_moments": expectations.quadratic_moments, "shrink": rsgd.shrink}
    for name in theorems.__all__:
        factory = getattr(theorems, name)
        if not inspect.isfunction(factory):
            continue
        params = inspect.signature(factory).parameters.values()
        assert params, name
        for p in params:
            assert p.kind is p.KEYWORD_ONLY, (name, p.name)
            assert p.default is defaults[p.name], (name, p.name)


def test_pytest_properties_are_the_factories_with_the_defaults():
    """properties/test_prop_{theorems,montecarlo,slowdown}.py only instantiate factories."""
    for stem in ("test_prop_theorems", "test_prop_montecarlo", "test_prop_slowdown"):
        tree = ast.parse((ROOT / "properties" / f"{stem}.py").read_text())
        tests = [n for n in tree.body if isinstance(n, ast.Assign)]
        assert tests and not [n for n in tree.body if isinstance(n, ast.FunctionDef)], stem
        for node in tests:
            (target,) = node.targets
            call = node.value
            assert isinstance(call, ast.Call) and not call.args and not call.keywords, stem
            assert target.id == f"test_{call.func.id}", (stem, target.id)


def test_report_counterexample_is_the_comparison_message():
    """The report keeps the comparison helper's message (to its DESIRED line) from pytest's
    report of the exception, and nothing Hypothesis prints after it."""
    from lpsgd.report.results import _counterexample

    longrepr = ("    def test_x(case):\n"
                "E   AssertionError: p: observed <= bound (upper, rtol=1e-40)\n"
                "E   Mismatched: 1 / 3\n"
                "E   Worst at k=3, constants {'mu': 0.5}\n"
                "E    ACTUAL: 2.0\n"
                "E    DESIRED: <= 1.0\n"
                "E   Falsifying example: test_x(\n"
                "E       case=3,\n"
                "E   )\n")
    text = _counterexample(longrepr)
    assert text == ("p: observed <= bound (upper, rtol=1e-40) | Mismatched: 1 / 3 | Worst at "
                    "k=3, constants {'mu': 0.5} | ACTUAL: 2.0 | DESIRED: <= 1.0")
    assert _counterexample("") is None


def test_report_does_not_reset_hypothesis_seed():
    """The in-process run restores the caller's profile through the public settings API
    and leaves Hypothesis' internals alone."""
    from lpsgd.report import suite

    source = inspect.getsource(suite._restore_hypothesis_state)
    assert "global_force_seed" not in source.split('"""')[-1]
    assert "load_profile" in source


# -- the comparison helper ---------------------------------------------------------------------

def _raises(fn, *args, **kwargs) -> str:
    try:
        fn(*args, **kwargs)
    except AssertionError as exc:
        return str(exc)
    raise AssertionError("no failure")


def test_each_comparison_kind_fails_with_the_numpy_testing_shape():
    import math

    import mpmath
    import numpy as np

    from lpsgd import record
    from lpsgd.suite import compare

    with record.quiet() as log:
        up = _raises(compare.assert_upper, "p", [(1, 1.0, 1.0), (3, 2.0, 1.0), (4, 0.5, 1.0)],
                     context={"mu": 0.5})
        eq = _raises(compare.assert_equal, "e", np.array([1.0, 2.0]), np.array([1.0, 2.5]),
                     rtol=compare.FLOAT64_RTOL, context={})
        mc = _raises(compare.assert_mc_upper, "m", [1.0, 0.9], [0.0, 0.001], [1.0, 0.8],
                     context={"runs": 10})
        bits = _raises(compare.assert_no_mismatch, "b", [0.0, 1.0], [-0.0, 1.0],
                       inputs=[-1e-30, 1.0], context={"fmt": "e4m3"})
        # passing comparisons: at the bound to the tolerance, an mpf side, NaN == NaN
        compare.assert_upper("p", mpmath.mpf(1) + mpmath.mpf(10) ** -45, 1.0, context={})
        compare.assert_equal("e", [math.nan, 1.0], [math.nan, 1.0], context={})
    assert up == ("p: observed <= bound (upper, rtol=1e-40)\nMismatched: 1 / 3\n"
                  "Worst at k=3, constants {'mu': 0.5}\n ACTUAL: 2.0\n DESIRED: <= 1.0")
    assert eq.startswith("e: actual == desired (equal, rtol=1e-12, atol=0)\nMismatched: 1 / 2\n"
                         "Worst at index 1, constants {}\n ACTUAL: 2.0\n DESIRED: 2.5")
    assert mc.startswith("m: mean - z se <= bound (mc_upper, z=5, slack=0.0, rtol=1e-12)\n"
                         "Mismatched: 1 / 2\nWorst at k=2, constants {'runs': 10}\n")
    assert bits.startswith("b: actual == desired bit for bit (no_mismatch, exact)\n"
                           "Mismatched: 1 / 2\nWorst at index 0, x=-0x1.")
    # every comparison went to the quiet log, the failing ones with their message
    assert [c.kind for c in log] == ["upper", "equal", "mc_upper", "no_mismatch", "upper",
                                     "equal"]
    assert [c.failure for c in log[:4]] == [up, eq, mc, bits] and log[4].failure is None


def test_comparisons_record_the_kind_and_the_nontrivial_worst_ratio():
    from lpsgd import record
    from lpsgd.suite import compare

    with record.isolated() as snap:
        # k = 1 is an identity (not recorded as the worst); k = 2 is trivial (one step)
        compare.assert_upper("p", [(1, 1.0, 1.0), (2, 0.9, 1.0), (3, 0.5, 1.0)],
                             identity_at_1=True, nontrivial=True, context={"a": 1})
        compare.assert_upper("p", [(1, 1.0, 1.0), (5, 0.8, 1.0)], identity_at_1=True,
                             nontrivial=False, context={"a": 2})  # no noise: trivial
    p = snap["properties"]["p"]
    assert (p["kind"], p["examples"], p["worst_ratio"]) == ("upper", 2, 0.9)
    assert p["worst_context"] == {"k": 2, "a": 1}
    assert (p["nontrivial_examples"], p["nontrivial_worst_ratio"]) == (1, 0.5)
    assert p["nontrivial_worst_context"] == {"a": 1, "k": 3}
    assert "counterexample" not in p


def test_false_alarm_rate_of_the_monte_carlo_comparisons():
    import math

    from lpsgd.suite import compare

    assert math.isclose(compare.MC_FALSE_ALARM, 2.866515718791939e-07, rel_tol=1e-12)
    assert compare.false_alarm_rate(10_000) < 3e-3
    assert compare.float64_rounding(2) == 2 * 2.0 ** -53 / (1 - 2 * 2.0 ** -53)
