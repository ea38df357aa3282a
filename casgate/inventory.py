"""The inventory: how to reach each live HQ server (inventory.toml). Credentials never live here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from casgate.errors import CasgateError
from casgate.tomlfile import read_toml

_KEYS = {"fqdn", "address", "connection", "dns_servers", "https_port", "shoreline_data"}
_USE_ENVIRONMENT = "set CASGATE_WINRM_USER / CASGATE_WINRM_PASSWORD instead (or answer the prompt)"
# Key names that hold a secret, in any case and spelling: password, db_passwd, WinRM-Pwd, api_key, token, ...
_SECRET = re.compile(r"password|passwd|passphrase|(?<![a-z])pass(?![a-z])|pwd|secret|token|credential|api[-_]?key"
                     r"|private[-_]?key", re.IGNORECASE)
_CONNECTION_USER = {"user", "username", "login"}
_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,62}", re.ASCII)


class InventoryError(CasgateError):
    """The inventory file is unreadable or an entry is incomplete; a usage error, not a check failure."""


def check_host_name(name: str, where: str) -> str:
    """`name` when it is a plain host name (letters, digits, '-', '_', dot-separated labels of 1-63 characters, not
    starting with '-'): it becomes a folder name and a command-line argument, so no paths, spaces or options."""
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InventoryError(f"{where}: host name {name[:80]!r} is not a plain host name "
                             "(letters, digits, '-', '_' and dots; labels of 1-63 characters, not starting with '-')")
    return name


@dataclass(frozen=True)
class InventoryHost:
    """One live host: the FQDN the phones use, the address its A record must match, and how to reach it."""

    name: str
    fqdn: str
    address: str
    connection: str
    dns_servers: tuple[str, ...]
    https_port: int = 443
    shoreline_data: str = r"C:\Shoreline Data"

    @property
    def host_side(self) -> bool:
        """False for connection = "none": only the runner-side probes run."""
        return self.connection != "none"


def _refuse_secrets(node: Any, where: str, path: str) -> None:
    """Any key named like a secret, in any table or array of tables; the value is never shown."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _refuse_secrets(item, where, f"{path}[{index}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            dotted = f"{path}.{key}" if path else key
            if _SECRET.search(key):
                raise InventoryError(f"{where}: {dotted[:120]} looks like a credential; the inventory never holds "
                                     f"credentials: delete it and {_USE_ENVIRONMENT}")
            _refuse_secrets(value, where, dotted)


def _refuse_connection_credentials(connection: str, where: str) -> None:
    """winrm://user:pw@host, ...?password=... or ...?user=...: a user or secret inside the host spec."""
    query = urlsplit(connection).query if "://" in connection else ""
    keys = {key.lower() for key, _ in parse_qsl(query, keep_blank_values=True)}
    if "@" in connection or keys & _CONNECTION_USER or any(_SECRET.search(key) for key in keys):
        raise InventoryError(f"{where} connection must not carry credentials; {_USE_ENVIRONMENT}")


def _string(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise InventoryError(f"{where} needs {key} = \"...\"")
    return value


def _entry(name: str, raw: Any, path: str) -> InventoryHost:
    where = f"{path}: [hosts.{name[:80]}]"
    check_host_name(name, f"{path}: [hosts.NAME]")
    if not isinstance(raw, dict):
        raise InventoryError(f"{where} should be a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise InventoryError(f"{where} has unknown key(s) {', '.join(sorted(unknown))[:200]}")
    connection = _string(raw, "connection", where)
    _refuse_connection_credentials(connection, where)
    servers = raw.get("dns_servers")
    if not isinstance(servers, list) or not servers or not all(isinstance(s, str) and s for s in servers):
        raise InventoryError(f"{where} needs dns_servers = [\"...\"], the phones' DNS servers")
    port = raw.get("https_port", 443)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise InventoryError(f"{where} https_port should be a port number")
    return InventoryHost(name, _string(raw, "fqdn", where).rstrip(".").lower(), _string(raw, "address", where), connection,
                         tuple(servers), port, _string(raw, "shoreline_data", where, r"C:\Shoreline Data"))


def load_inventory(path: Path) -> dict[str, InventoryHost]:
    """Hosts by name; a missing default inventory is simply empty, a broken one is an InventoryError."""
    doc = read_toml(path, "inventory", InventoryError)
    _refuse_secrets(doc, str(path), "")
    hosts = doc.get("hosts", {})
    if not isinstance(hosts, dict):
        raise InventoryError(f"{path}: [hosts] should be a table of [hosts.NAME] tables")
    return {name: _entry(name, raw, str(path)) for name, raw in hosts.items()}
