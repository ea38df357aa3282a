"""KB reason 1: what sits in LocalMachine\\Root, and the ClientAuthTrustMode workaround that can hide it."""

from __future__ import annotations

from casgate import pki
from casgate.certs import Certificate, Store, Unreadable
from casgate.errors import EvidenceError
from casgate.regfile import RegistryView
from casgate.schannel import SCHANNEL, dword
from casgate.verdict import Facts, Verdict

ROOT_CLEANUP = (
    "KB reason 1a: remove the certificate(s) that are not self-signed from Local Computer > Trusted Root "
    "Certification Authorities, then restart the World Wide Web Publishing Service. From an administrative "
    "PowerShell, review the KB's list, then export each one to a backup folder before removing it (if a service "
    "still needs one as an intermediate, move it instead: Move-Item Cert:\\LocalMachine\\Root\\<thumbprint> "
    "Cert:\\LocalMachine\\CA):\n"
    "  Get-ChildItem Cert:\\LocalMachine\\Root | Where-Object { $_.Issuer -ne $_.Subject } | Format-List 'Subject', 'Issuer', 'Thumbprint'\n"
    "  $backup = \"$env:SystemDrive\\casgate-backup\\Root-$(Get-Date -Format yyyyMMdd-HHmmss)\"\n"
    "  New-Item -ItemType Directory -Force -Path $backup | Out-Null\n"
    "{removals}"
    "  Restart-Service W3SVC"
)

MITEL_ROOT_INSTALL = (
    "KB reason 1b: install the Mitel hardware root CA into Local Computer > Trusted Root Certification "
    "Authorities (from an administrative PowerShell), then retest the phones:\n"
    "  Import-Certificate -FilePath \"<Shoreline Data>\\Keystore\\certs\\Mitel_mfg_ca.crt\" -CertStoreLocation Cert:\\LocalMachine\\Root"
)

WORKAROUND_REVIEW = (
    "ClientAuthTrustMode=2 is the KB's temporary workaround for reason 1a: it hides a polluted root store rather "
    "than fixing it. Fix the root store (check 1a), then remove the value and restart IIS:\n"
    f"  Remove-ItemProperty -Path 'Registry::{SCHANNEL}' -Name ClientAuthTrustMode\n"
    "  Restart-Service W3SVC"
)


def _why_not_self_signed(cert: Certificate | Unreadable) -> str:
    if isinstance(cert, Unreadable):
        return f"{cert.note} (read from the DER; cryptography cannot load it)"
    if cert.issuer != cert.subject:
        return "Issuer differs from Subject"
    return "Issuer equals Subject but the signature does not verify with its own key"


def _removal(thumb: str) -> str:
    """Export first, then remove: a fix never destroys without a backup."""
    return (f"  Get-Item Cert:\\LocalMachine\\Root\\{thumb} | Export-Certificate -Type CERT -FilePath \"$backup\\{thumb}.cer\"\n"
            f"  Remove-Item Cert:\\LocalMachine\\Root\\{thumb}\n")


def offenders_of(root_store: Store) -> list[Certificate | Unreadable]:
    """Certificates that are not self-signed; an unreadable file counts only when its raw names differ."""
    return [*(c for c in root_store.certificates if not c.self_signed), *(u for u in root_store.unreadable if u.self_signed is False)]


def judge_root_store(root_store: Store) -> Verdict:
    """1a: every certificate in LocalMachine\\Root must be self-signed; a file that cannot be judged is never a pass."""
    offenders = offenders_of(root_store)
    unjudged = root_store.not_read()
    unreadable = [f"could not be read (not judged): {u.describe()}" for u in unjudged]
    facts: Facts = {"not self-signed in Root": tuple(sorted(f"{_subject(c)} ({c.thumbprint})" for c in offenders))}
    if offenders:
        return Verdict.failed(
            f"LocalMachine\\Root holds {len(offenders)} certificate(s) that are not self-signed; "
            "IIS then answers the phones' certauth with 403.16 (CERT_E_UNTRUSTEDROOT)",
            tuple(f"{c.describe()}: {_why_not_self_signed(c)}" for c in offenders) + tuple(unreadable),
            ROOT_CLEANUP.replace("{removals}", "".join(_removal(c.thumbprint) for c in offenders)),
            facts,
        )
    if unjudged:
        raise EvidenceError(root_store.label, f"{len(unjudged)} file(s) could not be judged: " + "; ".join(u.describe() for u in unjudged))
    checked = [f"{c.subject} ({c.thumbprint}): {note}" for c in root_store.certificates for note in c.notes]
    checked += [f"{u.describe()}: {u.note}" for u in root_store.unreadable]
    return Verdict.passed(f"all {len(root_store)} certificates in LocalMachine\\Root are self-signed", tuple(checked), facts)


