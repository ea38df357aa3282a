"""Text and HTML renderings of verdicts, the host x cause matrix and the report; results never format themselves.
Every evidence-derived string passes casgate.sanitize (controls, bidi, length) and, in HTML, Jinja2's autoescape."""

from __future__ import annotations

import functools
import itertools
import json
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from importlib.resources import files
from typing import NamedTuple

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from casgate.baseline import UNCHANGED
from casgate.sanitize import one_line
from casgate.verdict import Cause, Outcome, Row, Verdict

_EVIDENCE = "Evidence:"
_REMEDIATION = "Remediation (printed only; casgate never changes a server):"


def verdict_text(cause: Cause, check: str, verdict: Verdict) -> str:
    """What a failed or warned check prints (terminal, JUnit, HTML log): cause, summary, evidence, remediation;
    one evidence line stays one line, safe and capped."""
    lines = [one_line(f"[cause {cause.value}] {check}: {verdict.summary}")]
    if verdict.evidence:
        lines.append(_EVIDENCE)
        lines.extend(one_line(f"  {line}") for line in verdict.evidence)
    if verdict.remediation:
        lines.append(_REMEDIATION)
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


LAST_SCREEN_WIDTH = 80
"""The terminal the last screen fits: each line of it at most this many columns."""

KB_CAUSES = tuple(c for c in Cause if c.in_kb)
RELATED_CAUSES = tuple(c for c in Cause if not c.in_kb)
"""The matrix shows the KB's causes first, then, past a separator, the related ones."""


HOSTS_UNFOLDED = 20
"""Up to this many hosts the matrices and the provenance table have a row per host; past it, hosts whose matrix cells
are all the same share one row, the worst first (1,000 healthy hosts are one line), and the provenance table folds."""


CELL_TEXT = {Outcome.PASS: "PASS", Outcome.FAIL: "FAIL", Outcome.WARN: "WARN", Outcome.ERROR: "ERR", Outcome.WAIVED: "WAIV",
             Outcome.SKIP: "SKIP"}
"""A terminal matrix cell: four columns at most, so 15 causes and a host name fit 100 columns."""


def matrix_text(rows: list[Row]) -> list[str]:
    """The terminal's host x cause matrix; past HOSTS_UNFOLDED hosts, one line per set of hosts with the same cells
    ("h0001 and 998 alike"), the worst first."""
    matrix = {one_line(host): cells for host, cells in fold(rows).items()}
    if len(matrix) > HOSTS_UNFOLDED:
        alike: dict[tuple[tuple[Cause, Outcome], ...], list[str]] = {}
        for host, cells in matrix.items():
            alike.setdefault(tuple(sorted(cells.items())), []).append(host)
        worst_first = sorted(alike.items(), key=lambda group: (-max((o.severity for _, o in group[0]), default=-1), -len(group[1])))
        matrix = {hosts[0] + (f" and {len(hosts) - 1:,} alike" if len(hosts) > 1 else ""): dict(cells) for cells, hosts in worst_first}
    width = max([len("host")] + [len(h) for h in matrix])

    def line(label: str, shown: Callable[[Cause], str]) -> str:
        return (f"{label:<{width}}  " + " ".join(f"{shown(c):^4}" for c in KB_CAUSES) + " | "
                + " ".join(f"{shown(c):^4}" for c in RELATED_CAUSES))

    return [line("host", lambda c: c.value),
            *(line(host, lambda c, cells=cells: CELL_TEXT[cells[c]] if c in cells else "-") for host, cells in matrix.items())]


def matrix_legend(width: int = LAST_SCREEN_WIDTH) -> list[str]:
    """The terminal matrix's legend, wrapped."""
    legend = ("KB causes: " + ", ".join(f"{c.value} {c.headline}" for c in KB_CAUSES)
              + " | related, beyond the KB: " + ", ".join(f"{c.value} {c.headline}" for c in RELATED_CAUSES)
              + "; a cell shows the worst outcome of the cause's checks: "
              + ", ".join(f"{text} {OUTCOME_COUNTED[o]}" for o, text in CELL_TEXT.items()) + ", - not run")
    return textwrap.wrap(legend, width, break_long_words=False, break_on_hyphens=False)


