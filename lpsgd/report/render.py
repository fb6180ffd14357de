"""Render results.json into report.md and report.html (images beside them, relative links)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

__all__ = ["render_markdown", "render_html", "format_ratio", "kind_legend"]


def format_ratio(r: float | None, infinite: bool = False) -> str:
    """The worst observed/bound ratio as shown in the tables ("-" when nothing observed)."""
    if infinite:
        return "inf"
    if r is None:
        return "-"
    if r < 0:  # the observed side is below zero (e.g. a mean minus z se): no share of the bound
        return "< 0"
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


# -- the sections shared by both renderings ------------------------------------------------
# A section is a list of blocks: ("h2", title), ("h3", title), ("p", text), ("small", text),
# ("ul", [text, ...]) or ("table", header, rows).  Text may hold `code` spans.

def _tolerances() -> dict[str, Any]:
    """The comparison constants of the suite (lpsgd.suite.compare), for the legends."""
    try:
        from lpsgd.reference.expectations import DPS
        from lpsgd.suite import compare
    except ImportError:  # pragma: no cover - the suite's modules ship with lpsgd
        return {"dps": "?", "mp": "?", "f64": "?", "z": "?", "alarm": "?"}
    return {"dps": DPS, "mp": f"{compare.MP_RTOL:g}", "f64": f"{compare.FLOAT64_RTOL:g}",
            "z": f"{compare.Z:g}", "alarm": f"{compare.MC_FALSE_ALARM:.2g}"}


def kind_legend() -> dict[str, str]:
    """What the columns of the property tables measure, by kind of property."""
    t = _tolerances()
    return {
        "inequality": (
            "Each number is the largest observed/bound ratio over the examples; it must "
            "stay <= 1 (exact rationals compare with no tolerance, the "
            f"{t['dps']}-digit recursions and engines with a relative {t['mp']}, float64 "
            f"computations with {t['f64']}; a Monte Carlo mean counts only once it exceeds "
            f"the bound by more than {t['z']} standard errors, a one-sided false-alarm "
            f"probability of about {t['alarm']} per comparison). \"Any regime\" includes "
            "trivial cases (k = 1 or 2, no noise), where several bounds are equalities; "
            "\"non-trivial regime\" counts only examples with k >= 3 and noise present "
            "where the statement has noise, when the property records it (\"none drawn\": "
            "no example fell in that regime; n/a: not recorded)."),
        "equality": (
            "Equality properties: two computations that must agree. The number is the "
            "largest mismatch count or relative difference; 0 (or float64 rounding, "
            f"below {t['f64']}) is the passing value."),
        "statistical": (
            "Statistical properties: the number is the largest deviation over its allowed "
            "radius (|p_hat - p| over the Hoeffding radius at the false-alarm rate "
            "in its worst case: the radius is sqrt(ln(2/alpha) / (2N)) and one standard "
            "deviation of p_hat at most 1/(2 sqrt N), so a correct implementation stays "
            "well below 1); values near 1 would be false alarms, not tightness."),
    }


_KIND_GROUP = {"upper": "inequality", "mc_upper": "inequality", "equal": "equality",
               "no_mismatch": "equality", "statistical": "statistical"}


def _group(p: dict[str, Any]) -> str:
    return _KIND_GROUP.get(p.get("kind") or "upper", "inequality")


def _total_examples(results: dict[str, Any]) -> int:
    return sum(int(p.get("examples", 0)) for p in results["properties"])


def _sweep(results: dict[str, Any], sweep_id: str) -> dict[str, Any] | None:
    """The sweep named ``sweep_id`` (or whose name contains it), if it ran."""
    for s in results.get("sweeps", []):
        if sweep_id in str(s.get("id", "")) and s.get("status") == "ok":
            return s
    return None


def _verified_against(results: dict[str, Any]) -> list[tuple]:
    """The opening section: what was verified against what."""
    st = results.get("statements") or {}
    paper = st.get("paper") or {}
    props = results["properties"]
    kinds = [p.get("kind") or "upper" for p in props]
    n_exact = sum(k == "upper" and not p["name"].endswith("_worstcase")
                  for k, p in zip(kinds, props))
    n_mc = sum(k == "mc_upper" for k in kinds)
    n_eq = sum(_KIND_GROUP.get(k) == "equality" for k in kinds)
    blocks: list[tuple] = [("h2", "What was verified against what")]
    if paper:
        blocks.append(("p", f"The statements restate, with every constant explicit, the "
                            f"analysis of \"{paper.get('title')}\" (arXiv "
                            f"{paper.get('arxiv')}) within the smoothness / bounded-variance "
                            f"framework of Bottou, Curtis and Nocedal (2018, SIAM Review, "
                            f"section 4); Theorems 5-9 and the schedule-aware forms are "
                            f"derived in this project. Statements version "
                            f"`{st.get('version')}` (`lpsgd.theory.STATEMENTS_VERSION`); "
                            f"each statement, its assumptions and its provenance are listed "
                            f"under \"What is verified\"."))
    tol = _tolerances()
    truths = [f"exact expectations: the second-moment recursion on quadratics, evaluated in "
              f"exact or {tol['dps']}-digit arithmetic, no sampling error ({n_exact} inequality "
              f"properties compare against exact values: this recursion, exact gradient "
              f"descent with real quantisers, or exact bound identities)",
              f"Monte Carlo: sample means of the batched SGD engine, a violation only when "
              f"the mean exceeds the bound by more than {tol['z']} standard errors ({n_mc} "
              f"properties)",
              f"equality with an exact reference: the fast quantisers against the exact "
              f"one, bit for bit ({n_eq} properties; the conformance matrix below)"]
    worst = _sweep(results, "worst")
    wc_props = [p for p in props if p["name"].endswith("_worstcase")]
    if wc_props:
        covered = sorted({s for p in wc_props for s in p.get("statements") or []})
        truths.append(f"the worst case over the whole function class (performance "
                      f"estimation, an exact semidefinite program for a fixed method and "
                      f"horizon): {len(wc_props)} properties, for "
                      f"{', '.join(covered) or 'no registered statement'}")
    if worst:
        truths.append(f"the worst case over the function class as a sweep: "
                      f"\"{worst.get('title')}\" below")
    if not wc_props and not worst:
        truths.append("the worst case over the function class: not in this report "
                      "(see \"Not checked\")")
    if _sweep(results, "findings"):
        truths.append("real data: the paper's findings on the bundled breast-cancer data "
                      "(section \"The paper's findings on real data\")")
    blocks.append(("p", "Ground truths:"))
    blocks.append(("ul", truths))
    blocks.append(("p", f"Profile `{results['profile']}`, seed `{results['seed']}`: "
                        f"{len(props)} properties, {_total_examples(results)} examples in "
                        f"total, {len(results['mutants'])} mutants."))
    return blocks


def _statement_blocks(results: dict[str, Any]) -> list[tuple]:
    st = results.get("statements") or {}
    entries = st.get("entries") or []
    if not entries:
        return []
    blocks: list[tuple] = [
        ("h2", "What is verified"),
        ("p", "One entry per statement (the docstrings of lpsgd.theory are the source of "
              "the text). Provenance \"paper\": restates the paper's result, and with q = 1, "
              "M_q = 0 reduces to Bottou, Curtis, Nocedal (2018), Theorems 4.6-4.10; "
              "\"derived\": derived in this project, checked by hand and by this suite "
              "only; \"classical\": a textbook fact used as ground truth; \"definition\": "
              "what an implementation must compute. Status \"verified\": every property "
              "listed ran and held and every mutant was refuted in this run.")]
    blocks.append(("table", ["statement", "provenance", "status", "properties", "mutants"],
                   [[e["title"], e["provenance"], e["status"],
                     f"{sum(p['status'] == 'pass' for p in e['properties'])} of "
                     f"{len(e['properties'])} hold",
                     f"{sum(bool(m['refuted']) for m in e['mutants'])} of "
                     f"{len(e['mutants'])} refuted"] for e in entries]))
    for e in entries:
        blocks.append(("h3", f"{e['title']} ({e['status']})"))
        items = []
        for label, key in (("Problem", "problem"), ("Method", "method"),
                           ("Constants", "constants"), ("Claim", "claim"),
                           ("Assumptions", "assumptions"),
                           ("Provenance", "provenance_text")):
            if e.get(key):
                items.append(f"**{label}.** {e[key]}")
        if e.get("functions"):
            items.append("**Evaluated by** " + ", ".join(f"`{f}`" for f in e["functions"]))
        if e["properties"]:
            items.append("**Properties** " + ", ".join(
                f"`{p['name']}` ({p['status']})" for p in e["properties"]))
        else:
            items.append("**Properties** none in the property suite (see Provenance)")
        if e["mutants"]:
            items.append("**Mutants** " + ", ".join(
                f"`{m['name']}` ({_MUTANT_STATE[m['refuted']]})" for m in e["mutants"]))
        else:
            items.append("**Mutants** none weaken this statement")
        blocks.append(("ul", items))
    if st.get("unassigned_mutants"):
        blocks.append(("p", "Mutants of no statement: " + ", ".join(
            f"`{n}`" for n in st["unassigned_mutants"])))
    return blocks


_MUTANT_STATE = {True: "refuted", False: "NOT refuted", None: "not run"}


def _nontrivial_cell(p: dict[str, Any]) -> str:
    """The non-trivial worst ratio; "none drawn" when the property records the regime but
    no example fell in it, "n/a" when it does not record it."""
    if p.get("worst_ratio_nontrivial") is not None:
        return format_ratio(p["worst_ratio_nontrivial"])
    if p.get("nontrivial_examples") == 0 and p.get("examples"):
        return "none drawn"
    return "n/a"


def _property_tables(results: dict[str, Any], limit: int) -> list[tuple]:
    blocks: list[tuple] = [("h2", "Properties")]
    props = results["properties"]
    ineq = [p for p in props if _group(p) == "inequality"]
    eq = [p for p in props if _group(p) == "equality"]
    stat = [p for p in props if _group(p) == "statistical"]
    if ineq:
        blocks += [("h3", "Inequalities: tightness"), ("small", kind_legend()["inequality"]),
                   ("table", ["property", "status", "examples", "worst ratio (any regime)",
                              "worst ratio (non-trivial regime)", "seconds", "statements",
                              "counterexample / worst case"],
                    [[p["name"], p["status"], p["examples"],
                      format_ratio(p["worst_ratio"], p.get("worst_ratio_infinite", False)),
                      _nontrivial_cell(p), f"{p.get('duration', 0.0):.1f}",
                      ", ".join(p.get("statements") or []) or "-", _detail(p, limit)]
                     for p in ineq])]
    if eq:
        blocks += [("h3", "Equalities"), ("small", kind_legend()["equality"]),
                   ("table", ["property", "status", "examples",
                              "largest mismatch / relative difference", "seconds",
                              "counterexample / worst case"],
                    [[p["name"], p["status"], p["examples"],
                      format_ratio(p["worst_ratio"], p.get("worst_ratio_infinite", False)),
                      f"{p.get('duration', 0.0):.1f}", _detail(p, limit)] for p in eq])]
    if stat:
        blocks += [("h3", "Statistical checks"), ("small", kind_legend()["statistical"]),
                   ("table", ["property", "status", "examples",
                              "largest deviation / allowed radius", "seconds",
                              "counterexample / worst case"],
                    [[p["name"], p["status"], p["examples"],
                      format_ratio(p["worst_ratio"], p.get("worst_ratio_infinite", False)),
                      f"{p.get('duration', 0.0):.1f}", _detail(p, limit)] for p in stat])]
    if results.get("skipped"):
        blocks += [("p", "Skipped (not checked in this environment):"),
                   ("ul", [f"`{s['name']}`: {s['reason']}" for s in results["skipped"]])]
    if results.get("unmatched_observations"):
        blocks.append(("p", "Observations recorded under names that match no test: "
                            + ", ".join(f"`{n}`" for n in results["unmatched_observations"])))
    return blocks


def _loose_blocks(results: dict[str, Any]) -> list[tuple]:
    items = [f"**{s['title']}**: {entry['text']}" for s in results.get("sweeps", [])
             if s.get("status") == "ok" for entry in s.get("loose", [])]
    kinds = {e["name"]: e.get("kind") for e in (results.get("statements") or {}).get(
        "entries", [])}
    ineq = [p for p in results["properties"]
            if _group(p) == "inequality" and p.get("worst_ratio") is not None
            and p.get("status") == "pass" and p.get("statements")
            and all(kinds.get(s) in ("upper", "mc_upper") for s in p["statements"])]
    worst = [p for p in ineq if p["name"].endswith("_worstcase")]
    if worst:
        items.append("Against the exact worst case over the whole function class "
                     "(performance estimation, for the short horizons drawn), the largest "
                     "share of the bound reached: " + ", ".join(
                         f"`{p['name']}` {format_ratio(p['worst_ratio'])}" for p in worst)
                     + ". For the constants drawn the worst function of the class is "
                       "found exactly, so a value below 1 is the bound's own slack there "
                       "(other constants may come closer).")
    trivial = [p for p in ineq if p.get("worst_ratio_nontrivial") is not None
               and p["worst_ratio_nontrivial"] < 0.5 <= p["worst_ratio"]]
    for p in trivial:
        nt = p["worst_ratio_nontrivial"]
        items.append(f"`{p['name']}` reaches {format_ratio(p['worst_ratio'])} of its bound "
                     f"only in trivial cases; in the non-trivial regime at most "
                     f"{format_ratio(nt)}"
                     + (" (negative: the sample mean minus the z standard errors stays below "
                        "0)" if nt < 0 else "") + ".")
    far = sorted((p for p in ineq if p["worst_ratio"] < 0.5 and p not in worst),
                 key=lambda p: p["worst_ratio"])
    if far:
        items.append("Properties whose search never came within a factor 2 of the bound "
                     "(worst observed/bound): " + ", ".join(
                         f"`{p['name']}` {format_ratio(p['worst_ratio'])}" for p in far)
                     + ". On these examples the bound is loose, or the search did not find "
                       "its hard cases.")
    if not items:
        return []
    return [("h2", "Where the bounds are loose"),
            ("p", "Each number below is computed in this run, from the sweeps' exact "
                  "values, simulations and bounds, or from the properties' records. A "
                  "ratio near 1 means the bound is tight on that example; the statements "
                  "remain valid upper bounds however loose."),
            ("ul", items)]


def _not_checked_blocks(results: dict[str, Any]) -> list[tuple]:
    entries = results.get("not_checked")
    if entries is None:
        return []
    items = [f"**{e['name']}.** {e['text']}" for e in entries]
    return [("h2", "Not checked"),
            ("p", "Assumptions and regimes the suite does not exercise: a pass of this "
                  "report says nothing about them (tests/test_not_checked.py keeps this "
                  "list true against what the properties draw)."),
            ("ul", items or ["(nothing listed)"])]


# -- Markdown ------------------------------------------------------------------------------
def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def _md_blocks(blocks: list[tuple]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if b[0] == "h2":
            out += [f"## {b[1]}", ""]
        elif b[0] == "h3":
            out += [f"### {b[1]}", ""]
        elif b[0] in ("p", "small"):
            out += [b[1], ""]
        elif b[0] == "ul":
            out += [f"- {item}" for item in b[1]] + [""]
        elif b[0] == "table":
            out += _md_table(b[1], b[2])
    return out


def render_markdown(results: dict[str, Any]) -> str:
    """The report as Markdown, images linked relatively."""
    md: list[str] = [f"# lpsgd verification report: {_verdict(results)}", ""]
    md += _md_table(["item", "value"], [list(r) for r in _overview(results)])
    md += _md_blocks(_verified_against(results))
    md += _md_blocks(_statement_blocks(results))
    md += _md_blocks(_property_tables(results, 160))
    md += _md_blocks(_loose_blocks(results))
    md += _md_blocks(_not_checked_blocks(results))

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


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    """Escaped text with `code` spans and **bold** made HTML."""
    out = _e(text)
    out = _CODE.sub(r"<code>\1</code>", out)
    return _BOLD.sub(r"<strong>\1</strong>", out)


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


    def blocks(bs: list[tuple]) -> None:
        for b in bs:
            if b[0] == "h2":
                parts.append(h2(b[1]))
            elif b[0] == "h3":
                parts.append(f"<h3>{_inline(b[1])}</h3>")
            elif b[0] == "p":
                parts.append(f"<p>{_inline(b[1])}</p>")
            elif b[0] == "small":
                parts.append(f"<p class=\"small\">{_inline(b[1])}</p>")
            elif b[0] == "ul":
                parts.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in b[1]) + "</ul>")
            elif b[0] == "table":
                parts.append(_html_table(b[1], [[_inline(str(c)) for c in r] for r in b[2]],
                                         raw=True))

    blocks(_verified_against(results))
    blocks(_statement_blocks(results))
    blocks(_property_tables(results, 400))
    blocks(_loose_blocks(results))
    blocks(_not_checked_blocks(results))

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
