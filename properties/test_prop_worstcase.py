"""Theorems 1-5 against the exact worst case over their whole function class.

The properties live in :mod:`lpsgd.suite.worstcase` as functions of the bound they check;
here they are instantiated with lpsgd's own bounds (:mod:`lpsgd.theory`).  The factories
are imported by name so that the mutants of :data:`lpsgd.suite.worstcase.MUTANTS`
(``"test_prop_worstcase::theorem1_worstcase"``, ...) find them.
"""

from __future__ import annotations

from lpsgd.suite.worstcase import (theorem1_noise_worstcase, theorem1_worstcase,
                                   theorem2_noise_worstcase, theorem2_worstcase,
                                   theorem3_worstcase, theorem4_worstcase, theorem5_worstcase)

test_theorem1_worstcase = theorem1_worstcase()
test_theorem1_noise_worstcase = theorem1_noise_worstcase()
test_theorem2_worstcase = theorem2_worstcase()
test_theorem2_noise_worstcase = theorem2_noise_worstcase()
test_theorem3_worstcase = theorem3_worstcase()
test_theorem4_worstcase = theorem4_worstcase()
test_theorem5_worstcase = theorem5_worstcase()
