"""The registry of statements lpsgd verifies: each one's text, provenance and checks.

A :class:`Statement` is one mathematical claim the property suite checks: a theorem of
:mod:`lpsgd.theory`, a slowdown statement, the exact expectations used as ground truth,
the shrinkage profiles of the formats, or the semantics of the quantisers.  For a
statement evaluated by a function of :mod:`lpsgd.theory` the text (problem, method,
claim, assumptions, provenance) is read from that function's docstring, so the docstrings
are the single source; the other statements are written here.  The report renders the
registry as its "What is verified" section, one entry per statement, with the properties
that check it (their pytest names in ``properties/``) and the mutants those properties
refute.

Provenance is one of

* ``"paper"``: restates a result of the paper (:data:`lpsgd.theory._core.PAPER`), with every constant
  explicit; with ``q = 1`` and ``M_q = 0`` it reduces to a classical theorem of
  Bottou, Curtis, Nocedal (2018), Theorems 4.6-4.10;
* ``"derived"``: derived in this project (Theorems 5-9, the schedule-aware forms, the
  slowdown corollaries, the shrinkage profiles), checked by hand and by the suite only;
* ``"classical"``: a textbook fact used as ground truth (the second-moment recursion);
* ``"definition"``: what a quantiser must compute (the rounding rules of
  :mod:`lpsgd.reference.quantize`), checked rather than proven.

:data:`STATEMENTS_VERSION` names this wording of the statements; it changes whenever a
statement, an assumption or a constant changes, and every report shows it.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["STATEMENTS", "STATEMENTS_VERSION", "PAPER_TITLE", "PAPER_ARXIV", "PROVENANCES",
           "Statement", "NotChecked", "statement_of_property", "statement_of_mutant",
           "mutants_by_statement", "docstring_sections", "NOT_CHECKED", "EXERCISED",
           "SUITE_CHECKS"]

#: The version of the statements' wording (shown in every report).
STATEMENTS_VERSION = "2026.12.2"
PAPER_TITLE = "Why does stochastic gradient descent slow down in low-precision training?"
PAPER_ARXIV = "2508.07142"

PROVENANCES = ("paper", "derived", "classical", "definition")


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement the suite verifies.

    Attributes:
        name: identifier (``"theorem1"``, ``"exact_expectations"``, ...).
        title: one line.
        provenance: ``"paper"``, ``"derived"``, ``"classical"`` or ``"definition"``.
        problem: the problem class (objective, oracle).
        method: the iteration or the quantiser the claim is about.
        claim: the claim, with its constants.
        assumptions: the assumptions, as the function checks them.
        provenance_text: where the statement comes from, in words.
        functions: the functions of lpsgd that evaluate it (``"lpsgd.theory.theorem1"``).
        properties: pytest names of the properties that check it.
        constants: the constants the claim uses, where the claim does not define them.
        kind: what a check compares: ``"upper"`` (observed <= bound, exact ground truth),
            ``"mc_upper"`` (a Monte Carlo mean below the bound at z standard errors),
            ``"equal"`` (two computations agree), ``"order"`` (a monotonicity).
    """

    name: str
    title: str
    provenance: str
    problem: str
    method: str
    claim: str
    assumptions: str
    provenance_text: str
    functions: tuple[str, ...]
    properties: tuple[str, ...]
    constants: str = ""
    kind: str = "upper"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# -- reading the docstrings ---------------------------------------------------------------
_LABEL = re.compile(r"^(Problem|Method|Constants|Claim|Why|Assumptions|Provenance)\b"
                    r"[^:\n]*:\s*")
_STOP = ("Returns:", "Args:", "Raises:", "Attributes:")


def _plain(text: str) -> str:
    """One line, capitalised: roles (``:func:`x```) become ``x``, double backticks single
    ones."""
    text = re.sub(r":(?:func|class|data|mod|meth):`~?([^`]+)`", r"`\1`", text)
    text = " ".join(text.replace("``", "`").split())
    return text[:1].upper() + text[1:]


