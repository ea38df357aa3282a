"""Log forensics on real-shaped logs: #Fields changes, CRLF, truncated last lines, gzip and zip, several sites and
rotated files; exact counts and first/last times; every symptom attributed; both search backends identical."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from casgate.checks.iis_log import judge_certauth_log, scan_certauth
from casgate.errors import EvidenceError
from casgate.logs import _search, iis, phone, sources
from casgate.logs._lines import LineCounter
from casgate.logs.attribution import Attribution
from casgate.regfile import RegistryView, parse_reg
from casgate.snapshot import LogFile
from casgate.verdict import Outcome
from casgate.window import Window, parse_since
from tests.conftest import REPO

FIELDS = ("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
          "cs(Referer) sc-status sc-substatus sc-win32-status time-taken")
FIELDS_REORDERED = "#Fields: time date c-ip cs-uri-stem sc-status sc-substatus sc-win32-status"
KB_LINE = "2016-12-21 15:01:37 10.169.24.10 POST /shoreauth/certauth - 443 - 10.169.24.139 Mozilla/5.0 - 403 16 2148204809 730"
DAY = Window.before(datetime(2016, 12, 22, tzinfo=timezone.utc), parse_since("1d"))  # the KB's incident day, to its end
KB_PHONE_LINE = (
    "2018-12-03T10:40:16.156-07:00 P105709FW16424D2D8B p8[240]: 342246.5 pri 0000,sl 01165,sf src/networkaccessmanager.cpp,"
    "msg [0x45bff490] NetworkAccessManager::handleRequestFinished: ERROR ON REPLY qreply (0x156a980), reply (0x169f010), "
    "id (0x15), cancelled (0): on url: https://example.fqdn.com/shoreauth/certauth, error code = 3, Host not found"
)


@pytest.fixture(params=["stringzilla", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the SIMD search and with the pure-Python fallback."""
    if request.param == "python":
        monkeypatch.setattr(_search, "_sz", None)
    elif _search._sz is None:
        pytest.fail("stringzilla is not installed: install the test extra")
    return request.param


