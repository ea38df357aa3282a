"""The run's results: one Row per host x check gathered from (possibly xdist-forwarded) reports, compared with a
baseline, turned into the gate's verdict and exit status, and written as terminal summary, HTML and JSON."""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
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
from casgate.cli import bundled_snapshots
from casgate.errors import CasgateError
from casgate.render import (CARDED, LIVE_NOW, HtmlParts, Provenance, escape_test_id, evidence_note, last_screen, matrix_legend, matrix_text,
                            not_judged_reason, report_html)
from casgate.sanitize import for_terminal, one_line
from casgate.snapshot import Snapshot
from casgate.verdict import Cause, Outcome, Row, facts_json, report_order
from casgate.waivers import WaiverBook, unmatched

RESULT_PROPERTY = "casgate"
SCHEMA = "casgate-result/1"

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_COLLECTED = 0, 1, 2, 3
_JSON_HOST_KEYS = ("name", "host_id", "source")  # a host in docs/result.schema.json; the report's provenance needs more


def row_of(report: Any) -> Row | None:
    for name, value in getattr(report, "user_properties", ()):
        if name == RESULT_PROPERTY:
            return value if isinstance(value, Row) else _parsed_row(str(value))
    return None


@functools.lru_cache(maxsize=64)
def _parsed_row(text: str) -> Row:
    """A row that crossed from an xdist worker as JSON text, parsed once though several hooks ask for it; Rows are
    frozen, so sharing one is safe."""
    return Row.from_json(text)


@dataclass(frozen=True)
class GateVerdict:
    """What the gate says: passed, failed or incomplete; the exit status; why in one line; and how much was judged."""

    state: str  # PASSED, FAILED, INCOMPLETE
    exit_code: int
    reason: str
    judged: int = 0
    selected: int = 0
    short: str = ""  # the reason without its first finding, for the last screen that lists every finding

    @property
    def gate_line(self) -> str:
        return f"GATE {self.state}: {self.short or self.reason}"

    @property
    def passed(self) -> bool:
        return self.state == "PASSED"

    @property
    def headline(self) -> str:
        return f"GATE {self.state}: {self.reason}"


_JUDGED = (Outcome.PASS, Outcome.FAIL, Outcome.WARN, Outcome.WAIVED)


def decide(rows: list[Row], mode: str, selection: str = "", cut: str = "", selected: int = 0) -> GateVerdict:
    """1 when a check failed (with --gate new-failures: newly failed); else 3 when a selected check could not be
    judged, or nothing was; else 0. Opt-outs (skips) and deselected causes are named, so a partial run says so.
    A run `cut` short (interrupted, stopped by -x/--maxfail, nothing selected) is never complete: 3, whatever it saw."""
    failed = [r for r in rows if r.outcome is Outcome.FAIL and (mode == "all" or r.change == NEW_FAILURE)]
    errors = [r for r in rows if r.outcome is Outcome.ERROR]
    judged = sum(1 for r in rows if r.outcome in _JUDGED)
    hosts = len({r.host for r in rows})
    coverage = f"{judged} of {len(rows)} check(s) judged on {hosts} host(s)"
    if cut and not rows:
        return GateVerdict("INCOMPLETE", EXIT_NOT_COLLECTED, f"{cut}; nothing was judged" + (f" ({selection})" if selection else ""), 0, selected)
    if cut:
        selected = max(selected, len(rows))
        so_far = f"; {len(failed)} failed before it stopped" if failed else ""
        reason = f"{cut}: {judged} of {selected} selected check(s) judged on {hosts} host(s){so_far}"
        narrowed = f" ({selection})" if selection else ""
        first = f", first: {_first(failed[0])}" if failed else ""
        return GateVerdict("INCOMPLETE", EXIT_NOT_COLLECTED, reason + first + narrowed, judged, selected, reason + narrowed)
    partial = _partial(rows, selection)
    if failed:
        kind = "newly failing" if mode == "new-failures" else "failed"
        counted = f"{len(failed)} check(s) {kind} on {len({r.host for r in failed})} of {hosts} host(s)"
        return GateVerdict("FAILED", EXIT_FAILED, f"{counted}; first: {_first(failed[0])}{partial}", judged, len(rows), counted + partial)
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


def _first(row: Row) -> str:
    return f"{row.host} [cause {row.cause.value}] {row.summary}"


