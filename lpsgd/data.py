"""Real problems with exact constants: scikit-learn's bundled data sets and the user's own.

Every problem is an L2-regularised finite sum ``F(w) = (1/n) sum_i f_i(w) + lambda/2 ||w||^2``
on standardised features (each column centred and divided by its standard deviation):

* ``breast_cancer``: logistic regression, malignant (0) vs benign (1), 569 x 30, plus an
  intercept column of ones (appended after standardising, regularised like the rest);
* ``diabetes``: ridge least squares, 442 x 10, the target centred and divided by its
  standard deviation (so no intercept is needed and gradients are O(1));
* ``digits``: logistic regression, even (1) vs odd (0) digit, 1797 x 64 images; the pixel
  columns that are 0 in every image (constant, so standardising would divide 0 by 0) are
  dropped (61 features remain), plus an intercept column.

The bundled data ship inside scikit-learn (the ``data`` extra): nothing is downloaded.

Constants (:class:`Problem`): the eigenvalues of ``X^T X / n + lambda I`` (float64
``eigvalsh``, widened outward by the backward-error margin of
:func:`lpsgd.objectives._spectrum_bounds`); least squares ``L = lambda_max``,
``c = lambda_min``; logistic regression ``L = lambda_max(X^T X / n)/4 + lambda`` and
``c = lambda`` (the logistic Hessian is ``X^T D X / n + lambda I`` with ``0 < D_ii <= 1/4``).

``F*``: Newton's method in float64 to full float64 accuracy (least squares: one solve),
then corrections in mpmath at 40-50 digits with the float64 Hessian, each gaining about
15 digits.  The check, reported with every problem: ``||grad F(w*)||`` evaluated in
mpmath at :data:`CHECK_DPS` digits at the refined point, and the certificate
``F(w*) - F* <= ||grad F(w*)||^2 / (2c)`` (strong convexity), so
``F* in [f_star_mp - f_star_error, f_star_mp]``.

The user's data (:func:`load_file`): a CSV file (comma separated, optional header row,
the LAST column is the label) or a ``.npz`` file with arrays ``X`` (n, d) and ``y`` (n,).
Bad files raise :class:`lpsgd.errors.InvalidArgument` naming the file, the problem and
the value: unreadable or empty files, NaN/inf, wrong shapes, too few rows, a constant
feature, labels outside {0, 1} for logistic regression.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
import os
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from lpsgd._validate import check_choice, check_real
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.objectives import LogisticRegression, _FiniteSum, _spectrum_bounds
from lpsgd.schedules import to_mpf

__all__ = ["Problem", "RidgeLeastSquares", "BUNDLED", "LOSSES", "DEFAULT_REG", "MIN_ROWS",
           "CHECK_DPS", "load_bundled", "load_file", "load_problem", "from_arrays",
           "solve", "standardise"]

#: Default L2 regularisation lambda: strong convexity c = 0.01 for logistic regression.
DEFAULT_REG = 1e-2
#: Fewest rows a data set may have (standardising needs two; fewer than 10 is no data set).
MIN_ROWS = 10
#: Digits of the mpmath check of the gradient at the solution.
CHECK_DPS = 50
#: Losses a user's file can be fitted with.
LOSSES = ("logistic", "least_squares")

_EPS = float(np.finfo(np.float64).eps)

#: Bundled problems: name -> (loss, what it is).
BUNDLED: dict[str, tuple[str, str]] = {
    "breast_cancer": ("logistic", "scikit-learn breast cancer (Wisconsin): malignant (0) vs "
                                  "benign (1), 569 rows, 30 features + intercept"),
    "diabetes": ("least_squares", "scikit-learn diabetes: disease progression (standardised), "
                                  "442 rows, 10 features"),
    "digits": ("logistic", "scikit-learn digits: even (1) vs odd (0) digit, 1797 rows, 61 "
                           "non-constant pixels + intercept"),
}


# -- ridge least squares ------------------------------------------------------------------
class RidgeLeastSquares(_FiniteSum):
    """``F(w) = 1/(2n) ||X w - y||^2 + reg/2 ||w||^2`` (components ``f_i`` carry the
    regulariser, so a minibatch gradient is ``X_B^T (X_B w - y_B)/b + reg w``).

    ``L``/``c``: extreme eigenvalues of ``H = X^T X / n + reg I``, widened outward.
    ``F*``: the float64 solve of ``H w = X^T y / n``, refined twice in mpmath at 50
    digits; ``f_star_error = ||grad F(w~)||^2 / (2c)`` bounds ``F(w~) - F*``.
    """

    name = "ridge_least_squares"

    def __init__(self, X, y, reg) -> None:
        self._init_data(X, y)
        self.reg = float(check_real("reg", reg, min_value=0, exclude_min=True))
        G = self.X.T @ self.X / self.n
        eigs = np.linalg.eigvalsh(G)
        lo, hi = _spectrum_bounds(eigs, float(np.abs(eigs).max()), self.n + self.d)
        self.L = hi + self.reg
        self.c = max(lo, 0.0) + self.reg
        self.H = G + self.reg * np.eye(self.d)
        self._Xy = self.X.T @ self.y / self.n

    def _value(self, w):
        r = w @ self.X.T - self.y
        return (0.5 * np.einsum("rn,rn->r", r, r) / self.n
                + 0.5 * self.reg * np.einsum("rd,rd->r", w, w))

    def _grad(self, w):
        return (w @ self.X.T - self.y) @ self.X / self.n + self.reg * w

    def _value_grad(self, w):
        r = w @ self.X.T - self.y
        value = (0.5 * np.einsum("rn,rn->r", r, r) / self.n
                 + 0.5 * self.reg * np.einsum("rd,rd->r", w, w))
        return value, r @ self.X / self.n + self.reg * w

    def _value_mp(self, w):
        r = self._residuals_mp(w)
        return (mpmath.fsum(ri * ri for ri in r) / (2 * self.n)
                + to_mpf(self.reg) * mpmath.fsum(wi * wi for wi in w) / 2)

    def _grad_mp(self, w):
        r = self._residuals_mp(w)
        Xm = self._X_mp
        return [mpmath.fdot([row[j] for row in Xm], r) / self.n + to_mpf(self.reg) * w[j]
                for j in range(self.d)]

    def component_grads(self, w, idx):
        Xb = self.X[idx]                                   # (R, b, d)
        r = np.einsum("rbd,rd->rb", Xb, w) - self.y[idx]
        return np.einsum("rbd,rb->rd", Xb, r) / idx.shape[-1] + self.reg * w

    def component_grads_mp(self, w, idx):
        out = [mpmath.mpf(0)] * self.d
        for i in idx:
            ri = mpmath.fsum(to_mpf(x) * wj for x, wj in zip(self.X[i], w)) - to_mpf(self.y[i])
            out = [o + to_mpf(x) * ri for o, x in zip(out, self.X[i])]
        return [o / len(idx) + to_mpf(self.reg) * wj for o, wj in zip(out, w)]

    def minibatch_constants(self, batch: int) -> tuple[float, float]:
        """(M, M_V) for ``batch`` components drawn with replacement.

        Claim: ``E||g - grad F(w)||^2 <= M + M_V ||grad F(w)||^2`` for every w with
        ``M = 2/(b n) sum_i ||a_i||^2``, ``a_i = x_i (x_i^T w* - y_i)`` and
        ``M_V = 2 lambda_max(S) / (b n c^2)``, ``S = X^T diag(||x_i||^2) X - n G^2``,
        ``G = X^T X / n``.

        Proof: the regulariser cancels in ``grad f_i - grad F``; with replacement the
        variance is ``(1/b)(1/n) sum_i ||u_i - mean u||^2 <= (1/b)(1/n) sum_i ||u_i - v||^2``
        for any v, with ``u_i = x_i (x_i^T w - y_i) = a_i + (x_i x_i^T) e``,
        ``e = w - w*``.  Take ``v = G e``: ``u_i - v = a_i + (x_i x_i^T - G) e``; then
        ``(a + b)^2 <= 2a^2 + 2b^2``, ``sum_i ||(x_i x_i^T - G) e||^2 = e^T S e`` and
        ``||e|| <= ||grad F(w)|| / c`` (c-strong convexity).
        """
        from lpsgd._validate import check_int

        batch = check_int("batch", batch, min_value=1)
        w_star = solve(self).w_star
        a = self.X * (self.X @ w_star - self.y)[:, None]
        M = 2.0 * float(np.sum(a * a)) / (batch * self.n)
        sq = np.sum(self.X * self.X, axis=1)
        G = self.X.T @ self.X / self.n
        S = (self.X.T * sq) @ self.X - self.n * (G @ G)
        S = (S + S.T) / 2
        eigs = np.linalg.eigvalsh(S)
        _, s_max = _spectrum_bounds(eigs, float(np.abs(eigs).max()) + float(sq.max()) ** 2
                                    * self.n, self.n + self.d)
        M_V = 2.0 * max(s_max, 0.0) / (batch * self.n * self.c ** 2)
        slack = 1.0 + 8.0 * (self.n + self.d) * _EPS
        return M * slack, M_V * slack


# -- the solution, checked in mpmath ------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Solution:
    """The minimiser and minimum of a strongly convex problem, with their check.

    Attributes:
        w_star: the refined minimiser rounded to float64.
        w_star_mp: the refined minimiser (mpf, 40-50 digits).
        f_star: F* rounded to float64 (what the engine subtracts).
        f_star_mp: F at ``w_star_mp`` in mpmath.
        f_star_error: ``||grad F(w_star_mp)||^2 / (2c)``, so F* lies in
            ``[f_star_mp - f_star_error, f_star_mp]``.
        grad_norm_mp: ``||grad F(w_star_mp)||`` at :data:`CHECK_DPS` digits.
        grad_norm_float: ``||grad F(w_star)||`` (the float64 point) in mpmath.
        newton_steps: float64 Newton iterations taken.
    """

    w_star: np.ndarray
    w_star_mp: list
    f_star: float
    f_star_mp: mpmath.mpf
    f_star_error: mpmath.mpf
    grad_norm_mp: mpmath.mpf
    grad_norm_float: mpmath.mpf
    newton_steps: int


def _grad_norm_mp(objective: _FiniteSum, w) -> mpmath.mpf:
    with mpmath.workdps(CHECK_DPS):
        g = objective._grad_mp([to_mpf(v) if not isinstance(v, mpmath.mpf) else v for v in w])
        return mpmath.sqrt(mpmath.fsum(v * v for v in g))


def _newton_float(objective: _FiniteSum) -> tuple[np.ndarray, int, np.ndarray]:
    """Damped Newton in float64 from w = 0 until the gradient stops decreasing."""
    d = objective.d
    w = np.zeros(d)
    if isinstance(objective, RidgeLeastSquares):
        return np.linalg.solve(objective.H, objective._Xy), 1, objective.H
    f = float(objective._value(w[None])[0])
    gn_best = math.inf
    steps = 0
    H = np.eye(d)
    for steps in range(1, 101):
        g = objective._grad(w[None])[0]
        gn = float(np.linalg.norm(g))
        if gn >= gn_best and gn < 1e-10:  # stopped decreasing: float64 accuracy reached
            break
        gn_best = min(gn_best, gn)
        s = 1.0 / (1.0 + np.exp(-(objective._yX @ w)))
        H = (objective._yX.T * (s * (1 - s))) @ objective._yX / objective.n \
            + objective.reg * np.eye(d)
        step = np.linalg.solve(H, g)
        t = 1.0
        while True:
            w_new = w - t * step
            f_new = float(objective._value(w_new[None])[0])
            if f_new <= f - 0.25 * t * float(g @ step) or t < 1e-12:
                break
            t /= 2
        w, f = w_new, min(f, f_new)
        if gn == 0.0:
            break
    return w, steps, H


def solve(objective: _FiniteSum) -> Solution:
    """F* of a regularised finite sum: Newton in float64, refined and checked in mpmath.

    Cached on the objective (``objective._lpsgd_solution``).

    Raises:
        AssumptionError: the objective has no strong convexity (``c`` missing).
    """
    cached = getattr(objective, "_lpsgd_solution", None)
    if cached is not None:
        return cached
    if not objective.c:
        raise AssumptionError("F* needs strong convexity (c > 0, lambda > 0)")
    w, steps, H = _newton_float(objective)
    with mpmath.workdps(CHECK_DPS):
        wm = [to_mpf(v) for v in w]
        for _ in range(2):
            gm = objective._grad_mp(wm)
            corr = np.linalg.solve(H, np.array([float(v) for v in gm]))
            wm = [wi - to_mpf(ci) for wi, ci in zip(wm, corr)]
        gm = objective._grad_mp(wm)
        fm = objective._value_mp(wm)
        gsq = mpmath.fsum(v * v for v in gm)
        err = gsq / (2 * to_mpf(objective.c))
        gnorm = mpmath.sqrt(gsq)
    w_float = np.array([float(v) for v in wm])
    sol = Solution(w_star=w_float, w_star_mp=wm, f_star=float(fm), f_star_mp=fm,
                   f_star_error=err, grad_norm_mp=gnorm,
                   grad_norm_float=_grad_norm_mp(objective, w_float), newton_steps=steps)
    objective._lpsgd_solution = sol
    return sol


# -- problems -------------------------------------------------------------------------------
@dataclasses.dataclass
class Problem:
    """A real problem with its constants.

    Attributes:
        name: bundled name or the file's path.
        loss: ``"logistic"`` or ``"least_squares"``.
        objective: the lpsgd Objective (``f_star``/``f_inf`` set from :func:`solve`).
        reg: lambda.
        source: what the data are.
        features: feature names (after dropping/adding columns).
        dropped: names of constant columns dropped (bundled digits only).
        eig_min, eig_max: extreme eigenvalues of ``X^T X / n + lambda I`` (widened).
        solution: the :class:`Solution`.
    """

    name: str
    loss: str
    objective: Any
    reg: float
    source: str
    features: list[str]
    dropped: list[str]
    eig_min: float
    eig_max: float
    solution: Solution

    @property
    def L(self) -> float:
        return self.objective.L

    @property
    def c(self) -> float:
        return self.objective.c

    @property
    def n(self) -> int:
        return self.objective.n

    @property
    def d(self) -> int:
        return self.objective.d

    @property
    def f_star(self) -> float:
        return self.solution.f_star

    def as_dict(self) -> dict[str, Any]:
        s = self.solution
        return {"name": self.name, "loss": self.loss, "source": self.source,
                "n": self.n, "d": self.d, "reg": self.reg, "L": self.L, "c": self.c,
                "eig_min": self.eig_min, "eig_max": self.eig_max,
                "f_star": s.f_star, "f_star_mp": mpmath.nstr(s.f_star_mp, 30),
                "f_star_error": float(s.f_star_error),
                "grad_norm_at_solution_mp": float(s.grad_norm_mp),
                "grad_norm_at_float64_solution_mp": float(s.grad_norm_float),
                "check_dps": CHECK_DPS, "newton_steps": s.newton_steps,
                "dropped_constant_features": list(self.dropped)}


def standardise(X: np.ndarray, names: list[str], where: str) -> np.ndarray:
    """Centre each column and divide by its standard deviation; a constant column raises."""
    mean = X.mean(axis=0)
    sd = X.std(axis=0)
    scale = np.maximum(np.abs(mean), 1.0)
    for j in range(X.shape[1]):
        if not sd[j] > 8 * _EPS * scale[j]:
            raise InvalidArgument(
                f"{where}: feature {j} ({names[j]!r}) is constant (value {float(X[0, j])!r} in "
                f"every row), so standardising it would divide 0 by 0; drop that column")
    return (X - mean) / sd


def from_arrays(X, y, *, loss: str, reg: float = DEFAULT_REG, name: str = "arrays",
                source: str = "", names: list[str] | None = None,
                dropped: list[str] | None = None, where: str | None = None,
                labels01: bool = True,
                solve: Callable[[Any], Solution] = solve) -> Problem:
    """A :class:`Problem` from raw features and labels (standardised here).

    Args:
        X: (n, d) features; y: (n,) labels (logistic: 0/1) or targets (least squares,
            standardised here too).
        loss: ``"logistic"`` or ``"least_squares"``.
        reg: lambda > 0.
        where: how errors name the data (default ``name``).
        solve: computes F* of the objective (default: this module's :func:`solve`); a
            property checking another implementation passes it here.
    """
    where = where or name
    if not callable(solve):
        raise InvalidArgument(f"Expected solve to be a callable (objective -> Solution) but got "
                              f"solve={solve!r}")
    loss = check_choice("loss", loss, LOSSES)
    reg = float(check_real("reg", reg, min_value=0, exclude_min=True))
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise InvalidArgument(f"{where}: expected features X with 2 dimensions (rows, "
                              f"features) but got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InvalidArgument(f"{where}: expected labels y of shape ({X.shape[0]},) to match "
                              f"X of shape {X.shape} but got shape {y.shape}")
    n, d = X.shape
    if d < 1:
        raise InvalidArgument(f"{where}: expected at least 1 feature column but got 0")
    if n < MIN_ROWS:
        raise InvalidArgument(f"{where}: expected at least {MIN_ROWS} rows but got {n}")
    for arr, what in ((X, "X"), (y, "y")):
        bad = ~np.isfinite(arr)
        if bad.any():
            pos = np.argwhere(bad)[0]
            at = f"row {pos[0] + 1}" + (f", column {pos[1] + 1}" if arr.ndim == 2 else "")
            raise InvalidArgument(f"{where}: expected finite numbers but {what} has "
                                  f"{float(arr[tuple(pos)])!r} at {at}")
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(d)]
    Xs = standardise(X, names, where)
    if loss == "logistic":
        if labels01:
            ok = (y == 0) | (y == 1)
            if not ok.all():
                i = int(np.argmax(~ok))
                raise InvalidArgument(
                    f"{where}: logistic regression needs labels in {{0, 1}} but y has "
                    f"{float(y[i])!r} at row {i + 1}")
            ypm = 2.0 * y - 1.0
        else:
            ypm = y
        Xs = np.hstack([Xs, np.ones((n, 1))])
        names = [*names, "intercept"]
        obj = LogisticRegression(Xs, ypm, reg)
        G = Xs.T @ Xs / n
    else:
        sd = y.std()
        if not sd > 0:
            raise InvalidArgument(f"{where}: least squares needs a target that varies but y "
                                  f"is {float(y[0])!r} in every row")
        obj = RidgeLeastSquares(Xs, (y - y.mean()) / sd, reg)
        G = Xs.T @ Xs / n
    eigs = np.linalg.eigvalsh(G)
    lo, hi = _spectrum_bounds(eigs, float(np.abs(eigs).max()), n + Xs.shape[1])
    sol = solve(obj)
    _set_f_star(obj, sol)
    return Problem(name=name, loss=loss, objective=obj, reg=reg, source=source or name,
                   features=names, dropped=list(dropped or []), eig_min=max(lo, 0.0) + reg,
                   eig_max=hi + reg, solution=sol)


def _set_f_star(obj, sol: Solution) -> None:
    """Make the objective's gap use the checked F* (LogisticRegression computes its own
    lazily with the same method; ours, from :func:`solve`, is the one reported)."""
    if isinstance(obj, LogisticRegression):
        obj.__dict__["_solution"] = (sol.w_star_mp, sol.f_star_mp, sol.f_star_error)
    else:
        obj.f_star = sol.f_star
        obj.f_inf = sol.f_star
        obj.w_star = sol.w_star


@functools.lru_cache(maxsize=None)
def _bundled_arrays(name: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    try:
        from sklearn import datasets
    except ImportError:  # pragma: no cover - the data extra
        raise InvalidArgument("the bundled problems need scikit-learn: pip install "
                              "'lpsgd[data]'") from None
    if name == "breast_cancer":
        b = datasets.load_breast_cancer()
        return b.data, b.target.astype(float), list(b.feature_names), []
    if name == "diabetes":
        b = datasets.load_diabetes()
        return b.data, b.target.astype(float), list(b.feature_names), []
    b = datasets.load_digits()
    X = b.data
    keep = X.std(axis=0) > 0
    names = [f"pixel_{j}" for j in range(X.shape[1])]
    dropped = [n for n, k in zip(names, keep) if not k]
    y = (b.target % 2 == 0).astype(float)
    return X[:, keep], y, [n for n, k in zip(names, keep) if k], dropped


def load_bundled(name: str, *, reg: float = DEFAULT_REG) -> Problem:
    """A bundled problem (see :data:`BUNDLED`), built fresh (F* solved each call)."""
    name = check_choice("problem", name, list(BUNDLED))
    loss, source = BUNDLED[name]
    X, y, names, dropped = _bundled_arrays(name)
    return from_arrays(X, y, loss=loss, reg=reg, name=name, source=source, names=names,
                       dropped=dropped)


# -- the user's files -----------------------------------------------------------------------
def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    where = f"data file {path!r}"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidArgument(f"{where}: cannot be read as CSV "
                              f"({getattr(exc, 'strerror', None) or exc})") from None
    if not rows:
        raise InvalidArgument(f"{where}: is empty (expected rows of numbers, the last column "
                              f"the label)")
    header = None
    if not all(_is_number(c) for c in rows[0]):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    width = len(header) if header is not None else len(rows[0]) if rows else 0
    if width < 2:
        raise InvalidArgument(f"{where}: expected at least 2 columns (features, then the label) "
                              f"but got {width}")
    data = []
    for i, r in enumerate(rows):
        line = i + (2 if header is not None else 1)
        if len(r) != width:
            raise InvalidArgument(f"{where}: line {line} has {len(r)} columns but expected "
                                  f"{width} (wrong shape)")
        try:
            data.append([float(c) for c in r])
        except ValueError:
            bad = next(c for c in r if not _is_number(c))
            raise InvalidArgument(f"{where}: line {line} has {bad.strip()!r}, which is not a "
                                  f"number") from None
    arr = np.array(data, dtype=np.float64).reshape(len(data), width)
    names = header[:-1] if header is not None else [f"column {j + 1}" for j in range(width - 1)]
    return arr[:, :-1], arr[:, -1], names


def _read_npz(path: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    where = f"data file {path!r}"
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if not {"X", "y"} <= keys:
                raise InvalidArgument(f"{where}: expected arrays 'X' and 'y' but it holds "
                                      f"{sorted(keys)}")
            X, y = z["X"], z["y"]
    except InvalidArgument:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidArgument(f"{where}: cannot be read as .npz ({exc})") from None
    for arr, what in ((X, "X"), (y, "y")):
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise InvalidArgument(f"{where}: expected {what} to hold numbers but it has "
                                  f"dtype {arr.dtype}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InvalidArgument(f"{where}: expected X with 2 dimensions (rows, features) but "
                              f"got shape {X.shape}")
    return X, np.asarray(y, dtype=np.float64), [f"X[:, {j}]" for j in range(X.shape[1])]


def load_file(path: str | os.PathLike, *, loss: str, reg: float = DEFAULT_REG) -> Problem:
    """The user's data: ``.npz`` (arrays X, y) or CSV (optional header, label last).

    Raises:
        InvalidArgument: naming the file, the problem and the value.
    """
    loss = check_choice("--loss", loss, LOSSES)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InvalidArgument(f"data file {path!r}: does not exist or is not a file")
    if path.lower().endswith(".npz"):
        X, y, names = _read_npz(path)
    else:
        X, y, names = _read_csv(path)
    return from_arrays(X, y, loss=loss, reg=reg, name=path, names=names,
                       where=f"data file {path!r}",
                       source=f"{os.path.basename(path)} ({loss}, label = "
                              f"{'last column' if not path.lower().endswith('.npz') else 'y'})")


def load_problem(spec: str, *, loss: str | None = None, reg: float = DEFAULT_REG) -> Problem:
    """A bundled name (``loss`` must then be None or match) or a path to the user's file."""
    if spec in BUNDLED:
        if loss is not None and loss != BUNDLED[spec][0]:
            raise InvalidArgument(f"--loss={loss!r} does not apply to the bundled problem "
                                  f"{spec!r} (it is {BUNDLED[spec][0]})")
        return load_bundled(spec, reg=reg)
    if os.path.exists(spec) or os.sep in spec or spec.lower().endswith((".csv", ".npz")):
        if loss is None:
            raise InvalidArgument(f"--problem={spec!r} is a data file: give --loss logistic "
                                  f"or --loss least_squares")
        return load_file(spec, loss=loss, reg=reg)
    raise InvalidArgument(f"Unknown --problem={spec!r}; expected a bundled problem "
                          f"({', '.join(BUNDLED)}) or a path to a .csv or .npz file")
