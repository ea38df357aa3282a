"""The HTML report in a real headless Chromium: it renders, leads with the verdict, shows the host x cause matrix
and the baseline diff, and yields a screenshot (the README's is made the same way)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without these, Chromium tries to reach Google's services from a closed network at every start.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium(tmp_path: Path) -> list[str]:
    if CHROMIUM is None:
        if os.environ.get("CASGATE_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed but CASGATE_REQUIRE_BROWSER is set (CI installs it: see .ci/run)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]


def test_report_renders_with_verdict_matrix_and_diff(chromium: list[str], run_suite, tmp_path: Path) -> None:
    baseline = tmp_path / "before.json"
    run_suite("--host", "hq01-before", f"--json={baseline}", f"--html={tmp_path / 'before.html'}")
    run_suite("--host", "hq01-after", f"--baseline={baseline}")
    url = (tmp_path / "report.html").as_uri()

    dom = subprocess.run([*chromium, "--dump-dom", url], capture_output=True, text=True, timeout=60, check=True).stdout
    shot = tmp_path / "report.png"
    subprocess.run([*chromium, "--window-size=1280,1000", f"--screenshot={shot}", url], capture_output=True, timeout=60, check=True)

    assert '<h1 id="title">GATE FAILED: 4 check(s) failed' in dom
    assert dom.index('id="casgate-verdict"') < dom.index('id="casgate-matrix"') < dom.index('id="casgate-diff"')
    assert "<th>hq01-after</th>" in dom and 'class="casgate-fail"' in dom
    assert 'class="col-result">Failed</td>' in dom  # pytest-html's script built the results table
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