def evidence_note(provenance: Iterable[Provenance], demo: Callable[[str], bool]) -> str:
    """Where the verdict's evidence came from when it is not this run's live collection: "evidence: crafted demo",
    "evidence: recorded 2026-11-20 (hq02, hq03), crafted demo (hq01)"; "" when every host was collected live now.
    `demo` says whether a snapshot folder is one of casgate's bundled demos."""
    labels: dict[str, list[str]] = {}
    hosts = 0
    for p in provenance:
        hosts += 1
        if p.problem:
            label = "unreadable manifest"
        elif p.source == "live" and p.collected_at == LIVE_NOW:
            continue
        elif p.source == "live":
            label = f"recorded {p.collected_at[:10]}"
        else:
            label = f"{p.source} demo" if demo(p.evidence) else f"{p.source} {p.collected_at[:10]}"
        labels.setdefault(label, []).append(p.host)
    if len(labels) == 1 and len(next(iter(labels.values()))) == hosts:
        return f"evidence: {next(iter(labels))}"
    return "evidence: " + ", ".join(f"{label} ({_some(names)})" for label, names in labels.items()) if labels else ""


LIVE_NOW = "during this run"
"""A live host's collection time in the provenance table."""


def _some(names: list[str], shown: int = 2) -> str:
    """A few host names for one line: 'hq01, hq02' or 'hq01, hq02 +310'."""
    return ", ".join(names[:shown]) + (f" +{len(names) - shown:,}" if len(names) > shown else "")


def last_screen(gate: str, rows: Iterable[Row], report: str | None, *, evidence: str = "", width: int = LAST_SCREEN_WIDTH) -> list[str]:
    """The last lines of a run, each at most `width` columns (a path longer than that excepted): one line per
    finding (host or hosts, cause, the finding as the problem, its first fix command when it fits, else its card in
    the report), one per reason checks went unjudged, the report path, and last the gate line with where its evidence
    came from, wrapped. The same for one host and for a fleet: hosts with the same finding share a line."""
    rows = list(rows)
    numbers = {r.nodeid: n for n, card in enumerate(cards(rows, {}), 1) for r in (card.row, *card.also)}
    found: dict[tuple[str, str], list[Row]] = {}
    for row in rows:  # a finding per cause and title; what could not be judged per reason, whatever the causes
        if row.outcome is Outcome.FAIL:
            found.setdefault((row.cause.value, row.title), []).append(row)
        elif row.outcome is Outcome.ERROR:
            found.setdefault(("", "not judged: " + _shared_reason(row)), []).append(row)
    lines = []
    for (cause, finding), of in found.items():
        names = list(dict.fromkeys(r.host for r in of))
        hosts = _some(names, shown=1)
        if not cause and len(names) == 1:  # one host: its reason as said, its own name and address in it
            finding = "not judged: " + not_judged_reason(of[0])
        causes = list(dict.fromkeys(r.cause.value for r in of))
        cause = cause or (",".join(causes) if len(causes) <= 2 else f"{len(causes)} causes")
        command = next((block[0] for code, block in remediation_blocks(of[0].remediation) if code), "")
        card = f"card {numbers[of[0].nodeid]}" if of[0].nodeid in numbers else ""
        lines.append(_fitted(f"{hosts} {cause}  ", one_line(finding), one_line(command), card, width))
    if report:
        lines.append(one_line(f"report: {report}" + (" (cards: evidence and fixes)" if numbers else "")))
    text = one_line(gate + (f" -- {evidence}" if evidence else ""))
    lines += textwrap.wrap(text, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False) or [text]
    return lines


def not_judged_reason(row: Row) -> str:
    """Why a check could not judge, without what differs between the checks of one host that could not be reached
    (the artifact each one needed): one unreachable host, one reason."""
    reason = row.summary.removeprefix("could not judge, evidence unusable: ")
    return re.sub(r"^\S+: could not be collected: ", "", reason)


_ADDRESS = re.compile(r"(?<=://)[^/\s\[\]:]+(?::[0-9]+)?|\[[0-9A-Fa-f:.]+\](?::[0-9]+)?|\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]+)?\b")
"""Where a reason names a host: a URL's host (its FQDN, in the HTTPS probe's), an IPv6 or IPv4 address, with its port."""


def _shared_reason(row: Row) -> str:
    """A not-judged reason as a fleet's hosts share it: without the host's own name and with its addresses (and a URL's
    host) said as such, so 200 hosts that cannot be reached the same way are one line of the last screen and one
    report card, not 200."""
    return _ADDRESS.sub("<its address>", not_judged_reason(row).removeprefix(f"{row.host}: "))


