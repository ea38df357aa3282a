"""The IIS-log judgement passes only on logs it read and understood: every way a log can be unreadable, or lack a
field the judgement needs, is named with its file (and line), never taken for "no certauth rejection"."""

from __future__ import annotations

import codecs
import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from casgate.checks.iis_log import judge_certauth_log, scan_certauth
from casgate.errors import EvidenceError
from casgate.logs.attribution import NO_CLIENT_IP
from casgate.snapshot import LogFile
from casgate.verdict import Outcome
from tests.conftest import REPO
from tests.test_logs import DAY, FIELDS, KB_LINE, KB_PHONE_LINE, _registry, backend  # noqa: F401 - backend is a fixture

HEADER = ("#Software: Microsoft Internet Information Services 8.5", "#Version: 1.0", "#Date: 2016-12-21 00:00:00", FIELDS)


def _judge(tmp_path: Path, data: bytes, name: str = "u_ex161221.log"):
    (tmp_path / name).write_bytes(data)
    return judge_certauth_log(scan_certauth([LogFile(f"iis/logs/{name}", tmp_path / name)], _registry(), DAY), DAY, "hint")


def _log(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "iis/logs/u_ex161221.log: has no #Fields: directive"),
        (bytes(range(256)) * 64, "iis/logs/u_ex161221.log: has no #Fields: directive"),
        (_log(KB_LINE), "iis/logs/u_ex161221.log:1: entry before any #Fields: directive"),
        (_log("#Fields: date time c-ip cs-uri-stem sc-status sc-status", "2016-12-21 15:01:37 10.0.0.1 /shoreauth/certauth 403 403"),
         "the #Fields: at iis/logs/u_ex161221.log:1 names sc-status twice"),
        (_log("#Fields: date time c-ip cs-uri-stem sc-status sc-win32-status", "2016-12-21 15:01:37 10.0.0.1 /shoreauth/certauth 403 2148204809"),
         "1 certauth line(s) not judged: the #Fields: at iis/logs/u_ex161221.log:1 lacks sc-substatus"),
        (_log("#Fields: date time c-ip sc-status sc-substatus cs-uri-query", "2016-12-21 15:01:37 10.0.0.1 403 16 certauth"),
         "lacks cs-uri-stem"),
    ],
    ids=["empty", "binary", "no-fields-yet", "duplicate-field", "no-substatus-on-a-403", "no-uri-stem"],
)
def test_unreadable_or_underspecified_logs_are_never_a_pass(tmp_path: Path, backend: str, data: bytes, message: str) -> None:
    with pytest.raises(EvidenceError, match="cannot conclude 'no certauth rejection'") as raised:
        _judge(tmp_path, data)

    assert message in str(raised.value)


def test_a_field_set_without_substatus_still_judges_answers_that_are_no_403(tmp_path: Path, backend: str) -> None:
    verdict = _judge(tmp_path, _log("#Fields: date time c-ip cs-uri-stem sc-status", "2016-12-21 15:01:37 10.0.0.1 /shoreauth/certauth 401"))

    assert verdict.outcome is Outcome.PASS
    assert "1 certauth line(s) read" in verdict.evidence[0]


def test_other_letter_case_of_the_certauth_path_is_found(tmp_path: Path, backend: str) -> None:
    verdict = _judge(tmp_path, _log(*HEADER, KB_LINE.replace("/shoreauth/certauth", "/ShoreAuth/CertAuth")))

    assert verdict.outcome is Outcome.FAIL and "10.169.24.139: 1 x 403.16" in "\n".join(verdict.evidence)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])
def test_a_log_saved_as_utf16_is_decoded(tmp_path: Path, backend: str, codec: str) -> None:
    text = "\r\n".join([*HEADER, KB_LINE, KB_LINE]) + "\r\n"

    verdict = _judge(tmp_path, text.encode(codec))

    assert verdict.outcome is Outcome.FAIL and "2 x 403.16" in "\n".join(verdict.evidence)


def test_nul_padding_left_by_a_crash_hides_neither_header_nor_lines(tmp_path: Path, backend: str) -> None:
    before = _log(*HEADER, "2016-12-21 15:00:00 10.169.24.10 GET / - 443 - 10.0.0.1 x - 200 0 0 1")
    after = _log(*HEADER[:3], FIELDS.replace("time-taken", "time-taken sc-bytes"), KB_LINE + " 512")

    verdict = _judge(tmp_path, before + b"\x00" * 4096 + after)

    assert verdict.outcome is Outcome.FAIL and "10.169.24.139: 1 x 403.16" in "\n".join(verdict.evidence)


def test_a_log_without_c_ip_is_judged_without_phones(tmp_path: Path, backend: str) -> None:
    fields = "#Fields: date time cs-uri-stem sc-status sc-substatus sc-win32-status"

    verdict = _judge(tmp_path, _log(fields, "2016-12-21 15:01:37 /shoreauth/certauth 403 16 2148204809"))

    assert verdict.outcome is Outcome.FAIL and f"{NO_CLIENT_IP}: 1 x 403.16" in "\n".join(verdict.evidence)


