"""A snapshot: a folder of standard artifacts (docs/snapshot-format.md), read lazily, one artifact per property."""

from __future__ import annotations

import codecs
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from casgate.certs import Certificate, Store, load_certificate, load_store, refuse_private_key
from casgate.errors import EvidenceError, NotCollected
from casgate.evidence import (
    AccessPolicy,
    Binding,
    ClockReading,
    DnsProbe,
    HttpsProbe,
    Manifest,
    TlsProbe,
    parse_bindings,
    parse_sslcert_text,
    parse_state,
    read_json,
)
from casgate.httpsys import ServerStores
from casgate.regfile import RegistryView, load_registry

MANIFEST = "manifest.json"
ROOT_STORE = "certs/root/"
MY_STORE = "certs/my/"
WEBHOSTING_STORE = "certs/webhosting/"
KEYSTORE = "keystore/"
BINDINGS = "iis/bindings.json"
IIS_LOGS = "iis/logs/"
REGISTRY = "registry/"
PHONE_LOGS = "phone-logs/"
DNS_PROBE = "probes/dns.json"
TLS_PROBE = "probes/tls.json"
HTTPS_PROBE = "probes/https.json"
IIS_STATE = "iis/state.json"
IIS_ACCESS = "iis/access.json"
CLOCK = "host/clock.json"
OPTED_OUT = 'connection = "none": only the runner-side probes ran'
"""The one `skipped` reason that is a deliberate opt-out (live recording with connection = "none"); any other
skipped artifact leaves the checks that need it not judged."""


@dataclass(frozen=True)
class LogFile:
    """A log file in the snapshot and the label evidence lines cite it by."""

    label: str
    path: Path


