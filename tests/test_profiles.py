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
from lpsgd.profiles import register_profiles, PROFILES, HYPOTHESIS_NAMES
register_profiles()
print(json.dumps({p: [settings.get_profile(HYPOTHESIS_NAMES[p]).derandomize,
                      settings.get_profile(HYPOTHESIS_NAMES[p]).max_examples,
                      settings.get_profile(HYPOTHESIS_NAMES[p]).database is None]
                  for p in PROFILES}))
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
    for name in ("lpsgd-ci", "lpsgd-dev"):
        assert set(settings.get_profile(name).phases) == set(Phase) - {Phase.explain}
    assert set(settings.get_profile("lpsgd-thorough").phases) == set(Phase)


def test_short_names_map_to_namespaced_profiles():
    from lpsgd.errors import InvalidArgument
    from lpsgd.profiles import EXAMPLES, HYPOTHESIS_NAMES, PROFILES, hypothesis_profile

    assert {hypothesis_profile(p) for p in PROFILES} == set(HYPOTHESIS_NAMES.values())
    for p in PROFILES:
        name = hypothesis_profile(p)
        assert name == "lpsgd-" + p and hypothesis_profile(name) == name
    # the example counts the command help and the report quote are those registered
    from hypothesis import settings

    for p in PROFILES:
        assert settings.get_profile(hypothesis_profile(p)).max_examples == EXAMPLES[p]
    with pytest.raises(InvalidArgument, match=r"Unknown profile='lpsgd-nightly'"):
        hypothesis_profile("lpsgd-nightly")
    with pytest.raises(InvalidArgument, match=r"Did you mean 'thorough'"):
        hypothesis_profile("thorogh")


def test_the_suite_runs_under_the_namespaced_profile():
    """lpsgd report/verify pass the Hypothesis name; a pytest run of this project is under
    lpsgd-ci (the addopts of its configuration), not under a profile called ci."""
    import tomllib
    from pathlib import Path

    from lpsgd.report.suite import pytest_args

    args = pytest_args(Path("properties"), "ci", 0)
    assert "--hypothesis-profile=lpsgd-ci" in args
    assert "--hypothesis-profile=lpsgd-dev" in pytest_args(Path("properties"), "dev", 0)
    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    addopts = config["tool"]["pytest"]["ini_options"]["addopts"].split()
    assert [a for a in addopts if a.startswith("--hypothesis-profile")] == [
        "--hypothesis-profile=lpsgd-ci"]
    make = [line for line in (root / "Makefile").read_text().splitlines()
            if "--hypothesis-profile" in line]
    assert make and all("--hypothesis-profile=lpsgd-ci " in line for line in make)
