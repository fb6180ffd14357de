"""What the speed benchmarks share: per-element times of pytest-benchmark runs, the table
of required ratios between them, and printing that table past pytest's output capture."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


class PerElement:
    """Seconds per element of named benchmarks (minimum and median over rounds)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.medians: dict[str, float] = {}

    def run(self, benchmark: Any, name: str, fn: Callable[[], Any], n: int,
            rounds: int) -> Any:
        """Time ``fn`` (``n`` elements per call) and keep its per-element times."""
        benchmark.extra_info["elements"] = n
        out = benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
        self.times[name] = benchmark.stats.stats.min / n
        self.medians[name] = benchmark.stats.stats.median / n
        benchmark.extra_info["ns_per_element"] = self.times[name] * 1e9
        return out

    def report(self, title: str, required: Sequence[tuple[str, str, float]]
               ) -> tuple[list[str], list[str]]:
        """(lines of the table, the required ratios missed); ``required`` holds
        (name, baseline, largest allowed time ratio name/baseline)."""
        lines = ["", f"{title} (ns/element: min over rounds, median in brackets)"]
        for name, t in sorted(self.times.items()):
            lines.append(f"  {name:40s} {t * 1e9:10.3f}  [{self.medians[name] * 1e9:.3f}]")
        missed = []
        for name, base, limit in required:
            if name not in self.times or base not in self.times:
                continue  # a deselected benchmark: nothing to compare
            r = self.times[name] / self.times[base]
            ok = r <= limit
            lines.append(f"  {name} / {base} = {r:.4g} (required <= {limit:.4g}) "
                         f"{'ok' if ok else 'MISSED'}")
            if not ok:
                missed.append(f"{name}/{base}={r:.4g} > {limit:.4g}")
        return lines, missed


def show(request: Any, lines: Sequence[str]) -> None:
    """Print past pytest's output capture, so the table shows in every run."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            for line in lines:
                reporter.write_line(line)
    else:
        print("\n".join(lines))
