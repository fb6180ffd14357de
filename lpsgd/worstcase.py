"""Worst cases over a whole function class, by performance estimation.

The theorems of :mod:`lpsgd.theory` claim bounds for *every* L-smooth (c-strongly convex,
or bounded below) objective and every admissible noise, not only for quadratics.  For a
fixed method and horizon, the exact worst case of a performance measure over such a class
is a small semidefinite program (performance estimation: Drori and Teboulle 2014; Taylor,
Hendrickx and Glineur 2017).  This module builds those programs with PEPit and solves them
with Clarabel through cvxpy (with shorter interior-point steps, then SCS at eps 1e-9, when
Clarabel stalls short of its tolerance), one public function per formulation:

* :func:`gradient_descent_gap` - gradient descent with a fixed shrinkage schedule, no
  noise: the exact worst ``F(w_{n+1}) - F*`` (Theorems 1 and 2 without noise).
* :func:`adversarial_direction_gap` - steps along any direction ``d_k`` with
  ``<d_k, g_k> >= q_lo ||g_k||^2`` and ``||d_k||^2 <= q_hi <d_k, g_k>``: the two facts the
  proof of Theorem 5 uses (a relaxation of diagonal shrinkage, so Theorem 5's bound must
  hold for it too).
* :func:`scenario_tree_gap` - the shrinkage model with noise: at every node of a tree,
  ``branches`` equally likely zero-sum noise vectors whose mean square respects (A2) and
  the quantisation budget; the expectation over the leaves.  It is a subset of the noise
  Theorem 1 allows, so a value above Theorem 1's bound would be a real counterexample.
* :func:`nonconvex_average_gradient` - Theorem 3's measure, the average of
  ``||grad F(w_k)||^2`` over ``k = 1..K``, for gradient descent with shrinkage on L-smooth
  functions bounded below.
* :func:`nonconvex_weighted_gradient` - Theorem 4's deterministic part,
  ``sum_k mu_k ||grad F(w_k)||^2``, for any (diminishing) stepsizes.

For the two nonconvex measures, "F bounded below by F_inf with F(w_1) - F_inf <= gap" is
relaxed to ``F_inf <= F(w) - ||grad F(w)||^2 / (2L)`` at every point the method visits (a
consequence of L-smoothness and the lower bound): every function of the class satisfies
it, and so does everything the proofs of Theorems 3 and 4 use, so their bounds must hold
on the relaxation too.

Every function returns a :class:`WorstCase`: the value, the solver's status, its accuracy
(relative primal-dual gap and the largest constraint violation), the problem size and the
inputs.  A solver that does not report an optimal solution, or one less accurate than
:data:`WORSTCASE_RTOL` / 10, raises :class:`SolverError` (a number is never returned for
it).  Arguments outside a formulation's range raise
:class:`lpsgd.errors.InvalidArgument` naming the argument.

Scaling: ``x -> a x`` and ``F -> F / s`` map the class with constants (L, c) onto the one
with (1, c/L); the programs are solved in those units (``L = 1`` and a unit-sized
problem) and the value is scaled back exactly, so that the solver's tolerances are
relative to the size of the answer.

Comparisons of a bound with a worst case use the relative tolerance
:data:`WORSTCASE_RTOL` (:func:`exceeds`).
"""

from __future__ import annotations

import dataclasses
import io
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from contextlib import redirect_stdout
from typing import Any

from lpsgd._validate import check_int, check_real, show
from lpsgd.errors import InvalidArgument, SolverError

__all__ = ["WorstCase", "SolverError", "WORSTCASE_RTOL", "SOLVER_TOLERANCE", "MAX_STEPS",
           "MAX_LEAVES", "exceeds", "gradient_descent_gap", "adversarial_direction_gap",
           "scenario_tree_gap", "nonconvex_average_gradient", "nonconvex_weighted_gradient"]

