"""Host-side collection over pytest-testinfra: two read-only PowerShell round trips per host, each one JSON document,
written into a snapshot in the documented format. The same scripts make up collect.ps1 for air-gapped servers."""

from __future__ import annotations

import base64
import getpass
import html
import json
import os
import re
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from casgate.certs import refuse_private_key_bytes, thumbprint
from casgate.errors import CasgateError, PrivateKeyRefused
from casgate.inventory import InventoryHost
from casgate.live import HostSideResult
from casgate.snapshot import (BINDINGS, CLOCK, IIS_ACCESS, IIS_LOGS, IIS_STATE, KEYSTORE, MY_STORE, ROOT_STORE, WEBHOSTING_STORE,
                              SnapshotWriter)

SCRIPTS = Path(__file__).parent
CMD_LIMIT = 8191  # cmd.exe's command-line limit; testinfra's winrm backend runs commands through cmd.exe
_PREFIX = "powershell -NoProfile -NonInteractive -EncodedCommand "


class CollectionError(CasgateError):
    """The host could not be reached or did not answer as expected; its host-side checks cannot judge."""


def script(name: str) -> str:
    return (SCRIPTS / name).read_text(encoding="utf-8")


def minify(text: str) -> str:
    """Drop comments, blank lines and indentation: every byte counts against cmd.exe's limit. A `<# #>` comment must
    start a line and end one; a here-string's lines are data, kept verbatim."""
    kept: list[str] = []
    in_comment, here_end = False, ""  # here_end: what starts the line that closes the here-string we are in
    for raw in text.splitlines():
        line = raw.strip()
        if here_end:
            kept.append(raw)
            here_end = "" if raw.startswith(here_end) else here_end
        elif in_comment or line.startswith("<#"):
            in_comment = "#>" not in (line if in_comment else line[2:])
        elif line and not line.startswith("#"):
            kept.append(line)
            here_end = line[-1] + "@" if line.endswith(("@'", '@"')) else ""
    return "\n".join(kept)


def _ps_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def encoded_command(part: str, variables: dict[str, str | int]) -> str:
    """`powershell -EncodedCommand` for one collector part: variables, the part, then the JSON emitter."""
    preamble = "\n".join(f"${k}={_ps_string(v) if isinstance(v, str) else v}" for k, v in variables.items())
    body = "\n".join((preamble, minify(script(part)), minify(script("emit.ps1"))))
    command = _PREFIX + base64.b64encode(body.encode("utf-16-le")).decode("ascii")
    if len(command) > CMD_LIMIT:
        raise CollectionError(f"{part}: the encoded command is {len(command)} characters, over cmd.exe's {CMD_LIMIT}")
    return command


