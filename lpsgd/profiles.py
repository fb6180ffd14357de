"""Hypothesis profiles, registered in one place, under names of lpsgd's own.

lpsgd knows three profiles by short names (:data:`PROFILES`, what ``lpsgd report
--profile`` and ``lpsgd verify --profile`` take) and registers them with Hypothesis under
namespaced names (:data:`HYPOTHESIS_NAMES`), so that they never replace a profile of the
same short name that Hypothesis itself or a user's own suite defines:

* ``ci`` -> ``lpsgd-ci``: derandomized, bounded example counts, no deadline, no explain
  phase: the CI default.
* ``dev`` -> ``lpsgd-dev``: a quick randomized run for the edit-test loop (no explain
  phase either).
* ``thorough`` -> ``lpsgd-thorough``: many examples, for reports and nightly runs.

The pytest plugin :mod:`lpsgd._pytest_plugin` registers them for every pytest run in an
environment where lpsgd is installed, and loads none of them: a run uses one only when it
asks for it with ``--hypothesis-profile=lpsgd-ci`` (as lpsgd's own test configuration
does).  A user's pytest suite, its ``ci`` profile and Hypothesis' built-in ``ci`` profile
(loaded on CI machines) are left as they are.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

from lpsgd._validate import check_choice

__all__ = ["PROFILES", "HYPOTHESIS_NAMES", "EXAMPLES", "register_profiles", "hypothesis_profile"]

#: max_examples per profile (properties may scale this down for expensive checks).
EXAMPLES = {"ci": 60, "dev": 25, "thorough": 1000}

#: The short, user-facing profile names.
PROFILES = ("ci", "dev", "thorough")

#: The name each profile is registered under in Hypothesis.
HYPOTHESIS_NAMES = {name: f"lpsgd-{name}" for name in PROFILES}

_registered = False


def hypothesis_profile(profile: str) -> str:
    """The Hypothesis name of an lpsgd profile (``"ci"`` -> ``"lpsgd-ci"``).

    Parameters
    ----------
    profile : str
        A short name of :data:`PROFILES` or an already namespaced name such as
        ``"lpsgd-ci"``.

    Returns
    -------
    str
        The name to pass as ``--hypothesis-profile`` or to ``settings.load_profile``.

    Raises
    ------
    InvalidArgument
        ``profile`` is neither.
    """
    if isinstance(profile, str) and profile in HYPOTHESIS_NAMES.values():
        return profile
    return HYPOTHESIS_NAMES[check_choice("profile", profile, PROFILES)]


def register_profiles() -> None:
    """Register lpsgd's profiles with Hypothesis under :data:`HYPOTHESIS_NAMES` (once).

    No profile is loaded, and no name other than ``lpsgd-*`` is touched.
    """
    global _registered
    if _registered:
        return
    # Every profile starts from Hypothesis' "default" profile, never from whichever profile
    # is current: on a CI machine Hypothesis makes its own derandomized "ci" profile the
    # current one, and lpsgd-dev would silently inherit derandomize=True from it.
    common = dict(parent=settings.get_profile("default"), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    # ci and dev skip Hypothesis' explain phase: it reruns a failing example under line
    # tracing to list the lines only failing cases ran, which cost about three quarters of
    # the mutant suite's time and decides nothing (the failure is already found and shrunk).
    quick = [p for p in Phase if p is not Phase.explain]
    names = HYPOTHESIS_NAMES
    settings.register_profile(names["ci"], derandomize=True, database=None, print_blob=True,
                              max_examples=EXAMPLES["ci"], phases=quick, **common)
    settings.register_profile(names["dev"], max_examples=EXAMPLES["dev"], print_blob=True,
                              derandomize=False, phases=quick, **common)
    settings.register_profile(names["thorough"], max_examples=EXAMPLES["thorough"],
                              print_blob=True, phases=list(Phase), database=None,
                              derandomize=False, **common)
    _registered = True
