"""The HTML report in a real headless Chromium: it renders, leads with the verdict, shows the host x cause matrix
and the baseline diff, and yields a screenshot (the README's is made the same way); hostile evidence, test ids and
host names in it stay text and run no script."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from casgate.render import diff_html, matrix_html, verdict_banner_html
from casgate.verdict import Cause, Outcome, Row
from tests.payloads import HOST, PWNED, SCRIPTS, TOKEN_SCRIPTS, markup, plant

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


def _dom(chromium: list[str], page: Path) -> str:
    """The page's DOM after its scripts (and any injected handler: img onerror, svg onload) have run."""
    return subprocess.run([*chromium, "--virtual-time-budget=3000", "--dump-dom", page.as_uri()], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def _assert_no_script_ran(dom: str, title: str) -> None:
    """Every payload sets document.title to 'pwned'; none may have run, nor become an element or a handler."""
    found = markup(dom)
    assert re.search(r'<title id="head-title">(.*?)</title>', dom, re.S)[1].startswith(title)  # type: ignore[index]
    handlers = [(tag, name, value) for tag, attrs in found.elements for name, value in attrs.items()
                if (name.startswith("on") or name in ("src", "href")) and PWNED in value]
    assert not handlers and not [code for code in found.scripts if PWNED in code]


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


def test_hostile_evidence_is_text_in_the_report_and_runs_no_script(chromium: list[str], run_suite, tmp_path: Path) -> None:
    folder, waivers = plant(tmp_path / "snaps")
    run = run_suite(f"--snapshots={folder.parent}", "--host", HOST, f"--waivers={waivers}")
    assert run.returncode == 1

    dom = _dom(chromium, tmp_path / "report.html")

    _assert_no_script_ran(dom, "GATE FAILED")
    assert 'class="col-result">Failed</td>' in dom  # pytest-html's script built the results table from the JSON blob
    for shown in ("&lt;img src=x onerror=\"document.title='pwned'\"&gt;",  # manifest fqdn in the problems list
                  "CHG-2 \"&gt;&lt;svg onload=",  # expired waiver's justification
                  "CN=\\&lt;img src=x onerror=",  # certificate subject in the failure log
                  "&lt;svg/onload=document.title=/pwned/.source&gt;",  # IIS User-Agent and cs-uri-query in the log
                  "curl\\x1b[2J\\x1b]0;owned-title\\x07",
                  "more characters)"):
        assert shown in dom, shown


def test_test_ids_and_host_names_are_text_in_the_report(chromium: list[str], tmp_path: Path) -> None:
    """Host names reach the page as test ids (pytest-html's results table) and through casgate's own HTML; the gate
    refuses hostile host names, and the report must hold even when one gets through."""
    ids = [*SCRIPTS, *TOKEN_SCRIPTS]
    (tmp_path / "test_ids.py").write_text(f"import pytest\n\n\n@pytest.mark.parametrize('host', {ids!r}, ids={ids!r})\n"
                                          "def test_host(host):\n    assert False, host\n")
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "casgate.plugin", "test_ids.py", "--html=ids.html", "--self-contained-html"],
                   cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    rows = [Row(host=p, host_id=p, cause=Cause.DNS, check=p, check_id="test_x", nodeid=f"t.py::test_x[{p}]", outcome=Outcome.FAIL,
                summary=p, change="newly failing", changes=(p,)) for p in ids]
    (tmp_path / "casgate.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title id=\"head-title\">casgate parts</title></head><body>"
        f"{verdict_banner_html(False, ids[0])}{matrix_html(rows, tuple(ids))}{diff_html(rows)}</body></html>", encoding="utf-8")

    ids_dom, parts_dom = _dom(chromium, tmp_path / "ids.html"), _dom(chromium, tmp_path / "casgate.html")

    _assert_no_script_ran(ids_dom, "ids.html")
    _assert_no_script_ran(parts_dom, "casgate parts")
    assert ids_dom.count('class="col-result">Failed</td>') == len(ids)
    assert "test_host[&lt;script&gt;document.title=/pwned/.source&lt;/script&gt;]" in ids_dom
    assert "<th>&lt;svg/onload=document.title=/pwned/.source&gt;</th>" in parts_dom
