"""Theorems 1-5 against the exact worst case over their whole function class.

The properties live in :mod:`lpsgd.suite.worstcase` as functions of the bound they check;
here they are instantiated with lpsgd's own bounds (:mod:`lpsgd.theory`).
"""

from __future__ import annotations

from lpsgd.suite import worstcase

test_theorem1_worstcase = worstcase.theorem1_worstcase()
test_theorem1_noise_worstcase = worstcase.theorem1_noise_worstcase()
test_theorem2_worstcase = worstcase.theorem2_worstcase()
test_theorem2_noise_worstcase = worstcase.theorem2_noise_worstcase()
test_theorem3_worstcase = worstcase.theorem3_worstcase()
test_theorem4_worstcase = worstcase.theorem4_worstcase()
test_theorem5_worstcase = worstcase.theorem5_worstcase()