class Snapshot:
    """Evidence of one host, read from its snapshot folder; each property raises EvidenceError when unusable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._keystore: dict[str, Certificate] = {}  # read once per host, though several checks use server.crt

    @cached_property
    def _root(self) -> Path:
        return self.folder.resolve()

    def _leads_outside(self, link: Path) -> str | None:
        """Where a link leads when that is outside the snapshot (a loop of links leads nowhere casgate can vouch for)."""
        try:
            target = link.resolve()
        except (OSError, RuntimeError):
            return "a loop of links"
        return None if target.is_relative_to(self._root) else str(target)

    @cached_property
    def _links_leading_out(self) -> dict[str, str]:
        """Every link in the snapshot that leads outside it (its path in the snapshot: where it leads), found in one walk
        that enters no link, once per host, when a folder artifact is first read."""
        found, folders = {}, [self.folder]
        while folders:
            try:
                entries = list(os.scandir(folders.pop()))
            except OSError:
                continue  # a folder that cannot be listed is its artifact's reader's error to name
            for entry in entries:
                if entry.is_symlink():
                    where = self._leads_outside(Path(entry.path))
                    if where is not None:
                        found[Path(entry.path).relative_to(self.folder).as_posix()] = where
                elif entry.is_dir():
                    folders.append(entry.path)
        return found

    def _link_outside(self, relative: str) -> tuple[str, str] | None:
        """A link at the artifact, at a folder above it or, for a folder artifact, anywhere in it (also where a link
        inside the snapshot takes it), that leads outside the snapshot, and where it leads: nothing outside a snapshot
        is ever read (or quoted in a report). Links elsewhere in the snapshot are no artifact's business."""
        parts = relative.rstrip("/").split("/")
        for n in range(1, len(parts) + 1):  # the artifact and the folders above it: a few lstat calls
            path = os.path.join(self.folder, *parts[:n])
            where = self._leads_outside(Path(path)) if os.path.islink(path) else None
            if where is not None:
                return "/".join(parts[:n]), where
        if not relative.endswith("/") or not self._links_leading_out:
            return None
        named = "/".join(parts)
        real = Path(self.folder, named).resolve()
        places = {named, real.relative_to(self._root).as_posix()} if real.is_relative_to(self._root) else {named}
        for link, where in sorted(self._links_leading_out.items()):
            for place in places:
                if place == ".":  # a link inside the snapshot made the artifact the whole snapshot
                    return f"{named}/{link}", where
                if link.startswith(place + "/"):
                    return named + link[len(place):], where
        return None

    def _path(self, relative: str) -> Path:
        """The artifact's path, unless it leads outside the snapshot, or the manifest says it was skipped or could
        not be collected."""
        outside = self._link_outside(relative)
        if outside is not None:
            link, target = outside
            raise EvidenceError(relative, f"{link} is a link to {target}, outside the snapshot; casgate reads nothing outside it")
        if relative != MANIFEST:
            manifest = self.manifest
            if relative in manifest.skipped:
                reason = manifest.skipped[relative]
                if reason == OPTED_OUT:
                    raise NotCollected(relative, reason)
                raise EvidenceError(relative, f"was not collected ({reason}); the checks that need it cannot be judged")
            if relative in manifest.failed:
                raise EvidenceError(relative, f"could not be collected: {manifest.failed[relative]}")
        return self.folder / relative

    def _optional(self, relative: str) -> Path | None:
        """An optional artifact's path, or None when it is absent and the manifest does not claim it: evidence the
        manifest lists in `collected` but that is not there is an error, never read as "not collected"."""
        path = self._path(relative)
        if path.exists():
            return path
        if self.manifest.claims(relative):
            raise EvidenceError(relative, f"is listed in {MANIFEST}'s collected but is not in the snapshot; the checks that read it "
                                          "cannot be judged (copy it in, or take it off the list if it was never collected)")
        return None

    def _json(self, relative: str) -> Any:
        """A JSON artifact's document, read through _path's checks."""
        return read_json(self._path(relative), relative)

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest.parse(self._json(MANIFEST), MANIFEST)

    @cached_property
    def root_store(self) -> Store:
        return load_store(self._path(ROOT_STORE), ROOT_STORE)

    def _listed(self, folder: str) -> bool:
        """Whether the manifest says the folder artifact was collected ("certs/my" or "certs/my/")."""
        return bool({folder, folder.rstrip("/")} & set(self.manifest.collected))

    @cached_property
    def my_store(self) -> Store:
        """LocalMachine\\My; empty only where the manifest lists it as collected (a collector that found it empty)."""
        return load_store(self._path(MY_STORE), MY_STORE, empty_ok=self._listed(MY_STORE))

    @cached_property
    def webhosting_store(self) -> Store | None:
        """LocalMachine\\WebHosting (IIS 8's store for SNI sites), or None when the snapshot has no export of it. Unlike
        My and Root it is empty on most servers: a collector that lists it as collected and wrote no file found it empty."""
        folder, listed = self._path(WEBHOSTING_STORE), self._listed(WEBHOSTING_STORE)
        if not folder.is_dir() or not any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir()):
            return Store(WEBHOSTING_STORE, ()) if listed else None
        return load_store(folder, WEBHOSTING_STORE, empty_ok=True)

    @cached_property
    def server_stores(self) -> ServerStores:
        """The stores an IIS binding can take its certificate from; a WebHosting export that cannot be read matters only
        to a binding that names WebHosting."""
        try:
            return ServerStores(self.my_store, self.webhosting_store)
        except EvidenceError as exc:
            if exc.artifact != WEBHOSTING_STORE:
                raise
            return ServerStores(self.my_store, None, exc)

    @cached_property
    def _public_keystore(self) -> Path:
        """The keystore folder, once every file in it is known not to be a private key (checked once per run):
        a snapshot must never carry the keystore's private keys, so the whole keystore is refused if it does."""
        folder = self._path(KEYSTORE)
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.is_file():
                refuse_private_key(path, f"{KEYSTORE}{path.name}")
        return folder

    def keystore_certificate(self, name: str) -> Certificate:
        """A public certificate copied from Shoreline Data\\Keystore\\certs, e.g. server.crt."""
        if name not in self._keystore:
            label = f"{KEYSTORE}{name}"
            path = self._public_keystore / name
            if not path.is_file():
                raise EvidenceError(label, r"is missing; copy it from <Shoreline Data>\Keystore\certs")
            self._keystore[name] = load_certificate(path, label)
        return self._keystore[name]

    @cached_property
    def bindings(self) -> tuple[Binding, ...]:
        return parse_bindings(self._json(BINDINGS), BINDINGS)

    @cached_property
    def registry(self) -> RegistryView:
        return load_registry(self._path(REGISTRY), REGISTRY)

    @cached_property
    def iis_logs(self) -> tuple[LogFile, ...]:
        folder = self._path(IIS_LOGS)
        if not folder.is_dir():
            raise EvidenceError(IIS_LOGS, r"folder is missing; copy C:\inetpub\logs\LogFiles\W3SVC1\u_ex*.log into it")
        files = tuple(f for f in _log_files(folder, IIS_LOGS, "*") if f.path.name.lower().endswith((".log", ".gz", ".zip")))
        if not files:
            raise EvidenceError(IIS_LOGS, "holds no *.log (or .gz/.zip of logs); is IIS logging switched off for Default Web Site?")
        return files

    @cached_property
    def phone_logs(self) -> tuple[LogFile, ...] | None:
        """None when the snapshot has no phone logs and the manifest does not claim them: they are optional evidence."""
        folder = self._optional(PHONE_LOGS)
        logs = _log_files(folder, PHONE_LOGS, "*") if folder is not None and folder.is_dir() else ()
        if not logs and self.manifest.claims(PHONE_LOGS):
            raise EvidenceError(PHONE_LOGS, f"is listed in {MANIFEST}'s collected but holds no log file; the phone-log checks cannot be judged")
        return logs or None

    @cached_property
    def dns_probe(self) -> DnsProbe:
        return DnsProbe.parse(self._json(DNS_PROBE), DNS_PROBE)

    @cached_property
    def tls_probe(self) -> TlsProbe:
        return TlsProbe.parse(self._json(TLS_PROBE), TLS_PROBE)

    @cached_property
    def _iis_state(self) -> Any:
        """iis/state.json (live recordings only), or None when the snapshot has none."""
        path = self._optional(IIS_STATE)
        return None if path is None else read_json(path, IIS_STATE)

    @cached_property
    def reboot_pending(self) -> bool | None:
        """Windows' reboot-pending flag from iis/state.json, or None when not recorded."""
        return None if self._iis_state is None else parse_state(self._iis_state, IIS_STATE)

    @cached_property
    def sslcert_text(self) -> str | None:
        """`netsh http show sslcert` from iis/state.json, or None when not recorded."""
        return None if self._iis_state is None else parse_sslcert_text(self._iis_state, IIS_STATE)

    @cached_property
    def certauth_access(self) -> AccessPolicy:
        return AccessPolicy.parse(self._json(IIS_ACCESS), IIS_ACCESS)

    @cached_property
    def clock(self) -> ClockReading:
        return ClockReading.parse(self._json(CLOCK), CLOCK)

    @cached_property
    def https_probe(self) -> HttpsProbe | None:
        """None when no HTTPS probe was recorded and the manifest does not claim one (snapshots made by hand may lack it)."""
        path = self._optional(HTTPS_PROBE)
        return None if path is None else HttpsProbe.parse(read_json(path, HTTPS_PROBE), HTTPS_PROBE)