#: Relative tolerance of every comparison of a bound with a worst case:
#: a bound ``b`` is below the worst case ``w`` when ``w > b (1 + WORSTCASE_RTOL)``.
WORSTCASE_RTOL = 1e-5
#: Clarabel's feasibility and (absolute and relative) duality-gap tolerances.
SOLVER_TOLERANCE = 1e-8
#: Largest number of steps of the deterministic formulations (the program grows like
#: steps^2 constraints; 40 steps take a few seconds).
MAX_STEPS = 40
#: Largest number of leaves of a scenario tree (``branches ** steps``): 2 branches and 4
#: steps take about a second; 5 steps take minutes.
MAX_LEAVES = 16

#: (solver, settings) tried in turn until one reports an optimal, accurate solution.
#: Clarabel's interior point iteration sometimes stalls just short of 1e-8 on these
#: rank-deficient programs (status "optimal_inaccurate"); a shorter step often converges,
#: and SCS at eps 1e-9 (slower, about 0.1 s for a small program) is the last resort.
_ATTEMPTS = (("CLARABEL", {}), ("CLARABEL", {"max_step_fraction": 0.9}),
             ("CLARABEL", {"max_step_fraction": 0.8}),
             ("SCS", {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 20_000}))


@dataclasses.dataclass(frozen=True)
class WorstCase:
    """The worst case of one formulation, as solved.

    Attributes:
        value: the worst-case value of the performance measure (the primal optimum: the
            value reached by the (near-)feasible Gram matrix the solver returned).
        dual: the dual optimum (PEPit's certificate: an upper estimate of the same value).
        formulation: the function that produced it (``"gradient_descent_gap"``, ...).
        measure: what ``value`` is, in words.
        status: the solver's status (always ``"optimal"`` for a returned value, or
            ``"trivial"`` when the answer is 0 by scaling and no program was solved).
        accuracy: relative primal-dual gap ``|dual - value| / max(|value|, 1)`` in the
            scaled units (at most ``WORSTCASE_RTOL / 10``).
        residual: the largest violation of a scalar constraint or of positive
            semidefiniteness of the Gram matrix, in the scaled units.
        size: the dimension of the Gram matrix of the program.
        constraints: the number of scalar constraints.
        solver: the solver used.
        seconds: wall-clock time of building and solving the program.
        inputs: the arguments, as given (sequences as tuples).
    """

    value: float
    dual: float
    formulation: str
    measure: str
    status: str
    accuracy: float
    residual: float
    size: int
    constraints: int
    solver: str
    seconds: float
    inputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)


def exceeds(worst: WorstCase | float, bound: Any) -> bool:
    """Whether a worst case is above a bound: ``worst > bound * (1 + WORSTCASE_RTOL)``.

    ``bound`` is anything with ``float()`` (an :class:`lpsgd.theory.Bound`, a number).
    """
    w, b = float(worst), float(bound)
    return w > b + WORSTCASE_RTOL * abs(b)


# -- argument checks ---------------------------------------------------------------------
def _real(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
          open_lo: bool = False, open_hi: bool = False) -> float:
    check_real(name, value)
    x = float(value)
    if not math.isfinite(x):
        raise InvalidArgument(f"Expected {name} to be a finite number but got "
                              f"{name}={show(value)}")
    bad_lo = lo is not None and (x < lo or (open_lo and x == lo))
    bad_hi = hi is not None and (x > hi or (open_hi and x == hi))
    if bad_lo or bad_hi:
        left = "(" if open_lo else "["
        right = ")" if open_hi else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise InvalidArgument(f"Expected {name} in {left}{lo_s}, {hi_s}{right} but got "
                              f"{name}={show(value)}")
    return x


def _sequence(name: str, values: Any, *, max_len: int = MAX_STEPS) -> list[Any]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | range) and \
            not hasattr(values, "__array__"):
        raise InvalidArgument(f"Expected {name} to be a sequence of numbers but got "
                              f"{name}={show(values)}")
    items = list(values)
    if not items:
        raise InvalidArgument(f"Expected {name} to be non-empty but got {name}={show(values)}")
    if len(items) > max_len:
        raise InvalidArgument(f"Expected at most {max_len} steps but got len({name})="
                              f"{len(items)}")
    return items