def host_commands(host: InventoryHost, since: timedelta) -> tuple[str, str]:
    """The two round trips: host evidence, then the IIS log tail since `since`."""
    hours = max(1, int(-(-since.total_seconds() // 3600)))
    return (
        encoded_command("host.ps1", {"ShorelineData": host.shoreline_data}),
        encoded_command("iislogs.ps1", {"SinceHours": hours}),
    )


WINRM_HTTPS_PORT, WINRM_HTTP_PORT = 5986, 5985
_CREDENTIALS = pytest.StashKey[tuple[str, str]]()
_NO_CREDENTIALS = ("no WinRM credentials: set CASGATE_WINRM_USER and CASGATE_WINRM_PASSWORD "
                   "(or run at a terminal to be asked)")
_OPTIONS = {"no_ssl", "no_verify_ssl", "ca_trust_path", "read_timeout_sec", "operation_timeout_sec", "command_timeout_sec"}
_CLIXML_ERROR = re.compile(r'<S S="Error">(.*?)</S>', re.DOTALL)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass(frozen=True)
class WinrmTarget:
    """Where a `winrm://host[:port][?option=value&...]` connection goes: WinRM over HTTPS on 5986 unless a port is
    given; `no_ssl=true` means HTTP on 5985 (NTLM-encrypted, as Windows requires). Timeouts in seconds: each HTTP
    exchange (read), WinRM's own wait for output (operation), one whole PowerShell round trip (command)."""

    host: str
    port: int
    ssl: bool = True
    verify: bool = True
    ca_trust_path: str | None = None
    read_timeout: int = 30
    operation_timeout: int = 20
    command_timeout: int = 600

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.address}/wsman"


def _seconds(options: dict[str, str], key: str, default: int) -> int:
    value = options.get(key, str(default))
    if not value.isdigit() or not 0 < int(value) <= 86400:
        raise CollectionError(f"connection option {key}={value[:20]!r} should be a whole number of seconds (1-86400)")
    return int(value)


def parse_winrm(connection: str) -> WinrmTarget:
    """The inventory's winrm:// connection as a WinrmTarget; an unknown option is an error, not silently ignored."""
    parts = urlsplit(connection)
    options = {key.lower(): value for key, value in parse_qsl(parts.query, keep_blank_values=True)}
    unknown = set(options) - _OPTIONS
    if unknown:
        raise CollectionError(f"connection {parts.scheme}://{parts.hostname}: unknown option(s) {', '.join(sorted(unknown))[:120]} "
                              f"(known: {', '.join(sorted(_OPTIONS))})")
    ssl = options.get("no_ssl", "false").lower() != "true"
    try:
        port = parts.port or (WINRM_HTTPS_PORT if ssl else WINRM_HTTP_PORT)
    except ValueError:
        raise CollectionError(f"connection {connection.split('?')[0][:120]!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise CollectionError(f"connection {connection.split('?')[0][:120]!r} names no host")
    target = WinrmTarget(parts.hostname, port, ssl, options.get("no_verify_ssl", "false").lower() != "true",
                         options.get("ca_trust_path") or None, _seconds(options, "read_timeout_sec", 30),
                         _seconds(options, "operation_timeout_sec", 20), _seconds(options, "command_timeout_sec", 600))
    if target.operation_timeout >= target.read_timeout:
        raise CollectionError("connection option operation_timeout_sec should be below read_timeout_sec "
                              "(WinRM may keep a request open that long)")
    return target


def winrm_credentials(config: pytest.Config) -> tuple[str, str] | None:
    """CASGATE_WINRM_USER / CASGATE_WINRM_PASSWORD, else a prompt when a terminal is attached, else None. What was
    typed is kept for the run in memory, not in the environment child processes inherit."""
    user, password = os.environ.get("CASGATE_WINRM_USER"), os.environ.get("CASGATE_WINRM_PASSWORD")
    if user and password:
        return user, password
    if _CREDENTIALS in config.stash:
        return config.stash[_CREDENTIALS]
    if not (sys.__stdin__ and sys.__stdin__.isatty()):
        return None
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        user = user or input("WinRM user for the HQ servers: ")
        password = getpass.getpass(f"WinRM password for {user}: ")
    config.stash[_CREDENTIALS] = (user, password)  # asked once per run
    return user, password


class CommandTimeout(Exception):
    """A PowerShell round trip ran past command_timeout_sec; casgate stopped it."""


def winrm_host(target: WinrmTarget, credentials: tuple[str, str]) -> Any:
    """A testinfra host over WinRM with the credentials handed to pywinrm as arguments: testinfra 10 reads them
    only from a `user:password@host` spec, and a password in a URL ends up in error texts."""
    import testinfra.host
    import winrm.protocol
    from testinfra.backend.winrm import WinRMBackend

    class BoundedWinRM(WinRMBackend):
        """testinfra's WinRM backend (pywinrm, NTLM) with a bound on each round trip: pywinrm alone polls a
        command that never finishes forever."""

        def run_winrm(self, command: str) -> Any:
            protocol = winrm.protocol.Protocol(**self.conn_args)
            shell = protocol.open_shell()
            command_id = protocol.run_command(shell, command)
            stdout, stderr, rc = _receive(protocol, shell, command_id, time.monotonic() + target.command_timeout)
            protocol.cleanup_command(shell, command_id)  # on a timeout, this stops the command
            protocol.close_shell(shell)
            if rc is None:
                raise CommandTimeout(f"PowerShell did not finish within {target.command_timeout} s "
                                     "(command_timeout_sec); casgate stopped it")
            return self.result(rc, self.encode(command), stdout, stderr)

    backend = BoundedWinRM(target.address, no_ssl=not target.ssl, no_verify_ssl=not target.verify,
                           read_timeout_sec=target.read_timeout, operation_timeout_sec=target.operation_timeout)
    # The endpoint is set here too: testinfra writes an IPv6 address without brackets. No proxy: WinRM goes straight
    # to the server. The CA bundle is named, not left to pywinrm's deprecated lookup.
    backend.conn_args.update(endpoint=target.endpoint, username=credentials[0], password=credentials[1], proxy=None,
                             ca_trust_path=target.ca_trust_path or os.environ.get("REQUESTS_CA_BUNDLE") or None)
    host = testinfra.host.Host(backend)
    backend.set_host(host)
    return host


def _receive(protocol: Any, shell: str, command_id: str, deadline: float) -> tuple[bytes, bytes, int | None]:
    """pywinrm's get_command_output with a deadline: stdout, stderr and the exit code, or None for the code when the
    command was still running at `deadline`."""
    from winrm.exceptions import WinRMOperationTimeoutError

    stdout, stderr = [], []
    while time.monotonic() < deadline:
        try:
            out, err, rc, done = protocol.get_command_output_raw(shell, command_id)
        except WinRMOperationTimeoutError:  # WinRM's "no output yet" after operation_timeout
            continue
        stdout.append(out)
        stderr.append(err)
        if done:
            return b"".join(stdout), b"".join(stderr), rc
    return b"".join(stdout), b"".join(stderr), None


def transport_problem(exc: Exception, target: WinrmTarget, user: str, password: str) -> str:
    """One line on why WinRM could not be used, in casgate's words: the transport's own text is shown only for
    errors casgate does not know, and never when it holds the password."""
    import requests
    from winrm.exceptions import InvalidCredentialsError, WinRMTransportError, WSManFaultError

    where = f"WinRM at {target.address}"
    if isinstance(exc, CommandTimeout):
        return str(exc)
    if isinstance(exc, InvalidCredentialsError):
        return f"authentication failed for user {user} at {target.address} (WinRM answered HTTP 401)"
    if isinstance(exc, WSManFaultError):
        return f"{where} refused the request: {_one_line(exc.reason or '')[:300]}"
    if isinstance(exc, WinRMTransportError):
        return (f"{where} answered HTTP {exc.code}, not a WinRM reply (is that port a web site rather than the WinRM "
                f"listener? WinRM listens on {WINRM_HTTPS_PORT} for HTTPS, {WINRM_HTTP_PORT} for HTTP)")
    if isinstance(exc, requests.exceptions.SSLError):
        return (f"TLS with {where} failed ({_tls_reason(exc)}); trust its certificate with ca_trust_path=FILE "
                f"or check the listener's certificate")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"{where} did not answer within {target.read_timeout} s (read_timeout_sec)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"cannot reach {where} ({_socket_reason(exc, target)})"
    return f"{where}: {type(exc).__name__}: {_unless_secret(_one_line(str(exc))[:300], password)}"


def _socket_reason(exc: BaseException, target: WinrmTarget) -> str:
    """What the socket said, from the innermost of requests' and urllib3's wrapped exceptions."""
    for _ in range(8):
        inner = getattr(exc, "reason", None) or exc.__cause__ or exc.__context__
        if not isinstance(inner, BaseException):
            break
        exc = inner
    if isinstance(exc, socket.gaierror):
        return f"{target.host} does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return f"no answer within {target.read_timeout} s"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    return "the connection failed"


def _tls_reason(exc: Exception) -> str:
    text = repr(exc)
    for known in ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "hostname mismatch", "UNSUPPORTED_PROTOCOL"):
        if known in text:
            return known.lower().replace("_", " ")
    return "handshake failed"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unless_secret(text: str, password: str) -> str:
    """A second line of defence: transport text naming the password, as a word of its own or URL-encoded, is
    withheld whole; it is never edited, so nothing is garbled and no gap shows where the password was."""
    for form in {password, quote(password, safe=""), quote(password)}:
        if form and re.search(rf"(?<![\w%]){re.escape(form)}(?![\w%])", text):
            return "(the transport's message is withheld: it contains the password)"
    return text


def powershell_errors(stderr: str) -> str:
    """PowerShell's error text from stderr: the message lines of the error records when it is CLIXML (what
    powershell -EncodedCommand writes, progress records included), else the text itself; one line, trimmed."""
    if "#< CLIXML" not in stderr:
        return _one_line(stderr)[-400:]
    records = (_CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), html.unescape(r)) for r in _CLIXML_ERROR.findall(stderr))
    message = []
    for line in "".join(records).splitlines():
        if line.lstrip().startswith(("At line:", "At char:", "+ ")):  # where it happened, then CategoryInfo and its id
            break
        message.append(line)
    return _one_line(" ".join(message))[:400]


