"""The README's commands work as written, in order, on a fresh copy of the checkout (casgate imported from that copy,
as after a clone and `pip install -e .`), and say what they print: every ```sh block is run line by line (the install
steps are this environment's; the test command itself is not run again) in an 80-column terminal, and each command
ends as the gate says it should — passed or a finding (0 or 1), never a traceback — unless its comment claims another
exit status. What the README claims of a command is compared with what it printed:

- a command's comment: `exit N`, `N checks newly failing`, `the gate says WORD`, and any "quoted" text;
- the sentence after the first block (its exit status, cause, certificate and report);
- a ```text block after `<!-- output of: COMMAND -->`: its lines, in order, among the command's output lines (the
  gate line unwrapped, `…` standing for elided text, a report's UTC time for any);
- every quoted gate line, count or "did you mean" in the prose: printed by some command of the README, or by the
  test named in QUOTED_ELSEWHERE.
Blocks that need a live server or only show output are ```text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, gate_line

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)
PROSE = re.sub(r"^```.*?^```", "", README, flags=re.S | re.M)

QUOTED_ELSEWHERE = {
    "evidence: recorded 2026-11-20": "tests/test_operator_edges.py::test_a_live_recording_is_said_recorded_on_its_day",
    "GATE INCOMPLETE: interrupted (Ctrl-C): 5 of 40 selected check(s) judged …":
        "tests/test_operator_edges.py::test_ctrl_c_ends_incomplete_and_its_report_says_interrupted_at_the_top",
    "did you mean 'test_root_store_is_self_signed'?": "tests/test_gate.py::test_one_cause_waiver_covers_the_incident_and_misspelt_waivers_are_named",
}
"""Quoted outputs no README command prints (a live recording, a Ctrl-C, a waiver file), and the test that proves each."""


def _commands() -> list[str]:
    """Each command line of the ```sh blocks, in order, with its comment; a `venv && pip install && X` line becomes X."""
    commands = []
    for block in BLOCKS:
        for line in block.splitlines():
            command = line.split("&&")[-1].strip().replace(".venv/bin/", "")
            if command and "pytest tests" not in command:  # the test command is what runs this test
                commands.append(command)
    return commands


@dataclass(frozen=True)
class Ran:
    """One README command as it ran: its line (comment included), exit status, output, and the reports it wrote."""

    line: str
    returncode: int
    output: str
    reports: tuple[str, ...]

    @property
    def command(self) -> str:
        return " ".join(self.line.split("#", 1)[0].split())

    @property
    def comment(self) -> str:
        return self.line.split("#", 1)[1].strip() if "#" in self.line else ""


def _run_in_order(copy: Path) -> list[Ran]:
    """Every README command run once, in order, on `copy`, a fresh copy of the checkout."""
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", "reports"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CASGATE_"))}
    env |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}", "PYTHONPATH": str(copy), "COLUMNS": "80"}
    runs = []
    for line in _commands():
        before = set((copy / "reports").glob("*.html"))
        run = subprocess.run(["bash", "-c", line], cwd=copy, env=env, capture_output=True, text=True, timeout=180, check=False)
        written = sorted(str(p.relative_to(copy)) for p in set((copy / "reports").glob("*.html")) - before)
        runs.append(Ran(line, run.returncode, run.stdout + run.stderr, tuple(written)))
    return runs


def _of(runs: list[Ran], command: str) -> Ran:
    """The run of a README command, named as the README writes it (spacing aside)."""
    wanted = " ".join(command.split())
    found = [r for r in runs if r.command == wanted]
    assert found, f"not a command of the README's ```sh blocks: {command}"
    return found[0]


def _lines(output: str) -> list[str]:
    """Output lines as a reader sees them: the gate line whole (the last screen wraps it at 80 columns), each report's
    time as <UTC>."""
    lines: list[str] = []
    for line in output.splitlines():
        line = re.sub(r"casgate-\d{8}T\d{6}Z(?:-\d+)?\.html", "casgate-<UTC>.html", line.rstrip())
        if lines and lines[-1].startswith("GATE ") and line.startswith("  "):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def _shown(line: str) -> re.Pattern[str]:
    """A line the README shows, as a pattern of the printed line: `…` stands for what it elides."""
    line = re.sub(r"casgate-\d{8}T\d{6}Z(?:-\d+)?\.html", "casgate-<UTC>.html", line.rstrip())
    return re.compile(".*".join(re.escape(part) for part in line.split("\u2026")))


def test_the_readme_starts_with_the_two_commands() -> None:
    first, second = BLOCKS[0].splitlines()[:2]
    assert first.endswith(".venv/bin/pytest --host hq01") and first.startswith("python3 -m venv .venv")
    assert second.endswith(".venv/bin/pytest tests -n auto") and "'.[test]'" in second


