"""Symptoms as the phones log them: TLS failures (KB reason 2 or 4) and "Host not found" (KB reason 3)."""

from __future__ import annotations

from collections.abc import Iterable

from casgate.logs import phone
from casgate.logs.attribution import Attribution, describe, describe_history, not_judged
from casgate.snapshot import PHONE_LOGS, LogFile
from casgate.verdict import Facts, Verdict
from casgate.window import Window

_WHAT = {
    phone.TLS_FAILURE: "'SSL handshake error' / 'Certificate Authority Invalid'",
    phone.HOST_NOT_FOUND: "'Host not found' (error code = 3) on the certauth URL",
}
_CAUSES = {phone.TLS_FAILURE: {"2", "4", "2 or 4"}, phone.HOST_NOT_FOUND: {"3"}}
REMEDIATION = {
    phone.TLS_FAILURE: (
        "KB reason 2: the phones reject the HQ server's TLS certificate. Compare the Default Web Site https/443 "
        "binding with Shoreline Data\\Keystore\\certs\\server.crt (check 2) and rebind it; if they match, check "
        "TLS 1.0 and the cipher suites (cause 4)."
    ),
    phone.HOST_NOT_FOUND: (
        "KB reason 3: the phones cannot resolve the HQ FQDN. Give them a DNS server (DHCP option 6) whose A record "
        "for {fqdn} points at {address}; verify from a PC in the phones' network:\n"
        "  Resolve-DnsName {fqdn} -Type A -Server <the phones' DNS server>"
    ),
}


def judge_phone_logs(logs: Iterable[LogFile], symptom: str, window: Window, fqdn: str, address: str,
                     tls_cause: str | None = None) -> Verdict:
    attribution = Attribution(window.start, tls_cause=tls_cause)
    for log in logs:
        attribution.add_phone(log.label, log.path)
    now, old = attribution.findings(_CAUSES[symptom]), attribution.history_findings(_CAUSES[symptom])
    context = [f"window {window.describe()}"] + describe_history(old)
    asked = {s.rsplit(" asking for ", 1)[1] for f in now + old for s in [f.symptom] if " asking for " in s}
    context += [f"phones asked for {name!r}, not the HQ FQDN {fqdn!r}" for name in sorted(asked - {fqdn})]
    facts: Facts = {"phones": tuple(sorted(f"{f.phone}: [cause {f.cause}] {f.symptom}" for f in now))}
    problems = attribution.problems()
    if not now and problems:
        raise not_judged(PHONE_LOGS, f"no {_WHAT[symptom]}", problems)
    context += [f"not judged: {p}" for p in problems]
    if not now:
        return Verdict.passed(f"no {_WHAT[symptom]} in the phone logs in the window", tuple(context), facts)
    return Verdict.failed(
        f"{len({f.phone for f in now})} phone(s) logged {_WHAT[symptom]} in the window",
        tuple(describe(now) + context),
        REMEDIATION[symptom].replace("{fqdn}", fqdn).replace("{address}", address),
        facts,
    )
