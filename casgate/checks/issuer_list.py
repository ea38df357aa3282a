"""Beyond the KB (X5): with SendTrustedIssuerList=1 Schannel sends the subjects of LocalMachine\\Root in the TLS
CertificateRequest, and a list over 16 KB breaks client certificate authentication: the phones' certauth fails."""

from __future__ import annotations

from casgate.certs import Store
from casgate.der import certificate_parts
from casgate.errors import EvidenceError
from casgate.regfile import RegistryView
from casgate.schannel import SCHANNEL, dword
from casgate.verdict import Facts, Verdict

LIMIT = 16_384  # bytes: the largest trusted issuer list Schannel supports (Microsoft KB 933430)
NEAR = 12_288  # bytes: three quarters of the limit, where a few more roots (Windows adds them on demand) tip it over
PREFIX = 2  # TLS: opaque DistinguishedName<1..2^16-1>, each name in certificate_authorities carries a 2-byte length

TRIM = (
    "Beyond the KB (X5): with SendTrustedIssuerList=1 Schannel sends the subject of every certificate in "
    "LocalMachine\\Root to a client it asks for a certificate, and supports at most 16 KB of them (Microsoft KB 933430); "
    "past that the list is cut and client authentication fails (Microsoft KB 2880390). Stop sending the list, or remove "
    "the roots this server does not need (export each one first). Measure what Root would send, then stop sending it:\n"
    "  (Get-ChildItem Cert:\\LocalMachine\\Root | ForEach-Object { $_.SubjectName.RawData.Length + 2 } | Measure-Object -Sum).Sum\n"
    f"  Set-ItemProperty -Path 'Registry::{SCHANNEL}' -Name SendTrustedIssuerList -Value 0\n"
    "  Restart-Computer"
)


def judge_issuer_list(registry: RegistryView, root_store: Store) -> Verdict:
    """X5, Microsoft KB 933430 (https://mskb.pkisolutions.com/kb/933430, archived) and KB 2880390
    (https://support.microsoft.com/en-us/help/2880390): the list's size is the sum of the DER subject Names in Root, each
    with its 2-byte TLS length (RFC 5246 7.4.4 certificate_authorities); fail above 16,384 bytes, warn above 12,288."""
    value = dword(registry, "SendTrustedIssuerList")
    setting = f"{SCHANNEL}: SendTrustedIssuerList={'(absent)' if value is None else value} ({registry.source(SCHANNEL)})"
    if value != 1:
        return Verdict.passed("Schannel does not send the trusted issuer list (SendTrustedIssuerList is not 1): not sent", (setting,),
                              {"SendTrustedIssuerList": "(absent)" if value is None else str(value)})
    size = sum(len(certificate_parts(c.der).subject) + PREFIX for c in root_store)
    evidence = (setting, f"LocalMachine\\Root: {len(root_store.certificates)} certificate(s), subjects + 2-byte lengths = {size:,} bytes "
                         f"(limit {LIMIT:,}, warning above {NEAR:,})")
    unknown = root_store.unreadable
    if unknown and size <= LIMIT:
        raise EvidenceError(root_store.label, f"{len(unknown)} file(s) could not be read, so the list's size is unknown: "
                                              + "; ".join(u.describe() for u in unknown))
    band = "over the limit" if size > LIMIT else "near the limit" if size > NEAR else "within the limit"
    facts: Facts = {"SendTrustedIssuerList": "1", "trusted issuer list": band}
    if size > LIMIT:
        return Verdict.failed(f"the trusted issuer list Schannel sends is {size:,} bytes, over its {LIMIT:,}-byte limit: client "
                              "certificate authentication (the phones' certauth) breaks", evidence, TRIM, facts)
    if size > NEAR:
        return Verdict.warned(f"the trusted issuer list Schannel sends is {size:,} bytes, near its {LIMIT:,}-byte limit", evidence, TRIM, facts)
    return Verdict.passed(f"the trusted issuer list Schannel sends is {size:,} bytes, within its {LIMIT:,}-byte limit", evidence, facts)
