"""The slowdown statements, the error floor against precision, and the reduction of
Theorems 1-4 to the classical ones (Bottou, Curtis, Nocedal 2018, Theorems 4.6-4.10 with
their mu = mu_G = 1) at q = 1, M_q = 0.

The properties live in :mod:`lpsgd.suite.theorems` as functions of the implementations
they check; here they run with lpsgd's own.
"""

from __future__ import annotations

from lpsgd.suite import theorems

test_effective_stepsize_equivalence = theorems.effective_stepsize_equivalence()
test_gap_monotone_in_q = theorems.gap_monotone_in_q()
test_iterations_to_eps_slowdown = theorems.iterations_to_eps_slowdown()
test_floor_grows_as_precision_falls = theorems.floor_grows_as_precision_falls()
test_reduction_to_classical = theorems.reduction_to_classical()
