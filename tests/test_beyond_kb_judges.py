"""The judges of X7-X9 on real specimens and their edges: IIS's sslFlags as config files, Get-WebConfigurationProperty
and its number write them (tests/realworld/iis-config, provenance in its corpus.toml); the clock's margin; 403.13 in
real IIS log lines and `netsh http show sslcert` as Windows prints it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from casgate.checks.client_cert import judge_client_cert_policy
from casgate.checks.clock import judge_clock
from casgate.checks.iis_log import judge_certauth_log, scan_certauth
from casgate.checks.revocation import OFFLINE_REMEDIATION, judge_revocation, revocation_settings
from casgate.errors import CasgateError, EvidenceError
from casgate.evidence import AccessPolicy, ClockReading, parse_sslcert
from casgate.snapshot import LogFile
from casgate.tomlfile import read_toml
from casgate.verdict import Outcome
from tests.test_logs import DAY, FIELDS, _registry

CORPUS = Path(__file__).parent / "realworld" / "iis-config"
ENTRIES = read_toml(CORPUS / "corpus.toml", "corpus", CasgateError)
AT = datetime(2026, 11, 20, 6, tzinfo=timezone.utc)


def _access(value: str | int) -> AccessPolicy:
    return AccessPolicy.parse({"location": "Default Web Site/shoreauth", "sslFlags": value}, "iis/access.json")


@pytest.mark.parametrize("entry", ENTRIES["ssl_flags"], ids=[e["value"] for e in ENTRIES["ssl_flags"]])
def test_real_ssl_flags_values_are_read_as_iis_reads_them(entry: dict) -> None:
    verdict = judge_client_cert_policy(_access(entry["value"]))

    assert _access(entry["value"]).flags == set(entry["flags"])
    assert (verdict.outcome is Outcome.PASS) is entry["asks"]


@pytest.mark.parametrize(("value", "flags"), [
    ("Ssl,SslNegotiateCert", {"Ssl", "SslNegotiateCert"}),  # Get-WebConfigurationProperty's string
    (40, {"Ssl", "SslNegotiateCert"}), ("104", {"Ssl", "SslNegotiateCert", "SslRequireCert"}),  # a ConfigurationAttribute's Value
    ("None", set()), ("0", set()), ("ssl, sslnegotiatecert", {"Ssl", "SslNegotiateCert"}),
])
def test_ssl_flags_in_every_form_the_collector_may_meet(value: str | int, flags: set[str]) -> None:
    assert _access(value).flags == flags


@pytest.mark.parametrize(("value", "error"), [
    ("", "is not a list of IIS's flags"), ("Ssl, SslNegotiateCertificate", "is not a list of IIS's flags"),
    ("Ssl,,SslNegotiateCert", "is not a list of IIS's flags"), ("None, Ssl", "says None beside other flags"),
    ("1", r"bits IIS does not define \(0x1\)"), ("Microsoft.IIs.PowerShell.Framework.ConfigurationAttribute", "not a list"),
])
def test_ssl_flags_casgate_cannot_read_are_errors_naming_the_file(value: str, error: str) -> None:
    with pytest.raises(EvidenceError, match=f"iis/access.json: sslFlags .*{error}"):
        _access(value)


@pytest.mark.parametrize("value", ["Ssl", "None", "Ssl, Ssl128", "SslMapCert"])
def test_iis_that_never_asks_for_the_certificate_fails_x7_with_a_backed_up_fix(value: str) -> None:
    verdict = judge_client_cert_policy(_access(value))

    assert verdict.outcome is Outcome.FAIL and "never reaches certauth" in verdict.summary
    assert verdict.remediation.index("Backup-WebConfiguration") < verdict.remediation.index("Set-WebConfigurationProperty")
    assert "-Location 'Default Web Site/shoreauth'" in verdict.remediation


@pytest.mark.parametrize("location", ["Default Web Site", "Default Web Site/director", "", "x"])
def test_sslflags_of_another_location_are_not_evidence_for_shoreauth(location: str) -> None:
    access = AccessPolicy.parse({"location": location, "sslFlags": "Ssl, SslNegotiateCert"}, "iis/access.json")

    with pytest.raises(EvidenceError, match=f"iis/access.json: describes {location!r}, not 'Default Web Site/shoreauth'"):
        judge_client_cert_policy(access)
    assert judge_client_cert_policy(_access("Ssl, SslNegotiateCert")).outcome is Outcome.PASS
    assert judge_client_cert_policy(AccessPolicy("default web site/SHOREAUTH/", frozenset({"SslNegotiateCert"}), "32")).outcome is Outcome.PASS


def _reading(skew: float, round_trip: float = 0.4) -> ClockReading:
    return ClockReading(AT + timedelta(seconds=round_trip / 2 + skew), AT, AT + timedelta(seconds=round_trip))


@pytest.mark.parametrize(("skew", "round_trip", "outcome"), [
    (0, 0.4, Outcome.PASS), (299, 0.4, Outcome.PASS), (-299, 0.4, Outcome.PASS),
    (301, 0.4, Outcome.FAIL), (-7200, 0.4, Outcome.FAIL),
    (250, 120, Outcome.WARN),  # within the limit at the midpoint, but the round trip took two minutes: cannot tell
    (400, 120, Outcome.FAIL),  # even at the round trip's far end, 340 s off
])
def test_clock_skew_counts_the_round_trip_as_its_margin(skew: float, round_trip: float, outcome: Outcome) -> None:
    verdict = judge_clock(_reading(skew, round_trip), 300)

    assert verdict.outcome is outcome, verdict.summary
    assert ("ahead of" if skew > 0 else "behind") in verdict.evidence[1]


def test_clock_reading_with_the_runner_readings_out_of_order_is_an_error() -> None:
    with pytest.raises(EvidenceError, match="runner_after_utc is before runner_before_utc"):
        ClockReading.parse({"server_utc": "2026-11-20T06:00:00Z", "runner_before_utc": "2026-11-20T06:00:02Z",
                            "runner_after_utc": "2026-11-20T06:00:01Z"}, "host/clock.json")
    with pytest.raises(EvidenceError, match="server_utc '0001-01-01T00:00:00Z' is outside 1990..2099"):
        ClockReading.parse({"server_utc": "0001-01-01T00:00:00Z", "runner_before_utc": "2026-11-20T06:00:00Z",
                            "runner_after_utc": "2026-11-20T06:00:01Z"}, "host/clock.json")


@pytest.mark.parametrize("entry", ENTRIES["sslcert"], ids=[e["file"] for e in ENTRIES["sslcert"]])
def test_real_netsh_sslcert_output_gives_the_bindings_revocation_setting(entry: dict) -> None:
    bindings = parse_sslcert((CORPUS / entry["file"]).read_text(encoding="utf-8"))

    assert list(bindings) == [entry["binding"]]
    assert bindings[entry["binding"]]["Verify Client Certificate Revocation"] == entry["revocation"]
    assert bindings[entry["binding"]]["Certificate Store Name"] == "MY"


def test_revocation_settings_name_only_the_bindings_on_443() -> None:
    real = (CORPUS / "nbstrat-sslcert-revocation-enabled.txt").read_text(encoding="utf-8")

    assert revocation_settings(None, real) == ("iis/state.json: netsh shows no SSL binding on port 443",)  # it is on 44307
    on_443 = real.replace("0.0.0.0:44307", "0.0.0.0:443")
    assert revocation_settings(None, on_443) == ("netsh http show sslcert, IP:port 0.0.0.0:443: Verify Client Certificate Revocation = Enabled",)
    assert "not known" in revocation_settings(None, None)[0]


# A real 403.16 line of the KB with its status changed to what IIS logs when the revocation check fails.
LINE = "2016-12-21 15:01:37 10.169.24.10 POST /shoreauth/certauth - 443 - 10.169.24.139 Mozilla/5.0 - 403 13 {win32} 730"


def _logs(tmp_path: Path, *lines: str) -> list[LogFile]:
    path = tmp_path / "u_ex161221.log"
    path.write_text("\r\n".join(["#Software: Microsoft Internet Information Services 8.5", FIELDS, *lines]) + "\r\n")
    return [LogFile("iis/logs/u_ex161221.log", path)]


@pytest.mark.parametrize(("win32", "said", "fix"), [
    ("2148081683", "could not check revocation of", "netsh winhttp show proxy"),  # CRYPT_E_REVOCATION_OFFLINE
    ("2148081682", "could not check revocation of", "verifyclientcertrevocation=disable"),  # CRYPT_E_NO_REVOCATION_CHECK
    ("2148204812", "found revoked", "re-issue its certificate"),  # CERT_E_REVOKED
])
def test_403_13_fails_x9_not_cause_1(tmp_path: Path, win32: str, said: str, fix: str) -> None:
    logs = _logs(tmp_path, LINE.format(win32=win32))

    scan = scan_certauth(logs, _registry(), DAY)
    revocation = judge_revocation(scan, DAY, None, None)
    cause_1 = judge_certauth_log(scan, DAY, "hint")

    assert revocation.outcome is Outcome.FAIL and said in revocation.summary and fix in revocation.remediation
    assert any("[cause X9] 10.169.24.139: 1 x 403.13" in line for line in revocation.evidence)
    assert cause_1.outcome is Outcome.PASS  # one symptom, one cause


def test_the_binding_is_backed_up_before_it_is_deleted() -> None:
    assert OFFLINE_REMEDIATION.index("Out-File") < OFFLINE_REMEDIATION.index("netsh http delete sslcert")


def test_x9_passes_only_on_logs_it_read(tmp_path: Path) -> None:
    clean = judge_revocation(scan_certauth(_logs(tmp_path, LINE.format(win32="0").replace("403 13", "200 0")), _registry(), DAY), DAY, None, None)
    assert clean.outcome is Outcome.PASS and "1 certauth line(s) read" in clean.evidence[0]

    (tmp_path / "u_ex161221.log").write_bytes(b"\x00\x01binary\xff" * 100)
    with pytest.raises(EvidenceError, match="cannot conclude 'no certauth 403.13'"):
        judge_revocation(scan_certauth([LogFile("iis/logs/u_ex161221.log", tmp_path / "u_ex161221.log")], _registry(), DAY), DAY, None, None)