def docstring_sections(obj: Any) -> dict[str, str]:
    """The labelled paragraphs (Problem, Method, Constants, Claim, Why, Assumptions,
    Provenance) of a function's docstring, each as one line of text."""
    doc = inspect.getdoc(obj) or ""
    out: dict[str, list[str]] = {}
    current = None
    for para in doc.split("\n\n"):
        stripped = para.strip()
        if stripped.startswith(_STOP):
            current = None
            continue
        m = _LABEL.match(stripped)
        if m:
            current = m.group(1)
            qualifier = stripped[len(m.group(1)):m.end()].strip().rstrip(":").strip()
            body = stripped[m.end():]
            if qualifier and current != "Assumptions":
                body = f"{qualifier} {body}"
            out.setdefault(current, []).append(body)
        elif current is not None:
            out[current].append(stripped)
    return {k: _plain(" ".join(v)) for k, v in out.items()}


def _from_doc(name: str, title: str, provenance: str, fn: Any, properties: Iterable[str], *,
              functions: Iterable[str] | None = None, kind: str = "upper",
              **override: str) -> Statement:
    sec = docstring_sections(fn)
    claim = sec.get("Claim", "")
    if sec.get("Why"):
        claim += " Why: " + sec["Why"]
    fields = {"problem": sec.get("Problem", ""), "method": sec.get("Method", ""),
              "constants": sec.get("Constants", ""),
              "claim": claim, "assumptions": sec.get("Assumptions", ""),
              "provenance_text": sec.get("Provenance", "")}
    fields.update(override)
    fname = f"lpsgd.theory.{fn.__name__}"
    return Statement(name=name, title=title, provenance=provenance,
                     functions=tuple(functions) if functions is not None else (fname,),
                     properties=tuple(properties), kind=kind, **fields)


# -- the statements written here (no function of lpsgd.theory evaluates them) -------------
_SGD_QUADRATIC = ("F(w) = 1/2 (w - w*)^T A (w - w*) + F*, A symmetric with eigenvalues in "
                  "[c, L] (diagonal or dense); additive gradient noise xi_k, zero mean, "
                  "covariance Sigma_xi (so M = tr Sigma_xi, M_V = 0); quantisation noise "
                  "e_k, zero mean, covariance Sigma_e (M_q = tr Sigma_e), independent of "
                  "each other and of the past.")

