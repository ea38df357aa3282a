"""Read certificates as Windows exports them (every format casgate.certfile knows) and describe them the way certlm.msc does."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from functools import lru_cache
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from casgate.certfile import CertificateFile, CertificateFileError, PrivateKeyInside, read_certificate_file
from casgate.der import DerError, certificate_parts
from casgate.errors import EvidenceError, PrivateKeyRefused
from casgate.pki import Unverifiable, algorithm_name, self_signature, verify_raw
from casgate.thumbprint import thumbprint  # noqa: F401 - used here and imported from here by callers

_KEY_SUFFIXES = {".pfx", ".p12", ".key", ".pvk"}
MAX_CERT_BYTES = 1 << 20  # a certificate file is a few KB; a megabyte is already absurd
MAX_STORE_FILE_BYTES = 32 << 20  # a whole store in one .sst/.p7b: a few KB per certificate, thousands of certificates


@dataclass(frozen=True)
class Certificate:
    """One certificate with the fields an administrator compares: thumbprint, subject, issuer, validity;
    `notes` say what could not be checked (e.g. an MD2 signature) so a pass never hides it."""

    source: str
    thumbprint: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    self_signed: bool
    signature_algorithm: str = ""
    notes: tuple[str, ...] = ()
    der: bytes = field(default=b"", repr=False, compare=False)

    def describe(self) -> str:
        return f"{self.subject} (issuer {self.issuer}; thumbprint {self.thumbprint}; {self.source})"


@dataclass(frozen=True)
class Unreadable:
    """A certificate file cryptography refuses to load: named by file and SHA-1, judged from its raw DER where
    possible (`self_signed` None when even that could not be read); `note` says how it was judged."""

    source: str
    thumbprint: str
    problem: str
    self_signed: bool | None
    note: str = ""

    def describe(self) -> str:
        if not self.thumbprint:  # the file itself could not be read
            return f"{self.source}: {self.problem}"
        return f"{self.source} (thumbprint {self.thumbprint}): cryptography cannot load it ({self.problem})"


@dataclass(frozen=True)
class Store:
    """An exported certificate store: the certificates read, and the files that could not be."""

    label: str
    certificates: tuple[Certificate, ...]
    unreadable: tuple[Unreadable, ...] = ()

    def __iter__(self) -> Iterator[Certificate]:
        return iter(self.certificates)

    def __len__(self) -> int:
        return len(self.certificates) + len(self.unreadable)

    def thumbprints(self) -> set[str]:
        return {c.thumbprint for c in self.certificates} | {u.thumbprint for u in self.unreadable}

    def not_read(self) -> tuple[Unreadable, ...]:
        """Files (or entries) not known to be certificates at all: what they hold is unknown, so no check may
        conclude that a certificate is absent from the store while there are any."""
        return tuple(u for u in self.unreadable if u.self_signed is None)


def normalise_thumbprint(value: str) -> str:
    """Thumbprints copied from the MMC carry spaces and sometimes an invisible U+200E mark."""
    return "".join(ch for ch in value if ch in "0123456789abcdefABCDEF").upper()


def describe(cert: x509.Certificate, source: str, load_notes: tuple[str, ...] = ()) -> Certificate:
    der = cert.public_bytes(serialization.Encoding.DER)
    self_signed, notes = self_signature(cert)
    return Certificate(
        source=source,
        thumbprint=thumbprint(der),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        self_signed=self_signed,
        signature_algorithm=algorithm_name(cert),
        notes=load_notes + notes,
        der=der,
    )


def refuse_private_key_bytes(data: bytes, label: str) -> None:
    """Refuse a private key in every encoding Windows exports: PEM, DER PKCS#1/PKCS#8 (encrypted or not), PFX and
    Microsoft's PVK, also inside Base64, UTF-16 text or PEM armour (certutil -encode wraps any bytes)."""
    try:
        read_certificate_file(data)
    except PrivateKeyInside:
        raise PrivateKeyRefused(label) from None
    except CertificateFileError:
        return


def _read_bytes(path: Path, label: str, limit: int) -> bytes:
    """A snapshot file's bytes; a key file's name is refused unread, and a file past `limit` is not read at all."""
    if path.suffix.lower() in _KEY_SUFFIXES:
        raise PrivateKeyRefused(label)
    try:
        with open(path, "rb") as file:  # one open: its size from the open file, then the bytes
            size = os.fstat(file.fileno()).st_size
            if size > limit:
                raise EvidenceError(label, f"is {size} bytes; a certificate file is a few KB, a store export a few MB (limit {limit})")
            return file.read()
    except OSError as exc:
        raise EvidenceError(label, f"cannot be read ({exc.strerror or exc})") from None


def refuse_private_key(path: Path, label: str) -> bytes:
    """The file's bytes, unless it is (or holds) a private key: then PrivateKeyRefused naming `label`."""
    data = _read_bytes(path, label, MAX_CERT_BYTES)
    refuse_private_key_bytes(data, label)
    return data


@lru_cache(maxsize=4096)
def _decoded_certificate_file(data: bytes) -> CertificateFile:
    """A certificate-sized file decoded once per process: a fleet's hosts hold the same roots, byte for byte."""
    return read_certificate_file(data)