def _class(L: Any, c: Any | None) -> tuple[float, float | None]:
    L_ = _real("L", L, lo=0, open_lo=True)
    if c is None:
        return L_, None
    c_ = _real("c", c, lo=0, open_lo=True)
    if c_ >= L_:
        # c = L is a single quadratic: PEPit's interpolation conditions divide by L - c.
        raise InvalidArgument(f"Expected 0 < c < L (c = L leaves only quadratics, which this "
                              f"formulation cannot represent) but got c={show(c)} with "
                              f"L={show(L)}")
    return L_, c_


def _schedule(L: float, mus: Any, qs: Any) -> tuple[list[float], list[float], list[float]]:
    """(mus, qs, etas): mu_k > 0, q_k in (0, 1], eta_k = mu_k q_k in (0, 2/L)."""
    mus_ = _sequence("mus", mus)
    qs_ = _sequence("qs", qs)
    if len(mus_) != len(qs_):
        raise InvalidArgument(f"Expected mus and qs of the same length but got "
                              f"len(mus)={len(mus_)} and len(qs)={len(qs_)}")
    m = [_real(f"mus[{i}]", v, lo=0, open_lo=True) for i, v in enumerate(mus_)]
    q = [_real(f"qs[{i}]", v, lo=0, hi=1, open_lo=True) for i, v in enumerate(qs_)]
    etas = []
    for i, (a, b) in enumerate(zip(m, q)):
        eta = a * b
        if not eta * L < 2:
            raise InvalidArgument(
                f"Expected the effective stepsize eta = mus[{i}]*qs[{i}] in (0, 2/L) = "
                f"(0, {2 / L:g}) but got eta={eta!r} (mus[{i}]={show(mus_[i])}, "
                f"qs[{i}]={show(qs_[i])}, L={L:g})")
        etas.append(eta)
    return m, q, etas


def _inputs(**kw: Any) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, Sequence) and not isinstance(v, str) else v
            for k, v in kw.items()}


# -- solving -------------------------------------------------------------------------------
def _pep():
    from PEPit import PEP

    return PEP()


def _solve(problem: Any, *, formulation: str, measure: str, scale: float,
           inputs: Mapping[str, Any], started: float,
           solver_options: Mapping[str, Any] | None) -> WorstCase:
    """Solve a PEPit problem with Clarabel; check status and accuracy; scale the value."""
    import cvxpy

    if solver_options is not None and not isinstance(solver_options, Mapping):
        raise InvalidArgument(f"Expected solver_options to be a mapping of Clarabel "
                              f"settings but got solver_options={show(solver_options)}")
    failures = []
    clarabel = {"tol_gap_abs": SOLVER_TOLERANCE, "tol_gap_rel": SOLVER_TOLERANCE,
                "tol_feas": SOLVER_TOLERANCE}
    attempts = _ATTEMPTS if solver_options is None else (
        ("CLARABEL", dict(solver_options)),)
    for solver, settings in attempts:
        opts = {**clarabel, **settings} if solver == "CLARABEL" else dict(settings)
        try:
            # PEPit prints in a few places even at verbose=0, and cvxpy warns "Solution may
            # be inaccurate" (an error under warnings-as-errors): the status decides.
            with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                dual = problem.solve(wrapper="cvxpy", solver=solver, verbose=0, **opts)
        except cvxpy.error.SolverError as exc:
            failures.append(f"{solver}: failed ({exc})")
            continue
        except AssertionError:  # PEPit's consistency check of an unsolved problem
            failures.append(f"{solver}: no usable solution")
            continue
        prob = problem.wrapper.prob
        status = str(prob.status)
        primal = prob.value
        if status != "optimal" or primal is None or dual is None \
                or not math.isfinite(primal) or not math.isfinite(dual):
            failures.append(f"{solver}: status {status!r}")
            continue
        primal, dual = float(primal), float(dual)
        accuracy = abs(dual - primal) / max(abs(primal), 1.0)
        residual = _residual(problem)
        if accuracy > WORSTCASE_RTOL / 10 or residual > WORSTCASE_RTOL / 10:
            failures.append(f"{solver}: optimal but inaccurate: relative primal-dual gap "
                            f"{accuracy:.3g}, largest constraint violation {residual:.3g}")
            continue
        break
    else:
        raise SolverError(f"{formulation}: no optimal solution accurate to "
                          f"{WORSTCASE_RTOL / 10:g} ({'; '.join(failures)})")
    wrapper = problem.wrapper
    size = int(wrapper.G.shape[0])
    return WorstCase(value=primal * scale, dual=dual * scale, formulation=formulation,
                     measure=measure, status=status, accuracy=accuracy, residual=residual,
                     size=size, constraints=len(problem._list_of_constraints_sent_to_wrapper),
                     solver=f"{solver} (cvxpy, PEPit)", seconds=time.perf_counter() - started,
                     inputs=dict(inputs))


