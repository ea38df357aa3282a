"""Certificates as Windows exports them: DER and PEM, self-signed judged by signature, private keys refused."""

from __future__ import annotations

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


def test_garbage_is_named_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "junk.cer").write_bytes(b"\x00\x01 not der")

    with pytest.raises(EvidenceError, match=r"^certs/root/junk.cer: is not a DER or PEM X.509 certificate"):
        load_store(tmp_path, "certs/root/")


def test_empty_or_missing_store_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="never empty"):
        load_store(tmp_path, "certs/root/")
    with pytest.raises(EvidenceError, match="folder is missing"):
        load_store(tmp_path / "nope", "certs/root/")


def test_thumbprint_copied_from_the_mmc_is_normalised() -> None:
    assert normalise_thumbprint("\u200ea1 b2 c3") == "A1B2C3"
