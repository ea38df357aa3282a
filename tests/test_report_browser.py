"""The HTML report in a real headless Chromium: it leads with the verdict, then the host x cause matrix and its
legend, the baseline diff, a card per finding with its remediation PowerShell, where the evidence came from, and every
check with working filters; it prints to PDF and yields a screenshot (CASGATE_README_SCREENSHOT=1 writes the README's);
hostile evidence, test ids and host names in it stay text and run no script."""

from __future__ import annotations

import html
import os
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from casgate.render import OUTCOME_MEANING, PAGE_ROWS, Provenance, diff_html, matrix_html, report_html, verdict_banner_html
from casgate.snapshot import MANIFEST, PHONE_LOGS, REGISTRY
from casgate.verdict import Cause, Outcome, Row
from tests.conftest import CHECKS, REPO, fleet_rows
from tests.payloads import BREAKOUTS, HOST, PWNED, SCRIPTS, TOKEN_SCRIPTS, markup, plant

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


def _order(dom: str, *marks: str) -> list[int]:
    return [dom.index(mark) for mark in marks]


def test_report_leads_with_the_verdict_then_matrix_legend_diff_cards_provenance_and_checks(chromium: list[str], run_suite,
                                                                                            tmp_path: Path) -> None:
    baseline = tmp_path / "before.json"
    run_suite("--host", "hq01-before", f"--json={baseline}", f"--html={tmp_path / 'before.html'}")
    run_suite("--host", "hq01-after", f"--baseline={baseline}")
    url = (tmp_path / "report.html").as_uri()

    dom = _dom(chromium, tmp_path / "report.html")
    shot = tmp_path / "report.png"
    subprocess.run([*chromium, "--window-size=1280,1600", f"--screenshot={shot}", url], capture_output=True, timeout=60, check=True)

    assert re.search(r'<body>\s*<header>\s*<div id="casgate-verdict" class="verdict verdict-failed">GATE FAILED: 6 check\(s\) failed', dom)
    assert re.search(r'<title id="head-title">GATE FAILED: 6 check\(s\) failed', dom)
    order = _order(dom, 'id="casgate-verdict"', 'id="casgate-matrix"', 'id="casgate-legend"', 'id="casgate-diff"', 'id="card-1"',
                   'id="casgate-provenance"', 'id="casgate-results"')
    assert order == sorted(order)
    assert "<th>hq01-after</th>" in dom and '<b class="badge casgate-fail">FAIL</b>' in dom
    legend = dom[dom.index('id="casgate-legend"'):dom.index('id="casgate-diff"')]
    for shown in ("<b>1a</b>", "<b>1b</b>", "<b>1</b>", "<b>2</b>", "<b>3</b>", "<b>4</b>", "<b>X1</b>", *OUTCOME_MEANING.values()):
        assert shown in legend, shown
    card = dom[dom.index('<h3><b class="badge casgate-fail">FAIL</b> the server refuses the phones\' TLS 1.0 cipher suites</h3>'):]
    card = card[:card.index("</article>")]
    assert "<li><code>cipher-suite policy: not set (Windows' default order applies)</code></li>" in card
    assert re.search(r'<div class="ps"><button type="button" class="copy">Copy</button><pre><code>'  # the script showed the button
                     r"Enable-TlsCipherSuite -Name TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA\nRestart-Computer\n</code></pre></div>", card)
    provenance = dom[dom.index('id="casgate-provenance"'):dom.index('id="casgate-details"')]
    assert f"<code>{REPO / 'snapshots' / 'hq01-after'}</code>" in provenance
    assert "<td>hq01.example.com</td><td>2026-11-21 06:00:00</td><td>crafted</td><td>casgate 0.1.0</td>" in provenance
    assert dom.count('<tr data-outcome="pass">') == CHECKS - 6 and dom.count('<tr data-outcome="fail">') == 6
    shown = re.sub(r'<script type="application/json" id="casgate-rows">.*?</script>', "", dom, flags=re.S)  # the rows as data
    assert "tests_infra/" not in shown.replace('title="tests_infra/', "")  # node ids only as a tooltip, never shown
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    diff = dom[dom.index('id="casgate-diff"'):dom.index('id="card-1"')]  # newly failing: said as the finding it is
    assert "[cause 2] <b>the https/443 binding of Default Web Site is not keystore server.crt</b>" in diff
    assert "[cause 4] <b>TLS 1.0 is disabled for the server</b>" in diff
    measured = tmp_path / "measured.html"  # the page at 1280 px, a line of script added: how far the matrix passes the page's
    measured.write_text((tmp_path / "report.html").read_text(encoding="utf-8").replace("</body>", (  # column (the banner's edge)
        "<script>document.body.dataset.sideways = Math.max(0, Math.ceil(document.querySelector('table.casgate-matrix')"
        ".getBoundingClientRect().right - document.getElementById('casgate-verdict').getBoundingClientRect().right));"
        "</script></body>")), encoding="utf-8")
    sized = subprocess.run([*chromium, "--window-size=1280,900", "--virtual-time-budget=3000", "--dump-dom", measured.as_uri()],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert re.search(r'<body data-sideways="0">', sized)  # the whole host x cause matrix within the page's column
    if os.environ.get("CASGATE_README_SCREENSHOT"):
        shutil.copyfile(shot, REPO / "docs" / "report-hq01-after.png")


@pytest.fixture
def every_outcome(scenarios_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Four hosts with all six outcomes: 'rootca' fails 1a and cannot judge its damaged registry (1a FAIL+ERROR, phone
    logs skipped), 'masked' warns, 'binding' fails a waived check, 'broken' has an unreadable manifest."""
    snaps = tmp_path / "snaps"
    for name, scenario in (("rootca", "cause-1a"), ("masked", "cause-1a-masked"), ("binding", "cause-2"), ("broken", "healthy")):
        shutil.copytree(scenarios_dir / scenario, snaps / name)
    (snaps / "rootca" / REGISTRY / "schannel.reg").write_text("not a registry export\n", encoding="utf-8")
    shutil.rmtree(snaps / "rootca" / PHONE_LOGS)  # not claimed below: optional evidence, so its checks skip
    manifest = json.loads((snaps / "rootca" / MANIFEST).read_text(encoding="utf-8"))
    (snaps / "rootca" / MANIFEST).write_text(json.dumps({**manifest, "collected": [c for c in manifest["collected"] if c != PHONE_LOGS]}),
                                             encoding="utf-8")
    (snaps / "broken" / MANIFEST).write_text("{", encoding="utf-8")
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waiver]]\nhost = "binding"\ncheck = "test_https_binding_matches_keystore"\n'
                       'justification = "CHG-7: rebind in the maintenance window"\nexpires = 2099-12-31\n', encoding="utf-8")
    return snaps, waivers


_PROBE = """<script>
const shown = () => [...new Set([...document.querySelectorAll('#casgate-results tbody tr')].filter(r => !r.hidden).map(r => r.dataset.outcome))].sort().join(',');
const probe = document.createElement('pre'); probe.id = 'probe';
const click = (o) => document.querySelector(`#casgate-filters input[data-outcome="${o}"]`).click();
const lines = [shown()];
['warn', 'waived', 'error'].forEach(click); lines.push(shown());
['pass', 'fail', 'skip'].forEach(click); lines.push(shown());
click('waived'); lines.push(shown());
probe.textContent = lines.join('\\n'); document.body.append(probe);
</script></body>"""


def test_every_outcome_has_a_card_or_a_row_a_working_filter_and_no_raw_text(chromium: list[str], run_suite, every_outcome,
                                                                               tmp_path: Path) -> None:
    snaps, waivers = every_outcome
    run = run_suite(f"--snapshots={snaps}", *(a for h in ("rootca", "masked", "binding", "broken") for a in ("--host", h)),
                    f"--waivers={waivers}")
    assert run.returncode == 1
    page = tmp_path / "report.html"
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE), encoding="utf-8")

    dom, after_clicks = _dom(chromium, page), _dom(chromium, probed)

    for outcome, label, count in (("fail", "failed", 5), ("error", "not judged", 26), ("warn", "warned", 1), ("waived", "waived", 1),
                                  ("pass", "passed", 45), ("skip", "skipped", 2)):
        assert re.search(rf'<input type="checkbox" data-outcome="{outcome}" checked=""> <b class="badge casgate-{outcome}">{label}</b> '
                         rf'<span class="count">{count}</span>', dom), outcome
        assert dom.count(f'<tr data-outcome="{outcome}">') == count, outcome
    assert '<pre id="probe">error,fail,pass,skip,waived,warn\nfail,pass,skip\n\nwaived</pre>' in after_clicks
    matrix = dom[dom.index('id="casgate-matrix"'):dom.index('id="casgate-legend"')]
    assert ('<th>rootca</th><td class="casgate-error" title="LocalMachine\\Root holds only self-signed certificates: fail; '
            in matrix)
    assert '<b class="badge casgate-error">ERROR</b>+<b class="badge casgate-fail">FAIL</b>' in matrix
    assert "<th>masked</th>" in matrix and '<b class="badge casgate-warn">WARN</b>' in matrix
    cards = re.findall(r'<article class="card card-(\w+)"', dom)
    assert sorted(cards) == sorted(["fail"] * 5 + ["warn", "waived"] + ["error"] * 2)  # a card per host and reason not judged
    assert dom.count('<p class="also">Not judged for the same reason') == 2
    assert "Waived: binding/test_https_binding_matches_keystore until 2099-12-31: CHG-7: rebind in the maintenance window" in dom
    assert re.search(r"<th scope=\"row\">broken</th><td><code>[^<]*/snaps/broken</code></td>\s*<td colspan=\"4\" class=\"unreadable\">manifest "
                     r"unreadable: manifest.json: is not valid JSON", dom)
    assert "no phone logs in this snapshot (phone-logs/ is optional evidence)" in dom
    assert not re.search(r"\(&#39;[^)]*&#39;, \d+, &#39;Skipped", dom) and "Skipped: " not in dom  # no raw (path, line, reason)


def test_report_prints_to_pdf_without_filters_and_with_whole_cards(chromium: list[str], run_suite, tmp_path: Path) -> None:
    import pypdf

    run_suite("--host", "hq01", "--host", "hq01-after")
    pdf = tmp_path / "report.pdf"

    subprocess.run([*chromium, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", (tmp_path / "report.html").as_uri()],
                   capture_output=True, timeout=60, check=True)

    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 1
    first = pypdf.PdfReader(pdf).pages[0].extract_text()  # the whole matrix on the printed page: X8 and X9 were cut off
    assert "host 1a 1b 1 2 3 4 X1 X2 X3 X4 X5 X6 X7 X8 X9\nhq01 FAIL PASS FAIL PASS PASS PASS PASS PASS PASS PASS PASS PASS PASS PASS PASS" in first
    assert "evidence: crafted demo" in first
    style = (tmp_path / "report.html").read_text(encoding="utf-8")
    print_css = style[style.index("@media print"):]
    assert "#casgate-filters, button.copy { display: none !important; }" in print_css and ".card," in print_css
    assert "break-inside: avoid" in print_css


def test_a_report_casgate_names_never_overwrites_another_runs(tmp_path: Path) -> None:
    """Names are to the second: reports of runs started in the same second (here: every second the run may start
    in already has one) get -2, -3 ..."""
    reports = REPO / "reports"
    reports.mkdir(exist_ok=True)
    now = datetime.now(timezone.utc)
    taken = [reports / f"casgate-{now + timedelta(seconds=s):%Y%m%dT%H%M%SZ}.html" for s in range(-1, 60)]
    planted = [p for p in taken if not p.exists()]
    for p in planted:
        p.write_text("another run's report", encoding="utf-8")
    try:
        subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--host", "hq01", "-q", f"--basetemp={tmp_path / 'tmp'}"],
                       cwd=REPO, capture_output=True, timeout=60, check=False)
        made = [p.with_name(f"{p.stem}-2.html") for p in planted if p.with_name(f"{p.stem}-2.html").exists()]
        assert len(made) == 1 and "GATE FAILED" in made[0].read_text(encoding="utf-8")
        assert all(p.read_text(encoding="utf-8") == "another run's report" for p in planted)
    finally:
        for p in planted:
            p.unlink()
            p.with_name(f"{p.stem}-2.html").unlink(missing_ok=True)


def test_hostile_evidence_is_text_in_the_report_and_runs_no_script(chromium: list[str], run_suite, tmp_path: Path) -> None:
    folder, waivers = plant(tmp_path / "snaps")
    run = run_suite(f"--snapshots={folder.parent}", "--host", HOST, f"--waivers={waivers}")
    assert run.returncode == 1

    dom = _dom(chromium, tmp_path / "report.html")

    _assert_no_script_ran(dom, "GATE FAILED")
    assert '<button type="button" class="copy">Copy</button>' in dom  # the report's own script ran, and only it
    for shown in ("&lt;img src=x onerror=\"document.title='pwned'\"&gt;",  # the DNS probe's fqdn in the problems list
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


def _fleet_report(folder: Path, hosts: int) -> Path:
    """A report of `hosts` hosts rendered straight from rows (no run): the last host's name would end a <script>
    raw and it fails 1a; h0150 is not judged on 3; every 60th host fails 2."""
    names = [*(f"h{n:04d}" for n in range(1, hosts)), BREAKOUTS[0]]
    findings = {names[-1]: (Cause.UNTRUSTED_ROOT_STORE, Outcome.FAIL), "h0150": (Cause.DNS, Outcome.ERROR),
                **{f"h{n:04d}": (Cause.BINDING_MISMATCH, Outcome.FAIL) for n in range(60, hosts, 60)}}
    page = folder / "fleet.html"
    page.write_text(report_html(state="FAILED", headline="GATE FAILED: a fleet", rows=fleet_rows(names, findings), texts={},
                                provenance=[Provenance(h, f"/snaps/{h}") for h in names], waiver_problems=(), baseline=False,
                                meta={"version": "test", "started": "2026-11-27 00:00:00", "command": "pytest"}), encoding="utf-8")
    return page


_FLEET_PROBE = """<script>
const rows = () => [...document.querySelectorAll('#casgate-results tbody tr')];
const state = () => [rows().length, rows()[0].cells[1].textContent, rows().at(-1).cells[1].textContent,
                     document.getElementById('casgate-shown').textContent].join(' | ');
const hosts = () => [...new Set(rows().map(r => r.cells[1].textContent))].join(',');
const go = (to) => document.querySelector(`#casgate-pager [data-go="${to}"]`).click();
const click = (o) => document.querySelector(`#casgate-filters input[data-outcome="${o}"]`).click();
const name = (text) => { const box = document.getElementById('casgate-host'); box.value = text; box.dispatchEvent(new Event('input')); };
const served = rows().map(r => r.outerHTML).join('');
const lines = [state()];
go('next'); lines.push(state());
go('last'); lines.push(state());
go('first'); lines.push(rows().map(r => r.outerHTML).join('') === served ? 'first page as served' : 'first page differs');
['pass', 'skip'].forEach(click); lines.push(state() + ' | ' + hosts());
['pass', 'skip'].forEach(click); name('H0299'); lines.push(state() + ' | ' + hosts());
name(''); dispatchEvent(new Event('beforeprint'));
lines.push(state() + ' | folded: ' + [...document.querySelectorAll('details')].filter(d => !d.open).length);
dispatchEvent(new Event('afterprint')); lines.push(state());
go('all'); lines.push(state());
const probe = document.createElement('pre'); probe.id = 'probe'; probe.textContent = lines.join('\\n'); document.body.append(probe);
</script></body>"""


def test_a_fleet_report_serves_one_page_of_rows_and_filters_pages_and_prints_every_row(chromium: list[str], tmp_path: Path) -> None:
    page = _fleet_report(tmp_path, 300)
    served = page.read_text(encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(served.replace("</body>", _FLEET_PROBE), encoding="utf-8")

    dom = _dom(chromium, probed)

    hostile = BREAKOUTS[0]
    total, last = 300 * len(Cause), (300 * len(Cause) - 1) // PAGE_ROWS * PAGE_ROWS  # rows; the last page's first row

    def host(row: int) -> str:
        return hostile if row // len(Cause) == 299 else f"h{row // len(Cause) + 1:04d}"

    assert served.count("<tr data-outcome=") == PAGE_ROWS  # the other rows are data until asked for
    probe = html.unescape(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)[1]).split("\n")  # type: ignore[index]
    assert probe == [
        f"200 | h0001 | {host(199)} | The first 200 of {total:,} checks. The page's script shows every one, a page at a time, and prints "
        "them all; without script, --json holds them.",
        f"200 | {host(200)} | {host(399)} | Checks 201–400 of {total:,}",
        f"{total - last} | {host(last)} | {hostile} | Checks {last + 1:,}–{total:,} of {total:,}",
        "first page as served",  # the script builds a row exactly as the template writes it
        f"6 | h0060 | {hostile} | Checks 1–6 of 6 matching the filters ({total:,} checks in all) | h0060,h0120,h0150,h0180,h0240,{hostile}",
        f"{len(Cause)} | h0299 | h0299 | Checks 1–{len(Cause)} of {len(Cause)} matching the filters ({total:,} checks in all) | h0299",
        f"{total} | h0001 | {hostile} | All {total:,} checks, whatever the filters. | folded: 0",
        f"200 | h0001 | {host(199)} | Checks 1–200 of {total:,}",
        f"{total} | h0001 | {hostile} | Checks 1–{total:,} of {total:,}",
    ]
    _assert_no_script_ran(dom, "GATE FAILED")
    assert dom.count(f"<td>{html.escape(hostile, quote=False)}</td>") == len(Cause)  # its rows, built by the script, as text
    matrix = dom[dom.index('id="casgate-matrix"'):dom.index('id="casgate-legend"')]
    assert re.findall(r"<tr><th>(?:<details class=\"hosts\"[^>]*><summary>)?([^<]*)<", matrix) == [
        "host", "h0150", "4 hosts", html.escape(hostile, quote=False), "150 hosts", "144 hosts"]
    assert '<details class="hosts" open=""><summary>4 hosts</summary>h0060, h0120, h0180, h0240</details>' in matrix  # opened to print
    assert "<summary>300 hosts: the snapshot or live target of each</summary>" in dom


def test_a_fleet_report_prints_every_row(chromium: list[str], tmp_path: Path) -> None:
    """Printing runs the page's script: every row goes to paper, not the first page; without script, the first page
    and the note saying where the rest are."""
    page = _fleet_report(tmp_path, 100)
    unscripted = tmp_path / "unscripted.html"
    unscripted.write_text(re.sub(r"<script>.*?</script>", "", page.read_text(encoding="utf-8"), flags=re.S), encoding="utf-8")

    def pages(html_file: Path) -> int:
        pdf = html_file.with_suffix(".pdf")
        subprocess.run([*chromium, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html_file.as_uri()], capture_output=True, timeout=120,
                       check=True)
        return len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes()))

    every_row, first_page = pages(page), pages(unscripted)

    assert every_row >= 3 * first_page, (every_row, first_page)  # 100 x len(Cause) rows against 200 (with 12 causes: 31 pages, 6)