def _residual(problem: Any) -> float:
    """Largest violation of a scalar constraint, or minus the smallest eigenvalue of G."""
    import numpy as np

    worst = 0.0
    for con in problem._list_of_constraints_sent_to_wrapper:
        v = float(con.eval())
        worst = max(worst, v if con.equality_or_inequality == "inequality" else abs(v))
    G = np.asarray(problem.G_value, dtype=float)
    worst = max(worst, -float(np.min(np.linalg.eigvalsh((G + G.T) / 2))))
    return worst


def _trivial(formulation: str, measure: str, inputs: Mapping[str, Any],
             started: float) -> WorstCase:
    return WorstCase(value=0.0, dual=0.0, formulation=formulation, measure=measure,
                     status="trivial", accuracy=0.0, residual=0.0, size=0, constraints=0,
                     solver="none (zero gap and no noise: every iterate is the minimiser)",
                     seconds=time.perf_counter() - started, inputs=dict(inputs))


def _strongly_convex(problem: Any, c_over_L: float):
    from PEPit.functions import SmoothStronglyConvexFunction

    f = problem.declare_function(SmoothStronglyConvexFunction, mu=c_over_L, L=1.0)
    xs = f.stationary_point()
    return f, xs, f(xs)


# -- (a) gradient descent with a shrinkage schedule ------------------------------------------
def gradient_descent_gap(*, L: float, c: float, mus: Sequence[float], qs: Sequence[float],
                         gap: float = 1.0,
                         solver_options: Mapping[str, Any] | None = None) -> WorstCase:
    """Worst ``F(w_{n+1}) - F*`` of gradient descent with shrinkage, no noise (exact).

    Class: every L-smooth, c-strongly convex ``F`` (any dimension) with
    ``F(w_1) - F* <= gap``.

    Method: ``w_{k+1} = w_k - mu_k q_k grad F(w_k)`` for ``k = 1..n``, ``n = len(mus)``
    (the shrinkage model ``g~_k = q_k grad F(w_k)`` without noise).

    For a constant ``eta = mu q <= 1/L`` the value is ``(1 - eta c)^(2n) gap``.

    Args:
        L, c: smoothness and strong convexity, ``0 < c < L``.
        mus, qs: stepsizes ``mu_k > 0`` and shrinkage factors ``q_k in (0, 1]``, with each
            ``eta_k = mu_k q_k < 2/L``; at most :data:`MAX_STEPS` steps.
        gap: ``F(w_1) - F* >= 0``.
        solver_options: Clarabel settings (for example ``{"max_iter": 50}``); when given,
            the program is solved once with them, without the fallbacks of ``_ATTEMPTS``.

    Returns:
        :class:`WorstCase` of ``F(w_{n+1}) - F*``; a Gram matrix of size ``n + 3``.

    Raises:
        InvalidArgument: an argument outside the ranges above (named).
        SolverError: the solver did not return an optimal, accurate solution.
    """
    started = time.perf_counter()
    L_, c_ = _class(L, c)
    _, _, etas = _schedule(L_, mus, qs)
    gap_ = _real("gap", gap, lo=0)
    inputs = _inputs(L=L, c=c, mus=mus, qs=qs, gap=gap)
    name, measure = "gradient_descent_gap", "F(w_{n+1}) - F*"
    if gap_ == 0:
        return _trivial(name, measure, inputs, started)
    p = _pep()
    f, xs, fs = _strongly_convex(p, c_ / L_)
    x = p.set_initial_point()
    p.set_initial_condition(f(x) - fs <= 1)
    for eta in etas:
        x = x - (eta * L_) * f.gradient(x)
    p.set_performance_metric(f(x) - fs)
    return _solve(p, formulation=name, measure=measure, scale=gap_, inputs=inputs,
                  started=started, solver_options=solver_options)


