"""compare.exceeds (used by the report's sections) applies the same rule as the asserts."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lpsgd.record as record
from lpsgd.suite import compare


@pytest.mark.parametrize("obs, se, bound", [
    (1.0, None, 1.0), (1.0 + 1e-13, None, 1.0), (1.0 + 1e-9, None, 1.0), (0.5, None, 1.0),
    (math.nan, None, 1.0), (1.0, None, math.nan), (math.inf, None, 1.0),
    (1.4, 0.1, 1.0), (1.6, 0.1, 1.0), (1.5, 0.1, 1.0), (-math.inf, 0.1, 1.0),
])
def test_exceeds_agrees_with_the_asserts(obs, se, bound):
    record_ctx = {"obs": obs, "se": se, "bound": bound}
    with record.quiet():  # a check of the rule, not a property's example
        try:
            if se is None:
                compare.assert_upper("exceeds_check", obs, bound, context=record_ctx,
                                     rtol=compare.FLOAT64_RTOL)
            else:
                compare.assert_mc_upper("exceeds_check", obs, se, bound, context=record_ctx)
            raised = False
        except AssertionError:
            raised = True
    assert bool(compare.exceeds(obs, bound, se=se)) is raised


def test_exceeds_elementwise():
    got = compare.exceeds(np.array([0.5, 2.0, 1.0]), np.array([1.0, 1.0, 1.0]))
    assert got.tolist() == [False, True, False]
