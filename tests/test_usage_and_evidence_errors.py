"""Usage errors and unusable evidence: a clear message naming the file, never a pass, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_no_host_is_a_usage_error_naming_the_bundled_hosts(run_suite) -> None:
    run = run_suite()

    assert run.returncode == 2
    assert "no host selected: run `pytest --host NAME` (bundled snapshots: hq01, hq01-after, hq01-before)" in run.output


def test_unknown_host_is_a_usage_error_naming_the_known_ones(run_suite) -> None:
    run = run_suite("--host", "hq99")

    assert run.returncode == 2
    assert "unknown host 'hq99'" in run.output and "known hosts: hq01" in run.output
    assert "Traceback" not in run.output


def test_an_unknown_host_among_a_fleet_lists_twenty_known_ones(run_suite, tmp_path: Path) -> None:
    for n in range(25):
        shutil.copytree(REPO / "snapshots" / "hq01", tmp_path / f"hq{n:03}")
    run = run_suite(f"--snapshots={tmp_path}", "--host", "hq25")

    assert run.returncode == 2
    assert "(known hosts: hq000, hq001, " in run.output and "hq019, and 5 more (casgate hosts lists them))" in run.output
    assert "hq020" not in run.output


@pytest.mark.parametrize("option", ["--snapshots", "--inventory", "--host", "--waivers", "--baseline"])
def test_a_path_option_given_with_a_space_never_runs_the_wrong_tests(run_suite, tmp_path: Path, option: str) -> None:
    """pytest picks its root folder before casgate's options are known: a separate path value must be caught."""
    (tmp_path / "test_wrong.py").write_text("def test_wrong():\n    pass\n")  # what pytest would otherwise run
    (tmp_path / "inventory.toml").write_text("")
    value = str(tmp_path / "inventory.toml") if option == "--inventory" else str(tmp_path)

    run = run_suite(option, value, *(["--host", "hq01"] if option != "--host" else []))

    assert run.returncode == 2 and "test_wrong" not in run.output
    assert f"pytest took the value of {option} for a folder of tests" in run.output and f"write {option}=VALUE" in run.output


def test_bad_since_is_a_usage_error(run_suite) -> None:
    run = run_suite("--host", "hq01", "--since", "yesterday")

    assert run.returncode == 2
    assert "--since 'yesterday'" in run.output


@pytest.mark.parametrize(("option", "value", "said"), [
    ("casgate_clock_skew_seconds", "0", "give a whole number of seconds, 1 to 86400"),
    ("casgate_clock_skew_seconds", "5m", "give a whole number of seconds, 1 to 86400"),
    ("casgate_expiry_warning_days", "-1", "give a whole number of days, 0 to 3650"),
])
def test_a_bad_threshold_in_the_ini_is_a_usage_error(run_suite, option: str, value: str, said: str) -> None:
    run = run_suite("--host", "hq01", "-o", f"{option}={value}")

    assert run.returncode == 2
    assert f"{option} = {value!r}: {said}" in run.output


def test_report_goes_to_reports_folder_by_default(run_suite) -> None:
    before = set((REPO / "reports").glob("casgate-*.html"))
    run = run_suite("--host", "hq01", "--html=")
    created = set((REPO / "reports").glob("casgate-*.html")) - before
    for path in created:
        path.unlink()

    assert len(created) == 1, run.output
    assert f"report: {next(iter(created)).relative_to(REPO)} (cards: evidence and fixes)" in run.output


