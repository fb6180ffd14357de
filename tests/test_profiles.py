"""The lpsgd Hypothesis profiles mean the same thing on every machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_PROBE = """
import json
from hypothesis import settings
from lpsgd.profiles import register_profiles, PROFILES
register_profiles()
print(json.dumps({p: [settings.get_profile(p).derandomize,
                      settings.get_profile(p).max_examples,
                      settings.get_profile(p).database is None] for p in PROFILES}))
"""


def _profiles_in_fresh_interpreter(env_extra: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CI", "GITHUB_ACTIONS", "TF_BUILD", "BUILDKITE", "CIRCLECI",
                        "CODEBUILD_BUILD_ID", "GITLAB_CI", "JENKINS_URL", "TRAVIS")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("ci_env", [{}, {"CI": "true"}], ids=["local", "ci-machine"])
def test_profiles_do_not_depend_on_the_machine(ci_env):
    """On a CI machine Hypothesis makes its own derandomized profile current; ours must
    not inherit from it (dev and thorough stay randomized, so --seed reaches them)."""
    got = _profiles_in_fresh_interpreter(ci_env)
    assert got["ci"][0] is True
    assert got["dev"][0] is False
    assert got["thorough"][0] is False
    assert got["thorough"][2] is True and got["ci"][2] is True


def test_ci_environment_gives_the_same_profiles_as_local():
    assert _profiles_in_fresh_interpreter({}) == _profiles_in_fresh_interpreter({"CI": "true"})


def test_quick_profiles_skip_only_the_explain_phase():
    """ci and dev skip the explain phase (it reruns a failure under tracing, most of the
    mutant suite's time); they still shrink, so counterexamples stay minimal."""
    from hypothesis import Phase, settings

    from lpsgd.profiles import register_profiles

    register_profiles()
    for name in ("ci", "dev"):
        assert set(settings.get_profile(name).phases) == set(Phase) - {Phase.explain}
    assert set(settings.get_profile("thorough").phases) == set(Phase)
