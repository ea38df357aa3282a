"""Beyond the KB (X6): keystore server.crt must chain to the keystore's ca.crt, the HQ's own CA: issuer name,
signature, and a CA certificate that may sign certificates and is valid at collection time."""

from __future__ import annotations

from datetime import datetime

from casgate import pki
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


def _ca_problems(ca_crt: Certificate) -> tuple[list[str], list[str]]:
    """(problems, notes) of ca.crt as the issuer of server.crt.

    A self-signed ca.crt is the phones' trust anchor: RFC 5280 6.1 does not process a trust anchor's extensions, and
    OpenSSL's X509_check_ca (the phones' verifier) accepts a v1 root without any and a v3 root whose keyUsage allows
    keyCertSign without basicConstraints; it refuses explicit cA=FALSE, a keyUsage without keyCertSign, and a v3 root
    with neither extension. A ca.crt that is not self-signed is an intermediate: RFC 5280 6.1.4 (k) and (n) require
    basicConstraints cA=TRUE and, when keyUsage is present, keyCertSign (stricter than OpenSSL without -x509_strict,
    which also takes keyCertSign alone: a deliberate difference, tests/test_pki_oracle.py)."""
    try:
        ext = pki.ca_extensions(ca_crt)
    except ValueError as exc:
        raise EvidenceError(ca_crt.source, f"its CA extensions cannot be read ({exc})") from None
    problems, notes = [], []
    if ext.key_cert_sign is False:
        problems.append("ca.crt's keyUsage lacks keyCertSign: it may not sign certificates")
    if ext.ca is False:
        problems.append("ca.crt has basicConstraints cA=FALSE: it is not a CA certificate")
    elif ext.ca is None and not ca_crt.self_signed:
        problems.append("ca.crt has no basicConstraints cA=TRUE: an intermediate CA must (RFC 5280 6.1.4 k)")
    elif ext.ca is None and ext.version == 1:
        notes.append("ca.crt is a v1 self-signed trust anchor without extensions: accepted (RFC 5280 6.1; OpenSSL accepts a v1 root)")
    elif ext.ca is None and ext.key_cert_sign is None:
        problems.append("ca.crt is a v3 certificate with neither basicConstraints nor keyUsage: OpenSSL, the phones' verifier, "
                        "does not accept it as a CA")
    elif ext.ca is None:
        notes.append("ca.crt has no basicConstraints; as a self-signed trust anchor with keyCertSign it is accepted (RFC 5280 6.1, OpenSSL)")
    if ext.key_cert_sign is None and ext.version == 3:
        notes.append("ca.crt has no keyUsage extension (RFC 5280 4.2.1.3 wants one; path validation 6.1.4 checks it only when present)")
    return problems, notes


def _issuer_problem(server_crt: Certificate, ca_crt: Certificate) -> tuple[str | None, str | None]:
    """(problem, note) of server.crt's link to ca.crt: the names (RFC 5280 7.1), then the signature."""
    if not pki.same_name(pki.issuer_of(server_crt), pki.subject_of(ca_crt)):
        return f"server.crt's issuer {server_crt.issuer} is not ca.crt's subject {ca_crt.subject}", None
    signed = pki.signed_by(server_crt, ca_crt)
    if signed.verifies is None:
        return None, f"server.crt's signature ({server_crt.signature_algorithm}) not checked: {signed.detail}"
    return (None, None) if signed.verifies else (f"the signature of server.crt does not verify with ca.crt's key ({signed.detail})", None)


def judge_chain(server_crt: Certificate, ca_crt: Certificate, at: datetime, warn_days: int) -> Verdict:
    """X6, RFC 5280 4.2.1.3, 4.2.1.9, 6.1 and 7.1 (https://www.rfc-editor.org/rfc/rfc5280#section-6.1): server.crt's
    issuer is ca.crt's subject and ca.crt's key verifies its signature (any algorithm 1a checks, SHA-1 and MD5 too);
    ca.crt may sign certificates and is valid at collection time. server.crt's own validity is X2's."""
    validity = validity_at(ca_crt, "keystore ca.crt", at, warn_days)
    problems, notes = _ca_problems(ca_crt)
    link, unchecked = _issuer_problem(server_crt, ca_crt)
    problems[:0] = [link] if link else []
    if validity.broken:
        problems.append(f"ca.crt is {validity.state} at collection time")
    evidence = (f"keystore server.crt: {server_crt.describe()}", validity.line,
                *notes, *([unchecked] if unchecked else []), *(f"<- {p}" for p in problems))
    facts: Facts = {"server.crt issuer": server_crt.issuer, "ca.crt": ca_crt.thumbprint, "ca.crt validity": validity.fact,
                    "chain problems": tuple(problems)}
    if problems:
        return Verdict.failed(f"keystore server.crt does not chain to the keystore's ca.crt: {problems[0]}", evidence, REISSUE, facts)
    if unchecked:
        raise EvidenceError(server_crt.source, f"{unchecked}; whether ca.crt signed it is not known")
    if validity.state == EXPIRING:
        return Verdict.warned(f"keystore ca.crt, which issued server.crt, expires within {warn_days} day(s) of collection", evidence,
                              REISSUE, facts)
    return Verdict.passed("keystore server.crt is issued and signed by the keystore's ca.crt, a valid CA", evidence, facts)
