"""Live mode over the real WinRM path: `pytest --host` with an inventory pointing at a WS-Management server on
loopback (tests/winrm_server.py), credentials in the environment, pywinrm and testinfra unpatched; the runner-side
probes against real loopback DNS and TLS servers. What reaches the terminal, the reports and the recording."""

from __future__ import annotations

import base64
import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casgate.scenarios import Pki
from tests.servers import dns_server, tls_server, write_hq_identity
from tests.test_collector import LOGS_DOCUMENT, host_document
from tests.test_live_end_to_end import HOST_SIDE, _closed_port, _inventory
from tests.winrm_server import Output, clixml_error, collector_answer, winrm_server
from tests.conftest import CHECKS

FQDN = "hq.example.com"
USER = "CORP\\casgate-ro"
PASSWORD = "Winter-2026-ro"
CREDENTIALS = {"CASGATE_WINRM_USER": USER, "CASGATE_WINRM_PASSWORD": PASSWORD}
NOT_JUDGED = "— host-side checks not judged"
# TLS checks read the registry as well as the handshake: without the host side they cannot judge either.
NEED_HOST = HOST_SIDE | {"test_tls10_enabled", "test_phone_cipher_profile_accepted"}


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, bytes]]:
    return write_hq_identity(tmp_path_factory.mktemp("winrm-e2e-tls"), FQDN, Pki(FQDN, datetime(2025, 1, 1, tzinfo=timezone.utc)).mitel_ca)


@pytest.fixture(scope="module")
def der(identity: tuple[Path, Path, dict[str, bytes]]) -> dict[str, bytes]:
    """What host.ps1 reports: the keystore's server.crt is the certificate the loopback TLS server presents."""
    return identity[2]


@pytest.fixture
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The WinRM server's own files (certificate, NTLM user store), apart from the run's folder that is searched."""
    return tmp_path_factory.mktemp("winrm-server")


def _intermediate(subject: str) -> bytes:
    """A CA certificate issued by another key: an intermediate, which has no place in LocalMachine\\Root."""
    issuer_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Corp Root CA")])).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(issuer_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


@contextmanager
def _probed(identity: tuple[Path, Path, bytes]) -> Iterator[dict[str, object]]:
    """DNS and IIS-like TLS servers that answer right: the runner-side probes pass, whatever WinRM does."""
    cert, key, _ = identity
    with tls_server(cert, key, tls10=True) as tls, dns_server({FQDN: ["127.0.0.1"]}) as dns:
        yield {"fqdn": FQDN, "address": "127.0.0.1", "dns_servers": [dns.spec], "https_port": tls.port}


def _gate(run_suite, tmp_path: Path, probes: dict[str, object], connections: dict[str, str], *args: str,
          env: dict[str, str] = CREDENTIALS):  # type: ignore[no-untyped-def]
    inventory = _inventory(tmp_path / "inventory.toml", **{name: {**probes, "connection": c} for name, c in connections.items()})
    hosts = [arg for name in connections for arg in ("--host", name)]
    return run_suite(f"--inventory={inventory}", "--live", *hosts, *args, env_extra=env)


def _healthy(outcomes: dict[str, str]) -> bool:
    return all(o == ("skip" if "phone_logs" in c else "pass") for c, o in outcomes.items()) and len(outcomes) == CHECKS


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http-sealed"])
def test_healthy_host_over_winrm(tls: bool, identity, der, server_dir: Path, tmp_path: Path, run_suite) -> None:
    """Both round trips over NTLM, PowerShell's progress records on stderr (exit 0), the snapshot a whole host."""
    answer = collector_answer(host_document(der), LOGS_DOCUMENT)
    with winrm_server(answer, {USER: PASSWORD}, server_dir, tls=tls) as server, _probed(identity) as probes:
        run = _gate(run_suite, tmp_path, probes, {"hq": server.connection()}, f"--record={tmp_path / 'rec'}")

    assert run.returncode == 0, run.output
    assert _healthy(run.outcomes("hq"))
    assert [s.split("\n", 1)[0] for s in server.scripts] == ["$ShorelineData='C:\\Shoreline Data'", "$SinceHours=24"]
    assert (tmp_path / "rec" / "hq" / "iis" / "logs" / "u_ex261120.log").read_text().count("certauth") == 1
    assert "CLIXML" not in run.output and "Traceback" not in run.output


