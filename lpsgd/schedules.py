"""Stepsize schedules mu_k and shrinkage schedules q_k (the setting of lpsgd.theory).

Every schedule is an object with

* ``values(K)``: a tuple of ``K`` floats, the values at steps ``k = 1..K``;
* ``values_mp(K)``: the same values as mpmath numbers, exact where the schedule's
  definition is exact (a float argument is converted exactly; ``beta / (gamma + k)`` is
  evaluated at the caller's mpmath working precision);
* ``min_value(K)`` / ``max_value(K)``: the extremes over ``k = 1..K`` (exact Python
  numbers when the schedule is exact, floats otherwise).

``values(K)`` is always a prefix of ``values(K + 1)``, so a schedule describes one
infinite sequence.  Shrinkage factors must lie in ``(0, 1]`` and stepsizes must be
positive; anything else (including NaN) raises :class:`lpsgd.errors.InvalidArgument`
naming the argument and its value.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from fractions import Fraction

import mpmath
import numpy as np

from lpsgd._validate import check_int, check_real
from lpsgd.errors import InvalidArgument

__all__ = ["Schedule", "Constant", "Diminishing", "Periodic", "RandomQ", "AdversarialQ",
           "constant", "diminishing", "constant_q", "random_q", "periodic_q",
           "adversarial_q", "as_schedule", "to_mpf"]


def to_mpf(x: object) -> mpmath.mpf:
    """Convert a Python/numpy real or Fraction to mpf (exact for floats and ints)."""
    if isinstance(x, mpmath.mpf):
        return x
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    if isinstance(x, numbers.Integral):
        return mpmath.mpf(int(x))
    return mpmath.mpf(float(x))


def _check_q(name: str, value: object) -> object:
    return check_real(name, value, min_value=0, max_value=1, exclude_min=True)


def _check_mu(name: str, value: object) -> object:
    return check_real(name, value, min_value=0, exclude_min=True)


class Schedule:
    """Base class: a sequence indexed by k = 1, 2, ... ."""

    kind: str = "schedule"

    def values(self, K: int) -> tuple[float, ...]:
        """The first ``K`` values (k = 1..K) as floats."""
        check_int("K", K, min_value=0)
        return tuple(float(v) for v in self._exact(K))

    def values_mp(self, K: int) -> tuple[mpmath.mpf, ...]:
        """The first ``K`` values as mpf, exact for exactly given schedules."""
        check_int("K", K, min_value=0)
        return tuple(to_mpf(v) for v in self._exact(K))

    def min_value(self, K: int):
        check_int("K", K, min_value=1)
        return min(self._exact(K))

    def max_value(self, K: int):
        check_int("K", K, min_value=1)
        return max(self._exact(K))

    def _exact(self, K: int) -> list:  # pragma: no cover - abstract
        raise NotImplementedError


class Constant(Schedule):
    """``v_k = value`` for every k."""

    def __init__(self, value, *, name: str, kind: str) -> None:
        self.value = value
        self.kind = kind
        self._name = name

    def _exact(self, K: int) -> list:
        return [self.value] * K

    def __repr__(self) -> str:
        return f"{self._name}({self.value!r})"


class Diminishing(Schedule):
    """``mu_k = beta / (gamma + k)`` (Theorem 2, lpsgd.theory.theorem2)."""

    kind = "stepsize"

    def __init__(self, beta, gamma) -> None:
        self.beta = _check_mu("beta", beta)
        self.gamma = check_real("gamma", gamma, min_value=0, exclude_min=True)

    def _exact(self, K: int) -> list:
        # Exact rationals when beta and gamma are (floats convert exactly to Fraction).
        b, g = Fraction(self.beta), Fraction(self.gamma)
        return [b / (g + k) for k in range(1, K + 1)]

    def values_mp(self, K: int) -> tuple[mpmath.mpf, ...]:
        check_int("K", K, min_value=0)
        b, g = to_mpf(self.beta), to_mpf(self.gamma)
        return tuple(b / (g + k) for k in range(1, K + 1))

    def __repr__(self) -> str:
        return f"diminishing(beta={self.beta!r}, gamma={self.gamma!r})"


class Periodic(Schedule):
    """``q_k = values[(k - 1) mod len(values)]``."""

    kind = "shrinkage"

    def __init__(self, values: Sequence) -> None:
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            raise InvalidArgument(
                f"Expected values to be a non-empty sequence but got values={values!r}")
        vals = list(values)
        if not vals:
            raise InvalidArgument(f"Expected values to be non-empty but got values={values!r}")
        for i, v in enumerate(vals):
            _check_q(f"values[{i}]", v)
        self.pattern = tuple(v.item() if isinstance(v, np.generic) else v for v in vals)

    def _exact(self, K: int) -> list:
        n = len(self.pattern)
        return [self.pattern[(k - 1) % n] for k in range(1, K + 1)]

    def __repr__(self) -> str:
        return f"periodic_q({list(self.pattern)!r})"


class RandomQ(Schedule):
    """iid ``q_k ~ Uniform[q_min, 1)``, drawn from ``numpy.random.default_rng(seed)``.

    The k-th value is the k-th draw of the generator, so ``values(K)`` is a prefix of
    ``values(K + 1)`` and the schedule is fixed before any gradient noise is drawn
    (as the theorems of lpsgd.theory require).
    """

    kind = "shrinkage"

    def __init__(self, q_min, seed: int) -> None:
        self.q_min = _check_q("q_min", q_min)
        self.seed = check_int("seed", seed, min_value=0)

    def _exact(self, K: int) -> list:
        u = np.random.default_rng(self.seed).random(K)
        q = float(self.q_min) + (1.0 - float(self.q_min)) * u
        # Float rounding could only push q_min + (1 - q_min) u past the interval ends.
        q = np.clip(q, float(self.q_min), 1.0)
        return [float(v) for v in q]

    def __repr__(self) -> str:
        return f"random_q(q_min={self.q_min!r}, seed={self.seed})"


class AdversarialQ(Schedule):
    """Shrinkage chosen, step by step, to maximise the exact expected optimality gap.

    Problem: a quadratic ``F(w) = 1/2 sum_i lambda_i (w_i - w*_i)^2`` with additive noise
    of per-coordinate variances ``sigma2`` and quantisation noise ``tau2`` (lpsgd.theory
    section 4), second moments ``s_{k+1,i} = (1 - mu_k q_k lambda_i)^2 s_{k,i}
    + mu_k^2 (q_k^2 sigma_i^2 + tau_i^2)``, and ``q_k`` restricted to ``[q_min, q_max]``.

    Claim (why this pattern hurts most): the next gap ``1/2 sum_i lambda_i s_{k+1,i}`` is a
    convex quadratic in ``q_k`` (its ``q_k^2`` coefficient is
    ``mu_k^2 sum_i lambda_i (lambda_i^2 s_{k,i} + sigma_i^2) >= 0``), so its maximum over
    the interval is attained at an endpoint: the schedule only ever takes the values
    ``q_min`` and ``q_max``.  For ``d = 1`` the greedy choice maximises the gap at every
    later step too, since each step is an increasing map of ``s_k``.  Typical outcome:
    ``q_min`` while the gap is large (slowest contraction, Theorem 1's rate),
    ``q_max`` once the gap is near the noise floor (largest injected noise ``q^2 M``).
    Without noise and with ``mu q_max lambda_i <= 1`` it is ``q_min`` at every step.

    The decisions are computed exactly in mpmath (40 digits); ties pick ``q_min``.
    """

    kind = "shrinkage"

    def __init__(self, q_min, *, q_max=1.0, lambdas, s1, mu, sigma2=None, tau2=None) -> None:
        self.q_min = _check_q("q_min", q_min)
        self.q_max = _check_q("q_max", q_max)
        if self.q_max < self.q_min:
            raise InvalidArgument(
                f"Expected q_max >= q_min={q_min!r} but got q_max={q_max!r}")
        self.lambdas = _vector("lambdas", lambdas, min_value=0)
        d = len(self.lambdas)
        self.s1 = _vector("s1", s1, min_value=0, size=d)
        self.sigma2 = _vector("sigma2", sigma2 if sigma2 is not None else [0.0] * d,
                              min_value=0, size=d)
        self.tau2 = _vector("tau2", tau2 if tau2 is not None else [0.0] * d,
                            min_value=0, size=d)
        self.mu = as_schedule(mu, "mu", kind="stepsize")
        self._cache: list = []

    def _exact(self, K: int) -> list:
        if len(self._cache) < K:
            self._cache = self._compute(K)
        return self._cache[:K]

    def _compute(self, K: int) -> list:
        with mpmath.workdps(40):
            lam = [to_mpf(v) for v in self.lambdas]
            s = [to_mpf(v) for v in self.s1]
            sig = [to_mpf(v) for v in self.sigma2]
            tau = [to_mpf(v) for v in self.tau2]
            mus = self.mu.values_mp(K)
            out = []
            for k in range(K):
                mu = mus[k]

                def step(q):
                    return [(1 - mu * q * lam[i]) ** 2 * s[i]
                            + mu ** 2 * (q ** 2 * sig[i] + tau[i]) for i in range(len(s))]

                cand = []
                for q in (self.q_min, self.q_max):
                    s_next = step(to_mpf(q))
                    cand.append((sum(lam[i] * s_next[i] for i in range(len(s))), q, s_next))
                # Larger gap wins; on a tie keep q_min (listed first).
                best = cand[0] if cand[0][0] >= cand[1][0] else cand[1]
                out.append(best[1])
                s = best[2]
            return out

    def __repr__(self) -> str:
        return f"adversarial_q(q_min={self.q_min!r}, q_max={self.q_max!r})"


def _vector(name: str, values, *, min_value=None, size: int | None = None) -> tuple:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidArgument(
            f"Expected {name} to be a non-empty 1-d sequence but got {name}={values!r}")
    if size is not None and arr.size != size:
        raise InvalidArgument(
            f"Expected {name} to have length {size} but got length {arr.size} "
            f"({name}={values!r})")
    for i, v in enumerate(arr):
        check_real(f"{name}[{i}]", float(v), min_value=min_value)
    return tuple(float(v) for v in arr)


# -- public constructors -----------------------------------------------------------------
def constant(mu) -> Constant:
    """Constant stepsize ``mu_k = mu > 0``."""
    return Constant(_check_mu("mu", mu), name="constant", kind="stepsize")


def diminishing(beta, gamma) -> Diminishing:
    """Diminishing stepsize ``mu_k = beta / (gamma + k)``, ``beta > 0``, ``gamma > 0``."""
    return Diminishing(beta, gamma)


def constant_q(q) -> Constant:
    """Constant shrinkage ``q_k = q`` with ``0 < q <= 1``."""
    return Constant(_check_q("q", q), name="constant_q", kind="shrinkage")


def random_q(q_min, seed: int) -> RandomQ:
    """iid uniform shrinkage in ``[q_min, 1)``, reproducible from ``seed``."""
    return RandomQ(q_min, seed)


def periodic_q(values: Sequence) -> Periodic:
    """Shrinkage cycling through ``values`` (each in ``(0, 1]``)."""
    return Periodic(values)


def adversarial_q(q_min, *, q_max=1.0, lambdas, s1, mu, sigma2=None,
                  tau2=None) -> AdversarialQ:
    """Greedy worst-case shrinkage for a diagonal quadratic (see :class:`AdversarialQ`).

    Args:
        q_min: smallest allowed factor, in ``(0, 1]``.
        q_max: largest allowed factor, in ``[q_min, 1]``.
        lambdas: eigenvalues ``lambda_i >= 0`` of the quadratic.
        s1: initial second moments ``(w_{1,i} - w*_i)^2``.
        mu: stepsize (number or stepsize schedule).
        sigma2: gradient-noise variances per coordinate (default 0).
        tau2: quantisation-noise variances per coordinate (default 0).
    """
    return AdversarialQ(q_min, q_max=q_max, lambdas=lambdas, s1=s1, mu=mu, sigma2=sigma2,
                        tau2=tau2)


def as_schedule(value, name: str, *, kind: str) -> Schedule:
    """A schedule from a schedule (checked for its kind) or a number (made constant).

    Args:
        value: a :class:`Schedule` or a real number.
        name: the argument name used in error messages.
        kind: ``"stepsize"`` or ``"shrinkage"``.
    """
    if isinstance(value, Schedule):
        if value.kind != kind:
            raise InvalidArgument(
                f"Expected {name} to be a {kind} schedule but got {name}={value!r} "
                f"(a {value.kind} schedule)")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real | mpmath.mpf):
        raise InvalidArgument(
            f"Expected {name} to be a number or a {kind} schedule but got {name}={value!r}")
    if kind == "stepsize":
        return Constant(_check_mu(name, value), name="constant", kind="stepsize")
    return Constant(_check_q(name, value), name="constant_q", kind="shrinkage")
