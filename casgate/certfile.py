"""Certificate files in every shape Windows writes them: bytes in, the DER certificates they hold out, with the
format's name. DER (Export-Certificate -Type CERT); Base64 with or without PEM armour (certutil -encode, the MMC's
"Base-64 encoded X.509", [Convert]::ToBase64String), as UTF-8 or UTF-16 text with or without BOM (Windows
PowerShell 5.1's Out-File and > write UTF-16 LE with BOM); PKCS#7 bundles (-Type P7B), DER or PEM; serialized
certificate stores (-Type SST, CertSaveStore's CERT_STORE_SAVE_AS_STORE). A private key in any of these is refused."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import struct
import warnings
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from casgate.der import is_pkcs12

_PVK_MAGIC = (0xB0B5F11E).to_bytes(4, "little")  # the header of a PVK private key file (pvk2pfx, makecert -sv)
# [MS-OSHARED] 2.3.9.1 DocSigSerializedCertStore: version 0x00000000, then fileType 0x54524543 ("CERT" as stored)
_SST_MAGIC = b"\x00\x00\x00\x00CERT"
_SST_CERT = 0x20  # 2.3.2.5.1 SerializedCertificateEntry's id; CRLs (0x21) and CTLs (0x22), wincrypt's other reserved ids, are passed over
_SST_END = 0x00  # 2.3.2.5.2 EndElementMarkerEntry: id 0, then 8 zero bytes where a header has encoding and length
_X509_ASN_ENCODING = 1
_PKCS7_SIGNED_OID = bytes.fromhex("06092a864886f70d010702")  # OID 1.2.840.113549.1.7.2, as DER
_ARMOUR = re.compile(r"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.DOTALL)
_CERTIFICATE_LABELS = {"CERTIFICATE", "X509 CERTIFICATE"}
_PKCS7_LABELS = {"PKCS7", "PKCS #7 SIGNED DATA", "CMS"}
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_NESTING = 3  # certutil -encode of an armoured file, at most; deeper is not something Windows writes


class CertificateFileError(ValueError):
    """The bytes are not a certificate file in any format Windows writes; the message says what they look like."""


class PrivateKeyInside(ValueError):
    """The file is, or holds, a private key (PEM, DER PKCS#1/PKCS#8, PFX, PVK), in whatever encoding."""


@dataclass(frozen=True)
class CertificateFile:
    """The certificates one file holds, in file order, and how the file was written (shown in evidence)."""

    format: str
    certificates: tuple[bytes, ...]


def read_certificate_file(data: bytes) -> CertificateFile:
    """Decode a certificate file; PrivateKeyInside if it holds a private key, CertificateFileError if it is not one.
    Bytes that look like DER but are not a known container are returned as one certificate for the X.509 reader to
    judge (a certificate cryptography refuses is still a certificate, with a thumbprint)."""
    return _decode(data, 0)


def _decode(data: bytes, depth: int) -> CertificateFile:
    if depth > _NESTING:
        raise CertificateFileError("Base64 inside Base64 more than three times deep")
    if data.startswith(_SST_MAGIC):
        return CertificateFile("serialized certificate store (SST)", _sst(data))
    if data.startswith(_PVK_MAGIC):
        raise PrivateKeyInside("a PVK private key")
    text = _text(data)
    if text is None:
        return _binary(data)
    encoding, body = text
    found = _from_text(body, depth)
    return CertificateFile(f"{found.format}{encoding}", found.certificates)


def _text(data: bytes) -> tuple[str, str] | None:
    """(", UTF-16 LE with BOM" or similar, the text) when the bytes are text Windows writes, else None (binary)."""
    for bom, codec, name in ((codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE with BOM"),
                             (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE with BOM")):
        if data.startswith(bom):
            return f", {name}", _decoded(data[len(bom):], codec)
    if not data or data[0] == 0x30:  # a DER SEQUENCE: certificate, PKCS#7, PFX or key; never text
        return None
    if len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] and data[2]:
        return ", UTF-16 LE without BOM", _decoded(data, "utf-16-le")
    if len(data) >= 4 and data[0] == 0 and data[2] == 0 and data[1] and data[3]:
        return ", UTF-16 BE without BOM", _decoded(data, "utf-16-be")
    try:
        return "", data.decode("utf-8")
    except UnicodeDecodeError:  # armour in ANSI-code-page text ("Zertifikat f\xfcr ..." around it) is still PEM
        return ("", data.decode("latin-1")) if b"-----BEGIN " in data else None


def _decoded(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise CertificateFileError(f"text that is not valid {codec.upper()} ({exc.reason} at byte {exc.start})") from None


def _from_text(text: str, depth: int) -> CertificateFile:
    """PEM blocks (any text around them, as openssl and certutil -dump leave it), or one bare Base64 body."""
    if "PRIVATE KEY-----" in text:
        raise PrivateKeyInside("a PEM private key")
    blocks = _ARMOUR.findall(text)
    if not blocks:
        if "-----BEGIN" in text:
            raise CertificateFileError("a PEM block without its matching END line")
        body = text.strip().strip("\x00")
        if not body or not _BASE64.fullmatch(body):
            raise CertificateFileError("text that is neither PEM nor Base64")
        found = _decode(_base64(body, "the Base64 text"), depth + 1)
        return CertificateFile(f"Base64 without header ({found.format})", found.certificates)
    certificates: list[bytes] = []
    formats = []
    for label, body in blocks:
        if label not in _CERTIFICATE_LABELS | _PKCS7_LABELS:
            raise CertificateFileError(f"a PEM block '{label}', not a certificate")
        found = _decode(_base64(body, f"the PEM block '{label}'"), depth + 1)  # certutil -encode armours any bytes as CERTIFICATE
        certificates += found.certificates
        formats.append(found.format)
    return CertificateFile(f"PEM ({', '.join(sorted(set(formats)))})", tuple(certificates))


def _base64(body: str, where: str) -> bytes:
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CertificateFileError(f"{where} is not valid Base64") from None


def _binary(data: bytes) -> CertificateFile:
    """DER: a PKCS#7 bundle, a PFX or key (refused), or else one certificate for the X.509 reader to judge."""
    if is_pkcs12(data):
        raise PrivateKeyInside("a PKCS#12 (PFX) file")
    if _PKCS7_SIGNED_OID in data[2:17]:  # ContentInfo ::= SEQUENCE { contentType signedData, ... }: the OID after a 1..5-byte length (BER too)
        return CertificateFile("PKCS#7 (P7B)", _pkcs7(data))
    try:
        serialization.load_der_private_key(data, password=None)
    except TypeError:  # an encrypted private key: still a private key
        raise PrivateKeyInside("an encrypted DER private key") from None
    except (ValueError, UnsupportedAlgorithm):
        return CertificateFile("DER", (data,))
    raise PrivateKeyInside("a DER private key")


def _pkcs7(data: bytes) -> tuple[bytes, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BER (indefinite lengths, as some publishers write them) is read with a warning
        try:
            certificates = pkcs7.load_der_pkcs7_certificates(data)
        except ValueError as exc:
            raise CertificateFileError(f"a PKCS#7 message that is not a certificate bundle ({exc})") from None
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in certificates)


def _sst(data: bytes) -> tuple[bytes, ...]:
    """[MS-OSHARED] 2.3.9.1: after the 8-byte header, elements of (id, encoding type, length: little-endian DWORDs;
    value); properties (ids 1..0xFFFF except 0x20) precede the certificate (0x20) they describe; CRLs (0x21) and CTLs
    (0x22) are passed over; an element with id 0 and 8 zero bytes ends the store, and nothing may follow it."""
    certificates, at = [], len(_SST_MAGIC)
    while True:
        if at + 12 > len(data):
            raise CertificateFileError(f"a serialized store that ends at byte {len(data)} without its end marker")
        element, encoding, length = struct.unpack_from("<III", data, at)
        at += 12
        if element == _SST_END:
            if encoding or length or at != len(data):
                raise CertificateFileError(f"a serialized store whose end marker at byte {at - 12} is not 12 zero bytes ending the file")
            return tuple(certificates)
        if element > 0xFFFF or at + length > len(data):
            raise CertificateFileError(f"a serialized store with a broken element at byte {at - 12} (id {element:#x}, length {length})")
        if element == _SST_CERT:
            if encoding != _X509_ASN_ENCODING:
                raise CertificateFileError(f"a serialized store whose certificate at byte {at - 12} has encoding type {encoding}, not X.509 ASN.1 (1)")
            certificates.append(data[at:at + length])
        at += length
