"""Every mutant is refuted under the randomized ``lpsgd-dev`` profile for seeds 0-19, not
only under the derandomized ``lpsgd-ci`` profile (slow: about 20 x 75 s on 2 cores; run with
``pytest -m slow tests/test_mutant_seeds.py``).

A refutation that depends on the seed is luck; the properties steer their search
(hypothesis.target, strategies that reach the hard cases on purpose) so that every
seed finds a counterexample.  Each seed runs the mutant suite in a fresh interpreter,
so no state (Hypothesis' database, imported modules) carries over between seeds.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lpsgd.report.suite import checkout_root

SEEDS = range(20)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_every_mutant_refuted_under_dev_seed(seed, tmp_path):
    root = checkout_root()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("CI", None)  # the dev profile must stay randomized
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(root / "properties" / "test_mutants.py"),
         "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--no-header",
         "--hypothesis-profile=lpsgd-dev", f"--hypothesis-seed={seed}", "-o", "addopts=",
         f"--rootdir={root}"],
        cwd=tmp_path, env=env, capture_output=True, text=True)
    survivors = [line for line in proc.stdout.splitlines() if "survived" in line]
    assert proc.returncode == 0, (
        f"dev seed {seed}: {len(survivors)} mutant(s) survived:\n" + "\n".join(survivors)
        + "\n" + proc.stdout[-3000:])
