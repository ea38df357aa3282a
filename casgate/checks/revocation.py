"""Beyond the KB (X9): certauth answered 403.13: Schannel's revocation check of a phone's certificate failed. What the
admin should do depends on why, and IIS says why in sc-win32-status (casgate.win32status maps each documented code)."""

from __future__ import annotations

import re
from collections import Counter

from casgate.checks.iis_log import RECOPY_PARTIAL, of_cause
from casgate.evidence import parse_sslcert
from casgate.logs.attribution import REVOCATION, Attribution, describe, describe_history, not_judged
from casgate.regfile import RegistryView
from casgate.snapshot import IIS_LOGS, IIS_STATE
from casgate.verdict import Facts, Verdict
from casgate.win32status import Revocation, revocation_meaning
from casgate.window import Window

CHECK_FIELD = "Verify Client Certificate Revocation"
SSL_BINDINGS = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\HTTP\Parameters\SslBindingInfo"
ERROR_CODES = "Microsoft Learn, COM Error Codes (Security and Setup) (Winerror.h)"
# HTTP_SERVICE_CONFIG_SSL_PARAM.DefaultCertCheckMode, bit by bit: Microsoft Learn, "HTTP_SERVICE_CONFIG_SSL_PARAM
# structure (http.h)" (https://learn.microsoft.com/windows/win32/api/http/ns-http-http_service_config_ssl_param).
# 0 is "Enables the client certificate revocation check"; HTTP.sys keeps each binding's fields as values of the same
# names under SslBindingInfo\<ip:port> (Microsoft's Windows Server Essentials BPA rules set DefaultFlags there).
_PORT_443 = re.compile(r":443(?![0-9])")
CHECK_MODE_BITS = {0x1: "client certificates are not checked for revocation", 0x2: "only cached revocation data is used",
                   0x4: "DefaultRevocationFreshnessTime is in force", 0x10000: "no usage check"}

OFFLINE_REMEDIATION = (
    "Beyond the KB (X9): IIS could not check whether the phones' certificates are revoked (CRYPT_E_REVOCATION_OFFLINE, "
    "CRYPT_E_NO_REVOCATION_CHECK, CERT_E_REVOCATION_FAILURE: the server cannot reach or use the CRL or OCSP addresses in "
    "them), so Schannel refuses them (403.13); nothing says the phones' certificates are revoked. HTTP.sys fetches "
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
    "Beyond the KB (X9): a phone's certificate is revoked by its issuer (CERT_E_REVOKED / CRYPT_E_REVOKED, 403.13): "
    "nothing on the server is wrong. Replace that phone or have Mitel re-issue its certificate; the phones are listed "
    "above by address."
)
UNKNOWN_REMEDIATION = (
    "Beyond the KB (X9): IIS refused the phones' certificates on revocation (403.13), but the status it logged does not "
    "say whether the server could not check or a certificate is revoked (shown above with its raw value). Replace no "
    "phone on this evidence. Look the value up and read how the binding checks revocation:\n"
    "  certutil -error <the sc-win32-status value>\n"
    "  netsh http show sslcert ipport=0.0.0.0:443\n"
    "If IIS logs no sc-win32-status, add the Win32 Status field to Default Web Site's logging (IIS Manager: Logging > "
    "Select Fields) and collect the logs again after the next failure."
)
_REMEDIATION = {Revocation.NOT_CHECKED: OFFLINE_REMEDIATION, Revocation.REVOKED: REVOKED_REMEDIATION,
                Revocation.UNKNOWN: UNKNOWN_REMEDIATION}
_SAID = {Revocation.NOT_CHECKED: "IIS could not check revocation of the phones' certificates",
         Revocation.REVOKED: "IIS found revoked the phones' certificates",
         Revocation.UNKNOWN: "IIS refused the phones' certificates on revocation with a status casgate cannot interpret"}


def _check_mode(value: object) -> str:
    """DefaultCertCheckMode in words, or 'not interpreted' with the raw value where a bit is undocumented."""
    if not isinstance(value, int):
        return f"{value!r:.60} is not a DWORD: not interpreted"
    unknown = value & ~sum(CHECK_MODE_BITS)
    if unknown:
        return f"0x{value:x} has bits HTTP_SERVICE_CONFIG_SSL_PARAM does not define (0x{unknown:x}): not interpreted"
    said = [text for bit, text in CHECK_MODE_BITS.items() if value & bit]
    return f"0x{value:x}: " + ("; ".join(said) if said else "client certificates are checked for revocation")


