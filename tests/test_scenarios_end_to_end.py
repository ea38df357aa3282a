"""The real suite over every crafted scenario: exactly the expected checks fail or warn, the rest pass."""

from __future__ import annotations

import shutil
from pathlib import Path

from casgate.scenarios import SCENARIOS
from tests.conftest import CHECKS, REPO


def test_every_scenario_fails_exactly_its_checks(scenarios_dir: Path, run_suite) -> None:
    hosts = [arg for s in SCENARIOS for arg in ("--host", s.name)]
    run = run_suite(f"--snapshots={scenarios_dir}", *hosts)

    assert run.returncode == 1, run.output
    for scenario in SCENARIOS:
        outcomes = run.outcomes(scenario.name)
        assert len(outcomes) == CHECKS, (scenario.name, outcomes)
        failed = {check for check, outcome in outcomes.items() if outcome == "fail"}
        warned = {check for check, outcome in outcomes.items() if outcome == "warn"}
        others = {outcome for check, outcome in outcomes.items() if check not in failed | warned}
        assert failed == scenario.fails, scenario.name
        assert warned == scenario.warns, scenario.name
        assert others == {"pass"}, (scenario.name, outcomes)


def test_healthy_host_passes_and_exits_zero(scenarios_dir: Path, run_suite) -> None:
    run = run_suite(f"--snapshots={scenarios_dir}", "--host", "healthy")

    assert run.returncode == 0, run.output
    assert set(run.outcomes("healthy").values()) == {"pass"}
    # its IIS log holds a 403.16 from three days before collection: history, not a failure
    [iis_row] = [r for r in run.results if r["check_id"] == "test_certauth_not_rejected_in_iis_logs"]
    assert iis_row["summary"] == "no certauth rejection in the window"
    assert f"GATE PASSED: {CHECKS} of {CHECKS} check(s) judged on 1 host(s)" in run.output


def test_masked_root_store_warns_and_strict_makes_it_fail(scenarios_dir: Path, run_suite) -> None:
    snapshots = f"--snapshots={scenarios_dir}"
    relaxed = run_suite(snapshots, "--host", "cause-1a-masked", "-k", "trust_mode")
    strict = run_suite(snapshots, "--host", "cause-1a-masked", "-k", "trust_mode", "--strict")

    assert relaxed.returncode == 0, relaxed.output
    assert "1 warned" in relaxed.output
    assert "WARN cause-1a-masked [cause 1a]" in relaxed.output
    assert "ClientAuthTrustMode=2" in relaxed.output
    assert strict.returncode == 1, strict.output
    assert "Remove-ItemProperty" in strict.output


def test_bundled_hq01_reproduces_the_kb_incident(run_suite, tmp_path: Path) -> None:
    run = run_suite("--host", "hq01")

    assert run.returncode == 1
    assert run.outcomes("hq01")["test_root_store_is_self_signed"] == "fail"
    assert run.outcomes("hq01")["test_certauth_not_rejected_in_iis_logs"] == "fail"
    [root_row] = [r for r in run.results if r["check_id"] == "test_root_store_is_self_signed"]
    [offender] = root_row["facts"]["not self-signed in Root"]  # one, among the real Windows roots (SHA-1, MD5, MD2-era)
    assert offender.startswith("CN=Corp Issuing CA 01")
    assert len(list((REPO / "snapshots" / "hq01" / "certs" / "root").iterdir())) >= 25
    assert "2148204809 = 0x800B0109 CERT_E_UNTRUSTEDROOT" in run.output
    assert "[cause 1] 10.169.24.139: 3 x 403.16 client certificate untrusted" in run.output
    assert "host evidence supports cause 1a (a certificate in LocalMachine\\Root is not self-signed)" in run.output
    html = (tmp_path / "report.html").read_text()
    assert 'id="casgate-matrix"' in html


def test_runs_without_pytest_xdist_installed(run_suite) -> None:
    """xdist is only in the test extra: the main job must not need it (its marker is registered by casgate)."""
    run = run_suite("--host", "hq01", "-p", "no:xdist")

    assert run.returncode == 1, run.output
    assert len(run.outcomes("hq01")) == CHECKS


def test_several_hosts_in_one_run(scenarios_dir: Path, run_suite) -> None:
    run = run_suite(f"--snapshots={scenarios_dir}", "--host", "healthy", "--host", "cause-2")

    assert {r["host"] for r in run.results} == {"healthy", "cause-2"}
    assert "test_https_binding_matches_keystore[cause-2]" in run.output
    assert "test_https_binding_matches_keystore[healthy]" not in run.output.split("short test summary")[-1]


def test_html_report_has_the_matrix_and_escapes_log_text(scenarios_dir: Path, run_suite, tmp_path: Path) -> None:
    snapshot = tmp_path / "snaps" / "hostile"
    shutil.copytree(scenarios_dir / "cause-2", snapshot)
    with (snapshot / "phone-logs" / "P105709FW16424D2D8B.log").open("a") as log:
        log.write("2026-11-20T05:00:00Z SSL handshake error <script>alert('owned')</script>\r\n")

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "hostile")

    html = (tmp_path / "report.html").read_text()
    assert run.outcomes("hostile")["test_phone_logs_show_no_tls_failure"] == "fail"
    assert "<script>alert('owned')" not in html
    assert "SSL handshake error &lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in html
    assert '<table class="casgate-matrix" id="casgate-matrix">' in html
    assert "<th>hostile</th>" in html and 'class="casgate-fail"' in html
