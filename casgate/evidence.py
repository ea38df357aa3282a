"""Typed evidence read from a snapshot's JSON artifacts; every parse error names the file and the field."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from casgate.errors import EvidenceError

SOURCES = ("live", "crafted")


def read_json(path: Path, label: str) -> Any:
    """JSON as PowerShell's Out-File writes it (UTF-8, maybe with BOM) or as Python writes it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EvidenceError(label, "is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(label, f"cannot be read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvidenceError(label, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def required(obj: Any, key: str, kind: type | tuple[type, ...], label: str, where: str = "") -> Any:
    """obj[key] checked against `kind`; a missing or mistyped field is an EvidenceError naming its path."""
    path = f"{where}.{key}" if where else key
    if not isinstance(obj, dict):
        raise EvidenceError(label, f"{where or 'document'} should be an object")
    if key not in obj:
        raise EvidenceError(label, f"field {path!r} is missing")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        names = "/".join(k.__name__ for k in _as_tuple(kind))
        raise EvidenceError(label, f"field {path!r} should be {names}, got {value!r}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def parse_utc(value: str, label: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EvidenceError(label, f"{what} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise EvidenceError(label, f"{what} {value!r} has no time zone; write it in UTC with a trailing Z")
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Manifest:
    """Who the snapshot is of and when it was taken; `collected_at` anchors the log window."""

    host: str
    fqdn: str
    address: str
    os_version: str
    collected_at: datetime
    source: str
    casgate_version: str
    collected: tuple[str, ...]
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    failed: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def parse(cls, doc: Any, label: str) -> Manifest:
        source = required(doc, "source", str, label)
        if source not in SOURCES:
            raise EvidenceError(label, f"field 'source' should be one of {SOURCES}, got {source!r}")
        collected = required(doc, "collected", list, label)
        return cls(
            host=required(doc, "host", str, label),
            fqdn=required(doc, "fqdn", str, label).rstrip(".").lower(),
            address=required(doc, "address", str, label),
            os_version=required(doc, "os_version", str, label),
            collected_at=parse_utc(required(doc, "collected_at", str, label), label, "collected_at"),
            source=source,
            casgate_version=required(doc, "casgate_version", str, label),
            collected=tuple(str(item) for item in collected),
            skipped=_reasons(doc, "skipped", label),
            failed=_reasons(doc, "failed", label),
        )


def _reasons(doc: dict[str, Any], key: str, label: str) -> dict[str, str]:
    """Optional {artifact: reason} maps: evidence deliberately skipped, or that collection failed to get."""
    value = doc.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise EvidenceError(label, f"field {key!r} should map artifact paths to reasons")
    return dict(value)


@dataclass(frozen=True)
class Binding:
    """One IIS site binding in Get-WebBinding's shape; `information` is "IP:port:host header"."""

    protocol: str
    ip: str
    port: int
    host_header: str
    certificate_hash: str
    certificate_store: str

    def describe(self) -> str:
        cert = f" certificateHash={self.certificate_hash or '(none)'} store={self.certificate_store or '(none)'}"
        return f"{self.protocol} {self.ip}:{self.port}:{self.host_header}" + (cert if self.protocol == "https" else "")


def parse_bindings(doc: Any, label: str) -> tuple[Binding, ...]:
    """Accept ConvertTo-Json of one binding (an object) or of several (a list)."""
    items = doc if isinstance(doc, list) else [doc]
    bindings = []
    for index, item in enumerate(items):
        where = f"[{index}]"
        info = required(item, "bindingInformation", str, label, where)
        parts = info.rsplit(":", 2) if info.count(":") >= 2 else None
        if parts is None or not parts[1].isdigit():
            raise EvidenceError(label, f"{where}.bindingInformation {info!r} is not 'IP:port:host'")
        bindings.append(
            Binding(
                protocol=required(item, "protocol", str, label, where).lower(),
                ip=parts[0],
                port=int(parts[1]),
                host_header=parts[2],
                certificate_hash=(item.get("certificateHash") or "") if isinstance(item, dict) else "",
                certificate_store=(item.get("certificateStoreName") or "") if isinstance(item, dict) else "",
            )
        )
    return tuple(bindings)


@dataclass(frozen=True)
class DnsAnswer:
    """What one DNS server answered for the HQ FQDN's A record; `error` is set when it did not answer."""

    server: str
    rcode: str | None
    addresses: tuple[str, ...]
    ttl: int | None
    error: str | None


@dataclass(frozen=True)
class DnsProbe:
    fqdn: str
    answers: tuple[DnsAnswer, ...]

    @classmethod
    def parse(cls, doc: Any, label: str) -> DnsProbe:
        servers = required(doc, "servers", list, label)
        if not servers:
            raise EvidenceError(label, "lists no DNS server; the phones' DNS servers must be probed")
        answers = []
        for index, item in enumerate(servers):
            where = f"servers[{index}]"
            error = item.get("error") if isinstance(item, dict) else None
            answers.append(
                DnsAnswer(
                    server=required(item, "server", str, label, where),
                    rcode=item.get("rcode"),
                    addresses=tuple(required(item, "addresses", list, label, where)),
                    ttl=item.get("ttl"),
                    error=error,
                )
            )
        return cls(fqdn=required(doc, "fqdn", str, label).rstrip(".").lower(), answers=tuple(answers))


@dataclass(frozen=True)
class HttpsProbe:
    """What `POST /shoreauth/certauth` without a client certificate got: an HTTP status, or the error."""

    url: str
    status: int | None
    reason: str | None
    error: str | None

    @classmethod
    def parse(cls, doc: Any, label: str) -> HttpsProbe:
        status = doc.get("status") if isinstance(doc, dict) else None
        if status is not None and not isinstance(status, int):
            raise EvidenceError(label, f"field 'status' should be an HTTP status code, got {status!r}")
        error = doc.get("error")
        if status is None and not error:
            raise EvidenceError(label, "has neither a status nor an error; re-record the HTTPS probe")
        return cls(required(doc, "url", str, label), status, doc.get("reason"), error)


@dataclass(frozen=True)
class Handshake:
    """One TLS handshake attempt from the runner: accepted or the alert/error that ended it."""

    profile: str
    accepted: bool
    version: str | None
    cipher: str | None
    error: str | None
    reached: bool = True

    def describe(self) -> str:
        if self.accepted:
            return f"{self.profile}: accepted, negotiated {self.version} {self.cipher}"
        return f"{self.profile}: refused ({self.error or 'no reason recorded'})"


@dataclass(frozen=True)
class TlsProbe:
    target: str
    handshakes: dict[str, Handshake]

    def handshake(self, profile: str, label: str) -> Handshake:
        """A handshake that reached the server; an unreachable server cannot be judged, it is an error."""
        try:
            found = self.handshakes[profile]
        except KeyError:
            raise EvidenceError(label, f"has no handshake for profile {profile!r}; re-record the TLS probe") from None
        if not found.reached:
            raise EvidenceError(label, f"the runner could not reach {self.target} ({found.error}); TLS cannot be judged")
        return found

    @classmethod
    def parse(cls, doc: Any, label: str) -> TlsProbe:
        raw = required(doc, "handshakes", dict, label)
        handshakes = {}
        for profile, item in raw.items():
            where = f"handshakes.{profile}"
            handshakes[profile] = Handshake(
                profile=profile,
                accepted=required(item, "accepted", bool, label, where),
                version=item.get("version"),
                cipher=item.get("cipher"),
                error=item.get("error"),
                reached=item.get("reached", True) is not False,
            )
        target = f"{required(doc, 'address', str, label)}:{required(doc, 'port', int, label)} (SNI {doc.get('sni') or '-'})"
        return cls(target=target, handshakes=handshakes)
