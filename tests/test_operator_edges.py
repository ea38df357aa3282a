"""The operator's edges (issue 20): nothing typed or happening turns a failure into a pass. Each test drives the real
`casgate` command in a subprocess at 80 columns and asserts its exit status and lines."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import CHECKS, gate_line
from tests.test_report_browser import chromium  # noqa: F401 (a fixture)


def casgate(*args: str, cwd: Path, timeout: float = 120, env: Mapping[str, str] = {}) -> subprocess.CompletedProcess[str]:
    """`casgate ARGS` as an operator types it, in an 80-column terminal (`env` adds to what it has)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CASGATE_"))} | {"COLUMNS": "80", **env}
    return subprocess.run([sys.executable, "-m", "casgate", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def here(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


# ---- item 1: no verdict from an empty or cut run ---------------------------------------------------------------

def test_a_window_starting_after_the_collection_is_a_usage_error(here: Path) -> None:
    """hq01 was collected 2016-12-21 16:00Z with a certauth 403.16 that morning: a window from the 22nd holds no line."""
    after = casgate("check", "hq01", "--since", "2016-12-22", cwd=here)
    inside = casgate("check", "hq01", "--since", "2016-12-21", "--cause", "1", cwd=here)

    assert after.returncode == 2, after.stdout + after.stderr
    assert ("--since: the log window starts 2016-12-22 00:00Z, after the collection of hq01's evidence at 2016-12-21 16:00Z"
            in after.stderr)
    assert "GATE" not in after.stdout
    assert inside.returncode == 1


def test_logs_window_counts_from_the_newest_line_and_refuses_one_after_it(here: Path) -> None:
    assert casgate("scenarios", "made", "cause-2", cwd=here).returncode == 0
    logs = str(here / "made" / "cause-2" / "phone-logs")

    week = casgate("logs", logs, "--since", "7d", cwd=here)
    later = casgate("logs", logs, "--since", "2026-12-01", cwd=here)
    future = casgate("logs", logs, "--since", "2030-01-01", "--until", "2030-02-01", cwd=here)
    inverted = casgate("logs", logs, "--since", "2026-11-20", "--until", "2026-11-19", cwd=here)

    assert week.returncode == 1 and "Certificate Authority Invalid" in week.stdout
    assert ("window 2026-11-13 05:00Z .. 2026-11-20 05:00Z, ending at the newest dated symptom line in the logs: "
            "loose logs carry no collection time (--until sets the end)") in week.stdout
    assert later.returncode == 2 and ("the log window starts 2026-12-01 00:00Z, after the newest dated symptom line in the "
                                      "logs, at 2026-11-20 05:00Z") in later.stderr
    assert future.returncode == 2 and "the log window starts 2030-01-01 00:00Z, after now," in future.stderr
    assert inverted.returncode == 2 and "after the window's end, --until 2026-11-19 00:00Z" in inverted.stderr
    assert "no symptom lines found" not in later.stdout + future.stdout + inverted.stdout


INTERRUPT_AFTER_FIVE = '''
import os, signal

seen = 0


def pytest_runtest_logfinish(nodeid, location):
    """A real SIGINT, as Ctrl-C sends it, after the fifth check."""
    global seen
    seen += 1
    if seen == 5:
        os.kill(os.getpid(), signal.SIGINT)
'''


def _gate_line(output: str) -> str:
    """The gate line, the last of the run, unwrapped; wrapped, each of its lines fits 80 columns."""
    lines = output.rstrip().splitlines()
    start = max(n for n, line in enumerate(lines) if line.startswith("GATE "))
    assert all(len(line) <= 80 for line in lines[start:]) and all(line.startswith("  ") for line in lines[start + 1:]), lines[start:]
    return gate_line(output)


def test_ctrl_c_ends_incomplete_and_its_report_says_interrupted_at_the_top(here: Path) -> None:
    (here / "ctrl_c.py").write_text(INTERRUPT_AFTER_FIVE)
    env_run = subprocess.run([sys.executable, "-m", "casgate", "check", "hq01", "hq01-after", "--html", "cut.html", "--json", "cut.json",
                              "--", "-p", "ctrl_c"], cwd=here, env={**os.environ, "PYTHONPATH": str(here), "COLUMNS": "80"},
                             capture_output=True, text=True, timeout=120, check=False)

    assert env_run.returncode == 3, env_run.stdout + env_run.stderr
    assert "KeyboardInterrupt" in env_run.stdout
    assert _gate_line(env_run.stdout).startswith(f"GATE INCOMPLETE: interrupted (Ctrl-C): 5 of {2 * CHECKS} selected check(s) judged")
    assert "GATE FAILED" not in env_run.stdout and "GATE PASSED" not in env_run.stdout
    html = (here / "cut.html").read_text(encoding="utf-8")
    assert '<div id="casgate-verdict" class="verdict verdict-incomplete">GATE INCOMPLETE: interrupted (Ctrl-C)' in html
    assert html.index("interrupted (Ctrl-C)") < html.index('id="casgate-matrix"')  # at the top
    assert '"state": "INCOMPLETE"' in (here / "cut.json").read_text()
    assert not [p for p in here.iterdir() if p.name.endswith(".part")]


def test_stopped_by_x_or_maxfail_is_incomplete_not_a_verdict(here: Path) -> None:
    serial = casgate("check", "hq01", "hq01-after", "--", "-x", cwd=here)
    workers = casgate("check", "hq01", "hq01-after", "-n", "2", "--", "--maxfail=1", cwd=here)

    for run in (serial, workers):
        assert run.returncode == 3, run.stdout + run.stderr
        line = _gate_line(run.stdout)
        assert line.startswith("GATE INCOMPLETE: stopped after 1 failure(s) (-x / --maxfail): "), line
        assert f"of {2 * CHECKS} selected check(s) judged" in line and "failed before it stopped" in line
        assert "hq01 1a  LocalMachine\\Root holds 1 certificate that is not self-signed (card 1)" in run.stdout
        assert "not checked" not in line


def test_selecting_nothing_is_incomplete(here: Path) -> None:
    run = casgate("check", "hq01", "--", "-k", "no_such_check", cwd=here)

    assert run.returncode == 3, run.stdout + run.stderr
    assert _gate_line(run.stdout) == f"GATE INCOMPLETE: no check selected ({CHECKS} deselected); nothing was judged (-k 'no_such_check') -- evidence: crafted demo"
    report = next((here / "reports").glob("casgate-*.html")).read_text(encoding="utf-8")
    assert "verdict-incomplete" in report and "no check selected" in report


# ---- item 2: evidence identity on the verdict ------------------------------------------------------------------

INVENTORY = ('[hosts.hq01]\nfqdn = "hq01.corp.example"\naddress = "127.0.0.1"\nconnection = "none"\n'
             'dns_servers = ["127.0.0.1:9"]\nhttps_port = 9\n')


def test_a_demo_name_that_is_also_an_inventory_host_is_refused_naming_both_ways(here: Path) -> None:
    (here / "inventory.toml").write_text(INVENTORY)
    own = here / "mine"
    assert casgate("scenarios", str(own), "healthy", cwd=here).returncode == 0
    (own / "healthy").rename(own / "hq01")

    refused = casgate("check", "hq01", cwd=here)
    own_recording = casgate("check", "hq01", "--snapshots", str(own), cwd=here)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert ("hq01 is a host in the inventory and also one of casgate's bundled demo snapshots (crafted evidence, not your "
            "server): --live checks the server; --host ") in refused.stderr
    assert "/snapshots/hq01 judges the demo" in refused.stderr and "--snapshots DIR judges your own recording DIR/hq01" in refused.stderr
    assert own_recording.returncode == 0, own_recording.stdout
    assert _gate_line(own_recording.stdout).endswith(" -- evidence: crafted 2026-11-20")


def test_the_gate_line_and_banner_say_the_evidence_is_a_crafted_demo_or_a_recording(here: Path) -> None:
    assert casgate("scenarios", "made", "healthy", cwd=here).returncode == 0
    demo = casgate("check", "hq01", "--html", "demo.html", cwd=here)
    mixed = casgate("check", "hq01", "hq01-after", str(here / "made" / "healthy"), cwd=here)

    assert demo.stdout.rstrip().splitlines()[-1] == "GATE FAILED: 2 check(s) failed on 1 of 1 host(s) -- evidence: crafted demo"
    banner = (here / "demo.html").read_text(encoding="utf-8")
    assert '<span class="evidence" id="casgate-evidence"> &middot; evidence: crafted demo</span></div>' in banner
    tail = _gate_line(mixed.stdout)
    assert tail.endswith("-- evidence: crafted demo (hq01, hq01-after), crafted 2026-11-20 (healthy)"), tail


def test_collect_without_an_inventory_host_is_refused_and_never_runs_the_gate(here: Path) -> None:
    run = casgate("collect", "hq01", "--out", "x", cwd=here)

    assert run.returncode == 2
    assert ("hq01: not in the inventory (inventory.toml here, or --inventory FILE): casgate collect records live hosts only"
            in run.stderr)
    assert "GATE" not in run.stdout and not (here / "x").exists() and not (here / "reports").exists()


def test_a_live_recording_is_said_recorded_on_its_day(here: Path) -> None:
    """A host collected live (probes only, on loopback) and judged later from its recording: the gate line says
    "recorded" and the day of its collection."""
    (here / "inventory.toml").write_text('[hosts.edge]\nfqdn = "hq.example.com"\naddress = "127.0.0.1"\nconnection = "none"\n'
                                         'dns_servers = ["127.0.0.1:9"]\nhttps_port = 9\n')
    assert casgate("collect", "edge", "--out", "rec", "--", "--probe-timeout=0.3", cwd=here).returncode == 0
    day = json.loads((here / "rec" / "edge" / "manifest.json").read_text())["collected_at"][:10]

    run = casgate("check", "edge", "--snapshots", "rec", "--html", "r.html", cwd=here)

    assert run.returncode == 3, run.stdout + run.stderr  # the probes reached nothing: an outage, not judged
    assert _gate_line(run.stdout).endswith(f" -- evidence: recorded {day}")
    assert f"<span class=\"evidence\" id=\"casgate-evidence\"> &middot; evidence: recorded {day}</span>" in (here / "r.html").read_text()


# ---- item 3: outputs that cannot be written ---------------------------------------------------------------------

@pytest.mark.parametrize(("args", "said"), [
    ((), "casgate usage error: the report {here}/reports/casgate-"),
    (("--html", "a-file/r.html"), "casgate usage error: the report {here}/a-file/r.html: cannot create the folder {here}/a-file: "
                                  "{here}/a-file is a file (File exists)"),
    (("--json", "a-file/r.json"), "casgate usage error: --json {here}/a-file/r.json: cannot create the folder {here}/a-file: "
                                  "{here}/a-file is a file (File exists)"),
    (("--html", "a-folder"), "casgate usage error: the report {here}/a-folder: it is a folder"),
    (("--", "--junitxml=a-file/j.xml"), "casgate usage error: --junitxml a-file/j.xml: cannot create the folder {here}/a-file: "
                                        "{here}/a-file is a file (File exists)"),
], ids=["reports-is-a-file", "html", "json", "html-is-a-folder", "junitxml"])
def test_an_output_that_cannot_be_written_stops_the_run_before_any_check(here: Path, args: tuple[str, ...], said: str) -> None:
    (here / "reports").write_text("a file where the reports folder would go")
    (here / "a-file").write_text("")
    (here / "a-folder").mkdir()

    run = casgate("check", "hq01", *args, cwd=here)

    assert run.returncode == 2, run.stdout + run.stderr
    assert said.format(here=here) in run.stderr
    assert "Traceback" not in run.stdout + run.stderr and "GATE" not in run.stdout and "PASSED" not in run.stdout
    assert len((run.stdout + run.stderr).strip().splitlines()) == 1


def test_collect_into_a_folder_that_cannot_be_made_is_one_line(here: Path) -> None:
    (here / "inventory.toml").write_text(INVENTORY)
    (here / "a-file").write_text("")

    run = casgate("collect", "hq01", "--out", "a-file/x", cwd=here)

    assert run.returncode == 2
    assert f"casgate usage error: --record {here}/a-file/x: cannot create the folder {here}/a-file/x: {here}/a-file is a file" in run.stderr


# ---- items 4 and 5: the last screen, and titles that state the finding ------------------------------------------

def test_the_last_screen_fits_80_columns_and_says_what_failed_where_and_the_report(here: Path) -> None:
    run = casgate("check", "hq01", "hq01-after", "--json", "r.json", "--", "--junitxml=j.xml", cwd=here)

    lines = run.stdout.rstrip().splitlines()
    last = lines[next(n for n, line in reversed(list(enumerate(lines))) if line.startswith("=")) + 1:]
    report = next((here / "reports").glob("casgate-*.html")).relative_to(here)
    assert run.returncode == 1
    assert last == [
        "hq01 1a  LocalMachine\\Root holds 1 certificate that is not self-signed (card 1)",
        "hq01 1  IIS rejected the phones' certauth (403.16, 403.7 or 403.17) in\u2026 (card 2)",
        "hq01-after 2  the certificate served on 443 is not keystore server.crt (card 3)",
        "hq01-after 2  the https/443 binding of Default Web Site is not keystor\u2026 (card 4)",
        "hq01-after 2  phones logged TLS handshake / CA failures in the window (card 5)",
        "hq01-after 4  the server refuses the phones' TLS 1.0 cipher suites (card 6)",
        "hq01-after 4  TLS 1.0 is disabled for the server (card 7)",
        "hq01-after X3  the served certificate does not name the HQ FQDN (card 8)",
        f"report: {report} (cards: evidence and fixes)",
        "GATE FAILED: 8 check(s) failed on 2 of 2 host(s) -- evidence: crafted demo",
    ]
    matrix = lines[lines.index(next(line for line in lines if line.startswith("host "))):]
    assert all(len(line) <= 100 for line in matrix[:3]) and matrix[2].startswith("hq01-after  PASS PASS PASS FAIL")
    legend = matrix[3:matrix.index(next(line for line in matrix if line.startswith("====")))]
    assert len(legend) > 1 and all(len(line) <= 80 for line in legend) and " ".join(legend).endswith(", - not run")
    # the finding, not the healthy state, wherever a failed check is named
    assert "[cause 4] TLS 1.0 is disabled for the server: TLS 1.0 is disabled for the server side" in run.stdout
    assert 'name="hq01-after \u00b7 cause 4 \u00b7 TLS 1.0 is disabled for the server"' in (here / "j.xml").read_text(encoding="utf-8")
    assert '"finding": "TLS 1.0 is disabled for the server"' in (here / "r.json").read_text()
    assert '<b class="badge casgate-fail">FAIL</b> TLS 1.0 is disabled for the server</h3>' in (here / report).read_text(encoding="utf-8")


def test_every_check_has_a_failing_title() -> None:
    from casgate.cli import checks_folder
    from casgate.verdict import FAILING_TITLES

    checks = {line.split("(")[0].removeprefix("def ") for path in checks_folder().glob("test_*.py")
              for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("def test_")}
    assert set(FAILING_TITLES) == checks


# ---- item 6: conventions ------------------------------------------------------------------------------------------

def test_pytest_options_before_the_separator_get_a_hint(here: Path) -> None:
    run = casgate("check", "hq01", "-k", "tls", cwd=here)

    assert run.returncode == 2
    assert run.stderr.rstrip().endswith("unrecognized arguments: -k tls; pytest's options go after --: casgate check ... -- -k tls")


def test_config_errors_are_one_line_in_every_subcommand(here: Path) -> None:
    (here / "inventory.toml").write_text('[hosts.x]\nfqdn = "x.example"\n')

    hosts = casgate("hosts", cwd=here)
    check = casgate("check", "x", cwd=here)
    cause = casgate("check", "hq01", "--cause", "5", cwd=here.parent)
    described = casgate("hosts", "--help", cwd=here)

    for run in (hosts, check, cause):
        assert run.returncode == 2 and "Traceback" not in run.stdout + run.stderr and "_pytest.outcomes" not in run.stdout + run.stderr
    assert "casgate usage error: inventory.toml: [hosts.x] needs connection = \"...\"" in hosts.stderr
    assert "inventory.toml: [hosts.x] needs connection" in check.stderr
    assert cause.stderr.strip() == ("Exit: casgate usage error: --cause 5: not a cause (known: 1a, 1b, 1, 2, 3, 4, X1, X2, X3, X4, "
                                    "X5, X6, X7, X8, X9)") and "GATE" not in cause.stdout
    assert "folder of snapshots (default: the bundled examples)" in described.stdout


SHARD = '{"schema": "casgate-result/1", "casgate_version": "0.1.0", "started": "2026-11-20T06:00:00Z", "duration_s": 1.0, ' \
        '"gate": {"mode": "all", "state": "PASSED", "verdict": "GATE PASSED: 0 of 0", "selection": "", "selected": 0}, ' \
        '"baseline": null, "hosts": [], "waiver_problems": [], "results": [%s]}'


@pytest.mark.parametrize(("args", "said"), [
    (("merge",), "the following arguments are required: RESULT.json, --json"),
    (("merge", "good.json", "--json", "o.json", "--bogus"), "unrecognized arguments: --bogus"),
    (("merge", "missing.json", "--json", "o.json"), "missing.json: is missing (not a casgate --json result)"),
    (("merge", "a-folder", "--json", "o.json"), "a-folder: cannot be read ([Errno 21] Is a directory: 'a-folder') (not a casgate --json result)"),
    (("merge", "torn.json", "--json", "o.json"), "torn.json: is not valid JSON (line 1, column 12: Unterminated string starting at) (not a casgate --json result)"),
    (("merge", "wrong-row.json", "--json", "o.json"), "wrong-row.json: results[0] should be a JSON object, got 5 (not a casgate --json result)"),
    (("merge", "good.json", "--json", "a-file/o.json"), "--json a-file/o.json: cannot create the folder {here}/a-file: {here}/a-file is a file (File exists)"),
    (("merge", "good.json", "--json", "o.json", "--html", "a-folder"), "--html a-folder: it is a folder"),
    (("logs",), "the following arguments are required: PATH"),
    (("logs", "a-folder", "--bogus"), "unrecognized arguments: --bogus"),
    (("logs", "missing.log"), "missing.log: no such file or folder"),
    (("logs", "a-folder", "--since", "yesterday"), "--since 'yesterday': give a duration such as 24h, 90m or 7d, or a start such as "),
    (("logs", "a-folder", "--since", "24h", "--until", "tomorrow"), "--until 'tomorrow' is not an ISO 8601 time such as 2026-11-20T06:00:00Z"),
    (("hosts", "--snapshots", "missing"), "--snapshots missing: not a folder"),
    (("scenarios", "made", "--bogus"), "unrecognized arguments: --bogus"),
    (("scenarios", "made", "cause-9"), "unknown scenario(s) cause-9; known: healthy, cause-1a, "),
    (("scenarios", "a-file/made", "healthy"), "a-file/made: cannot create the folder {here}/a-file/made: {here}/a-file is a file (File exists)"),
    (("scenarios", "taken", "healthy"), "taken/healthy: could not be written: File exists"),
], ids=lambda value: " ".join(value) if isinstance(value, tuple) else "said")
def test_every_subcommand_says_a_usage_error_in_one_line_and_writes_nothing(here: Path, args: tuple[str, ...], said: str) -> None:
    (here / "good.json").write_text(SHARD % "", encoding="utf-8")
    (here / "torn.json").write_text('{"schema": "ca', encoding="utf-8")
    (here / "wrong-row.json").write_text(SHARD % "5", encoding="utf-8")
    (here / "a-file").write_text("")
    (here / "a-folder").mkdir()
    (here / "taken").mkdir()
    (here / "taken" / "healthy").write_text("a file where the scenario's folder would go")
    before = sorted(here.rglob("*"))

    run = casgate(*args, cwd=here)

    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == "" and run.stderr.startswith("casgate usage error: ") and run.stderr.count("\n") == 1, run.stderr
    assert said.format(here=here) in run.stderr
    assert sorted(here.rglob("*")) == before  # nothing written, not even the merged result beside an unwritable report


def test_every_subcommand_names_itself_and_describes_every_option(here: Path) -> None:
    from casgate import cli, scenarios
    from casgate.logs import __main__ as logs

    subcommands = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    parsers = {**{f"casgate {name}": p for name, p in subcommands.items() if p.add_help}, "casgate logs": logs.parser(),
               "casgate scenarios": scenarios.parser()}
    shown = {name: casgate(*name.split()[1:], "--help", cwd=here) for name in ("casgate merge", "casgate logs", "casgate scenarios")}

    assert set(parsers) == {"casgate check", "casgate collect", "casgate merge", "casgate hosts", "casgate logs", "casgate scenarios"}
    for name, parser in parsers.items():
        assert parser.prog == name and parser.description, name
        assert [a.dest for a in parser._actions if not a.help] == [], name
    for name, run in shown.items():
        assert run.returncode == 0 and run.stdout.startswith(f"usage: {name} "), run.stdout
        assert "python -m" not in run.stdout.split("\n\n")[0]


def test_a_shard_with_any_field_missing_or_of_another_type_is_refused_naming_it_or_merged(here: Path) -> None:
    """Every field of a real --json result (the document's, the gate's, a host's, a result's and its facts') removed,
    or given each other JSON type: merge refuses it naming the file (CasgateError, one line), or merges it; nothing
    else is raised (a gate.mode of 3 was a GATE PASSED, a host of 5 a traceback)."""
    from casgate.errors import CasgateError
    from casgate.merge import merged, read_shard

    assert casgate("check", "hq01", "--json", "good.json", cwd=here).returncode == 1
    good = json.loads((here / "good.json").read_text())
    places = [(good, key) for key in good] + [(good["gate"], key) for key in good["gate"]] + [(good["hosts"][0], key) for key in good["hosts"][0]]
    places += [(good["results"][0], key) for key in good["results"][0]] + [(good["results"][0]["facts"], next(iter(good["results"][0]["facts"])))]
    outcomes: dict[str, int] = {"refused": 0, "merged": 0}

    for n, (where, key) in enumerate(places):
        kept = where[key]
        for value in (..., None, True, 5, 1.5, float("nan"), "x", [], [5], {}):
            if value is ...:
                del where[key]
            else:
                where[key] = value
            shard = here / f"shard-{n}.json"
            shard.write_text(json.dumps(good), encoding="utf-8")
            try:
                verdict = merged([read_shard(shard)])[0]
            except CasgateError as exc:
                assert str(shard) in str(exc) and "\n" not in str(exc)
                outcomes["refused"] += 1
            else:
                assert verdict.state != "PASSED", (key, value)  # hq01 fails 1a, whatever else a field says
                outcomes["merged"] += 1
            where[key] = kept

    assert outcomes["refused"] >= 7 * len(places) and outcomes["merged"] > 0  # a string for a string, a number for a number merge


def test_merge_never_makes_a_whole_run_of_part_of_one(here: Path) -> None:
    """A shard cut short by Ctrl-C (judged 5 checks, all passing, of 20) merged alone was GATE PASSED, exit 0; one
    slice of two merged alone was a whole run."""
    (here / "ctrl_c.py").write_text(INTERRUPT_AFTER_FIVE)
    cut = subprocess.run([sys.executable, "-m", "casgate", "check", "hq01-before", "--json", "cut.json", "--", "-p", "ctrl_c"], cwd=here,
                         env={**os.environ, "PYTHONPATH": str(here)}, capture_output=True, text=True, timeout=120, check=False)
    half = casgate("check", "hq01-before", "hq01", "--json", "half.json", "--", "--shard=2/2", cwd=here)
    assert cut.returncode == 3 and half.returncode == 0, cut.stdout + half.stdout

    from_cut = casgate("merge", "cut.json", "--json", "m1.json", cwd=here)
    from_half = casgate("merge", "half.json", "--json", "m2.json", "--html", "m2.html", cwd=here)

    assert from_cut.returncode == 3, from_cut.stdout
    assert from_cut.stdout == "GATE INCOMPLETE: cut.json was cut short (interrupted (Ctrl-C)): 5 of 20 selected check(s) judged on 1 host(s)\n"
    assert json.loads((here / "m1.json").read_text())["gate"]["state"] == "INCOMPLETE"
    assert from_half.returncode == 0 and from_half.stdout.rstrip().endswith("; PARTIAL: some checks deselected (--shard '2/2')")
    assert "PARTIAL: some checks deselected (--shard &#39;2/2&#39;)" in (here / "m2.html").read_text(encoding="utf-8")


def test_a_bundled_name_works_as_a_baseline(here: Path) -> None:
    run = casgate("check", "hq01-after", "--baseline", "hq01-before", cwd=here)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "NEWLY FAILING: hq01-after [cause 4] TLS 1.0 is disabled for the server" in run.stdout


def test_from_any_folder_the_checks_are_named_by_their_file_not_a_path(here: Path) -> None:
    run = casgate("check", "hq01", cwd=here)

    assert "\ntest_cause1_root_store.py F" in run.stdout and "short test summary" not in run.stdout
    assert "../" not in run.stdout.split("configfile:")[1].split("\n", 1)[1]  # only the header's config file is a path


def test_an_unreachable_host_is_one_reason_not_one_per_check(here: Path) -> None:
    """A WinRM port nothing listens on (loopback): the reason is said once in pytest's errors, once on the last screen."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    (here / "inventory.toml").write_text(f'[hosts.hq02]\nfqdn = "hq02.corp.example"\naddress = "127.0.0.1"\n'
                                         f'connection = "winrm://127.0.0.1:{port}"\ndns_servers = ["127.0.0.1:9"]\nhttps_port = 9\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {
        "COLUMNS": "80", "CASGATE_WINRM_USER": "casgate-ro", "CASGATE_WINRM_PASSWORD": "not-a-secret"}
    run = subprocess.run([sys.executable, "-m", "casgate", "check", "hq02", "--html", "r.html", "--", "--probe-timeout=0.3"], cwd=here, env=env,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)

    errors = run.stdout.split("= ERRORS =")[1].split("= casgate: host x cause =")[0]
    assert run.returncode == 3, run.stdout + run.stderr
    said = run.stdout.split("= ERRORS =")[0]  # while the network is waited on, a line says what on, and once
    assert said.count(f"casgate: collecting hq02 live (connection winrm://127.0.0.1:{port}; probes of hq02.corp.example:9 ") == 1
    assert errors.count(f"cannot reach WinRM at 127.0.0.1:{port}") == 1
    assert errors.count("not judged, for the reason given above for hq02") >= 10
    last = run.stdout.rstrip().splitlines()
    assert any(line.startswith("hq02 13 causes  not judged: hq02: cannot reach WinRM at 127.0.0.1:") and line.endswith("(card 1)")
               for line in last[-8:])
    assert all(len(line) <= 80 for line in last[-6:])
    report = (here / "r.html").read_text(encoding="utf-8")
    assert report.count('<article class="card') == 3  # WinRM, DNS, certauth over HTTPS: a card per reason, not per check
    assert '<p class="also">Not judged for the same reason (15 more): cause 1a ' in report


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return closed.getsockname()[1]


def test_hosts_not_judged_for_one_reason_share_a_report_card_the_last_screen_cites(here: Path, chromium: list[str]) -> None:
    """21 recordings with the same broken registry export and two inventory hosts whose WinRM ports refuse (each its
    own port, its own FQDN): a card per shared reason naming every host and the checks left unjudged, as the last screen has a line
    per reason; a host alone (a broken DNS probe) keeps its own card. Checked in Chromium, on screen and on paper."""
    import pypdf

    from casgate.cli import bundled_snapshots
    from tests.test_report_browser import _dom

    snaps = here / "snaps"
    broken = [f"site{n:02d}" for n in range(1, 22)]
    for name in [*broken, "solo"]:
        shutil.copytree(bundled_snapshots() / "hq01", snaps / name)
    for name in broken:
        (snaps / name / "registry" / "schannel.reg").write_text("not a registry export\n", encoding="utf-8")
    (snaps / "solo" / "probes" / "dns.json").write_text("{", encoding="utf-8")
    (here / "inventory.toml").write_text("".join(
        f'[hosts.{name}]\nfqdn = "{name}.corp.example"\naddress = "127.0.0.1"\nconnection = "winrm://127.0.0.1:{_closed_port()}"\n'
        f'dns_servers = ["127.0.0.1:9"]\nhttps_port = 9\n\n' for name in ("live1", "live2")))

    run = casgate("check", *broken, "solo", "live1", "live2", "--snapshots", str(snaps), "--html", "r.html", "--", "--probe-timeout=0.3",
                  cwd=here, env={"CASGATE_WINRM_USER": "casgate-ro", "CASGATE_WINRM_PASSWORD": "not-a-secret"})
    pdf = here / "r.pdf"
    subprocess.run([*chromium, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", (here / "r.html").as_uri()], capture_output=True,
                   timeout=120, check=True)
    dom = _dom(chromium, here / "r.html")

    assert run.returncode == 1, run.stdout + run.stderr
    cited = {(who, causes): card for who, causes, card in re.findall(r"^(\S+(?: \+\d+)?) (\S+(?: causes)?)  not judged: .*\(card (\d+)\)$",
                                                                   run.stdout, re.M)}
    assert set(cited) == {("site01 +20", "5 causes"), ("live1 +1", "13 causes"), ("live1 +1", "3"), ("live1 +1", "X1"), ("solo", "3")}, \
        run.stdout
    found = {anchor: card for anchor, card in re.findall(r'<article class="card card-\w+" id="(card-\d+)">(.*?)</article>', dom, re.S)}
    assert len([card for card in found.values() if "badge casgate-error" in card]) == len(cited)  # a card per line, no more
    registry = found[f"card-{cited['site01 +20', '5 causes']}"]
    assert "<h3><b class=\"badge casgate-error\">ERROR</b> 21 hosts not judged, for one reason</h3>" in registry
    assert f'<details class="hosts shared"><summary>21 hosts</summary>{", ".join(broken)}</details>' in registry  # past 20: folded
    assert "<p class=\"finding\">not judged: registry/schannel.reg: is not a reg export" in registry
    assert "causes <b>1a, 1, 4, X5, X9</b>" in registry and "Checks left unjudged (6): cause 1a " in registry
    assert "(on " not in registry  # every host left the same checks unjudged
    winrm = found[f"card-{cited['live1 +1', '13 causes']}"]
    assert '<p class="hosts shared">live1, live2</p>' in winrm and "2 hosts not judged, for one reason" in winrm
    assert "not judged: cannot reach WinRM at &lt;its address&gt; (connection refused)" in winrm
    solo = found[f"card-{cited['solo', '3']}"]
    assert 'host <b>solo</b> \u00b7 cause <b>3</b>' in solo and "probes/dns.json: is not valid JSON" in solo
    dns = found[f"card-{cited['live1 +1', '3']}"]
    assert '<p class="hosts shared">live1, live2</p>' in dns and "did not answer (&lt;its address&gt;: " in dns
    https = found[f"card-{cited['live1 +1', 'X1']}"]  # each host's own FQDN in its URL, said as such
    assert '<p class="hosts shared">live1, live2</p>' in https and "could not reach https://&lt;its address&gt;/shoreauth/certauth" in https
    # every not-judged check of a host that shares a reason links to the shared card
    linked = rf'<td>site01</td>(?:(?!</tr>).)*<a href="#card-{cited["site01 +20", "5 causes"]}">finding</a>'
    assert len(re.findall(linked, dom)) == 6
    printed = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    on_paper = re.sub(r"\s+", " ", printed).split("21 hosts not judged, for one reason")[1]
    assert on_paper.startswith(f" causes 1a, 1, 4, X5, X9 · the hosts: 21 hosts {', '.join(broken)} not judged: registry/"), on_paper[:300]


HTML_HOOKS = '''
def pytest_html_report_title(report):
    report.title = "Upgrade window CHG-1234"


def pytest_html_results_summary(prefix, summary, postfix, session):
    prefix.append("<p id='by-hook'>Change CHG-1234, night shift</p>")
'''


def test_the_report_honours_pytest_htmls_options_hooks_and_metadata(here: Path) -> None:
    (here / "site_hooks.py").write_text(HTML_HOOKS)
    (here / "site.css").write_text("#casgate-verdict { outline: 3px dashed orange; }\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {"COLUMNS": "80", "PYTHONPATH": str(here)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "casgate", "check", "hq01", "--html", "r.html", "--", *args], cwd=here, env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    styled = run("-p", "site_hooks", "--css", "site.css", "--self-contained-html", "--metadata", "Change", "CHG-1234")
    missing = run("--css", "no-such.css")

    assert styled.returncode == 1, styled.stdout + styled.stderr
    html = (here / "r.html").read_text(encoding="utf-8")
    assert '<title id="head-title">Upgrade window CHG-1234</title>' in html and '<h1 id="title">Upgrade window CHG-1234</h1>' in html
    assert "<p id='by-hook'>Change CHG-1234, night shift</p>" in html
    assert "#casgate-verdict { outline: 3px dashed orange; }" in html
    assert re.search(r'<tr><th scope="row">Change</th><td>CHG-1234</td></tr>', html)
    assert "<script src=" not in html and "<link " not in html  # self-contained, as always
    assert missing.returncode == 2 and "casgate usage error: --css no-such.css: no such file" in missing.stderr


def test_collect_says_a_host_it_could_not_record_and_ends_3(here: Path) -> None:
    (here / "inventory.toml").write_text(INVENTORY)
    (here / "x").mkdir()
    (here / "elsewhere").mkdir()
    (here / "x" / "hq01").symlink_to(here / "elsewhere")  # casgate never replaces what a link leads to

    run = casgate("collect", "hq01", "--out", "x", "--", "--probe-timeout=0.3", cwd=here)

    assert run.returncode == 3, run.stdout + run.stderr
    assert f"hq01: not recorded: {here / 'x' / 'hq01'} is a link" in run.stdout
    assert run.stdout.rstrip().splitlines()[-1].startswith(f"COLLECTED with gaps on 1 host(s): 0 of 1 host(s) into {here / 'x'}")
    assert "Traceback" not in run.stdout + run.stderr and not list((here / "elsewhere").iterdir())


INTERRUPT_WHILE_WRITING = '''
import os, signal


def pytest_html_report_title(report):
    """A real SIGINT while casgate builds the report (a second Ctrl-C during a fleet's render)."""
    os.kill(os.getpid(), signal.SIGINT)
'''


def test_ctrl_c_while_the_report_is_written_leaves_no_file_and_no_traceback(here: Path) -> None:
    (here / "ctrl_c_late.py").write_text(INTERRUPT_WHILE_WRITING)
    run = subprocess.run([sys.executable, "-m", "casgate", "check", "hq01", "--html", "r.html", "--", "-p", "ctrl_c_late"], cwd=here,
                         env={**os.environ, "PYTHONPATH": str(here), "COLUMNS": "80"}, capture_output=True, text=True, timeout=120, check=False)

    assert run.returncode == 1, run.stdout + run.stderr  # every check ran: the verdict stands, said as the last line
    assert run.stdout.rstrip().splitlines()[-1].startswith("GATE FAILED: 2 check(s) failed")
    assert "the report and --json were not written: interrupted (Ctrl-C) while writing them" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr and not (here / "r.html").exists()
    assert not [p for p in here.iterdir() if p.name.endswith(".part")]


def test_a_fleet_that_cannot_be_reached_the_same_way_is_one_line_of_the_last_screen() -> None:
    """200 hosts refused the same way, each at its own address (text only: nothing is contacted), share a line with the
    address said as such; a host alone keeps its reason as said, its name and address in it."""
    from casgate.render import cards, last_screen, report_html
    from casgate.verdict import Cause, Outcome, Row

    def unreachable(host: str, n: int, why: str) -> list[Row]:
        reason = f"could not judge, evidence unusable: {host}: cannot reach WinRM at 192.0.2.{n % 250}:5986 ({why}) — host-side checks not judged"
        return [Row(host, host, cause, f"check of cause {cause.value}", f"test_{cause.name.lower()}",
                    f"tests_infra/t.py::test_{cause.name.lower()}[{host}]", Outcome.ERROR, reason) for cause in Cause]

    rows = [r for n in range(200) for r in unreachable(f"h{n:04d}", n, "connection refused")] + unreachable("hq99", 7, "timed out")
    rows.remove(next(r for r in rows if r.host == "h0007" and r.cause is Cause.DNS))  # one check fewer on one host (-k, say)

    lines = last_screen("GATE INCOMPLETE: 201 host(s) not judged", rows, "reports/r.html")
    shared, alone = cards(rows, {})

    judged = [line for line in lines if "not judged:" in line]
    assert len(judged) == 2, lines
    assert judged[0].startswith("h0000 +199 ") and "not judged: cannot reach WinRM at <its address>" in judged[0]
    assert judged[1].startswith("hq99 ") and "not judged: hq99: cannot reach WinRM at 192.0.2.7" in judged[1]
    assert all(len(line) <= 80 for line in lines if not line.startswith("report:"))
    assert judged[0].endswith("(card 1)") and judged[1].endswith("(card 2)")  # the report's cards, one per line
    assert shared.hosts == tuple(f"h{n:04d}" for n in range(200)) and not alone.hosts and alone.row.host == "hq99"
    assert shared.reason == "not judged: cannot reach WinRM at <its address> (connection refused) \u2014 host-side checks not judged"
    assert (Cause.DNS, "check of cause 3", 199) in shared.unjudged() and (Cause.UNTRUSTED_ROOT_STORE, "check of cause 1a", 200) in shared.unjudged()
    page = report_html(state="INCOMPLETE", headline="GATE INCOMPLETE", rows=rows, texts={}, provenance=[], waiver_problems=(),
                       baseline=False, meta={"version": "test", "started": "2026-11-27 00:00:00", "command": "casgate check"})
    assert page.count('<article class="card') == 2 and "cause 3 check of cause 3 (on 199 of the hosts); cause 4 " in page


INTERRUPT_READING_LOGS = '''
import os, signal
from casgate.logs.attribution import Attribution

def interrupted(self, label, path):
    os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as Ctrl-C sends it, as the first log file is read

Attribution.add_any = interrupted
'''


def test_ctrl_c_in_a_subcommand_is_one_line_and_no_verdict(here: Path) -> None:
    (here / "logs").mkdir()
    (here / "logs" / "u_ex261120.log").write_text("#Fields: date time cs-uri-stem sc-status\n", encoding="utf-8")
    (here / "sitecustomize.py").write_text(INTERRUPT_READING_LOGS)
    os.mkfifo(here / "pipe")

    run = casgate("logs", "logs", cwd=here, env={"PYTHONPATH": str(here)})
    pipe = casgate("logs", "pipe", cwd=here)

    assert run.returncode == 3 and run.stdout == "", run.stdout + run.stderr
    assert run.stderr == "casgate: interrupted (Ctrl-C); nothing judged\n"
    assert pipe.returncode == 2 and "pipe: not a file or folder of logs (a pipe, socket or device is not read)" in pipe.stderr
