"""What the two SGD engines share: argument checks, composition of pieces, result fields.

:mod:`lpsgd.fast.sgd` (numpy, float64) is checked against :mod:`lpsgd.reference.sgd`
(mpmath).  For that comparison to be between two independent implementations, neither
engine imports from the other: the pieces they must share (the checks of the arguments of
``run``, the composition behind ``chain``, the fields of a result) live here.  Nothing in
this module computes an iterate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from lpsgd._validate import check_int
from lpsgd.errors import InvalidArgument
from lpsgd.objectives import AdditiveNoise, Minibatch, Objective, check_points

__all__ = ["RunResult", "check_run_args", "compose", "quantizer_or_default", "callable_name"]


def compose(transform_cls: type, transforms: tuple):
    """``chain`` for either layer: the pieces must all be ``transform_cls`` (the layer's
    own Transform, so exact and float64 pieces are never mixed)."""
    for i, t in enumerate(transforms):
        if not isinstance(t, transform_cls):
            raise InvalidArgument(f"Expected transforms[{i}] to be a Transform but got {t!r}")

    def init(steps: int):
        fns = [t.init(steps) for t in transforms]

        def fn(u, k, rng):
            for f in fns:
                u = f(u, k, rng)
            return u
        return fn

    return transform_cls("chain(" + ", ".join(t.name for t in transforms) + ")", init)



@dataclasses.dataclass
class RunResult:
    """The fields of an engine's result (arrays indexed [k - 1, run]); each engine
    subclasses it with its own Monte Carlo statistics (:meth:`stats`).

    Attributes:
        gaps: ``F(w_k) - F*`` (``F_inf`` when no minimum is attained), shape (K, runs).
        grad_norms2: ``||grad F(w_k)||^2``, shape (K, runs).
        q_proj: measured projection shrinkage of step k, shape (K - 1, runs).
        norm_ratios: measured norm ratio of step k, shape (K - 1, runs).
        w_final: the last iterates, shape (runs, d).
        iterates, gradients, directions: with ``trajectory=True`` the iterates (K, runs, d),
            the stochastic gradients g_k and the low-precision directions g~_k
            (K - 1, runs, d); otherwise None.
        M, M_V: the oracle's variance constants (0 for exact gradients).
    """

    gaps: np.ndarray
    grad_norms2: np.ndarray
    q_proj: np.ndarray
    norm_ratios: np.ndarray
    w_final: np.ndarray
    iterates: np.ndarray | None = None
    gradients: np.ndarray | None = None
    directions: np.ndarray | None = None
    M: float = 0.0
    M_V: float = 0.0

    @property
    def runs(self) -> int:
        return self.gaps.shape[1]

    @property
    def K(self) -> int:
        return self.gaps.shape[0]

    def stats(self, field: str) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """Monte Carlo mean and standard error over runs of ``field``, per k."""
        raise NotImplementedError

    @property
    def gap_mean(self) -> np.ndarray:
        return self.stats("gaps")[0]

    @property
    def gap_se(self) -> np.ndarray:
        return self.stats("gaps")[1]

    @property
    def grad_norm2_mean(self) -> np.ndarray:
        return self.stats("grad_norms2")[0]

    @property
    def grad_norm2_se(self) -> np.ndarray:
        return self.stats("grad_norms2")[1]

    @property
    def q_proj_mean(self) -> np.ndarray:
        return self.stats("q_proj")[0]

    @property
    def norm_ratio_mean(self) -> np.ndarray:
        return self.stats("norm_ratios")[0]


def check_run_args(objective, w1, K, oracle, transforms: dict, runs, seed, transform_cls):
    """Shared argument checks of both engines; returns (w1, K, runs, rng)."""
    if not isinstance(objective, Objective):
        raise InvalidArgument(
            f"Expected objective to be an lpsgd.objectives.Objective but got "
            f"objective={objective!r}")
    w1 = check_points("w1", w1, objective.d)
    K = check_int("K", K, min_value=1)
    runs = check_int("runs", runs, min_value=1)
    if w1.ndim == 2 and w1.shape[0] != runs:
        raise InvalidArgument(
            f"Expected w1 to have shape ({objective.d},) or ({runs}, {objective.d}) for "
            f"runs={runs} but got shape {w1.shape}")
    if oracle is not None:
        if not isinstance(oracle, AdditiveNoise | Minibatch):
            raise InvalidArgument(
                f"Expected oracle to be an AdditiveNoise or Minibatch oracle (or None) but got "
                f"oracle={oracle!r}")
        if oracle.objective is not objective:
            raise InvalidArgument(
                "Expected oracle.objective to be the objective being minimised but got an "
                "oracle built on another objective")
    for name, t in transforms.items():
        if t is not None and not isinstance(t, transform_cls):
            raise InvalidArgument(
                f"Expected {name} to be a {transform_cls.__module__}.Transform (or None) but "
                f"got {name}={t!r}")
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(check_int("seed", seed, min_value=0))
    return w1, K, runs, rng


def quantizer_or_default(quantizer: Any, default: Callable[..., Any],
                         like: str) -> Callable[..., Any]:
    """The quantiser a quantize transform binds: ``default`` for None, else ``quantizer``
    if it is callable (``like`` names the function whose signature it must have)."""
    if quantizer is None:
        return default
    if not callable(quantizer):
        raise InvalidArgument(
            f"Expected quantizer to be a callable with the signature of {like} (or None) but "
            f"got quantizer={quantizer!r}")
    return quantizer


def callable_name(fn: Any) -> str:
    """``module.qualname`` of a callable (its repr when it has none), for transform names."""
    qual = getattr(fn, "__qualname__", None)
    return f"{getattr(fn, '__module__', '?')}.{qual}" if qual else repr(fn)
