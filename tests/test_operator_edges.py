"""The operator's edges (issue 20): nothing typed or happening turns a failure into a pass. Each test drives the real
`casgate` command in a subprocess at 80 columns and asserts its exit status and lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def casgate(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`casgate ARGS` as an operator types it, in an 80-column terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CASGATE_"))} | {"COLUMNS": "80"}
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
