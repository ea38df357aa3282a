"""Beyond the KB (X9): certauth answered 403.13: Schannel's revocation check of a phone's certificate failed."""

from __future__ import annotations

from casgate.checks.iis_log import RECOPY_PARTIAL, of_cause
from casgate.evidence import parse_sslcert
from casgate.logs.attribution import REVOCATION, Attribution, describe, describe_history, not_judged
from casgate.snapshot import IIS_LOGS, IIS_STATE
from casgate.verdict import Facts, Verdict
from casgate.window import Window

OFFLINE = ("CRYPT_E_REVOCATION_OFFLINE", "CRYPT_E_NO_REVOCATION_CHECK")
CHECK_FIELD = "Verify Client Certificate Revocation"

OFFLINE_REMEDIATION = (
    "Beyond the KB (X9): IIS could not check whether the phones' certificates are revoked: the server cannot reach the "
    "CRL or OCSP addresses in them (CRYPT_E_REVOCATION_OFFLINE), so Schannel refuses them (403.13). HTTP.sys fetches "
    "revocation data as the machine, through WinHTTP's proxy setting, not a user's. Check that setting and what the "
    "machine has cached:\n"
    "  netsh winhttp show proxy\n"
    "  certutil -urlcache crl\n"
    "Restore the server's route to those addresses. Only if policy allows client certificates without revocation "
    "checking, record the binding first, then re-create it without the check (netsh has no edit for this):\n"
    "  netsh http show sslcert ipport=0.0.0.0:443 | Out-File C:\\casgate-sslcert-0.0.0.0-443.txt\n"
    "  netsh http delete sslcert ipport=0.0.0.0:443\n"
    "  netsh http add sslcert ipport=0.0.0.0:443 certhash=<Certificate Hash from the file> "
    "appid='<Application ID from the file>' certstorename=MY verifyclientcertrevocation=disable"
)
REVOKED_REMEDIATION = (
    "Beyond the KB (X9): a phone's certificate is revoked by its issuer (CERT_E_REVOKED, 403.13): nothing on the server "
    "is wrong. Replace that phone or have Mitel re-issue its certificate; the phones are listed above by address."
)


def revocation_settings(sslcert: str | None) -> tuple[str, ...]:
    """What netsh says of revocation checking for the bindings on port 443, or that it was not recorded."""
    if sslcert is None:
        return (f"{IIS_STATE}: no `netsh http show sslcert` recorded; the binding's revocation settings are not known",)
    lines = [f"netsh http show sslcert, {binding}: {CHECK_FIELD} = {fields.get(CHECK_FIELD, '(not shown)')}"
             for binding, fields in parse_sslcert(sslcert).items() if binding.endswith(":443")]
    return tuple(lines) or (f"{IIS_STATE}: netsh shows no SSL binding on port 443",)


def judge_revocation(attribution: Attribution, window: Window, sslcert: str | None) -> Verdict:
    """X9, Microsoft Learn "HTTP status code overview" (IIS 403.13: client certificate revoked) and "Certificate
    revocation" in HTTP.sys (netsh http add sslcert verifyclientcertrevocation): 403.13 on certauth in the window fails;
    CRYPT_E_REVOCATION_OFFLINE / CRYPT_E_NO_REVOCATION_CHECK say the server could not reach the revocation data. The
    logs come read by scan_certauth, once for this check and cause 1's."""
    now, old = of_cause(attribution.findings(), REVOCATION), of_cause(attribution.history_findings(), REVOCATION)
    problems = attribution.problems()
    context = [f"window {window.describe()} over {attribution.files} IIS log file(s); {attribution.judged} certauth line(s) read",
               *revocation_settings(sslcert), *describe_history(old)]
    facts: Facts = {"revocation failures": tuple(sorted(f"{f.phone}: {f.symptom}" for f in now)), "not judged": tuple(problems)}
    if now:
        offline = any(code in f.symptom for f in now for code in OFFLINE)
        what = "could not check revocation of" if offline else "found revoked"
        return Verdict.failed(f"IIS {what} the phones' certificates: certauth answered 403.13 {sum(f.count for f in now)} time(s) "
                              f"to {len({f.phone for f in now})} phone(s) in the window", tuple(describe(now) + context),
                              OFFLINE_REMEDIATION if offline else REVOKED_REMEDIATION, facts)
    if problems:
        raise not_judged(IIS_LOGS, "no certauth 403.13", problems)
    if attribution.partial:
        return Verdict.warned(f"{len(attribution.partial)} log(s) end in a certauth line cut short; everything else shows no 403.13",
                              tuple(context) + tuple(f"noted: {p}" for p in attribution.partial),
                              RECOPY_PARTIAL,
                              facts)
    return Verdict.passed("no certauth 403.13 (revocation) in the window", tuple(context), facts)
