"""The statements registry (lpsgd.theory.statements) and the report sections built from it.

The registry must cover the property suite exactly: every property checks a registered
statement, every registered property exists, every mutant weakens a statement.  Each
statement evaluated by a function of lpsgd.theory takes its text from that function's
docstring, which must therefore hold all of problem, method, claim, assumptions and
provenance.  The report must render every statement with its status from the run.
"""

from __future__ import annotations

import ast
import re

import pytest

from lpsgd.report.render import render_html, render_markdown
from lpsgd.report.results import not_checked_section, statements_section
from lpsgd.report.suite import checkout_root
from lpsgd.theory import statements as st

ROOT = checkout_root()


def property_names() -> set[str]:
    """The test functions of properties/ (defined with ``def`` or assigned from a property
    factory), without the mutant tests, read from the source."""
    names: set[str] = set()
    for path in sorted((ROOT / "properties").glob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return {n for n in names if n.startswith("test_") and not n.startswith("test_mutant_")}


def test_every_property_checks_a_registered_statement():
    unregistered = sorted(n for n in property_names() - set(st.SUITE_CHECKS)
                          if not st.statement_of_property(n))
    assert not unregistered, (
        f"properties without a statement in lpsgd.theory.statements: {unregistered}")


def test_every_registered_property_exists():
    props = property_names()
    missing = sorted({p for s in st.STATEMENTS.values() for p in s.properties} - props)
    assert not missing, f"registered properties not in properties/: {missing}"


def test_every_mutant_weakens_a_registered_statement():
    owners = st.mutants_by_statement()
    assert owners[""] == [], f"mutants of no statement: {owners['']}"
    assert sum(len(v) for v in owners.values()) == len(st._mutant_registry())


@pytest.mark.parametrize("name", [n for n, s in st.STATEMENTS.items()
                                  if s.functions and s.functions[0].startswith("lpsgd.theory.")
                                  and s.name.startswith("theorem")])
def test_theorem_text_comes_from_its_docstring(name):
    s = st.STATEMENTS[name]
    for field in ("problem", "method", "claim", "assumptions", "provenance_text"):
        assert getattr(s, field).strip(), f"{name}: empty {field}"
    import lpsgd.theory as th

    fn = getattr(th, s.functions[0].rsplit(".", 1)[-1])
    sections = st.docstring_sections(fn)
    assert sections["Claim"] in s.claim  # the docstring is the source
    assert sections["Provenance"] == s.provenance_text


def test_docstring_sections_reads_labels_and_stops_at_returns():
    def f():
        """Summary.

        Problem: a class
        of functions.

        Claim (derived here): ``x <= y``, see :func:`g`.

        more of the claim.

        Returns:
            Problem: not a section.
        """
    sec = st.docstring_sections(f)
    assert sec == {"Problem": "A class of functions.",
                   "Claim": "(derived here) `x <= y`, see `g`. more of the claim."}


def test_provenance_is_one_of_the_kinds_and_worded_accordingly():
    for s in st.STATEMENTS.values():
        assert s.provenance in st.PROVENANCES, s.name
        text = s.provenance_text.lower()
        if s.provenance == "paper":
            assert st.PAPER_ARXIV in text or "paper" in text, s.name
        if s.provenance == "derived":
            assert "derived" in text, s.name
    for n in (1, 2, 3, 4):
        text = st.STATEMENTS[f"theorem{n}"].provenance_text
        assert f"Theorem 4.{[6, 7, 8, 10][n - 1]}" in text and "Bottou" in text
    for n in (5, 6, 7, 8, 9):
        assert st.STATEMENTS[f"theorem{n}"].provenance == "derived"


def _props(**status):
    return [{"name": n, "status": s} for n, s in status.items()]


def test_statement_status_follows_the_run():
    s1 = st.STATEMENTS["theorem1"]
    mut = st.mutants_by_statement()["theorem1"]
    all_pass = _props(**{n: "pass" for n in s1.properties})
    refuted = [{"name": m, "refuted": True} for m in mut]

    def status(props, muts):
        entries = statements_section(props, muts)["entries"]
        return next(e["status"] for e in entries if e["name"] == "theorem1")

    assert status(all_pass, refuted) == "verified"
    one_fails = all_pass[:-1] + [{"name": s1.properties[-1], "status": "fail"}]
    assert status(one_fails, refuted) == "FAILED"
    survivor = refuted[:-1] + [{"name": mut[-1], "refuted": False}]
    assert status(all_pass, survivor) == "FAILED"
    assert status(all_pass[1:], refuted) == "partly run"
    assert status([], []) == "not run"


def _document(**extra):
    d = {"schema": "lpsgd.report/1", "commit": "abc", "profile": "ci", "seed": 0, "ok": True,
         "properties": [{"name": "test_theorem1_exact_quadratic", "status": "pass",
                         "examples": 5, "worst_ratio": 0.9, "counterexample": None,
                         "kind": "upper", "statements": ["theorem1"],
                         "worst_ratio_nontrivial": 0.4, "nontrivial_examples": 3}],
         "mutants": [{"name": "theorem1_rate_without_q", "refuted": True,
                      "counterexample": None}],
         "pytest": {"args": [], "summary": "1 passed", "counts": {}, "collection_errors": []},
         "versions": {}, "command": "lpsgd report", "timings": {"total": 1.0},
         "conformance": None, "sweeps": []}
    d["statements"] = statements_section(d["properties"], d["mutants"])
    d["not_checked"] = not_checked_section([])
    d.update(extra)
    return d


def test_report_names_the_paper_version_and_every_statement():
    d = _document()
    for page in (render_markdown(d), render_html(d)):
        assert st.PAPER_ARXIV in page and st.PAPER_TITLE.replace("?", "") in page
        assert st.STATEMENTS_VERSION in page
        for s in st.STATEMENTS.values():
            assert s.title in page, s.name
        assert "Not checked" in page and "Where the bounds are loose" in page
        for n in st.NOT_CHECKED:
            assert n.name in page
    md = render_markdown(d)
    # the non-trivial worst ratio sits beside the overall one
    assert re.search(r"\| test_theorem1_exact_quadratic \| pass \| 5 \| 0\.9 \| 0\.4 \|", md)
    assert "only in trivial cases" in md  # 0.9 overall, 0.4 once k >= 3 with noise


def test_report_renders_older_documents_without_the_new_fields():
    d = _document()
    for key in ("statements", "not_checked"):
        d.pop(key)
    for p in d["properties"]:
        for key in ("kind", "statements", "worst_ratio_nontrivial", "nontrivial_examples"):
            p.pop(key)
    md = render_markdown(d)
    assert "| test_theorem1_exact_quadratic | pass | 5 | 0.9 | n/a |" in md
    assert "What is verified" not in md


def test_no_reference_to_files_outside_the_project():
    pattern = re.compile(r"THEORY\.md|FORMATS\.md|STYLE\.md|API\.md|\.\./shared")
    paths = [ROOT / "README.md", *sorted((ROOT / "lpsgd" / "theory").glob("*.py")),
             *sorted((ROOT / "lpsgd" / "report").glob("*.py"))]
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in paths
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line)]
    assert not hits, hits
    d = _document()
    assert not pattern.search(render_markdown(d)) and not pattern.search(render_html(d))


def test_bound_references_name_the_function_not_a_file():
    import lpsgd.theory as th

    b = th.theorem1(L=1, c=1, M=0, M_V=0, M_q=0, mu=1, q_min=1, q_max=1, gap=1, k=1)
    assert "lpsgd.theory.theorem1" in b.reference and "2508.07142" in b.reference
    assert ".md" not in b.reference