# -- (b) Theorem 5's adversarial direction -----------------------------------------------------
def adversarial_direction_gap(*, L: float, c: float, mu: float, q_lo: float, q_hi: float,
                              steps: int, gap: float = 1.0,
                              solver_options: Mapping[str, Any] | None = None) -> WorstCase:
    """Worst ``F(w_{n+1}) - F*`` when each step follows any direction shrinking the gradient.

    Class: every L-smooth, c-strongly convex ``F`` with ``F(w_1) - F* <= gap``.

    Method: ``w_{k+1} = w_k - mu d_k`` with ``d_k`` any vector such that
    ``<d_k, g_k> >= q_lo ||g_k||^2`` and ``||d_k||^2 <= q_hi <d_k, g_k>``,
    ``g_k = grad F(w_k)``.  A diagonal shrinkage ``d_k = D_k g_k`` with entries in
    ``[q_lo, q_hi]`` (Theorem 5's method) satisfies both, so this is a relaxation of it;
    the proof of Theorem 5 uses only these two inequalities.

    Args:
        L, c: ``0 < c < L``.
        mu: stepsize, ``0 < mu`` and ``mu q_hi < 2/L``.
        q_lo, q_hi: ``0 < q_lo <= q_hi``.
        steps: ``n >= 1`` steps (at most :data:`MAX_STEPS`).
        gap: ``F(w_1) - F* >= 0``.
        solver_options: Clarabel settings, solved once with them (as above).

    Returns:
        :class:`WorstCase` of ``F(w_{n+1}) - F*``.
    """
    started = time.perf_counter()
    L_, c_ = _class(L, c)
    mu_ = _real("mu", mu, lo=0, open_lo=True)
    lo = _real("q_lo", q_lo, lo=0, open_lo=True)
    hi = _real("q_hi", q_hi, lo=0, open_lo=True)
    if hi < lo:
        raise InvalidArgument(f"Expected q_lo <= q_hi but got q_lo={show(q_lo)}, "
                              f"q_hi={show(q_hi)}")
    if not mu_ * hi * L_ < 2:
        raise InvalidArgument(f"Expected mu*q_hi < 2/L = {2 / L_:g} but got mu={show(mu)} "
                              f"(q_hi={show(q_hi)}, L={show(L)})")
    n = check_int("steps", steps, min_value=1, max_value=MAX_STEPS)
    gap_ = _real("gap", gap, lo=0)
    inputs = _inputs(L=L, c=c, mu=mu, q_lo=q_lo, q_hi=q_hi, steps=steps, gap=gap)
    name, measure = "adversarial_direction_gap", "F(w_{n+1}) - F*"
    if gap_ == 0:
        return _trivial(name, measure, inputs, started)
    from PEPit import Point

    p = _pep()
    f, xs, fs = _strongly_convex(p, c_ / L_)
    x = p.set_initial_point()
    p.set_initial_condition(f(x) - fs <= 1)
    for _ in range(n):
        g = f.gradient(x)
        if lo == hi:
            # the two inequalities force ||d - q g||^2 <= 0: d = q g (a program without
            # an interior otherwise, on which the solver stalls)
            d = lo * g
        else:
            d = Point()
            p.add_constraint(lo * g ** 2 <= d * g)
            p.add_constraint(d ** 2 <= hi * (d * g))
        x = x - (mu_ * L_) * d
    p.set_performance_metric(f(x) - fs)
    return _solve(p, formulation=name, measure=measure, scale=gap_, inputs=inputs,
                  started=started, solver_options=solver_options)


