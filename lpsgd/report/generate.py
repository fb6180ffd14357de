"""Produce a verification report: run the suite, the conformance matrix and the sweeps,
then write report.md, report.html, results.json, pytest.log and the plots into a new
folder, atomically."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from lpsgd._validate import check_choice, check_int
from lpsgd.profiles import PROFILES
from lpsgd.report.output import check_destination, default_report_dir, staging
from lpsgd.report.render import render_html, render_markdown
from lpsgd.report.results import build_results, git_commit, git_dirty, validate_results
from lpsgd.report.suite import checkout_root, resolve_workers, run_suite

__all__ = ["Report", "generate", "canonical_command", "validate_options", "json_ready",
           "scrub_paths", "scrub_addresses", "MAX_SEED"]

#: Seeds go to numpy's SeedSequence and to Hypothesis; keep them in an unsigned 64-bit range.
MAX_SEED = 2**64 - 1


@dataclasses.dataclass
class Report:
    """A written report: its folder, the results document and whether it passed."""

    path: Path
    results: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.results["ok"])


def canonical_command(profile: str, seed: int, out: str | os.PathLike | None) -> str:
    """The command line that reproduces a report (shown in it)."""
    cmd = f"lpsgd report --profile {profile} --seed {seed}"
    if out is not None:
        cmd += f" --out {os.fspath(out)}"
    return cmd


def validate_options(profile: object, seed: object) -> tuple[str, int]:
    """Check the profile name and the seed (before any work is done)."""
    profile = check_choice("profile", profile, PROFILES)
    seed = check_int("seed", seed, min_value=0, max_value=MAX_SEED)
    return profile, seed


def generate(profile: str = "ci", seed: int = 0, out: str | os.PathLike | None = None, *,
             suite_dir: str | os.PathLike | None = None, progress: bool = True,
             sweeps: list[str] | None = None, base: str | os.PathLike = "reports",
             command: str | None = None, workers: int | str = 1) -> Report:
    """Run everything and write a new report folder.

    Args:
        profile: Hypothesis profile, one of ``lpsgd.profiles.PROFILES``; it also scales
            the conformance matrix and the sweeps.
        seed: seeds Hypothesis (non-derandomized profiles) and every random sweep.
        out: the report folder to create (must not exist, or be empty); default
            ``<base>/<UTC timestamp>-<profile>-seed<N>``.
        suite_dir: the property suite folder (default: ``properties/`` of the checkout).
        progress: progress bars on stderr.
        sweeps: names of the sweeps to run (default all of ``lpsgd.report.sweeps.SWEEPS``);
            ``[]`` runs none (the conformance matrix is the sweep named "conformance").
        base: parent of the default folder.
        command: the command shown under "How to reproduce" (default: the canonical one).
        workers: processes to run the property suite on: 1 (default) this one, N > 1
            pytest-xdist workers, "auto" one per CPU; the report does not depend on it.

    Returns:
        The :class:`Report` (folder and results document).

    Raises:
        lpsgd.errors.InvalidArgument: bad profile, seed, workers or destination; nothing
            written.
        KeyboardInterrupt: interrupted; nothing written.
    """
    from lpsgd.report import sweeps as sweep_mod

    t_start = time.perf_counter()
    profile, seed = validate_options(profile, seed)
    n_workers = resolve_workers(workers)
    names = list(sweep_mod.SWEEPS) if sweeps is None else list(sweeps)
    for name in names:
        check_choice("sweep", name, sweep_mod.SWEEPS)
    if out is None:
        dest = check_destination(default_report_dir(profile, seed, base=base),
                                 create_parent=True)
    else:
        dest = check_destination(out)
    command = command or canonical_command(profile, seed, out)
    started = _dt.datetime.now(_dt.timezone.utc)

    timings: dict[str, float] = {}
    with staging(dest) as tmp:
        suite = run_suite(profile, seed, suite_dir=suite_dir, progress=progress,
                          workers=n_workers)
        timings["suite"] = suite.duration

        conformance = None
        sweep_results: list[dict[str, Any]] = []
        bar = _bar(len(names), progress)
        for name in names:
            if bar is not None:
                bar.set_postfix_str(name, refresh=True)
            t0 = time.perf_counter()
            result = _run_sweep(sweep_mod.SWEEPS[name], name, profile=profile, seed=seed,
                                outdir=tmp)
            timings[name] = time.perf_counter() - t0
            result["seconds"] = round(timings[name], 3)
            if name == "conformance":
                conformance = result
            else:
                sweep_results.append(result)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()

        t0 = time.perf_counter()
        root = checkout_root()
        results = build_results(suite, commit=git_commit(root), dirty=git_dirty(root),
                                command=command,
                                sweeps=sweep_results, conformance=conformance, timings=timings)
        results["generated"] = started.strftime("%Y-%m-%d %H:%M:%S UTC")
        results["report_dir"] = dest.name
        validate_results(results)
        (tmp / "pytest.log").write_text(scrub_paths(suite.log), encoding="utf-8")
        timings["render"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - t_start
        results["timings"] = {k: round(v, 3) for k, v in timings.items()}
        results = json_ready(results)
        (tmp / "results.json").write_text(json.dumps(results, indent=2, allow_nan=False)
                                          + "\n", encoding="utf-8")
        (tmp / "report.md").write_text(render_markdown(results), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(results), encoding="utf-8")
    return Report(path=dest, results=results)


def json_ready(value: Any) -> Any:
    """``value`` with numpy scalars and arrays made plain, NaN/inf floats written as the
    strings "nan", "inf", "-inf" (strict JSON has no such numbers), and strings without
    machine folders (:func:`scrub_paths`) or object addresses (:func:`scrub_addresses`)."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return scrub_addresses(scrub_paths(value))
    return value


