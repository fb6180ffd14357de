"""Shrunk and quantised SGD in numpy: R independent runs batched as an (R, d) array.

The iteration is composed from small pure pieces, as optax composes gradient
transformations.  A :class:`Transform` maps a batch of directions
``u`` (shape ``(R, d)``) at step ``k`` to new directions, drawing any randomness from the
Generator it is handed:

* :func:`shrink` multiplies by ``q_k`` (a shrinkage schedule of the shrinkage model
  behind Theorem 1, lpsgd.theory.theorem1);
* :func:`add_noise` adds zero-mean Gaussian noise with covariance ``diag(tau2)``
  (the quantisation noise ``e_k`` of the shrinkage model, ``M_q = sum tau2``);
* :func:`quantize` rounds to a real format with a rounding mode
  (:func:`lpsgd.fast.quantize`, or the quantiser passed as ``quantizer``);
* :func:`scale_by_stepsize` multiplies by ``mu_k``;
* :func:`chain` composes them left to right.

:func:`run` performs, for ``k = 1..K-1``::

    g_k      = oracle.sample(w_k)                 # stochastic gradient (or grad F)
    g~_k     = gradient(g_k)                      # e.g. chain(shrink(q), add_noise(tau2))
    d_k      = update(scale_by_stepsize(mu)(g~_k))  # update: e.g. quantize the step
    w_{k+1}  = iterate(w_k - d_k)                 # iterate: e.g. quantize the weights

and records, for every iterate ``k = 1..K``, ``F(w_k) - F*`` and ``||grad F(w_k)||^2``,
and for every step the measured shrinkage of ``g~_k`` against ``g_k``: the projection
``<g~, g> / ||g||^2`` and the norm ratio ``||g~|| / ||g||`` (the measured shrinkage of
lpsgd.shrinkage; NaN when ``g = 0``).

Example (the shrinkage model of Theorem 1, 1000 runs)::

    from lpsgd import schedules
    from lpsgd.fast import sgd
    from lpsgd.objectives import AdditiveNoise, DiagonalQuadratic

    F = DiagonalQuadratic([0.5, 1.0, 2.0])
    res = sgd.run(F, [1.0, 1.0, 1.0], K=100, mu=0.3,
                  gradient=sgd.chain(sgd.shrink(schedules.random_q(0.25, seed=1)),
                                     sgd.add_noise(1e-3)),
                  oracle=AdditiveNoise(F, sigma2=0.01), runs=1000, seed=0)
    res.gap_mean, res.gap_se          # E[F(w_k) - F*] estimates, k = 1..100

and with a real quantiser in the loop: ``gradient=sgd.quantize("float8_e4m3fn",
"stochastic")``, ``update=sgd.quantize("bfloat16")`` or ``iterate=sgd.quantize(...)``.

Randomness: one ``numpy.random.default_rng(seed)`` per call; per step the draws are, in
order, the oracle's, then each piece's in chain order, then ``update``'s and
``iterate``'s.  :mod:`lpsgd.reference.sgd` makes the same calls with shape ``(d,)``
instead of ``(1, d)``, which yields the same numbers, so ``runs=1`` runs of the two
layers with the same seed follow the same sample path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from lpsgd._engine_common import (RunResult, callable_name, check_run_args, compose,
                                  quantizer_or_default)
from lpsgd._validate import check_bool
from lpsgd.errors import InvalidArgument
from lpsgd.fast.quantize import quantize as _quantize
from lpsgd.formats import Format, as_format
from lpsgd.objectives import AdditiveNoise, Minibatch, Objective, as_real_array
from lpsgd.rounding import rounding_mode
from lpsgd.scaled import as_scaled_format, is_scaled
from lpsgd.schedules import Schedule, as_schedule

__all__ = ["Transform", "shrink", "add_noise", "quantize", "scale_by_stepsize", "chain",
           "run", "SGDResult", "mc_mean_se"]

Update = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Transform:
    """A pure piece of the update: ``init(steps)`` returns ``fn(u, k, rng) -> u``.

    ``init`` receives the number of steps so that schedules are evaluated once; ``fn``
    is called with the directions (shape ``(R, d)``), the 1-based step ``k`` and the
    run's Generator, and must not modify ``u`` in place.
    """

    name: str
    init: Callable[[int], Update]

    def __repr__(self) -> str:
        return self.name


def _times_schedule(sched: Schedule, label: str) -> Transform:
    """``u -> f_k u`` for the k-th value f_k of a schedule (shrinkage or stepsize)."""

    def init(steps: int) -> Update:
        factors = np.array(sched.values(steps))
        return lambda u, k, rng: factors[k - 1] * u

    return Transform(f"{label}({sched!r})", init)


def shrink(q: Schedule | float) -> Transform:
    """``u -> q_k u`` with ``q`` a number in (0, 1] or a shrinkage schedule."""
    sched = as_schedule(q, "q", kind="shrinkage")
    return _times_schedule(sched, "shrink")


def add_noise(tau2) -> Transform:
    """``u -> u + e`` with ``e ~ N(0, diag(tau2))`` drawn as ``rng.standard_normal(u.shape)``.

    Args:
        tau2: a variance for every coordinate, or variances of shape (d,) (>= 0).
    """
    sd = np.sqrt(as_real_array("tau2", tau2, ndim=(0, 1), min_value=0.0))

    def init(steps: int) -> Update:
        def fn(u, k, rng):
            if sd.ndim == 1 and sd.shape[0] != u.shape[-1]:
                raise InvalidArgument(
                    f"Expected tau2 to have shape ({u.shape[-1]},) but got shape {sd.shape}")
            return u + rng.standard_normal(u.shape) * sd
        return fn

    return Transform(f"add_noise(tau2={tau2!r})", init)


def quantize(fmt: Format | str, rounding: str = "nearest_even", *,
             saturate: bool = False, quantizer: Callable[..., np.ndarray] | None = None
             ) -> Transform:
    """Round every component to ``fmt`` with ``rounding`` (stochastic modes draw
    ``rng.random(u.shape)``); see :func:`lpsgd.fast.quantize`.

    Args:
        fmt: a :class:`~lpsgd.formats.Format` that fits binary64 or a preset name, or a
            :class:`~lpsgd.scaled.ScaledFormat` or scaled preset name (blocks run along
            the d components of each run).
        rounding: one of :data:`lpsgd.rounding.ROUNDING_MODES`.
        saturate: clamp finite overflow to ``+-X_max`` instead of giving inf.
        quantizer: the quantiser to call, with the signature of :func:`lpsgd.fast.quantize`
            (``quantizer(u, fmt, rounding, rng=..., saturate=...)``, ``rng`` passed only in
            the stochastic modes and ``rounding`` as its name); None uses
            :func:`lpsgd.fast.quantize`.  It is bound here, once: a property (or a user)
            checking another quantiser passes it, and nothing is looked up by name when
            the engine runs.
    """
    quantizer = quantizer_or_default(quantizer, _quantize, "lpsgd.fast.quantize")
    if is_scaled(fmt):
        f = as_scaled_format(fmt)
    else:
        f = as_format(fmt)
        if not f.fits_binary64:
            raise InvalidArgument(
                f"Expected a format that fits binary64 for the fast engine but got fmt={fmt!r}")
    mode = rounding_mode(rounding)
    saturate = check_bool("saturate", saturate)
    q, name = quantizer, mode.value
    # A per-tensor scale (NVFP4) belongs to one run's gradient: the R runs of a batch are
    # quantised one row at a time, never under one scale taken over all of them.
    per_run = is_scaled(f) and f.scale == "e4m3"

    def init(steps: int) -> Update:
        if mode.is_stochastic:
            def update(u, k, rng):
                return q(u, f, name, rng=rng, saturate=saturate)
        else:
            def update(u, k, rng):
                return q(u, f, name, saturate=saturate)
        if not per_run:
            return update

        def update_rows(u, k, rng):
            u = np.asarray(u)
            if u.ndim < 2:
                return update(u, k, rng)
            out = np.empty(u.shape, dtype=np.float64)
            for i in range(u.shape[0]):
                out[i] = update(u[i], k, rng)
            return out
        return update_rows

    label = "" if quantizer is _quantize else f", quantizer={callable_name(quantizer)}"
    return Transform(f"quantize({f.name or f!r}, {mode.value!r}{label})", init)


def scale_by_stepsize(mu: Schedule | float) -> Transform:
    """``u -> mu_k u`` with ``mu`` a positive number or a stepsize schedule."""
    sched = as_schedule(mu, "mu", kind="stepsize")
    return _times_schedule(sched, "scale_by_stepsize")


def chain(*transforms: Transform) -> Transform:
    """Compose pieces left to right: ``chain(a, b)(u) = b(a(u))``."""
    return compose(Transform, transforms)


def _identity(u, k, rng):
    return u


# -- measured shrinkage and Monte Carlo statistics -------------------------------------------
def _measure(gt: np.ndarray, g: np.ndarray, qp: np.ndarray, nr: np.ndarray,
             gg: np.ndarray | None = None) -> None:
    """Write projection shrinkage and norm ratio of each row into ``qp``/``nr``.

    Same definitions as :func:`lpsgd.shrinkage.projection_shrinkage` and
    :func:`lpsgd.shrinkage.norm_ratio` (NaN where g = 0; a test pins the agreement), fused
    here into three inner products written into preallocated rows: on a (10^4, 100)
    batch this is several times cheaper than the general functions, and it runs at
    every step.  ``gg`` may pass ``||g||^2`` per row when the caller already has it
    (exact gradients: it is the recorded ``||grad F||^2``, the same einsum).
    """
    if gg is None:
        gg = np.einsum("rd,rd->r", g, g)
    ok = gg > 0
    qp.fill(np.nan)
    np.divide(np.einsum("rd,rd->r", gt, g), gg, out=qp, where=ok)
    # ||g~||^2 goes into the output row and is divided and rooted in place
    np.einsum("rd,rd->r", gt, gt, out=nr)
    np.divide(nr, gg, out=nr, where=ok)
    np.sqrt(nr, out=nr, where=ok)
    np.copyto(nr, np.nan, where=~ok)


def mc_mean_se(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over the last axis (runs), ignoring NaN entries.

    The standard error is ``std(ddof=1) / sqrt(n)`` over the n non-NaN runs; it is NaN
    when fewer than two runs are available.  Infinite entries (diverged runs) make the
    mean infinite or NaN, as they should.
    """
    x = np.asarray(x, dtype=float)
    ok = ~np.isnan(x)
    n = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", over="ignore"):
        s = np.where(ok, x, 0.0).sum(axis=-1)
        mean = np.divide(s, n, out=np.full(n.shape, np.nan), where=n > 0)
        dev = np.where(ok, x - mean[..., None], 0.0)
        ss = (dev * dev).sum(axis=-1)
        var = np.divide(ss, n - 1, out=np.full(n.shape, np.nan), where=n > 1)
        se = np.sqrt(var / np.maximum(n, 1))
    return mean, se