def _broken(scenarios_dir: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / "snapshots" / name
    shutil.copytree(scenarios_dir / "healthy", copy)
    return copy


@pytest.mark.parametrize(
    ("damage", "checks", "message"),
    [
        (lambda s: (s / "keystore" / "server.crt").unlink(),
         {"test_https_binding_matches_keystore", "test_served_certificate_is_valid", "test_server_crt_chains_to_keystore_ca",
          "test_certificate_served_on_443_is_server_crt"},
         "keystore/server.crt: is missing"),
        (lambda s: (s / "keystore" / "server.key").write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"),
         {"test_https_binding_matches_keystore", "test_mitel_root_ca_is_trusted", "test_served_certificate_is_valid",
          "test_mitel_root_ca_is_current", "test_server_crt_chains_to_keystore_ca", "test_certificate_served_on_443_is_server_crt"},
         "keystore/server.key: contains a private key; casgate never reads private keys"),
        (lambda s: (s / "certs" / "root" / "junk.cer").write_bytes(b"not a certificate"),
         {"test_root_store_is_self_signed", "test_mitel_root_ca_is_current"},
         "certs/root/junk.cer (thumbprint 34491FE877745149646CE28C6B98961E9124390B): cryptography cannot load it"),
        (lambda s: (s / "iis" / "bindings.json").write_text("{not json"),
         {"test_https_binding_matches_keystore", "test_served_certificate_is_valid", "test_served_certificate_names_hq_fqdn"},
         "iis/bindings.json: is not valid JSON (line 1, column 2"),
        (lambda s: (s / "registry" / "schannel.reg").write_text("Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\ngarbage\n"),
         {"test_trust_mode_workaround_absent", "test_certauth_not_rejected_in_iis_logs", "test_tls10_enabled", "test_phone_cipher_profile_accepted",
          "test_trusted_issuer_list_fits", "test_certauth_not_refused_on_revocation"},
         "registry/schannel.reg: line 4: not a key or value line"),
        (lambda s: shutil.rmtree(s / "iis" / "logs"), {"test_certauth_not_rejected_in_iis_logs", "test_certauth_not_refused_on_revocation"},
         "iis/logs/: folder is missing"),
        (lambda s: (s / "probes" / "dns.json").write_text('{"fqdn": "hq.example.com"}'), {"test_fqdn_resolves_to_hq"},
         "probes/dns.json: field 'servers' is missing"),
        (lambda s: (s / "probes" / "tls.json").unlink(), {"test_tls10_enabled", "test_phone_cipher_profile_accepted",
                                                        "test_certificate_served_on_443_is_server_crt"}, "probes/tls.json: is missing"),
    ],
    ids=["no-server-crt", "private-key-elsewhere", "junk-root-cert", "bad-bindings-json", "bad-reg", "no-iis-logs", "dns-no-servers", "no-tls-probe"],
)
def test_unusable_evidence_errors_only_the_checks_that_need_it(scenarios_dir, tmp_path, run_suite, damage, checks, message) -> None:
    snapshot = _broken(scenarios_dir, tmp_path, "broken")
    damage(snapshot)

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "broken")

    outcomes = run.outcomes("broken")
    assert {c for c, o in outcomes.items() if o == "error"} == checks
    assert {o for c, o in outcomes.items() if c not in checks} == {"pass"}
    assert "Traceback" not in run.output
    assert message in run.output
    assert run.returncode == 3  # could not collect: not "collected and failed"


def test_private_key_in_keystore_is_refused(scenarios_dir, tmp_path, run_suite) -> None:
    snapshot = _broken(scenarios_dir, tmp_path, "keyed")
    (snapshot / "keystore" / "server.crt").write_text("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n")

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "keyed")

    assert run.outcomes("keyed")["test_https_binding_matches_keystore"] == "error"
    assert "keystore/server.crt: contains a private key; casgate never reads private keys" in run.output


def test_missing_phone_logs_skip_with_reason(scenarios_dir, tmp_path, run_suite) -> None:
    snapshot = _broken(scenarios_dir, tmp_path, "nophones")
    shutil.rmtree(snapshot / "phone-logs")
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["collected"].remove("phone-logs/")  # optional only when the manifest does not claim it (tests/test_windows_semantics.py)
    (snapshot / "manifest.json").write_text(json.dumps(manifest))

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "nophones", "-rs")

    assert run.returncode == 0
    assert run.outcomes("nophones")["test_phone_logs_show_no_host_not_found"] == "skip"
    assert "no phone logs in this snapshot (phone-logs/ is optional evidence)" in run.output


def test_corrupt_manifest_errors_every_check_that_needs_it(scenarios_dir, tmp_path, run_suite) -> None:
    snapshot = _broken(scenarios_dir, tmp_path, "nomanifest")
    (snapshot / "manifest.json").write_text('{"host": "x"}')

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "nomanifest")

    assert run.returncode == 3
    assert "manifest.json: field 'source' is missing" in run.output
    assert "Traceback" not in run.output


def test_since_takes_a_date_as_well_as_a_duration(run_suite) -> None:
    inside = run_suite("--host", "hq01", "-k", "iis_logs", "--since", "2016-12-21")
    after = run_suite("--host", "hq01", "-k", "iis_logs", "--since", "2016-12-21T15:02:00Z")

    assert inside.outcomes("hq01") == {"test_certauth_not_rejected_in_iis_logs": "fail"}
    assert after.outcomes("hq01") == {"test_certauth_not_rejected_in_iis_logs": "pass"}
    assert after.returncode == 0 and after.results[0]["summary"] == "no certauth rejection in the window"