def _subject(cert: Certificate | Unreadable) -> str:
    return cert.subject if isinstance(cert, Certificate) else cert.source


def judge_mitel_root(root_store: Store, mitel_ca: Certificate) -> Verdict:
    """1b: the keystore's Mitel_mfg_ca.crt must be in LocalMachine\\Root, matched by thumbprint. Found among the files
    read, it passes whatever else could not be read; not found, it is missing only if every file was read."""
    present = mitel_ca.thumbprint in root_store.thumbprints()
    facts: Facts = {"Mitel_mfg_ca.crt": mitel_ca.thumbprint, "in Root": "yes" if present else "no"}
    if present:
        return Verdict.passed(f"Mitel HW root CA {mitel_ca.thumbprint} is in LocalMachine\\Root", facts=facts)
    same_name = [c for c in root_store if pki.same_subject(c, mitel_ca)]
    evidence = [f"keystore: {mitel_ca.describe()}", f"LocalMachine\\Root: {len(root_store)} certificates, none with thumbprint {mitel_ca.thumbprint}"]
    evidence += [f"same subject, other thumbprint: {c.describe()}" for c in same_name]
    not_read = root_store.not_read()
    if not_read:
        raise EvidenceError(root_store.label, f"Mitel_mfg_ca.crt ({mitel_ca.thumbprint}) is not among the certificates read, but "
                                              f"{len(not_read)} file(s) could not be read, so its absence is not known: "
                                              + "; ".join(u.describe() for u in not_read))
    return Verdict.failed(
        "the Mitel hardware root CA from the keystore is missing from LocalMachine\\Root; IIS cannot trust the phones' certificates",
        tuple(evidence),
        MITEL_ROOT_INSTALL,
        facts,
    )


def root_cause_hint(root_store: Store, mitel_ca: Certificate) -> str:
    """Which of 1a / 1b the root store supports, for the IIS log check's 403.16 attribution."""
    causes = []
    if offenders_of(root_store):
        causes.append("1a (a certificate in LocalMachine\\Root is not self-signed)")
    if mitel_ca.thumbprint not in root_store.thumbprints():
        causes.append("1b (Mitel_mfg_ca.crt is not in LocalMachine\\Root)" if not root_store.not_read() else
                      "maybe 1b (Mitel_mfg_ca.crt is not among the Root files read; some could not be read)")
    if not causes and root_store.not_read():
        return f"host evidence: cannot tell 1a from 1b, {len(root_store.not_read())} LocalMachine\\Root file(s) could not be read"
    if not causes:
        return "host evidence: the root store shows neither 1a nor 1b; check the phones' certificate chain"
    return "host evidence supports cause " + " and ".join(causes)


def judge_trust_mode(registry: RegistryView) -> Verdict:
    """1, workaround: ClientAuthTrustMode=2 masks reason 1a, so it is reported, never silently passed."""
    mode = dword(registry, "ClientAuthTrustMode")
    shown = f"{SCHANNEL}: ClientAuthTrustMode={'(absent)' if mode is None else mode} ({registry.source(SCHANNEL)})"
    facts: Facts = {"ClientAuthTrustMode": "(absent)" if mode is None else str(mode)}
    if mode != 2:
        return Verdict.passed("the ClientAuthTrustMode workaround is not in place", (shown,), facts)
    return Verdict.warned(
        "the KB workaround ClientAuthTrustMode=2 (Exclusive CA Trust) is in place and may mask a root store problem (reason 1a)",
        (shown,),
        WORKAROUND_REVIEW,
        facts,
    )