def test_failing_host_non_ascii_evidence_and_a_multi_mb_log_tail(identity, der, server_dir: Path, tmp_path: Path, run_suite) -> None:
    """An intermediate in Root (1a fails) named in German and Chinese; 4 MB of IIS log lines in 40-odd Receives."""
    doc = host_document(der)
    doc["root"] = [*doc["root"], base64.b64encode(_intermediate("Zwischen-CA Müller & Söhne 中文")).decode()]
    line = "2026-11-20 05:{:02}:{:02} 10.0.0.1 POST /shoreauth/certauth - 443 - 10.0.0.139 IP400-Müller/中文 - 200 0 0 10"
    lines = [line.format(i // 60 % 60, i % 60) for i in range(40_000)]
    logs = {**LOGS_DOCUMENT, "lines": [*LOGS_DOCUMENT["lines"], *lines]}
    with winrm_server(collector_answer(doc, logs), {USER: PASSWORD}, server_dir, tls=False) as server, _probed(identity) as probes:
        started = time.monotonic()
        run = _gate(run_suite, tmp_path, probes, {"hq": server.connection()}, f"--record={tmp_path / 'rec'}")

    outcomes = run.outcomes("hq")
    assert run.returncode == 1, run.output
    assert {c for c, o in outcomes.items() if o == "fail"} == {"test_root_store_is_self_signed"}
    assert "Zwischen-CA Müller & Söhne 中文" in run.output
    recorded = (tmp_path / "rec" / "hq" / "iis" / "logs" / "u_ex261120.log").read_text(encoding="utf-8")
    assert len(recorded.encode()) > 4_000_000 and recorded.count("IP400-Müller/中文") == 40_000
    assert outcomes["test_certauth_not_rejected_in_iis_logs"] == "pass"
    assert time.monotonic() - started < 60


def test_bad_credentials_say_so_and_the_probes_still_judge(identity, der, server_dir: Path, tmp_path: Path, run_suite) -> None:
    answer = collector_answer(host_document(der), LOGS_DOCUMENT)
    with winrm_server(answer, {USER: "someone else's"}, server_dir) as server, _probed(identity) as probes:
        run = _gate(run_suite, tmp_path, probes, {"hq": server.connection()})

    outcomes = run.outcomes("hq")
    assert run.returncode == 3, run.output
    assert f"hq: authentication failed for user {USER} at 127.0.0.1:{server.port} (WinRM answered HTTP 401) {NOT_JUDGED}" in run.output
    assert {outcomes[c] for c in NEED_HOST} == {"error"}
    assert outcomes["test_fqdn_resolves_to_hq"] == outcomes["test_certauth_endpoint_answers"] == "pass"
    assert not server.scripts and "Traceback" not in run.output


def test_unreachable_winrm_is_an_outage_of_that_host_only(identity, der, server_dir: Path, tmp_path: Path, run_suite) -> None:
    """hq01 answers; hq02's port is closed; hq03's port is a web site (IIS on 443), not the WinRM listener."""
    answer = collector_answer(host_document(der), LOGS_DOCUMENT)
    closed = _closed_port()
    with winrm_server(answer, {USER: PASSWORD}, server_dir) as server, _probed(identity) as probes:
        iis = f"winrm://127.0.0.1:{probes['https_port']}?no_verify_ssl=true"
        run = _gate(run_suite, tmp_path, probes, {"hq01": server.connection(), "hq02": f"winrm://127.0.0.1:{closed}", "hq03": iis})

    assert run.returncode == 3, run.output
    assert _healthy(run.outcomes("hq01"))
    assert f"hq02: cannot reach WinRM at 127.0.0.1:{closed} (connection refused) {NOT_JUDGED}" in run.output
    # IIS-like: 403 for the POST, or a reset when it closes before reading the body; never a traceback
    assert re.search(rf"hq03: (WinRM at 127\.0\.0\.1:{probes['https_port']} answered HTTP 403, not a WinRM reply|cannot reach WinRM "
                     rf"at 127\.0\.0\.1:{probes['https_port']} \(the connection was reset\))", run.output)
    for host in ("hq02", "hq03"):
        outcomes = run.outcomes(host)
        assert {outcomes[c] for c in NEED_HOST} == {"error"}
        assert outcomes["test_fqdn_resolves_to_hq"] == outcomes["test_certauth_endpoint_answers"] == "pass"


def test_an_untrusted_winrm_certificate_is_refused(identity, der, server_dir: Path, tmp_path: Path, run_suite) -> None:
    answer = collector_answer(host_document(der), LOGS_DOCUMENT)
    with winrm_server(answer, {USER: PASSWORD}, server_dir) as server, _probed(identity) as probes:
        run = _gate(run_suite, tmp_path, probes, {"hq": f"winrm://127.0.0.1:{server.port}"})

    assert run.returncode == 3, run.output
    assert f"hq: TLS with WinRM at 127.0.0.1:{server.port} failed (certificate verify failed)" in run.output
    assert not server.scripts


@pytest.mark.parametrize(("stall", "options", "said"), [
    (True, {"read_timeout_sec": "2", "operation_timeout_sec": "1"}, "WinRM at {address} did not answer within 2 s (read_timeout_sec)"),
    (False, {"read_timeout_sec": "2", "operation_timeout_sec": "1", "command_timeout_sec": "3"},
     "PowerShell did not finish within 3 s (command_timeout_sec); casgate stopped it"),
], ids=["server-stalls", "command-hangs"])
def test_a_stalled_server_or_command_is_bounded(stall: bool, options: dict[str, str], said: str, identity, server_dir: Path,
                                                tmp_path: Path, run_suite) -> None:
    with winrm_server(lambda script: None, {USER: PASSWORD}, server_dir, stall=stall) as server, _probed(identity) as probes:
        started = time.monotonic()
        run = _gate(run_suite, tmp_path, probes, {"hq": server.connection(**options)})
        took = time.monotonic() - started

    assert run.returncode == 3, run.output
    assert f"hq: {said.format(address=f'127.0.0.1:{server.port}')} {NOT_JUDGED}" in run.output
    assert took < 60  # unbounded, pywinrm would wait 30 s per request, or poll a hung command forever
    assert run.outcomes("hq")["test_certauth_endpoint_answers"] == "pass"


def test_a_powershell_error_is_shown_once_and_trimmed(identity, server_dir: Path, tmp_path: Path, run_suite) -> None:
    message = "Get-ChildItem : Cannot find path 'C:\\Shoreline Data\\Schlüssel' because it does not exist."
    stderr = clixml_error(message, "At line:27 char:15", "+ ... keystore = @(Get-ChildItem $keystore -File | Where-Object { $_.Extensi ...",
                          "+                ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
                          "    + CategoryInfo          : ObjectNotFound: (C:\\Shoreline Data\\Keystore\\certs:String) [Get-ChildItem], ItemNotFoundException",
                          "    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands.GetChildItemCommand", " ")
    with winrm_server(lambda script: Output(b"", stderr, 1), {USER: PASSWORD}, server_dir) as server, _probed(identity) as probes:
        run = _gate(run_suite, tmp_path, probes, {"hq": server.connection()})

    assert run.returncode == 3, run.output
    reasons = [line for line in run.output.splitlines() if "PowerShell exited" in line]
    assert reasons and all(line.count("Cannot find path") <= 1 for line in reasons)  # the last screen's line may cut it short
    assert f"host evidence: PowerShell exited 1: {message}" in run.output
    assert "CategoryInfo" not in run.output and "CLIXML" not in run.output and "_x000D_" not in run.output
    assert len(server.scripts) == 1  # non-ASCII stderr did not make testinfra run `python3` on the host for its encoding


def test_no_credentials_and_no_terminal_is_casgates_own_hint(identity, der, server_dir: Path, tmp_path: Path, run_suite) -> None:
    if sys.stdin.isatty():
        pytest.skip("the suite's subprocess inherits this terminal and would prompt; run with -n or without a terminal")
    answer = collector_answer(host_document(der), LOGS_DOCUMENT)
    with winrm_server(answer, {USER: PASSWORD}, server_dir) as server, _probed(identity) as probes:
        run = _gate(run_suite, tmp_path, probes, {"hq": server.connection()}, env={"CASGATE_WINRM_USER": "", "CASGATE_WINRM_PASSWORD": ""})

    assert run.returncode == 3, run.output
    assert ("hq: no WinRM credentials: set CASGATE_WINRM_USER and CASGATE_WINRM_PASSWORD (or run at a terminal to be asked) "
            f"{NOT_JUDGED}") in run.output
    assert "requires a username" not in run.output and not server.scripts


@pytest.mark.parametrize("password", ["x", "p@ss:w/rd%?#&", "Pässwort-ß-中文"], ids=["one-char", "url-special", "unicode"])
def test_the_password_is_nowhere_and_no_message_is_garbled(password: str, identity, der, server_dir: Path, tmp_path: Path,
                                                           run_suite) -> None:
    """hq01 takes the password; hq02 knows another one. Every file the run wrote is searched, pytest's own temp
    folder included; a one-character password is in many words, so for it: nothing replaced, nothing garbled (the
    user name holds an x)."""
    user = "CORP\\box-reader"
    answer = collector_answer(host_document(der), LOGS_DOCUMENT)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with winrm_server(answer, {user: password}, server_dir) as good, winrm_server(answer, {user: password + "-old"}, server_dir) as bad, \
            _probed(identity) as probes:
        run = _gate(run_suite, run_dir, probes, {"hq01": good.connection(), "hq02": bad.connection()},
                    f"--record={run_dir / 'rec'}", f"--junitxml={run_dir / 'junit.xml'}", f"--basetemp={run_dir / 'basetemp'}",
                    env={"CASGATE_WINRM_USER": user, "CASGATE_WINRM_PASSWORD": password})

    assert run.returncode == 3, run.output
    assert _healthy(run.outcomes("hq01"))
    assert f"hq02: authentication failed for user {user} at 127.0.0.1:{bad.port} (WinRM answered HTTP 401) {NOT_JUDGED}" in run.output
    assert "***" not in run.output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]  # the run's reports, recording and pytest temp folder
    assert {"results.json", "report.html", "junit.xml", "manifest.json"} <= {p.name for p in written}
    if len(password) > 1:
        forms = {password, quote(password, safe=""), quote_plus(password), quote(password)}
        blobs = [run.output.encode(), *(p.read_bytes() for p in written)]
        for form in forms:
            for encoded in (form.encode(), form.encode("utf-16-le")):
                assert not any(encoded in blob for blob in blobs), f"{form!r} found"
    assert all(f":{password}@".encode() not in p.read_bytes() for p in written)


def test_winrm_server_speaks_basic_too(der, server_dir: Path) -> None:
    """The loopback server is WinRM enough for pywinrm's Basic transport over HTTPS (casgate itself uses NTLM)."""
    import winrm.protocol

    with winrm_server(collector_answer(host_document(der), LOGS_DOCUMENT), {"gate": "pw"}, server_dir) as server:
        protocol = winrm.protocol.Protocol(f"https://127.0.0.1:{server.port}/wsman", transport="basic", username="gate",
                                           password="pw", ca_trust_path=str(server.ca_file))
        shell = protocol.open_shell()
        command = protocol.run_command(shell, "whoami")
        stdout, stderr, rc = protocol.get_command_output(shell, command)
        protocol.cleanup_command(shell, command)
        protocol.close_shell(shell)

    assert (stdout, rc) == (b"", 1) and b"'whoami' is not recognized" in stderr


def test_a_server_2012_r2_with_a_webhosting_store_is_recorded_whole(identity, der, server_dir: Path, tmp_path: Path,
                                                                     run_suite) -> None:
    """host.ps1's document as Windows PowerShell 4.0 prints it for a 2012 R2 server with IIS 8.5's WebHosting store
    (one certificate: a one-element array, as @() keeps it) and its binding's sslFlags: recorded, listed, judged."""
    doc = host_document(der) | {"os": "Microsoft Windows Server 2012 R2 Standard 6.3.9600",
                                "webhosting": [base64.b64encode(der["hq_ca"]).decode()]}
    with winrm_server(collector_answer(doc, LOGS_DOCUMENT), {USER: PASSWORD}, server_dir) as server, _probed(identity) as probes:
        run = _gate(run_suite, tmp_path, probes, {"hq": server.connection()}, f"--record={tmp_path / 'rec'}")

    recorded = tmp_path / "rec" / "hq"
    manifest = json.loads((recorded / "manifest.json").read_text())
    assert run.returncode == 0, run.output
    assert _healthy(run.outcomes("hq"))
    assert manifest["os_version"].endswith("6.3.9600") and "certs/webhosting/" in manifest["collected"]
    assert [p.suffix for p in (recorded / "certs" / "webhosting").iterdir()] == [".cer"]
    assert json.loads((recorded / "iis" / "bindings.json").read_text())[0]["sslFlags"] == 0