def _log_files(folder: Path, label: str, pattern: str) -> tuple[LogFile, ...]:
    paths = sorted(p for p in folder.rglob(pattern) if p.is_file() and not p.name.startswith("."))
    return tuple(LogFile(f"{label}{p.relative_to(folder).as_posix()}", p) for p in paths)


def is_snapshot(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


class SnapshotWriter:
    """Writes the documented format; used by the scenario generator and, later, by live recording."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _target(self, relative: str) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def json(self, relative: str, doc: Any) -> None:
        self._target(relative).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    def text(self, relative: str, text: str) -> None:
        """Text with CRLF line ends, as Windows tools write it."""
        self._target(relative).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))

    def certificate(self, store: str, name: str, der: bytes) -> None:
        """DER, what Export-Certificate -Type CERT writes."""
        self._target(f"{store}{name}").write_bytes(der)

    def reg_export(self, name: str, keys: dict[str, dict[str, int | str]]) -> None:
        """UTF-16 LE with BOM and CRLF, what `reg export` writes; ints are DWORDs, strings REG_SZ."""
        self.reg_tree(name, {key: {n: {"kind": "DWord" if isinstance(v, int) else "String", "value": v} for n, v in values.items()}
                             for key, values in keys.items()})

    def reg_tree(self, name: str, tree: dict[str, dict[str, dict[str, Any]]]) -> None:
        """Keys -> value names -> {kind, value} as the collector reads them (RegistryValueKind names)."""
        lines = ["Windows Registry Editor Version 5.00", ""]
        for key, values in tree.items():
            lines.append(f"[{key}]")
            for value_name, typed in values.items():
                label = "@" if value_name == "" else '"' + _reg_escape(value_name) + '"'
                lines.append(f"{label}={format_reg_value(typed['kind'], typed['value'])}")
            lines.append("")
        payload = "\r\n".join(lines) + "\r\n"
        self._target(f"{REGISTRY}{name}").write_bytes(codecs.BOM_UTF16_LE + payload.encode("utf-16-le"))


def _reg_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _hex(kind: str, data: bytes) -> str:
    return f"hex{kind}:" + ",".join(f"{b:02x}" for b in data)


def format_reg_value(kind: str, value: Any) -> str:
    """One value as reg.exe exports it; `kind` is a .NET RegistryValueKind name."""
    if kind == "DWord":
        return f"dword:{int(value) & 0xFFFFFFFF:08x}"  # PowerShell hands DWORDs over as signed Int32
    if kind == "String":
        return '"' + _reg_escape(str(value)) + '"'
    if kind == "ExpandString":
        return _hex("(2)", (str(value) + "\0").encode("utf-16-le"))
    if kind == "MultiString":
        strings = [value] if isinstance(value, str) else list(value or [])
        return _hex("(7)", ("".join(s + "\0" for s in strings) + "\0").encode("utf-16-le"))
    if kind == "QWord":
        return _hex("(b)", (int(value) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little"))
    if kind == "Binary":
        return _hex("", bytes(value or []))
    raise ValueError(f"registry value kind {kind!r} is not one reg.exe exports")
