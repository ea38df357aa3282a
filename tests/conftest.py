"""Shared helpers for casgate's own tests: crafted scenarios and a real `pytest --host ...` run in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from casgate.scenarios import craft
from casgate.verdict import Cause, Outcome, Row

REPO = Path(__file__).resolve().parents[1]
CHECKS = sum(line.startswith("def test_") for path in (REPO / "tests_infra").glob("test_*.py") for line in path.read_text().splitlines())
"""How many checks one host runs: what every whole-suite run must report per host."""


@dataclass(frozen=True)
class SuiteRun:
    """What one run of the compliance suite printed and wrote."""

    returncode: int
    output: str
    results: list[dict[str, Any]]

    def outcomes(self, host: str) -> dict[str, str]:
        """check function name -> outcome, for one host."""
        return {r["nodeid"].split("::")[1].split("[")[0]: r["outcome"] for r in self.results if r["host"] == host}


def gate_line(output: str) -> str:
    """The run's gate line unwrapped: the last screen wraps it to 80 columns, continuation lines indented."""
    lines = output.rstrip().splitlines()
    start = max(n for n, line in enumerate(lines) if line.startswith("GATE "))
    return " ".join(line.strip() for line in lines[start:])


@pytest.fixture(scope="session")
def scenarios_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenarios")
    craft(root, [])
    return root


def run_gate(workdir: Path, *args: str, env_extra: dict[str, str] | None = None, timeout: float = 120) -> SuiteRun:
    """Run the real suite (tests_infra/) in a subprocess from the repository, as a user would; results and the
    report go to `workdir`."""
    json_path = workdir / "results.json"
    json_path.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | (env_extra or {})
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--json={json_path}", *args]
    if not any(a.startswith("--html") for a in args):
        command.append(f"--html={workdir / 'report.html'}")
    proc = subprocess.run(command, check=False, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    results = json.loads(json_path.read_text())["results"] if json_path.exists() else []
    return SuiteRun(proc.returncode, proc.stdout + proc.stderr, results)


@pytest.fixture
def run_suite(tmp_path: Path):
    """run_gate in this test's temporary folder."""

    def run(*args: str, env_extra: dict[str, str] | None = None, timeout: float = 120) -> SuiteRun:
        return run_gate(tmp_path, *args, env_extra=env_extra, timeout=timeout)

    return run


def fleet_rows(hosts: list[str], findings: dict[str, tuple[Cause, Outcome]]) -> list[Row]:
    """A row per host and cause, as a fleet's report holds them: a host in `findings` has that outcome for that
    cause; every other cell passes, but X1 is skipped on every second host (two patterns of healthy hosts)."""

    def outcome(n: int, host: str, cause: Cause) -> Outcome:
        if host in findings and findings[host][0] is cause:
            return findings[host][1]
        return Outcome.SKIP if cause is Cause.CERTAUTH_ENDPOINT and n % 2 else Outcome.PASS

    return [Row(host=host, host_id=host, cause=cause, check=f"check of cause {cause.value}", check_id=f"test_{cause.name.lower()}",
                nodeid=f"tests_infra/test_fleet.py::test_{cause.name.lower()}[{host}]", outcome=outcome(n, host, cause),
                summary=f"{cause.value} on {host}", duration=n / 1000)
            for n, host in enumerate(hosts) for cause in Cause]