def _decode_stdout(data: bytes, what: str) -> str:
    """The collector prints ASCII only (emit.ps1 escapes the rest): any other byte means something else spoke."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise CollectionError(f"{what}: the collector's output is not the ASCII JSON it prints: {data[:120]!r}") from None


def _run_json(remote: Any, command: str, what: str) -> Any:
    result = remote.run(command)  # the bytes are decoded here: testinfra would ask the host for its encoding
    if result.rc != 0:
        stderr = result.stderr_bytes.decode("cp437", errors="replace")  # pywinrm opens the shell with code page 437
        detail = powershell_errors(stderr) or _one_line(result.stdout_bytes.decode("ascii", errors="replace"))[-400:]
        raise CollectionError(f"{what}: PowerShell exited {result.rc}: {detail}")
    stdout = _decode_stdout(result.stdout_bytes, what)
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise CollectionError(f"{what}: the collector's output is not JSON ({exc.msg}): {stdout[:120]!r}") from None


def _field(doc: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(doc, dict) or not isinstance(doc.get(key), kind):
        raise CollectionError(f"{what}: the collector's JSON has no usable {key!r}")
    return doc[key]


def _as_list(value: Any) -> list[Any]:
    """ConvertTo-Json writes a one-element array as the element itself, and $null for none."""
    return [] if value is None else value if isinstance(value, list) else [value]


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _write_store(writer: SnapshotWriter, store: str, encoded: list[Any] | str) -> None:
    """A store's certificates as DER files named by thumbprint; an empty store is an empty folder."""
    (writer.folder / store).mkdir(parents=True, exist_ok=True)
    for item in _as_list(encoded):
        der = base64.b64decode(item)
        writer.certificate(store, f"{thumbprint(der)}.cer", der)