def _fitted(head: str, finding: str, command: str, card: str, width: int) -> str:
    """'hq01 1a  the finding; fix: COMMAND' when that fits, else 'hq01 1a  the finding (card 3)', the finding cut
    with an ellipsis when even that does not."""
    whole = f"{head}{finding}; fix: {command}"
    if command and len(whole) <= width:
        return whole
    tail = f" ({card})" if card else ""
    room = width - len(head) - len(tail)
    return head + (finding if len(finding) <= room else finding[:max(room - 1, 0)].rstrip() + "\u2026") + tail


# ---- HTML ---------------------------------------------------------------------------------------------------

def _shown(value: object) -> object:
    """Jinja2's finalize: every string a template prints is one safe, capped line before autoescape; only the
    report's own rendered parts (Markup) pass as they are."""
    return one_line(value) if isinstance(value, str) and not isinstance(value, Markup) else value


_TEMPLATES = Environment(loader=PackageLoader("casgate", "templates"), autoescape=True, finalize=_shown, undefined=StrictUndefined,
                         trim_blocks=True, lstrip_blocks=True)

OUTCOMES = sorted(Outcome, key=lambda o: o.severity, reverse=True)
"""Outcomes in the order the report lists them: most severe first."""

OUTCOME_MEANING = {
    Outcome.ERROR: "not judged: evidence missing or unusable, or the host or a DNS server did not answer (the gate is INCOMPLETE)",
    Outcome.FAIL: "the KB cause is present: its card below has the evidence and the remediation",
    Outcome.WARN: "not failing yet: the KB workaround masks a cause (--strict makes it fail)",
    Outcome.WAIVED: "a failure a waiver accepts (justification and expiry on its card)",
    Outcome.PASS: "judged healthy",
    Outcome.SKIP: "optional evidence absent, or deliberately not collected",
}

OUTCOME_COUNTED = {Outcome.ERROR: "not judged", Outcome.FAIL: "failed", Outcome.WARN: "warned", Outcome.WAIVED: "waived",
                   Outcome.PASS: "passed", Outcome.SKIP: "skipped"}

CARDED = (Outcome.FAIL, Outcome.ERROR, Outcome.WARN, Outcome.WAIVED)
"""The outcomes the report gives a card, with the check's text as its evidence."""


@dataclass(frozen=True)
class Provenance:
    """Where one host's evidence came from; `problem` says why the manifest could not tell."""

    host: str
    evidence: str  # the snapshot folder, or the live target
    fqdn: str = ""
    collected_at: str = ""
    source: str = ""
    collected_by: str = ""
    problem: str = ""


@dataclass(frozen=True)
class Card:
    """A failing, warned, waived or not-judged check as its card shows it."""

    anchor: str
    row: Row
    evidence: tuple[str, ...]
    remediation: tuple[tuple[bool, tuple[str, ...]], ...]
    also: tuple[Row, ...] = ()  # the other checks not judged for the same reason: the host's, or every sharing host's
    hosts: tuple[str, ...] = ()  # the hosts that share the reason, when more than one does

    @property
    def reason(self) -> str:
        """What the card says went wrong: a shared card says its hosts' reason as the last screen does (no host's own
        name or address), a host's own card its check's summary."""
        return "not judged: " + _shared_reason(self.row) if self.hosts else self.row.summary

    def unjudged(self) -> list[tuple[Cause, str, int]]:
        """A shared card's checks left unjudged, each once: cause, check, and on how many of its hosts."""
        counted = Counter((r.cause, r.check) for r in (self.row, *self.also))
        return [(cause, check, n) for (cause, check), n in counted.items()]


def _render(template: str, **context: object) -> str:
    return _TEMPLATES.get_template(template).render(**context)


def verdict_banner_html(passed: bool, headline: str, *, incomplete: bool = False, evidence: str = "") -> str:
    """The verdict at the top of the report, with where its evidence came from when not collected live now."""
    state = "passed" if passed else "incomplete" if incomplete else "failed"
    return _render("verdict.html.j2", state=state, headline=headline, evidence=evidence)


def cell_outcomes(rows: Iterable[Row]) -> tuple[Outcome, ...]:
    """What a matrix cell shows: every finding and gap among the cause's checks (FAIL and ERROR both, never just
    the worse), most severe first; a cause with none shows its best news, PASS or SKIP."""
    found = sorted({r.outcome for r in rows}, key=lambda o: o.severity, reverse=True)
    notable = [o for o in found if o.severity > Outcome.PASS.severity]
    return tuple(notable or found[:1])


