"""Render results.json into report.md and report.html (images beside them, relative links)."""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["render_markdown", "render_html", "format_ratio"]


def format_ratio(r: float | None, infinite: bool = False) -> str:
    """The worst observed/bound ratio as shown in the tables ("-" when nothing observed)."""
    if infinite:
        return "inf"
    if r is None:
        return "-"
    return f"{r:.6g}"


def _detail(p: dict[str, Any], limit: int) -> str:
    """Counterexample of a failing property, else its worst case (when the ratio is > 0:
    with ratio 0 every example is equally good and the first one says nothing)."""
    if p.get("counterexample"):
        return _short(p["counterexample"], limit)
    if p.get("worst_ratio"):
        return "worst case: " + _short(p.get("worst_case"), limit)
    return ""


def _failures(results: dict[str, Any]) -> list[tuple[str, str]]:
    out = [(p["name"], str(p["counterexample"])) for p in results["properties"]
           if p["status"] == "fail" and p.get("counterexample")]
    out += [(f"mutant {m['name']}", m.get("note") or "not refuted") for m in results["mutants"]
            if not m["refuted"]]
    return out


def _short(value: Any, limit: int = 160) -> str:
    if value is None or value == "":
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _verdict(results: dict[str, Any]) -> str:
    return "PASS" if results.get("ok") else "FAIL"


def _overview(results: dict[str, Any]) -> list[tuple[str, str]]:
    props = results["properties"]
    muts = results["mutants"]
    n_fail = sum(p["status"] == "fail" for p in props)
    n_ref = sum(m["refuted"] for m in muts)
    rows = [
        ("Verdict", _verdict(results)),
        ("Properties", f"{len(props) - n_fail} of {len(props)} hold"
                       + (f", {len(results.get('skipped', []))} skipped"
                          if results.get("skipped") else "")),
        ("Mutants", f"{n_ref} of {len(muts)} refuted"),
        ("pytest", results["pytest"]["summary"] or "(no summary line)"),
    ]
    conf = results.get("conformance")
    if conf and conf.get("status") == "ok":
        rows.append(("fast == reference", f"{conf['checked']} values checked, "
                                          f"{conf['mismatches']} mismatches"))
    rows += [("Profile", results["profile"]), ("Seed", str(results["seed"])),
             ("Commit", results["commit"] + (" (with uncommitted changes)"
                                              if results.get("dirty") else "")),
             ("Generated", results.get("generated", "")),
             ("Total time", f"{results['timings'].get('total', 0.0):.1f} s")]
    return rows


# -- Markdown ------------------------------------------------------------------------------
def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


#: What the worst-ratio column measures, by kind of property.
RATIO_LEGEND = (
    "Worst ratio = largest observed/bound over the examples; it must stay <= 1 (the "
    "tolerance is the property's own).  For the inequalities of the theorems it is the "
    "tightness the search reached: near 1 means the hard cases were found.  For the "
    "equality properties (fast_matches_reference, idempotent, monotone, sign_symmetric) "
    "it is mismatches per check, and 0 is the only passing value; for "
    "effective_stepsize_equivalence it is the relative difference of two equal "
    "quantities (float64 rounding).  For stochastic_rounding_distribution it is "
    "|p_hat - p| over the Hoeffding radius: a correct quantiser gives about 0.1-0.3 "
    "there, and values near 1 would be false alarms, not tightness.")


