"""Theorems 1-4 against the exact expectations on quadratics.

The properties live in :mod:`lpsgd.suite.theorems` as functions of the implementations
they check; here they run with lpsgd's own (:mod:`lpsgd.theory` and the exact recursion of
:mod:`lpsgd.reference.expectations`).  The mutants of :mod:`lpsgd.suite.mutants` call the
same factories with a wrong implementation instead.
"""

from __future__ import annotations

from lpsgd.suite.theorems import (
    theorem1_exact_quadratic, theorem2_exact_quadratic, theorem3_exact_quadratic,
    theorem4_exact_quadratic, theorem1_any_stepsize, theorem1_schedule_exact_quadratic,
    theorem3_schedule_exact_quadratic, theorem1_exact_dense_quadratic, theorem3_any_stepsize,
    theorem4_any_stepsize, theorem2_any_stepsize,
)

test_theorem1_exact_quadratic = theorem1_exact_quadratic()
test_theorem2_exact_quadratic = theorem2_exact_quadratic()
test_theorem3_exact_quadratic = theorem3_exact_quadratic()
test_theorem4_exact_quadratic = theorem4_exact_quadratic()
test_theorem1_any_stepsize = theorem1_any_stepsize()
test_theorem1_schedule_exact_quadratic = theorem1_schedule_exact_quadratic()
test_theorem3_schedule_exact_quadratic = theorem3_schedule_exact_quadratic()
test_theorem1_exact_dense_quadratic = theorem1_exact_dense_quadratic()
test_theorem3_any_stepsize = theorem3_any_stepsize()
test_theorem4_any_stepsize = theorem4_any_stepsize()
test_theorem2_any_stepsize = theorem2_any_stepsize()
