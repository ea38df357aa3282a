"""Text and HTML renderings of verdicts and of the host x cause matrix; results never format themselves.
Every evidence-derived string passes casgate.sanitize (controls, bidi, length) and, in HTML, html.escape."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from casgate.baseline import UNCHANGED
from casgate.sanitize import one_line
from casgate.verdict import Cause, Outcome, Row, Verdict


def verdict_text(cause: Cause, check: str, verdict: Verdict) -> str:
    """What a failed or warned check prints (terminal, JUnit, HTML log): cause, summary, evidence, remediation;
    one evidence line stays one line, safe and capped."""
    lines = [one_line(f"[cause {cause.value}] {check}: {verdict.summary}")]
    if verdict.evidence:
        lines.append("Evidence:")
        lines.extend(one_line(f"  {line}") for line in verdict.evidence)
    if verdict.remediation:
        lines.append("Remediation (printed only; casgate never changes a server):")
        lines.extend(one_line(f"  {line}") for line in verdict.remediation.split("\n"))
    return "\n".join(lines)


def fold(rows: Iterable[Row]) -> dict[str, dict[Cause, Outcome]]:
    """host -> cause -> the most severe outcome among that cause's checks."""
    matrix: dict[str, dict[Cause, Outcome]] = {}
    for row in rows:
        cells = matrix.setdefault(row.host, {})
        current = cells.get(row.cause)
        if current is None or row.outcome.severity > current.severity:
            cells[row.cause] = row.outcome
    return matrix


def matrix_text(rows: list[Row]) -> list[str]:
    matrix = {one_line(host): cells for host, cells in fold(rows).items()}
    width = max([len("host")] + [len(h) for h in matrix])
    lines = [f"{'host':<{width}}  " + "  ".join(f"{c.value:^6}" for c in Cause)]
    for host, cells in matrix.items():
        lines.append(f"{host:<{width}}  " + "  ".join(f"{cells[c].value.upper() if c in cells else '-':^6}" for c in Cause))
    return lines


def verdict_banner_html(passed: bool, headline: str) -> str:
    color = "#2e7d32" if passed else "#c62828"
    return (f'<div id="casgate-verdict" style="font-size:1.6em;font-weight:bold;color:#fff;background:{color};'
            f'padding:10px 14px;margin:8px 0">{_html(headline)}</div>')


def _html(text: str) -> str:
    """Evidence-derived text in the report's HTML: one safe, capped line, escaped for element text and attributes."""
    return escape(one_line(text))


_TEST_ID_CELL = '<td class="col-testId">'


def escape_test_id(cells: list[str]) -> list[str]:
    """pytest-html 4 puts the raw test id (host names in it) into a cell its script parses as HTML: escape it."""
    return [_TEST_ID_CELL + _html(c[len(_TEST_ID_CELL):-len("</td>")]) + "</td>"
            if c.startswith(_TEST_ID_CELL) and c.endswith("</td>") else c for c in cells]


def diff_html(rows: list[Row]) -> str:
    """Per host x check that changed outcome against the baseline, and what in its evidence changed."""
    moved = [r for r in rows if r.change not in (None, UNCHANGED)]
    if not moved:
        return '<h2>Against the baseline</h2><p id="casgate-diff">No check changed outcome.</p>'
    items = "".join(
        f"<li><b>{escape(r.change or '')}</b> {_html(r.host)} [cause {escape(r.cause.value)}] {_html(r.check)}"
        + ("<ul>" + "".join(f"<li><code>{_html(c)}</code></li>" for c in r.changes) + "</ul>" if r.changes else "") + "</li>"
        for r in moved
    )
    return f'<h2>Against the baseline</h2><ul id="casgate-diff">{items}</ul>'


def matrix_html(rows: list[Row], waiver_problems: tuple[str, ...] = ()) -> str:
    matrix = fold(rows)
    head = "".join(f'<th title="{escape(c.headline)}">{escape(c.value)}<br><small>{escape(c.headline)}</small></th>' for c in Cause)
    body = []
    for host, cells in matrix.items():
        tds = []
        for cause in Cause:
            outcome = cells.get(cause)
            details = "; ".join(f"{r.check}: {r.outcome.value}" for r in rows if r.host == host and r.cause is cause)
            label = outcome.value.upper() if outcome else "-"
            css = f"casgate-{outcome.value}" if outcome else ""
            tds.append(f'<td class="{css}" title="{_html(details)}">{escape(label)}</td>')
        body.append(f"<tr><th>{_html(host)}</th>{''.join(tds)}</tr>")
    return (
        "<style>"
        "table.casgate-matrix{border-collapse:collapse;margin:1em 0}"
        ".casgate-matrix th,.casgate-matrix td{border:1px solid #999;padding:4px 10px;text-align:center}"
        ".casgate-pass{background:#c8e6c9}.casgate-fail{background:#ef9a9a}.casgate-warn{background:#ffe082}"
        ".casgate-error{background:#ce93d8}.casgate-skip{background:#eeeeee}.casgate-waived{background:#b3e5fc}"
        "#casgate-problems li{color:#000;padding:2px 4px}"
        "</style>"
        '<h2>Host &times; cause</h2><table class="casgate-matrix" id="casgate-matrix">'
        f"<tr><th>host</th>{head}</tr>{''.join(body)}</table>"
        + _problems_html(rows)
        + "".join(f'<p class="casgate-warn">Waiver not applied: {_html(p)}</p>' for p in waiver_problems)
    )


def _problems_html(rows: list[Row]) -> str:
    problems = [r for r in rows if r.outcome in (Outcome.FAIL, Outcome.WARN, Outcome.ERROR, Outcome.WAIVED)]
    if not problems:
        return "<p>Every check passed.</p>"
    items = "".join(
        f'<li class="casgate-{r.outcome.value}"><b>{escape(r.outcome.value.upper())}</b> {_html(r.host)} '
        f"[cause {escape(r.cause.value)}] {_html(r.check)}: {_html(r.summary)}</li>"
        for r in problems
    )
    return f"<ul id=\"casgate-problems\">{items}</ul>"
