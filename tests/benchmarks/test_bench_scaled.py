"""Speed and memory of lpsgd.fast.quantize on scaled formats (run by `make bench`; skipped
in the default run).

Targets, measured in one run on 10^7 float64 values (standard normal), blocks of 32:

=============================  ==========================================  ==============
group                          compared with                               required
=============================  ==========================================  ==============
mxfp8_e4m3 nearest_even        fast.quantize to float8_e4m3fn (unscaled)   time <= 2x
mxfp4_e2m1 nearest_even        fast.quantize to float4_e2m1fn (unscaled)   time <= 2x
mxfp8_e4m3, mxfp4_e2m1         gfloat's quantize_block, block by block,    >= 20x faster
                               per element on the first 32 000 values      (per element)
peak memory                    traced allocations during one call          <= 1.5x input
=============================  ==========================================  ==============

gfloat rounds every element in Python (tens of microseconds each), so it is timed on the
first 32 000 values (1 000 blocks) and compared per element.  Times are the minimum over
rounds (the machine is shared: the minimum is the least disturbed run).  Peak memory is
the peak of the allocations traced by :mod:`tracemalloc` (numpy reports its array
buffers to it) during one call, the returned array included, over the input's size.
The module fixture ``ratios`` prints every number and ratio at the end and fails the
bench run (teardown error) when a required ratio is missed.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from lpsgd import fast

from per_element import PerElement, show

pytestmark = pytest.mark.bench

N = 10 ** 7
N_GFLOAT = 32 * 1000
ROUNDS = 5

_timing = PerElement()  # name -> seconds per element (min and median over rounds)
_memory: dict[str, float] = {}  # name -> peak traced bytes / input bytes

# (name, baseline, largest allowed time ratio name/baseline)
REQUIRED = [
    ("fast_mxfp8_e4m3", "fast_float8_e4m3fn", 2.0),
    ("fast_mxfp4_e2m1", "fast_float4_e2m1fn", 2.0),
    ("fast_mxfp8_e4m3", "gfloat_mxfp8_e4m3", 1 / 20),
    ("fast_mxfp4_e2m1", "gfloat_mxfp4_e2m1", 1 / 20),
]
MEMORY_LIMIT = 1.5


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).standard_normal(N)


@pytest.fixture(scope="module", autouse=True)
def ratios(request):
    """Print the table of ns/element, memory and ratios; fail when a target is missed."""
    yield
    lines, missed = _timing.report("scaled quantize benchmarks", REQUIRED)
    for name, m in sorted(_memory.items()):
        ok = m <= MEMORY_LIMIT
        lines.append(f"  peak memory {name} = {m:.3g} x input (required <= {MEMORY_LIMIT}) "
                     f"{'ok' if ok else 'MISSED'}")
        if not ok:
            missed.append(f"peak memory {name}={m:.3g}x > {MEMORY_LIMIT}x")
    show(request, lines)
    if missed:
        pytest.fail("required scaled-format targets missed: " + "; ".join(missed))


def _run(benchmark, name: str, fn, n: int, rounds: int = ROUNDS):
    return _timing.run(benchmark, name, fn, n, rounds)


@pytest.mark.benchmark(group="mxfp8_e4m3 nearest_even")
def test_fast_float8_e4m3fn(benchmark, data):
    _run(benchmark, "fast_float8_e4m3fn", lambda: fast.quantize(data, "float8_e4m3fn"), N)


@pytest.mark.benchmark(group="mxfp8_e4m3 nearest_even")
def test_fast_mxfp8_e4m3(benchmark, data):
    out = _run(benchmark, "fast_mxfp8_e4m3", lambda: fast.quantize(data, "mxfp8_e4m3"), N)
    assert out.shape == data.shape and np.isfinite(out).all()


@pytest.mark.benchmark(group="mxfp4_e2m1 nearest_even")
def test_fast_float4_e2m1fn(benchmark, data):
    _run(benchmark, "fast_float4_e2m1fn", lambda: fast.quantize(data, "float4_e2m1fn"), N)


@pytest.mark.benchmark(group="mxfp4_e2m1 nearest_even")
def test_fast_mxfp4_e2m1(benchmark, data):
    out = _run(benchmark, "fast_mxfp4_e2m1", lambda: fast.quantize(data, "mxfp4_e2m1"), N)
    assert out.shape == data.shape and np.isfinite(out).all()


def _gfloat_quantizer(name: str):
    pytest.importorskip("gfloat")
    from lpsgd import peers
    from lpsgd.rounding import rounding_mode
    from lpsgd.scaled import scaled_preset

    gfloat = __import__("gfloat")
    return peers.SCALED_PEERS["gfloat"].make(gfloat, scaled_preset(name),
                                             rounding_mode("nearest_even"))


@pytest.mark.parametrize("name", ["mxfp8_e4m3", "mxfp4_e2m1"])
def test_gfloat_block_quantiser(benchmark, data, name):
    benchmark.group = f"{name} nearest_even"
    fn = _gfloat_quantizer(name)
    x = data[:N_GFLOAT].reshape(-1, 32).copy()
    out = _run(benchmark, f"gfloat_{name}", lambda: fn(x), N_GFLOAT, rounds=3)
    # the same data, the same result (standard normal data has no special values and,
    # at this seed, no block maximum where a float64 log2 rounds up)
    assert np.array_equal(out, fast.quantize(x, name))


@pytest.mark.parametrize("name", ["mxfp8_e4m3", "mxfp4_e2m1"])
def test_peak_memory(benchmark, data, name):
    """Peak traced allocations of one call (result included) over the input's bytes."""
    benchmark.group = f"{name} memory"
    fast.quantize(data[:1024], name)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = fast.quantize(data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _memory[f"fast_{name}"] = peak / data.nbytes
    benchmark.extra_info["peak_over_input"] = peak / data.nbytes
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    assert out.shape == data.shape
