"""Beyond the KB (X6): keystore server.crt must chain to the keystore's ca.crt, the HQ's own CA: issuer name,
signature, and a CA certificate that may sign certificates and is valid at collection time."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from casgate.certs import Certificate
from casgate.checks.validity import EXPIRING, validity_at
from casgate.errors import EvidenceError
from casgate.verdict import Facts, Verdict

REISSUE = (
    "Beyond the KB (X6): the server certificate does not chain to the keystore's CA certificate, so a client that trusts "
    "the HQ's CA cannot build a path to it (RFC 5280 6.1). Either server.crt was issued by another CA, or ca.crt was "
    "replaced (a reinstall, a restore from another server). Re-issue server.crt from the CA in ca.crt, or put back the "
    "ca.crt that issued it, then bind the result (cause 2). Show what Windows makes of the pair:\n"
    "  certutil -dump \"<Shoreline Data>\\Keystore\\certs\\ca.crt\"\n"
    "  certutil -verify \"<Shoreline Data>\\Keystore\\certs\\server.crt\""
)


def _load(cert: Certificate) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(cert.der)
    except ValueError as exc:
        raise EvidenceError(cert.source, f"cannot be parsed ({exc})") from None


def _extension(cert: x509.Certificate, kind: type[x509.ExtensionType], source: str) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:
        raise EvidenceError(source, f"holds a malformed {kind.__name__} extension ({exc})") from None


def _signed_by(server: x509.Certificate, ca: x509.Certificate) -> str | None:
    """None when ca's key verifies server's signature, else why not."""
    try:
        server.verify_directly_issued_by(ca)
    except InvalidSignature:
        return "the signature of server.crt does not verify with ca.crt's key"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return f"the signature of server.crt cannot be verified with ca.crt's key ({exc})"
    return None


def _ca_problems(ca: x509.Certificate, source: str) -> tuple[list[str], list[str]]:
    """(problems, notes) of ca.crt as an issuer: RFC 5280 4.2.1.9 cA=TRUE, and 4.2.1.3 keyCertSign when keyUsage is present."""
    problems, notes = [], []
    constraints = _extension(ca, x509.BasicConstraints, source)
    if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
        problems.append("ca.crt has no basicConstraints cA=TRUE: it is not a CA certificate")
    usage = _extension(ca, x509.KeyUsage, source)
    if usage is None:
        notes.append("ca.crt has no keyUsage extension (RFC 5280 4.2.1.3 wants one; path validation 6.1.4 checks it only when present)")
    elif isinstance(usage, x509.KeyUsage) and not usage.key_cert_sign:
        problems.append("ca.crt's keyUsage lacks keyCertSign: it may not sign certificates")
    return problems, notes


def judge_chain(server_crt: Certificate, ca_crt: Certificate, at: datetime, warn_days: int) -> Verdict:
    """X6, RFC 5280 4.2.1.3, 4.2.1.9 and 6.1 (https://www.rfc-editor.org/rfc/rfc5280#section-6.1): server.crt's issuer is
    ca.crt's subject and ca.crt's key verifies its signature; ca.crt is a CA that may sign certificates and is valid at
    collection time. server.crt's own validity is X2's."""
    server, ca = _load(server_crt), _load(ca_crt)
    validity = validity_at(ca_crt, "keystore ca.crt", at, warn_days)
    problems, notes = _ca_problems(ca, ca_crt.source)
    if server.issuer != ca.subject:
        problems.insert(0, f"server.crt's issuer {server_crt.issuer} is not ca.crt's subject {ca_crt.subject}")
    else:
        signature = _signed_by(server, ca)
        problems[:0] = [signature] if signature else []
    if validity.broken:
        problems.append(f"ca.crt is {validity.state} at collection time")
    evidence = (f"keystore server.crt: {server_crt.describe()}", validity.line,
                *notes, *(f"<- {p}" for p in problems))
    facts: Facts = {"server.crt issuer": server_crt.issuer, "ca.crt": ca_crt.thumbprint, "ca.crt validity": validity.fact,
                    "chain problems": tuple(problems)}
    if problems:
        return Verdict.failed(f"keystore server.crt does not chain to the keystore's ca.crt: {problems[0]}", evidence, REISSUE, facts)
    if validity.state == EXPIRING:
        return Verdict.warned(f"keystore ca.crt, which issued server.crt, expires within {warn_days} day(s) of collection", evidence,
                              REISSUE, facts)
    return Verdict.passed("keystore server.crt is issued and signed by the keystore's ca.crt, a valid CA", evidence, facts)
