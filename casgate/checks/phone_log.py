"""Symptoms as the phones log them: TLS failures (KB reason 2) and "Host not found" (KB reason 3)."""

from __future__ import annotations

from collections.abc import Iterable

from casgate.checks._tally import Hit, describe, describe_history, tally
from casgate.phonelog import PhoneSymptom, scan_phone_log
from casgate.snapshot import LogFile
from casgate.verdict import Verdict
from casgate.w3c import read_lines
from casgate.window import Window

_WHAT = {
    PhoneSymptom.TLS_FAILURE: "'SSL handshake error' / 'Certificate Authority Invalid'",
    PhoneSymptom.HOST_NOT_FOUND: "'Host not found' (error code = 3) on the certauth URL",
}
REMEDIATION = {
    PhoneSymptom.TLS_FAILURE: (
        "KB reason 2: the phones reject the HQ server's TLS certificate. Compare the Default Web Site https/443 "
        "binding with Shoreline Data\\Keystore\\certs\\server.crt (check 2) and rebind it; if they match, check "
        "TLS 1.0 and the cipher suites (cause 4)."
    ),
    PhoneSymptom.HOST_NOT_FOUND: (
        "KB reason 3: the phones cannot resolve the HQ FQDN. Give them a DNS server (DHCP option 6) whose A record "
        "for {fqdn} points at {address}; verify from a PC in the phones' network:\n"
        "  Resolve-DnsName {fqdn} -Type A -Server <the phones' DNS server>"
    ),
}


def judge_phone_logs(logs: Iterable[LogFile], symptom: PhoneSymptom, window: Window, fqdn: str, address: str) -> Verdict:
    current: list[Hit] = []
    history: list[Hit] = []
    asked: set[str] = set()
    for log in logs:
        for hit in scan_phone_log(read_lines(log.path), log.label):
            if hit.symptom is not symptom:
                continue
            if hit.fqdn:
                asked.add(hit.fqdn)
            (current if window.is_current(hit.time) else history).append((log.label, hit.time, hit.cite()))
    now, old = tally(current), tally(history)
    context = [f"window {window.describe()}"] + describe_history(old, _WHAT[symptom])
    other_names = sorted(asked - {fqdn})
    context += [f"phones asked for {name!r}, not the HQ FQDN {fqdn!r}" for name in other_names]
    if not now:
        return Verdict.passed(f"no {_WHAT[symptom]} in the phone logs in the window", tuple(context))
    return Verdict.failed(
        f"{len(now)} phone log(s) show {_WHAT[symptom]} in the window",
        tuple(describe(now, "symptom line") + context),
        REMEDIATION[symptom].replace("{fqdn}", fqdn).replace("{address}", address),
    )