# -- (c) the shrinkage model with noise: a scenario tree ------------------------------------------
def scenario_tree_gap(*, L: float, c: float, mus: Sequence[float], qs: Sequence[float],
                      M: float, M_V: float = 0.0, M_q: float = 0.0, gap: float = 1.0,
                      branches: int = 2,
                      solver_options: Mapping[str, Any] | None = None) -> WorstCase:
    """Worst ``E[F(w_{n+1}) - F*]`` of the shrinkage model with noise, over a scenario tree.

    Class: every L-smooth, c-strongly convex ``F`` with ``F(w_1) - F* <= gap``.

    Method: ``w_{k+1} = w_k - mu_k (q_k grad F(w_k) + n_k)``.  At every node of the tree
    the noise takes ``branches`` equally likely values ``n_k^(1..b)`` (each followed by its
    own subtree) with ``sum_i n_k^(i) = 0`` and
    ``(1/b) sum_i ||n_k^(i)||^2 <= q_k^2 (M + M_V ||grad F(w_k)||^2) + M_q``: the bound of
    (A2) on ``q_k xi_k`` plus the quantisation noise budget ``M_q``, each chosen by an
    adversary who knows ``w_k``.  The measure is the mean over the leaves.  This is a
    subset of the noise the shrinkage model allows (so the value is a lower estimate of
    the worst case over all admissible noise): a value above a bound that claims to cover
    the model is a real counterexample.

    For one step with ``eta = mu q <= 1/L`` the value is
    ``(1 - eta c)^2 gap + L mu^2 (q^2 M + M_q) / 2``.

    Args:
        L, c: ``0 < c < L``.
        mus, qs: as in :func:`gradient_descent_gap`; ``branches ** len(mus)`` at most
            :data:`MAX_LEAVES` (4 steps with 2 branches).
        M, M_V, M_q: the variance constants of (A2) and the quantisation noise, ``>= 0``.
        gap: ``F(w_1) - F* >= 0``.
        branches: noise values per node, ``>= 2``.
        solver_options: Clarabel settings, solved once with them (as above).

    Returns:
        :class:`WorstCase` of ``E[F(w_{n+1}) - F*]``.
    """
    started = time.perf_counter()
    L_, c_ = _class(L, c)
    b = check_int("branches", branches, min_value=2, max_value=MAX_LEAVES)
    max_steps = int(math.floor(math.log(MAX_LEAVES) / math.log(b) + 1e-9))
    mus_l = _sequence("mus", mus, max_len=MAX_STEPS)
    if len(mus_l) > max_steps:
        raise InvalidArgument(
            f"Expected at most {max_steps} steps for branches={b} (a scenario tree has "
            f"branches**steps leaves, at most {MAX_LEAVES}) but got len(mus)={len(mus_l)}")
    mus_, qs_, etas = _schedule(L_, mus, qs)
    M_ = _real("M", M, lo=0)
    MV = _real("M_V", M_V, lo=0)
    Mq = _real("M_q", M_q, lo=0)
    gap_ = _real("gap", gap, lo=0)
    inputs = _inputs(L=L, c=c, mus=mus, qs=qs, M=M, M_V=M_V, M_q=M_q, gap=gap,
                     branches=branches)
    name, measure = "scenario_tree_gap", "E[F(w_{n+1}) - F*]"
    budgets = [m * m * (q * q * M_ + Mq) for m, q in zip(mus_, qs_)]
    # Size of the answer in F units: the gap plus the noise each step can add.
    scale = gap_ + L_ / 2 * sum(budgets)
    if scale == 0:
        return _trivial(name, measure, inputs, started)
    from PEPit import Point

    p = _pep()
    f, xs, fs = _strongly_convex(p, c_ / L_)
    if gap_ == 0:
        # F(w_1) = F* means w_1 = x* (strong convexity): start there, which also keeps the
        # program away from the degenerate constraint F(w_1) - F* <= 0.
        x1 = xs
    else:
        x1 = p.set_initial_point()
        p.set_initial_condition(f(x1) - fs <= gap_ / scale)
    nodes = [x1]
    for eta, budget in zip(etas, budgets):
        s2 = budget * L_ / scale  # ||mu n||^2 budget in the scaled units
        # The noise is sigma u with sigma^2 = s2 (1 when s2 = 0), so that the Gram entries
        # of the noise points are of order 1 whatever the noise level (a change of
        # variables; small noise next to a large gap otherwise stalls the solver).
        sigma = math.sqrt(s2) if s2 > 0 else 1.0
        children = []
        for x in nodes:
            g = f.gradient(x)
            y = x - (eta * L_) * g
            units = [Point() for _ in range(b - 1)]
            last = -units[0]
            for u in units[1:]:
                last = last - u
            units.append(last)  # zero-sum
            mean_sq = units[0] ** 2
            for u in units[1:]:
                mean_sq = mean_sq + u ** 2
            # ||mu_k q_k xi||^2 <= mu^2 q^2 (M + M_V ||g||^2) and ||mu_k e_k||^2 <= mu^2 M_q;
            # in the scaled units (L = 1) the gradient term is (eta L)^2 M_V ||g||^2.
            p.add_constraint((sigma ** 2 / b) * mean_sq <= s2 + (eta * L_) ** 2 * MV * g ** 2)
            children.extend(y - sigma * u for u in units)
        nodes = children
    metric = f(nodes[0]) - fs
    for x in nodes[1:]:
        metric = metric + (f(x) - fs)
    p.set_performance_metric((1 / len(nodes)) * metric)
    return _solve(p, formulation=name, measure=measure, scale=scale, inputs=inputs,
                  started=started, solver_options=solver_options)


