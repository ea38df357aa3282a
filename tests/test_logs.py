"""IIS W3C logs parsed by #Fields (which change mid-file) and phone logs, with the KB's own lines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from casgate.checks.iis_log import judge_certauth_log
from casgate.phonelog import PhoneSymptom, scan_phone_log
from casgate.regfile import RegistryView, parse_reg
from casgate.snapshot import LogFile
from casgate.verdict import Outcome
from casgate.w3c import Malformed, W3CEntry, scan_w3c
from casgate.window import Window, parse_since

FIELDS = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
KB_LINE = "2016-12-21 15:01:37 10.169.24.10 POST /shoreauth/certauth - 443 - 10.169.24.139 Mozilla/5.0 - 403 16 2148204809 730"
KB_PHONE_LINE = (
    "2018-12-03T10:40:16.156-07:00 P105709FW16424D2D8B p8[240]: 342246.5 pri 0000,sl 01165,sf src/networkaccessmanager.cpp,"
    "msg [0x45bff490] NetworkAccessManager::handleRequestFinished: ERROR ON REPLY qreply (0x156a980), reply (0x169f010), "
    "id (0x15), cancelled (0): on url: https://example.fqdn.com/shoreauth/certauth, error code = 3, Host not found"
)


def test_fields_directive_change_mid_file_is_honoured() -> None:
    lines = [FIELDS, KB_LINE, "#Fields: date time c-ip cs-uri-stem sc-status sc-substatus", "2016-12-21 15:02:00 10.0.0.9 /shoreauth/certauth 403 7"]

    entries = list(scan_w3c(lines, "u_ex161221.log"))

    assert [type(e) for e in entries] == [W3CEntry, W3CEntry]
    assert entries[0].get("sc-win32-status") == "2148204809" and entries[0].line == 2
    assert entries[1].get("c-ip") == "10.0.0.9" and entries[1].get("sc-substatus") == "7"
    assert entries[1].time == datetime(2016, 12, 21, 15, 2, tzinfo=timezone.utc)


def test_the_kbs_copied_40316_line_is_malformed_not_guessed() -> None:
    copied = KB_LINE.replace("403 16", "40316")

    entries = list(scan_w3c([FIELDS, copied], "u_ex.log"))

    assert entries == [Malformed("u_ex.log", 2, "14 values where #Fields: names 15")]


def test_entry_before_fields_and_needle_filtering() -> None:
    entries = list(scan_w3c([KB_LINE, FIELDS, "2016-12-21 15:01:37 10.169.24.10 GET /other - 443 - x y - 200 0 0 1"], "l", needle="CERTAUTH"))

    assert entries == [Malformed("l", 1, "entry before any #Fields: directive")]


def _log(tmp_path: Path, *lines: str) -> LogFile:
    path = tmp_path / "u_ex161221.log"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return LogFile("iis/logs/u_ex161221.log", path)


def _registry(**values: int) -> RegistryView:
    view = RegistryView()
    body = "".join(f'"{k}"=dword:{v:08x}\n' for k, v in values.items())
    parse_reg(f"Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL]\n{body}", "r.reg", view)
    return view


def test_window_boundary_counts_lines_at_its_start_and_mentions_older_ones(tmp_path: Path) -> None:
    end = datetime(2016, 12, 21, 15, 1, 37, tzinfo=timezone.utc) + timedelta(hours=24)
    older = KB_LINE.replace("15:01:37", "15:01:36")
    log = _log(tmp_path, FIELDS, older, KB_LINE)

    verdict = judge_certauth_log([log], _registry(), Window.before(end, parse_since("24h")))

    assert verdict.outcome is Outcome.FAIL
    assert "10.169.24.139: 1 x certauth 403, first 2016-12-21 15:01:37Z, last 2016-12-21 15:01:37Z" in verdict.evidence
    assert any("older than the window (not counted): 1 x certauth 403" in line for line in verdict.evidence)


def test_repaired_server_passes_on_old_lines(tmp_path: Path) -> None:
    end = datetime(2016, 12, 25, tzinfo=timezone.utc)

    verdict = judge_certauth_log([_log(tmp_path, FIELDS, KB_LINE)], _registry(), Window.before(end, parse_since("24h")))

    assert verdict.outcome is Outcome.PASS


def test_403_7_counts_only_in_trust_list_mode(tmp_path: Path) -> None:
    line = KB_LINE.replace("403 16 2148204809", "403 7 0")
    log = _log(tmp_path, FIELDS, line)
    window = Window.before(datetime(2016, 12, 21, 16, tzinfo=timezone.utc), parse_since("1h"))

    plain = judge_certauth_log([log], _registry(), window)
    trust_list = judge_certauth_log([log], _registry(SendTrustedIssuerList=1), window)

    assert plain.outcome is Outcome.PASS
    assert trust_list.outcome is Outcome.FAIL
    assert "SendTrustedIssuerList -Value 0" in trust_list.remediation


def test_malformed_certauth_line_alone_warns(tmp_path: Path) -> None:
    log = _log(tmp_path, FIELDS, KB_LINE.replace("403 16", "40316"))

    verdict = judge_certauth_log([log], _registry(), Window.before(datetime(2016, 12, 22, tzinfo=timezone.utc), parse_since("1d")))

    assert verdict.outcome is Outcome.WARN
    assert "malformed certauth line (not judged): iis/logs/u_ex161221.log:2: 14 values where #Fields: names 15" in verdict.evidence


def test_kb_phone_line_is_host_not_found_with_the_fqdn() -> None:
    hits = list(scan_phone_log(["2018-12-03T10:40:15.000-07:00 ordinary line", KB_PHONE_LINE], "phone.log"))

    assert len(hits) == 1
    assert hits[0].symptom is PhoneSymptom.HOST_NOT_FOUND
    assert hits[0].fqdn == "example.fqdn.com" and hits[0].line == 2
    assert hits[0].time == datetime(2018, 12, 3, 17, 40, 16, 156000, tzinfo=timezone.utc)


def test_tls_failure_lines() -> None:
    hits = list(scan_phone_log(["x SSL handshake error", "y Certificate Authority Invalid", "z fine"], "p.log"))

    assert [h.symptom for h in hits] == [PhoneSymptom.TLS_FAILURE] * 2
    assert hits[0].time is None
