"""Beyond the KB (X4): the Mitel hardware root itself, not only its presence (1b): the keystore's Mitel_mfg_ca.crt must
be valid at collection time, and LocalMachine\\Root must hold no other certificate with its subject but another key."""

from __future__ import annotations

from datetime import datetime

from casgate import pki
from casgate.certs import Certificate, Store
from casgate.checks.validity import EXPIRING, VALID, validity_at
from casgate.der import DerError
from casgate.errors import EvidenceError
from casgate.verdict import Facts, Verdict

STALE_REMOVAL = (
    "Beyond the KB (X4): LocalMachine\\Root holds a certificate with the Mitel hardware root's subject but another key: "
    "an old or foreign copy, which cannot verify the phones' certificates and hides which Mitel root is trusted. Back it up, "
    "remove it, and make sure the keystore's own copy is there (check 1b):\n"
    "  $backup = \"$env:SystemDrive\\casgate-backup\\Root-$(Get-Date -Format yyyyMMdd-HHmmss)\"\n"
    "  New-Item -ItemType Directory -Force -Path $backup | Out-Null\n"
    "{removals}"
    "  Import-Certificate -FilePath \"<Shoreline Data>\\Keystore\\certs\\Mitel_mfg_ca.crt\" -CertStoreLocation Cert:\\LocalMachine\\Root\n"
    "  Restart-Service W3SVC"
)
OUT_OF_DATE = (
    "Beyond the KB (X4): the keystore's Mitel_mfg_ca.crt is outside (or near the end of) its validity period at collection "
    "time; a chain that ends in it fails path validation (RFC 5280 6.1.3). The keystore copy comes with Mitel Connect: get "
    "the current Mitel hardware root from Mitel, then compare the keystore's copy with the one in Root:\n"
    "  certutil -dump \"<Shoreline Data>\\Keystore\\certs\\Mitel_mfg_ca.crt\"\n"
    "  Get-Item Cert:\\LocalMachine\\Root\\{thumb} | Format-List 'Subject', 'NotBefore', 'NotAfter', 'Thumbprint'\n"
    "If the dates look right, check the server's clock: validity is judged at collection time."
)


def _another_key(cert: Certificate, mitel_ca: Certificate) -> bool:
    """By the key's value (pki.same_key): the same RSA key written with or without NULL parameters is not another key."""
    try:
        return not pki.same_key(cert, mitel_ca)
    except (DerError, ValueError) as exc:
        raise EvidenceError(cert.source, f"its public key cannot be read ({exc})") from None


def _removal(thumb: str) -> str:
    return (f"  Get-Item Cert:\\LocalMachine\\Root\\{thumb} | Export-Certificate -Type CERT -FilePath \"$backup\\{thumb}.cer\"\n"
            f"  Remove-Item Cert:\\LocalMachine\\Root\\{thumb}\n")


def judge_mitel_root_itself(mitel_ca: Certificate, root_store: Store, at: datetime, warn_days: int) -> Verdict:
    """X4, RFC 5280 4.1.2.5, 6.1.3 and 7.1 (https://www.rfc-editor.org/rfc/rfc5280): the Mitel root is valid at collection
    time and is the only key in Root under its subject (names compared as RFC 5280 7.1 does, keys by value). Its absence
    from Root stays cause 1b's finding."""
    validity = validity_at(mitel_ca, "keystore Mitel_mfg_ca.crt", at, warn_days)
    same_subject = [c for c in root_store if pki.same_subject(c, mitel_ca)]
    stale = [c for c in same_subject if _another_key(c, mitel_ca)]
    evidence = [validity.line]
    if mitel_ca.thumbprint not in root_store.thumbprints():
        evidence.append("LocalMachine\\Root: not among the files read (cause 1b)" if root_store.not_read() else "LocalMachine\\Root: not there (cause 1b)")
    evidence += [f"LocalMachine\\Root, same subject and key: {c.describe()}" for c in same_subject if c not in stale]
    evidence += [f"LocalMachine\\Root, same subject, another key: {c.describe()}  <- stale or foreign copy" for c in stale]
    facts: Facts = {"Mitel_mfg_ca.crt": f"{mitel_ca.thumbprint}: {validity.fact}",
                    "same subject, another key in Root": tuple(sorted(c.thumbprint for c in stale))}
    remediation = "\n".join(
        ([STALE_REMOVAL.replace("{removals}", "".join(_removal(c.thumbprint) for c in stale))] if stale else [])
        + ([OUT_OF_DATE.replace("{thumb}", mitel_ca.thumbprint)] if validity.state != VALID else []))
    problems = ([f"the keystore's Mitel_mfg_ca.crt is {validity.state} at collection time"] if validity.broken else []) + (
        [f"LocalMachine\\Root holds {len(stale)} other certificate(s) named {mitel_ca.subject} with another key"] if stale else [])
    if problems:
        return Verdict.failed("; ".join(problems), tuple(evidence), remediation, facts)
    if root_store.unreadable:  # a file casgate cannot read could be the stale copy: "no other key" is not known
        raise EvidenceError(root_store.label, f"{len(root_store.unreadable)} file(s) could not be read, so other keys under "
                                              f"{mitel_ca.subject} cannot be ruled out: " + "; ".join(u.describe() for u in root_store.unreadable))
    if validity.state == EXPIRING:
        return Verdict.warned(f"the keystore's Mitel_mfg_ca.crt expires within {warn_days} day(s) of collection", tuple(evidence),
                              remediation, facts)
    return Verdict.passed("the Mitel hardware root is valid and Root holds no other key under its name", tuple(evidence), facts)
