"""Speed of the batched engine (run by `make bench`; skipped in the default run).

Targets from the issue, printed as ratios (and stored in the benchmark's extra_info),
never asserted: timing on a shared machine is not a correctness property.

1. Batched vs looped: ``lpsgd.fast.sgd.run`` with R = 10^4 runs, d = 100, K = 100 and
   float8_e4m3fn stochastic rounding of the gradient, against the same engine called
   once per run (per-run cost measured on ``LOOP_RUNS`` runs): target >= 100x.
2. A quantised step against an unquantised numpy step on the same (R, d) batch:
   target <= 3x.  Measured twice: the bare update ``w - mu Q(g)`` vs ``w - mu g``, and
   whole engine steps (gradient, gap and shrinkage bookkeeping included) with and
   without the quantiser.

A third, diagnostic benchmark splits one batched step of target 1 into its pieces
(gradient and value, gap and ||grad||^2, oracle noise, quantiser, measured shrinkage,
update) and reports the share of gradient components below the format's N_min.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from lpsgd.fast import quantize as fast_quantize
from lpsgd.fast import sgd
from lpsgd.objectives import AdditiveNoise, DiagonalQuadratic

pytestmark = pytest.mark.bench

R, D, K = 10_000, 100, 100
LOOP_RUNS = 30
ROUNDS = 3  # both sides: the minimum over rounds, the least disturbed run
FMT, MODE = "float8_e4m3fn", "stochastic"


def _problem():
    obj = DiagonalQuadratic.from_range(D, c=0.01, L=1.0)
    oracle = AdditiveNoise(obj, sigma2=1e-4)
    w1 = np.ones(D)
    return obj, oracle, w1


def _best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@pytest.mark.parametrize("noise", ["additive_noise", "exact_gradient"])
def test_bench_batched_vs_looped_runs(benchmark, noise):
    obj, oracle, w1 = _problem()
    oracle = oracle if noise == "additive_noise" else None
    grad = sgd.quantize(FMT, MODE)

    def batched():
        return sgd.run(obj, w1, K=K, mu=0.5, gradient=grad, oracle=oracle, runs=R, seed=1)

    res = benchmark.pedantic(batched, rounds=ROUNDS, iterations=1)
    assert res.gaps.shape == (K, R)
    t_batched = benchmark.stats.stats.min

    def looped():
        for s in range(LOOP_RUNS):
            sgd.run(obj, w1, K=K, mu=0.5, gradient=grad, oracle=oracle, runs=1, seed=s)

    per_run_loop = _best_of(looped, ROUNDS) / LOOP_RUNS
    per_run_batched = t_batched / R
    ratio = per_run_loop / per_run_batched
    benchmark.extra_info.update(per_run_batched_s=per_run_batched, per_run_loop_s=per_run_loop,
                                speedup=ratio, target=">= 100")
    print(f"\n[{noise}] batched R={R}, d={D}, K={K}, {FMT} {MODE}: {t_batched:.3f} s "
          f"({per_run_batched * 1e6:.1f} us/run); looped: {per_run_loop * 1e3:.2f} ms/run; "
          f"speedup {ratio:.1f}x (target >= 100x)")


def test_bench_quantised_step_vs_numpy_step(benchmark):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((R, D))
    g = rng.standard_normal((R, D)) * 0.1
    mu = 0.5
    qrng = np.random.default_rng(1)

    def quantised():
        return w - mu * fast_quantize(g, FMT, MODE, rng=qrng)

    def plain():
        return w - mu * g

    benchmark.pedantic(quantised, rounds=5, iterations=1)
    t_q = benchmark.stats.stats.min
    t_p = _best_of(plain, 5)

    obj, oracle, w1 = _problem()
    steps = 11
    t_eq = _best_of(lambda: sgd.run(obj, w1, K=steps, mu=mu, gradient=sgd.quantize(FMT, MODE),
                                    oracle=oracle, runs=R, seed=2), 2)
    t_ep = _best_of(lambda: sgd.run(obj, w1, K=steps, mu=mu, oracle=oracle, runs=R, seed=2), 2)
    benchmark.extra_info.update(bare_ratio=t_q / t_p, engine_ratio=t_eq / t_ep, target="<= 3")
    print(f"\nbare step on ({R}, {D}): quantised {t_q * 1e3:.2f} ms vs numpy {t_p * 1e3:.2f} ms"
          f" -> {t_q / t_p:.1f}x; engine step: {t_eq / (steps - 1) * 1e3:.2f} ms vs "
          f"{t_ep / (steps - 1) * 1e3:.2f} ms -> {t_eq / t_ep:.2f}x (target <= 3x)")


def test_bench_batched_step_breakdown(benchmark):
    """Diagnostic: where one batched engine step spends its time (printed, not asserted).

    Replays the engine's step on the problem of the first benchmark (additive noise,
    float8_e4m3fn stochastic gradient) piece by piece, and reports the share of gradient
    components below the format's N_min, which the quantiser rounds on its exact slow path.
    """
    obj, oracle, w1 = _problem()
    fmt_nmin = 2.0 ** -6  # float8_e4m3fn: N_min = 2^(1 - 7)
    rng = np.random.default_rng(1)
    W = np.array(np.broadcast_to(w1, (R, D)), order="C")  # as the engine lays it out
    gn2, qp, nr = np.empty(R), np.empty(R), np.empty(R)
    pieces = dict.fromkeys(["value_grad", "gap+gn2", "oracle", "quantize", "measure", "step"],
                           0.0)
    below = 0

    def steps():
        nonlocal W, below
        clock = time.perf_counter
        for _ in range(K - 1):
            t0 = clock()
            value, grad = obj._value_grad(W)
            t1 = clock()
            _ = value - obj.f_inf
            np.einsum("rd,rd->r", grad, grad, out=gn2)
            t2 = clock()
            g = oracle._sample_given_grad(grad, rng)
            t3 = clock()
            below += int(np.count_nonzero(np.abs(g) < fmt_nmin))
            t4 = clock()
            gt = fast_quantize(g, FMT, MODE, rng=rng)
            t5 = clock()
            sgd._measure(gt, g, qp, nr)
            t6 = clock()
            W = W - 0.5 * gt
            t7 = clock()
            for name, dt in zip(pieces, (t1 - t0, t2 - t1, t3 - t2, t5 - t4, t6 - t5, t7 - t6)):
                pieces[name] += dt

    benchmark.pedantic(steps, rounds=1, iterations=1)
    per_step = {name: t / (K - 1) for name, t in pieces.items()}
    share_below = below / ((K - 1) * R * D)
    benchmark.extra_info.update({f"{n}_ms_per_step": v * 1e3 for n, v in per_step.items()},
                                share_below_n_min=share_below)
    print("\nbatched step breakdown (ms/step): "
          + ", ".join(f"{n} {v * 1e3:.2f}" for n, v in per_step.items())
          + f"; total {sum(per_step.values()) * 1e3:.2f}; gradient components below "
          f"N_min: {share_below:.0%}")