def render_markdown(results: dict[str, Any]) -> str:
    """The report as Markdown, images linked relatively."""
    md: list[str] = [f"# lpsgd verification report: {_verdict(results)}", ""]
    md += _md_table(["item", "value"], [list(r) for r in _overview(results)])

    md += ["## Properties", "", RATIO_LEGEND, ""]
    md += _md_table(
        ["property", "status", "examples", "worst observed/bound", "seconds",
         "counterexample / worst case"],
        [[p["name"], p["status"], p["examples"],
          format_ratio(p["worst_ratio"], p.get("worst_ratio_infinite", False)),
          f"{p.get('duration', 0.0):.1f}", _detail(p, 160)]
         for p in results["properties"]])
    if results.get("skipped"):
        md += ["Skipped (not checked in this environment):", ""]
        md += [f"- `{s['name']}`: {s['reason']}" for s in results["skipped"]] + [""]
    if results.get("unmatched_observations"):
        md += ["Observations recorded under names that match no test: "
               + ", ".join(f"`{n}`" for n in results["unmatched_observations"]), ""]

    md += ["## Mutants", "", "Each mutant is a deliberately wrong statement; the suite must "
           "refute it.", ""]
    md += _md_table(["mutant", "refuted", "seconds", "counterexample"],
                    [[m["name"], "yes" if m["refuted"] else "NO",
                      f"{m.get('duration', 0.0):.1f}",
                      _short(m["counterexample"]) or m.get("note", "")]
                     for m in results["mutants"]])

    failures = _failures(results)
    if failures:
        md += ["## Failures in full", ""]
        for name, text in failures:
            md += [f"**{name}**", "", "```", text, "```", ""]

    errors = results["pytest"].get("collection_errors") or []
    if errors:
        md += ["## Collection errors", ""]
        md += [f"- `{e['nodeid']}`: {_short(e['longrepr'], 300)}" for e in errors] + [""]

    conf = results.get("conformance")
    if conf:
        md += ["## Conformance: fast == reference", ""]
        if conf.get("status") == "ok":
            md += [conf["description"], ""]
            modes = conf["modes"]
            md += _md_table(["format"] + modes,
                            [[fmt] + [_conf_cell(conf["cells"][fmt][m]) for m in modes]
                             for fmt in conf["formats"]])
        else:
            md += [f"_{conf.get('status')}: {conf.get('note', '')}_", ""]

    for sweep in results.get("sweeps", []):
        md += [f"## {sweep['title']}", ""]
        if sweep["status"] != "ok":
            md += [f"_{sweep['status']}: {sweep.get('note', '')}_", ""]
            continue
        for img in sweep.get("images", []):
            md += [f"![{sweep['title']}]({img})", ""]
        if sweep.get("caption"):
            md += [sweep["caption"], ""]
        for t in sweep.get("tables", []):
            if t.get("title"):
                md += [f"**{t['title']}**", ""]
            md += _md_table(t["header"], t["rows"])

    md += ["## How to reproduce", "", "```", results["command"], "```", "",
           f"Commit `{results['commit']}`, profile `{results['profile']}`, seed "
           f"`{results['seed']}`. The suite ran in-process as `pytest "
           + " ".join(results["pytest"]["args"]) + "`.", ""]
    md += _md_table(["package", "version"], [[k, v] for k, v in results["versions"].items()])
    md += ["Timings (seconds):", ""]
    md += _md_table(["phase", "seconds"],
                    [[k, f"{v:.2f}"] for k, v in results["timings"].items()])
    md += ["pytest's own output is in `pytest.log`; all numbers are in `results.json`.", ""]
    return "\n".join(md)


def _conf_cell(cell: dict[str, Any]) -> str:
    if cell.get("error"):
        return "error"
    if cell["mismatches"]:
        return f"{cell['mismatches']}/{cell['checked']} differ"
    return f"ok {cell['checked']}"


