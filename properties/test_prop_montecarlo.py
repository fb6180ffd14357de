"""Theorems 1-4 by Monte Carlo on objectives without exact expectations.

Logistic regression and least squares (minibatch or additive-noise oracles) for Theorems 1
and 2, the nonconvex Cauchy loss for Theorems 3 and 4, each run as
:data:`lpsgd.suite.theorems.RUNS` trajectories of the batched engine; a property fails only
when ``mean - Z se - slack > bound (1 + MC_RTOL)`` at some k (:mod:`lpsgd.suite.compare`).
The properties live in :mod:`lpsgd.suite.theorems`; here they run with lpsgd's theorems.
"""

from __future__ import annotations

from lpsgd.suite.theorems import (
    theorem1_montecarlo, theorem2_montecarlo, theorem3_montecarlo, theorem4_montecarlo,
)

test_theorem1_montecarlo = theorem1_montecarlo()
test_theorem2_montecarlo = theorem2_montecarlo()
test_theorem3_montecarlo = theorem3_montecarlo()
test_theorem4_montecarlo = theorem4_montecarlo()
