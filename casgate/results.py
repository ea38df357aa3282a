"""The run's results: one Row per host x check gathered from (possibly xdist-forwarded) reports, compared with a
baseline, turned into the gate's verdict and exit status, and written as terminal summary, HTML and JSON."""

from __future__ import annotations

import functools
import json
import re
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from _pytest.junitxml import xml_key as junit_xml_key

from casgate import __version__
from casgate.baseline import NEW_FAILURE, UNCHANGED, change, fact_changes
from casgate.errors import CasgateError
from casgate.render import CARDED, Provenance, escape_test_id, matrix_text, report_html
from casgate.sanitize import for_terminal, one_line
from casgate.snapshot import Snapshot
from casgate.verdict import Cause, Outcome, Row, facts_json
from casgate.waivers import WaiverBook, unmatched

RESULT_PROPERTY = "casgate"
SCHEMA = "casgate-result/1"

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_COLLECTED = 0, 1, 2, 3
_JSON_HOST_KEYS = ("name", "host_id", "source")  # a host in docs/result.schema.json; the report's provenance needs more


def row_of(report: Any) -> Row | None:
    for name, value in getattr(report, "user_properties", ()):
        if name == RESULT_PROPERTY:
            return _parsed_row(str(value))
    return None


@functools.lru_cache(maxsize=64)
def _parsed_row(text: str) -> Row:
    """A report's row parsed once, though several hooks ask for it (a string, not an attribute on the report, is what
    survives xdist's report serialisation); Rows are frozen, so sharing one is safe."""
    return Row.from_json(text)


@dataclass(frozen=True)
class GateVerdict:
    """What the gate says: passed, failed or incomplete; the exit status; why in one line; and how much was judged."""

    state: str  # PASSED, FAILED, INCOMPLETE
    exit_code: int
    reason: str
    judged: int = 0
    selected: int = 0

    @property
    def passed(self) -> bool:
        return self.state == "PASSED"

    @property
    def headline(self) -> str:
        return f"GATE {self.state}: {self.reason}"


_JUDGED = (Outcome.PASS, Outcome.FAIL, Outcome.WARN, Outcome.WAIVED)


def decide(rows: list[Row], mode: str, selection: str = "") -> GateVerdict:
    """1 when a check failed (with --gate new-failures: newly failed); else 3 when a selected check could not be
    judged, or nothing was; else 0. Opt-outs (skips) and deselected causes are named, so a partial run says so."""
    failed = [r for r in rows if r.outcome is Outcome.FAIL and (mode == "all" or r.change == NEW_FAILURE)]
    errors = [r for r in rows if r.outcome is Outcome.ERROR]
    judged = sum(1 for r in rows if r.outcome in _JUDGED)
    hosts = len({r.host for r in rows})
    coverage = f"{judged} of {len(rows)} check(s) judged on {hosts} host(s)"
    partial = _partial(rows, selection)
    if failed:
        first = failed[0]
        kind = "newly failing" if mode == "new-failures" else "failed"
        return GateVerdict("FAILED", EXIT_FAILED, f"{len(failed)} check(s) {kind} on {len({r.host for r in failed})} of {hosts} host(s); "
                                                  f"first: {first.host} [cause {first.cause.value}] {first.summary}{partial}", judged, len(rows))
    if errors or not judged:
        names = ", ".join(sorted({r.host for r in errors})) or "any host"
        why = f"not judged: {len(errors)} check(s) on {names} (evidence missing, unusable or not collected)" if errors else "nothing was judged"
        return GateVerdict("INCOMPLETE", EXIT_NOT_COLLECTED, f"{coverage}; {why}{partial}", judged, len(rows))
    notes = [f"{n} {what}" for what, n in (("warned", _count(rows, Outcome.WARN)), ("waived", _count(rows, Outcome.WAIVED)),
                                           ("skipped: optional evidence or opted out", _count(rows, Outcome.SKIP))) if n]
    still = [r for r in rows if r.outcome is Outcome.FAIL]
    if still:
        notes.append(f"{len(still)} failure(s) already in the baseline")
    return GateVerdict("PASSED", EXIT_PASSED, coverage + (f" ({', '.join(notes)})" if notes else "") + partial, judged, len(rows))