def _registry_settings(registry: RegistryView) -> tuple[str, ...]:
    """HTTP.sys's own record of each binding on port 443: its DefaultCertCheckMode, read where netsh reads it."""
    bindings = [name for name in registry.subkeys(SSL_BINDINGS) if name.endswith(":443")]
    source = registry.source(SSL_BINDINGS)
    if not bindings:
        return (f"{SSL_BINDINGS} ({source}): no IP binding on port 443 (SNI bindings live under SslSniBindingInfo, not collected)",)
    lines = []
    for name in bindings:
        value = registry.value(f"{SSL_BINDINGS}\\{name}", "DefaultCertCheckMode")
        shown = "DefaultCertCheckMode absent: not interpreted" if value is None else f"DefaultCertCheckMode={_check_mode(value)}"
        lines.append(f"HTTP.sys binding {name} ({source}): {shown}")
    return tuple(lines)


def _display_settings(sslcert: str) -> tuple[str, ...]:
    """Old recordings: `netsh http show sslcert` as displayed, whose labels Windows translates; a label casgate
    does not know is shown raw and not interpreted, never read as '(not shown)'."""
    lines = [f"netsh http show sslcert, {binding}: {CHECK_FIELD} = {fields[CHECK_FIELD]}"
             for binding, fields in parse_sslcert(sslcert).items() if binding.endswith(":443") and CHECK_FIELD in fields]
    if lines:
        return tuple(lines)
    text = [line.strip() for line in sslcert.splitlines() if line.strip()]
    at = next((i for i, line in enumerate(text) if _PORT_443.search(line)), None)
    if at is None:
        return (f"{IIS_STATE}: netsh shows no SSL binding on port 443",)
    raw = " | ".join(text[at:at + 14])[:700]
    return (f"{IIS_STATE}: netsh's binding on port 443 is in labels casgate does not read (a localised Windows?): its revocation "
            f"setting is not judged; raw text: {raw}",)


def revocation_settings(registry: RegistryView | None, sslcert: str | None) -> tuple[str, ...]:
    """How the bindings on port 443 check revocation: from HTTP.sys's registry (any language), else from netsh's
    display text (old recordings), else that it was not recorded."""
    if registry is not None and registry.has_key(SSL_BINDINGS):
        return _registry_settings(registry)
    if sslcert is not None:
        return _display_settings(sslcert)
    return (f"registry/: no export of {SSL_BINDINGS}, and no `netsh http show sslcert` in {IIS_STATE}: the binding's revocation "
            "settings are not known",)


def judge_revocation(attribution: Attribution, window: Window, registry: RegistryView | None, sslcert: str | None) -> Verdict:
    """X9, Microsoft Learn "HTTP status code overview" (IIS 403.13: client certificate revoked) and the meaning of each
    sc-win32-status Microsoft documents (casgate.win32status): 403.13 on certauth in the window fails, and the advice
    follows the status: "the server could not check", "the certificate is revoked" (the only case that blames the
    phone), or unknown, named with its raw value. The logs come read by scan_certauth, once for this check and cause 1's."""
    now, old = of_cause(attribution.findings(), REVOCATION), of_cause(attribution.history_findings(), REVOCATION)
    problems = attribution.problems()
    context = [f"window {window.describe()} over {attribution.files} IIS log file(s); {attribution.judged} certauth line(s) read",
               *revocation_settings(registry, sslcert), *describe_history(old)]
    facts: Facts = {"revocation failures": tuple(sorted(f"{f.phone}: {f.symptom}" for f in now)), "not judged": tuple(problems)}
    if now:
        meanings = {f.symptom: revocation_meaning(f.symptom) for f in now}
        counts = Counter[Revocation]()
        for f in now:
            counts[meanings[f.symptom][0]] += f.count
        kinds = [kind for kind in Revocation if counts[kind]]
        facts["403.13 meaning"] = tuple(kind.value for kind in kinds)
        said = _SAID[kinds[0]] if len(kinds) == 1 else "IIS refused the phones' certificates on revocation (" + "; ".join(
            f"{kind.value}: {counts[kind]} time(s)" for kind in kinds) + ")"
        meaning_lines = [f"{kind.value}: {why}" + (f" ({ERROR_CODES})" if kind is not Revocation.UNKNOWN else "")
                         for kind, why in sorted(set(meanings.values()))]
        return Verdict.failed(f"{said}: certauth answered 403.13 {sum(f.count for f in now)} time(s) to {len({f.phone for f in now})} "
                              "phone(s) in the window", tuple(describe(now) + meaning_lines + context),
                              "\n\n".join(_REMEDIATION[kind] for kind in kinds), facts)
    if problems:
        raise not_judged(IIS_LOGS, "no certauth 403.13", problems)
    if attribution.partial:
        return Verdict.warned(f"{len(attribution.partial)} log(s) end in a certauth line cut short; everything else shows no 403.13",
                              tuple(context) + tuple(f"noted: {p}" for p in attribution.partial),
                              RECOPY_PARTIAL,
                              facts)
    return Verdict.passed("no certauth 403.13 (revocation) in the window", tuple(context), facts)
