"""Theorems 1-4 against the exact expectations on quadratics.

The properties live in :mod:`lpsgd.suite.theorems` as functions of the implementations
they check; here they run with lpsgd's own (:mod:`lpsgd.theory` and the exact recursion of
:mod:`lpsgd.reference.expectations`).  The mutants of :mod:`lpsgd.suite.mutants` call the
same factories with a wrong implementation instead.
"""

from __future__ import annotations

from lpsgd.suite import theorems

test_theorem1_exact_quadratic = theorems.theorem1_exact_quadratic()
test_theorem2_exact_quadratic = theorems.theorem2_exact_quadratic()
test_theorem3_exact_quadratic = theorems.theorem3_exact_quadratic()
test_theorem4_exact_quadratic = theorems.theorem4_exact_quadratic()
test_theorem1_any_stepsize = theorems.theorem1_any_stepsize()
test_theorem1_schedule_exact_quadratic = theorems.theorem1_schedule_exact_quadratic()
test_theorem3_schedule_exact_quadratic = theorems.theorem3_schedule_exact_quadratic()
test_theorem1_exact_dense_quadratic = theorems.theorem1_exact_dense_quadratic()
test_theorem3_any_stepsize = theorems.theorem3_any_stepsize()
test_theorem4_any_stepsize = theorems.theorem4_any_stepsize()
test_theorem2_any_stepsize = theorems.theorem2_any_stepsize()
