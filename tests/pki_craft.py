"""Crafted certificates for the edges no public specimen shows in a Mitel shape (every one made here, said so where
used): names in PrintableString against UTF8String, case and spaces; an RSA key with and without NULL parameters;
SHA-1 and MD5 signatures cryptography no longer makes; v1 certificates without extensions."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from casgate.certs import Certificate, describe
from casgate.der import children, read_tlv

AT = datetime(2026, 11, 20, 6, tzinfo=timezone.utc)
RSA_KEYS = [rsa.generate_private_key(65537, 2048) for _ in range(3)]
EC_KEYS = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]

# AlgorithmIdentifiers as DER, to swap a signature algorithm or drop a key's NULL parameters
SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")
MD5_RSA = bytes.fromhex("300d06092a864886f70d0101040500")
RSA_WITH_NULL = bytes.fromhex("300d06092a864886f70d0101010500")
RSA_WITHOUT_NULL = bytes.fromhex("300b06092a864886f70d010101")
UNKNOWN_ALGORITHM = bytes.fromhex("300706032a03040500")  # OID 1.2.3.4: a signature algorithm no code knows


def der(tag: int, content: bytes) -> bytes:
    """One DER element with a definite length."""
    size = len(content)
    head = bytes([size]) if size < 0x80 else bytes([0x80 | (n := (size.bit_length() + 7) // 8)]) + size.to_bytes(n, "big")
    return bytes([tag]) + head + content


def name(*parts: tuple[str, str] | tuple[str, str, _ASN1Type]) -> x509.Name:
    """A Name from (attribute, value[, string type]) with attribute one of CN, O, OU, C."""
    oids = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "C": NameOID.COUNTRY_NAME}
    return x509.Name([x509.NameAttribute(oids[p[0]], p[1], _type=p[2]) if len(p) == 3 else x509.NameAttribute(oids[p[0]], p[1])
                      for p in parts])


def build(subject: x509.Name, key, signer, issuer: x509.Name | None = None, *, days: tuple[float, float] = (-365, 365),
          ca: bool | None = None, cert_sign: bool | None = None, san: list[x509.GeneralName] | None = None) -> x509.Certificate:
    """A certificate valid from AT+days[0] to AT+days[1], signed with SHA-256 by `signer`; self-issued unless `issuer`."""
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(AT + timedelta(days=days[0]))
               .not_valid_after(AT + timedelta(days=days[1])))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if cert_sign is not None:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, cert_sign, cert_sign, False, False), critical=True)
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _tbs_fields(cert: x509.Certificate) -> list[bytes]:
    return [t.encoded for t in children(read_tlv(cert.tbs_certificate_bytes)[0])]


def resign(cert: x509.Certificate, signer: rsa.RSAPrivateKey, algorithm: bytes = SHA256_RSA, *, drop_null: bool = False,
           v1: bool = False) -> bytes:
    """The certificate's DER signed again by an RSA `signer` with `algorithm` (SHA-1 or MD5 PKCS#1 v1.5 too); its RSA key
    written without NULL parameters when `drop_null`; made v1 (no version, no extensions) when `v1`."""
    fields = _tbs_fields(cert)
    if v1:
        fields = [f for f in fields if f[0] not in (0xA0, 0xA3)]
    at = 1 if fields[0][0] == 0xA0 else 0  # after the version: serial, signature, issuer, validity, subject, key
    fields[at + 1] = algorithm
    if drop_null:
        algorithm_id, bits = children(read_tlv(fields[at + 5])[0])
        assert algorithm_id.encoded == RSA_WITH_NULL
        fields[at + 5] = der(0x30, RSA_WITHOUT_NULL + bits.encoded)
    tbs = der(0x30, b"".join(fields))
    digest = {SHA1_RSA: hashes.SHA1(), MD5_RSA: hashes.MD5()}.get(algorithm, hashes.SHA256())  # unknown: any signature
    return der(0x30, tbs + algorithm + der(0x03, b"\x00" + signer.sign(tbs, padding.PKCS1v15(), digest)))


def certificate(cert: x509.Certificate | bytes, source: str) -> Certificate:
    """casgate's view of a crafted certificate, as read from a snapshot file named `source`."""
    loaded = x509.load_der_x509_certificate(cert) if isinstance(cert, bytes) else cert
    return describe(loaded, source)


def pem(cert: Certificate | Raw) -> bytes:
    """The DER as a PEM block (written from the bytes: also for a certificate cryptography refuses)."""
    text = base64.b64encode(cert.der).decode()
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(text[i:i + 64] for i in range(0, len(text), 64))
            + "\n-----END CERTIFICATE-----\n").encode()


@dataclass(frozen=True)
class Raw:
    """A real certificate cryptography refuses to load, held by its DER: pki's questions still apply to it."""

    der: bytes
    source: str
