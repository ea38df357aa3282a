"""KB reason 1 as IIS sees it: /shoreauth/certauth answered 403.16 (or 403.7 in trust-list mode, 403.17); 403.13
(revocation) is X9's, from the same scan."""

from __future__ import annotations

from collections.abc import Iterable

from casgate.logs.attribution import REVOCATION, Attribution, Finding, describe, describe_history, not_judged
from casgate.regfile import RegistryView
from casgate.schannel import SCHANNEL, trusted_issuer_list
from casgate.snapshot import IIS_LOGS, LogFile
from casgate.verdict import Facts, Verdict
from casgate.window import Window

REMEDIATION = (
    "KB reason 1: IIS does not trust the phones' client certificates. Fix the root store (checks 1a and 1b), "
    "restart the World Wide Web Publishing Service and retest (Microsoft KB 2802568):\n"
    "  Restart-Service W3SVC"
)
TRUST_LIST_REMEDIATION = (
    "\nWith SendTrustedIssuerList=1 IIS sends a trusted-issuer list that does not include the Mitel CA, and the phones "
    "send no certificate (403.7). Microsoft KB 2802568: stop sending the list, then restart:\n"
    f"  New-ItemProperty -Path 'Registry::{SCHANNEL}' -Name SendTrustedIssuerList -Value 0 -PropertyType DWord -Force\n"
    "  Restart-Service W3SVC"
)

RECOPY_PARTIAL = "Copy the IIS logs again once IIS has flushed them (a log still being written ends in a partial line)."


def scan_certauth(logs: Iterable[LogFile], registry: RegistryView, window: Window, os_version: str = "") -> Attribution:
    """Every certauth answer IIS logged, attributed to its cause; 403.7 counts only in trust-list mode, which
    SendTrustedIssuerList or, absent, the OS build's default decides (unknown: 403.7 is a possible cause 1)."""
    attribution = Attribution(window.start, trust_list_mode=trusted_issuer_list(registry, os_version).sends)
    for log in logs:
        attribution.add_iis(log.label, log.path)
    return attribution


def of_cause(findings: Iterable[Finding], cause: str, wanted: bool = True) -> list[Finding]:
    """The findings tied to `cause` (or, with wanted=False, all the others)."""
    return [f for f in findings if (f.cause == cause) is wanted]


def judge_certauth_log(attribution: Attribution, window: Window, root_hint: str) -> Verdict:
    """Fails on rejections in the window (from scan_certauth); "no rejection" only when every file and certauth line
    was understood."""
    trust_list_mode = attribution.trust_list_mode
    now, old = of_cause(attribution.findings(), REVOCATION, False), of_cause(attribution.history_findings(), REVOCATION, False)
    problems = attribution.problems()
    facts: Facts = {"rejected phones": tuple(sorted(f"{f.phone}: {f.symptom}" for f in now)),
                    "not judged": tuple(problems)}
    context = [f"window {window.describe()} over {attribution.files} IIS log file(s); "
               f"{attribution.judged} certauth line(s) read"] + describe_history(old)
    context += [f"not judged: {p}" for p in problems] + [f"noted: {p}" for p in attribution.partial]
    if now:
        return Verdict.failed(
            f"IIS rejected the phones' certauth requests {sum(f.count for f in now)} time(s) "
            f"from {len({f.phone for f in now})} phone(s) in the window",
            tuple(describe(now) + [root_hint] + context),
            REMEDIATION + (TRUST_LIST_REMEDIATION if trust_list_mode else ""),
            facts,
        )
    if problems:
        raise not_judged(IIS_LOGS, "no certauth rejection", problems)
    if attribution.partial:
        return Verdict.warned(
            f"{len(attribution.partial)} log(s) end in a certauth line cut short; everything else shows no rejection",
            tuple(context),
            RECOPY_PARTIAL,
            facts,
        )
    return Verdict.passed("no certauth rejection in the window", tuple(context), facts)
