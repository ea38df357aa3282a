"""Broken and hostile evidence, one damaged copy of the healthy snapshot per artifact, generated here: all of them
are judged in ONE run of the real suite (one host each), and for every host the checks that read the damaged
artifact are never a pass, the others still pass, and nothing prints a traceback or an INTERNALERROR."""

from __future__ import annotations

import base64
import codecs
import gzip
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7

from tests.conftest import CHECKS, REPO, SuiteRun, run_gate

VALIDITY, NAME, MITEL_ITSELF, ISSUER_LIST, CHAIN = ("test_served_certificate_is_valid", "test_served_certificate_names_hq_fqdn",
                                                    "test_mitel_root_ca_is_current", "test_trusted_issuer_list_fits",
                                                    "test_server_crt_chains_to_keystore_ca")
ROOT = {"test_root_store_is_self_signed", "test_mitel_root_ca_is_trusted", MITEL_ITSELF, ISSUER_LIST}
MITEL = {"test_mitel_root_ca_is_trusted", MITEL_ITSELF}
UNREAD_ROOT = frozenset({"test_root_store_is_self_signed", MITEL_ITSELF})
WIRE = "test_certificate_served_on_443_is_server_crt"
SERVER_CRT = {"test_https_binding_matches_keystore", VALIDITY, CHAIN, WIRE}
KEYSTORE = MITEL | SERVER_CRT
BINDING = {"test_https_binding_matches_keystore", VALIDITY, NAME}
REVOCATION = "test_certauth_not_refused_on_revocation"
REGISTRY = {"test_trust_mode_workaround_absent", "test_certauth_not_rejected_in_iis_logs", "test_tls10_enabled", "test_phone_cipher_profile_accepted",
            ISSUER_LIST, REVOCATION}
IIS = {"test_certauth_not_rejected_in_iis_logs", REVOCATION}
PHONES = {"test_phone_logs_show_no_tls_failure", "test_phone_logs_show_no_host_not_found"}
DNS = {"test_fqdn_resolves_to_hq"}
TLS = {"test_tls10_enabled", "test_phone_cipher_profile_accepted", WIRE}
HTTPS = {"test_certauth_endpoint_answers"}
STATE = {"test_tls10_enabled", REVOCATION}
ACCESS = {"test_certauth_asks_for_client_certificate"}
CLOCK = {"test_server_clock_in_step"}
EVERY = ROOT | KEYSTORE | BINDING | REGISTRY | IIS | PHONES | DNS | TLS | HTTPS | ACCESS | CLOCK


@dataclass(frozen=True)
class Damage:
    name: str
    apply: Callable[[Path], None]
    checks: frozenset[str]  # never a pass; every other check still passes


def _write(relative: str, data: bytes | str) -> Callable[[Path], None]:
    def apply(snapshot: Path) -> None:
        path = snapshot / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return apply


def _json(relative: str, doc: object) -> Callable[[Path], None]:
    return _write(relative, json.dumps(doc))


def _edit(relative: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(snapshot: Path) -> None:
        path = snapshot / relative
        path.write_bytes(change(path.read_bytes()))
    return apply


def _manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(snapshot: Path) -> None:
        doc = json.loads((snapshot / "manifest.json").read_text())
        change(doc)
        (snapshot / "manifest.json").write_text(json.dumps(doc))
    return apply


def _serialized_store(ders: list[bytes]) -> bytes:
    """Export-Certificate -Type SST's layout ([MS-OSHARED] 2.3.9.1), crafted: header, each certificate after its SHA-1
    property (id 3) as Windows writes it, the 12-byte end marker."""
    out = b"\x00\x00\x00\x00CERT"
    for der in ders:
        sha1 = hashlib.sha1(der).digest()
        out += struct.pack("<III", 3, 1, len(sha1)) + sha1 + struct.pack("<III", 0x20, 1, len(der)) + der
    return out + bytes(12)


def _as_one_file(folder: Path, name: str, write: Callable[[list[bytes]], bytes]) -> None:
    files = sorted(folder.iterdir())
    ders = [p.read_bytes() for p in files]
    for p in files:
        p.unlink()
    (folder / name).write_bytes(write(ders))


def _key_der() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption())


