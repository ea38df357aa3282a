"""Just enough DER to read what cryptography will not: the raw names, signed bytes, signature and key of a
certificate it refuses to load, and the outer shape of a PKCS#12 (PFX) file, which must be refused as a private
key without a password."""

from __future__ import annotations

from dataclasses import dataclass

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OID = 0x06
_VERSION_TAG = 0xA0  # [0] EXPLICIT version in a TBSCertificate
_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")  # 1.2.840.113549.1.7.1
_PKCS7_SIGNED = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


@dataclass(frozen=True)
class Tlv:
    """One DER element: its tag, its content, and its whole encoding (tag and length included)."""

    tag: int
    content: bytes
    encoded: bytes


def read_tlv(data: bytes, at: int = 0) -> tuple[Tlv, int]:
    """The element starting at `at` and the offset just after it; definite lengths only, as DER requires."""
    if at + 2 > len(data):
        raise DerError("truncated element")
    tag, first = data[at], data[at + 1]
    cursor = at + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or cursor + count > len(data):
            raise DerError("unsupported or truncated length")
        length = int.from_bytes(data[cursor:cursor + count], "big")
        cursor += count
    end = cursor + length
    if end > len(data):
        raise DerError("element runs past the end of the data")
    return Tlv(tag, data[cursor:end], data[at:end]), end


def children(tlv: Tlv) -> list[Tlv]:
    """The elements inside a constructed element, in order."""
    items, at = [], 0
    while at < len(tlv.content):
        item, at = read_tlv(tlv.content, at)
        items.append(item)
    return items


def _sequence(data: bytes) -> Tlv:
    outer, end = read_tlv(data)
    if outer.tag != SEQUENCE or end != len(data):
        raise DerError("not a single DER SEQUENCE")
    return outer


@dataclass(frozen=True)
class CertificateParts:
    """The raw pieces a self-signature check needs: names, the signed bytes, the algorithm, the signature, the key."""

    issuer: bytes
    subject: bytes
    tbs: bytes
    algorithm: str  # dotted OID
    signature: bytes
    public_key: bytes  # SubjectPublicKeyInfo, DER


def certificate_parts(der: bytes) -> CertificateParts:
    """Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }; TBSCertificate
    holds [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, ..."""
    certificate = children(_sequence(der))
    if len(certificate) != 3 or certificate[0].tag != SEQUENCE or certificate[2].tag != BIT_STRING:
        raise DerError("not an X.509 certificate (Certificate is not tbsCertificate, algorithm, signature)")
    tbs = children(certificate[0])
    if tbs and tbs[0].tag == _VERSION_TAG:
        tbs = tbs[1:]
    if len(tbs) < 6 or tbs[0].tag != INTEGER or not all(t.tag == SEQUENCE for t in (tbs[2], tbs[4], tbs[5])):
        raise DerError("not an X.509 certificate (TBSCertificate fields missing)")
    algorithm = children(certificate[1])
    if not algorithm or algorithm[0].tag != OID or not certificate[2].content:
        raise DerError("not an X.509 certificate (no signature algorithm)")
    return CertificateParts(tbs[2].encoded, tbs[4].encoded, certificate[0].encoded, dotted(algorithm[0].content),
                            certificate[2].content[1:], tbs[5].encoded)


def dotted(content: bytes) -> str:
    """An OBJECT IDENTIFIER's content octets as 1.2.840..."""
    arcs, value = [], 0
    for byte in content:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise DerError("empty object identifier")
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))


def is_pkcs12(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo (data or signedData), macData OPTIONAL }."""
    try:
        pfx = children(_sequence(data))
        if len(pfx) < 2 or pfx[0].tag != INTEGER or pfx[0].content != b"\x03" or pfx[1].tag != SEQUENCE:
            return False
        content_type = children(pfx[1])[0]
    except (DerError, IndexError):
        return False
    return content_type.tag == OID and content_type.content in (_PKCS7_DATA, _PKCS7_SIGNED)
