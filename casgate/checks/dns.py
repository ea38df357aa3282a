"""KB reason 3: the phones' DNS servers must resolve the HQ FQDN to the HQ server's address."""

from __future__ import annotations

from casgate.errors import EvidenceError
from casgate.evidence import DnsAnswer, DnsProbe, Manifest
from casgate.snapshot import DNS_PROBE
from casgate.verdict import Facts, Verdict

REMEDIATION = (
    "KB reason 3: the A record of {fqdn} must point at the HQ server {address} on every DNS server the phones use "
    "(and the phones must be given a DNS server, DHCP option 6). On a Windows DNS server, for example:\n"
    "  Get-DnsServerResourceRecord -ZoneName <zone> -Name <host> -RRType A\n"
    "  Add-DnsServerResourceRecordA -ZoneName <zone> -Name <host> -IPv4Address {address}\n"
    "Verify from the phones' network:\n"
    "  Resolve-DnsName {fqdn} -Type A -Server <the phones' DNS server>"
)


def _problem(answer: DnsAnswer, address: str) -> str | None:
    """Why this server's answer would leave a phone unable to reach HQ, or None when it is right."""
    if answer.error:
        return f"no answer ({answer.error}; not counted: an outage, not an answer)"
    if answer.rcode == "NXDOMAIN":
        return "NXDOMAIN: the name does not exist"
    if answer.rcode != "NOERROR":
        return f"answered {answer.rcode}"
    if not answer.addresses:
        return "NOERROR but no A record"
    if address not in answer.addresses:
        return f"resolves to {', '.join(answer.addresses)}, not the HQ address {address}"
    return None


def judge_dns(probe: DnsProbe, manifest: Manifest) -> Verdict:
    if probe.fqdn != manifest.fqdn:
        return Verdict.failed(
            f"the DNS probe asked for {probe.fqdn!r}, not the HQ FQDN {manifest.fqdn!r}; re-record the probe",
            (f"probes/dns.json fqdn={probe.fqdn}", f"manifest.json fqdn={manifest.fqdn}"),
            "Re-run the collection with the HQ FQDN the phones use.",
        )
    lines, bad = [], 0
    facts: Facts = {f"DNS {a.server}": _problem(a, manifest.address) or f"resolves to {manifest.address}" for a in probe.answers}
    for answer in probe.answers:
        problem = _problem(answer, manifest.address)
        shown = f"{answer.server}: rcode={answer.rcode or '-'} A={', '.join(answer.addresses) or '-'} ttl={answer.ttl if answer.ttl is not None else '-'}"
        lines.append(shown + (f"  <- {problem}" if problem else ""))
        bad += problem is not None and not answer.error
    silent = [a for a in probe.answers if a.error]
    if silent and not bad:  # a timeout or a refused query is an outage from the runner, not an answer about the name
        raise EvidenceError(DNS_PROBE, f"{len(silent)} of {len(probe.answers)} DNS server(s) did not answer "
                                       f"({'; '.join(f'{a.server}: {a.error}' for a in silent)}): an outage, DNS not judged")
    if not bad:
        return Verdict.passed(f"{manifest.fqdn} resolves to {manifest.address} on all {len(probe.answers)} DNS server(s)", tuple(lines),
                              facts)
    return Verdict.failed(
        f"{bad} of {len(probe.answers)} DNS server(s) answer but do not resolve {manifest.fqdn} to {manifest.address}",
        tuple(lines),
        REMEDIATION.replace("{fqdn}", manifest.fqdn).replace("{address}", manifest.address),
        facts,
    )
