"""Certificates in the files Windows writes (issue 19, item 3): real multi-certificate files (tests/realworld/certfiles,
provenance in its corpus.toml), and one real root (ISRG Root X1, tests/realworld/certs) re-written in each documented
shape an administrator's tools produce. The re-written specimens are crafted here from the documentation named beside
each; no Windows machine wrote them. Private keys are refused in every one of those shapes, and a Root file that
cannot be read never lets 1b or X4 conclude that a certificate is absent."""

from __future__ import annotations

import base64
import codecs
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

from casgate.certfile import CertificateFileError, PrivateKeyInside, read_certificate_file
from casgate.certs import Store, load_certificate, load_store
from casgate.checks.mitel_root import judge_mitel_root_itself
from casgate.checks.root_store import judge_mitel_root, judge_root_store, root_cause_hint
from casgate.der import certificate_parts
from casgate.errors import CasgateError, EvidenceError, PrivateKeyRefused
from casgate.thumbprint import thumbprint
from casgate.tomlfile import read_toml
from casgate.verdict import Outcome

REALWORLD = Path(__file__).parent / "realworld"
FILES = read_toml(REALWORLD / "certfiles" / "corpus.toml", "corpus", CasgateError)["file"]
ISRG_PEM = (REALWORLD / "certs" / "roots" / "isrg-root-x1.pem").read_bytes()
ISRG_DER = x509.load_pem_x509_certificate(ISRG_PEM).public_bytes(serialization.Encoding.DER)
ISRG_SHA1 = "CABD2A79A1076A31F21D253635CB039D4329A5E8"
AMAZON = REALWORLD / "certfiles" / "amazon-roots.p7b"
SST = REALWORLD / "certfiles" / "microsoft-disallowedcert.sst"


# ---- real files --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", FILES, ids=[e["file"] for e in FILES])
def test_a_real_multi_certificate_file_gives_every_certificate(entry: dict) -> None:
    found = read_certificate_file((REALWORLD / "certfiles" / entry["file"]).read_bytes())

    assert found.format == entry["format"]
    assert len(found.certificates) == entry["count"]
    assert [thumbprint(c) for c in found.certificates[:len(entry["sha1"])]] == entry["sha1"]
    assert all(certificate_parts(c) for c in found.certificates)  # each an X.509 Certificate (one of the .sst's encodes a
    # DEFAULT value, which cryptography refuses: in a store it is judged from its raw DER, as any such certificate)


def test_the_real_sst_agrees_with_the_sha1_windows_stored_beside_each_certificate() -> None:
    """[MS-OSHARED] 2.3.2.5.3: properties precede their certificate; property 3 (CERT_SHA1_HASH_PROP_ID) is its SHA-1.
    Walking the elements by hand here, the hashes Windows wrote must be the thumbprints casgate reads, in order."""
    data, at, stored = SST.read_bytes(), 8, []
    while True:
        element, _, length = struct.unpack_from("<III", data, at)
        at += 12
        if element == 0:
            break
        if element == 3:
            stored.append(data[at:at + length].hex().upper())
        at += length

    assert [thumbprint(c) for c in read_certificate_file(data).certificates] == stored
    assert len(stored) == 71


def test_the_der_and_ber_bundles_and_the_pem_pkcs7_agree_with_the_single_certificates() -> None:
    der, ber = (read_certificate_file((REALWORLD / "certfiles" / n).read_bytes()) for n in ("amazon-roots.p7b", "amazon-roots-ber.p7b"))
    isrg = read_certificate_file((REALWORLD / "certfiles" / "isrg-root-x1.p7b").read_bytes())

    assert der.certificates == ber.certificates
    assert isrg.certificates == (ISRG_DER,)


def test_a_store_folder_takes_each_certificate_of_an_sst_and_a_p7b(tmp_path: Path) -> None:
    (tmp_path / "root.sst").write_bytes(SST.read_bytes())
    (tmp_path / "amazon.p7b").write_bytes(AMAZON.read_bytes())
    (tmp_path / "isrg.cer").write_bytes(ISRG_DER)

    store = load_store(tmp_path, "certs/root/")

    assert len(store) == 71 + 2 + 1 and store.not_read() == ()
    assert {"0D44DD8C3C8C1A1A58756481E90F2E2AFFB3D26E", ISRG_SHA1, "8B2E65A5DA17FCCCBCDE7EF87B0C0ED5D0701F9F"} <= store.thumbprints()
    sources = [c.source for c in store.certificates] + [u.source for u in store.unreadable]
    assert "certs/root/amazon.p7b #2 of 2 (PKCS#7 (P7B))" in sources and "certs/root/isrg.cer" in sources
    assert "certs/root/root.sst #71 of 71 (serialized certificate store (SST))" in sources