def not_checked(rows: list[Row]) -> list[str]:
    """The cause ids no check of these rows covered."""
    covered = {r.cause for r in rows}
    return [c.value for c in Cause if c not in covered]


def _partial(rows: list[Row], selection: str) -> str:
    """"; PARTIAL: causes 1a, 1b not checked (-k tls)" when a selection left causes out; "" for a whole run."""
    if not selection:
        return ""
    missing = not_checked(rows)
    left_out = f"causes {', '.join(missing)} not checked" if missing else "some checks deselected"
    return f"; PARTIAL: {left_out} ({selection})"


_CELL_COLOURS = {"FAIL": {"red": True, "bold": True}, "ERROR": {"purple": True, "bold": True}, "WARN": {"yellow": True},
                 "WAIVED": {"cyan": True}, "PASS": {"green": True}}
_OUTCOME_WORD = re.compile(r"\b(FAIL|ERROR|WARN|WAIVED|PASS)\b")

MATRIX_LEGEND = ("KB causes: " + ", ".join(f"{c.value} {c.headline}" for c in Cause if c.in_kb)
                 + " | related, beyond the KB: " + ", ".join(f"{c.value} {c.headline}" for c in Cause if not c.in_kb)
                 + "; a cell shows the worst outcome of the cause's checks (- = not run)")


def not_judged_by_host(rows: list[Row]) -> list[tuple[str, list[str], list[str]]]:
    """Per host: the causes whose checks could not judge, and each distinct reason once (an unreachable host
    gives one reason for its DNS, TLS and certauth checks, not one line per check)."""
    grouped: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for row in rows:
        if row.outcome is Outcome.ERROR:
            causes, reasons = grouped.setdefault(row.host, ({}, {}))
            causes[row.cause.value] = None
            reason = row.summary.removeprefix("could not judge, evidence unusable: ")
            reasons[re.sub(r"^\S+: could not be collected: ", "", reason)] = None  # one unreachable host, one line
    return [(host, list(causes), list(reasons)) for host, (causes, reasons) in grouped.items()]


def result_document(verdict: GateVerdict, mode: str, selection: str, rows: list[Row], started: datetime, duration: float,
                    baseline: str | None, hosts: list[dict[str, str]], waiver_problems: tuple[str, ...]) -> dict[str, Any]:
    """The --json document (docs/result.schema.json), for one run or for shards merged with `casgate merge`."""
    return {
        "schema": SCHEMA,
        "casgate_version": __version__,
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": duration,
        "gate": {"mode": mode, "passed": verdict.passed, "state": verdict.state, "exit_code": verdict.exit_code,
                 "verdict": verdict.headline, "judged": verdict.judged, "selected": verdict.selected, "selection": selection,
                 "not_checked": not_checked(rows)},
        "baseline": baseline,
        "hosts": hosts,
        "waiver_problems": list(waiver_problems),
        "results": [r.as_dict() for r in rows],
    }


def selection_of(config: pytest.Config) -> str:
    """The -k / -m / --cause selections that narrowed the run, as the user typed them."""
    parts = [f"{flag} {value!r}" for flag, value in (("-k", config.getoption("keyword", "")), ("-m", config.getoption("markexpr", "")),
                                                      ("--cause", config.getoption("cause", "")), ("--shard", config.getoption("shard", "")))
             if value]
    return " ".join(parts)


def _count(rows: list[Row], outcome: Outcome) -> int:
    return sum(1 for r in rows if r.outcome is outcome)


