"""Shrunk and quantised SGD in mpmath: the ground truth for :mod:`lpsgd.fast.sgd`.

Same pieces, names, arguments and order of random draws as :mod:`lpsgd.fast.sgd` (read
its docstring for the iteration).  Here every quantity is an mpmath number at ``DPS``
decimal digits (set locally with ``mpmath.workdps``; the global precision is never
touched), the random draws (float64 from the Generator) are used as exact numbers, and
quantisation goes through the exact :func:`lpsgd.reference.quantize`, which rounds the
mpf values themselves (no detour through float64).

Runs are made one at a time; with ``runs > 1`` they share one Generator and draw in
sequence, so only ``runs=1`` follows the same sample path as the fast layer.
Directions are lists of d mpf (one run); results come back in numpy object arrays of
mpf shaped like the fast layer's float arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import mpmath
import numpy as np

from lpsgd._engine_common import (RunResult, callable_name, check_run_args, compose,
                                  quantizer_or_default)
from lpsgd._validate import check_bool
from lpsgd.errors import InvalidArgument
from lpsgd.formats import Format, as_format
from lpsgd.objectives import AdditiveNoise, Minibatch, Objective, as_real_array
from lpsgd.reference.quantize import quantize as _quantize
from lpsgd.rounding import rounding_mode
from lpsgd.schedules import Schedule, as_schedule, to_mpf

__all__ = ["Transform", "shrink", "add_noise", "quantize", "scale_by_stepsize", "chain",
           "run", "SGDResult", "mc_mean_se", "DPS"]

#: Working precision (decimal digits) of the exact engine.
DPS = 50

Update = Callable[[list, int, np.random.Generator], list]


@dataclasses.dataclass(frozen=True)
class Transform:
    """A pure piece of the update: ``init(steps)`` returns ``fn(u, k, rng) -> u``
    (``u`` a list of d mpf, ``k`` the 1-based step)."""

    name: str
    init: Callable[[int], Update]

    def __repr__(self) -> str:
        return self.name


def _times_schedule(sched: Schedule, label: str) -> Transform:
    """``u -> f_k u`` for the k-th value f_k of a schedule (shrinkage or stepsize)."""

    def init(steps: int) -> Update:
        factors = sched.values_mp(steps)
        return lambda u, k, rng: [factors[k - 1] * x for x in u]

    return Transform(f"{label}({sched!r})", init)


def shrink(q: Schedule | float) -> Transform:
    """``u -> q_k u`` with ``q`` a number in (0, 1] or a shrinkage schedule (exact values)."""
    sched = as_schedule(q, "q", kind="shrinkage")
    return _times_schedule(sched, "shrink")


def add_noise(tau2) -> Transform:
    """``u -> u + e``, ``e_i = sqrt(tau2_i) z_i`` with ``z = rng.standard_normal(d)``."""
    var = as_real_array("tau2", tau2, ndim=(0, 1), min_value=0.0)

    def init(steps: int) -> Update:
        def fn(u, k, rng):
            d = len(u)
            if var.ndim == 1 and var.shape[0] != d:
                raise InvalidArgument(
                    f"Expected tau2 to have shape ({d},) but got shape {var.shape}")
            sd = [mpmath.sqrt(to_mpf(v)) for v in np.broadcast_to(var, (d,))]
            z = rng.standard_normal(d)
            return [x + s * to_mpf(zi) for x, s, zi in zip(u, sd, z)]
        return fn

    return Transform(f"add_noise(tau2={tau2!r})", init)


def quantize(fmt: Format | str, rounding: str = "nearest_even", *,
             saturate: bool = False, quantizer: Callable[..., np.ndarray] | None = None
             ) -> Transform:
    """Round every component exactly to ``fmt`` with ``rounding`` (stochastic modes draw
    ``rng.random(d)``); see :func:`lpsgd.reference.quantize`.

    Args:
        fmt: a :class:`~lpsgd.formats.Format` or a preset name (element formats only: the
            block quantisers take float64 inputs, and the iterates here are mpf).
        rounding: one of :data:`lpsgd.rounding.ROUNDING_MODES`.
        saturate: clamp finite overflow to ``+-X_max`` instead of giving inf.
        quantizer: the quantiser to call, with the signature of
            :func:`lpsgd.reference.quantize` (called with an object array of d mpf,
            ``rounding`` as its name, ``rng`` (None in the deterministic modes) and
            ``saturate``); None uses :func:`lpsgd.reference.quantize`.  It is bound here,
            once; nothing is looked up by name when the engine runs.
    """
    quantizer = quantizer_or_default(quantizer, _quantize, "lpsgd.reference.quantize")
    f = as_format(fmt)
    mode = rounding_mode(rounding)
    saturate = check_bool("saturate", saturate)
    q, name = quantizer, mode.value

    def init(steps: int) -> Update:
        def fn(u, k, rng):
            x = np.empty(len(u), dtype=object)
            x[:] = u
            out = q(x, f, name, rng=rng if mode.is_stochastic else None, saturate=saturate)
            return [to_mpf(v) if not isinstance(v, mpmath.mpf) else v for v in out]
        return fn

    label = "" if quantizer is _quantize else f", quantizer={callable_name(quantizer)}"
    return Transform(f"quantize({f.name or f!r}, {mode.value!r}{label})", init)


def scale_by_stepsize(mu: Schedule | float) -> Transform:
    """``u -> mu_k u`` with ``mu`` a positive number or a stepsize schedule (exact)."""
    sched = as_schedule(mu, "mu", kind="stepsize")
    return _times_schedule(sched, "scale_by_stepsize")


def chain(*transforms: Transform) -> Transform:
    """Compose pieces left to right: ``chain(a, b)(u) = b(a(u))``."""
    return compose(Transform, transforms)


def _identity(u, k, rng):
    return u


def _projection_mp(qg, g) -> mpmath.mpf:
    """``<Q(g), g> / ||g||^2`` for one vector, in mpmath (NaN when ``g = 0``): the exact
    twin of :func:`lpsgd.shrinkage.projection_shrinkage`."""
    den = mpmath.fsum(x * x for x in g)
    if den == 0:
        return mpmath.nan
    return mpmath.fsum(a * b for a, b in zip(qg, g)) / den


def _norm_ratio_mp(qg, g) -> mpmath.mpf:
    """``||Q(g)|| / ||g||`` for one vector, in mpmath (NaN when ``g = 0``): the exact twin
    of :func:`lpsgd.shrinkage.norm_ratio`."""
    den = mpmath.fsum(x * x for x in g)
    if den == 0:
        return mpmath.nan
    return mpmath.sqrt(mpmath.fsum(x * x for x in qg) / den)


def mc_mean_se(x) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over the last axis (runs) of an object array of mpf,
    ignoring NaN entries; the standard error is NaN with fewer than two runs."""
    x = np.asarray(x, dtype=object)
    lead = x.shape[:-1]
    mean = np.empty(lead, dtype=object)
    se = np.empty(lead, dtype=object)
    with mpmath.workdps(DPS):
        for idx in np.ndindex(*lead):
            vals = [v for v in x[idx] if not mpmath.isnan(v)]
            n = len(vals)
            m = mpmath.fsum(vals) / n if n else mpmath.nan
            mean[idx] = m
            se[idx] = (mpmath.sqrt(mpmath.fsum((v - m) ** 2 for v in vals) / (n - 1) / n)
                       if n > 1 else mpmath.nan)
    return mean, se


