"""The one place casgate answers semantic certificate questions: did this key sign that certificate, are these two
names the same, is this the same key, does this certificate name that host, is it valid at that time. Every judge
asks here; tests/test_pki_oracle.py holds the answers against OpenSSL and x509-limbo."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x448, x25519

from casgate.der import CertificateParts


class Unverifiable(Exception):
    """No code available here can check this signature (MD2, or a key type cryptography does not know)."""


def algorithm_name(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", "") or oid.dotted_string


# Signature algorithms by OID, for certificates cryptography will not load: (hash, or None for EdDSA; ECDSA?)
_RAW_ALGORITHMS: dict[str, tuple[type[hashes.HashAlgorithm] | None, bool]] = {
    "1.2.840.113549.1.1.4": (hashes.MD5, False), "1.2.840.113549.1.1.5": (hashes.SHA1, False),
    "1.3.14.3.2.29": (hashes.SHA1, False), "1.2.840.113549.1.1.11": (hashes.SHA256, False),
    "1.2.840.113549.1.1.12": (hashes.SHA384, False), "1.2.840.113549.1.1.13": (hashes.SHA512, False),
    "1.2.840.10045.4.1": (hashes.SHA1, True), "1.2.840.10045.4.3.2": (hashes.SHA256, True),
    "1.2.840.10045.4.3.3": (hashes.SHA384, True), "1.2.840.10045.4.3.4": (hashes.SHA512, True),
    "1.3.101.112": (None, False), "1.3.101.113": (None, False),
}


def _verify(key: object, signature: bytes, signed: bytes, digest: hashes.HashAlgorithm | None, params: object) -> None:
    """Verify with the signer's key and the signed certificate's parameters, for every algorithm a Windows Root store
    holds (RSA PKCS#1 v1.5 incl. MD5/SHA-1, RSA-PSS, ECDSA, DSA, EdDSA); InvalidSignature if it fails or does not fit
    the key."""
    try:
        if isinstance(key, rsa.RSAPublicKey) and digest and (params is None or isinstance(params, (padding.PKCS1v15, padding.PSS))):
            key.verify(signature, signed, params or padding.PKCS1v15(), digest)  # MD5 and older: no parameters, PKCS#1 v1.5
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            key.verify(signature, signed, params)
        elif isinstance(key, dsa.DSAPublicKey) and digest:
            key.verify(signature, signed, digest)
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)) and params is None and digest is None:
            key.verify(signature, signed)
        elif isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, dsa.DSAPublicKey, ed25519.Ed25519PublicKey,
                              ed448.Ed448PublicKey, x25519.X25519PublicKey, x448.X448PublicKey)):
            raise InvalidSignature("the signature algorithm does not fit the signer's key")
        else:
            raise Unverifiable(f"{type(key).__name__} keys")
    except UnsupportedAlgorithm as exc:  # e.g. MD5 in an OpenSSL built without it
        raise Unverifiable(str(exc)) from None
    except (TypeError, ValueError) as exc:  # a malformed signature or parameters: it does not verify
        raise InvalidSignature(str(exc)) from None


def verify_signature(cert: x509.Certificate, signer: x509.Certificate) -> None:
    """`signer`'s public key verifies `cert`'s signature, or InvalidSignature / Unverifiable says why not."""
    try:
        key, digest, params = signer.public_key(), cert.signature_hash_algorithm, cert.signature_algorithm_parameters
    except (UnsupportedAlgorithm, ValueError) as exc:
        raise Unverifiable(str(exc)) from None
    _verify(key, cert.signature, cert.tbs_certificate_bytes, digest, params)


def verify_raw(parts: CertificateParts, signer_key: bytes) -> None:
    """The same check from the raw DER (the signer's SubjectPublicKeyInfo), for a certificate cryptography refuses to load."""
    if parts.algorithm not in _RAW_ALGORITHMS:
        raise Unverifiable(parts.algorithm)
    try:
        key = serialization.load_der_public_key(signer_key)
    except (UnsupportedAlgorithm, ValueError) as exc:
        raise Unverifiable(str(exc)) from None
    digest_type, ecdsa = _RAW_ALGORITHMS[parts.algorithm]
    digest = digest_type() if digest_type else None
    _verify(key, parts.signature, parts.tbs, digest, ec.ECDSA(digest) if ecdsa and digest else None)


def self_signature(cert: x509.Certificate) -> tuple[bool, tuple[str, ...]]:
    """Self-signed = Issuer equals Subject and the signature verifies with its own public key. Where no available
    code can check the algorithm (MD2), the KB's own rule (Issuer == Subject) decides and a note says so."""
    if cert.issuer != cert.subject:
        return False, ()
    try:
        verify_signature(cert, cert)
    except InvalidSignature:
        return False, ()
    except Unverifiable:
        return True, (f"signature not checked: {algorithm_name(cert)} (Issuer == Subject, the KB's rule, decides)",)
    return True, ()