def cut_short(message: str) -> str:
    """Why a run ended before every selected check ran, in the operator's words: pytest's "stopping after 1 failures"
    (-x, --maxfail; xdist raises it as an interrupt), "1 error during collection", or a bare Ctrl-C."""
    stopped = re.fullmatch(r"stopping after (\d+) failures?", message)
    if stopped:
        return f"stopped after {stopped[1]} failure(s) (-x / --maxfail)"
    return f"interrupted ({message or 'Ctrl-C'})"


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


_CELL_COLOURS = {"FAIL": {"red": True, "bold": True}, "ERR": {"purple": True, "bold": True}, "WARN": {"yellow": True},
                 "WAIV": {"cyan": True}, "PASS": {"green": True}}
_OUTCOME_WORD = re.compile(r"\b(FAIL|ERR|WARN|WAIV|PASS)\b")

def not_judged_by_host(rows: list[Row]) -> list[tuple[str, list[str], list[str]]]:
    """Per host: the causes whose checks could not judge, and each distinct reason once (an unreachable host
    gives one reason for its DNS, TLS and certauth checks, not one line per check)."""
    grouped: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for row in rows:
        if row.outcome is Outcome.ERROR:
            causes, reasons = grouped.setdefault(row.host, ({}, {}))
            causes[row.cause.value] = None
            reasons[not_judged_reason(row)] = None
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


def json_text(document: dict[str, Any]) -> str:
    """The --json document as text: a line per top-level key and per item of a list, so a result reads and diffs
    row by row; each line by json's C encoder (indent= would force its pure-Python one: 2 s of CPU at 1,000 hosts)."""
    def value(item: Any) -> str:
        if isinstance(item, list) and item:
            return "[\n    " + ",\n    ".join(json.dumps(entry) for entry in item) + "\n  ]"
        return json.dumps(item)

    return "{\n" + ",\n".join(f"  {json.dumps(key)}: {value(item)}" for key, item in document.items()) + "\n}\n"


def selection_of(config: pytest.Config) -> str:
    """The -k / -m / --cause selections that narrowed the run, as the user typed them."""
    parts = [f"{flag} {value!r}" for flag, value in (("-k", config.getoption("keyword", "")), ("-m", config.getoption("markexpr", "")),
                                                      ("--cause", config.getoption("cause", "")), ("--shard", config.getoption("shard", "")))
             if value]
    return " ".join(parts)


def _count(rows: list[Row], outcome: Outcome) -> int:
    return sum(1 for r in rows if r.outcome is outcome)


