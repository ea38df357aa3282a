"""The one place casgate answers semantic certificate questions: did this key sign that certificate, are these two
names the same, is this the same key, does this certificate name that host, is it valid at that time. Every judge
asks here; tests/test_pki_oracle.py holds the answers against OpenSSL, Qt, NIST PKITS and x509-limbo."""

from __future__ import annotations

import ipaddress
import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x448, x25519

from cryptography.x509.oid import NameOID

from casgate.der import CertificateParts, DerError, certificate_parts, children, dotted, read_tlv
from casgate.errors import EvidenceError


class Unverifiable(Exception):
    """No code available here can check this signature (MD2, or a key type cryptography does not know)."""


def algorithm_name(cert: x509.Certificate) -> str:
    """The signature algorithm's name, or its dotted OID where cryptography has none (it says "Unknown OID", e.g. MD2)."""
    oid = cert.signature_algorithm_oid
    known = getattr(oid, "_name", "")
    return known if known and known != "Unknown OID" else oid.dotted_string


# Signature algorithms by OID, for certificates cryptography will not load: (hash, or None for EdDSA; ECDSA?)
_RAW_ALGORITHMS: dict[str, tuple[type[hashes.HashAlgorithm] | None, bool]] = {
    "1.2.840.113549.1.1.4": (hashes.MD5, False), "1.2.840.113549.1.1.5": (hashes.SHA1, False),
    "1.3.14.3.2.29": (hashes.SHA1, False), "1.2.840.113549.1.1.11": (hashes.SHA256, False),
    "1.2.840.113549.1.1.12": (hashes.SHA384, False), "1.2.840.113549.1.1.13": (hashes.SHA512, False),
    "1.2.840.10045.4.1": (hashes.SHA1, True), "1.2.840.10045.4.3.2": (hashes.SHA256, True),
    "1.2.840.10045.4.3.3": (hashes.SHA384, True), "1.2.840.10045.4.3.4": (hashes.SHA512, True),
    "1.3.101.112": (None, False), "1.3.101.113": (None, False),
    "1.2.840.10040.4.3": (hashes.SHA1, False), "2.16.840.1.101.3.4.3.1": (hashes.SHA224, False),  # DSA
    "2.16.840.1.101.3.4.3.2": (hashes.SHA256, False),
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


# --- the certificate as judges hold it (casgate.certs.Certificate: anything with its DER) -------------------------

class _HasDer(Protocol):
    der: bytes


@lru_cache(maxsize=4096)
def _loaded(der: bytes) -> x509.Certificate | None:
    """cryptography's view of a certificate, or None where it refuses one (then the raw DER is used). Its warnings
    (a negative serial) are casgate.certs' notes already, said once where the file is read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return x509.load_der_x509_certificate(der)
        except (ValueError, UnsupportedAlgorithm):
            return None


@lru_cache(maxsize=4096)
def _parts(der: bytes) -> CertificateParts:
    return certificate_parts(der)


# --- Signatures ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signed:
    """Did the issuer's key sign the certificate: True, False, or None when no code here can check the algorithm
    (MD2, GOST): never read None as "does not chain". `detail` says why not, or what went unchecked."""

    verifies: bool | None
    detail: str = ""


def signed_by(child: _HasDer, issuer: _HasDer) -> Signed:
    """The issuer's public key verifies the child's signature, for every algorithm 1a's self-signature check handles
    (RSA PKCS#1 v1.5 incl. MD5 and SHA-1, RSA-PSS, ECDSA, DSA, Ed25519, Ed448). Names are not compared here."""
    loaded_child, loaded_issuer = _loaded(child.der), _loaded(issuer.der)
    try:
        if loaded_child is not None and loaded_issuer is not None:
            verify_signature(loaded_child, loaded_issuer)
        else:
            verify_raw(_parts(child.der), _parts(issuer.der).public_key)
    except InvalidSignature as exc:
        return Signed(False, f"the signature does not verify with the issuer's key{f' ({exc})' if str(exc) else ''}")
    except Unverifiable as exc:
        return Signed(None, f"the signature algorithm cannot be checked here ({exc})")
    except DerError as exc:
        return Signed(False, f"the certificate cannot be read to check its signature ({exc})")
    return Signed(True)


# --- Names: RFC 5280 section 7.1, as OpenSSL's X509_NAME_cmp applies it -----------------------------------------------

# Directory string types compared by their text, not their tag (OpenSSL's ASN1_MASK_CANON): tag -> codec.
_STRING_TYPES = {0x0C: "utf-8", 0x13: "latin-1", 0x14: "latin-1", 0x16: "latin-1", 0x1A: "latin-1",
                 0x1E: "utf-16-be", 0x1C: "utf-32-be"}
_ASCII_SPACE = " \t\n\v\f\r"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _canonical_text(text: str) -> str:
    """Leading and trailing white space dropped, each inner run of it made one space, ASCII letters lower-cased.
    Non-ASCII letters keep their case: OpenSSL does not fold them (RFC 4518's full case fold and NFKC go further)."""
    words = [w for w in "".join(" " if c in _ASCII_SPACE else c for c in text).split(" ") if w]
    return " ".join(words).translate(_ASCII_LOWER)


Canonical = tuple[tuple[tuple[str, object], ...], ...]


@lru_cache(maxsize=4096)
def canonical_name(name: bytes) -> Canonical:
    """A DER Name as RDNs (in order) of (type, value) pairs (in any order within an RDN): string values as their
    canonical text whatever their string type, other values as tag and bytes. Raises DerError on a malformed name."""
    rdns = []
    for rdn in children(read_tlv(name)[0]):
        pairs = []
        for attribute in children(rdn):
            oid, value = children(attribute)
            codec = _STRING_TYPES.get(value.tag)
            try:
                pairs.append((dotted(oid.content), _canonical_text(value.content.decode(codec)) if codec else (value.tag, value.content)))
            except UnicodeDecodeError:
                pairs.append((dotted(oid.content), (value.tag, value.content)))
        rdns.append(tuple(sorted(pairs, key=repr)))
    return tuple(rdns)


def same_name(a: bytes, b: bytes) -> bool:
    """RFC 5280 7.1 as OpenSSL compares names (the phones verify chains with it): PrintableString, UTF8String, BMPString
    and the other directory strings alike by text, ASCII case ignored, white space collapsed, attributes of one RDN
    in any order. Windows differs: CertCompareCertificateName is true only for identical encodings
    (https://learn.microsoft.com/windows/win32/api/wincrypt/nf-wincrypt-certcomparecertificatename), so a name this
    calls the same may still be another name to a CryptoAPI byte comparison; never the other way round."""
    try:
        return canonical_name(a) == canonical_name(b)
    except (DerError, ValueError):
        return a == b  # a name that cannot be read is the same only as itself


def _read(cert: _HasDer) -> CertificateParts:
    """The certificate's raw parts; EvidenceError naming its file when even they cannot be read."""
    try:
        return _parts(cert.der)
    except DerError as exc:
        raise EvidenceError(getattr(cert, "source", "a certificate"), f"its names and key cannot be read ({exc})") from None


def same_subject(a: _HasDer, b: _HasDer) -> bool:
    """Two certificates' subjects are the same name (same_name): how 1b and X4 find copies of the Mitel root in Root."""
    return same_name(subject_of(a), subject_of(b))


def subject_of(cert: _HasDer) -> bytes:
    """The DER subject Name of a certificate."""
    return _read(cert).subject


def issuer_of(cert: _HasDer) -> bytes:
    """The DER issuer Name of a certificate."""
    return _read(cert).issuer


# --- Keys ------------------------------------------------------------------------------------------------------

_NULL = b"\x05\x00"


@lru_cache(maxsize=4096)
def _key_value(spki: bytes) -> bytes:
    """A SubjectPublicKeyInfo re-encoded from the key itself (cryptography writes RSA with NULL parameters and EC
    points uncompressed); a key cryptography does not know: its algorithm, parameters unless NULL, and key bits."""
    try:
        return serialization.load_der_public_key(spki).public_bytes(serialization.Encoding.DER,
                                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    except (UnsupportedAlgorithm, ValueError):
        algorithm, bits = children(read_tlv(spki)[0])
        oid, *params = children(algorithm)
        return b"".join([oid.encoded, *(p.encoded for p in params if p.encoded != _NULL), bits.encoded])


def same_key(a: _HasDer, b: _HasDer) -> bool:
    """The same public key by value, not by encoding: an RSA key written with and without NULL parameters, or an EC
    point compressed and not, is one key. EvidenceError or DerError/ValueError when a certificate's key cannot be read."""
    return _key_value(_read(a).public_key) == _key_value(_read(b).public_key)


# --- Validity --------------------------------------------------------------------------------------------------

NOT_YET_VALID, EXPIRED, IN_PERIOD = "not yet valid", "expired", "valid"


def valid_at(cert: _HasValidity, when: datetime) -> str:
    """RFC 5280 4.1.2.5 as the phones' OpenSSL applies it (X509_cmp_time, whole seconds): valid from notBefore on, and
    expired from notAfter on. RFC 5280 says "through notAfter"; OpenSSL refuses the certificate in that very second,
    and so does casgate (checked against `openssl verify -attime`). One of NOT_YET_VALID, EXPIRED, IN_PERIOD."""
    when = when.replace(microsecond=0)
    if when < cert.not_before:
        return NOT_YET_VALID
    if when >= cert.not_after:
        return EXPIRED
    return IN_PERIOD


class _HasValidity(Protocol):
    not_before: datetime
    not_after: datetime


# --- Host names: RFC 6125 as OpenSSL's X509_check_host and Qt's QSslSocket apply it -----------------------------

@dataclass(frozen=True)
class HostMatch:
    """How a certificate's names meet a host name, in both stacks the phones use: `openssl` and `qt` are the identifier
    each accepts ("SAN DNS *.example.com", "SAN IP 10.0.0.1", "CN hq"), or None when it refuses the host. `host` is
    the name as matched (A-labels for an internationalised name)."""

    host: str
    openssl: str | None
    qt: str | None

    @property
    def accepted(self) -> bool:
        """Where the stacks disagree, the phones' own check decides: Qt's QSslSocket, which matches the host itself."""
        return self.qt is not None

    @property
    def by_san(self) -> bool:
        """Both stacks accept it by a SAN entry: the clean case RFC 6125 6.4 describes."""
        return bool(self.openssl and self.qt and self.openssl.startswith("SAN") and self.qt.startswith("SAN"))

    def line(self) -> str:
        """The evidence line: what each stack accepts, and which decides when they differ."""
        if self.openssl == self.qt:
            return f"{self.host} matches {self.qt} (OpenSSL and Qt agree)" if self.qt else f"neither OpenSSL nor Qt matches {self.host}"
        if self.openssl and self.qt:
            return f"{self.host} matches {self.qt} for Qt and {self.openssl} for OpenSSL"
        said = (f"Qt (the phones' QSslSocket) {'accepts ' + self.host + ' by ' + self.qt if self.qt else 'refuses ' + self.host}; "
                f"OpenSSL's X509_check_host {'accepts it by ' + self.openssl if self.openssl else 'refuses it'}")
        return f"{said}: the stacks differ, the phones' Qt decides"


def ace(host: str) -> str | None:
    """The host as the phones look it up: A-labels (IDNA 2003, as Qt's QUrl::toAce), ASCII lower-cased, a trailing
    dot kept (neither OpenSSL nor Qt strips it); None when it is not a valid internationalised name."""
    try:
        return (host.encode("idna").decode("ascii") if not host.isascii() else host).translate(_ASCII_LOWER)
    except UnicodeError:
        return None


def address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host string is, or None for a name (brackets around an IPv6 address allowed)."""
    text = text.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def identifiers(der: bytes) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A certificate's SAN DNS names, SAN IP addresses and subject CNs (every one, in order). ValueError when
    cryptography cannot read them."""
    cert = _loaded(der)
    if cert is None:
        raise ValueError("cryptography cannot load the certificate")
    cns = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (), (), cns
    return tuple(san.get_values_for_type(x509.DNSName)), tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress)), cns


_LDH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def _openssl_star(pattern: str) -> int | None:
    """Where the one wildcard OpenSSL honours sits (X509_check_host without flags; crypto/x509/v3_utl.c, valid_star):
    in the first label, at its start or end (`w*.example.com` and `*w.example.com` count, `w*w.` does not), not in an
    A-label, with at least two dots after it (`*.local` is no wildcard); every label of letters, digits and inner
    hyphens. None when there is no such wildcard: the pattern is then compared as plain text."""
    star, dots, label_start, hyphen, idna = None, 0, True, False, False
    for i, char in enumerate(pattern):
        if char == "*":
            at_end = i == len(pattern) - 1 or pattern[i + 1] == "."
            if star is not None or idna or dots or not (label_start or at_end):
                return None
            star, label_start = i, False
        elif char.isascii() and char.isalnum():
            idna = idna or (label_start and pattern[i:i + 4].lower() == "xn--")
            label_start = hyphen = False
        elif char == "." and not (label_start or hyphen):
            label_start, idna, dots = True, False, dots + 1
        elif char == "-" and not label_start:
            hyphen = True
        else:
            return None
    return None if label_start or hyphen or dots < 2 else star


def _openssl_matches(pattern: str, host: str) -> bool:
    star = _openssl_star(pattern)
    if star is None:
        return "\0" not in pattern and pattern.translate(_ASCII_LOWER) == host.translate(_ASCII_LOWER)
    prefix, suffix = pattern[:star].translate(_ASCII_LOWER), pattern[star + 1:].translate(_ASCII_LOWER)
    host = host.translate(_ASCII_LOWER)
    if len(host) < len(prefix) + len(suffix) or not host.startswith(prefix) or not host.endswith(suffix):
        return False
    covered = host[len(prefix):len(host) - len(suffix)]
    whole_label = not prefix and suffix.startswith(".")
    if (whole_label and not covered) or (not whole_label and host.startswith("xn--")):
        return False
    return covered == "*" or set(covered) <= _LDH


def _qt_matches(pattern: str, host: str) -> bool:
    """Qt's QSslSocketPrivate::isMatchingHostname (qtbase src/network/ssl/qsslsocket.cpp, Qt 5.15 and 6; checked against
    Qt 5.15.8 itself in tests/test_pki_oracle.py): a wildcard
    only as the last character of the first label (`w*.example.com` yes, `*w.example.com` no), at least three labels,
    no wildcard in an A-label, never for an IP address; `host` is already A-labels, lower-case."""
    star = pattern.find("*")
    if star < 0:
        return ace(pattern) == host
    first_dot = pattern.find(".")
    second_dot = pattern.find(".", first_dot + 1)
    if second_dot < 0 or second_dot + 1 >= len(pattern) or star + 1 != first_dot or pattern.rfind("*") != star:
        return False
    if pattern.lower().startswith("xn--") or host[:star].lower() != pattern[:star].lower():
        return False
    rest = host[host.find(".") + 1:]
    return rest in (pattern[first_dot + 1:], ace(pattern[first_dot + 1:])) and address(host) is None


def _qt_san_text(dns_name: str) -> str:
    """A SAN DNS name as Qt reads it: the IA5String's bytes as Latin-1 (QString::fromLatin1), so a name that smuggles
    UTF-8 into an IA5String never becomes its U-label (cryptography hands it over decoded as UTF-8)."""
    return dns_name.encode("utf-8").decode("latin-1")


def names_host(cert: _HasDer, host: str) -> HostMatch:
    """Does the certificate name `host` for OpenSSL (X509_check_host, no flags: a SAN DNS name; the subject CN only
    when the certificate has no SAN DNS name; an address only against SAN IP entries, as X509_check_ip) and for Qt
    (QSslSocket: a SAN IP entry for an address, then every CN and SAN DNS name, CNs even beside SAN DNS names).
    A Unicode host is matched by its A-labels. ValueError when the certificate's names cannot be read."""
    dns, ips, cns = identifiers(cert.der)
    literal = address(host)
    if literal is not None:
        hit = next((f"SAN IP {ip}" for ip in ips if address(ip) == literal), None)
        qt_text = next((f"{kind} {name}" for kind, names in (("SAN DNS", dns), ("CN", cns)) for name in names
                        if "*" not in name and ace(name) == host), None)
        return HostMatch(host, hit, hit or qt_text)
    name = ace(host)
    if name is None:
        return HostMatch(host, None, None)
    by_san = next((f"SAN DNS {d}" for d in dns if _openssl_matches(d, name)), None)
    by_cn = None if dns else next((f"CN {c}" for c in cns if _openssl_matches(c, name)), None)
    qt = next((f"{kind} {n}" for kind, names, text in (("SAN DNS", dns, _qt_san_text), ("CN", cns, str)) for n in names
               if _qt_matches(text(n), name)), None)
    return HostMatch(name, by_san or by_cn, qt)


# --- What a CA certificate may do -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaExtensions:
    """What a certificate says about signing others: its X.509 version (1 or 3), basicConstraints cA (None when
    the extension is absent) and keyUsage keyCertSign (None when keyUsage is absent)."""

    version: int
    ca: bool | None
    key_cert_sign: bool | None


def ca_extensions(cert: _HasDer) -> CaExtensions:
    """Read basicConstraints and keyUsage; ValueError when cryptography cannot load the certificate or they are malformed."""
    loaded = _loaded(cert.der)
    if loaded is None:
        raise ValueError("cryptography cannot load the certificate")
    found: dict[type, x509.ExtensionType | None] = {}
    for kind in (x509.BasicConstraints, x509.KeyUsage):
        try:
            found[kind] = loaded.extensions.get_extension_for_class(kind).value
        except x509.ExtensionNotFound:
            found[kind] = None
    constraints, usage = found[x509.BasicConstraints], found[x509.KeyUsage]
    return CaExtensions(loaded.version.value + 1, constraints.ca if isinstance(constraints, x509.BasicConstraints) else None,
                        usage.key_cert_sign if isinstance(usage, x509.KeyUsage) else None)
