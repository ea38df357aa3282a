"""The host-side collector without Windows: the encoded commands, the JSON it parses, and the whole path through
testinfra's local backend with a stand-in `powershell` on PATH. The PowerShell itself: test_powershell_grammar.py."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import stat
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from casgate.certs import thumbprint
from casgate.collector import (
    CMD_LIMIT,
    CollectionError,
    WinrmTarget,
    _as_list,
    collect_host_side,
    encoded_command,
    host_commands,
    minify,
    parse_winrm,
    powershell_errors,
    winrm_credentials,
    winrm_host,
    write_host_side,
)
from casgate.inventory import InventoryHost, load_inventory
from casgate.live import _manifest
from casgate.scenarios import Pki
from casgate.schannel import SCHANNEL, TLS10_SERVER
from casgate.snapshot import WEBHOSTING_STORE, Snapshot, SnapshotWriter

HOST = InventoryHost("hq", "hq.example.com", "127.0.0.1", "local", ("127.0.0.1:53",), shoreline_data="D:\\Shoreline's Data")

def _decode(command: str) -> str:
    assert command.startswith("powershell -NoProfile -NonInteractive -EncodedCommand ")
    return base64.b64decode(command.rsplit(" ", 1)[1]).decode("utf-16-le")


def test_commands_fit_cmd_exe_and_carry_their_variables() -> None:
    evidence, logs = host_commands(HOST, timedelta(hours=36))

    assert len(evidence) <= CMD_LIMIT and len(logs) <= CMD_LIMIT
    assert _decode(evidence).startswith("$ShorelineData='D:\\Shoreline''s Data'\n")
    assert _decode(logs).startswith("$SinceHours=36\n")
    assert "ConvertTo-Json -InputObject $result" in _decode(logs)


def test_an_oversized_script_is_refused_before_it_is_sent() -> None:
    with pytest.raises(CollectionError, match="over cmd.exe's 8191"):
        encoded_command("host.ps1", {"Padding": "x" * 3000})


def test_minify_keeps_code_drops_comments() -> None:
    assert minify("# note\n  $a = 1  \n\n    # more\n$b = '#x'\n") == "$a = 1\n$b = '#x'"


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASGATE_WINRM_USER", "CORP\\gate")
    monkeypatch.setenv("CASGATE_WINRM_PASSWORD", "s3cret")

    assert winrm_credentials(config=None) == ("CORP\\gate", "s3cret")  # type: ignore[arg-type]


def test_no_credentials_and_no_terminal_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASGATE_WINRM_USER", "CORP\\gate")
    monkeypatch.delenv("CASGATE_WINRM_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "__stdin__", io.StringIO())
    config = types.SimpleNamespace(stash=pytest.Stash())  # with no terminal, only the run's stash is read

    assert winrm_credentials(config) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("connection", "expected"), [
    ("winrm://hq01.corp.example", WinrmTarget("hq01.corp.example", 5986)),
    ("winrm://hq01.corp.example?no_verify_ssl=false", WinrmTarget("hq01.corp.example", 5986)),
    ("winrm://hq01.corp.example?no_ssl=true", WinrmTarget("hq01.corp.example", 5985, ssl=False)),
    ("winrm://hq01:15986?no_verify_ssl=true&read_timeout_sec=9&operation_timeout_sec=4&command_timeout_sec=60",
     WinrmTarget("hq01", 15986, verify=False, read_timeout=9, operation_timeout=4, command_timeout=60)),
    ("winrm://[::1]?ca_trust_path=/etc/casgate/corp-ca.pem", WinrmTarget("::1", 5986, ca_trust_path="/etc/casgate/corp-ca.pem")),
])
def test_winrm_means_https_on_5986_unless_told(connection: str, expected: WinrmTarget) -> None:
    assert parse_winrm(connection) == expected
    assert expected.address in ("hq01.corp.example:5986", "hq01.corp.example:5985", "hq01:15986", "[::1]:5986")


@pytest.mark.parametrize(("connection", "message"), [
    ("winrm://hq01?no_verfy_ssl=true", "unknown option(s) no_verfy_ssl"),
    ("winrm://hq01:99999", "the port is not a number"),
    ("winrm://hq01?read_timeout_sec=0", "read_timeout_sec='0' should be a whole number of seconds"),
    ("winrm://hq01?read_timeout_sec=10&operation_timeout_sec=10", "operation_timeout_sec should be below read_timeout_sec"),
    ("winrm://?no_ssl=true", "names no host"),
])
def test_a_connection_pywinrm_would_misread_is_refused(connection: str, message: str) -> None:
    with pytest.raises(CollectionError, match=re.escape(message)):
        parse_winrm(connection)


def test_pywinrm_is_pointed_at_the_winrm_listener_with_the_credentials_as_arguments() -> None:
    endpoints = {}
    for connection in ("winrm://hq01.corp.example", "winrm://hq01.corp.example?no_ssl=true", "winrm://[::1]:15986"):
        conn_args = winrm_host(parse_winrm(connection), ("CORP\\gate", "p@ss:w/rd")).backend.conn_args
        endpoints[connection] = conn_args["endpoint"]
        assert (conn_args["username"], conn_args["password"], conn_args["transport"]) == ("CORP\\gate", "p@ss:w/rd", "ntlm")
        assert conn_args["proxy"] is None and "p@ss" not in conn_args["endpoint"]

    assert endpoints == {"winrm://hq01.corp.example": "https://hq01.corp.example:5986/wsman",
                         "winrm://hq01.corp.example?no_ssl=true": "http://hq01.corp.example:5985/wsman",
                         "winrm://[::1]:15986": "https://[::1]:15986/wsman"}


def test_the_example_inventory_points_at_the_winrm_listeners() -> None:
    hosts = load_inventory(Path(__file__).resolve().parents[1] / "inventory.example.toml")

    assert {name: parse_winrm(h.connection).endpoint for name, h in hosts.items() if h.host_side} == {
        "hq01": "https://hq01.corp.example:5986/wsman", "hq03": "http://hq03.corp.example:5985/wsman"}


def test_powershell_errors_are_read_from_clixml_once_and_trimmed() -> None:
    stderr = ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" '
              'RefId="0"><MS><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj>'
              '<S S="Error">Get-ChildItem : Cannot find path \'D:\\Shoreline Data\\Keystore\\certs\' because it does not exist._x000D__x000A_</S>'
              '<S S="Error">At line:22 char:13_x000D__x000A_</S><S S="Error">+ ... Get-ChildItem $keystore -File | Where-Object _x000D__x000A_</S>'
              '<S S="Error">    + CategoryInfo          : ObjectNotFound: (D:\\Shoreline Data\\Keystore\\certs:String) [Get-ChildItem]_x000D__x000A_</S></Objs>')

    assert powershell_errors(stderr) == "Get-ChildItem : Cannot find path 'D:\\Shoreline Data\\Keystore\\certs' because it does not exist."
    assert powershell_errors("Access is denied.\r\n\r\n") == "Access is denied."
    assert powershell_errors('#< CLIXML\r\n<Objs Version="1.1.0.1"><S S="Error">&lt;Stra&#223;e&gt; _x00FC_ber_x000A_</S></Objs>') == "<Straße> über"


def host_document(pki_der: dict[str, bytes]) -> dict:
    """What host.ps1's $result looks like once Windows PowerShell 4.0 / 5.1 ConvertTo-Json has printed it. Every store
    and list is an @() array held by a hashtable key, so one element stays a one-element array and none an empty one
    (ConvertTo-Json 5.1 Example 1, PowerShell-Docs reference/5.1/Microsoft.PowerShell.Utility/ConvertTo-Json.md at
    27138b21: a property holding one calendar era prints "Eras": [1]); WebHosting is null where the store does not
    exist. Numbers stay numbers: enums print as their value (same example, "CalendarType": 1; -EnumsAsStrings came in
    PowerShell 6.2), sslFlags as Get-WebBinding's integer, DWORDs as signed Int32. The enums host.ps1 records it
    turns into names itself ("$(...)", invariant: about_Quoting_Rules 5.1)."""
    b64 = {k: base64.b64encode(v).decode() for k, v in pki_der.items()}
    return {
        "os": "Microsoft Windows Server 2019 Standard 10.0.17763",
        "root": [b64["mitel"], b64["hq_ca"]],
        "my": [b64["server"]],
        "webhosting": None,
        "keystore": [{"name": "server.crt", "data": b64["server"]}, {"name": "Mitel_mfg_ca.crt", "data": b64["mitel"]},
                     {"name": "ca.crt", "data": b64["hq_ca"]}],
        "bindings": [{"protocol": "https", "bindingInformation": "*:443:", "sslFlags": 0,
                      "certificateHash": pki_der["server_thumb"].decode(), "certificateStoreName": "My"}],
        "sslcert": "\r\n SSL Certificate bindings:\r\n",
        "registry": {
            SCHANNEL: {"EventLogging": {"kind": "DWord", "value": 1}},
            TLS10_SERVER: {"Enabled": {"kind": "DWord", "value": -1}, "DisabledByDefault": {"kind": "DWord", "value": 0}},
            r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002": {
                "Functions": {"kind": "MultiString", "value": ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_AES_128_GCM_SHA256"]}},
        },
        "rebootPending": False,
        "w3svc": "Running",
        "access": {"location": "Default Web Site/shoreauth", "sslFlags": "Ssl,SslNegotiateCert"},
        "now": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",  # the server's clock: in step
    }


LOGS_DOCUMENT = {"name": "u_ex261120.log", "lines": [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
    "2026-11-20 05:00:00 10.0.0.1 POST /shoreauth/certauth - 443 - 10.0.0.139 Mozilla/5.0 - 200 0 0 10",
]}


@pytest.fixture(scope="module")
def pki_der() -> dict[str, bytes]:
    pki = Pki("hq.example.com", datetime(2025, 1, 1, tzinfo=timezone.utc))
    return {"mitel": pki.mitel_ca, "hq_ca": pki.hq_ca, "server": pki.server, "server_thumb": thumbprint(pki.server).encode()}


def _with_manifest(writer: SnapshotWriter) -> SnapshotWriter:
    writer.json("manifest.json", {"host": "hq", "fqdn": "hq.example.com", "address": "127.0.0.1", "os_version": "",
                                  "collected_at": "2026-11-20T06:00:00Z", "source": "live", "casgate_version": "test", "collected": []})
    return writer


ROUND_TRIP = (datetime(2026, 11, 20, 6, 0, 1, tzinfo=timezone.utc), datetime(2026, 11, 20, 6, 0, 3, tzinfo=timezone.utc))


def test_collector_json_becomes_a_readable_snapshot(tmp_path: Path, pki_der) -> None:
    document = host_document(pki_der) | {"now": "2026-11-20T06:00:02.500Z", "access": {"location": "Default Web Site/shoreauth",
                                                                                     "sslFlags": 40}}
    result = write_host_side(_with_manifest(SnapshotWriter(tmp_path)), document, LOGS_DOCUMENT, ROUND_TRIP)

    snapshot = Snapshot(tmp_path)
    assert result.os_version.endswith("10.0.17763") and result.optional == ()
    assert len(snapshot.root_store) == 2 and len(snapshot.my_store) == 1
    assert snapshot.keystore_certificate("server.crt").thumbprint == pki_der["server_thumb"].decode()
    assert snapshot.bindings[0].port == 443
    assert snapshot.registry.value(TLS10_SERVER, "Enabled") == 0xFFFFFFFF
    assert snapshot.registry.value(r"HKLM\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002",
                                   "Functions") == ("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_AES_128_GCM_SHA256")
    assert [f.label for f in snapshot.iis_logs] == ["iis/logs/u_ex261120.log"]
    assert snapshot.certauth_access.flags == {"Ssl", "SslNegotiateCert"}  # the number a ConfigurationAttribute holds: 8 | 32
    assert (snapshot.clock.skew, snapshot.clock.uncertainty) == (0.5, 1.0)


@pytest.mark.parametrize("field", ["access", "now"])
def test_host_evidence_without_the_policy_or_the_clock_is_a_collection_error(tmp_path: Path, pki_der, field: str) -> None:
    document = host_document(pki_der)
    del document[field]

    with pytest.raises(CollectionError, match=f"host evidence: the collector's JSON has no usable '{field}'"):
        write_host_side(SnapshotWriter(tmp_path), document, [], ROUND_TRIP)


def test_an_empty_my_store_is_an_empty_folder_and_null_is_refused(tmp_path: Path, pki_der) -> None:
    """host.ps1 wraps each store in @(): an empty LocalMachine\\My prints [] (it printed null before, which is still
    refused: the collector did not say what the store holds)."""
    write_host_side(SnapshotWriter(tmp_path / "empty"), host_document(pki_der) | {"my": []}, [], ROUND_TRIP)

    assert (tmp_path / "empty" / "certs" / "my").is_dir() and not any((tmp_path / "empty" / "certs" / "my").iterdir())
    with pytest.raises(CollectionError, match="host evidence: the collector's JSON has no usable 'my'"):
        write_host_side(SnapshotWriter(tmp_path / "null"), host_document(pki_der) | {"my": None}, [], ROUND_TRIP)


@pytest.mark.parametrize(("webhosting", "files"), [(None, None), ([], 0), ("server", 1), (["server", "hq_ca"], 2)],
                         ids=["no-store", "empty", "one-unrolled", "two"])
def test_webhosting_is_recorded_where_the_server_has_the_store(tmp_path: Path, pki_der, webhosting, files) -> None:
    """null: Server 2012 R2 without the store, not recorded and not listed; [] an empty store; a bare string is the
    one-element shape PowerShell prints where an array is unrolled (the ConvertTo-Json 4.0 specimen)."""
    b64 = {k: base64.b64encode(v).decode() for k, v in pki_der.items()}
    value = b64[webhosting] if isinstance(webhosting, str) else None if webhosting is None else [b64[k] for k in webhosting]
    result = write_host_side(SnapshotWriter(tmp_path), host_document(pki_der) | {"webhosting": value}, [], ROUND_TRIP)

    folder = tmp_path / "certs" / "webhosting"
    if files is None:
        assert result.optional == () and not folder.exists()
    else:
        assert result.optional == (WEBHOSTING_STORE,) and len(list(folder.iterdir())) == files
        assert files == 0 or f"{pki_der['server_thumb'].decode()}.cer" in {p.name for p in folder.iterdir()}
    manifest = _manifest(HOST, result, ROUND_TRIP[0], {}, {})
    assert (WEBHOSTING_STORE in manifest["collected"]) is (files is not None)


SPECIMENS = Path(__file__).parent / "realworld" / "psscriptanalyzer"


@pytest.mark.parametrize("version", ["4.0", "5.1"])
def test_the_shapes_windows_powershell_prints_are_read(version: str) -> None:
    """Real ConvertTo-Json output of Windows PowerShell 4.0 and 5.1 (PSScriptAnalyzer's command data, PROVENANCE): a
    collection of one that was unrolled before it reached ConvertTo-Json is printed as the object itself, an empty one
    as "[", a blank line, "]", and < > as \\u003c \\u003e. The collector's reader takes each shape as a list."""
    raw = (SPECIMENS / f"convertto-json-{version}-specimen.json").read_text(encoding="utf-8")
    specimen = json.loads(raw)

    assert isinstance(specimen["ExportedCommands"], dict) and specimen["ExportedAliases"] == []
    assert re.search(r'"ExportedAliases":  \[\n\n +\]', raw) and "\\u003cstring\\u003e" in raw
    assert [c["Name"] for c in _as_list(specimen["ExportedCommands"])] == [specimen["ExportedCommands"]["Name"]]
    assert _as_list(specimen["ExportedAliases"]) == [] and _as_list(None) == []


def test_a_private_key_from_the_keystore_is_never_written(tmp_path: Path, pki_der) -> None:
    document = host_document(pki_der)
    document["keystore"].append({"name": "server.crt", "data": base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nAA\n").decode()})

    with pytest.raises(CollectionError, match="keystore/server.crt: contains a private key"):
        write_host_side(SnapshotWriter(tmp_path), document, [], ROUND_TRIP)
    assert b"PRIVATE KEY" not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def install_fake_powershell(bin_dir: Path, host_doc: dict, logs_doc: object, log: Path) -> None:
    """A `powershell` that checks it got an -EncodedCommand, keeps the decoded script, and prints recorded output."""
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "powershell"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import base64, json, sys\n"
        "args = sys.argv[1:]\n"
        "assert args[:3] == ['-NoProfile', '-NonInteractive', '-EncodedCommand'], args\n"
        "script = base64.b64decode(args[3]).decode('utf-16-le')\n"
        f"open({str(log)!r}, 'a').write(script + '\\n=====\\n')\n"
        f"host, logs = {json.dumps(host_doc)!r}, {json.dumps(logs_doc)!r}\n"
        "print(host if 'Get-StoreDer' in script else logs)\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)


def test_two_round_trips_through_testinfra_local_backend(tmp_path: Path, pki_der, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "scripts.log"
    install_fake_powershell(tmp_path / "bin", host_document(pki_der), LOGS_DOCUMENT, log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")

    writer = _with_manifest(SnapshotWriter(tmp_path / "snap"))
    os_version = collect_host_side(config=None)(HOST, timedelta(hours=24), writer).os_version  # type: ignore[arg-type]

    scripts = log.read_text().split("\n=====\n")[:-1]
    assert len(scripts) == 2
    assert "Get-WebBinding" in scripts[0] and "Select-String" in scripts[1]
    assert os_version.startswith("Microsoft Windows Server 2019")
    assert Snapshot(tmp_path / "snap").bindings[0].protocol == "https"