def matrix_html(rows: list[Row], waiver_problems: tuple[str, ...] = ()) -> str:
    """The host x cause matrix with its legend, and the waivers that were not applied; the KB's causes come first, the
    related ones after a separator (`causes` is in that order: the enum lists the KB's first). Each row is a list of
    hosts: one, or past HOSTS_UNFOLDED all those with the same cells."""
    grouped: dict[str, dict[Cause, list[Row]]] = {}
    for row in rows:
        grouped.setdefault(row.host, {}).setdefault(row.cause, []).append(row)
    shown = {host: tuple((cell_outcomes(of), "; ".join(f"{r.check}: {r.outcome.value}" for r in of))
                         for of in (cells.get(cause, []) for cause in Cause))
             for host, cells in grouped.items()}
    if len(shown) <= HOSTS_UNFOLDED:
        matrix = [([host], cells) for host, cells in shown.items()]
    else:
        alike: dict[tuple[tuple[tuple[Outcome, ...], str], ...], list[str]] = {}
        for host, cells in shown.items():
            alike.setdefault(cells, []).append(host)
        matrix = sorted(((hosts, cells) for cells, hosts in alike.items()),
                        key=lambda m: (-max((o.severity for outcomes, _ in m[1] for o in outcomes), default=-1), -len(m[0])))
    return _render("matrix.html.j2", causes=list(Cause), kb_causes=KB_CAUSES, related=RELATED_CAUSES, matrix=matrix, outcomes=OUTCOMES,
                   meaning=OUTCOME_MEANING, waiver_problems=waiver_problems, grouped=len(shown) > HOSTS_UNFOLDED, unfolded=HOSTS_UNFOLDED)


def diff_html(rows: list[Row]) -> str:
    """Per host x check that changed outcome against the baseline, and what in its evidence changed."""
    return _render("diff.html.j2", moved=[r for r in rows if r.change not in (None, UNCHANGED)])


def evidence_of(text: str) -> tuple[str, ...]:
    """The evidence lines of a check's text as verdict_text wrote it; () for text without them."""
    lines = text.split("\n")
    if _EVIDENCE not in lines:
        return ()
    return tuple(line[2:] for line in itertools.takewhile(lambda line: line.startswith("  "), lines[lines.index(_EVIDENCE) + 1:]))


def remediation_blocks(remediation: str) -> tuple[tuple[bool, tuple[str, ...]], ...]:
    """Remediation as (is PowerShell, lines) blocks: the judges indent commands by two spaces, prose not at all."""
    lines = remediation.strip("\n").split("\n") if remediation.strip() else []
    return tuple((code, tuple(line[2:] if code else line for line in block))
                 for code, block in itertools.groupby(lines, key=lambda line: line.startswith("  ")))


def cards(rows: list[Row], texts: Mapping[str, str]) -> list[Card]:
    """A card per check that failed, warned or was waived, most severe first; checks that could not be judged get one
    card per reason: per reason shared by several hosts (200 unreachable hosts are one card naming them, as they are
    one line of the last screen), else per host and reason (an unreachable host is one card, not one per check)."""
    shown = sorted((r for r in rows if r.outcome in CARDED), key=lambda r: -r.outcome.severity)
    shared: dict[str, list[Row]] = {}
    for row in shown:
        if row.outcome is Outcome.ERROR:
            shared.setdefault(_shared_reason(row), []).append(row)
    together: dict[str, tuple[list[Row], tuple[str, ...]]] = {}  # the nodeid of a card's first check -> its checks, its hosts
    for of in shared.values():
        hosts = tuple(dict.fromkeys(r.host for r in of))
        if len(hosts) > 1:
            together[of[0].nodeid] = (of, hosts)
            continue
        alone: dict[str, list[Row]] = {}
        for row in of:
            alone.setdefault(not_judged_reason(row), []).append(row)
        together.update((checks[0].nodeid, (checks, ())) for checks in alone.values())
    grouped = [(r, *together.get(r.nodeid, ([r], ()))) for r in shown if r.outcome is not Outcome.ERROR or r.nodeid in together]
    return [Card(f"card-{n}", r, evidence_of(texts.get(r.nodeid, "")), remediation_blocks(r.remediation), tuple(checks[1:]), hosts)
            for n, (r, checks, hosts) in enumerate(grouped, 1)]


