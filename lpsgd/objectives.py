"""Test objectives with known constants, and stochastic-gradient oracles with their (M, M_V).

Every objective has ``d``, ``L`` (a gradient Lipschitz constant, assumption A1), ``c``
(strong convexity modulus, A3, or ``None``), ``f_star`` (the minimum value) and ``f_inf``
(a lower bound, A4; equal to ``f_star`` when the minimum is attained), and evaluates

* ``value(w)`` / ``grad(w)`` on a float64 array of shape ``(d,)`` (one point) or
  ``(R, d)`` (R points, one per row; values then have shape ``(R,)``);
* ``value_mp(w)`` / ``grad_mp(w)``: the same at the caller's mpmath working precision on a
  length-``d`` sequence of numbers (floats are converted exactly).

Constants are computed, not guessed: eigenvalues for quadratics and least squares,
``lambda_max(X^T X) / (4 n) + reg`` for logistic regression, a proof for the nonconvex
function.  Eigenvalues computed in float64 are widened outward by a backward-error margin
(see :func:`_spectrum_bounds`) so that ``c <= lambda_i <= L`` holds for the exact matrix.

Oracles (assumption A2: ``E||g - grad F||^2 <= M + M_V ||grad F||^2``):

* :class:`AdditiveNoise`: ``g = grad F(w) + xi``, ``xi ~ N(0, Sigma)``;
  ``M = trace(Sigma)``, ``M_V = 0``.
* :class:`Minibatch`: for finite sums ``F = (1/n) sum_i f_i``, the average of ``batch``
  component gradients drawn uniformly with replacement; ``(M, M_V)`` are derived per
  objective (see ``minibatch_constants``).

Randomness comes only from the Generator passed to ``sample``; an oracle draws exactly
one array per call (``standard_normal(w.shape)`` or ``integers(0, n, size=...)``), so
the exact layer (one point, shape ``(d,)``) and the fast layer with one run (shape
``(1, d)``) consume the same random numbers.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np

from lpsgd._validate import check_int, check_real
from lpsgd.errors import AssumptionError, InvalidArgument
from lpsgd.schedules import to_mpf

__all__ = ["Objective", "DiagonalQuadratic", "DenseQuadratic", "LeastSquares",
           "LogisticRegression", "CauchyLoss", "AdditiveNoise", "Minibatch",
           "as_real_array", "check_points"]

_EPS = float(np.finfo(np.float64).eps)  # 0x1p-52 = 2.220446049250313e-16


# -- validation helpers (the shape/finiteness checks the engine shares) ----------------------
def as_real_array(name: str, value, *, ndim: int | tuple[int, ...] | None = None,
                  shape: tuple | None = None, min_value: float | None = None) -> np.ndarray:
    """``value`` as a float64 array, rejecting non-numeric data, NaN/inf, bad shapes.

    Raises:
        InvalidArgument: naming ``name`` and the offending value/shape.
    """
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"Expected {name} to be an array of real numbers but got {name}={value!r}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise InvalidArgument(
                f"Expected {name} to have {' or '.join(map(str, allowed))} dimension(s) but "
                f"got {name} with shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise InvalidArgument(
            f"Expected {name} to have shape {tuple(shape)} but got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        bad = float(arr[~np.isfinite(arr)].ravel()[0])
        raise InvalidArgument(f"Expected {name} to be finite but got {name} containing {bad!r}")
    if min_value is not None and arr.size and arr.min() < min_value:
        raise InvalidArgument(
            f"Expected {name} >= {min_value} elementwise but got {name} containing "
            f"{float(arr.min())!r}")
    return arr


def check_points(name: str, w, d: int) -> np.ndarray:
    """A point ``(d,)`` or a batch ``(R, d)`` of finite float64 values."""
    arr = as_real_array(name, w, ndim=(1, 2))
    if arr.shape[-1] != d:
        raise InvalidArgument(
            f"Expected {name} to have last dimension d={d} but got shape {arr.shape}")
    return arr


def _mp_vector(name: str, w, d: int) -> list:
    if isinstance(w, np.ndarray) and w.dtype != object:
        w = check_points(name, w, d)
        if w.ndim != 1:
            raise InvalidArgument(f"Expected {name} to have shape ({d},) but got {w.shape}")
    vals = list(w)
    if len(vals) != d:
        raise InvalidArgument(f"Expected {name} to have length d={d} but got length {len(vals)}")
    out = []
    for i, v in enumerate(vals):
        check_real(f"{name}[{i}]", v)
        out.append(to_mpf(v))
    return out


def _spectrum_bounds(eigs: np.ndarray, scale: float, size: int) -> tuple[float, float]:
    """Outward-widened (lambda_min, lambda_max) of a float64 symmetric matrix.

    A backward-stable symmetric eigensolver returns the exact eigenvalues of ``A + E``
    with ``||E||_2 <= p(n) u ||A||_2`` (Weyl's inequality turns this into the same bound on
    each eigenvalue).  We take ``p(n) u = 4 size eps`` with ``scale >= ||A||_2``, which
    also absorbs the rounding made when ``A`` itself was formed from data (``size`` is
    the length of the sums forming each entry).
    """
    margin = 4.0 * size * _EPS * scale
    return float(eigs.min()) - margin, float(eigs.max()) + margin


class Objective:
    """Base class: subclasses implement ``_value``/``_grad`` on (R, d) and the mp twins."""

    d: int
    L: float
    c: float | None
    f_star: float
    f_inf: float
    name: str = "objective"

    def value(self, w) -> np.ndarray | float:
        """F at ``w`` of shape ``(d,)`` (a float) or ``(R, d)`` (shape ``(R,)``)."""
        w = check_points("w", w, self.d)
        v = self._value(np.atleast_2d(w))
        return float(v[0]) if w.ndim == 1 else v

    def grad(self, w) -> np.ndarray:
        """grad F at ``w`` of shape ``(d,)`` or ``(R, d)`` (same shape back)."""
        w = check_points("w", w, self.d)
        g = self._grad(np.atleast_2d(w))
        return g[0] if w.ndim == 1 else g

    def value_mp(self, w) -> mpmath.mpf:
        """F(w) at the caller's mpmath working precision."""
        return self._value_mp(_mp_vector("w", w, self.d))

    def grad_mp(self, w) -> list:
        """grad F(w) (a list of d mpf) at the caller's mpmath working precision."""
        return self._grad_mp(_mp_vector("w", w, self.d))

    def gap(self, w) -> np.ndarray | float:
        """F(w) - F* (or F(w) - F_inf when the minimum is not attained)."""
        return self.value(w) - self.f_inf

    def _value_grad(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F(w), grad F(w)) on (R, d) without checks (the engine's hot path)."""
        return self._value(w), self._grad(w)

    # subclasses
    def _value(self, w: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, w: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _value_mp(self, w: list) -> mpmath.mpf:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad_mp(self, w: list) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def f_star_mp(self) -> mpmath.mpf:
        return to_mpf(self.f_star)


# -- quadratics -------------------------------------------------------------------------------
class DiagonalQuadratic(Objective):
    """``F(w) = 1/2 sum_i lambda_i (w_i - w*_i)^2 + F*`` (the quadratic test problem of the
    exact recursions, lpsgd.reference.expectations).

    ``L = max lambda_i`` and ``c = min lambda_i`` (``None`` when some ``lambda_i = 0``),
    both exact.

    Args:
        lambdas: eigenvalues ``lambda_i >= 0`` (finite).
        w_star: the minimiser (default 0).
        f_star: the minimum value (default 0).
    """

    name = "diagonal_quadratic"

    def __init__(self, lambdas, w_star=None, f_star=0.0) -> None:
        self.lambdas = as_real_array("lambdas", lambdas, ndim=1, min_value=0.0)
        if self.lambdas.size == 0:
            raise InvalidArgument("Expected lambdas to be non-empty but got lambdas=[]")
        self.d = self.lambdas.size
        self.w_star = (np.zeros(self.d) if w_star is None
                       else as_real_array("w_star", w_star, shape=(self.d,)))
        self.f_star = float(check_real("f_star", f_star))
        self.f_inf = self.f_star
        self.L = float(self.lambdas.max())
        lo = float(self.lambdas.min())
        self.c = lo if lo > 0 else None

    @classmethod
    def from_range(cls, d: int, *, c: float, L: float, w_star=None,
                   f_star: float = 0.0) -> DiagonalQuadratic:
        """Eigenvalues evenly spaced from ``c`` to ``L`` (both included when d >= 2)."""
        d = check_int("d", d, min_value=1)
        c = check_real("c", c, min_value=0, exclude_min=True)
        L = check_real("L", L, min_value=c)
        lam = np.linspace(c, L, d) if d > 1 else np.array([float(c)])
        return cls(lam, w_star=w_star, f_star=f_star)

    def _value(self, w):
        return self._value_grad(w)[0]

    def _grad(self, w):
        return (w - self.w_star) * self.lambdas

    def _value_grad(self, w):
        r = w - self.w_star
        g = r * self.lambdas
        return 0.5 * np.einsum("rd,rd->r", r, g) + self.f_star, g

    def _value_mp(self, w):
        s = mpmath.fsum(to_mpf(lam) * (wi - to_mpf(ws)) ** 2
                        for lam, wi, ws in zip(self.lambdas, w, self.w_star))
        return s / 2 + to_mpf(self.f_star)

    def _grad_mp(self, w):
        return [to_mpf(lam) * (wi - to_mpf(ws))
                for lam, wi, ws in zip(self.lambdas, w, self.w_star)]

    @property
    def hessian(self) -> np.ndarray:
        return np.diag(self.lambdas)


class DenseQuadratic(Objective):
    """``F(w) = 1/2 (w - w*)^T A (w - w*) + F*`` with a symmetric positive semidefinite A.

    ``L`` and ``c`` are the extreme eigenvalues of A, computed with ``numpy.linalg.eigh``
    and widened outward by the backward-error margin of :func:`_spectrum_bounds`;
    ``c`` is ``None`` when the widened lower end is not positive.  ``A`` must be exactly
    symmetric (``A == A.T``), so the mpmath twins see the same matrix.

    Args:
        A: the (d, d) Hessian.
        w_star: the minimiser (default 0).
        f_star: the minimum value (default 0).
    """

    name = "dense_quadratic"

    def __init__(self, A, w_star=None, f_star=0.0) -> None:
        A = as_real_array("A", A, ndim=2)
        if A.shape[0] != A.shape[1] or A.shape[0] == 0:
            raise InvalidArgument(f"Expected A to be a non-empty square matrix but got shape "
                                  f"{A.shape}")
        if not np.array_equal(A, A.T):
            raise InvalidArgument("Expected A to be symmetric (A == A.T) but got an asymmetric A")
        self.A = A
        self.d = A.shape[0]
        self.w_star = (np.zeros(self.d) if w_star is None
                       else as_real_array("w_star", w_star, shape=(self.d,)))
        self.f_star = float(check_real("f_star", f_star))
        self.f_inf = self.f_star
        eigs, vecs = np.linalg.eigh(A)
        self.eigenvalues, self.eigenvectors = eigs, vecs
        lo, hi = _spectrum_bounds(eigs, float(np.abs(eigs).max()), self.d)
        if lo < 0 and eigs.min() < -4.0 * self.d * _EPS * float(np.abs(eigs).max()):
            raise InvalidArgument(
                f"Expected A to be positive semidefinite but got smallest eigenvalue "
                f"{float(eigs.min())!r}")
        self.L = hi
        self.c = lo if lo > 0 else None

    @classmethod
    def from_spectrum(cls, lambdas, *, seed: int, w_star=None,
                      f_star: float = 0.0) -> DenseQuadratic:
        """``A = U diag(lambdas) U^T`` with U a seeded random rotation (Haar, via QR).

        A is symmetrised as ``(B + B^T) / 2`` after the product, so it is exactly
        symmetric; its eigenvalues equal ``lambdas`` up to float64 rounding, and ``L``/``c``
        are recomputed from A itself.
        """
        lam = as_real_array("lambdas", lambdas, ndim=1, min_value=0.0)
        if lam.size == 0:
            raise InvalidArgument("Expected lambdas to be non-empty but got lambdas=[]")
        seed = check_int("seed", seed, min_value=0)
        U = random_rotation(lam.size, seed)
        B = (U * lam) @ U.T
        obj = cls((B + B.T) / 2, w_star=w_star, f_star=f_star)
        obj.spectrum = lam
        obj.rotation = U
        return obj

    @classmethod
    def random(cls, d: int, *, c: float, L: float, seed: int, w_star=None,
               f_star: float = 0.0) -> DenseQuadratic:
        """Spectrum evenly spaced in ``[c, L]`` (ends included), random rotation."""
        d = check_int("d", d, min_value=1)
        c = check_real("c", c, min_value=0, exclude_min=True)
        L = check_real("L", L, min_value=c)
        lam = np.linspace(c, L, d) if d > 1 else np.array([float(c)])
        return cls.from_spectrum(lam, seed=seed, w_star=w_star, f_star=f_star)

    def _value(self, w):
        return self._value_grad(w)[0]

    def _grad(self, w):
        return (w - self.w_star) @ self.A  # A symmetric: rows r A = (A r)^T

    def _value_grad(self, w):
        r = w - self.w_star
        g = r @ self.A
        return 0.5 * np.einsum("rd,rd->r", r, g) + self.f_star, g

    def _value_mp(self, w):
        r = [wi - to_mpf(ws) for wi, ws in zip(w, self.w_star)]
        g = self._matvec_mp(r)
        return mpmath.fsum(ri * gi for ri, gi in zip(r, g)) / 2 + to_mpf(self.f_star)

    def _grad_mp(self, w):
        return self._matvec_mp([wi - to_mpf(ws) for wi, ws in zip(w, self.w_star)])

    def _matvec_mp(self, r):
        return [mpmath.fsum(to_mpf(a) * x for a, x in zip(row, r)) for row in self.A]

    @property
    def hessian(self) -> np.ndarray:
        return self.A


def random_rotation(d: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal (d, d) matrix from ``default_rng(seed)`` (QR, signs fixed)."""
    G = np.random.default_rng(seed).standard_normal((d, d))
    Q, R = np.linalg.qr(G)
    # Fixing the signs of R's diagonal makes the distribution Haar (Mezzadri 2007).
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


# -- finite sums --------------------------------------------------------------------------------
class _FiniteSum(Objective):
    """``F = (1/n) sum_i f_i`` with data X (n, d) and y (n,)."""

    def _init_data(self, X, y) -> None:
        X = as_real_array("X", X, ndim=2)
        n, d = X.shape
        if n == 0 or d == 0:
            raise InvalidArgument(f"Expected X to be non-empty but got shape {X.shape}")
        y = as_real_array("y", y, ndim=1)
        if y.shape != (n,):
            raise InvalidArgument(
                f"Expected y to have shape ({n},) to match X with shape {X.shape} but got "
                f"shape {y.shape}")
        self.X, self.y, self.n, self.d = X, y, n, d

    @functools.cached_property
    def _X_mp(self) -> list:
        """The rows of X as mpf (floats convert exactly, whatever the working precision)."""
        return [[mpmath.mpf(float(v)) for v in row] for row in self.X]

    def _residuals_mp(self, w):
        """``X w - y`` in the working precision (the least-squares objectives)."""
        return [mpmath.fdot(row, w) - to_mpf(yi) for row, yi in zip(self._X_mp, self.y)]

    def component_grads(self, w: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Mean of ``grad f_i(w_r)`` over ``i in idx[r]``: w (R, d), idx (R, b) -> (R, d)."""
        raise NotImplementedError  # pragma: no cover

    def component_grads_mp(self, w: list, idx) -> list:
        raise NotImplementedError  # pragma: no cover

    def minibatch_constants(self, batch: int) -> tuple[float, float]:
        raise NotImplementedError  # pragma: no cover


class LeastSquares(_FiniteSum):
    """``F(w) = 1/(2n) ||X w - y||^2 = (1/n) sum_i 1/2 (x_i^T w - y_i)^2``.

    The Hessian is ``H = X^T X / n``: ``L`` and ``c`` are its extreme eigenvalues (widened
    outward, :func:`_spectrum_bounds`; ``c = None`` if X is rank deficient).  ``F*``:
    when ``c > 0``, numpy's least-squares solution refined twice in mpmath at 50
    digits (gradient in mpmath, correction with the float64 Hessian) and ``F*``
    evaluated there (``f_star_mp``; ``f_star`` is its float64 rounding), with the
    certificate ``f_star_error = ||grad F(w~)||^2 / (2c) >= F(w~) - F*``; otherwise
    numpy's solution (``f_star_error = None``).
    """

    name = "least_squares"

    def __init__(self, X, y) -> None:
        self._init_data(X, y)
        self.H = self.X.T @ self.X / self.n
        eigs = np.linalg.eigvalsh(self.H)
        lo, hi = _spectrum_bounds(eigs, float(np.abs(eigs).max()), self.n + self.d)
        self.L = hi
        self.c = lo if lo > 0 else None
        self._solve()

    @classmethod
    def synthetic(cls, n: int, d: int, *, seed: int, noise: float = 0.1) -> LeastSquares:
        """Gaussian X (n, d) and ``y = X w_true + noise * z`` from ``default_rng(seed)``."""
        n = check_int("n", n, min_value=1)
        d = check_int("d", d, min_value=1)
        seed = check_int("seed", seed, min_value=0)
        noise = check_real("noise", noise, min_value=0)
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        w_true = rng.standard_normal(d)
        y = X @ w_true + noise * rng.standard_normal(n)
        return cls(X, y)

    def _solve(self) -> None:
        w = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
        if self.c is None:
            self.w_star = w
            self._f_star_mp = None
            self.f_star_error = None
            self.f_star = float(self._value(w[None, :])[0])
        else:
            with mpmath.workdps(50):
                # Iterative refinement: the gradient X^T (X w - y) / n is evaluated in
                # mpmath (each product of floats is exact at 50 digits), the correction
                # solved with the float64 Hessian; each step gains ~15 digits.
                wm = [to_mpf(v) for v in w]
                for _ in range(2):
                    g = np.array([float(v) for v in self._grad_mp(wm)])
                    step = np.linalg.solve(self.H, g)
                    wm = [a - to_mpf(b) for a, b in zip(wm, step)]
                gm = self._grad_mp(wm)
                self._f_star_mp = self._value_mp(wm)
                # Certificate: F(w) - F* <= ||grad F(w)||^2 / (2c) (c-strong convexity).
                self.f_star_error = mpmath.fsum(v * v for v in gm) / (2 * to_mpf(self.c))
                self.w_star_mp = wm
                self.w_star = np.array([float(v) for v in wm])
                self.f_star = float(self._f_star_mp)
        self.f_inf = self.f_star

    @property
    def f_star_mp(self) -> mpmath.mpf:
        return self._f_star_mp if self._f_star_mp is not None else to_mpf(self.f_star)

    def _value(self, w):
        r = w @ self.X.T - self.y
        return 0.5 * np.einsum("rn,rn->r", r, r) / self.n

    def _grad(self, w):
        return (w @ self.X.T - self.y) @ self.X / self.n

    def _value_grad(self, w):
        r = w @ self.X.T - self.y
        return 0.5 * np.einsum("rn,rn->r", r, r) / self.n, r @ self.X / self.n

    def _value_mp(self, w):
        r = self._residuals_mp(w)
        return mpmath.fsum(ri * ri for ri in r) / (2 * self.n)

    def _grad_mp(self, w):
        r = self._residuals_mp(w)
        Xm = self._X_mp
        return [mpmath.fdot([row[j] for row in Xm], r) / self.n for j in range(self.d)]

    def component_grads(self, w, idx):
        Xb = self.X[idx]                                   # (R, b, d)
        r = np.einsum("rbd,rd->rb", Xb, w) - self.y[idx]  # (R, b)
        return np.einsum("rbd,rb->rd", Xb, r) / idx.shape[-1]

    def component_grads_mp(self, w, idx):
        out = [mpmath.mpf(0)] * self.d
        for i in idx:
            ri = mpmath.fsum(to_mpf(x) * wj for x, wj in zip(self.X[i], w)) - to_mpf(self.y[i])
            out = [o + to_mpf(x) * ri for o, x in zip(out, self.X[i])]
        return [o / len(idx) for o in out]

    def minibatch_constants(self, batch: int) -> tuple[float, float]:
        """(M, M_V) for the average of ``batch`` components drawn with replacement.

        Claim: ``E||g - grad F(w)||^2 <= M + M_V ||grad F(w)||^2`` for every w, with
        ``M = 2/(b n) sum_i ||grad f_i(w*)||^2`` and
        ``M_V = 2 lambda_max(S) / (b n c^2)``, ``S = sum_i (H_i - H)^2``, ``H_i = x_i x_i^T``.

        Proof: sampling b components iid gives variance ``(1/b)(1/n) sum_i
        ||grad f_i(w) - grad F(w)||^2``.  Each f_i is quadratic, so
        ``grad f_i(w) - grad F(w) = grad f_i(w*) + (H_i - H) e`` with ``e = w - w*`` (as
        grad F(w*) = 0); ``(a + b)^2 <= 2a^2 + 2b^2`` and
        ``sum_i ||(H_i - H) e||^2 = e^T S e <= lambda_max(S) ||e||^2``; by c-strong
        convexity ``||e|| <= ||grad F(w)|| / c``.  Since ``sum_i H_i = n H`` and
        ``H_i^2 = ||x_i||^2 H_i``, ``S = X^T diag(||x_i||^2) X - n H^2``.  Needs ``c > 0``.

        Raises:
            AssumptionError: when X is rank deficient (no c > 0).
        """
        batch = check_int("batch", batch, min_value=1)
        if self.c is None:
            raise AssumptionError(
                "minibatch (M, M_V) for least squares need c > 0 (X of full column rank); "
                "X is rank deficient")
        gi = self.X * (self.X @ self.w_star - self.y)[:, None]        # grad f_i(w*)
        M = 2.0 * float(np.sum(gi * gi)) / (batch * self.n)
        sq = np.sum(self.X * self.X, axis=1)
        S = (self.X.T * sq) @ self.X - self.n * (self.H @ self.H)
        S = (S + S.T) / 2
        eigs = np.linalg.eigvalsh(S)
        _, s_max = _spectrum_bounds(eigs, float(np.abs(eigs).max()) + float(sq.max()) ** 2
                                    * self.n, self.n + self.d)
        M_V = 2.0 * max(s_max, 0.0) / (batch * self.n * self.c ** 2)
        # Round up slightly so float rounding of the sums cannot make the bound too small.
        slack = 1.0 + 8.0 * (self.n + self.d) * _EPS
        return M * slack, M_V * slack


def _log1pexp(t: np.ndarray) -> np.ndarray:
    """log(1 + exp(t)) without overflow."""
    return np.logaddexp(0.0, t)


def _sigmoid(t: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-t)) without overflow."""
    return np.exp(-np.logaddexp(0.0, -t))


class LogisticRegression(_FiniteSum):
    """L2-regularised logistic regression, labels ``y_i in {-1, +1}``:

    .. math:: F(w) = \\frac1n \\sum_i \\log(1 + e^{-y_i x_i^T w}) + \\frac{reg}{2} \\|w\\|^2.

    Constants: the Hessian is ``X^T D X / n + reg I`` with ``D = diag(s_i (1 - s_i))``,
    ``s_i in (0, 1)`` so ``0 < D_ii <= 1/4``: hence ``L = lambda_max(X^T X)/(4n) + reg``
    (eigenvalue widened outward) and ``c = reg`` (``None`` when ``reg = 0``).

    ``F*`` (needs ``reg > 0``): damped Newton in float64 from w = 0 until the gradient
    stops decreasing, then two correction steps in mpmath at 40 digits using the float64
    Hessian (each gains about 15 digits since the Hessian error is ~1e-16 relative).
    ``f_star_error`` is the certificate ``||grad F(w~)||^2 / (2c) >= F(w~) - F*`` evaluated
    in mpmath at the final point w~, so ``F* in [f_star_mp - f_star_error, f_star_mp]``.
    Computed lazily (first access to ``f_star``).
    """

    name = "logistic_regression"

    def __init__(self, X, y, reg) -> None:
        self._init_data(X, y)
        if not np.all(np.abs(self.y) == 1.0):
            bad = float(self.y[np.abs(self.y) != 1.0][0])
            raise InvalidArgument(f"Expected y in {{-1, +1}} but got y containing {bad!r}")
        self.reg = float(check_real("reg", reg, min_value=0))
        G = self.X.T @ self.X
        eigs = np.linalg.eigvalsh(G)
        _, hi = _spectrum_bounds(eigs, float(np.abs(eigs).max()), self.n + self.d)
        self.L = hi / (4.0 * self.n) + self.reg
        self.c = self.reg if self.reg > 0 else None
        self._yX = self.y[:, None] * self.X

    @classmethod
    def synthetic(cls, n: int, d: int, *, reg: float, seed: int,
                  flip: float = 0.1) -> LogisticRegression:
        """Gaussian X, labels ``sign(x^T w_true)`` with a fraction ``flip`` flipped."""
        n = check_int("n", n, min_value=1)
        d = check_int("d", d, min_value=1)
        seed = check_int("seed", seed, min_value=0)
        flip = check_real("flip", flip, min_value=0, max_value=1)
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        w_true = rng.standard_normal(d)
        y = np.where(X @ w_true >= 0, 1.0, -1.0)
        y = np.where(rng.random(n) < flip, -y, y)
        return cls(X, y, reg)

    def _value(self, w):
        z = w @ self._yX.T                                 # (R, n) margins y_i x_i^T w
        return (np.mean(_log1pexp(-z), axis=1)
                + 0.5 * self.reg * np.einsum("rd,rd->r", w, w))

    def _grad(self, w):
        z = w @ self._yX.T
        return -(_sigmoid(-z) @ self._yX) / self.n + self.reg * w

    def _value_grad(self, w):
        z = w @ self._yX.T
        value = (np.mean(_log1pexp(-z), axis=1)
                 + 0.5 * self.reg * np.einsum("rd,rd->r", w, w))
        return value, -(_sigmoid(-z) @ self._yX) / self.n + self.reg * w

    def _margins_mp(self, w):
        return [mpmath.fsum(to_mpf(a) * wi for a, wi in zip(row, w)) for row in self._yX]

    def _value_mp(self, w):
        z = self._margins_mp(w)
        loss = mpmath.fsum(mpmath.log1p(mpmath.exp(-zi)) for zi in z) / self.n
        return loss + to_mpf(self.reg) * mpmath.fsum(wi * wi for wi in w) / 2

    def _grad_mp(self, w):
        z = self._margins_mp(w)
        s = [1 / (1 + mpmath.exp(zi)) for zi in z]       # sigmoid(-z_i)
        return [-mpmath.fsum(si * to_mpf(self._yX[i, j]) for i, si in enumerate(s)) / self.n
                + to_mpf(self.reg) * w[j] for j in range(self.d)]

    def component_grads(self, w, idx):
        A = self._yX[idx]                                  # (R, b, d)
        z = np.einsum("rbd,rd->rb", A, w)
        return -np.einsum("rbd,rb->rd", A, _sigmoid(-z)) / idx.shape[-1] + self.reg * w

    def component_grads_mp(self, w, idx):
        out = [mpmath.mpf(0)] * self.d
        for i in idx:
            zi = mpmath.fsum(to_mpf(a) * wj for a, wj in zip(self._yX[i], w))
            si = 1 / (1 + mpmath.exp(zi))
            out = [o - si * to_mpf(a) for o, a in zip(out, self._yX[i])]
        return [o / len(idx) + to_mpf(self.reg) * wj for o, wj in zip(out, w)]

    def minibatch_constants(self, batch: int) -> tuple[float, float]:
        """(M, M_V) = (sum_i ||x_i||^2 / (b n), 0) for ``batch`` components with replacement.

        Proof: write ``f_i = l_i + reg/2 ||w||^2``; the regulariser cancels in
        ``grad f_i - grad F``, and with replacement the variance is
        ``(1/b)(1/n) sum_i ||grad l_i - mean_j grad l_j||^2 <= (1/b)(1/n) sum_i
        ||grad l_i||^2``; ``grad l_i = -y_i x_i sigmoid(-y_i x_i^T w)`` has norm below
        ``||x_i||``.  Holds for every w, without convexity.
        """
        batch = check_int("batch", batch, min_value=1)
        M = float(np.sum(self.X * self.X)) / (batch * self.n)
        return M * (1.0 + 4.0 * self.n * self.d * _EPS), 0.0

    # -- F* by Newton ------------------------------------------------------------------------
    @functools.cached_property
    def _solution(self):
        if self.reg <= 0:
            raise AssumptionError(
                "F* of logistic regression needs reg > 0 (strong convexity); got reg=0")
        w = np.zeros(self.d)
        f = float(self._value(w[None])[0])
        for _ in range(100):
            g = self._grad(w[None])[0]
            z = self._yX @ w
            s = _sigmoid(z)
            H = (self._yX.T * (s * (1 - s))) @ self._yX / self.n + self.reg * np.eye(self.d)
            step = np.linalg.solve(H, g)
            t = 1.0
            while True:  # backtracking keeps damped Newton monotone far from w*
                w_new = w - t * step
                f_new = float(self._value(w_new[None])[0])
                if f_new <= f - 0.25 * t * float(g @ step) or t < 1e-12:
                    break
                t /= 2
            done = f_new >= f and t == 1.0
            w, f = w_new, min(f, f_new)
            if done or float(np.linalg.norm(g)) < 1e-15 * max(1.0, self.L):
                break
        with mpmath.workdps(40):
            wm = [to_mpf(v) for v in w]
            for _ in range(2):
                gm = self._grad_mp(wm)
                # The float Hessian is accurate to ~1e-16: each step gains ~15 digits.
                step = np.linalg.solve(H, np.array([float(v) for v in gm]))
                wm = [wi - to_mpf(si) for wi, si in zip(wm, step)]
            gm = self._grad_mp(wm)
            fm = self._value_mp(wm)
            err = mpmath.fsum(v * v for v in gm) / (2 * to_mpf(self.reg))
        return wm, fm, err

    @property
    def w_star_mp(self) -> list:
        return self._solution[0]

    @property
    def w_star(self) -> np.ndarray:
        return np.array([float(v) for v in self._solution[0]])

    @property
    def f_star_mp(self) -> mpmath.mpf:
        return self._solution[1]

    @property
    def f_star(self) -> float:
        return float(self._solution[1])

    @property
    def f_inf(self) -> float:
        return self.f_star

    @property
    def f_star_error(self) -> mpmath.mpf:
        return self._solution[2]


# -- nonconvex ---------------------------------------------------------------------------------
class CauchyLoss(Objective):
    """Smooth nonconvex, bounded below: ``F(w) = sum_i log(1 + (w_i - a_i)^2)``.

    Claim: F is L-smooth with ``L = 2``, ``F_inf = F* = 0`` (attained at ``w = a``), and F
    is not convex (so ``c = None``).

    Proof: F is separable with ``phi(t) = log(1 + t^2)``, ``phi'(t) = 2t/(1 + t^2)``,
    ``phi''(t) = 2(1 - t^2)/(1 + t^2)^2``.  With ``u = t^2 >= 0``,
    ``|1 - u| <= 1 + u <= (1 + u)^2`` so ``|phi''| <= 2``, equality at t = 0.  The Hessian
    is diagonal with entries in ``[-1/4, 2]`` (the minimum of phi'' is at u = 3), so its
    spectral norm is at most 2 and, by the mean value theorem,
    ``||grad F(w) - grad F(v)|| <= 2 ||w - v||``.  ``phi >= 0`` with equality at t = 0
    gives ``F_inf = 0``; ``phi''(t) < 0`` for ``|t| > 1`` shows nonconvexity.

    Args:
        a: the minimiser (d,).
    """

    name = "cauchy_loss"

    def __init__(self, a) -> None:
        self.a = as_real_array("a", a, ndim=1)
        if self.a.size == 0:
            raise InvalidArgument("Expected a to be non-empty but got a=[]")
        self.d = self.a.size
        self.L = 2.0
        self.c = None
        self.f_star = 0.0
        self.f_inf = 0.0
        self.w_star = self.a.copy()

    def _value(self, w):
        t = w - self.a
        return np.sum(np.log1p(t * t), axis=1)

    def _grad(self, w):
        t = w - self.a
        return 2.0 * t / (1.0 + t * t)

    def _value_mp(self, w):
        return mpmath.fsum(mpmath.log1p((wi - to_mpf(ai)) ** 2) for wi, ai in zip(w, self.a))

    def _grad_mp(self, w):
        out = []
        for wi, ai in zip(w, self.a):
            t = wi - to_mpf(ai)
            out.append(2 * t / (1 + t * t))
        return out


# -- oracles -------------------------------------------------------------------------------------
class AdditiveNoise:
    """``g(w, xi) = grad F(w) + xi`` with ``xi ~ N(0, Sigma)``; ``M = trace Sigma``, ``M_V = 0``.

    Args:
        objective: any :class:`Objective`.
        sigma2: per-coordinate variances (a number for all coordinates, or shape (d,)),
            giving ``Sigma = diag(sigma2)``; or
        cov: a symmetric positive semidefinite (d, d) covariance.  Give exactly one.

    Draws ``z = rng.standard_normal(w.shape)`` once per call and returns
    ``grad F(w) + z B^T`` with ``B = diag(sqrt(sigma2))`` or ``B = U diag(sqrt(eig))``
    (``cov = B B^T`` up to rounding).
    """

    def __init__(self, objective: Objective, sigma2=None, cov=None) -> None:
        if not isinstance(objective, Objective):
            raise InvalidArgument(
                f"Expected objective to be an lpsgd.objectives.Objective but got "
                f"objective={objective!r}")
        self.objective = objective
        d = objective.d
        if (sigma2 is None) == (cov is None):
            raise InvalidArgument(
                f"Expected exactly one of sigma2 and cov but got sigma2={sigma2!r}, cov={cov!r}")
        if sigma2 is not None:
            s = as_real_array("sigma2", sigma2, ndim=(0, 1), min_value=0.0)
            s = np.broadcast_to(s, (d,)).copy() if s.ndim == 0 else s
            if s.shape != (d,):
                raise InvalidArgument(
                    f"Expected sigma2 to have shape ({d},) but got shape {s.shape}")
            self.sigma2 = s
            self.cov = np.diag(s)
            self._sd = np.sqrt(s)
            self._B = np.diag(self._sd)
            self._diag = True
        else:
            C = as_real_array("cov", cov, shape=(d, d))
            if not np.array_equal(C, C.T):
                raise InvalidArgument("Expected cov to be symmetric but got an asymmetric cov")
            eigs, U = np.linalg.eigh(C)
            tol = 4.0 * d * _EPS * max(float(np.abs(eigs).max()), 0.0)
            if eigs.min() < -tol:
                raise InvalidArgument(
                    f"Expected cov to be positive semidefinite but got smallest eigenvalue "
                    f"{float(eigs.min())!r}")
            self.cov = C
            self.sigma2 = np.diag(C).copy()
            self._B = U * np.sqrt(np.maximum(eigs, 0.0))
            self._diag = False
        self.M = float(np.sum(self.sigma2))
        self.M_V = 0.0

    @property
    def M_G(self) -> float:
        return 1.0 + self.M_V

    def sample(self, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Stochastic gradients at ``w`` of shape (d,) or (R, d) (same shape back)."""
        g = self.objective._grad(np.atleast_2d(w)).reshape(w.shape)
        return self.sample_given_grad(g, rng)

    def sample_given_grad(self, g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``g + xi`` for an already computed ``g = grad F(w)`` (shape (d,) or (R, d)): the
        draw of :meth:`sample` without computing the gradient again (the engines have it).
        ``g`` is not modified; the result is a new array.
        """
        z = rng.standard_normal(g.shape)
        if self._diag:
            z *= self._sd      # in place: the batched engine's arrays are large
            z += g
            return z
        return g + z @ self._B.T

    #: Former private name of :meth:`sample_given_grad` (kept for existing callers).
    _sample_given_grad = sample_given_grad

    def sample_mp(self, w: list, rng: np.random.Generator) -> list:
        """One stochastic gradient in mpmath: the same draw as ``sample`` with one run."""
        return self.sample_given_grad_mp(self.objective._grad_mp(w), rng)

    def sample_given_grad_mp(self, g: list, rng: np.random.Generator) -> list:
        """``g + xi`` in mpmath for an already computed ``g = grad F(w)`` (a list of d mpf):
        the draw of :meth:`sample_mp`, the float64 normals used as exact numbers."""
        z = rng.standard_normal(len(g))
        if self._diag:
            return [gi + mpmath.sqrt(to_mpf(s)) * to_mpf(zi)
                    for gi, s, zi in zip(g, self.sigma2, z)]
        return [gi + mpmath.fsum(to_mpf(b) * to_mpf(zj) for b, zj in zip(row, z))
                for gi, row in zip(g, self._B)]


class Minibatch:
    """Average of ``batch`` component gradients ``grad f_i``, i uniform with replacement.

    Args:
        objective: a finite sum (:class:`LeastSquares` or :class:`LogisticRegression`).
        batch: the batch size b >= 1.

    ``M`` and ``M_V`` come from the objective's ``minibatch_constants`` (each documents
    its proof).  Draws ``rng.integers(0, n, size=w.shape[:-1] + (batch,))`` once per call.
    """

    def __init__(self, objective: Objective, batch: int) -> None:
        if not isinstance(objective, _FiniteSum):
            raise InvalidArgument(
                f"Expected objective to be a finite sum (LeastSquares, LogisticRegression) "
                f"but got objective={objective!r}")
        self.objective = objective
        self.batch = check_int("batch", batch, min_value=1)
        self.M, self.M_V = objective.minibatch_constants(self.batch)

    @property
    def M_G(self) -> float:
        return 1.0 + self.M_V

    def sample(self, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        idx = rng.integers(0, self.objective.n, size=w.shape[:-1] + (self.batch,))
        if w.ndim == 1:
            return self.objective.component_grads(w[None], idx[None])[0]
        return self.objective.component_grads(w, idx)

    def sample_mp(self, w: list, rng: np.random.Generator) -> list:
        idx = rng.integers(0, self.objective.n, size=(self.batch,))
        return self.objective.component_grads_mp(w, [int(i) for i in idx])


Oracle = AdditiveNoise | Minibatch
