"""Beyond the KB (X5): when Schannel sends the subjects of LocalMachine\\Root in the TLS CertificateRequest (the
trusted issuer list), a list over 16 KB breaks client certificate authentication: the phones' certauth fails.

Windows' own rules, with their sources:
- SendTrustedIssuerList (DWORD under SCHANNEL) 1 sends the list, 0 does not. Absent, it takes the OS default: 1 before
  Windows Server 2012 / Windows 8, 0 from them on. Microsoft Learn, "Overview of TLS - SSL (Schannel SSP)", section
  "Management of trusted issuers for client authentication"
  (https://learn.microsoft.com/windows-server/security/tls/what-s-new-in-tls-ssl-schannel-ssp-overview; source
  MicrosoftDocs/windowsserverdocs WindowsServerDocs/security/tls/what-s-new-in-tls-ssl-schannel-ssp-overview.md).
- The list Schannel supports is at most 16 KB: Microsoft KB 933430, "Clients cannot make connections if you require
  client certificates on a Web site or if you use IAS in Windows Server 2003" (https://mskb.pkisolutions.com/kb/933430,
  archived); the Schannel overview above keeps the same 16 KB for Windows Server 2012.
- On Windows 8 / Windows Server 2012 (build 9200) client certificate authentication stops working once the Trusted Root
  store exceeds 16 KB "regardless of the value of the SendTrustedIssuerList registry entry": Microsoft KB 2880390
  (https://support.microsoft.com/help/2880390). The KB names only those two releases, so casgate applies it to build
  9200 alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from casgate.certs import Store
from casgate.der import certificate_parts
from casgate.errors import EvidenceError
from casgate.regfile import RegistryView
from casgate.schannel import ISSUER_LIST_DEFAULT_OFF_FROM_BUILD, SCHANNEL, trusted_issuer_list
from casgate.snapshot import MANIFEST
from casgate.verdict import Facts, Verdict

LIMIT = 16_384  # bytes: the largest trusted issuer list Schannel supports (Microsoft KB 933430)
NEAR = 12_288  # bytes: three quarters of the limit, where a few more roots (Windows adds them on demand) tip it over
PREFIX = 2  # TLS: opaque DistinguishedName<1..2^16-1>, each name in certificate_authorities carries a 2-byte length
KB_2880390_BUILD = 9200  # Windows Server 2012 / Windows 8: over 16 KB breaks client authentication whatever the value

TRIM = (
    "Beyond the KB (X5): Schannel sends the subject of every certificate in LocalMachine\\Root to a client it asks for a "
    "certificate when SendTrustedIssuerList is 1 (the default before Windows Server 2012), and supports at most 16 KB of "
    "them (Microsoft KB 933430); past that the list is cut and client authentication fails. On Windows Server 2012 this "
    "happens whatever SendTrustedIssuerList says (Microsoft KB 2880390). Stop sending the list, and remove the roots this "
    "server does not need (export each one first). Measure what Root would send, then stop sending it:\n"
    "  (Get-ChildItem Cert:\\LocalMachine\\Root | Sort-Object Thumbprint -Unique | ForEach-Object { $_.SubjectName.RawData.Length + 2 } | Measure-Object -Sum).Sum\n"
    f"  New-ItemProperty -Path 'Registry::{SCHANNEL}' -Name SendTrustedIssuerList -Value 0 -PropertyType DWord -Force\n"
    "  Restart-Computer"
)
UNREADABLE_VALUE = (
    "Beyond the KB (X5): Schannel's SendTrustedIssuerList is documented as a DWORD, 1 (send the trusted issuer list) or 0 "
    "(do not). Look at what is there, then set the value the server should have:\n"
    f"  Get-ItemProperty -Path 'Registry::{SCHANNEL}' -Name SendTrustedIssuerList\n"
    f"  New-ItemProperty -Path 'Registry::{SCHANNEL}' -Name SendTrustedIssuerList -Value 0 -PropertyType DWord -Force"
)


@dataclass(frozen=True)
class _Measure:
    """The list Schannel builds from Root: each certificate once (by thumbprint), its DER subject and 2-byte length."""

    size: int
    certificates: int
    duplicates: int
    unreadable: tuple[str, ...]

    def describe(self, label: str) -> str:
        twice = f"; {self.duplicates} more file(s) hold a certificate already counted (same thumbprint), counted once" if self.duplicates else ""
        return (f"{label}: {self.certificates} distinct certificate(s){twice}; subjects + 2-byte lengths = {self.size:,} bytes "
                f"(limit {LIMIT:,}, warning above {NEAR:,})")


def _measure(root_store: Store) -> _Measure:
    distinct = {c.thumbprint: c for c in root_store}
    unreadable = {u.thumbprint: u for u in root_store.unreadable if u.thumbprint not in distinct}
    size = sum(len(certificate_parts(c.der).subject) + PREFIX for c in distinct.values())
    duplicates = len(root_store.certificates) - len(distinct) + len(root_store.unreadable) - len(unreadable)
    return _Measure(size, len(distinct), duplicates, tuple(u.describe() for u in unreadable.values()))


def _band(size: int) -> str:
    return "over the limit" if size > LIMIT else "near the limit" if size > NEAR else "within the limit"


def judge_issuer_list(registry: RegistryView, root_store: Store, os_version: str) -> Verdict:
    """X5 (sources in the module docstring): whether the list's size matters follows from SendTrustedIssuerList, the
    OS default of the build the manifest names and KB 2880390; where it matters, fail above 16,384 bytes and warn
    above 12,288. A value Schannel does not document warns; an unreadable OS build is not judged where it decides."""
    setting = trusted_issuer_list(registry, os_version)
    build, sends = setting.build, setting.sends
    os_line = f"OS build {build} ({MANIFEST} os_version)" if build is not None else f"{MANIFEST}: {setting.no_build}"
    shown = f"{SCHANNEL}: SendTrustedIssuerList={setting.shown()} ({registry.source(SCHANNEL)})"
    facts: Facts = {"SendTrustedIssuerList": setting.shown()}
    if not setting.interpretable:
        measure = _measure(root_store)
        facts["trusted issuer list"] = _band(measure.size)
        return Verdict.warned(f"SendTrustedIssuerList is {setting.shown()}, not a DWORD 0 or 1: casgate cannot tell whether Schannel "
                              "sends the trusted issuer list", (shown, measure.describe(root_store.label), *measure.unreadable),
                              UNREADABLE_VALUE, facts)
    kb_2880390 = None if build is None else build == KB_2880390_BUILD
    why = setting.why() + ("; Windows Server 2012 / Windows 8 break over 16 KB even when it is not sent, KB 2880390" if kb_2880390 else "")
    if sends is False and kb_2880390 is False:
        return Verdict.passed(f"Schannel does not send the trusted issuer list ({why}): not sent", (shown, os_line), facts)
    measure = _measure(root_store)
    evidence = (shown, os_line, measure.describe(root_store.label), *_other_sources(sends, build))
    if measure.unreadable and measure.size <= LIMIT:
        raise EvidenceError(root_store.label, f"{len(measure.unreadable)} file(s) could not be read, so the list's size is unknown: "
                                              + "; ".join(measure.unreadable))
    band = _band(measure.size)
    facts["trusted issuer list"] = band
    if sends is None or (sends is False and kb_2880390 is None):
        if measure.size <= NEAR:
            return Verdict.passed(f"the trusted issuer list would be {measure.size:,} bytes, within its {LIMIT:,}-byte limit whether "
                                  f"or not Schannel sends it ({why})", evidence, facts)
        raise EvidenceError(MANIFEST, f"{setting.no_build}: LocalMachine\\Root's list is {measure.size:,} bytes, {band}, and whether "
                                      f"that matters depends on the Windows build ({why}); record os_version as Windows prints it "
                                      "(Get-CimInstance Win32_OperatingSystem: Caption and Version)")
    what = "the trusted issuer list Schannel sends" if sends else "LocalMachine\\Root's trusted issuer list"
    if measure.size > LIMIT:
        return Verdict.failed(f"{what} is {measure.size:,} bytes, over its {LIMIT:,}-byte limit ({why}): client certificate "
                              "authentication (the phones' certauth) breaks", evidence, TRIM, facts)
    if measure.size > NEAR:
        return Verdict.warned(f"{what} is {measure.size:,} bytes, near its {LIMIT:,}-byte limit ({why})", evidence, TRIM, facts)
    return Verdict.passed(f"{what} is {measure.size:,} bytes, within its {LIMIT:,}-byte limit ({why})", evidence, facts)


def _other_sources(sends: bool | None, build: int | None) -> tuple[str, ...]:
    """What casgate does not collect but Schannel may send instead of Root (the Schannel overview, same section)."""
    if sends and build is not None and build >= ISSUER_LIST_DEFAULT_OFF_FROM_BUILD:
        return ("noted: from Windows Server 2012 on Schannel sends the 'Client Authentication Issuers' store instead of Root when "
                "that store holds certificates; casgate does not collect it and measured Root",)
    return ()
