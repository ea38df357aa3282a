"""Certificates as Windows exports them: DER and PEM, self-signed judged by signature, private keys refused."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casgate.certs import load_certificate, load_store, normalise_thumbprint
from casgate.errors import EvidenceError, PrivateKeyRefused


def _cert(subject: str, issuer: str, signing_key, key=None) -> x509.Certificate:
    key = key or signing_key
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(signing_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def keys():
    return ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())


def test_der_and_pem_give_the_same_thumbprint(tmp_path: Path, keys) -> None:
    cert = _cert("Root", "Root", keys[0])
    (tmp_path / "a.cer").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (tmp_path / "b.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM).replace(b"\n", b"\r\n"))

    der, pem = load_certificate(tmp_path / "a.cer", "a.cer"), load_certificate(tmp_path / "b.pem", "b.pem")

    assert der.thumbprint == pem.thumbprint
    assert len(der.thumbprint) == 40 and der.thumbprint.isupper()
    assert der.self_signed and der.subject == "CN=Root"


def test_intermediate_is_not_self_signed(tmp_path: Path, keys) -> None:
    (tmp_path / "i.cer").write_bytes(_cert("Issuing CA", "Root", keys[0], keys[1]).public_bytes(serialization.Encoding.DER))

    assert not load_certificate(tmp_path / "i.cer", "i.cer").self_signed


def test_same_name_but_foreign_signature_is_not_self_signed(tmp_path: Path, keys) -> None:
    # Issuer == Subject, yet signed by another key: a re-issued or cross-signed CA, not a root.
    cert = _cert("Corp CA", "Corp CA", keys[0], keys[1])
    (tmp_path / "x.cer").write_bytes(cert.public_bytes(serialization.Encoding.DER))

    loaded = load_certificate(tmp_path / "x.cer", "x.cer")

    assert loaded.issuer == loaded.subject
    assert not loaded.self_signed


@pytest.mark.parametrize("name", ["server.pfx", "server.key", "client.p12"])
def test_key_file_names_are_refused_unread(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"whatever")

    with pytest.raises(PrivateKeyRefused, match=f"{name}: contains a private key"):
        load_certificate(tmp_path / name, name)


def test_der_private_key_under_a_certificate_name_is_refused(tmp_path: Path, keys) -> None:
    der_key = keys[0].private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "server.crt").write_bytes(der_key)

    with pytest.raises(PrivateKeyRefused):
        load_certificate(tmp_path / "server.crt", "keystore/server.crt")


def test_garbage_is_listed_by_file_and_sha1_and_never_judged(tmp_path: Path) -> None:
    (tmp_path / "junk.cer").write_bytes(b"\x00\x01 not der")

    store = load_store(tmp_path, "certs/root/")

    assert store.certificates == () and len(store.unreadable) == 1
    junk = store.unreadable[0]
    assert (junk.source, junk.self_signed) == ("certs/root/junk.cer", None)
    assert junk.thumbprint == hashlib.sha1(b"\x00\x01 not der").hexdigest().upper()
    with pytest.raises(EvidenceError, match=r"^certs/root/junk.cer: is not a certificate file in any format Windows writes: text that is neither PEM nor Base64"):
        load_certificate(tmp_path / "junk.cer", "certs/root/junk.cer")


def test_empty_or_missing_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="never empty"):
        load_store(tmp_path, "certs/root/")
    with pytest.raises(EvidenceError, match="folder is missing"):
        load_store(tmp_path / "nope", "certs/root/")


def test_thumbprint_copied_from_the_mmc_is_normalised() -> None:
    assert normalise_thumbprint("\u200ea1 b2 c3") == "A1B2C3"


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    head = bytes([length]) if length < 0x80 else bytes([0x80 | ((length.bit_length() + 7) // 8)]) + length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag]) + head + content


def _refused_by_cryptography(cert: x509.Certificate, signer) -> bytes:
    """The certificate with its version set to 7 and signed again by `signer`: cryptography refuses to load it,
    yet its names, key and signature are all there to be checked from the DER."""
    tbs = cert.tbs_certificate_bytes.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x07", 1)
    algorithm = _der(0x30, _der(0x06, bytes.fromhex("2a8648ce3d040302")))  # ecdsa-with-SHA256
    signature = signer.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return _der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature))


def test_a_certificate_cryptography_refuses_is_listed_and_judged_from_its_der(tmp_path: Path, keys) -> None:
    (tmp_path / "root.cer").write_bytes(_refused_by_cryptography(_cert("Old Root", "Old Root", keys[0]), keys[0]))
    (tmp_path / "sneaky.cer").write_bytes(_refused_by_cryptography(_cert("Old Root", "Old Root", keys[0]), keys[1]))
    (tmp_path / "sub.cer").write_bytes(_refused_by_cryptography(_cert("Issuing CA", "Old Root", keys[1]), keys[0]))
    (tmp_path / "ok.cer").write_bytes(_cert("Root", "Root", keys[0]).public_bytes(serialization.Encoding.DER))

    store = load_store(tmp_path, "certs/root/")

    assert [c.source for c in store.certificates] == ["certs/root/ok.cer"]
    judged = {u.source: (u.self_signed, u.note) for u in store.unreadable}
    assert judged == {
        "certs/root/root.cer": (True, "raw Issuer equals Subject and its own key verifies it (from the DER)"),
        "certs/root/sneaky.cer": (False, "raw Issuer equals Subject but its own key does not verify it"),
        "certs/root/sub.cer": (False, "raw Issuer differs from Subject"),
    }
    assert all("not a valid X509 version" in u.problem for u in store.unreadable)


def test_a_pvk_private_key_under_a_certificate_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "server.crt").write_bytes((0xB0B5F11E).to_bytes(4, "little") + bytes(20))  # PVK header: magic, reserved, key type

    with pytest.raises(PrivateKeyRefused):
        load_certificate(tmp_path / "server.crt", "keystore/server.crt")


def test_unencrypted_and_encrypted_pkcs12_under_a_certificate_name_are_refused(tmp_path: Path, keys) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    cert = _cert("hq", "hq", keys[0])
    for name, encryption in (("plain.crt", serialization.NoEncryption()), ("locked.cer", serialization.BestAvailableEncryption(b"pw"))):
        (tmp_path / name).write_bytes(pkcs12.serialize_key_and_certificates(b"hq", keys[0], cert, None, encryption))

        with pytest.raises(PrivateKeyRefused):
            load_certificate(tmp_path / name, f"keystore/{name}")


@pytest.mark.parametrize("algorithm", ["rsa-pss-sha256", "dsa-sha256", "ed25519", "ed448"])
def test_self_signature_is_verified_for_algorithms_cryptography_can_sign(tmp_path: Path, algorithm: str) -> None:
    """cryptography no longer signs with MD5 or SHA-1: those are proven on real roots (tests/realworld/certs)."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ed448, ed25519, padding, rsa

    make = {
        "rsa-pss-sha256": lambda: (rsa.generate_private_key(65537, 2048), hashes.SHA256(),
                                   padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)),
        "dsa-sha256": lambda: (dsa.generate_private_key(2048), hashes.SHA256(), None),
        "ed25519": lambda: (ed25519.Ed25519PrivateKey.generate(), None, None),
        "ed448": lambda: (ed448.Ed448PrivateKey.generate(), None, None),
    }
    key, digest, pss = make[algorithm]()
    other, _, _ = make[algorithm]()
    for name, signer in (("own.cer", key), ("foreign.cer", other)):
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")])).public_key(key.public_key())
                .serial_number(1).not_valid_before(datetime(2025, 1, 1)).not_valid_after(datetime(2026, 1, 1))
                .sign(signer, digest, rsa_padding=pss))
        (tmp_path / name).write_bytes(cert.public_bytes(serialization.Encoding.DER))

    own, foreign = load_certificate(tmp_path / "own.cer", "own.cer"), load_certificate(tmp_path / "foreign.cer", "foreign.cer")

    assert (own.self_signed, own.notes) == (True, ())
    assert not foreign.self_signed
