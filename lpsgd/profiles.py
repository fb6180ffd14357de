"""Hypothesis profiles, registered in one place.

* ``ci``: derandomized, bounded example counts, no deadline, no explain phase: the CI
  default.
* ``dev``: a quick randomized run for the edit-test loop (no explain phase either).
* ``thorough``: many examples, for reports and nightly runs.

The pytest plugin :mod:`lpsgd._pytest_plugin` registers them for every pytest run in
an environment where lpsgd is installed; choose one with ``--hypothesis-profile``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

__all__ = ["PROFILES", "register_profiles", "EXAMPLES"]

#: max_examples per profile (properties may scale this down for expensive checks).
EXAMPLES = {"ci": 60, "dev": 25, "thorough": 1000}

PROFILES = ("ci", "dev", "thorough")

_registered = False


def register_profiles() -> None:
    global _registered
    if _registered:
        return
    # Every profile starts from Hypothesis' "default" profile, never from whichever profile
    # is current: on a CI machine Hypothesis makes its own derandomized "ci" profile the
    # current one, and "dev" would silently inherit derandomize=True from it.
    common = dict(parent=settings.get_profile("default"), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    # ci and dev skip Hypothesis' explain phase: it reruns a failing example under line
    # tracing to list the lines only failing cases ran, which cost about three quarters of
    # the mutant suite's time and decides nothing (the failure is already found and shrunk).
    quick = [p for p in Phase if p is not Phase.explain]
    settings.register_profile("ci", derandomize=True, database=None, print_blob=True,
                              max_examples=EXAMPLES["ci"], phases=quick, **common)
    settings.register_profile("dev", max_examples=EXAMPLES["dev"], print_blob=True,
                              derandomize=False, phases=quick, **common)
    settings.register_profile("thorough", max_examples=EXAMPLES["thorough"], print_blob=True,
                              phases=list(Phase), database=None, derandomize=False, **common)
    _registered = True