def _pfx() -> bytes:
    from casgate.scenarios import craft  # noqa: F401 - the generator's own keys are not reachable; make one here
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID
    from datetime import datetime

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hq")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
            .not_valid_before(datetime(2025, 1, 1)).not_valid_after(datetime(2027, 1, 1)).sign(key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(b"hq", key, cert, None, serialization.NoEncryption())


REG_HEAD = "Windows Registry Editor Version 5.00\r\n\r\n"
TLS10 = r"[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.0\Server]"
IIS_LOG = "iis/logs/W3SVC1/u_ex261120.log"
PHONE_LOG = "phone-logs/P105709FW16424D2D8B.log"
FIELDS = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"

DAMAGES = [
    # certificates in LocalMachine\Root
    Damage("root-empty-file", _write("certs/root/empty.cer", b""), frozenset({"test_root_store_is_self_signed", MITEL_ITSELF})),
    Damage("root-garbage", _write("certs/root/junk.cer", b"\x30\x82\xff\xff junk"), frozenset({"test_root_store_is_self_signed", MITEL_ITSELF})),
    Damage("root-truncated-der", _edit("certs/root/corp-root.cer", lambda b: b[: len(b) // 2]), frozenset({"test_root_store_is_self_signed", MITEL_ITSELF})),
    # one unreadable Root file: 1a and X4 are not judged; 1b still passes on the Mitel root found among the others
    Damage("root-bad-base64", _write("certs/root/x.pem", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"), UNREAD_ROOT),
    Damage("root-two-in-one-pem", lambda s: (s / "certs/root/two.pem").write_text(
        ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n") * 2), UNREAD_ROOT),
    Damage("root-pem-private-key", _write("certs/root/key.cer", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"), frozenset(ROOT)),
    Damage("root-der-private-key", _write("certs/root/key.cer", _key_der()), frozenset(ROOT)),
    Damage("root-pfx", _write("certs/root/backup.crt", _pfx()), frozenset(ROOT)),
    Damage("root-pfx-extension", _write("certs/root/backup.pfx", b"anything"), frozenset(ROOT)),
    Damage("root-huge", lambda s: (s / "certs/root/huge.sst").open("wb").truncate(33 << 20), UNREAD_ROOT),  # sparse: past the limit, never read
    Damage("root-folder-missing", lambda s: shutil.rmtree(s / "certs/root"), frozenset(ROOT)),
    Damage("root-folder-empty", lambda s: [p.unlink() for p in (s / "certs/root").iterdir()], frozenset(ROOT)),
    Damage("root-nul-bytes", _write("certs/root/nul.cer", b"\x00" * 4096), frozenset({"test_root_store_is_self_signed", MITEL_ITSELF})),
    Damage("root-utf16-pem", lambda s: (s / "certs/root/u16.cer").write_bytes(
        codecs.BOM_UTF16_LE + (s / "certs/root/corp-root.cer").read_bytes().hex().encode("utf-16-le")), frozenset({"test_root_store_is_self_signed", MITEL_ITSELF})),
    # Windows' other certificate files: a broken .sst is one unreadable file; a key inside Base64 or UTF-16 is still a key
    Damage("root-sst-truncated", _write("certs/root/roots.sst", b"\x00\x00\x00\x00CERT\x20\x00\x00\x00\x01\x00\x00\x00\xff\xff\x00\x00"), UNREAD_ROOT),
    Damage("root-certutil-encoded-pfx", lambda s: (s / "certs/root/backup.cer").write_bytes(
        b"-----BEGIN CERTIFICATE-----\r\n" + base64.encodebytes(_pfx()).replace(b"\n", b"\r\n") + b"-----END CERTIFICATE-----\r\n"), frozenset(ROOT)),
    Damage("keystore-key-utf16", lambda s: (s / "keystore/server.key.txt").write_bytes(codecs.BOM_UTF16_LE + ec.generate_private_key(
        ec.SECP256R1()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode().encode("utf-16-le")),
        frozenset(KEYSTORE)),
    # the same stores exported as Windows also writes them: judged exactly as the one-DER-per-file export
    Damage("root-as-one-sst", lambda s: _as_one_file(s / "certs/root", "root.sst", _serialized_store), frozenset()),
    Damage("my-as-one-p7b", lambda s: _as_one_file(s / "certs/my", "my.p7b", lambda ders: pkcs7.serialize_certificates(
        [x509.load_der_x509_certificate(d) for d in ders], serialization.Encoding.DER)), frozenset()),
    Damage("keystore-mitel-utf16-pem", _edit("keystore/Mitel_mfg_ca.crt", lambda der: codecs.BOM_UTF16_LE + x509.load_der_x509_certificate(der)
                                               .public_bytes(serialization.Encoding.PEM).decode().replace("\n", "\r\n").encode("utf-16-le")), frozenset()),
    # keystore
    Damage("keystore-server-missing", lambda s: (s / "keystore/server.crt").unlink(), frozenset(SERVER_CRT)),
    Damage("keystore-server-garbage", _write("keystore/server.crt", b"not a cert"), frozenset(SERVER_CRT)),
    Damage("keystore-mitel-garbage", _write("keystore/Mitel_mfg_ca.crt", b"\x30\x03\x02\x01\x01"), frozenset(MITEL)),
    Damage("keystore-mitel-missing", lambda s: (s / "keystore/Mitel_mfg_ca.crt").unlink(), frozenset(MITEL)),
    Damage("keystore-private-key-pem", _write("keystore/server.key.txt", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"), frozenset(KEYSTORE)),
    Damage("keystore-private-key-der", _write("keystore/server-key.crt", _key_der()), frozenset(KEYSTORE)),
    Damage("keystore-pfx-as-crt", _write("keystore/backup.crt", _pfx()), frozenset(KEYSTORE)),
    Damage("keystore-encrypted-key", _write("keystore/k.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"), frozenset(KEYSTORE)),
    # certs/my and bindings
    Damage("my-missing", lambda s: shutil.rmtree(s / "certs/my"), frozenset(BINDING)),
    Damage("bindings-not-json", _write("iis/bindings.json", "{not json"), frozenset(BINDING)),
    # no binding at all is cause 2's finding; X2 still judges server.crt, X3 has no served certificate to read
    Damage("bindings-empty-list", _json("iis/bindings.json", []), frozenset(BINDING - {VALIDITY})),
    Damage("bindings-null", _json("iis/bindings.json", None), frozenset(BINDING)),
    Damage("bindings-number-hash", _json("iis/bindings.json", [{"protocol": "https", "bindingInformation": "*:443:", "certificateHash": 12345}]), frozenset(BINDING)),
    Damage("bindings-no-information", _json("iis/bindings.json", [{"protocol": "https"}]), frozenset(BINDING)),
    Damage("bindings-bad-information", _json("iis/bindings.json", [{"protocol": "https", "bindingInformation": "443"}]), frozenset(BINDING)),
    Damage("bindings-port-overflow", _json("iis/bindings.json", [{"protocol": "https", "bindingInformation": "*:99999999999999999999:"}]), frozenset(BINDING)),
    Damage("bindings-nested", _write("iis/bindings.json", "[" * 100_000 + "]" * 100_000), frozenset(BINDING)),
    # Windows PowerShell 5.1's Out-File writes UTF-16 LE with a BOM: read, not refused
    Damage("bindings-utf16", _edit("iis/bindings.json", lambda b: codecs.BOM_UTF16_LE + b.decode().encode("utf-16-le")), frozenset()),
    Damage("bindings-binary", _write("iis/bindings.json", bytes(range(256))), frozenset(BINDING)),
    # the phones' binding takes its certificate from WebHosting, which this snapshot did not export: cause 2, X2 and X3 (which
    # judge that binding's certificate, from the store it names) are not judged, never "not in My" nor My's copy instead
    Damage("bindings-webhosting-not-exported", _edit("iis/bindings.json", lambda b: b.replace(b'"My"', b'"WebHosting"')),
           frozenset({"test_https_binding_matches_keystore", "test_served_certificate_is_valid", "test_served_certificate_names_hq_fqdn"})),
    Damage("bindings-sslflags-unknown-bit", _edit("iis/bindings.json", lambda b: b.replace(b'"protocol": "https"', b'"sslFlags": 4096, "protocol": "https"')),
           frozenset(BINDING)),
    # registry
    Damage("reg-garbage", _write("registry/schannel.reg", b"\xff\xfe" + "garbage\r\n".encode("utf-16-le")), frozenset(REGISTRY)),
    Damage("reg-no-header", _write("registry/schannel.reg", f"{TLS10}\r\n\"Enabled\"=dword:00000001\r\n"), frozenset(REGISTRY)),
    Damage("reg-dword-overflow", _write("registry/schannel.reg", f"{REG_HEAD}{TLS10}\r\n\"Enabled\"=dword:100000002\r\n"), frozenset(REGISTRY)),
    Damage("reg-dword-negative", _write("registry/schannel.reg", f"{REG_HEAD}{TLS10}\r\n\"Enabled\"=dword:-1\r\n"), frozenset(REGISTRY)),
    Damage("reg-empty", _write("registry/schannel.reg", b""), frozenset(REGISTRY)),
    Damage("reg-binary", _write("registry/schannel.reg", bytes(range(256)) * 4), frozenset(REGISTRY)),
    Damage("reg-folder-missing", lambda s: shutil.rmtree(s / "registry"), frozenset(REGISTRY)),
    Damage("reg-unterminated-key", _write("registry/schannel.reg", f"{REG_HEAD}[HKEY_LOCAL_MACHINE\\SYSTEM\r\n"), frozenset(REGISTRY)),
    Damage("reg-string-as-dword", _edit("registry/schannel.reg", lambda b: (b.decode("utf-16") + f"{TLS10}\r\n\"Enabled\"=\"1\"\r\n")
                                                                       .encode("utf-16")), frozenset({"test_tls10_enabled"})),
    Damage("reg-issuer-list-string", _edit("registry/schannel.reg", lambda b: b.decode("utf-16").replace(
        '"EventLogging"', '"SendTrustedIssuerList"="1"\r\n"EventLogging"').encode("utf-16")),
           frozenset({ISSUER_LIST})),  # the certauth scan then counts a 403.7 as a possible cause 1 ("1?"): no 403.7 here
    Damage("reg-http-bindings-garbage", _write("registry/http-sslbindings.reg", b"\xff\xfe" + "garbage\r\n".encode("utf-16-le")),
           frozenset(REGISTRY)),
    Damage("reg-huge", _write("registry/schannel.reg", REG_HEAD + ";" + "x" * (17 << 20) + "\r\n"), frozenset(REGISTRY)),
    # IIS logs
    Damage("iis-random-bytes", _write(IIS_LOG, bytes(range(256)) * 512), frozenset(IIS)),
    Damage("iis-empty", _write(IIS_LOG, b""), frozenset(IIS)),
    Damage("iis-no-fields", _write(IIS_LOG, "2026-11-20 05:00:00 10.0.0.1 POST /shoreauth/certauth - 443 - 10.0.0.2 x - 403 16 2148204809 1\r\n"), frozenset(IIS)),
    Damage("iis-duplicate-field", _write(IIS_LOG, "#Fields: date time cs-uri-stem cs-uri-stem sc-status\r\n2026-11-20 05:00:00 /shoreauth/certauth x 403\r\n"), frozenset(IIS)),
    Damage("iis-no-substatus", _write(IIS_LOG, "#Fields: date time c-ip cs-uri-stem sc-status\r\n2026-11-20 05:00:00 10.0.0.2 /shoreauth/certauth 403\r\n"), frozenset(IIS)),
    Damage("iis-no-stem", _write(IIS_LOG, "#Fields: date time c-ip cs-uri-query sc-status sc-substatus\r\n2026-11-20 05:00:00 10.0.0.2 certauth 403 16\r\n"), frozenset(IIS)),
    Damage("iis-malformed-certauth", _write(IIS_LOG, f"{FIELDS}\r\n2026-11-20 05:00:00 10.0.0.1 POST /shoreauth/certauth - 443 - 10.0.0.2 x - 40316 2148204809 1\r\n"), frozenset(IIS)),
    Damage("iis-bad-date", _write(IIS_LOG, f"{FIELDS}\r\n2026-13-45 99:99:99 10.0.0.1 POST /shoreauth/certauth - 443 - 10.0.0.2 x - 403 16 2148204809 1\r\n"), frozenset(IIS)),
    Damage("iis-corrupt-gz", lambda s: ((s / IIS_LOG).unlink(), (s / (IIS_LOG + ".gz")).write_bytes(b"\x1f\x8b garbage")), frozenset(IIS)),
    Damage("iis-truncated-gz", lambda s: (s / (IIS_LOG + ".gz")).write_bytes(gzip.compress((s / IIS_LOG).read_bytes())[:30]), frozenset(IIS)),
    Damage("iis-not-a-zip", _write("iis/logs/u_ex1.zip", b"PK\x03\x04 not really"), frozenset(IIS)),
    Damage("iis-zip-unsupported-method", lambda s: _zip_with_method(s / "iis/logs/u_ex2.zip"), frozenset(IIS)),
    Damage("iis-zip-encrypted", lambda s: _encrypted_zip(s / "iis/logs/u_ex3.zip"), frozenset(IIS)),
    Damage("iis-folder-missing", lambda s: shutil.rmtree(s / "iis/logs"), frozenset(IIS)),
    Damage("iis-only-other-files", lambda s: ((s / IIS_LOG).unlink(), (s / "iis/logs/W3SVC1/readme.txt").write_text("x")), frozenset(IIS)),
    Damage("iis-endless-line-gz", _write(IIS_LOG + ".gz", gzip.compress(b"#Fields: date time\r\n" + b"x" * (3 << 20))), frozenset(IIS)),
    Damage("iis-long-certauth-line", _write(IIS_LOG, f"{FIELDS}\r\n2026-11-20 05:00:00 10.0.0.1 POST /shoreauth/certauth - 443 - 10.0.0.2 {'A' * (100 << 10)} - 403 16 2148204809 1\r\n"), frozenset(IIS)),
    Damage("iis-utf16-still-read", _edit(IIS_LOG, lambda b: codecs.BOM_UTF16_LE + b.decode().encode("utf-16-le")), frozenset()),
    Damage("iis-nul-padding-still-read", _edit(IIS_LOG, lambda b: b + b"\x00" * 65536), frozenset()),
    # phone logs
    Damage("phone-random-bytes", _write(PHONE_LOG, bytes(range(256)) * 64), frozenset(PHONES)),
    Damage("phone-empty", _write(PHONE_LOG, b""), frozenset(PHONES)),
    Damage("phone-not-a-phone-log", _write(PHONE_LOG, "hello\r\nworld\r\n"), frozenset(PHONES)),
    Damage("phone-corrupt-gz", _write("phone-logs/p2.log.gz", b"\x1f\x8b\x08\x00 broken"), frozenset(PHONES)),
    Damage("phone-bad-times-still-read", _write(PHONE_LOG, "2026-13-45T99:99:99Z P1 p8[1]: ordinary line\r\n2026-01-01T00:00:00+99:00 P1 p8[1]: ordinary\r\n"), frozenset()),
    # probes
    Damage("dns-empty-list", _json("probes/dns.json", []), frozenset(DNS)),
    Damage("dns-null", _json("probes/dns.json", None), frozenset(DNS)),
    Damage("dns-no-servers", _json("probes/dns.json", {"fqdn": "hq.example.com", "servers": []}), frozenset(DNS)),
    Damage("dns-server-not-object", _json("probes/dns.json", {"fqdn": "hq.example.com", "servers": ["10.0.0.1"]}), frozenset(DNS)),
    Damage("dns-addresses-not-list", _json("probes/dns.json", {"fqdn": "hq.example.com", "servers": [{"server": "a", "addresses": "x"}]}), frozenset(DNS)),
    Damage("dns-ttl-string", _edit("probes/dns.json", lambda b: b.replace(b'"ttl": ', b'"ttl": "x", "ttl2": ')), frozenset(DNS)),
    Damage("tls-empty-list", _json("probes/tls.json", []), frozenset(TLS)),
    Damage("tls-no-handshakes", _json("probes/tls.json", {"address": "a", "port": 443}), frozenset(TLS)),
    Damage("tls-accepted-string", _edit("probes/tls.json", lambda b: b.replace(b'"accepted": true', b'"accepted": "yes"')), frozenset(TLS)),
    Damage("tls-port-string", _edit("probes/tls.json", lambda b: b.replace(b'"port": 443', b'"port": "443"')), frozenset(TLS)),
    Damage("tls-thumbprint-not-sha1", _edit("probes/tls.json", lambda b: b.replace(b'"certificate_thumbprint": "', b'"certificate_thumbprint": "AB')),
           frozenset({WIRE})),
    Damage("tls-thumbprint-null", _edit("probes/tls.json", lambda b: re.sub(rb'"certificate_thumbprint": "\w+"', b'"certificate_thumbprint": null', b)),
           frozenset({WIRE})),
    Damage("https-empty-list", _json("probes/https.json", []), frozenset(HTTPS)),
    Damage("https-null", _json("probes/https.json", None), frozenset(HTTPS)),
    Damage("https-status-string", _json("probes/https.json", {"url": "https://hq/shoreauth/certauth", "status": "403"}), frozenset(HTTPS)),
    Damage("https-neither", _json("probes/https.json", {"url": "https://hq/shoreauth/certauth"}), frozenset(HTTPS)),
    Damage("https-not-json", _write("probes/https.json", b"\x00\x01"), frozenset(HTTPS)),
    # claimed in the manifest's collected but absent: optional evidence is optional only when not claimed
    Damage("https-listed-missing", lambda s: (s / "probes/https.json").unlink(), frozenset(HTTPS)),
    Damage("phones-listed-missing", lambda s: shutil.rmtree(s / "phone-logs"), frozenset(PHONES)),
    # iis/state.json
    Damage("state-list", _json("iis/state.json", []), frozenset(STATE)),
    Damage("state-string-flag", _json("iis/state.json", {"reboot_pending": "yes"}), frozenset({"test_tls10_enabled"})),
    Damage("state-sslcert-number", _json("iis/state.json", {"reboot_pending": False, "netsh_http_show_sslcert": 443}), frozenset({REVOCATION})),
    # iis/access.json
    Damage("access-missing", lambda s: (s / "iis/access.json").unlink(), frozenset(ACCESS)),
    Damage("access-list", _json("iis/access.json", [{"sslFlags": "Ssl"}]), frozenset(ACCESS)),
    Damage("access-no-flags", _json("iis/access.json", {"location": "Default Web Site/shoreauth"}), frozenset(ACCESS)),
    Damage("access-unknown-flag", _json("iis/access.json", {"location": "x", "sslFlags": "Ssl, SslNegotiateCertificate"}), frozenset(ACCESS)),
    Damage("access-object-name", _json("iis/access.json", {"location": "x", "sslFlags": "Microsoft.IIs.PowerShell.Framework.ConfigurationAttribute"}),
           frozenset(ACCESS)),
    Damage("access-other-location", _json("iis/access.json", {"location": "Default Web Site", "sslFlags": "Ssl, SslNegotiateCert"}),
           frozenset(ACCESS)),
    Damage("access-unknown-bit", _json("iis/access.json", {"location": "x", "sslFlags": 4096}), frozenset(ACCESS)),
    Damage("access-arabic-indic-digits", _json("iis/access.json", {"location": "Default Web Site/shoreauth", "sslFlags": "\u0664\u0660"}),
           frozenset(ACCESS)),
    # host/clock.json
    Damage("clock-missing", lambda s: (s / "host/clock.json").unlink(), frozenset(CLOCK)),
    Damage("clock-no-zone", _edit("host/clock.json", lambda b: b.replace(b'.200Z"', b'.200"')), frozenset(CLOCK)),
    Damage("clock-year-1", _json("host/clock.json", {"server_utc": "0001-01-01T00:00:00Z", "runner_before_utc": "2026-11-20T06:00:00Z",
                                                     "runner_after_utc": "2026-11-20T06:00:01Z"}), frozenset(CLOCK)),
    Damage("clock-runner-backwards", _json("host/clock.json", {"server_utc": "2026-11-20T06:00:00Z", "runner_before_utc": "2026-11-20T06:00:05Z",
                                                               "runner_after_utc": "2026-11-20T06:00:01Z"}), frozenset(CLOCK)),
    Damage("manifest-skips-clock", _manifest(lambda d: d.update(skipped={"host/clock.json": "collect.ps1"})), frozenset(CLOCK)),
    # manifest
    Damage("manifest-not-json", _write("manifest.json", "{"), frozenset(EVERY)),
    Damage("manifest-nested", _write("manifest.json", "[" * 100_000), frozenset(EVERY)),
    Damage("manifest-year-1", _manifest(lambda d: d.update(collected_at="0001-01-01T00:00:00Z")), frozenset(EVERY)),
    Damage("manifest-year-9999", _manifest(lambda d: d.update(collected_at="9999-12-31T23:59:59Z")), frozenset(EVERY)),
    Damage("manifest-no-timezone", _manifest(lambda d: d.update(collected_at="2026-11-20T06:00:00")), frozenset(EVERY)),
    Damage("manifest-bad-source", _manifest(lambda d: d.update(source="trusted")), frozenset(EVERY)),
    Damage("manifest-skipped-not-map", _manifest(lambda d: d.update(skipped=["certs/root/"])), frozenset(EVERY)),
    Damage("manifest-skips-root", _manifest(lambda d: d.update(skipped={"certs/root/": "forgot"})), frozenset(ROOT)),
    Damage("manifest-skips-everything", _manifest(lambda d: d.update(skipped={a: "no" for a in d["collected"]})), frozenset(EVERY)),
    Damage("manifest-failed-logs", _manifest(lambda d: d.update(failed={"iis/logs/": "WinRM refused"})), frozenset(IIS)),
    Damage("manifest-fqdn-number", _manifest(lambda d: d.update(fqdn=1)), frozenset(EVERY)),
    Damage("manifest-fqdn-stray-space", _manifest(lambda d: d.update(fqdn="hq.example.com ")), frozenset(EVERY)),
    Damage("manifest-address-name", _manifest(lambda d: d.update(address="hq.example.com")), frozenset(EVERY)),
    Damage("manifest-missing", lambda s: (s / "manifest.json").unlink(), frozenset()),  # no manifest: not a snapshot (usage error, tested apart)
    # links out of the snapshot
    Damage("link-root-cert", lambda s: (s / "certs/root/evil.cer").symlink_to("/etc/hostname"), frozenset(ROOT)),
    Damage("link-iis-folder", lambda s: (shutil.rmtree(s / "iis/logs"), (s / "iis/logs").symlink_to("/var/log", target_is_directory=True)), frozenset(IIS)),
    Damage("link-manifest", lambda s: ((s / "manifest.json").rename(s.parent / f"{s.name}.json"), (s / "manifest.json").symlink_to(s.parent / f"{s.name}.json")), frozenset(EVERY)),
]


def _zip_with_method(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("u_ex.log", FIELDS + "\r\n")
    data = bytearray(path.read_bytes())
    data[8:10] = (99).to_bytes(2, "little")  # local header: compression method 99 (AES), which zipfile cannot read
    central = data.rfind(b"PK\x01\x02")
    data[central + 10:central + 12] = (99).to_bytes(2, "little")
    path.write_bytes(bytes(data))


def _encrypted_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("u_ex.log", FIELDS + "\r\n")
    data = bytearray(path.read_bytes())
    data[6] |= 1  # general purpose flag bit 0: encrypted
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    path.write_bytes(bytes(data))


JUDGED = [d for d in DAMAGES if d.name != "manifest-missing"]


@pytest.fixture(scope="module")
def hostile_run(scenarios_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    workdir = tmp_path_factory.mktemp("hostile")
    for damage in JUDGED:
        snapshot = workdir / "snaps" / damage.name
        shutil.copytree(scenarios_dir / "healthy", snapshot)
        damage.apply(snapshot)
    return run_gate(workdir, f"--snapshots={workdir / 'snaps'}", *(a for d in JUDGED for a in ("--host", d.name)), timeout=300)


def test_the_corpus_is_large_and_covers_every_artifact() -> None:
    assert len(DAMAGES) >= 90
    assert len({d.name for d in DAMAGES}) == len(DAMAGES)


def test_no_traceback_and_the_taxonomys_exit_status(hostile_run) -> None:
    assert hostile_run.returncode == 1, hostile_run.output[-3000:]  # 1 beats 3: bindings-empty-list is a real finding
    assert "Traceback" not in hostile_run.output and "INTERNALERROR" not in hostile_run.output


@pytest.mark.parametrize("damage", JUDGED, ids=[d.name for d in JUDGED])
def test_a_broken_artifact_never_passes_the_checks_that_read_it(hostile_run, damage: Damage) -> None:
    outcomes = hostile_run.outcomes(damage.name)

    assert len(outcomes) == CHECKS
    assert {c for c, o in outcomes.items() if o in ("pass", "skip")} == set(outcomes) - damage.checks, outcomes
    assert all(outcomes[c] in ("error", "fail", "warn") for c in damage.checks), outcomes


LOG_DAMAGES = [d for d in JUDGED if d.name.startswith(("iis-", "phone-")) and d.name != "iis-folder-missing"]  # damaged log files


@pytest.mark.parametrize("damage", LOG_DAMAGES, ids=[d.name for d in LOG_DAMAGES])
def test_the_logs_command_on_each_broken_log(scenarios_dir: Path, tmp_path: Path, damage: Damage) -> None:
    snapshot = tmp_path / damage.name
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    damage.apply(snapshot)
    folders = [str(f) for f in (snapshot / "iis" / "logs", snapshot / "phone-logs") if f.exists()]

    run = subprocess.run([sys.executable, "-m", "casgate.logs", *folders, "--since", "24h", "--until", "2026-11-20T06:00:00Z"],
                         capture_output=True, text=True, cwd=REPO, timeout=120, check=False)

    assert "Traceback" not in run.stderr
    assert run.returncode == (0 if damage.name.endswith("still-read") else 3), run.stdout + run.stderr