def _write(path: Path, *lines: str, end: str = "\r\n", last_newline: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = end.join(lines) + (end if last_newline else "")
    path.write_bytes(text.encode())
    return path


def _scan(path: Path, wants_all: bool = True) -> list[iis.Entry | iis.Malformed]:
    [(label, blocks)] = list(sources.log_files(path, path.name))
    return list(iis.scan_file(label, blocks(), lambda e: wants_all))


def test_fields_change_mid_file_with_line_numbers(tmp_path: Path, backend: str) -> None:
    log = _write(tmp_path / "u_ex161221.log", "#Software: Microsoft Internet Information Services 8.5", FIELDS, KB_LINE,
                 "2016-12-21 15:01:38 10.169.24.10 GET /director/ - 443 - 10.1.1.1 x - 200 0 0 1",
                 FIELDS_REORDERED, "15:02:00 2016-12-21 10.0.0.9 /shoreauth/certauth 403 7 0")

    entries = _scan(log)

    assert [(e.line, e.get("c-ip"), e.get("sc-substatus")) for e in entries] == [(3, "10.169.24.139", "16"), (6, "10.0.0.9", "7")]
    assert entries[1].time == datetime(2016, 12, 21, 15, 2, tzinfo=timezone.utc)


def test_date_directive_supplies_a_missing_date_field(tmp_path: Path, backend: str) -> None:
    log = _write(tmp_path / "u_ex.log", "#Date: 2016-12-21 00:00:00", "#Fields: time c-ip cs-uri-stem sc-status sc-substatus",
                 "15:01:37 10.0.0.1 /shoreauth/certauth 403 16")

    [entry] = _scan(log)

    assert entry.time == datetime(2016, 12, 21, 15, 1, 37, tzinfo=timezone.utc)


def test_the_kbs_copied_40316_line_and_a_truncated_last_line_are_malformed(tmp_path: Path, backend: str) -> None:
    log = _write(tmp_path / "u_ex.log", FIELDS, KB_LINE.replace("403 16", "40316"), KB_LINE, KB_LINE[:60], last_newline=False)

    items = _scan(log)

    assert items[0] == iis.Malformed("u_ex.log", 2, "14 values where the #Fields: at u_ex.log:1 names 15")
    assert isinstance(items[1], iis.Entry) and items[1].line == 3
    assert items[2] == iis.Malformed("u_ex.log", 4, "last line cut short (log still being written?): 7 values where the #Fields: at u_ex.log:1 names 15")
    assert items[2].partial and not items[0].partial


def test_directives_are_cited_by_their_own_line_numbers_counted_on_demand(tmp_path: Path, backend: str) -> None:
    lacking = "#Fields: date time c-ip cs-uri-stem sc-status"  # no sc-substatus: a 403 on certauth cannot be judged
    log = _write(tmp_path / "u_ex.log", "#Software: Microsoft Internet Information Services 10.0", FIELDS,
                 KB_LINE.replace("403 16", "40316"), lacking, "2016-12-21 15:02:00 10.0.0.1 /shoreauth/certauth",
                 "2016-12-21 15:03:00 10.0.0.1 /director/ 200", "2016-12-21 15:04:00 10.0.0.1 /shoreauth/certauth 403")
    attribution = Attribution()

    attribution.add_iis("u_ex.log", log)

    # a directive's line is counted only when a message cites it: #Fields at 2 and 4 here, after line 3 was counted
    assert attribution.problems() == ["1 certauth line(s) not judged: the #Fields: at u_ex.log:4 lacks sc-substatus",
                                      "malformed: u_ex.log:3: 14 values where the #Fields: at u_ex.log:2 names 15",
                                      "malformed: u_ex.log:5: 4 values where the #Fields: at u_ex.log:4 names 5"]


def test_line_numbers_asked_in_any_order_within_a_block() -> None:
    data = b"".join(b"x" * (i % 5) + b"\n" for i in range(200))
    hay = _search.Haystack.of_bytes(data)
    counter = LineCounter(base=10)
    counter.enter(hay)
    offsets = [data.find(b"\n", 0, n) + 1 if n else 0 for n in range(0, len(data), 37)]

    for offset in offsets[::3] + offsets[::-1] + offsets[1::2]:
        assert counter.line_of(offset) == 10 + data.count(b"\n", 0, offset) + 1


def test_entry_before_any_fields_directive(tmp_path: Path, backend: str) -> None:
    assert _scan(_write(tmp_path / "u_ex.log", KB_LINE, FIELDS)) == [iis.Malformed("u_ex.log", 1, "entry before any #Fields: directive")]


def _site_logs(root: Path) -> Path:
    """Two sites, rotated daily files, one gzipped and one zipped day, CRLF, a #Fields change."""
    w3svc1, w3svc2 = root / "W3SVC1", root / "W3SVC2"
    _write(w3svc1 / "u_ex161220.log", FIELDS, KB_LINE.replace("2016-12-21 15:01:37", "2016-12-20 09:00:00"))
    _write(w3svc1 / "u_ex161221.log", FIELDS, KB_LINE, KB_LINE.replace("15:01:37", "15:05:00").replace(".139", ".140"),
           FIELDS_REORDERED, "15:10:00 2016-12-21 10.169.24.139 /shoreauth/certauth 403 16 2148204809")
    w3svc2.mkdir(parents=True)
    day = "\r\n".join([FIELDS, KB_LINE.replace("15:01:37", "16:00:00"), KB_LINE.replace("15:01:37", "16:30:00")]) + "\r\n"
    with gzip.open(w3svc2 / "u_ex161221.log.gz", "wb") as handle:
        handle.write(day.encode())
    with zipfile.ZipFile(w3svc2 / "older.zip", "w") as archive:
        archive.writestr("u_ex161219.log", day.replace("2016-12-21", "2016-12-19"))
    return root


def test_several_sites_rotated_gzip_and_zip_exact_counts(tmp_path: Path, backend: str) -> None:
    attribution = Attribution(window_start=datetime(2016, 12, 21, tzinfo=timezone.utc), trust_list_mode=False)
    attribution.add_iis("logs/", _site_logs(tmp_path / "logs"))

    [f139, f140] = sorted(attribution.findings(), key=lambda f: f.phone)
    assert (f139.phone, f139.count, f139.first, f139.last) == (
        "10.169.24.139", 4, datetime(2016, 12, 21, 15, 1, 37, tzinfo=timezone.utc), datetime(2016, 12, 21, 16, 30, tzinfo=timezone.utc))
    assert f139.cause == "1" and "0x800B0109 CERT_E_UNTRUSTEDROOT" in f139.symptom
    assert (f140.count, f140.samples) == (1, [f"logs/W3SVC1/u_ex161221.log:3: {KB_LINE.replace('15:01:37', '15:05:00').replace('.139', '.140')}"])
    assert [s.split(": ", 1)[0] for s in f139.samples] == [
        "logs/W3SVC1/u_ex161221.log:2", "logs/W3SVC1/u_ex161221.log:5", "logs/W3SVC2/u_ex161221.log.gz:2"]
    [old] = attribution.history_findings()
    assert old.count == 3  # one on the 20th, two in the zipped 19th
    assert attribution.files == 4


def test_block_boundaries_keep_line_numbers_and_results(tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [FIELDS] + [KB_LINE.replace("10.169.24.139", f"10.0.{i // 250}.{i % 250}") if i % 7 == 0 else
                        "2016-12-21 15:01:37 10.169.24.10 GET /director/ - 443 - 10.1.1.1 x - 200 0 0 1" for i in range(400)]
    plain = _write(tmp_path / "u_ex.log", *lines)
    gz = tmp_path / "u_ex.log.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    monkeypatch.setattr(sources, "BLOCK", 97)  # many tiny blocks: lines straddle every boundary

    def cites(path: Path) -> list[str]:
        return [f"{e.line}:{e.text}" for e in _scan(path) if isinstance(e, iis.Entry)]

    assert cites(gz) == cites(plain)
    assert cites(plain)[1].startswith("9:")  # line 1 is #Fields, entry i=7 is line 9


def test_every_certauth_rejection_is_named(tmp_path: Path, backend: str) -> None:
    log = _write(tmp_path / "u_ex.log", FIELDS, *[KB_LINE.replace("403 16 2148204809", s) for s in
                                                  ("403 7 0", "403 13 2148204812", "403 17 2148204801", "200 0 0")])
    for trust_list_mode, expected in ((True, 3), (False, 2), (None, 3)):
        attribution = Attribution(trust_list_mode=trust_list_mode)
        attribution.add_iis("", log)
        symptoms = {f.symptom: f.cause for f in attribution.findings()}
        assert len(symptoms) == expected
    assert symptoms["403.13 client certificate revoked or its revocation not checkable (2148204812 = 0x800B010C CERT_E_REVOKED)"] == "X9"
    assert symptoms["403.17 client certificate expired or not yet valid (2148204801 = 0x800B0101 CERT_E_EXPIRED)"] == "-"
    assert symptoms["403.7 client certificate required (SendTrustedIssuerList=1)"] == "1?"


def _registry(**values: int) -> RegistryView:
    view = RegistryView()
    body = "".join(f'"{k}"=dword:{v:08x}\n' for k, v in values.items())
    parse_reg(f"Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL]\n{body}", "r.reg", view)
    return view


def test_window_boundary_counts_lines_at_its_start_and_mentions_older_ones(tmp_path: Path, backend: str) -> None:
    end = datetime(2016, 12, 22, 15, 1, 37, tzinfo=timezone.utc)
    log = LogFile("iis/logs/u_ex161221.log", _write(tmp_path / "u_ex161221.log", FIELDS, KB_LINE.replace("15:01:37", "15:01:36"), KB_LINE))

    window = Window.before(end, parse_since("24h"))
    verdict = judge_certauth_log(scan_certauth([log], _registry(), window), window, "hint")

    assert verdict.outcome is Outcome.FAIL
    assert verdict.evidence[0].startswith("[cause 1] 10.169.24.139: 1 x 403.16 client certificate untrusted")
    assert verdict.evidence[0].endswith("first 2016-12-21 15:01:37Z, last 2016-12-21 15:01:37Z")
    assert "older than the window (not counted): 1 line(s) from 1 phone(s), last 2016-12-21 15:01:36Z" in verdict.evidence


def test_repaired_server_passes_and_403_7_needs_trust_list_mode(tmp_path: Path, backend: str) -> None:
    log = LogFile("u_ex.log", _write(tmp_path / "u_ex.log", FIELDS, KB_LINE, KB_LINE.replace("403 16 2148204809", "403 7 0")))
    later = Window.before(datetime(2016, 12, 25, tzinfo=timezone.utc), parse_since("24h"))
    now = Window.before(datetime(2016, 12, 21, 16, tzinfo=timezone.utc), parse_since("1h"))

    assert judge_certauth_log(scan_certauth([log], _registry(), later), later, "hint").outcome is Outcome.PASS
    trust_list = judge_certauth_log(scan_certauth([log], _registry(SendTrustedIssuerList=1), now), now, "hint")
    assert "403.7 client certificate required" in "\n".join(trust_list.evidence)
    assert "SendTrustedIssuerList -Value 0" in trust_list.remediation


def test_malformed_certauth_line_alone_is_not_judged(tmp_path: Path, backend: str) -> None:
    log = LogFile("iis/logs/u_ex.log", _write(tmp_path / "u_ex.log", FIELDS, KB_LINE.replace("403 16", "40316")))

    with pytest.raises(EvidenceError, match=r"iis/logs/: cannot conclude 'no certauth rejection': malformed: iis/logs/u_ex.log:2: "
                                            r"14 values where the #Fields: at iis/logs/u_ex.log:1 names 15"):
        judge_certauth_log(scan_certauth([log], _registry(), DAY), DAY, "h")


def test_a_certauth_line_cut_short_at_the_end_only_warns(tmp_path: Path, backend: str) -> None:
    log = LogFile("iis/logs/u_ex.log", _write(tmp_path / "u_ex.log", FIELDS, KB_LINE[:70], last_newline=False))

    verdict = judge_certauth_log(scan_certauth([log], _registry(), DAY), DAY, "h")

    assert verdict.outcome is Outcome.WARN and "cut short" in verdict.summary


def test_phone_symptoms_from_the_kb_line_and_tls_lines(tmp_path: Path, backend: str) -> None:
    log = _write(tmp_path / "phone.log", "2018-12-03T10:40:15.000-07:00 ordinary line", KB_PHONE_LINE,
                 "2018-12-03T10:41:00Z 00:10:49:1A:2B:3C sslErrors: SSL handshake error", "x Certificate Authority Invalid",
                 "2018-12-03T10:42:00Z reply on url: https://hq/shoreauth/certauth, error code = 6, SSL handshake failed", end="\n")
    [(label, blocks)] = list(sources.log_files(log, "phone.log"))

    hits = list(phone.scan_file(label, blocks(), lambda h: True))

    assert [(h.symptom, h.line) for h in hits] == [(phone.HOST_NOT_FOUND, 2), (phone.TLS_FAILURE, 3), (phone.TLS_FAILURE, 4), (phone.TLS_FAILURE, 5)]
    assert hits[0].fqdn == "example.fqdn.com"
    assert hits[0].time == datetime(2018, 12, 3, 17, 40, 16, 156000, tzinfo=timezone.utc)
    assert hits[1].phone == "00:10:49:1A:2B:3C" and hits[2].phone == "phone.log" and hits[2].time is None


def test_both_backends_attribute_identically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = _site_logs(tmp_path / "logs")
    _write(tmp_path / "phones" / "p1.log", KB_PHONE_LINE, "2018-12-03T10:41:00Z SSL handshake error")

    def attribute() -> list[dict[str, object]]:
        attribution = Attribution(window_start=datetime(2016, 12, 21, tzinfo=timezone.utc))
        attribution.add_iis("logs/", logs)
        attribution.add_phone("phones/", tmp_path / "phones")
        return [f.as_dict() for f in [*attribution.findings(), *attribution.history_findings()]]

    fast = attribute()
    monkeypatch.setattr(_search, "_sz", None)
    assert attribute() == fast and len(fast) == 5


def test_command_line_for_the_administrator_with_only_logs(tmp_path: Path) -> None:
    _site_logs(tmp_path / "W3SVC-bundle")
    _write(tmp_path / "phones" / "P105709FW16424D2D8B.log", KB_PHONE_LINE)

    run = subprocess.run([sys.executable, "-m", "casgate.logs", str(tmp_path), "--since", "24h", "--until", "2016-12-21T23:59:59Z", "--json"],
                         capture_output=True, text=True, cwd=REPO, check=False)

    doc = json.loads(run.stdout)
    assert run.returncode == 1
    phone_log = str(tmp_path / "phones" / "P105709FW16424D2D8B.log")
    # the window has a start only: lines after --until (the 2018 phone line) still count, as clock skew would
    assert {(f["cause"], f["phone"], f["count"]) for f in doc["findings"]} == {
        ("1", "10.169.24.139", 4), ("1", "10.169.24.140", 1), ("3", phone_log, 1)}
    assert {(f["cause"], f["count"]) for f in doc["history"]} == {("1", 3)}
    text = subprocess.run([sys.executable, "-m", "casgate.logs", str(tmp_path / "phones")], capture_output=True, text=True, cwd=REPO, check=False)
    assert text.stdout.splitlines()[1].startswith("3      ")
    assert "asking for example.fqdn.com" in text.stdout


def test_search_windows_do_not_lose_matches_that_straddle_them(tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = _site_logs(tmp_path / "logs")
    _write(tmp_path / "phones" / "p1.log", KB_PHONE_LINE, "2018-12-03T10:41:00Z SSL handshake error", KB_PHONE_LINE)

    def attribute() -> list[dict[str, object]]:
        attribution = Attribution()
        attribution.add_iis("logs/", logs)
        attribution.add_phone("phones/", tmp_path / "phones")
        return [f.as_dict() for f in attribution.findings()] + [{"malformed": attribution.malformed}]

    whole = attribute()
    for window in (3, 5, 8, 64):  # smaller than the needles, equal to them, and line-sized
        monkeypatch.setattr(_search, "_WINDOW", window)
        assert attribute() == whole, window