_WRITTEN: dict[str, dict[str, Any]] = {
    "effective_stepsize": dict(
        title="Effective-stepsize equivalence",
        provenance="derived",
        problem="Any objective, gradient oracle without noise (M = M_q = 0).",
        method="w_{k+1} = w_k - mu q grad F(w_k) with a constant shrinkage q.",
        claim="The iterates of (mu, q) equal those of (mu q, 1) exactly, in exact "
              "arithmetic: shrinkage acts as a smaller stepsize eta = mu q.",
        assumptions="No gradient or quantisation noise; q constant; exact arithmetic "
                    "(the property compares lpsgd.reference.sgd runs in mpmath).",
        provenance_text="Derived here (one line of algebra); it is the mechanism of the "
                        "paper's slowdown: a shrunk gradient is a shortened step.",
        functions=("lpsgd.reference.sgd.shrink",),
        properties=("test_effective_stepsize_equivalence",), kind="equal"),
    "monotone_in_q": dict(
        title="Monotonicity of the exact gap in q (noise-free quadratics)",
        provenance="derived",
        problem="Quadratics F(w) = 1/2 (w - w*)^T A (w - w*) + F*, eigenvalues in [c, L], "
                "no noise.",
        method="Gradient descent with constant stepsize mu and shrinkage q.",
        claim="For mu q L <= 1, E[F(w_k) - F*] is non-increasing in q at every k: less "
              "shrinkage never makes a noise-free run slower.",
        assumptions="mu q L <= 1 (every factor 1 - mu q lambda_i in [0, 1)); no noise.",
        provenance_text="Derived here: each coordinate contracts by (1 - mu q lambda_i)^2, "
                        "a decreasing function of q while mu q lambda_i <= 1.",
        functions=(),
        properties=("test_gap_monotone_in_q",), kind="order"),
    "exact_expectations": dict(
        title="Exact expectations on quadratics (the ground truth of Theorems 1-4)",
        provenance="classical",
        problem=_SGD_QUADRATIC,
        method="w_{k+1} = w_k - mu_k (q_k (grad F(w_k) + xi_k) + e_k) with deterministic "
               "schedules mu_k, q_k.",
        claim="With S_k = E[(w_k - w*)(w_k - w*)^T] and P_k = I - mu_k q_k A: S_{k+1} = "
              "P_k S_k P_k^T + mu_k^2 (q_k^2 Sigma_xi + Sigma_e), E[F(w_k) - F*] = "
              "1/2 tr(A S_k), E||grad F(w_k)||^2 = tr(A S_k A); for diagonal A, s_{k+1,i} "
              "= (1 - mu_k q_k lambda_i)^2 s_{k,i} + mu_k^2 (q_k^2 sigma_i^2 + tau_i^2). "
              "For constant mu, q with 0 < mu q lambda_i < 2 the stationary value is "
              "sum_i mu (q^2 sigma_i^2 + tau_i^2) / (2 q (2 - mu q lambda_i)); with "
              "gradient noise alone it is mu q sigma^2 / (2 (2 - mu q lambda)) per "
              "coordinate, which falls as q falls.",
        assumptions="Noise independent across steps, zero mean, covariances as stated; "
                    "deterministic schedules.",
        provenance_text="Classical (the second-moment recursion of a linear stochastic "
                        "iteration). Evaluated in mpmath at {DPS} digits, it checks Theorems "
                        "1-4 with no sampling error; the report's Theorem 1 sweep checks "
                        "the SGD engine against it by Monte Carlo, and the unit tests "
                        "check it against hand-derived values.",
        functions=("lpsgd.reference.expectations.quadratic_moments",
                   "lpsgd.reference.expectations.stationary_floor",
                   "lpsgd.fast.expectations.quadratic_moments"),
        properties=(), kind="equal"),
    "shrinkage_profile": dict(
        title="Shrinkage profiles of the formats (from formats to q_lo, q_hi, delta)",
        provenance="derived",
        problem="A binary format with E exponent bits, m stored mantissa bits, bias "
                "2^(E-1) - 1, smallest normal N_min, subnormal spacing s, largest finite "
                "X_max; an elementwise quantiser Q and rho(x) = Q(x)/x.",
        method="The rounding modes of lpsgd.rounding applied to finite |x| <= X_max.",
        claim="Toward zero: rho in (2^m / (2^m + 1), 1] in the normal range; for |x| in "
              "[j s, (j+1) s) in the subnormal range rho in (j / (j+1), 1]; |x| < s (or "
              "< N_min without subnormals) gives 0. To nearest: |rho - 1| <= 2^-(m+1) in "
              "the normal range, |Q(x) - x| <= s/2 in the subnormal range, so rho can "
              "reach 2 near s/2 (q_hi per format). Stochastic rounding: E[Q(x)] = x and "
              "Var Q(x) <= quantum(x)^2 / 4 with quantum(x) <= max(2^-m |x|, s). "
              "format_shrinkage gives q_lo(t) and q_hi exactly for Theorems 5 and 6, "
              "stochastic_rounding_constants the (M', M_G') of Theorem 7, "
              "scaled_constants kappa, Y and the clipping factor of Theorem 8.",
        assumptions="Finite inputs with |x| <= X_max (saturation above it is not a "
                    "shrinkage in this sense).",
        provenance_text="Derived here from the format definitions; exact (rational) "
                        "values, checked against the quantisers by the properties of "
                        "Theorems 5-9 and by unit tests.",
        functions=("lpsgd.shrinkage.profile", "lpsgd.theory.format_shrinkage",
                   "lpsgd.theory.stochastic_rounding_constants",
                   "lpsgd.theory.scaled_constants"),
        properties=("test_floor_grows_as_precision_falls",), kind="order"),
    "quantiser_semantics": dict(
        title="Quantiser semantics: the fast path equals the exact reference",
        provenance="definition",
        problem="Every preset and random (E, m) format, with or without subnormals, "
                "infinities and NaN; block-scaled MX and NVFP4 formats.",
        method="lpsgd.fast.quantize (numpy, float64 inputs) against "
               "lpsgd.reference.quantize (exact, mpmath), for the nine rounding modes; "
               "stochastic modes with the same uniforms or generator in both; the batched "
               "SGD engine with quantised gradients against the reference engine.",
        claim="Bit-for-bit equal outputs (signed zeros and NaN included); every quantiser "
              "is idempotent, monotone (deterministic modes) and sign symmetric (modes "
              "that are), its error within one spacing (half for nearest), and stochastic "
              "rounding rounds up with the probability the rules give (Hoeffding test).",
        assumptions="float64 inputs to the fast path (the reference takes any real).",
        provenance_text="A definition: the rounding rules of lpsgd.reference.quantize "
                        "(the formats and modes of lpsgd.formats and lpsgd.rounding). "
                        "Checked, not proven.",
        functions=("lpsgd.fast.quantize", "lpsgd.reference.quantize",
                   "lpsgd.fast.scaled", "lpsgd.scaled"),
        properties=("test_fast_matches_reference", "test_fast_matches_reference_regressions",
                    "test_fast_matches_reference_ties", "test_fast_matches_reference_stochastic",
                    "test_fast_matches_reference_uniforms", "test_fast_matches_reference_stress",
                    "test_quantize_idempotent", "test_quantize_monotone",
                    "test_quantize_sign_symmetric", "test_quantize_error_within_spacing",
                    "test_stochastic_rounding_distribution",
                    "test_scaled_fast_matches_reference", "test_nvfp4_fast_matches_reference",
                    "test_sgd_quantized_matches_reference"),
        kind="equal"),
    "data_certificate": dict(
        title="Real data: certified minimum of the regularised least-squares problems",
        provenance="definition",
        problem="Ridge least squares on the bundled data sets (lpsgd.data).",
        method="lpsgd.data.solve computes w* and F* with an exact residual certificate.",
        claim="F(w*) - F* lies within the certificate, so the gaps F(w_k) - F* of the "
              "findings are measured against the true minimum.",
        assumptions="The bundled data, regularisation > 0.",
        provenance_text="A check of the ground truth used on real data (the paper's "
                        "experiments are on real data; this project uses the bundled "
                        "scikit-learn sets).",
        functions=("lpsgd.data.solve",),
        properties=("test_findings_f_star_certified",), kind="equal"),
}