# -- (d), (e) nonconvex: gradient norms of gradient descent with shrinkage -----------------------
def _nonconvex(*, L: float, mus: list[float], etas: list[float], weights: list[float],
               gap: float, formulation: str, measure: str, inputs: Mapping[str, Any],
               started: float, solver_options: Mapping[str, Any] | None) -> WorstCase:
    """max sum_k weights_k ||grad F(w_k)||^2 over L-smooth F with the lower-bound relaxation.

    Scaled units: L = 1, F / gap; then ||grad F||^2 = gap L ||grad G||^2.
    """
    from PEPit import Expression
    from PEPit.functions import SmoothFunction

    p = _pep()
    f = p.declare_function(SmoothFunction, L=1.0)
    f_inf = Expression()
    x = p.set_initial_point()
    points = [x]
    grads = []
    for eta in etas:
        g = f.gradient(x)
        grads.append(g)
        x = x - (eta * L) * g
        points.append(x)
    p.set_initial_condition(f(points[0]) - f_inf <= 1)
    for y in points:
        p.add_constraint(f_inf <= f(y) - 0.5 * f.gradient(y) ** 2)
    metric = weights[0] * grads[0] ** 2
    for w, g in zip(weights[1:], grads[1:]):
        metric = metric + w * g ** 2
    p.set_performance_metric(metric)
    return _solve(p, formulation=formulation, measure=measure, scale=gap * L,
                  inputs=inputs, started=started, solver_options=solver_options)