def test_the_windows_caveat_is_on_the_first_screen_of_live_mode() -> None:
    live = README[README.index("## Live mode"):]
    assert "**Not yet run against a real Windows server.**" in "\n".join(live.splitlines()[:24])


def test_every_readme_command_works_in_order_on_a_fresh_copy_and_prints_what_the_readme_says(tmp_path: Path) -> None:
    """One test, so that the commands run once (under xdist a module's tests may land on two workers)."""
    copy = tmp_path / "casgate"
    runs = _run_in_order(copy)

    assert len(runs) >= 20
    assert (copy / "made" / "healthy" / "manifest.json").is_file() and (copy / "before.json").is_file()
    for run in runs:
        claimed = re.match(r"exit (\d)\b", run.comment)  # what the README says it ends with; else a verdict, 0 or 1
        assert run.returncode in ((int(claimed[1]),) if claimed else (0, 1)), f"{run.line}\n{run.output[-2000:]}"
        assert "Traceback" not in run.output and "INTERNALERROR" not in run.output, run.line
    _assert_comments_hold(runs)
    _assert_the_first_command_does_what_the_sentence_after_it_says(runs)
    _assert_shown_output_was_printed(runs)
    _assert_quoted_outputs_were_printed(runs)


def _assert_comments_hold(runs: list[Ran]) -> None:
    """What a command's comment claims is what it printed."""
    claims = 0
    for run in runs:
        lines = _lines(run.output)
        gate = gate_line(run.output) if any(line.startswith("GATE ") for line in lines) else ""
        newly = re.search(r"\b(\d+) checks? newly failing", run.comment)
        if newly:  # each said as NEWLY FAILING against the baseline, whatever fails the gate
            assert sum(line.startswith("NEWLY FAILING: ") for line in lines) == int(newly[1]), run.line
            assert gate.startswith(f"GATE FAILED: {newly[1]} check(s) "), run.line
        says = re.search(r"the gate says (\w+)", run.comment)
        if says:
            assert says[1] in gate, run.line
        for quoted in re.findall(r'"([^"]+)"', run.comment):
            assert quoted in run.output, f"{run.line}\n{run.output[-2000:]}"
        claims += bool(newly) + bool(says) + len(re.findall(r'"([^"]+)"', run.comment)) + bool(re.match(r"exit \d", run.comment))
    assert claims >= 6


def _assert_the_first_command_does_what_the_sentence_after_it_says(runs: list[Ran]) -> None:
    said = re.search(r"it exits (\d), prints cause \*\*(\w+)\*\* with the offending certificate, and writes an HTML report to\s+`([^`]+)`",
                     README)
    first = runs[0]

    assert said and first.command == "pytest --host hq01", first.line
    assert first.returncode == int(said[1])
    lines = _lines(first.output)
    at = lines.index(next(line for line in lines if line.startswith(f"[cause {said[2]}] ")))
    assert re.fullmatch(r"  CN=.*thumbprint [0-9A-F]{40}; .*Issuer differs from Subject", lines[at + 2]), lines[at:at + 3]
    assert [Path(p).parent.as_posix() + "/" for p in first.reports] == [said[3]]


def _assert_shown_output_was_printed(runs: list[Ran]) -> None:
    """Output the README shows is what its command prints."""
    shown = re.findall(r"^<!-- output of: (.+?) -->\n```text\n(.*?)^```", README, re.S | re.M)
    assert len(shown) >= 2
    for command, block in shown:
        printed = iter(_lines(_of(runs, command).output))
        for line in block.splitlines():  # in order: each shown line is a later printed line
            pattern = _shown(line)
            assert any(pattern.fullmatch(out) for out in printed), f"{command}: not printed (in this order): {line}"


def _assert_quoted_outputs_were_printed(runs: list[Ran]) -> None:
    """Quoted outputs in the prose are what a README command prints, or what the test named for them proves."""
    quoted = [" ".join(q.split()) for q in re.findall(r'"([^"]+)"', PROSE)
              if re.search(r"GATE |check\(s\)|PARTIAL:|evidence: |did you mean", q)]
    printed = "\n".join(line for run in runs for line in _lines(run.output))
    assert len(quoted) >= 6
    for quote in quoted:
        if quote in QUOTED_ELSEWHERE:
            file, test = QUOTED_ELSEWHERE[quote].split("::")
            assert f"\ndef {test}(" in (REPO / file).read_text(encoding="utf-8"), QUOTED_ELSEWHERE[quote]
        else:
            assert _shown(quote).search(printed), quote