# Properties that check the suite itself, not a statement.
SUITE_CHECKS = ("test_every_property_fails_alone_on_some_mutant", "test_mutant_registry_complete")


def _written(name: str) -> Statement:
    from lpsgd.reference.expectations import DPS

    fields = {k: v.replace("{DPS}", str(DPS)) if isinstance(v, str) else v
              for k, v in _WRITTEN[name].items()}
    return Statement(name=name, **fields)


def _build() -> dict[str, Statement]:
    import types

    from lpsgd.theory import formats_bridge, scaled_model, shrinkage_model

    th = types.SimpleNamespace(**{n: getattr(m, n) for m in (shrinkage_model, formats_bridge,
                                                            scaled_model)
                                  for n in m.__all__})
    classical = "test_reduction_to_classical"
    out: list[Statement] = [
        _from_doc("theorem1", "Theorem 1: strongly convex, fixed stepsize", "paper", th.theorem1,
                  ("test_theorem1_exact_quadratic", "test_theorem1_exact_dense_quadratic",
                   "test_theorem1_any_stepsize", "test_theorem1_montecarlo",
                   "test_theorem1_worstcase", "test_theorem1_noise_worstcase", classical)),
        _from_doc("theorem2", "Theorem 2: strongly convex, diminishing stepsizes", "paper",
                  th.theorem2, ("test_theorem2_exact_quadratic", "test_theorem2_any_stepsize",
                                "test_theorem2_montecarlo", "test_theorem2_worstcase",
                                "test_theorem2_noise_worstcase", classical)),
        _from_doc("theorem3", "Theorem 3: nonconvex, fixed stepsize", "paper", th.theorem3,
                  ("test_theorem3_exact_quadratic", "test_theorem3_any_stepsize",
                   "test_theorem3_montecarlo", "test_theorem3_worstcase", classical)),
        _from_doc("theorem4", "Theorem 4: nonconvex, diminishing stepsizes", "paper",
                  th.theorem4, ("test_theorem4_exact_quadratic", "test_theorem4_any_stepsize",
                                "test_theorem4_montecarlo", "test_theorem4_worstcase",
                                classical)),
        _from_doc("theorem1_schedule", "Theorem 1, schedule-aware form", "derived",
                  th.theorem1_schedule, ("test_theorem1_schedule_exact_quadratic",)),
        _from_doc("theorem3_schedule", "Theorem 3, schedule-aware form", "derived",
                  th.theorem3_schedule, ("test_theorem3_schedule_exact_quadratic",)),
        Statement(
            name="slowdown", title="Slowdown: iterations to eps grow like 1/q_min",
            provenance="paper",
            problem="As Theorem 1 (A1, A2, A3).",
            method="The shrinkage model with a fixed stepsize; K_q(eps) = the smallest k with "
                   "Theorem 1's transient r^(k-1) (gap - F_q) <= eps (iterations_to_eps).",
            claim="K_q(eps) / K_1(eps) >= 1/q_min for small enough eps (slowdown_ratio); as "
                  "eps -> 0 the ratio tends to log(1 - mu c) / log(1 - mu c q_min) "
                  "(asymptotic_slowdown), which is >= 1/q_min and tends to 1/q_min as "
                  "mu c -> 0. On real data the measured slowdown of the exact shrinkage "
                  "model matches this prediction.",
            assumptions="Those of Theorem 1 and eps > 0; the integer counts carry "
                        "ceilings, so for large eps both counts can be 1 or 2.",
            provenance_text="The paper's central claim (shrinkage q_min slows SGD by "
                            "1/q_min), as a corollary of Theorem 1 derived here: "
                            "-log(1 - x q) <= -q log(1 - x) by convexity.",
            functions=("lpsgd.theory.iterations_to_eps", "lpsgd.theory.slowdown_ratio",
                       "lpsgd.theory.asymptotic_slowdown"),
            properties=("test_iterations_to_eps_slowdown", "test_findings_slowdown_exact_model"),
            kind="order"),
        _written("effective_stepsize"),
        _written("monotone_in_q"),
        _written("exact_expectations"),
        _from_doc("theorem5", "Theorem 5: deterministic diagonal shrinkage, full gradients",
                  "derived", th.theorem5, ("test_theorem5_gradient_descent",
                                           "test_findings_full_gradient_theorems_5_6",
                                           "test_theorem5_worstcase")),
        _from_doc("theorem6", "Theorem 6: the underflow floor of gradient descent", "derived",
                  th.theorem6, ("test_theorem6_gradient_descent",
                                "test_findings_full_gradient_theorems_5_6")),
        _from_doc("theorem7", "Theorem 7: stochastic rounding, a higher floor at the same rate",
                  "derived", th.theorem7, ("test_theorem7_stochastic_rounding",
                                           "test_findings_theorem7_stochastic_rounding"),
                  kind="mc_upper"),
        _from_doc("theorem8", "Theorem 8: deterministic block-scaled (MX) rounding", "derived",
                  th.theorem8, ("test_theorem8_gradient_descent",
                                "test_theorem8_step_certificate",
                                "test_findings_full_gradient_theorem8",
                                "test_findings_scaled_q_hi_bounds_the_ratio")),
        _from_doc("theorem9", "Theorem 9: stochastic rounding in block-scaled (MX) formats",
                  "derived", th.theorem9, ("test_theorem9_quantiser_moments",
                                           "test_theorem9_stochastic_rounding"),
                  kind="mc_upper"),
        _written("shrinkage_profile"),
        _written("quantiser_semantics"),
        _written("data_certificate"),
    ]
    return {s.name: s for s in out}


