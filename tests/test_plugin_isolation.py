"""The pytest plugin lpsgd installs leaves a user's own pytest runs as they are.

A throwaway user suite in a temporary folder (its own pytest.ini, so lpsgd's configuration
is not picked up) records, from inside a test, the Hypothesis settings in force and whether
lpsgd's plugin is loaded.  Each scenario runs twice in a fresh interpreter, with the
plugin (as installed) and with ``-p no:lpsgd``, and the settings must be the same:

* the suite registers and loads a ``ci`` profile of its own (``max_examples=7``);
* the suite has no profile of its own and runs on a CI machine (``CI=true``), where
  Hypothesis loads its built-in ``ci`` profile.

A plugin that registers a profile called ``ci`` (what lpsgd's plugin did before its
profiles were namespaced) changes the second scenario: the last test shows the check
catches it (marked slow: run it with ``-m slow``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_CI_VARS = ("CI", "GITHUB_ACTIONS", "TF_BUILD", "BUILDKITE", "CIRCLECI", "CODEBUILD_BUILD_ID",
            "GITLAB_CI", "JENKINS_URL", "TRAVIS")

_PROBE_TEST = '''
import json
import os

from hypothesis import given, settings, strategies as st

CALLS = []


@given(st.integers())
def _count(n):
    CALLS.append(n)


def test_probe(request):
    _count()
    with open(os.environ["PROBE_OUT"], "w") as out:
        json.dump({"profile": settings.get_current_profile_name(),
                   "settings": repr(settings.default),
                   "examples_run": len(CALLS),
                   "lpsgd_plugin": request.config.pluginmanager.has_plugin("lpsgd")}, out)
'''

_OWN_CI_CONFTEST = '''
from hypothesis import settings

settings.register_profile("ci", max_examples=7, derandomize=True, database=None)
settings.load_profile("ci")
'''

#: What lpsgd's plugin did before: register lpsgd's CI settings as a profile named "ci".
_LEAKY_PLUGIN = '''
from hypothesis import settings

settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=60,
                          derandomize=True, database=None, deadline=None)
'''


def _user_suite(root: Path, conftest: str | None) -> Path:
    root.mkdir()
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "test_user.py").write_text(textwrap.dedent(_PROBE_TEST))
    if conftest is not None:
        (root / "conftest.py").write_text(textwrap.dedent(conftest))
    return root


def _run(root: Path, *plugin_args: str, ci: bool) -> dict:
    """Run the user suite in a fresh interpreter; the probe's record."""
    out = root / f"probe-{len(list(root.glob('probe-*')))}.json"
    env = {k: v for k, v in os.environ.items() if k not in _CI_VARS
           and not k.startswith(("PYTEST_", "HYPOTHESIS_"))}
    env["PROBE_OUT"] = str(out)
    env["PYTHONPATH"] = str(root)
    if ci:
        env["CI"] = "true"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", *plugin_args, str(root)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def _differs(with_plugin: dict, without: dict) -> list[str]:
    return [k for k in ("profile", "settings", "examples_run") if with_plugin[k] != without[k]]


@pytest.mark.parametrize("conftest, ci", [(_OWN_CI_CONFTEST, False), (None, True)],
                         ids=["own-ci-profile", "ci-machine-builtin-ci"])
def test_a_user_suite_keeps_its_profile(tmp_path, conftest, ci):
    root = _user_suite(tmp_path / "user", conftest)
    installed = _run(root, ci=ci)
    alone = _run(root, "-p", "no:lpsgd", ci=ci)
    assert installed["lpsgd_plugin"] is True and alone["lpsgd_plugin"] is False
    assert _differs(installed, alone) == [], (installed, alone)
    assert installed["profile"] == "ci"
    if conftest is not None:
        assert installed["examples_run"] == 7 and "max_examples=7" in installed["settings"]


@pytest.mark.slow  # two more interpreters; the demonstration that the check can fail
def test_a_plugin_registering_ci_is_caught(tmp_path):
    """The same check fails for a plugin that registers its own ``ci`` profile (the
    baseline is that plugin's suite without lpsgd's plugin and without the leaky one)."""
    root = _user_suite(tmp_path / "user", None)
    (root / "leaky_plugin.py").write_text(textwrap.dedent(_LEAKY_PLUGIN))
    leaky = _run(root, "-p", "no:lpsgd", "-p", "leaky_plugin", ci=True)
    alone = _run(root, "-p", "no:lpsgd", ci=True)
    assert leaky["lpsgd_plugin"] is False and "settings" in _differs(leaky, alone)
    assert leaky["examples_run"] == 60 != alone["examples_run"]
