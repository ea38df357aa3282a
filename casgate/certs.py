"""Read certificates as Windows exports them (DER or PEM) and describe them the way certlm.msc does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization

from casgate.errors import EvidenceError, PrivateKeyRefused

_KEY_SUFFIXES = {".pfx", ".p12", ".key", ".pvk"}


@dataclass(frozen=True)
class Certificate:
    """One certificate with the fields an administrator compares: thumbprint, subject, issuer, validity."""

    source: str
    thumbprint: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    self_signed: bool
    der: bytes = field(repr=False, compare=False)

    def describe(self) -> str:
        return f"{self.subject} (issuer {self.issuer}; thumbprint {self.thumbprint}; {self.source})"


def thumbprint(der: bytes) -> str:
    """The SHA-1 thumbprint as Windows shows it: upper-case hex, no separators."""
    digest = hashes.Hash(hashes.SHA1())
    digest.update(der)
    return digest.finalize().hex().upper()


def normalise_thumbprint(value: str) -> str:
    """Thumbprints copied from the MMC carry spaces and sometimes an invisible U+200E mark."""
    return "".join(ch for ch in value if ch in "0123456789abcdefABCDEF").upper()


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals Subject and the signature verifies with the certificate's own public key."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def describe(cert: x509.Certificate, source: str) -> Certificate:
    der = cert.public_bytes(serialization.Encoding.DER)
    return Certificate(
        source=source,
        thumbprint=thumbprint(der),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        self_signed=is_self_signed(cert),
        der=der,
    )


def refuse_private_key_bytes(data: bytes, label: str) -> None:
    if b"PRIVATE KEY-----" in data:
        raise PrivateKeyRefused(label)
    try:
        serialization.load_der_private_key(data, password=None)
    except TypeError:  # an encrypted private key: still a private key
        raise PrivateKeyRefused(label) from None
    except (ValueError, UnsupportedAlgorithm):
        return
    raise PrivateKeyRefused(label)


def refuse_private_key(path: Path, label: str) -> bytes:
    """The file's bytes, unless it is (or holds) a private key: then PrivateKeyRefused naming `label`."""
    if path.suffix.lower() in _KEY_SUFFIXES:
        raise PrivateKeyRefused(label)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvidenceError(label, f"cannot be read ({exc.strerror or exc})") from None
    refuse_private_key_bytes(data, label)
    return data


def load_certificate(path: Path, label: str) -> Certificate:
    """Load one DER or PEM certificate; a private key or anything else is an EvidenceError naming `label`."""
    data = refuse_private_key(path, label)
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            certs = x509.load_pem_x509_certificates(data)
            if len(certs) != 1:
                raise EvidenceError(label, f"holds {len(certs)} certificates; export one certificate per file")
            return describe(certs[0], label)
        return describe(x509.load_der_x509_certificate(data), label)
    except ValueError as exc:
        raise EvidenceError(label, f"is not a DER or PEM X.509 certificate ({exc})") from None


def load_store(folder: Path, label: str) -> tuple[Certificate, ...]:
    """Every certificate file in an exported store folder, sorted by file name for stable reports."""
    if not folder.is_dir():
        raise EvidenceError(label, "folder is missing; export the store with Export-Certificate (see docs/snapshot-format.md)")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise EvidenceError(label, "folder holds no certificate; a Windows certificate store is never empty")
    return tuple(load_certificate(p, f"{label}{p.name}") for p in files)
