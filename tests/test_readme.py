"""The README's commands work as written, in order, on a fresh copy of the checkout: every ```sh block is run
line by line (the install steps are this environment's; the test command itself is not run again), and each
command ends as the gate says it should — passed or a finding (0 or 1), never a usage error or a traceback.
Blocks that need a live server or only show output are ```text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, gate_line

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)


def _commands() -> list[str]:
    """Each command line of the ```sh blocks, in order; a `venv && pip install && X` line becomes X."""
    commands = []
    for block in BLOCKS:
        for line in block.splitlines():
            command = line.split("&&")[-1].strip().replace(".venv/bin/", "")
            if command and "pytest tests" not in command:  # the test command is what runs this test
                commands.append(command)
    return commands


def test_the_readme_starts_with_the_two_commands() -> None:
    first, second = BLOCKS[0].splitlines()[:2]
    assert first.endswith(".venv/bin/pytest --host hq01") and first.startswith("python3 -m venv .venv")
    assert second.endswith(".venv/bin/pytest tests -n auto") and "'.[test]'" in second


def test_the_windows_caveat_is_on_the_first_screen_of_live_mode() -> None:
    live = README[README.index("## Live mode"):]
    assert "**Not yet run against a real Windows server.**" in "\n".join(live.splitlines()[:24])


def test_every_readme_command_works_in_order_on_a_fresh_copy(tmp_path: Path) -> None:
    copy = tmp_path / "casgate"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", "casgate-*.html"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CASGATE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    commands = _commands()
    assert len(commands) >= 20

    for command in commands:
        run = subprocess.run(["bash", "-c", command], cwd=copy, env=env, capture_output=True, text=True, timeout=180, check=False)
        output = run.stdout + run.stderr
        assert run.returncode in (0, 1), f"{command}\n{output[-2000:]}"
        assert "Traceback" not in output and "INTERNALERROR" not in output, command
        claimed = re.search(r"# exit (\d)(?:: (\d+) checks newly failing)?", command)  # what the README says it ends with
        if claimed:
            assert run.returncode == int(claimed[1]), command
            assert claimed[2] is None or f"GATE FAILED: {claimed[2]} check(s) failed" in gate_line(output), command
    assert (copy / "made" / "healthy" / "manifest.json").is_file() and (copy / "before.json").is_file()