#: name -> :class:`Statement`, in the order the report shows them.
STATEMENTS: dict[str, Statement] = _build()


def statement_of_property(test_name: str) -> list[str]:
    """Names of the statements a property (pytest function name) checks."""
    short = test_name.split("::")[-1].split("[")[0]
    names = {short, "test_" + short}  # a property factory's name lacks the test_ prefix
    return [s.name for s in STATEMENTS.values() if names & set(s.properties)]


def _function_names(statement: Statement) -> set[str]:
    return {f.rsplit(".", 1)[-1] for f in statement.functions}


def statement_of_mutant(mutant: Any) -> str | None:
    """The statement a mutant weakens: the one whose function it replaces, else the one
    whose properties refute it (None when neither applies).

    ``mutant`` is an object with ``target`` (``"module:function"``) and ``properties``
    (``"test_module::factory"`` names), as lpsgd's mutant registry gives them."""
    attr = str(getattr(mutant, "target", "")).rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    owners = [s.name for s in STATEMENTS.values() if attr in _function_names(s)]
    if owners:
        return owners[0]
    for prop in getattr(mutant, "properties", ()):
        found = statement_of_property(prop)
        if found:
            return found[0]
    return None


def _mutant_registry() -> dict[str, Any]:
    from lpsgd.suite.mutants import MUTANTS  # imported late: the registry imports the theory

    return dict(MUTANTS)