PAGE_ROWS = 200
"""Rows of the every-check table the HTML holds as markup. The rest ride along as JSON that the page's script shows
a page at a time: a browser lays out 200 rows, not 16,000, when it opens a 1,000-host report."""


class Line(NamedTuple):
    """One row of the every-check table as it is shown, in the markup and in the JSON alike."""

    outcome: str
    host: str
    cause: str
    check: str
    nodeid: str
    summary: str
    time: str
    card: str  # the anchor of the row's card, "" when it has none


def lines(rows: list[Row], anchors: Mapping[str, str]) -> list[Line]:
    """The rows as the table shows them, each text one safe, capped line here: the JSON never meets Jinja's finalize.
    A fleet repeats its checks' titles and summaries: each distinct text is made safe once."""
    safe = functools.cache(one_line)
    return [Line(r.outcome.value, safe(r.host), r.cause.value, safe(r.title), safe(r.nodeid), safe(r.summary),
                 f"{r.duration * 1000:.0f} ms", anchors.get(r.nodeid, "")) for r in rows]


_SCRIPT_SAFE = tuple((c, f"\\u{ord(c):04x}") for c in "<>&\u2028\u2029")
"""JSON inside <script> must never hold `</script>` or `<!--` (the HTML parser would end or nest the element), nor the
line separators old script engines took for line ends: JSON's own \\u escapes, which JSON.parse reads back."""


def lines_json(shown: list[Line]) -> Markup:
    """Every row for the page's script: the distinct strings once (1,000 hosts repeat few strings but the node ids),
    each row as their indexes in Line's order; safe to inline in a <script> element."""
    strings: dict[str, int] = {}
    packed = [[strings.setdefault(value, len(strings)) for value in line] for line in shown]
    text = json.dumps({"columns": Line._fields, "strings": list(strings), "rows": packed}, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _SCRIPT_SAFE:  # str.replace: translate() with a table took 0.19 s on 2 MB of rows, 10-50x longer
        text = text.replace(char, escaped)
    return Markup(text)


@dataclass(frozen=True)
class HtmlParts:
    """What pytest-html's options and hooks, and pytest-metadata, add to the report; the hooks' HTML is the user's
    own conftest's, inserted as it is, as pytest-html does."""

    title: str = ""
    css: tuple[str, ...] = ()
    prefix: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()
    postfix: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)


def report_html(*, state: str, headline: str, rows: list[Row], texts: Mapping[str, str], provenance: list[Provenance],
                waiver_problems: tuple[str, ...], baseline: bool, meta: Mapping[str, str], evidence: str = "",
                html: HtmlParts = HtmlParts()) -> str:
    """The whole self-contained report: verdict, matrix and legend, baseline diff, a card per finding, provenance,
    then every host x check with filters (its first PAGE_ROWS rows as markup, all of them as JSON); print-ready. No
    network: style and script are inline."""
    found = cards(rows, texts)
    shown = lines(rows, {r.nodeid: c.anchor for c in found for r in (c.row, *c.also)})
    resources = files("casgate") / "templates"
    return _render(
        "report.html.j2", headline=headline, meta=meta, provenance=provenance, cards=found, lines=shown, page=PAGE_ROWS,
        lines_json=lines_json(shown), hosts=len({r.host for r in rows}), unfolded=HOSTS_UNFOLDED, outcomes=OUTCOMES, counted=OUTCOME_COUNTED,
        counts={o: sum(1 for r in rows if r.outcome is o) for o in Outcome},
        verdict=Markup(verdict_banner_html(state == "PASSED", headline, incomplete=state == "INCOMPLETE", evidence=evidence)),
        matrix=Markup(matrix_html(rows, waiver_problems)), diff=Markup(diff_html(rows)) if baseline else "",
        style=Markup("\n".join([(resources / "report.css").read_text(encoding="utf-8"), *html.css])),
        title=html.title or headline, environment=html.environment,
        extras=[Markup(part) for part in (*html.prefix, *html.summary, *html.postfix)],
        script=Markup((resources / "report.js").read_text(encoding="utf-8")))


_TEST_ID_CELL = '<td class="col-testId">'


def escape_test_id(cells: list[str]) -> list[str]:
    """pytest-html 4 puts the raw test id (host names in it) into a cell its script parses as HTML: escape it."""
    return [_TEST_ID_CELL + escape(one_line(c[len(_TEST_ID_CELL):-len("</td>")])) + "</td>"
            if c.startswith(_TEST_ID_CELL) and c.endswith("</td>") else c for c in cells]