def write_whole(path: Path, text: str, *, fresh: bool) -> Path:
    """Write `text` whole or not at all: a Ctrl-C or a full disk mid-write leaves no empty or cut file. Written beside
    the target, then moved over it, or with `fresh` linked under the first of NAME, NAME-2, NAME-3 ... that no file
    has (a run started in the same second takes the next one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")  # the umask's mode, as a plain write
    try:
        with temp.open("x", encoding="utf-8") as part:
            part.write(text)
        if not fresh:
            os.replace(temp, path)
            return path
        n = 1
        while True:
            candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
            try:
                os.link(temp, candidate)
                return candidate
            except FileExistsError:
                n += 1
            except OSError:  # a file system without hard links (FAT, some shares): claim the name, then fill it
                with candidate.open("x", encoding="utf-8") as claimed:
                    claimed.write(text)
                return candidate
    finally:
        temp.unlink(missing_ok=True)


def cannot_write(path: Path, *, folder: bool = False) -> str | None:
    """Why a file at `path` (with `folder`: files inside the folder `path`) cannot be written, in the OS's words, or
    None. Creates the missing folders, as writing would; asked before any check runs, so no run ends in a traceback."""
    where = path if folder else path.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next(p for p in (where, *where.parents) if p.exists())
        return f"cannot create the folder {where}: {blocking} is a file (File exists)"
    except OSError as exc:
        return f"cannot create the folder {where}: {exc.strerror or exc}"
    if not folder and path.is_dir():
        return "it is a folder"
    if path.is_file() and not os.access(path, os.W_OK):
        return "the file is read-only"
    probe = where / f".casgate-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        probe.open("x").close()
        probe.unlink()
    except OSError as exc:
        return f"cannot write in {where}: {exc.strerror or exc}"
    return None


def provenance(host: Mapping[str, str]) -> Provenance:
    """Where a host's evidence came from, its manifest read now; a manifest that cannot be read is said, never raised."""
    if not host["snapshot"]:
        return Provenance(host["name"], f"live: {host['target']}", collected_at=LIVE_NOW, source="live")
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
        self.provenance: list[Provenance] = []
        self.evidence = ""  # where the evidence came from, when not collected live now
        self.reasons_said: set[tuple[str, str]] = set()  # (host, reason) of checks not judged, said once each
        self.unwritten = ""  # an output that could not be written at the end after all
        self.cut = ""  # why the run ended before every selected check ran
        self.exit_given: int | None = None  # the exit status a pytest.exit (a usage error met mid-run) asked for
        self.selected = 0
        self.deselected = 0
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
            _junit_name(self.config, report, row)
            if row.outcome in CARDED:  # only a card shows the text; a fleet's passes keep none
                self.texts[row.nodeid] = "\n".join([report.longreprtext, *(text for header, text in report.sections if header.startswith("casgate "))])
            if row.outcome is Outcome.ERROR:
                self._said_once(report, row)

    def _said_once(self, report: pytest.TestReport, row: Row) -> None:
        """A host that could not be reached fails every check that needed it for one reason: pytest's errors section
        says the reason at the first check, and at each other one only that it is the same."""
        reason = (row.host, not_judged_reason(row))
        if reason not in self.reasons_said:
            self.reasons_said.add(reason)
        elif report.longrepr is not None:
            report.longrepr = one_line(f"[cause {row.cause.value}] {row.check}: not judged, for the reason given above for {row.host}")

    def sorted_rows(self) -> list[Row]:
        return sorted(self.rows.values(), key=report_order)

    def _compare(self, row: Row) -> Row:
        if self.baseline is None:
            return row
        before = self.baseline.get((row.host_id, row.check_id))
        moved = change(before, row.outcome.value)
        changes = tuple(fact_changes(before.get("facts", {}), facts_json(row.facts))) if before and before.get("fingerprint") != row.fingerprint else ()
        return replace(row, change=moved, changes=changes)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, xdist's stop after -x, a collection error, or a pytest.exit mid-run: the run is cut short."""
        if isinstance(excinfo.value, pytest.exit.Exception):
            self.cut, self.exit_given = f"stopped: {excinfo.value.msg}", excinfo.value.returncode
        else:
            self.cut = cut_short(str(excinfo.value))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.selected = max(self.selected, len(ids))  # under xdist the controller collects nothing itself

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.hosts or hasattr(self.config, "workerinput"):
            return
        cut = self.cut or (cut_short(str(session.shouldfail or session.shouldstop)) if session.shouldfail or session.shouldstop else "")
        if not self.rows and not cut:
            if session.exitstatus != pytest.ExitCode.NO_TESTS_COLLECTED:
                return
            cut = f"no check selected ({self.deselected} deselected)" if self.deselected else "no check selected"
        self.rows = {nodeid: self._compare(row) for nodeid, row in self.rows.items()}
        self.waiver_problems += tuple(unmatched(self.waivers.waivers, ((r.host, r.check_id, r.cause.value) for r in self.rows.values())))
        self.verdict = decide(self.sorted_rows(), self.mode, selection_of(self.config), cut, self.selected)
        self.provenance = [provenance(h) for h in self.hosts]
        bundled = bundled_snapshots().resolve()
        self.evidence = evidence_note(self.provenance, lambda folder: Path(folder).resolve().is_relative_to(bundled))
        if cut:
            session.exitstatus = self.exit_given if self.exit_given is not None else self.verdict.exit_code
        elif session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = self.verdict.exit_code
        path = self.config.getoption("casgate_json")
        try:
            if path:
                write_whole(Path(path), json_text(self.document()), fresh=False)
            self.write_html(session)
        except OSError as exc:  # checked before the run; a disk that filled up since is said in one line
            self.unwritten = f"casgate usage error: {exc.filename or path or self.html}: could not be written: {exc.strerror or exc}"
            session.exitstatus = EXIT_USAGE
        except KeyboardInterrupt:  # a second Ctrl-C while a fleet's report is rendered: no traceback, no cut file
            self.unwritten = "the report and --json were not written: interrupted (Ctrl-C) while writing them"
            self.html = None  # the verdict stands: every check ran; only what would have kept it is missing

    def document(self) -> dict[str, Any]:
        assert self.verdict is not None
        return result_document(self.verdict, self.mode, selection_of(self.config), self.sorted_rows(), self.started,
                               round(time.monotonic() - self._clock, 3), self.config.getoption("baseline"),
                               [{key: host[key] for key in _JSON_HOST_KEYS} for host in self.hosts], self.waiver_problems)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        rows = self.sorted_rows()
        if self.verdict is None:
            return

        def write(line: str, **markup: bool) -> None:
            terminalreporter.write_line(one_line(line), **markup)  # every line carries evidence: hosts, summaries, facts

        terminalreporter.section("casgate: host x cause")
        for line in matrix_text(rows):
            for part in _OUTCOME_WORD.split(one_line(line)):  # each cell in its outcome's colour, where the terminal has colour
                terminalreporter.write(part, **_CELL_COLOURS.get(part, {}))
            terminalreporter.write("\n")
        for line in matrix_legend():
            write(line)
        for row in rows:
            if row.outcome in (Outcome.WARN, Outcome.WAIVED):
                write(f"{row.outcome.value.upper()} {row.host} [cause {row.cause.value}] {row.title}: {row.summary}"
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
                write(f"{row.change.upper() if row.change else ''}: {row.host} [cause {row.cause.value}] {row.title}")
                for line in row.changes:
                    write(f"    {line}")
            if not moved:
                write("no check changed outcome")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The last screen, after pytest's own counts: each finding and what to do, the report, and last the gate line
        (what a person at 80 columns and a log tail read)."""
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None or self.verdict is None:
            return
        lines = last_screen(self.verdict.gate_line, self.sorted_rows(), self._shown_report(), evidence=self.evidence)
        gate_at = next(n for n, line in enumerate(lines) if line.startswith("GATE "))
        if self.unwritten:
            lines.insert(gate_at, one_line(self.unwritten))
            gate_at += 1
        for n, line in enumerate(lines):
            if n < gate_at:
                terminal.write_line(line)
            else:
                terminal.write_line(line, bold=True, red=not self.verdict.passed, green=self.verdict.passed)

    def _shown_report(self) -> str | None:
        """The report's path as the operator can type it: relative to the working folder when inside it."""
        if self.html is None or not self.html.is_file():
            return None
        here, path = self.config.invocation_params.dir.resolve(), self.html.resolve()
        return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)

    def write_html(self, session: pytest.Session) -> None:
        if self.html is None or self.verdict is None:
            return
        meta = {"version": __version__, "started": f"{self.started:%Y-%m-%d %H:%M:%S}",
                "command": shlex.join(["pytest", *self.config.invocation_params.args])}
        page = report_html(state=self.verdict.state, headline=self.verdict.headline, rows=self.sorted_rows(), texts=self.texts,
                           provenance=self.provenance, waiver_problems=self.waiver_problems, evidence=self.evidence,
                           baseline=self.baseline is not None, meta=meta, html=pytest_html_parts(self.config, session, self.verdict.headline))
        self.html = write_whole(self.html, page, fresh=self.own_name)

    def pytest_html_results_table_row(self, cells: list[str]) -> None:
        cells[:] = escape_test_id(cells)