def mutants_by_statement() -> dict[str, list[str]]:
    """statement name -> names of the mutants that weaken it (``""``: no statement)."""
    out: dict[str, list[str]] = {name: [] for name in STATEMENTS}
    out[""] = []
    for name, m in _mutant_registry().items():
        out[statement_of_mutant(m) or ""].append(name)
    return out


# -- what the suite exercises, and what it does not ----------------------------------------
#: Regimes the properties exercise: regime -> (properties that exercise it, a marker that
#: appears in the source of those properties or of the strategies they draw from).
#: tests/test_not_checked.py checks both, so the list cannot claim a regime no property
#: draws.
EXERCISED: dict[str, tuple[tuple[str, ...], str]] = {
    "quadratic objectives, diagonal and dense, against exact expectations":
        (("test_theorem1_exact_quadratic", "test_theorem1_exact_dense_quadratic"),
         "DenseQuadratic"),
    "least squares and logistic regression with minibatch or additive-noise oracles "
    "(Monte Carlo, z = 5)":
        (("test_theorem1_montecarlo", "test_theorem2_montecarlo"), "LogisticRegression"),
    "the smooth nonconvex Cauchy loss (Monte Carlo)":
        (("test_theorem3_montecarlo", "test_theorem4_montecarlo"), "CauchyLoss"),
    "real data (bundled scikit-learn sets)":
        (("test_findings_full_gradient_theorems_5_6",
          "test_findings_theorem7_stochastic_rounding"), "breast_cancer"),
    "time-varying shrinkage schedules (constant, periodic, random)":
        (("test_theorem1_schedule_exact_quadratic", "test_theorem3_schedule_exact_quadratic"),
         "periodic"),
    "stepsizes beyond the admissible limit (the *_any_stepsize properties)":
        (("test_theorem1_any_stepsize", "test_theorem2_any_stepsize"), "admissible"),
    "real deterministic quantisers in the loop (Theorems 5, 6, 8)":
        (("test_theorem5_gradient_descent", "test_theorem6_gradient_descent"),
         "format_shrinkage"),
    "stochastic rounding in the loop (Theorems 7, 9)":
        (("test_theorem7_stochastic_rounding", "test_theorem9_stochastic_rounding"),
         "stochastic"),
    "the worst case over the function class (performance estimation), Theorems 1-5":
        (("test_theorem1_worstcase", "test_theorem5_worstcase"), "worstcase"),
    "block-scaled MX formats under the floor, ceil and rceil rules":
        (("test_theorem8_gradient_descent", "test_theorem9_quantiser_moments"), "rceil"),
}


