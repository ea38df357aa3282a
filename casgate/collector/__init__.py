"""Host-side collection over pytest-testinfra: two read-only PowerShell round trips per host, each one JSON document,
written into a snapshot in the documented format. The same scripts make up collect.ps1 for air-gapped servers."""

from __future__ import annotations

import base64
import getpass
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from casgate.certs import refuse_private_key_bytes, thumbprint
from casgate.errors import CasgateError, PrivateKeyRefused
from casgate.inventory import InventoryHost
from casgate.snapshot import BINDINGS, IIS_LOGS, IIS_STATE, KEYSTORE, MY_STORE, ROOT_STORE, SnapshotWriter

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


def host_spec(connection: str, credentials: tuple[str, str] | None) -> str:
    """The testinfra host spec with credentials put in memory only; "local" means this machine."""
    if connection == "local":
        return "local://"
    if credentials is None:
        return connection
    parts = urlsplit(connection)
    user, password = credentials
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def winrm_credentials(config: pytest.Config) -> tuple[str, str] | None:
    """CASGATE_WINRM_USER / CASGATE_WINRM_PASSWORD, else a prompt when a terminal is attached, else None."""
    user, password = os.environ.get("CASGATE_WINRM_USER"), os.environ.get("CASGATE_WINRM_PASSWORD")
    if user and password:
        return user, password
    if not (sys.__stdin__ and sys.__stdin__.isatty()):
        return None
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        user = user or input("WinRM user for the HQ servers: ")
        password = getpass.getpass(f"WinRM password for {user}: ")
    os.environ["CASGATE_WINRM_USER"], os.environ["CASGATE_WINRM_PASSWORD"] = user, password  # asked once per run
    return user, password


def redact(text: str, credentials: tuple[str, str] | None) -> str:
    """Error text from transports may echo the host spec: never let the password through to a report."""
    if credentials is None:
        return text
    password = credentials[1]
    for secret in {password, quote(password, safe="")}:
        if secret:
            text = text.replace(secret, "***")
    return text


def _run_json(remote: Any, command: str, what: str, credentials: tuple[str, str] | None) -> Any:
    try:
        result = remote.run(command)
    except Exception as exc:  # transport errors come from many libraries (pywinrm, requests, paramiko)
        raise CollectionError(redact(f"{what}: cannot run the collector ({type(exc).__name__}: {exc})", credentials)) from None
    if result.rc != 0:
        raise CollectionError(f"{what}: PowerShell exited {result.rc}: {(result.stderr or result.stdout).strip()[-400:]}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise CollectionError(f"{what}: the collector's output is not JSON ({exc.msg}): {result.stdout[:120]!r}") from None


def _field(doc: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(doc, dict) or not isinstance(doc.get(key), kind):
        raise CollectionError(f"{what}: the collector's JSON has no usable {key!r}")
    return doc[key]


def _as_list(value: Any) -> list[Any]:
    """ConvertTo-Json writes a one-element array as the element itself, and $null for none."""
    return [] if value is None else value if isinstance(value, list) else [value]


def write_host_side(writer: SnapshotWriter, evidence: Any, logs: Any) -> str:
    """Write the collector's two documents as snapshot artifacts; returns the OS version."""
    what = "host evidence"
    for store, key in ((ROOT_STORE, "root"), (MY_STORE, "my")):
        for encoded in _as_list(_field(evidence, key, (list, str), what)):
            der = base64.b64decode(encoded)
            writer.certificate(store, f"{thumbprint(der)}.cer", der)
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
    for log in _as_list(logs):
        name = Path(_field(log, "name", str, "IIS logs")).name
        writer.text(f"{IIS_LOGS}{name}", "".join(f"{line}\n" for line in _as_list(log.get("lines"))))
    return str(_field(evidence, "os", str, what))


def collect_host_side(config: pytest.Config):  # type: ignore[no-untyped-def]
    """The live.HostSide callable for this run: testinfra host per inventory entry, two round trips."""
    import testinfra  # imported late: only live runs need a transport

    def collect(host: InventoryHost, since: timedelta, writer: SnapshotWriter) -> str:
        credentials = winrm_credentials(config) if host.connection.startswith("winrm") else None
        try:
            remote = testinfra.get_host(host_spec(host.connection, credentials))
        except Exception as exc:  # testinfra raises what its backend's library raises
            raise CollectionError(redact(f"connection {host.connection!r}: {type(exc).__name__}: {exc}", credentials)) from None
        evidence_command, logs_command = host_commands(host, since)
        evidence = _run_json(remote, evidence_command, "host evidence", credentials)
        logs = _run_json(remote, logs_command, "IIS logs", credentials)
        try:
            return write_host_side(writer, evidence, logs)
        except (ValueError, TypeError, KeyError) as exc:  # includes binascii.Error from bad base64
            raise CollectionError(f"the collector's JSON is malformed: {type(exc).__name__}: {exc}") from None

    return collect