@dataclasses.dataclass
class SGDResult(RunResult):
    """Trajectory statistics of ``runs`` runs (arrays indexed [k - 1, run]), float64.

    The fields (gaps, grad_norms2, q_proj, norm_ratios, w_final, iterates, gradients,
    directions, M, M_V) and the derived means are those of
    :class:`lpsgd._engine_common.RunResult`, shared with :class:`lpsgd.reference.sgd.SGDResult`
    (which holds mpf); only the Monte Carlo statistics are computed here.
    """

    def stats(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """Monte Carlo mean and standard error over runs of ``field``, per k."""
        return mc_mean_se(getattr(self, field))


# -- the run --------------------------------------------------------------------------------
def run(objective: Objective, w1, *, K: int, mu: Schedule | float,
        gradient: Transform | None = None, update: Transform | None = None,
        iterate: Transform | None = None, oracle: AdditiveNoise | Minibatch | None = None,
        runs: int = 1, seed: int | np.random.Generator = 0,
        trajectory: bool = False) -> SGDResult:
    """Run ``runs`` independent SGD runs for ``K - 1`` steps, batched.

    Args:
        objective: the objective F (its ``f_inf`` defines the gap).
        w1: the start, shape (d,) (shared by all runs) or (runs, d).
        K: number of iterates recorded (k = 1..K), i.e. K - 1 steps.
        mu: stepsize, a positive number or a stepsize schedule.
        gradient: transform turning g_k into g~_k (default: identity).
        update: transform applied to the scaled step ``mu_k g~_k`` (e.g. quantize).
        iterate: transform applied to the new iterate (e.g. quantize the weights).
        oracle: stochastic-gradient oracle on ``objective``; None uses grad F.
        runs: number R of independent runs.
        seed: seed of ``numpy.random.default_rng`` (or a Generator, used as is).
        trajectory: keep iterates, gradients and directions (memory K R d).

    Returns:
        :class:`SGDResult`.
    """
    w1, K, runs, rng = check_run_args(
        objective, w1, K, oracle, {"gradient": gradient, "update": update, "iterate": iterate},
        runs, seed, Transform)
    trajectory = check_bool("trajectory", trajectory)
    steps = K - 1
    g_fn = gradient.init(steps) if gradient is not None else _identity
    # The step scaling is applied here into a preallocated buffer (same product as
    # scale_by_stepsize: mu_k * u); the schedule is validated the same way.
    mus = np.array(as_schedule(mu, "mu", kind="stepsize").values(steps))
    u_fn = update.init(steps) if update is not None else _identity
    i_fn = iterate.init(steps) if iterate is not None else _identity
    d = objective.d
    # C order: each run's row is contiguous, which the per-row reductions (einsum over d)
    # and the row-broadcast gradients need to be fast; a copy of a broadcast w1 would
    # otherwise be Fortran-ordered and make every step about twice as slow.
    W = np.array(np.broadcast_to(w1, (runs, d)), dtype=np.float64, order="C")
    step = np.empty((runs, d))
    gaps = np.empty((K, runs))
    gn2 = np.empty((K, runs))
    qp = np.empty((steps, runs))
    nr = np.empty((steps, runs))
    its = np.empty((K, runs, d)) if trajectory else None
    gs = np.empty((steps, runs, d)) if trajectory else None
    ds = np.empty((steps, runs, d)) if trajectory else None
    f_inf = objective.f_inf
    # Diverging runs (stepsize above 2/(q L)) overflow to inf/NaN: that is a result to
    # record, not an error.
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, K + 1):
            value, grad = objective._value_grad(W)
            np.subtract(value, f_inf, out=gaps[k - 1])
            np.einsum("rd,rd->r", grad, grad, out=gn2[k - 1])
            if trajectory:
                its[k - 1] = W
            if k == K:
                break
            if oracle is None:
                g = grad
            elif isinstance(oracle, AdditiveNoise):
                g = oracle.sample_given_grad(grad, rng)
            else:
                g = oracle.sample(W, rng)
            gt = g_fn(g, k, rng)
            _measure(gt, g, qp[k - 1], nr[k - 1], gn2[k - 1] if g is grad else None)
            if trajectory:
                gs[k - 1], ds[k - 1] = g, gt
            # Buffers are reused only where a fresh result would have the same memory
            # layout: the reductions (einsum) may sum in a layout-dependent order, and
            # results must not depend on this optimisation.
            if gt.flags.c_contiguous:
                np.multiply(mus[k - 1], gt, out=step)
                dk = u_fn(step, k, rng)
            else:
                dk = u_fn(mus[k - 1] * gt, k, rng)
            if i_fn is _identity and W.strides == dk.strides:
                # W is the engine's own array (a copy of w1 or a previous difference),
                # and nothing reads the old iterate after this point: update in place
                np.subtract(W, dk, out=W)
            else:
                W = i_fn(W - dk, k, rng)
    return SGDResult(gaps, gn2, qp, nr, W, its, gs, ds,
                     M=0.0 if oracle is None else oracle.M,
                     M_V=0.0 if oracle is None else oracle.M_V)