def claim(path: Path) -> Path:
    """The first of NAME.html, NAME-2.html, NAME-3.html ... that no file has, created empty so that a run started
    in the same second takes the next one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        try:
            candidate.touch(exist_ok=False)
            return candidate
        except FileExistsError:
            n += 1


def provenance(host: Mapping[str, str]) -> Provenance:
    """Where a host's evidence came from, its manifest read now; a manifest that cannot be read is said, never raised."""
    if not host["snapshot"]:
        return Provenance(host["name"], f"live: {host['target']}", collected_at="during this run", source="live")
    try:
        manifest = Snapshot(Path(host["snapshot"])).manifest
    except CasgateError as exc:
        return Provenance(host["name"], host["snapshot"], problem=f"manifest unreadable: {exc}")
    return Provenance(host["name"], host["snapshot"], manifest.fqdn, f"{manifest.collected_at:%Y-%m-%d %H:%M:%S}", manifest.source,
                      f"casgate {manifest.casgate_version}")


class ResultBook:
    """Gathers rows; at the end of the session compares, decides, and reports."""

    def __init__(self, config: pytest.Config, hosts: list[dict[str, str]], baseline: dict[tuple[str, str], dict[str, Any]] | None,
                 mode: str, waivers: WaiverBook, html: Path | None, own_name: bool) -> None:
        self.config = config
        self.html = html  # where the controller writes the report (pytest-html only lends its --html option)
        self.own_name = own_name  # a name casgate chose never overwrites another run's report; a --html given is the user's
        self.hosts = hosts
        self.baseline = baseline
        self.mode = mode
        self.waivers = waivers
        self.waiver_problems = waivers.problems
        self.rows: dict[str, Row] = {}
        self.texts: dict[str, str] = {}  # nodeid -> the check's failure, warning or waiver text: its card's evidence
        self.verdict: GateVerdict | None = None
        self.started = datetime.now(timezone.utc)
        self._clock = time.monotonic()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """First of all plugins, so the terminal, JUnit and HTML reporters all get the check's text made safe."""
        row = row_of(report)
        if row is not None:
            _defuse(report)
            if hasattr(self.config, "workerinput"):
                return  # a worker forwards its reports; only the controller keeps rows, so workers' memory stays flat
            self.rows[row.nodeid] = row
            junit = self.config.stash.get(junit_xml_key, None)
            if junit is not None:  # JUnit names a check the way a person reads it: `hq01 · cause 2 · IIS binding matches keystore`
                junit.node_reporter(report).add_attribute("name", one_line(f"{row.host} \u00b7 cause {row.cause.value} \u00b7 {row.check}"))
            if row.outcome in CARDED:  # only a card shows the text; a fleet's passes keep none
                self.texts[row.nodeid] = "\n".join([report.longreprtext, *(text for header, text in report.sections if header.startswith("casgate "))])

    def sorted_rows(self) -> list[Row]:
        return sorted(self.rows.values(), key=lambda r: (r.host, list(Cause).index(r.cause), r.nodeid))

    def _compare(self, row: Row) -> Row:
        if self.baseline is None:
            return row
        before = self.baseline.get((row.host_id, row.check_id))
        moved = change(before, row.outcome.value)
        changes = tuple(fact_changes(before.get("facts", {}), facts_json(row.facts))) if before and before.get("fingerprint") != row.fingerprint else ()
        return replace(row, change=moved, changes=changes)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.rows or hasattr(self.config, "workerinput"):
            return
        self.rows = {nodeid: self._compare(row) for nodeid, row in self.rows.items()}
        self.waiver_problems += tuple(unmatched(self.waivers.waivers, ((r.host, r.check_id, r.cause.value) for r in self.rows.values())))
        self.verdict = decide(self.sorted_rows(), self.mode, selection_of(self.config))
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = self.verdict.exit_code
        path = self.config.getoption("casgate_json")
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(self.document(), indent=2) + "\n", encoding="utf-8")
        self.write_html()

    def document(self) -> dict[str, Any]:
        assert self.verdict is not None
        return result_document(self.verdict, self.mode, selection_of(self.config), self.sorted_rows(), self.started,
                               round(time.monotonic() - self._clock, 3), self.config.getoption("baseline"),
                               [{key: host[key] for key in _JSON_HOST_KEYS} for host in self.hosts], self.waiver_problems)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        rows = self.sorted_rows()
        if not rows or self.verdict is None:
            return

        def write(line: str, **markup: bool) -> None:
            terminalreporter.write_line(one_line(line), **markup)  # every line carries evidence: hosts, summaries, facts

        terminalreporter.section("casgate: host x cause")
        for line in matrix_text(rows):
            for part in _OUTCOME_WORD.split(one_line(line)):  # each cell in its outcome's colour, where the terminal has colour
                terminalreporter.write(part, **_CELL_COLOURS.get(part, {}))
            terminalreporter.write("\n")
        write(MATRIX_LEGEND)
        for row in rows:
            if row.outcome in (Outcome.WARN, Outcome.WAIVED):
                write(f"{row.outcome.value.upper()} {row.host} [cause {row.cause.value}] {row.check}: {row.summary}"
                      + (f" -- waiver: {row.waiver}" if row.waiver else ""), yellow=True)
        for host, causes, reasons in not_judged_by_host(rows):
            write(f"NOT JUDGED {host} (cause {', '.join(causes)}):", yellow=True)
            for reason in reasons:
                write(f"    {reason}")
        for problem in self.waiver_problems:
            write(f"WAIVER {problem}", yellow=True)
        moved = [r for r in rows if r.change not in (None, UNCHANGED)]
        if self.baseline is not None:
            terminalreporter.section("casgate: against the baseline")
            for row in moved:
                write(f"{row.change.upper() if row.change else ''}: {row.host} [cause {row.cause.value}] {row.check}")
                for line in row.changes:
                    write(f"    {line}")
            if not moved:
                write("no check changed outcome")
        if self.html is not None:  # written by now (sessionfinish)
            terminalreporter.write_sep("-", one_line(f"Generated html report: {self.html.resolve().as_uri()}"))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The gate line is the last line of the run, after pytest's own counts: what a person and a log tail read."""
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None and self.verdict is not None and self.rows:
            terminal.write_line(one_line(self.verdict.headline), bold=True, red=not self.verdict.passed, green=self.verdict.passed)

    def write_html(self) -> None:
        if self.html is None or self.verdict is None:
            return
        meta = {"version": __version__, "started": f"{self.started:%Y-%m-%d %H:%M:%S}",
                "command": shlex.join(["pytest", *self.config.invocation_params.args])}
        if self.own_name:
            self.html = claim(self.html)
        self.html.parent.mkdir(parents=True, exist_ok=True)
        self.html.write_text(report_html(state=self.verdict.state, headline=self.verdict.headline, rows=self.sorted_rows(), texts=self.texts,
                                          provenance=[provenance(h) for h in self.hosts], waiver_problems=self.waiver_problems,
                                          baseline=self.baseline is not None, meta=meta), encoding="utf-8")

    def pytest_html_results_table_row(self, cells: list[str]) -> None:
        cells[:] = escape_test_id(cells)


def _defuse(report: pytest.TestReport) -> None:
    """A check's failure text and sections as every reporter will print them: controls and bidi escaped, lines
    capped. Text already safe (verdict_text's) is left as it is; anything else, e.g. an evidence error quoting a
    file, is replaced by its safe rendering."""
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        path, line, reason = report.longrepr
        report.longrepr = (path, line, for_terminal(reason))
    elif report.longrepr is not None:  # a pass has none (rendering nothing costs a terminal writer per report)
        text = report.longreprtext
        if text and for_terminal(text) != text:
            report.longrepr = for_terminal(text)
    report.sections = [(one_line(header), for_terminal(content)) for header, content in report.sections]