def _decoded_file(data: bytes, label: str) -> CertificateFile:
    """The certificates a file's bytes hold, in any format Windows writes; a private key is refused, anything else that
    is not a certificate file is an EvidenceError naming the file."""
    try:
        return _decoded_certificate_file(data) if len(data) <= MAX_CERT_BYTES else read_certificate_file(data)
    except PrivateKeyInside:
        raise PrivateKeyRefused(label) from None
    except CertificateFileError as exc:
        raise EvidenceError(label, f"is not a certificate file in any format Windows writes: {exc}") from None


def _single_der(found: CertificateFile, label: str) -> bytes:
    """The DER of the one certificate a file holds; none or more than one is an error (server.crt is one certificate)."""
    if len(found.certificates) != 1:
        raise EvidenceError(label, f"holds {len(found.certificates)} certificates ({found.format}); it must hold exactly one")
    return found.certificates[0]


def read_certificate(path: Path, label: str) -> Certificate | Unreadable:
    """The one certificate a file holds, in any format Windows writes, or Unreadable when cryptography refuses it; a
    private key is refused, and a file holding none or several is an EvidenceError."""
    return replace(_judged(_single_der(_decoded_file(_read_bytes(path, label, MAX_CERT_BYTES), label), label)), source=label)


@lru_cache(maxsize=4096)
def _judged(der: bytes) -> Certificate | Unreadable:
    """A certificate parsed and its self-signature checked once per process: a fleet's hosts share most roots."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cert = x509.load_der_x509_certificate(der)
            cert.subject, cert.issuer  # noqa: B018 - names are parsed lazily; a broken one must fail here
        except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm) as exc:
            return _unreadable(der, "", str(exc))
    notes = tuple(f"loaded with a warning: {w.message}" for w in caught)
    return describe(cert, "", notes)


def _unreadable(der: bytes, label: str, problem: str) -> Unreadable:
    """Judge a certificate cryptography refuses from its raw DER: names, then the signature with its own key."""
    try:
        parts = certificate_parts(der)
    except DerError as exc:
        return Unreadable(label, thumbprint(der), f"not a DER or PEM X.509 certificate: {problem}; {exc}", None)
    if parts.issuer != parts.subject:
        return Unreadable(label, thumbprint(der), problem, False, "raw Issuer differs from Subject")
    try:
        verify_raw(parts, parts.public_key)
    except InvalidSignature:
        return Unreadable(label, thumbprint(der), problem, False, "raw Issuer equals Subject but its own key does not verify it")
    except Unverifiable:
        return Unreadable(label, thumbprint(der), problem, True, f"raw Issuer equals Subject; signature not checked: {parts.algorithm}")
    return Unreadable(label, thumbprint(der), problem, True, "raw Issuer equals Subject and its own key verifies it (from the DER)")


def load_certificate(path: Path, label: str) -> Certificate:
    """A certificate a check needs in full (server.crt, Mitel_mfg_ca.crt): unreadable is an EvidenceError."""
    cert = read_certificate(path, label)
    if isinstance(cert, Unreadable):
        raise EvidenceError(label, f"is not a certificate casgate can read ({cert.problem})")
    return cert


def _store_file(path: Path, label: str) -> list[Certificate | Unreadable]:
    """Each certificate of one file of a store export (an .sst or .p7b holds many), named by file and position; a file
    that cannot be read or decoded is one Unreadable with no judgement, so no check concludes absence past it."""
    try:
        data = _read_bytes(path, label, MAX_STORE_FILE_BYTES)
    except PrivateKeyRefused:
        raise
    except EvidenceError as exc:
        return [Unreadable(label, "", exc.problem, None)]
    try:
        found = _decoded_file(data, label)
    except PrivateKeyRefused:
        raise
    except EvidenceError as exc:
        return [Unreadable(label, thumbprint(data), exc.problem, None)]
    many = len(found.certificates) > 1
    return [replace(_judged(der), source=f"{label} #{n} of {len(found.certificates)} ({found.format})" if many else label)
            for n, der in enumerate(found.certificates, 1)]


def load_store(folder: Path, label: str, empty_ok: bool = False) -> Store:
    """Every certificate in an exported store folder, one or many per file, sorted by file name for stable reports. Root
    is never empty; My and WebHosting may be (`empty_ok`), when the collection vouches that it exported them."""
    if not folder.is_dir():
        raise EvidenceError(label, "folder is missing; export the store with Export-Certificate (see docs/snapshot-format.md)")
    try:
        with os.scandir(folder) as listing:
            files = sorted(Path(entry.path) for entry in listing if entry.is_file() and not entry.name.startswith("."))
    except OSError as exc:
        raise EvidenceError(label, f"folder cannot be listed ({exc.strerror or exc})") from None
    read = [c for p in files for c in _store_file(p, f"{label}{p.name}")]
    if not read and not empty_ok:
        raise EvidenceError(label, "folder holds no certificate; a Windows certificate store is never empty")
    return Store(label, tuple(c for c in read if isinstance(c, Certificate)), tuple(c for c in read if isinstance(c, Unreadable)))