# -- HTML ----------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#17702d;font-weight:600}.fail{color:#b00020;font-weight:700}
.badge{display:inline-block;padding:.15em .7em;border-radius:.3em;color:#fff;font-weight:700}
.badge.pass{background:#17702d;color:#fff}.badge.fail{background:#b00020;color:#fff}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
code,pre{background:#f6f6f6;font-size:.9em}
pre{padding:.6em;white-space:pre-wrap;word-break:break-word}
.note{color:#666;font-style:italic}summary{cursor:pointer}details pre{white-space:pre-wrap;
max-width:60em}.small{font-size:.85em;color:#555}
td.ok{background:#eef8ee}td.bad{background:#fde8ea}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _html_table(header: list[str] | None, rows: list[list[str]], *, raw: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header or [])
    body = []
    for row in rows:
        cells = []
        for c in row:
            if raw:
                cells.append(c if c.startswith(("<td", "<th")) else f"<td>{c}</td>")
            else:
                cells.append(f"<td>{_e(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if header else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _expandable(full: Any, limit: int = 160) -> str:
    """A short text that opens to the full one (HTML <details>) when it was cut."""
    if full is None or full == "":
        return ""
    text = full if isinstance(full, str) else json.dumps(full, sort_keys=True, indent=1)
    short = _short(full, limit)
    if short == " ".join(text.split()):
        return f'<span class="small">{_e(short)}</span>'
    return (f'<details class="small"><summary>{_e(short)}</summary><pre>{_e(text)}</pre>'
            "</details>")


def _status(text: str, good: bool) -> str:
    return f'<span class="{"pass" if good else "fail"}">{_e(text)}</span>'


_TOC = "<!-- contents -->"


def render_html(results: dict[str, Any]) -> str:
    """The report as one HTML page; plots are <img> tags pointing at PNGs beside it."""
    ok = bool(results.get("ok"))
    parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>lpsgd report {_e(results['profile'])} seed {_e(results['seed'])}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>lpsgd verification report <span class=\"badge {'pass' if ok else 'fail'}\">"
             f"{_verdict(results)}</span></h1>"]
    parts.append(_html_table(None, [[f"<th>{_e(k)}</th>", _e(v)] for k, v in _overview(results)],
                             raw=True))
    parts.append(_TOC)
    toc: list[str] = []

    def h2(title: str) -> str:
        toc.append(title)
        return f'<h2 id="s{len(toc)}">{_e(title)}</h2>'


    parts.append(h2("Properties") + f"<p class=\"small\">{_e(RATIO_LEGEND)}</p>")
    rows = []
    for p in results["properties"]:
        if p.get("counterexample"):
            detail = _expandable(p["counterexample"])
        else:
            detail = f"<span class=\"small\">{_e(_detail(p, 400))}</span>"
        ratio = format_ratio(p["worst_ratio"], p.get("worst_ratio_infinite", False))
        rows.append([f"<code>{_e(p['name'])}</code>", _status(p["status"], p["status"] == "pass"),
                     f'<td class="num">{p["examples"]}</td>',
                     f'<td class="num">{_e(ratio)}</td>',
                     f'<td class="num">{p.get("duration", 0.0):.1f}</td>',
                     detail])
    parts.append(_html_table(["property", "status", "examples", "worst observed/bound",
                              "seconds", "counterexample / worst case"], rows, raw=True))
    if results.get("skipped"):
        parts.append("<p>Skipped (not checked in this environment):</p><ul>"
                     + "".join(f"<li><code>{_e(s['name'])}</code>: {_e(s['reason'])}</li>"
                               for s in results["skipped"]) + "</ul>")
    if results.get("unmatched_observations"):
        parts.append("<p class=\"note\">Observations recorded under names that match no test: "
                     + ", ".join(_e(n) for n in results["unmatched_observations"]) + "</p>")

    parts.append(h2("Mutants") + "<p class=\"small\">Each mutant is a deliberately wrong "
                 "statement; the suite must refute it.</p>")
    parts.append(_html_table(
        ["mutant", "refuted", "seconds", "counterexample"],
        [[f"<code>{_e(m['name'])}</code>", _status("yes" if m["refuted"] else "NO", m["refuted"]),
          f'<td class="num">{m.get("duration", 0.0):.1f}</td>',
          _expandable(m["counterexample"]) or f"<span class=\"small\">{_e(m.get('note', ''))}"
          "</span>"] for m in results["mutants"]], raw=True))

    failures = _failures(results)
    if failures:
        parts.append(h2("Failures in full"))
        for name, text in failures:
            parts.append(f"<h3><code>{_e(name)}</code></h3><pre>{_e(text)}</pre>")

    errors = results["pytest"].get("collection_errors") or []
    if errors:
        parts.append(h2("Collection errors") + "<ul>" + "".join(
            f"<li><code>{_e(e['nodeid'])}</code><pre>{_e(e['longrepr'][-2000:])}</pre></li>"
            for e in errors) + "</ul>")

    conf = results.get("conformance")
    if conf:
        parts.append(h2("Conformance: fast == reference"))
        if conf.get("status") == "ok":
            parts.append(f"<p>{_e(conf['description'])}</p>")
            modes = conf["modes"]
            rows = []
            for fmt in conf["formats"]:
                row = [f"<code>{_e(fmt)}</code>"]
                for m in modes:
                    cell = conf["cells"][fmt][m]
                    good = not cell["mismatches"] and not cell.get("error")
                    row.append(f'<td class="{"ok" if good else "bad"} num">'
                               f"{_e(_conf_cell(cell))}</td>")
                rows.append(row)
            parts.append(_html_table(["format"] + modes, rows, raw=True))
        else:
            parts.append(f"<p class=\"note\">{_e(conf.get('status'))}: "
                         f"{_e(conf.get('note', ''))}</p>")

    for sweep in results.get("sweeps", []):
        parts.append(h2(sweep["title"]))
        if sweep["status"] != "ok":
            parts.append(f"<p class=\"note\">{_e(sweep['status'])}: "
                         f"{_e(sweep.get('note', ''))}</p>")
            continue
        for img in sweep.get("images", []):
            parts.append(f'<img src="{_e(img)}" alt="{_e(sweep["title"])}">')
        if sweep.get("caption"):
            parts.append(f"<p>{_e(sweep['caption'])}</p>")
        for t in sweep.get("tables", []):
            if t.get("title"):
                parts.append(f"<h3>{_e(t['title'])}</h3>")
            parts.append(_html_table(t["header"], [[str(c) for c in r] for r in t["rows"]]))

    parts.append(h2("How to reproduce"))
    parts.append(f"<pre>{_e(results['command'])}</pre>")
    parts.append(f"<p>Commit <code>{_e(results['commit'])}</code>, profile "
                 f"<code>{_e(results['profile'])}</code>, seed <code>{_e(results['seed'])}</code>. "
                 f"The suite ran in-process as <code>pytest "
                 f"{_e(' '.join(results['pytest']['args']))}</code>.</p>")
    parts.append(_html_table(["package", "version"],
                             [[k, v] for k, v in results["versions"].items()]))
    parts.append(_html_table(["phase", "seconds"],
                             [[k, f"{v:.2f}"] for k, v in results["timings"].items()]))
    parts.append("<p class=\"small\">pytest's own output: <a href=\"pytest.log\">pytest.log</a>; "
                 "all numbers: <a href=\"results.json\">results.json</a>.</p>")
    parts.append("</body></html>")
    nav = ("<nav class=\"small\">Contents: " + " &middot; ".join(
        f'<a href="#s{i}">{_e(t)}</a>' for i, t in enumerate(toc, 1)) + "</nav>")
    return "\n".join(nav if p is _TOC else p for p in parts)