@dataclass
class _Titled:
    """What pytest-html's pytest_html_report_title hook is given: an object whose `title` the hook may set."""

    title: str


def pytest_html_parts(config: pytest.Config, session: pytest.Session, title: str) -> HtmlParts:
    """What a pytest-html user's options, hooks and pytest-metadata give the report: the --css files, the title and the
    summary's prefix / summary / postfix HTML from the hooks, and the environment table. The report is always one
    self-contained file, so --self-contained-html asks for what it is anyway."""
    titled, prefix, summary, postfix = _Titled(title), [], [], []
    if hasattr(config.hook, "pytest_html_report_title"):  # pytest-html's hooks, unless it was disabled (-p no:html)
        config.hook.pytest_html_report_title(report=titled)
        config.hook.pytest_html_results_summary(prefix=prefix, summary=summary, postfix=postfix, session=session)
    css = tuple(Path(os.path.expandvars(path)).expanduser().read_text(encoding="utf-8") for path in config.getoption("css", None) or ())
    try:
        from pytest_metadata.plugin import metadata_key

        environment = {str(k): str(v) for k, v in config.stash.get(metadata_key, {}).items()}
    except ImportError:
        environment = {}
    return HtmlParts(titled.title, css, tuple(prefix), tuple(summary), tuple(postfix), environment)


def _junit_name(config: pytest.Config, report: pytest.TestReport, row: Row) -> None:
    """JUnit XML names a check the way a person reads it, a failure by its finding: `hq01 · cause 4 · TLS 1.0 is
    disabled for the server`. Set where the reports arrive (the controller, under xdist too), before junitxml
    records the report."""
    xml = config.stash.get(junit_xml_key, None)
    if xml is not None:
        xml.node_reporter(report).add_attribute("name", one_line(f"{row.host} \u00b7 cause {row.cause.value} \u00b7 {row.title}"))


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