def test_findings_still_fail_when_other_files_are_unreadable(tmp_path: Path, backend: str) -> None:
    (tmp_path / "u_ex1.log").write_bytes(_log(*HEADER, KB_LINE))
    (tmp_path / "u_ex2.log.gz").write_bytes(gzip.compress(_log(*HEADER, KB_LINE))[:40])
    logs = [LogFile(f"iis/logs/{p.name}", p) for p in sorted(tmp_path.iterdir())]

    verdict = judge_certauth_log(scan_certauth(logs, _registry(), DAY), DAY, "hint")

    assert verdict.outcome is Outcome.FAIL
    assert any(line.startswith("not judged: iis/logs/u_ex2.log.gz: cannot be read (EOFError") for line in verdict.evidence)


def _archives(tmp_path: Path) -> dict[str, Path]:
    body = _log(*HEADER, KB_LINE)
    plain = zipfile.ZipFile(tmp_path / "ok.zip", "w")
    plain.writestr("u_ex161221.log", body)
    plain.close()
    broken = {
        "not-a-zip.zip": b"x",
        "truncated.zip": (tmp_path / "ok.zip").read_bytes()[:-30],
        "not-gzip.log.gz": b"plain text, not gzip",
        "truncated.log.gz": gzip.compress(body)[:-8],
        "endless-line.log.gz": gzip.compress(b"#Fields: date time" + b"x" * (3 << 20)),
    }
    for name, data in broken.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in broken}


def test_damaged_archives_are_named_by_the_logs_command_which_exits_3(tmp_path: Path) -> None:
    paths = _archives(tmp_path)

    run = subprocess.run([sys.executable, "-m", "casgate.logs", *map(str, paths.values()), "--json"],
                         capture_output=True, text=True, cwd=REPO, check=False, timeout=60)

    assert run.returncode == 3 and "Traceback" not in run.stderr
    problems = json.loads(run.stdout)["not_judged"]
    for name in paths:
        assert any(name in p for p in problems), name
    assert "NOT JUDGED" in run.stderr


def test_the_logs_command_tells_iis_from_phone_logs_by_content(tmp_path: Path) -> None:
    (tmp_path / "hq01-iis.log").write_bytes(_log(*HEADER, KB_LINE))
    (tmp_path / "logfile_w3c.0").write_bytes(codecs.BOM_UTF8 + _log(*HEADER, KB_LINE))
    (tmp_path / "extension-5012.log").write_bytes(_log(KB_PHONE_LINE))
    (tmp_path / "notes.txt").write_bytes(b"nothing to see here\r\n")

    run = subprocess.run([sys.executable, "-m", "casgate.logs", str(tmp_path), "--json"],
                         capture_output=True, text=True, cwd=REPO, check=False, timeout=60)

    doc = json.loads(run.stdout)
    assert run.returncode == 1
    assert sorted((f["cause"], f["count"]) for f in doc["findings"]) == [("1", 2), ("3", 1)]
    assert doc["not_judged"] == [f"{(tmp_path / 'notes.txt').as_posix()}: neither an IIS W3C log (#Software/#Fields header) nor an IP400 phone log"]


def test_the_logs_command_reports_history_and_exits_0_on_old_lines_only(tmp_path: Path) -> None:
    (tmp_path / "u_ex.log").write_bytes(_log(*HEADER, KB_LINE))

    run = subprocess.run([sys.executable, "-m", "casgate.logs", str(tmp_path), "--since", "1h", "--until", "2016-12-25T00:00:00Z"],
                         capture_output=True, text=True, cwd=REPO, check=False, timeout=60)

    assert run.returncode == 0
    assert "older than the window (not counted): 1 line(s) from 1 phone(s), last 2016-12-21 15:01:37Z" in run.stdout


@pytest.mark.parametrize("until", ["garbage", "2016-12-21T23:59:59Z"])
def test_until_without_since_is_refused_never_ignored(tmp_path: Path, until: str) -> None:
    run = subprocess.run([sys.executable, "-m", "casgate.logs", str(tmp_path), "--until", until],
                         capture_output=True, text=True, cwd=REPO, check=False, timeout=60)

    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "--until is the time --since counts back from: give --since too" in run.stderr


@pytest.mark.parametrize("kind", ["gz", "zip", "endless-line-gz"])
def test_bombs_stop_at_their_limit_with_flat_memory(tmp_path: Path, kind: str) -> None:
    """A 256 MiB expansion from ~250 KB on disk: refused by ratio (or line length) long before it is read, in a child
    process whose peak RSS is measured."""
    line = b"\r\n"
    script = f"""
import gzip, resource, sys, zipfile, zlib
from pathlib import Path
from casgate.logs.attribution import Attribution
out = Path(sys.argv[1])
body = {line!r} * (1 << 27) if {kind!r} != "endless-line-gz" else b"#Fields: date time" + b"x" * (1 << 28)
if {kind!r} == "zip":
    with zipfile.ZipFile(out / "u_ex1.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("u_ex1.log", b"#Fields: date time\\r\\n" + body)
else:
    (out / "u_ex1.log.gz").write_bytes(gzip.compress(b"#Fields: date time\\r\\n" + body, 9))
del body
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
attribution = Attribution()
attribution.add_iis("logs/", out)
print(attribution.unreadable)
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=300, check=True)

    problems, rss = run.stdout.splitlines()
    assert ("expands to more than" in problems) if kind != "endless-line-gz" else ("line longer than" in problems)
    before, after = map(int, rss.split())
    assert after - before < 100 * 1024  # KiB: the scan adds less than 100 MiB on top of building the bomb