@dataclasses.dataclass(frozen=True)
class NotChecked:
    """An assumption or regime the suite does not exercise.

    Attributes:
        name: short title.
        text: what is not checked and why it matters, in words.
        witness: the identifier of the check in tests/test_not_checked.py that keeps the
            entry true (it fails once a property starts exercising the regime).
        unless_sweep: the entry is dropped from a report in which this sweep ran (it
            checks the regime), or "" when no sweep does.
    """

    name: str
    text: str
    witness: str
    unless_sweep: str = ""


#: What the suite does not check (rendered as the report's "Not checked" section).
NOT_CHECKED: tuple[NotChecked, ...] = (
    NotChecked(
        "independence of rounding across calls",
        "Theorems 1-4, 7 and 9 assume the rounding error of step k is zero-mean given the "
        "past. The suite draws stochastic rounding with fresh, independent uniforms at "
        "every call and never tests correlated or reused rounding noise (as hardware "
        "with a shared or low-quality random source could produce).",
        "rounding_independence"),
    NotChecked(
        "real deterministic rounding inside Theorems 1-4",
        "A round-to-nearest or toward-zero error is a deterministic function of the "
        "gradient, not zero-mean given it, so Theorems 1-4 are checked on the synthetic "
        "model (shrinkage q_k and independent Gaussian noise e_k) only; real "
        "deterministic quantisers are checked against Theorems 5, 6 and 8 (full "
        "gradients), and on real data the Theorem 1 prediction is compared, not "
        "asserted.",
        "theorems_1_4_synthetic"),
    NotChecked(
        "non-smooth objectives",
        "Every objective drawn is smooth with a known L (quadratics, least squares, "
        "logistic regression, the Cauchy loss); A1 is never violated on purpose, and "
        "non-smooth losses (hinge, absolute value, ReLU networks) are not drawn.",
        "smooth_objectives"),
    NotChecked(
        "nonconvex objectives beyond the Cauchy loss, exact ground truth for them",
        "Theorems 3 and 4 (nonconvex) are checked exactly only on convex quadratics; the "
        "one nonconvex objective, the smooth Cauchy loss, enters through Monte Carlo "
        "runs (z = 5) only.",
        "nonconvex_cauchy_only"),
    NotChecked(
        "the worst case over the function class beyond Theorems 1-5 and short horizons",
        "Quadratics are a small subclass of the L-smooth, c-strongly convex functions. "
        "The worst case over the whole class (performance estimation) is computed for "
        "Theorems 1-5 only, for a few steps (deterministic formulations of at most 8 "
        "steps, noise scenario trees of at most 3 steps, 4 under the thorough profile); "
        "Theorems 6-9 and longer horizons are checked on sampled instances only.",
        "worst_case_scope"),
    NotChecked(
        "formats wider than binary64 in the fast path",
        "lpsgd.fast.quantize refuses formats that do not fit binary64 (more than 11 "
        "exponent or 52 mantissa bits); such formats are checked in the exact reference "
        "only, and no fast result is compared for them.",
        "wide_formats"),
    NotChecked(
        "NVFP4 theorem constants",
        "Theorems 8 and 9 refuse NVFP4 (an E4M3 block scale that is not a power of "
        "two): its kappa and Y are not derived, so for NVFP4 only the quantiser (fast "
        "against reference) is checked, no bound.",
        "nvfp4_constants"),
    NotChecked(
        "heavy-tailed or non-Gaussian gradient noise",
        "Monte Carlo properties draw Gaussian additive noise or minibatch sampling; A2 "
        "allows any noise law with the stated second moments, and heavy-tailed laws "
        "(Student t, Pareto, Cauchy-distributed noise) are not drawn.",
        "noise_laws"),
)
