"""KB reason 1 as IIS sees it: /shoreauth/certauth answered 403.16 (or 403.7 in trust-list mode)."""

from __future__ import annotations

from collections.abc import Iterable

from casgate.checks._tally import Hit, describe, describe_history, tally
from casgate.regfile import RegistryView
from casgate.schannel import SCHANNEL, dword
from casgate.snapshot import LogFile
from casgate.verdict import Verdict
from casgate.w3c import Malformed, W3CEntry, read_lines, scan_w3c
from casgate.win32status import describe_win32_status
from casgate.window import Window

CERTAUTH = "/shoreauth/certauth"

REMEDIATION = (
    "KB reason 1: IIS does not trust the phones' client certificates. Fix the root store (checks 1a and 1b), "
    "restart the World Wide Web Publishing Service and retest (Microsoft KB 2802568):\n"
    "  Restart-Service W3SVC"
)
TRUST_LIST_REMEDIATION = (
    "\nWith SendTrustedIssuerList=1 IIS sends a trusted-issuer list that does not include the Mitel CA, and the phones "
    "send no certificate (403.7). Microsoft KB 2802568: stop sending the list, then restart:\n"
    f"  Set-ItemProperty -Path 'Registry::{SCHANNEL}' -Name SendTrustedIssuerList -Value 0\n"
    "  Restart-Service W3SVC"
)


def _rejection(entry: W3CEntry, trust_list_mode: bool) -> str | None:
    """The kind of certauth rejection this entry is, or None."""
    if entry.get("cs-uri-stem").lower() != CERTAUTH or entry.get("sc-status") != "403":
        return None
    substatus = entry.get("sc-substatus")
    if substatus == "16":
        return f"403.16 ({describe_win32_status(entry.get('sc-win32-status'))})"
    if substatus == "7" and trust_list_mode:
        return "403.7 (client certificate required; SendTrustedIssuerList=1)"
    return None


def judge_certauth_log(logs: Iterable[LogFile], registry: RegistryView, window: Window) -> Verdict:
    trust_list_mode = dword(registry, "SendTrustedIssuerList") == 1
    current: list[Hit] = []
    history: list[Hit] = []
    malformed: list[str] = []
    scanned = 0
    for log in logs:
        scanned += 1
        for item in scan_w3c(read_lines(log.path), log.label, needle="certauth"):
            if isinstance(item, Malformed):
                malformed.append(f"{item.source}:{item.line}: {item.reason}")
                continue
            kind = _rejection(item, trust_list_mode)
            if kind is None:
                continue
            hit = (item.get("c-ip"), item.time, f"{kind} {item.cite()}")
            (current if window.is_current(item.time) else history).append(hit)
    now, old = tally(current), tally(history)
    context = [f"window {window.describe()} over {scanned} IIS log file(s)"] + describe_history(old, "certauth 403")
    context += [f"malformed certauth line (not judged): {m}" for m in malformed]
    if now:
        return Verdict.failed(
            f"IIS rejected the phones' certauth requests {sum(t.count for t in now.values())} time(s) "
            f"from {len(now)} phone(s) in the window",
            tuple(describe(now, "certauth 403") + context),
            REMEDIATION + (TRUST_LIST_REMEDIATION if trust_list_mode else ""),
        )
    if malformed:
        return Verdict.warned(
            f"{len(malformed)} certauth line(s) do not match their #Fields: header and could not be judged",
            tuple(context),
            "Check that the IIS logs were copied whole (a log still being written ends in a partial line).",
        )
    return Verdict.passed("no certauth 403.16 in the window", tuple(context))