def nonconvex_average_gradient(*, L: float, mu: float, qs: Sequence[float], gap: float = 1.0,
                               solver_options: Mapping[str, Any] | None = None) -> WorstCase:
    """Worst ``(1/K) sum_{k=1..K} ||grad F(w_k)||^2`` of gradient descent with shrinkage.

    Class: every L-smooth ``F`` bounded below by ``F_inf`` with ``F(w_1) - F_inf <= gap``,
    the lower bound relaxed to ``F_inf <= F(w_k) - ||grad F(w_k)||^2 / (2L)`` at
    ``w_1..w_{K+1}`` (see the module docstring: a superset of the class, on which
    Theorem 3's proof still holds).

    Method: ``w_{k+1} = w_k - mu q_k grad F(w_k)``, ``k = 1..K``, ``K = len(qs)``
    (Theorem 3's fixed stepsize, the shrinkage model without noise).

    Args:
        L: ``L > 0``.
        mu: stepsize, ``mu > 0`` with every ``mu q_k < 2/L``.
        qs: shrinkage factors in ``(0, 1]``, at most :data:`MAX_STEPS`.
        gap: ``F(w_1) - F_inf >= 0``.
        solver_options: Clarabel settings, solved once with them (as above).

    Returns:
        :class:`WorstCase` of the average squared gradient norm.
    """
    started = time.perf_counter()
    L_, _ = _class(L, None)
    _real("mu", mu, lo=0, open_lo=True)
    qs_l = _sequence("qs", qs)
    _, _, etas = _schedule(L_, [mu] * len(qs_l), qs_l)
    gap_ = _real("gap", gap, lo=0)
    inputs = _inputs(L=L, mu=mu, qs=qs, gap=gap)
    name, measure = "nonconvex_average_gradient", "(1/K) sum_k ||grad F(w_k)||^2"
    if gap_ == 0:
        return _trivial(name, measure, inputs, started)
    K = len(etas)
    return _nonconvex(L=L_, mus=[float(mu)] * K, etas=etas, weights=[1 / K] * K, gap=gap_,
                      formulation=name, measure=measure, inputs=inputs, started=started,
                      solver_options=solver_options)


def nonconvex_weighted_gradient(*, L: float, mus: Sequence[float], qs: Sequence[float],
                                gap: float = 1.0,
                                solver_options: Mapping[str, Any] | None = None) -> WorstCase:
    """Worst ``sum_{k=1..K} mu_k ||grad F(w_k)||^2`` of gradient descent with shrinkage.

    Class: as :func:`nonconvex_average_gradient`.  Method:
    ``w_{k+1} = w_k - mu_k q_k grad F(w_k)`` with any stepsizes (Theorem 4's deterministic
    part, for example ``mu_k = beta / (gamma + k)``).

    Args:
        L: ``L > 0``.
        mus, qs: as in :func:`gradient_descent_gap` (``mu_k q_k < 2/L``).
        gap: ``F(w_1) - F_inf >= 0``.
        solver_options: Clarabel settings, solved once with them (as above).

    Returns:
        :class:`WorstCase` of the stepsize-weighted sum of squared gradient norms.
    """
    started = time.perf_counter()
    L_, _ = _class(L, None)
    mus_, _, etas = _schedule(L_, mus, qs)
    gap_ = _real("gap", gap, lo=0)
    inputs = _inputs(L=L, mus=mus, qs=qs, gap=gap)
    name, measure = "nonconvex_weighted_gradient", "sum_k mu_k ||grad F(w_k)||^2"
    if gap_ == 0:
        return _trivial(name, measure, inputs, started)
    # sum mu_k ||grad F||^2 = gap L sum mu_k ||grad G||^2 = gap sum (mu_k L) ||grad G||^2
    weights = [m * L_ for m in mus_]
    return _nonconvex(L=L_, mus=mus_, etas=etas, weights=weights, gap=gap_ / L_,
                      formulation=name, measure=measure, inputs=inputs, started=started,
                      solver_options=solver_options)
