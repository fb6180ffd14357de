"""The slowdown statements, the error floor against precision, and the reduction of
Theorems 1-4 to the classical ones (Bottou, Curtis, Nocedal 2018, Theorems 4.6-4.10 with
their mu = mu_G = 1) at q = 1, M_q = 0.

The properties live in :mod:`lpsgd.suite.theorems` as functions of the implementations
they check; here they run with lpsgd's own.
"""

from __future__ import annotations

from lpsgd.suite.theorems import (
    effective_stepsize_equivalence, gap_monotone_in_q, iterations_to_eps_slowdown,
    floor_grows_as_precision_falls, reduction_to_classical,
)

test_effective_stepsize_equivalence = effective_stepsize_equivalence()
test_gap_monotone_in_q = gap_monotone_in_q()
test_iterations_to_eps_slowdown = iterations_to_eps_slowdown()
test_floor_grows_as_precision_falls = floor_grows_as_precision_falls()
test_reduction_to_classical = reduction_to_classical()