@dataclasses.dataclass
class SGDResult(RunResult):
    """Same fields as :class:`lpsgd.fast.sgd.SGDResult`, holding mpf in object arrays."""

    def stats(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """Monte Carlo mean and standard error over runs of ``field``, per k (mpf)."""
        return mc_mean_se(getattr(self, field))


def run(objective: Objective, w1, *, K: int, mu: Schedule | float,
        gradient: Transform | None = None, update: Transform | None = None,
        iterate: Transform | None = None, oracle: AdditiveNoise | Minibatch | None = None,
        runs: int = 1, seed: int | np.random.Generator = 0,
        trajectory: bool = False) -> SGDResult:
    """Exact twin of :func:`lpsgd.fast.sgd.run` (same arguments and meaning)."""
    w1, K, runs, rng = check_run_args(
        objective, w1, K, oracle, {"gradient": gradient, "update": update, "iterate": iterate},
        runs, seed, Transform)
    trajectory = check_bool("trajectory", trajectory)
    steps = K - 1
    d = objective.d
    starts = np.broadcast_to(w1, (runs, d))

    def obj_array(shape):
        return np.empty(shape, dtype=object)

    gaps, gn2 = obj_array((K, runs)), obj_array((K, runs))
    qp, nr = obj_array((steps, runs)), obj_array((steps, runs))
    w_final = obj_array((runs, d))
    its = obj_array((K, runs, d)) if trajectory else None
    gs = obj_array((steps, runs, d)) if trajectory else None
    ds = obj_array((steps, runs, d)) if trajectory else None
    with mpmath.workdps(DPS):
        # The pieces take their exact schedule values (values_mp) here, at the engine's
        # precision: built outside, a stepsize that is not a float64 would be rounded.
        g_fn = gradient.init(steps) if gradient is not None else _identity
        s_fn = scale_by_stepsize(mu).init(steps)
        u_fn = update.init(steps) if update is not None else _identity
        i_fn = iterate.init(steps) if iterate is not None else _identity
        f_inf = objective.f_star_mp
        for r in range(runs):
            w = [to_mpf(v) for v in starts[r]]
            for k in range(1, K + 1):
                grad = objective._grad_mp(w)
                gaps[k - 1, r] = objective._value_mp(w) - f_inf
                gn2[k - 1, r] = mpmath.fsum(x * x for x in grad)
                if trajectory:
                    its[k - 1, r] = w
                if k == K:
                    break
                if oracle is None:
                    g = grad
                elif isinstance(oracle, AdditiveNoise):
                    g = oracle.sample_given_grad_mp(grad, rng)
                else:
                    g = oracle.sample_mp(w, rng)
                gt = g_fn(g, k, rng)
                qp[k - 1, r] = _projection_mp(gt, g)
                nr[k - 1, r] = _norm_ratio_mp(gt, g)
                if trajectory:
                    gs[k - 1, r], ds[k - 1, r] = g, gt
                step = u_fn(s_fn(gt, k, rng), k, rng)
                w = i_fn([a - b for a, b in zip(w, step)], k, rng)
            w_final[r] = w
    return SGDResult(gaps, gn2, qp, nr, w_final, its, gs, ds,
                     M=0.0 if oracle is None else oracle.M,
                     M_V=0.0 if oracle is None else oracle.M_V)
