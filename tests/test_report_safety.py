"""Hostile evidence in every report: no control character or bidi override reaches a terminal, no evidence line is
longer than LINE_LIMIT, and every piece of it is text, never markup, in the HTML (the browser proof is in
test_report_browser.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from casgate.logs.__main__ import main as logs_main
from casgate.render import (HOSTS_UNFOLDED, Line, Provenance, diff_html, escape_test_id, lines_json, matrix_html, matrix_text, report_html,
                            verdict_banner_html, verdict_text)
from casgate.sanitize import LINE_LIMIT, for_terminal, one_line
from casgate.snapshot import IIS_LOGS
from casgate.verdict import Cause, Outcome, Row, Verdict
from tests.conftest import REPO, fleet_rows
from tests.payloads import BREAKOUTS, HOST, PWNED, SCRIPTS, TERMINAL, TOKEN_SCRIPTS, markup, plant

# What must never reach a terminal raw: C0 but tab and newline, DEL, C1, bidi marks/embeddings/overrides/isolates.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def _assert_terminal_safe(text: str) -> None:
    assert RAW.search(text) is None, RAW.search(text)
    assert max(len(line) for line in text.split("\n")) <= LINE_LIMIT


# ---- casgate.sanitize ------------------------------------------------------------------------------------------

def test_ansi_csi_and_osc_sequences_are_shown_not_sent() -> None:
    assert one_line("a\x1b[2Jb\x1b]0;title\x07c") == "a\\x1b[2Jb\\x1b]0;title\\x07c"


def test_c1_controls_del_and_nul_are_shown_not_sent() -> None:
    assert one_line("\x9b31m\x85\x7f\x00end") == "\\x9b31m\\x85\\x7f\\x00end"


@pytest.mark.parametrize("char", BIDI)
def test_bidi_controls_are_shown_by_code_point(char: str) -> None:
    assert one_line(f"abc{char}def") == f"abc\\u{ord(char):04x}def"


def test_one_line_escapes_line_breaks_and_for_terminal_keeps_them() -> None:
    text = "first\r\nsecond\u2028third\tcolumn"

    assert one_line(text) == "first\\r\\nsecond\\u2028third\tcolumn"
    assert for_terminal(text) == "first\\r\nsecond\\u2028third\tcolumn"


def test_printable_text_in_any_script_is_left_alone() -> None:
    text = "CN=Zürich Root · 東京 — O=Ünïcode, C=DE <b>&amp;"

    assert one_line(text) == for_terminal(text) == text


def test_a_long_line_is_cut_with_what_was_left_out() -> None:
    shown = one_line("A" * 10_000_000)

    kept = shown.index("…")
    assert len(shown) <= LINE_LIMIT and shown.endswith(f"… ({10_000_000 - kept} more characters)")
    assert set(shown[:kept]) == {"A"}


def test_a_cut_never_splits_an_escape_and_counts_source_characters() -> None:
    shown = one_line("\x1b" * 1000)

    kept = shown.index("…")
    assert len(shown) <= LINE_LIMIT and shown[:kept] == "\\x1b" * (kept // 4)
    assert shown.endswith(f"… ({1000 - kept // 4} more characters)")


def test_sanitizing_twice_changes_nothing() -> None:
    text = f"{SCRIPTS[0]}{TERMINAL}\n" + "x" * 5000

    assert one_line(one_line(text)) == one_line(text)
    assert for_terminal(for_terminal(text)) == for_terminal(text)


# ---- each render path ------------------------------------------------------------------------------------------

def _row(**hostile: object) -> Row:
    fields: dict[str, object] = dict(host="hq01", host_id="hq01", cause=Cause.DNS, check="DNS of the HQ FQDN", check_id="test_fqdn",
                                     nodeid="tests_infra/t.py::test_fqdn[hq01]", outcome=Outcome.FAIL, summary="fails")
    return Row(**(fields | hostile))  # type: ignore[arg-type]


def test_verdict_text_keeps_one_evidence_line_one_safe_capped_line() -> None:
    verdict = Verdict.failed(f"summary {TERMINAL}", (f"line one{TERMINAL}\nFAKE: forged line", "x" * 100_000),
                             f"Resolve-DnsName hq{TERMINAL}\n  second step")

    text = verdict_text(Cause.DNS, "check", verdict)

    _assert_terminal_safe(text)
    assert text.split("\n")[2] == f"  line one{one_line(TERMINAL)}\\nFAKE: forged line"
    assert "more characters)" in text.split("\n")[3]
    assert len(text.split("\n")) == 7  # header, Evidence:, 2 evidence lines, Remediation:, 2 remediation lines


def test_matrix_text_shows_a_hostile_host_escaped_and_aligned() -> None:
    lines = matrix_text([_row(host=f"hq{TERMINAL}"), _row(host="hq02")])

    _assert_terminal_safe("\n".join(lines))
    assert lines[1].startswith(f"hq{one_line(TERMINAL)}  ") and len({len(line) for line in lines}) == 1


def test_matrix_text_of_a_fleet_is_a_line_per_kind_of_host_worst_first() -> None:
    healthy = [_row(host=f"h{n:04}", outcome=Outcome.PASS) for n in range(1, 999)]
    rows = [*healthy, _row(host="h0999", outcome=Outcome.ERROR), _row(host="h1000", summary=f"fails {TERMINAL}")]

    lines = matrix_text(rows)
    few = matrix_text(healthy[:HOSTS_UNFOLDED])

    assert [line.split("  ")[0] for line in lines] == ["host", "h0999", "h1000", "h0001 and 997 alike"]
    assert "ERR" in lines[1] and "FAIL" in lines[2] and "PASS" in lines[3]
    assert len(few) == HOSTS_UNFOLDED + 1  # up to twenty hosts, a line each


@pytest.mark.parametrize("payload", [*SCRIPTS, *TOKEN_SCRIPTS])
def test_casgate_html_holds_every_evidence_field_as_text(payload: str) -> None:
    rows = [_row(host=payload, check=payload, summary=payload + TERMINAL, change="newly failing", changes=(payload, "y" * 50_000))]

    html = verdict_banner_html(False, f"GATE FAILED: {payload}") + matrix_html(rows, (payload,)) + diff_html(rows)

    found = markup(html)
    assert {tag for tag, _ in found.elements} <= {"div", "style", "h2", "table", "tr", "th", "td", "small", "br", "ul", "li", "b", "code", "p"}
    assert {name for _, attrs in found.elements for name in attrs} <= {"id", "class", "style", "title"}  # no on*, src or href
    assert sum(payload in chunk for chunk in found.text) >= 6  # banner, host, check, summary, change, waiver problem
    _assert_terminal_safe("\n".join(found.text))  # each element's text one safe line of at most LINE_LIMIT


@pytest.mark.parametrize("payload", [*BREAKOUTS, *SCRIPTS, *TOKEN_SCRIPTS])
def test_the_rows_json_cannot_end_or_nest_its_script_element_and_reads_back_exactly(payload: str) -> None:
    """lines_json is the last line of defence: even text one_line never saw (raw U+2028 here) leaves it escaped."""
    line = Line("fail", payload, "1a", payload, f"t.py::test[{payload}]", f"{payload}\u2028\u2029 & {payload}", "3 ms", "card-1")

    text = str(lines_json([line]))

    assert not set(text) & set("<>&\u2028\u2029")
    data = json.loads(text)
    assert [data["strings"][i] for i in data["rows"][0]] == list(line) and data["columns"] == list(Line._fields)


def test_a_fleet_report_holds_hostile_rows_as_safe_data_and_its_folded_matrix_as_text() -> None:
    hostile = [*BREAKOUTS, *SCRIPTS, *TOKEN_SCRIPTS, f"hq{TERMINAL}"]
    names = [*hostile, *(f"h{n:03d}" for n in range(HOSTS_UNFOLDED))]
    rows = fleet_rows(names, {name: (Cause.DNS, Outcome.FAIL) for name in hostile})

    page = report_html(state="FAILED", headline="GATE FAILED", rows=rows, texts={}, provenance=[Provenance(h, h) for h in names],
                       waiver_problems=(), baseline=False, meta={"version": "test", "started": "now", "command": "pytest"})

    found = markup(page)
    assert [tag for tag, _ in found.elements].count("script") == 2  # the rows' data block and the report's own script
    assert len(found.scripts) == len(found.data) == 1 and PWNED not in found.scripts[0]
    data = json.loads(found.data[0])
    assert len(data["rows"]) == len(rows)
    shown = [data["strings"][row[data["columns"].index("host")]] for row in data["rows"][::len(Cause)]]
    assert shown == [one_line(name) for name in names]  # every string as the markup shows it: one safe, capped line
    _assert_terminal_safe("\n".join(data["strings"]))
    assert not {tag for tag, _ in found.elements} & {"img", "svg", "iframe", "object", "embed"}
    assert {name for _, attrs in found.elements for name in attrs if name.startswith("on")} == set()
    assert {value for _, attrs in found.elements for name, value in attrs.items() if name in ("href", "src")} <= {
        f"#card-{n}" for n in range(1, len(hostile) + 1)}
    matrix = page[page.index('id="casgate-matrix"'):page.index('id="casgate-legend"')]
    assert sorted(int(n) for n in re.findall(r"<summary>(\d+) hosts</summary>", matrix)) == [5, 6, 10, 10]  # hostile or not, X1 skipped or not
    assert all(one_line(h) in found.text for h in hostile)  # each host name one text chunk (the provenance table's)


def test_pytest_html_test_id_cell_is_escaped_and_other_cells_kept() -> None:
    cells = ['<td class="col-result">Failed</td>', f'<td class="col-testId">t.py::test[{SCRIPTS[0]}]</td>',
             '<td class="col-duration">5 ms</td>', '<td class="col-links"></td>']

    escaped = escape_test_id(cells)

    assert escaped[1] == '<td class="col-testId">t.py::test[&lt;img src=x onerror=&quot;document.title=&#x27;pwned&#x27;&quot;&gt;]</td>'
    assert escaped[0] == cells[0] and escaped[2:] == cells[2:]


def test_logs_command_prints_hostile_lines_escaped_and_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = plant(tmp_path)

    status = logs_main([str(folder / IIS_LOGS), str(folder / "phone-logs")])

    out = capsys.readouterr().out
    assert status == 1
    _assert_terminal_safe(out)
    assert "curl\\x1b[2J\\x1b]0;owned-title\\x07\\x9b31m\\u202eevil" in out and TOKEN_SCRIPTS[0] in out
    cut = [line for line in out.split("\n") if "A" * 100 in line or "C" * 100 in line]  # the IIS and phone lines of LONG
    assert len(cut) == 2 and all(line.endswith("more characters)") for line in cut)


# ---- a whole run: terminal and JUnit ---------------------------------------------------------------------------

def test_hostile_evidence_reaches_terminal_and_junit_escaped_and_capped(run_suite, tmp_path: Path) -> None:
    folder, waivers = plant(tmp_path / "snaps")
    junit = tmp_path / "junit.xml"

    run = run_suite(f"--snapshots={folder.parent}", "--host", HOST, f"--waivers={waivers}", f"--junitxml={junit}")

    assert run.returncode == 1
    _assert_terminal_safe(run.output)
    for shown in ("CN=\\<img src=x onerror=", "OU=\\x1b[2J", "curl\\x1b[2J\\x1b]0;owned-title\\x07\\x9b31m\\u202eevil",
                  "probes/dns.json fqdn=hq.example.com<img src=x", "CHG-1 <script>", "CHG-2 \"><svg", "more characters)"):
        assert shown in run.output, shown
    xml = junit.read_text(encoding="utf-8")
    assert RAW.search(xml) is None and "#x1B" not in xml  # pytest's XML escaper never met a raw ESC either
    assert junit.stat().st_size < 200_000  # the 60,000-character User-Agent is cut, the 10 MB one never read
    failures = [f for case in ET.parse(junit).getroot().iter("testcase") for f in case.iter("failure")]
    assert len(failures) == 4  # 1a, cause 1's log, DNS (the probe asked for the planted name), X9 not judged: the 10 MB line
    for failure in failures:
        _assert_terminal_safe((failure.text or "") + "\n" + failure.get("message", ""))
    assert {r["outcome"] for r in run.results if r["check_id"] == "test_phone_logs_show_no_tls_failure"} == {"waived"}


def test_errors_and_skips_quoting_evidence_reach_the_terminal_escaped(run_suite, tmp_path: Path) -> None:
    """The net behind verdict_text: text a reader or a crash puts in an error or a skip is made safe as well."""
    checks = tmp_path / "test_quoting.py"
    checks.write_text(
        "import pytest\nfrom casgate.errors import EvidenceError, NotCollected\n\n\n"
        "@pytest.mark.cause('2', 'an evidence error quoting the file')\ndef test_error(hq, gate):\n"
        f"    raise EvidenceError('iis/bindings.json', {'hash ' + TERMINAL + 'Z' * 5000!r})\n\n\n"
        "@pytest.mark.cause('3', 'a skip quoting the manifest')\ndef test_skip(hq, gate):\n"
        f"    raise NotCollected('probes/dns.json', {'reason ' + TERMINAL!r})\n\n\n"
        "@pytest.mark.cause('4', 'a check with a bug')\ndef test_crash(hq, gate):\n"
        f"    raise KeyError({SCRIPTS[0] + TERMINAL!r})\n")
    junit = tmp_path / "junit.xml"

    run = run_suite(str(checks), f"--snapshots={REPO / 'snapshots'}", "--host", "hq01", f"--junitxml={junit}", "-rA")

    assert sorted(r["outcome"] for r in run.results) == ["error", "error", "skip"]
    _assert_terminal_safe(run.output)
    assert "hash \\x1b[2J\\x1b]0;owned-title\\x07" in run.output and "reason \\x1b[2J" in run.output
    assert "more characters)" in run.output
    assert RAW.search(junit.read_text(encoding="utf-8")) is None and "#x1B" not in junit.read_text(encoding="utf-8")
