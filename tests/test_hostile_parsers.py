"""Hostile and broken artifacts: every parser answers with casgate's own error naming the file and the field or line
that is wrong — never a traceback, never a silent pass. Each case is the artifact and the message expected."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from casgate.baseline import BaselineError, load_baseline
from casgate.errors import CasgateError, EvidenceError
from casgate.evidence import DnsProbe, HttpsProbe, Manifest, TlsProbe, parse_bindings, parse_state, read_json
from casgate.inventory import InventoryError, check_host_name, load_inventory
from casgate.regfile import load_registry
from casgate.schannel import SCHANNEL, TLS10_SERVER, tls10_server_state
from casgate.waivers import WaiverFileError, load_waivers
from casgate.window import Window, parse_since, window_start

V5 = "Windows Registry Editor Version 5.00\r\n\r\n"
TLS10_KEY = f"[{TLS10_SERVER}]\r\n"
SECRET = "hunter2-Pa55"


def _utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le", "surrogatepass")


def _params(cases: list[tuple[Any, ...]]) -> list[Any]:
    """(id, artifact..., expected message) rows as pytest params with readable ids."""
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


def _refused(path: Path, artifact: str, load: Callable[[Path], object], error: type[CasgateError]) -> str:
    """Write the artifact, load it, and return the message of the error it must raise, which names the file first."""
    path.write_text(artifact, encoding="utf-8")
    with pytest.raises(error) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: ")
    return str(caught.value)


# ---- registry/*.reg ------------------------------------------------------------------------------------------------

REG_CASES = [
    ("no-header", f"{TLS10_KEY}\"Enabled\"=dword:00000000\r\n", "registry/schannel.reg: is not a reg export"),
    ("empty", "", "registry/schannel.reg: is not a reg export"),
    ("regedit-3.1-header", "REGEDIT\r\nHKEY_CLASSES_ROOT\\x = y\r\n", "is not a reg export"),
    ("blank-line-before-header", "\r\n" + V5, "is not a reg export"),
    ("dword-9-digits", V5 + TLS10_KEY + '"Enabled"=dword:100000002\r\n', "line 4: a DWORD is 1 to 8 hex digits"),
    ("dword-negative", V5 + TLS10_KEY + '"Enabled"=dword:-1\r\n', "line 4: a DWORD is 1 to 8 hex digits"),
    ("dword-empty", V5 + TLS10_KEY + '"Enabled"=dword:\r\n', "line 4: a DWORD is 1 to 8 hex digits"),
    ("dword-0x", V5 + TLS10_KEY + '"Enabled"=dword:0x1\r\n', "line 4: a DWORD is 1 to 8 hex digits"),
    ("dword-as-3-bytes", V5 + TLS10_KEY + '"Enabled"=hex(4):00,00,00\r\n', "line 4: hex(4) (REG_DWORD) should be 4 bytes, got 3"),
    ("qword-as-4-bytes", V5 + TLS10_KEY + '"Q"=hex(b):00,00,00,00\r\n', "line 4: hex(b) (REG_QWORD) should be 8 bytes, got 4"),
    ("hex-3-digit-byte", V5 + TLS10_KEY + '"B"=hex:fff\r\n', "line 4: hex data should be bytes"),
    ("hex-garbage", V5 + TLS10_KEY + '"B"=hex:zz,01\r\n', "line 4: hex data should be bytes"),
    ("multi-sz-odd-bytes", V5 + TLS10_KEY + '"M"=hex(7):41,00,42\r\n', "line 4: hex(7) data is not UTF-16 LE text"),
    ("hex-continues-into-a-key", V5 + TLS10_KEY + '"B"=hex:01,\\\r\n[HKEY_LOCAL_MACHINE\\X]\r\n',
     "line 4: hex data should be bytes like 0a,ff separated by commas, got '[HKEY_LOCAL_MACHINE\\\\X]' (continued on line 5)"),
    ("hex-continuation-without-comma", V5 + TLS10_KEY + '"B"=hex:01\\\r\n  02\r\n', "line 4: hex data should be bytes"),
    ("value-before-any-key", V5 + '"Enabled"=dword:00000000\r\n', "line 3: a value outside any [key]"),
    ("value-under-a-deletion", V5 + "[-HKEY_LOCAL_MACHINE\\X]\r\n\"A\"=dword:1\r\n", "deletes a key"),
    ("garbage-line", V5 + TLS10_KEY + "Enabled=0\r\n", "line 4: not a key or value line: 'Enabled=0'"),
    ("unclosed-key", V5 + f"[{TLS10_SERVER}\r\n", "line 3: a key line should end with ']'"),
    ("unknown-type", V5 + TLS10_KEY + '"Enabled"=qword:1\r\n', "line 4: unknown value data 'qword:1'"),
    ("string-with-trailing-junk", V5 + TLS10_KEY + '"P"="a"b"\r\n', "line 4: unknown value data"),
    ("unterminated-string", V5 + TLS10_KEY + '"P"="abc\r\n', "line 4: unknown value data '\"abc'"),
]


@pytest.mark.parametrize(("artifact", "expected"), _params(REG_CASES))
def test_broken_reg_exports_are_evidence_errors_with_file_and_line(tmp_path: Path, artifact: str, expected: str) -> None:
    (tmp_path / "schannel.reg").write_bytes(_utf16(artifact))

    with pytest.raises(EvidenceError) as caught:
        load_registry(tmp_path, "registry/")

    assert str(caught.value).startswith("registry/schannel.reg: ")
    assert expected in str(caught.value)


@pytest.mark.parametrize(("data", "expected"), [
    (b"Windows Registry Editor Version 5.00\r\n\r\n[HKLM\\X]\r\n\"A\"=\"\xff\xfe\xfd\"\r\n", "is not valid utf-8 text"),
    (codecs.BOM_UTF16_LE + "Windows Registry Editor Version 5.00\r\n".encode("utf-16-le") + b"\x00\xd8\x41\x00", "is not valid utf-16-le text"),
    (b"\x00\x00\x00\x00", "is not a reg export"),
], ids=["bad-utf8", "lone-surrogate-utf16", "nul-bytes"])
def test_undecodable_reg_exports_are_named(tmp_path: Path, data: bytes, expected: str) -> None:
    (tmp_path / "x.reg").write_bytes(data)

    with pytest.raises(EvidenceError, match=rf"^registry/x.reg: {expected}"):
        load_registry(tmp_path, "registry/")


@pytest.mark.parametrize("line", ['"Enabled"="0"', '"Enabled"=hex:00', '"Enabled"=hex(7):30,00,00,00,00,00'],
                         ids=["reg-sz", "binary", "multi-sz"])
def test_a_tls_switch_that_is_not_a_dword_is_an_error_not_a_guess(tmp_path: Path, line: str) -> None:
    (tmp_path / "schannel.reg").write_bytes(_utf16(V5 + f"[{SCHANNEL}]\r\n\r\n{TLS10_KEY}{line}\r\n"))

    with pytest.raises(EvidenceError, match=r"^registry/schannel.reg: .*TLS 1.0\\Server Enabled should be a DWORD"):
        tls10_server_state(load_registry(tmp_path, "registry/"), "10.0.17763")


# ---- JSON evidence -------------------------------------------------------------------------------------------------

MANIFEST = {"host": "hq01", "fqdn": "hq01.example.com", "address": "10.0.0.1", "os_version": "10.0.17763",
            "collected_at": "2026-11-20T06:00:00Z", "source": "crafted", "casgate_version": "0.1.0", "collected": []}
HTTPS = {"url": "https://hq/shoreauth/certauth", "status": 403, "reason": "Forbidden", "error": None}
BINDING = {"protocol": "https", "bindingInformation": "*:443:", "certificateHash": "AB", "certificateStoreName": "My"}
DNS_SERVER = {"server": "10.0.0.53", "rcode": "NOERROR", "addresses": ["10.0.0.1"], "ttl": 3600, "error": None}
HANDSHAKE = {"accepted": True, "version": "TLSv1", "cipher": "AES128-SHA", "error": None, "reached": True}
TLS = {"address": "10.0.0.1", "port": 443, "sni": "hq", "handshakes": {"tls1.0": HANDSHAKE}}

PARSERS: dict[str, tuple[str, Callable[[Any, str], object]]] = {
    "manifest": ("manifest.json", Manifest.parse),
    "https": ("probes/https.json", HttpsProbe.parse),
    "bindings": ("iis/bindings.json", parse_bindings),
    "dns": ("probes/dns.json", DnsProbe.parse),
    "tls": ("probes/tls.json", TlsProbe.parse),
    "state": ("iis/state.json", parse_state),
}


def _with(doc: dict[str, Any], **changes: Any) -> str:
    return json.dumps({**doc, **changes})


JSON_CASES = [
    ("https-list", "https", "[]", "the document should be a JSON object, got []"),
    ("https-null", "https", "null", "the document should be a JSON object, got null"),
    ("https-status-true", "https", _with(HTTPS, status=True), "field 'status' should be an integer, got true"),
    ("https-status-42", "https", _with(HTTPS, status=42), "field 'status' should be an HTTP status code, got 42"),
    ("https-url-number", "https", _with(HTTPS, url=5), "field 'url' should be a string, got 5"),
    ("https-error-object", "https", _with(HTTPS, status=None, error={"x": 1}), "field 'error' should be a string"),
    ("binding-hash-number", "bindings", json.dumps([{**BINDING, "certificateHash": 12345}]),
     "field '[0].certificateHash' should be a string, got 12345"),
    ("binding-store-list", "bindings", json.dumps({**BINDING, "certificateStoreName": ["My"]}),
     "field '[0].certificateStoreName' should be a string"),
    ("binding-port-too-big", "bindings", json.dumps([{**BINDING, "bindingInformation": "*:99999:"}]),
     "[0].bindingInformation '*:99999:' is not 'IP:port:host'"),
    ("binding-port-superscript", "bindings", json.dumps([{**BINDING, "bindingInformation": "*:\u00b2:"}]),
     "[0].bindingInformation '*:²:' is not 'IP:port:host'"),
    ("binding-not-object", "bindings", "[1]", "[0] should be a JSON object, got 1"),
    ("binding-protocol-null", "bindings", json.dumps([{**BINDING, "protocol": None}]), "field '[0].protocol' should be a string, got null"),
    ("dns-address-number", "dns", json.dumps({"fqdn": "hq", "servers": [{**DNS_SERVER, "addresses": ["10.0.0.1", 5]}]}),
     "field 'servers[0].addresses[1]' should be a string, got 5"),
    ("dns-ttl-string", "dns", json.dumps({"fqdn": "hq", "servers": [{**DNS_SERVER, "ttl": "3600"}]}),
     "field 'servers[0].ttl' should be an integer, got \"3600\""),
    ("dns-rcode-number", "dns", json.dumps({"fqdn": "hq", "servers": [{**DNS_SERVER, "rcode": 0}]}), "field 'servers[0].rcode' should be a string"),
    ("dns-servers-object", "dns", json.dumps({"fqdn": "hq", "servers": {}}), "field 'servers' should be a list, got {}"),
    ("dns-server-list", "dns", json.dumps({"fqdn": "hq", "servers": [[]]}), "servers[0] should be a JSON object, got []"),
    ("tls-port-string", "tls", _with(TLS, port="443"), "field 'port' should be an integer, got \"443\""),
    ("tls-port-range", "tls", _with(TLS, port=70000), "field 'port' should be a TCP port, got 70000"),
    ("tls-handshake-list", "tls", _with(TLS, handshakes={"tls1.0": []}), "handshakes.tls1.0 should be a JSON object, got []"),
    ("tls-accepted-one", "tls", _with(TLS, handshakes={"tls1.0": {**HANDSHAKE, "accepted": 1}}),
     "field 'handshakes.tls1.0.accepted' should be true or false, got 1"),
    ("tls-reached-string", "tls", _with(TLS, handshakes={"tls1.0": {**HANDSHAKE, "reached": "no"}}),
     "field 'handshakes.tls1.0.reached' should be true or false, got \"no\""),
    ("tls-cipher-number", "tls", _with(TLS, handshakes={"tls1.0": {**HANDSHAKE, "cipher": 47}}),
     "field 'handshakes.tls1.0.cipher' should be a string, got 47"),
    ("manifest-year-1", "manifest", _with(MANIFEST, collected_at="0001-01-01T00:00:00Z"),
     "collected_at '0001-01-01T00:00:00Z' is outside 1990..2099"),
    ("manifest-year-1-east", "manifest", _with(MANIFEST, collected_at="0001-01-01T00:00:00+01:00"), "is outside 1990..2099"),
    ("manifest-year-9999-west", "manifest", _with(MANIFEST, collected_at="9999-12-31T23:59:59-01:00"), "is outside 1990..2099"),
    ("manifest-no-zone", "manifest", _with(MANIFEST, collected_at="2026-11-20T06:00:00"), "has no time zone"),
    ("manifest-time-number", "manifest", _with(MANIFEST, collected_at=20261120), "field 'collected_at' should be a string"),
    ("manifest-host-number", "manifest", _with(MANIFEST, host=5), "field 'host' should be a string, got 5"),
    ("manifest-collected-number", "manifest", _with(MANIFEST, collected=["registry", 1]), "field 'collected[1]' should be a string, got 1"),
    ("manifest-skipped-reason-number", "manifest", _with(MANIFEST, skipped={"registry/": 1}),
     "field 'skipped.registry/' should be a string, got 1"),
    ("manifest-failed-list", "manifest", _with(MANIFEST, failed=["registry/"]), "field 'failed' should be an object"),
    ("manifest-list", "manifest", "[]", "the document should be a JSON object, got []"),
    ("manifest-nested-100k", "manifest", "[" * 100_000, "is nested too deeply"),
    ("manifest-5000-digit-number", "manifest", "1" * 5000, "holds a number too long to be evidence"),
    ("manifest-lone-surrogate", "manifest", _with(MANIFEST, host="\\ud800").replace("\\\\ud800", "\\ud800"),
     "holds a string that is not Unicode text"),
    ("state-list", "state", "[]", "the document should be a JSON object, got []"),
    ("state-flag-string", "state", '{"reboot_pending": "yes"}', "field 'reboot_pending' should be true or false, got \"yes\""),
]


@pytest.mark.parametrize(("kind", "artifact", "expected"), _params(JSON_CASES))
def test_broken_json_evidence_is_an_evidence_error_naming_file_and_field(tmp_path: Path, kind: str, artifact: str, expected: str) -> None:
    label, parse = PARSERS[kind]
    path = tmp_path / "artifact.json"
    path.write_text(artifact, encoding="utf-8")

    with pytest.raises(EvidenceError) as caught:
        parse(read_json(path, label), label)

    assert caught.value.artifact == label
    assert expected in caught.value.problem


def test_undecodable_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "dns.json").write_bytes(b'{"fqdn": "\xff"}')

    with pytest.raises(EvidenceError, match=r"^probes/dns.json: cannot be read"):
        read_json(tmp_path / "dns.json", "probes/dns.json")


def test_well_formed_evidence_still_parses() -> None:
    manifest = Manifest.parse(MANIFEST, "manifest.json")

    assert manifest.collected_at == datetime(2026, 11, 20, 6, tzinfo=timezone.utc)
    assert HttpsProbe.parse(HTTPS, "h").status == 403
    assert parse_bindings(BINDING, "b")[0].certificate_hash == "AB"
    assert DnsProbe.parse({"fqdn": "HQ.", "servers": [DNS_SERVER]}, "d").answers[0].ttl == 3600
    assert TlsProbe.parse(TLS, "t").handshake("tls1.0", "t").accepted is True
    assert parse_state({"reboot_pending": True, "w3svc": "Running"}, "s") is True
    assert parse_state({"reboot_pending": None}, "s") is None


# ---- inventory.toml ------------------------------------------------------------------------------------------------

HOST = '[hosts.hq01]\nfqdn = "hq01.corp"\naddress = "192.0.2.10"\ndns_servers = ["192.0.2.53"]\n'

INVENTORY_CASES = [
    ("top-level-password", f'password = "{SECRET}"\n' + HOST + 'connection = "local"\n', "password looks like a credential"),
    ("winrm-table-password", f'[winrm]\nuser = "admin"\nPassword = "{SECRET}"\n' + HOST + 'connection = "local"\n',
     "winrm.Password looks like a credential"),
    ("host-pwd", HOST + f'connection = "local"\npwd = "{SECRET}"\n', "hosts.hq01.pwd looks like a credential"),
    ("array-api-key", f'[[extra]]\nAPI_KEY = "{SECRET}"\n' + HOST + 'connection = "local"\n', "extra[0].API_KEY looks like a credential"),
    ("nested-token", f'[a.b.c]\nauth_token = "{SECRET}"\n' + HOST + 'connection = "local"\n', "a.b.c.auth_token looks like a credential"),
    ("credentials-table", f'[credentials]\nx = "{SECRET}"\n' + HOST + 'connection = "local"\n', "credentials looks like a credential"),
    ("user-password-in-url", HOST + f'connection = "winrm://admin:{SECRET}@hq01"\n', "connection must not carry credentials"),
    ("password-in-query", HOST + f'connection = "winrm://hq01?no_verify_ssl=true&password={SECRET}"\n', "connection must not carry credentials"),
    ("user-in-query", HOST + 'connection = "winrm://hq01?user=admin"\n', "connection must not carry credentials"),
    ("encoded-password-in-query", HOST + f'connection = "winrm://hq01?Pass%77ord={SECRET}"\n', "connection must not carry credentials"),
    ("host-name-traversal", HOST.replace("hq01", '"../etc"', 1) + 'connection = "local"\n', "host name '../etc' is not a plain host name"),
    ("host-name-space", HOST.replace("hq01", '"hq 01"', 1) + 'connection = "local"\n', "host name 'hq 01' is not a plain host name"),
    ("host-name-double-dot", HOST.replace("hq01", '"a..b"', 1) + 'connection = "local"\n', "is not a plain host name"),
    ("host-name-option", HOST.replace("hq01", '"-rf"', 1) + 'connection = "local"\n', "host name '-rf' is not a plain host name"),
    ("host-name-backslash", HOST.replace("hq01", '"hq\\\\01"', 1) + 'connection = "local"\n', "is not a plain host name"),
    ("host-name-angle", HOST.replace("hq01", '"<script>"', 1) + 'connection = "local"\n', "is not a plain host name"),
    ("host-name-long-label", HOST.replace("hq01", "a" * 64, 1) + 'connection = "local"\n', "is not a plain host name"),
    ("host-name-empty", HOST.replace("hq01", '""', 1) + 'connection = "local"\n', "host name '' is not a plain host name"),
    ("port-true", HOST + 'connection = "local"\nhttps_port = true\n', "[hosts.hq01] https_port should be a port number"),
    ("shoreline-list", HOST + 'connection = "local"\nshoreline_data = ["D:"]\n', "[hosts.hq01] needs shoreline_data"),
    ("fqdn-number", HOST.replace('"hq01.corp"', "5") + 'connection = "local"\n', "[hosts.hq01] needs fqdn"),
    ("dns-empty-string", HOST.replace('["192.0.2.53"]', '[""]') + 'connection = "local"\n', "[hosts.hq01] needs dns_servers"),
    ("hosts-array", '[[hosts]]\nfqdn = "x"\n', "[hosts] should be a table"),
    ("nested-too-deeply", "a = " + "[" * 100_000, "nested too deeply"),
    ("not-toml", "[hosts.hq01\n", "cannot be read"),
    ("5000-digit-number", "a = " + "9" * 5000, "a number too long"),
]


@pytest.mark.parametrize(("artifact", "expected"), _params(INVENTORY_CASES))
def test_broken_or_secret_bearing_inventory_is_refused_without_echoing_the_secret(tmp_path: Path, artifact: str, expected: str) -> None:
    message = _refused(tmp_path / "inventory.toml", artifact, load_inventory, InventoryError)

    assert expected in message
    assert SECRET not in message and "Pass%77ord" not in message


def test_credentials_are_pointed_to_the_environment(tmp_path: Path) -> None:
    (tmp_path / "inventory.toml").write_text(f'[winrm]\npassword = "{SECRET}"\n', encoding="utf-8")

    with pytest.raises(InventoryError, match="set CASGATE_WINRM_USER / CASGATE_WINRM_PASSWORD instead"):
        load_inventory(tmp_path / "inventory.toml")


def test_a_plain_inventory_still_loads(tmp_path: Path) -> None:
    (tmp_path / "inventory.toml").write_text(
        HOST.replace("hq01", '"hq-01.site_2"', 1) + 'connection = "winrm://hq01.corp?no_verify_ssl=false"\n'
        '[hosts.passive-hq]\nfqdn = "p"\naddress = "192.0.2.11"\nconnection = "none"\ndns_servers = ["192.0.2.53"]\n',
        encoding="utf-8")

    hosts = load_inventory(tmp_path / "inventory.toml")

    assert sorted(hosts) == ["hq-01.site_2", "passive-hq"]
    assert hosts["hq-01.site_2"].connection == "winrm://hq01.corp?no_verify_ssl=false"


@pytest.mark.parametrize("name", ["hq01", "HQ01.corp.example", "hq01-before", "_x", "a" * 63, "1.2.3.4"])
def test_plain_host_names_pass_the_rule(name: str) -> None:
    assert check_host_name(name, "--host") == name


@pytest.mark.parametrize("name", ["hq01/..", "hq01.", ".hq01", "h\u00e9", "hq01\n", "a" * 64, "x." * 127 + "x", "c:"])
def test_other_host_names_are_refused_naming_where_they_came_from(name: str) -> None:
    with pytest.raises(InventoryError, match=r"^--host: host name .* is not a plain host name"):
        check_host_name(name, "--host")


# ---- waivers.toml --------------------------------------------------------------------------------------------------

WAIVER = '[[waiver]]\nhost = "hq01"\ncheck = "test_tls10_enabled"\njustification = "CHG-1"\n'

WAIVER_ENTRY_CASES = [
    ("expires-datetime", WAIVER + "expires = 2026-12-31T00:00:00\n",
     "expires = 2026-12-31T00:00:00 is a date-time; write the day alone: expires = 2026-12-31"),
    ("expires-offset-datetime", WAIVER + "expires = 2026-12-31T00:00:00Z\n", "is a date-time"),
    ("expires-time", WAIVER + "expires = 07:32:00\n", "needs expires = YYYY-MM-DD"),
    ("expires-string", WAIVER + 'expires = "2026-12-31"\n', "needs expires = YYYY-MM-DD"),
    ("expires-missing", WAIVER, "needs expires = YYYY-MM-DD"),
    ("host-number", WAIVER.replace('"hq01"', "5") + "expires = 2026-12-31\n", 'needs host = "..."'),
    ("check-list", WAIVER.replace('"test_tls10_enabled"', '["x"]') + "expires = 2026-12-31\n", 'needs check = "..."'),
    ("justification-blank", WAIVER.replace('"CHG-1"', '"  "') + "expires = 2026-12-31\n", 'needs justification = "..."'),
    ("fingerprint-number", WAIVER + "expires = 2026-12-31\nfingerprint = 12\n", "fingerprint should be the 16 lower-case hex digits"),
    ("fingerprint-upper-case", WAIVER + 'expires = 2026-12-31\nfingerprint = "3F9C0E5D1A2B4C6D"\n', "fingerprint should be"),
    ("unknown-key", WAIVER + "expires = 2026-12-31\nhots = 1\n", "unknown key(s) hots"),
    ("not-a-table", "waiver = [1]\n", "should be a [[waiver]] table"),
]


@pytest.mark.parametrize(("artifact", "expected"), _params(WAIVER_ENTRY_CASES))
def test_a_mistyped_waiver_is_named_and_never_applied(tmp_path: Path, artifact: str, expected: str) -> None:
    (tmp_path / "waivers.toml").write_text(artifact, encoding="utf-8")

    book = load_waivers(tmp_path / "waivers.toml", date(2026, 11, 20))

    assert book.waivers == ()
    assert len(book.problems) == 1
    assert book.problems[0].startswith("waivers.toml waiver #1: malformed, not applied: ")
    assert expected in book.problems[0]


WAIVER_FILE_CASES = [
    ("single-table", '[waiver]\nhost = "hq01"\n', "write each waiver as a [[waiver]] table"),
    ("plural-typo", WAIVER.replace("[[waiver]]", "[[waivers]]") + "expires = 2026-12-31\n", "unknown key(s) waivers"),
    ("not-toml", "[[waiver]\n", "cannot be read"),
    ("nested-too-deeply", "x = " + "{a=" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize(("artifact", "expected"), _params(WAIVER_FILE_CASES))
def test_an_unusable_waivers_file_is_a_usage_error(tmp_path: Path, artifact: str, expected: str) -> None:
    message = _refused(tmp_path / "waivers.toml", artifact, lambda path: load_waivers(path, date(2026, 11, 20)), WaiverFileError)

    assert expected in message


def test_a_well_formed_waiver_loads(tmp_path: Path) -> None:
    (tmp_path / "waivers.toml").write_text(WAIVER + 'expires = 2026-12-31\nfingerprint = "3f9c0e5d1a2b4c6d"\n', encoding="utf-8")

    book = load_waivers(tmp_path / "waivers.toml", date(2026, 11, 20))

    assert book.problems == ()
    assert book.decide("hq01", "test_tls10_enabled", "4", "3f9c0e5d1a2b4c6d", date(2026, 12, 31))[0] == book.waivers[0]


# ---- baselines -----------------------------------------------------------------------------------------------------

ROW = {"host_id": "hq01", "check_id": "test_tls10_enabled", "outcome": "pass", "facts": {"k": "v", "l": ["a"]}, "fingerprint": ""}


def _rows(*rows: dict[str, Any]) -> str:
    return json.dumps({"results": list(rows)})


BASELINE_CASES = [
    ("row-without-outcome", _rows({k: v for k, v in ROW.items() if k != "outcome"}), "field 'results[0].outcome' is missing"),
    ("second-row-without-host", _rows(ROW, {k: v for k, v in ROW.items() if k != "host_id"}), "field 'results[1].host_id' is missing"),
    ("outcome-unknown", _rows({**ROW, "outcome": "passed"}), "field 'results[0].outcome' should be one of skip, pass, waived, warn, fail, error, got 'passed'"),
    ("outcome-number", _rows({**ROW, "outcome": 1}), "field 'results[0].outcome' should be a string, got 1"),
    ("host-null", _rows({**ROW, "host_id": None}), "field 'results[0].host_id' should be a string, got null"),
    ("facts-list", _rows({**ROW, "facts": []}), "field 'results[0].facts' should be an object"),
    ("fact-number", _rows({**ROW, "facts": {"k": 1}}), "field 'results[0].facts.k' should be a string or a list of strings"),
    ("row-not-object", _rows(ROW, "x"), "results[1] should be a JSON object"),
    ("results-object", json.dumps({"results": {}}), "field 'results' should be a list"),
    ("no-results", json.dumps({"hosts": []}), "field 'results' is missing"),
    ("document-list", "[]", "the document should be a JSON object"),
    ("not-json", "{", "is not valid JSON"),
    ("nested-too-deeply", '{"results": ' + "[" * 100_000, "is nested too deeply"),
]


@pytest.mark.parametrize(("artifact", "expected"), _params(BASELINE_CASES))
def test_a_broken_baseline_is_refused_at_load_naming_file_and_row(tmp_path: Path, artifact: str, expected: str) -> None:
    message = _refused(tmp_path / "before.json", artifact, lambda path: load_baseline(path, tmp_path, "24h"), BaselineError)

    assert expected in message


def test_a_well_formed_baseline_loads(tmp_path: Path) -> None:
    (tmp_path / "before.json").write_text(_rows(ROW), encoding="utf-8")

    assert load_baseline(tmp_path / "before.json", tmp_path, "24h") == {("hq01", "test_tls10_enabled"): ROW}


# ---- --since -------------------------------------------------------------------------------------------------------

SINCE_CASES = [
    ("overflowing-days", "99999999999d", "--since '99999999999d': give a duration of at least 1s and at most ten years"),
    ("just-over-ten-years", "3654d", "at most ten years (3653d)"),
    ("5000-digits", "9" * 5000 + "s", "at most ten years"),
    ("zero", "0h", "at least 1s"),
    ("word", "yesterday", "--since 'yesterday': give a duration such as 24h, 90m or 7d, or a start such as 2026-11-20"),
    ("empty", "", "give a duration such as 24h"),
    ("arabic-digits", "\u0663h", "give a duration such as 24h"),
    ("negative", "-1d", "give a duration such as 24h"),
    ("year-1", "0001-01-01", "--since '0001-01-01': give a start between 1990 and 2099"),
    ("year-1-east", "0001-01-01T00:00:00+01:00", "give a start between 1990 and 2099"),
    ("year-9999-west", "9999-12-31T23:59:59-01:00", "give a start between 1990 and 2099"),
    ("bad-date", "2026-02-30", "give a duration such as 24h"),
]


@pytest.mark.parametrize(("text", "expected"), _params(SINCE_CASES))
def test_a_bad_since_is_a_casgate_error(text: str, expected: str) -> None:
    with pytest.raises(CasgateError) as caught:
        parse_since(text)

    assert expected in str(caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("24h", timedelta(hours=24)), ("90M", timedelta(minutes=90)), (" 7d ", timedelta(days=7)), ("3653d", timedelta(days=3653)),
    ("2026-11-20", datetime(2026, 11, 20, tzinfo=timezone.utc)),
    ("2026-11-20T06:00:00Z", datetime(2026, 11, 20, 6, tzinfo=timezone.utc)),
    ("2026-11-20T08:00:00+02:00", datetime(2026, 11, 20, 6, tzinfo=timezone.utc)),
    ("2026-11-20T06:00:00", datetime(2026, 11, 20, 6, tzinfo=timezone.utc)),
])
def test_since_is_a_duration_or_an_absolute_start(text: str, expected: timedelta | datetime) -> None:
    since = parse_since(text)

    assert since == expected
    assert not isinstance(since, datetime) or since.tzinfo is timezone.utc


def test_the_window_starts_at_an_absolute_since_or_a_span_before_its_end() -> None:
    end = datetime(2026, 11, 20, 6, tzinfo=timezone.utc)

    assert Window.before(end, parse_since("2026-11-19")).start == datetime(2026, 11, 19, tzinfo=timezone.utc)
    assert Window.before(end, parse_since("24h")).start == datetime(2026, 11, 19, 6, tzinfo=timezone.utc)
    with pytest.raises(CasgateError, match="the log window's end 0001-01-01T00:00:00"):
        window_start(timedelta(days=1), datetime(1, 1, 1, tzinfo=timezone.utc))