def test_a_single_certificate_file_holding_several_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "server.crt").write_bytes(AMAZON.read_bytes())

    with pytest.raises(EvidenceError, match=r"^keystore/server.crt: holds 2 certificates \(PKCS#7 \(P7B\)\); it must hold exactly one"):
        load_certificate(tmp_path / "server.crt", "keystore/server.crt")


# ---- one real root in every documented shape ---------------------------------------------------------------------

def _lines(text: str, width: int) -> str:
    return "\r\n".join(text[i:i + width] for i in range(0, len(text), width))


B64 = base64.b64encode(ISRG_DER).decode()
# certutil -encode: armour, 64-character lines, CRLF (certutil's own output; the MMC's "Base-64 encoded X.509 (.CER)" is the same)
CERTUTIL = f"-----BEGIN CERTIFICATE-----\r\n{_lines(B64, 64)}\r\n-----END CERTIFICATE-----\r\n"
SHAPES = {
    "DER (Export-Certificate -Type CERT)": (ISRG_DER, "DER"),
    "certutil -encode, ASCII": (CERTUTIL.encode(), "PEM (DER)"),
    # Windows PowerShell 5.1: `Get-Content a.cer > b.cer` and Out-File write UTF-16 LE with BOM (about_Character_Encoding)
    "PEM, UTF-16 LE with BOM (5.1 Out-File / >)": (codecs.BOM_UTF16_LE + CERTUTIL.encode("utf-16-le"), "PEM (DER), UTF-16 LE with BOM"),
    "PEM, UTF-16 BE with BOM (Out-File -Encoding BigEndianUnicode)": (codecs.BOM_UTF16_BE + CERTUTIL.encode("utf-16-be"), "PEM (DER), UTF-16 BE with BOM"),
    "PEM, UTF-8 with BOM (5.1 Set-Content -Encoding UTF8)": (codecs.BOM_UTF8 + CERTUTIL.encode(), "PEM (DER), UTF-8 with BOM"),
    "PEM, UTF-16 LE without BOM ([IO.File]::WriteAllText, UnicodeEncoding without BOM)": (CERTUTIL.encode("utf-16-le"), "PEM (DER), UTF-16 LE without BOM"),
    "PEM, LF line ends (openssl)": (ISRG_PEM, "PEM (DER)"),
    # [Convert]::ToBase64String($cert.RawData): one line, no armour; with [Base64FormattingOptions]::InsertLineBreaks, 76 + CRLF
    "Base64 one line ([Convert]::ToBase64String)": (B64.encode(), "Base64 without header (DER)"),
    "Base64, 76-column CRLF lines (InsertLineBreaks)": ((_lines(B64, 76) + "\r\n").encode(), "Base64 without header (DER)"),
    "Base64 one line, UTF-16 LE with BOM (5.1 `[Convert]::ToBase64String(...) > x.cer`)": (
        codecs.BOM_UTF16_LE + (B64 + "\r\n").encode("utf-16-le"), "Base64 without header (DER), UTF-16 LE with BOM"),
    "PEM with text around it (openssl x509 -text, certutil -dump)": (b"Bag Attributes\n    friendlyName: hq\nsubject=CN=x\n" + ISRG_PEM + b"\ntrailing notes\n", "PEM (DER)"),
    # a German server's Windows-1252 notes around the armour ("Zertifikat für hq"): not UTF-8, still PEM
    "PEM with ANSI code-page text around it": ("Zertifikat f\u00fcr hq\r\n".encode("cp1252") + CERTUTIL.encode(), "PEM (DER)"),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_of_one_real_root_gives_its_thumbprint(tmp_path: Path, shape: str) -> None:
    data, expected_format = SHAPES[shape]
    (tmp_path / "Mitel_mfg_ca.crt").write_bytes(data)

    found = read_certificate_file(data)
    cert = load_certificate(tmp_path / "Mitel_mfg_ca.crt", "keystore/Mitel_mfg_ca.crt")

    assert (found.format, cert.thumbprint, cert.self_signed) == (expected_format, ISRG_SHA1, True)


def test_pkcs7_as_export_certificate_writes_it_der_and_pem() -> None:
    """Export-Certificate -Type P7B (CertSaveStore CERT_STORE_SAVE_AS_PKCS7) writes a DER SignedData with the
    certificates and no signer; crafted here with cryptography's serialize_certificates, which writes the same shape."""
    amazon = [x509.load_der_x509_certificate(c) for c in read_certificate_file(AMAZON.read_bytes()).certificates]
    certs = [x509.load_der_x509_certificate(ISRG_DER), *amazon]
    der = pkcs7.serialize_certificates(certs, serialization.Encoding.DER)
    pem = pkcs7.serialize_certificates(certs, serialization.Encoding.PEM)

    for data, form in ((der, "PKCS#7 (P7B)"), (pem, "PEM (PKCS#7 (P7B))"), (codecs.BOM_UTF16_LE + pem.decode().encode("utf-16-le"), "PEM (PKCS#7 (P7B)), UTF-16 LE with BOM")):
        found = read_certificate_file(data)
        assert found.format == form
        assert sorted(thumbprint(c) for c in found.certificates) == ["0D44DD8C3C8C1A1A58756481E90F2E2AFFB3D26E",
                                                                      "5A8CEF45D7A69859767A8C8B4496B578CF474B1A", ISRG_SHA1]  # a DER SET OF: sorted


def test_certutil_encode_of_an_sst_is_read_through_its_certificate_armour() -> None:
    """certutil -encode armours whatever bytes it is given as CERTIFICATE (a public .cmd with an encoded .cab under
    that armour shows it), so the armour's content is decoded by what it is, not by its label."""
    armoured = f"-----BEGIN CERTIFICATE-----\r\n{_lines(base64.b64encode(SST.read_bytes()).decode(), 64)}\r\n-----END CERTIFICATE-----\r\n"

    found = read_certificate_file(armoured.encode())

    assert found.format == "PEM (serialized certificate store (SST))" and len(found.certificates) == 71


@pytest.mark.parametrize(("data", "problem"), [
    (b"hello, this is a readme\r\n", "text that is neither PEM nor Base64"),
    (b"-----BEGIN CERTIFICATE-----\r\nMIIB", "a PEM block without its matching END line"),
    (b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n", "a PEM block 'CERTIFICATE REQUEST', not a certificate"),
    (b"\x00\x00\x00\x00CERT\x20\x00\x00\x00\x01\x00\x00\x00\xff\x00\x00\x00\x30", "a serialized store with a broken element at byte 8"),
    (b"\x00\x00\x00\x00CERT", "a serialized store that ends at byte 8 without its end marker"),
    (b"\x00\x00\x00\x00CERT" + bytes(12) + b"junk", "end marker at byte 8 is not 12 zero bytes ending the file"),
    (codecs.BOM_UTF16_LE + b"\x00\xd8", "text that is not valid UTF-16-LE"),
])
def test_what_is_not_a_certificate_file_says_what_it_looks_like(data: bytes, problem: str) -> None:
    with pytest.raises(CertificateFileError, match=problem):
        read_certificate_file(data)


def test_an_empty_sst_holds_no_certificate_and_a_store_of_only_that_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.sst").write_bytes(b"\x00\x00\x00\x00CERT" + bytes(12))

    assert read_certificate_file((tmp_path / "empty.sst").read_bytes()).certificates == ()
    with pytest.raises(EvidenceError, match="never empty"):
        load_store(tmp_path, "certs/root/")


# ---- private keys in every encoding -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def key_material() -> dict[str, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hq")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pfx = pkcs12.serialize_key_and_certificates(b"hq", key, cert, None, serialization.BestAvailableEncryption(b"pw"))
    pvk = (0xB0B5F11E).to_bytes(4, "little") + bytes(20)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return {
        "PEM key, UTF-16 LE with BOM": codecs.BOM_UTF16_LE + pem.decode().replace("\n", "\r\n").encode("utf-16-le"),
        "PEM key, UTF-16 LE without BOM": pem.decode().encode("utf-16-le"),
        "Base64 of a DER PKCS#8 key": b64(pkcs8).encode(),
        "certutil -encode of a PFX": f"-----BEGIN CERTIFICATE-----\r\n{_lines(b64(pfx), 64)}\r\n-----END CERTIFICATE-----\r\n".encode(),
        "Base64 of a PFX, UTF-16 LE with BOM": codecs.BOM_UTF16_LE + b64(pfx).encode("utf-16-le"),
        "Base64 of a PVK": b64(pvk).encode(),
        "certificate and key in one PEM": ISRG_PEM + pem,
    }


@pytest.mark.parametrize("shape", ["PEM key, UTF-16 LE with BOM", "PEM key, UTF-16 LE without BOM", "Base64 of a DER PKCS#8 key",
                                   "certutil -encode of a PFX", "Base64 of a PFX, UTF-16 LE with BOM", "Base64 of a PVK",
                                   "certificate and key in one PEM"])
def test_a_private_key_is_refused_in_every_encoding(tmp_path: Path, key_material: dict[str, bytes], shape: str) -> None:
    (tmp_path / "key.cer").write_bytes(key_material[shape])
    (tmp_path / "isrg.cer").write_bytes(ISRG_DER)

    with pytest.raises(PrivateKeyInside):
        read_certificate_file(key_material[shape])
    with pytest.raises(PrivateKeyRefused, match="certs/root/key.cer: contains a private key"):
        load_store(tmp_path, "certs/root/")


def test_a_pfx_is_never_read(tmp_path: Path) -> None:
    (tmp_path / "backup.pfx").write_bytes(ISRG_DER)  # whatever it holds

    with pytest.raises(PrivateKeyRefused):
        load_store(tmp_path, "certs/root/")


# ---- absence is never concluded past a file that could not be read ------------------------------------------------

def _root_store(tmp_path: Path, *, unreadable: bool, with_mitel: bool) -> Store:
    folder = tmp_path / "root"
    folder.mkdir()
    (folder / "amazon.p7b").write_bytes(AMAZON.read_bytes())
    if with_mitel:
        (folder / "mitel.cer").write_bytes(codecs.BOM_UTF16_LE + CERTUTIL.encode("utf-16-le"))  # stands in for the Mitel root
    if unreadable:
        (folder / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\r\n!!!!\r\n-----END CERTIFICATE-----\r\n")
    return load_store(folder, "certs/root/")


@pytest.fixture
def mitel(tmp_path: Path):
    (tmp_path / "Mitel_mfg_ca.crt").write_bytes(ISRG_DER)
    return load_certificate(tmp_path / "Mitel_mfg_ca.crt", "keystore/Mitel_mfg_ca.crt")


def test_1b_is_not_judged_when_the_mitel_root_is_not_found_and_a_root_file_was_not_read(tmp_path: Path, mitel) -> None:
    store = _root_store(tmp_path, unreadable=True, with_mitel=False)

    with pytest.raises(EvidenceError, match=r"^certs/root/: Mitel_mfg_ca.crt \(CABD.*\) is not among the certificates read, but 1 file\(s\) "
                                            r"could not be read, so its absence is not known: certs/root/broken.pem"):
        judge_mitel_root(store, mitel)
    assert "maybe 1b" in root_cause_hint(store, mitel)


def test_1b_passes_on_the_mitel_root_found_beside_a_file_that_was_not_read(tmp_path: Path, mitel) -> None:
    store = _root_store(tmp_path, unreadable=True, with_mitel=True)

    assert judge_mitel_root(store, mitel).outcome is Outcome.PASS
    with pytest.raises(EvidenceError, match="certs/root/broken.pem"):  # 1a still cannot pass
        judge_root_store(store)


def test_1b_fails_with_the_import_fix_only_when_every_root_file_was_read(tmp_path: Path, mitel) -> None:
    verdict = judge_mitel_root(_root_store(tmp_path, unreadable=False, with_mitel=False), mitel)

    assert verdict.outcome is Outcome.FAIL and "Import-Certificate" in verdict.remediation


def test_x4_finds_a_stale_copy_among_what_was_read_and_is_not_judged_without_one(tmp_path: Path, mitel) -> None:
    store = _root_store(tmp_path, unreadable=True, with_mitel=True)
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)

    with pytest.raises(EvidenceError, match=r"other keys under .* cannot be ruled out: certs/root/broken.pem"):
        judge_mitel_root_itself(mitel, store, at, 30)
    other_key = ec.generate_private_key(ec.SECP256R1())
    isrg = x509.load_der_x509_certificate(ISRG_DER)
    stale = (x509.CertificateBuilder().subject_name(isrg.subject).issuer_name(isrg.subject).public_key(other_key.public_key())
             .serial_number(7).not_valid_before(at - timedelta(days=1)).not_valid_after(at + timedelta(days=900)).sign(other_key, hashes.SHA256()))
    (tmp_path / "root" / "stale.p7b").write_bytes(pkcs7.serialize_certificates([stale], serialization.Encoding.DER))

    verdict = judge_mitel_root_itself(mitel, load_store(tmp_path / "root", "certs/root/"), at, 30)

    assert verdict.outcome is Outcome.FAIL and "another key" in verdict.summary


# ---- any bytes ------------------------------------------------------------------------------------------------------

_PIECES = st.sampled_from([b"\x00\x00\x00\x00CERT", b"\x20\x00\x00\x00\x01\x00\x00\x00", b"\x03\x00\x00\x00", b"\xff\xff\xff\xff",
                           b"-----BEGIN CERTIFICATE-----\r\n", b"-----END CERTIFICATE-----\r\n", b"-----BEGIN PKCS7-----\n",
                           b"MIIB", b"\r\n", codecs.BOM_UTF16_LE, codecs.BOM_UTF8, b"0\x82", b"0\x80", ISRG_DER[:40], ISRG_DER,
                           bytes.fromhex("06092a864886f70d010702"), b"\xb0\xb5\xf1\x1e"])


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=12).map(b"".join)))
def test_any_bytes_give_certificates_or_say_what_they_are_never_another_exception(data: bytes) -> None:
    try:
        found = read_certificate_file(data)
    except (CertificateFileError, PrivateKeyInside):
        return
    assert isinstance(found.format, str) and all(isinstance(c, bytes) for c in found.certificates)