def write_host_side(writer: SnapshotWriter, evidence: Any, logs: Any, round_trip: tuple[datetime, datetime]) -> HostSideResult:
    """Write the collector's two documents as snapshot artifacts, and the server's clock between the runner's
    readings before and after the first round trip. Root and My are always there (null is an error, [] an empty
    store); WebHosting is null where the server has no such store, and is then not recorded."""
    what = "host evidence"
    for store, key in ((ROOT_STORE, "root"), (MY_STORE, "my")):
        _write_store(writer, store, _field(evidence, key, (list, str), what))
    optional: tuple[str, ...] = ()
    if isinstance(evidence, dict) and evidence.get("webhosting") is not None:
        _write_store(writer, WEBHOSTING_STORE, _field(evidence, "webhosting", (list, str), what))
        optional = (WEBHOSTING_STORE,)
    for item in _as_list(evidence.get("keystore")):
        name, data = _field(item, "name", str, what), base64.b64decode(_field(item, "data", str, what))
        try:
            refuse_private_key_bytes(data, f"{KEYSTORE}{name}")
        except PrivateKeyRefused as exc:
            raise CollectionError(f"{exc}; it was not recorded") from None
        writer.certificate(KEYSTORE, Path(name).name, data)
    writer.json(BINDINGS, _as_list(evidence.get("bindings")))
    writer.reg_tree("schannel.reg", _field(evidence, "registry", dict, what))
    writer.json(IIS_STATE, {"w3svc": evidence.get("w3svc"), "reboot_pending": evidence.get("rebootPending"),
                            "netsh_http_show_sslcert": evidence.get("sslcert")})
    access = _field(evidence, "access", dict, what)
    writer.json(IIS_ACCESS, {"location": access.get("location"), "sslFlags": access.get("sslFlags")})
    writer.json(CLOCK, {"server_utc": _field(evidence, "now", str, what), "runner_before_utc": _utc(round_trip[0]),
                        "runner_after_utc": _utc(round_trip[1])})
    for log in _as_list(logs):
        name = Path(_field(log, "name", str, "IIS logs")).name
        writer.text(f"{IIS_LOGS}{name}", "".join(f"{line}\n" for line in _as_list(log.get("lines"))))
    return HostSideResult(str(_field(evidence, "os", str, what)), optional)


