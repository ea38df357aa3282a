"""Beyond the KB (X1): certauth must answer over HTTPS at all, or no cause above can even show itself."""

from __future__ import annotations

from casgate.errors import EvidenceError
from casgate.evidence import HttpsProbe
from casgate.snapshot import HTTPS_PROBE
from casgate.verdict import Facts, Verdict

REMEDIATION = (
    "The phones cannot reach CAS at all. Check from the phones' network that the HQ address answers on the HTTPS port "
    "(firewall, IIS started), and on the server that Default Web Site and its shoreauth application are running:\n"
    "  Get-Service W3SVC\n"
    "  Get-WebApplication -Site 'Default Web Site' | Format-Table 'path', 'physicalPath'\n"
    "  Test-NetConnection <HQ address> -Port 443"
)


def judge_certauth_endpoint(probe: HttpsProbe) -> Verdict:
    """A 401/403 without a client certificate proves IIS and the certauth path are there."""
    shown = (f"POST {probe.url} (no client certificate): "
             + (f"HTTP {probe.status} {probe.reason or ''}".rstrip() if probe.status is not None else f"no answer ({probe.error})"),)
    facts: Facts = {"certauth answer": str(probe.status) if probe.status is not None else "no answer"}
    if not probe.reached:
        raise EvidenceError(HTTPS_PROBE, f"the runner could not reach {probe.url} ({probe.error}): an outage, certauth not judged")
    if probe.status in (401, 403):
        return Verdict.passed(f"certauth answers {probe.status} without a client certificate, as IIS should", shown, facts)
    if probe.status is None:
        return Verdict.failed("the runner reached the HQ address but could not talk HTTPS to certauth", shown, REMEDIATION, facts)
    if probe.status == 404:
        return Verdict.failed("certauth is not there (404): the shoreauth application is missing from Default Web Site", shown, REMEDIATION, facts)
    return Verdict.failed(f"certauth answered {probe.status} where IIS should demand a client certificate (403)", shown, REMEDIATION, facts)
