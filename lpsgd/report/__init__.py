"""Verification reports: run the property suite, sweep the theory, write report folders.

* :func:`generate` runs everything and writes ``report.md``, ``report.html``,
  ``results.json``, ``pytest.log`` and the PNG plots into a new folder, atomically.
* :func:`run_suite` runs only the property suite in-process (``lpsgd verify``).
* :func:`validate_results` checks a results.json document against its schema
  (:data:`SCHEMA`).
"""

from lpsgd.report.generate import Report, generate
from lpsgd.report.results import SCHEMA, build_results, passed, validate_results
from lpsgd.report.suite import SuiteResult, TestOutcome, run_suite

__all__ = ["Report", "generate", "run_suite", "SuiteResult", "TestOutcome", "SCHEMA",
           "build_results", "validate_results", "passed"]