_ADDRESS = re.compile(r"(<[\w.]+ object) at 0x[0-9a-fA-F]+>")


def scrub_addresses(text: str) -> str:
    """``text`` with the memory addresses of default object reprs dropped
    (``<lpsgd.objectives.DiagonalQuadratic object at 0x7f13...>`` becomes
    ``<lpsgd.objectives.DiagonalQuadratic object>``): a counterexample quoting an object
    must read the same in every run."""
    return _ADDRESS.sub(r"\1>", text)


def scrub_paths(text: str) -> str:
    """``text`` with this machine's folders replaced by neutral names.

    Counterexamples and pytest's log quote source locations; a report is meant to be
    shared and cited, so the checkout becomes relative and the installation prefixes
    become ``<site-packages>`` / ``<python>``.
    """
    import sysconfig

    prefixes = [(sysconfig.get_paths()["purelib"], "<site-packages>"),
                (str(checkout_root()), "."),
                (sys.prefix, "<python>"), (sys.base_prefix, "<python>"),
                (os.path.expanduser("~"), "~")]
    for old, new in prefixes:
        if old and old != os.sep:
            text = text.replace(old + os.sep, new + "/")
    return text.replace(str(checkout_root()), ".")  # the bare folder, e.g. --rootdir


def _bar(total: int, progress: bool) -> Any:
    if not progress or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="sweeps", unit="sweep", file=sys.stderr, leave=True,
                dynamic_ncols=True)


def _run_sweep(fn: Any, name: str, *, profile: str, seed: int, outdir: Path) -> dict[str, Any]:
    """Run one sweep; an exception becomes status "error" with its traceback in the note
    (the report still gets written, and the exit status says it failed)."""
    try:
        result = fn(profile=profile, seed=seed, outdir=outdir)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a broken sweep must show in the report, not kill it
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        result = {"title": getattr(fn, "title", name), "status": "error",
                  "note": f"{type(exc).__name__}: {exc}",
                  "traceback": "".join(tb)[-4000:]}
    result.setdefault("id", name)
    result.setdefault("title", getattr(fn, "title", name))
    result.setdefault("images", [])
    for img in result["images"]:
        if not (outdir / img).is_file():
            result["status"] = "error"
            result["note"] = f"sweep {name} did not write its image {img}"
    return result
