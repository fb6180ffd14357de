"""The fast engine with block-scaled gradients: a per-tensor scale (NVFP4) is taken over each
run's gradient, not over the whole batch of runs."""

from __future__ import annotations

import numpy as np
import pytest

import lpsgd.fast as fast
from lpsgd.fast import sgd


def _batch() -> np.ndarray:
    rng = np.random.default_rng(3)
    # rows of very different sizes: one shared tensor scale would flush the small row
    return rng.standard_normal((3, 40)) * np.array([[1e3], [1.0], [1e-4]])


@pytest.mark.parametrize("mode", ["nearest_even", "toward_zero"])
def test_nvfp4_transform_quantises_each_run_alone(mode):
    u = _batch()
    step = sgd.quantize("nvfp4", mode).init(1)
    got = step(u, 1, None)
    want = np.stack([fast.quantize(row, "nvfp4", mode) for row in u])
    assert np.array_equal(got, want)
    # and that differs from one scale over the batch: the check can fail
    assert not np.array_equal(got, fast.quantize(u.ravel(), "nvfp4", mode).reshape(u.shape))


def test_nvfp4_stochastic_is_seeded():
    u = _batch()
    step = sgd.quantize("nvfp4", "stochastic").init(1)
    a = step(u, 1, np.random.default_rng(5))
    b = step(u, 1, np.random.default_rng(5))
    assert np.array_equal(a, b)
    assert np.all(np.isfinite(a))


def test_mx_blocks_run_along_each_run():
    """MX has no tensor scale: the batch is quantised in one call, blocks along d."""
    u = _batch()
    step = sgd.quantize("mxfp8_e4m3", "nearest_even").init(1)
    want = np.stack([fast.quantize(row, "mxfp8_e4m3") for row in u])
    assert np.array_equal(step(u, 1, None), want)