def _open(host: InventoryHost, config: pytest.Config) -> tuple[Any, Callable[[Exception], str]]:
    """The testinfra host for an inventory entry, and how to word a transport error for it."""
    if host.connection == "local":
        import testinfra

        return testinfra.get_host("local://"), lambda exc: f"local: {type(exc).__name__}: {_one_line(str(exc))[:300]}"
    if not host.connection.startswith("winrm://"):
        raise CollectionError(f"connection {host.connection.split('?')[0][:120]!r}: casgate collects over winrm:// "
                              "(or local, or none)")
    target = parse_winrm(host.connection)
    credentials = winrm_credentials(config)
    if credentials is None:
        raise CollectionError(_NO_CREDENTIALS)
    return winrm_host(target, credentials), lambda exc: transport_problem(exc, target, *credentials)


def collect_host_side(config: pytest.Config) -> Callable[[InventoryHost, timedelta, SnapshotWriter], HostSideResult]:
    """The live.HostSide callable for this run: a testinfra host per inventory entry, two round trips. A host whose
    transport fails is said in one line, naming the host; its host-side checks are then not judged."""

    def collect(host: InventoryHost, since: timedelta, writer: SnapshotWriter) -> HostSideResult:
        evidence_command, logs_command = host_commands(host, since)
        try:
            remote, problem = _open(host, config)
        except CollectionError as exc:
            raise CollectionError(f"{host.name}: {exc} — host-side checks not judged") from None
        documents, round_trip = [], []
        for command, what in ((evidence_command, "host evidence"), (logs_command, "IIS logs")):
            round_trip.append(datetime.now(timezone.utc))  # before each: the first two readings bracket the server's own
            try:
                documents.append(_run_json(remote, command, what))
            except CollectionError:
                raise
            except Exception as exc:  # transports raise what their libraries raise (pywinrm, requests, spnego)
                raise CollectionError(f"{host.name}: {problem(exc)} — host-side checks not judged") from None
        try:
            return write_host_side(writer, *documents, (round_trip[0], round_trip[1]))
        except (ValueError, TypeError, KeyError) as exc:  # includes binascii.Error from bad base64
            raise CollectionError(f"the collector's JSON is malformed: {type(exc).__name__}: {exc}") from None

    return collect
