"""The inventory: how to reach each live HQ server (inventory.toml). Credentials never live here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casgate.errors import CasgateError
from casgate.tomlfile import read_toml

_KEYS = {"fqdn", "address", "connection", "dns_servers", "https_port", "shoreline_data"}


class InventoryError(CasgateError):
    """The inventory file is unreadable or an entry is incomplete; a usage error, not a check failure."""


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


def _entry(name: str, raw: Any, where: str) -> InventoryHost:
    if not isinstance(raw, dict):
        raise InventoryError(f"{where}: [hosts.{name}] should be a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise InventoryError(f"{where}: [hosts.{name}] has unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("fqdn", "address", "connection"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise InventoryError(f"{where}: [hosts.{name}] needs {key} = \"...\"")
    if "@" in raw["connection"]:
        raise InventoryError(f"{where}: [hosts.{name}] connection must not carry credentials; "
                             "set CASGATE_WINRM_USER / CASGATE_WINRM_PASSWORD instead")
    servers = raw.get("dns_servers")
    if not isinstance(servers, list) or not servers or not all(isinstance(s, str) for s in servers):
        raise InventoryError(f"{where}: [hosts.{name}] needs dns_servers = [\"...\"], the phones' DNS servers")
    port = raw.get("https_port", 443)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise InventoryError(f"{where}: [hosts.{name}] https_port should be a port number")
    return InventoryHost(name, raw["fqdn"].rstrip(".").lower(), raw["address"], raw["connection"], tuple(servers), port,
                         raw.get("shoreline_data", r"C:\Shoreline Data"))


def load_inventory(path: Path) -> dict[str, InventoryHost]:
    """Hosts by name; a missing default inventory is simply empty, a broken one is an InventoryError."""
    doc = read_toml(path, "inventory", InventoryError)
    hosts = doc.get("hosts", {})
    if not isinstance(hosts, dict):
        raise InventoryError(f"{path}: [hosts] should be a table of [hosts.NAME] tables")
    return {name: _entry(name, raw, str(path)) for name, raw in hosts.items()}
