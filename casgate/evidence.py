"""Typed evidence read from a snapshot's JSON artifacts; every parse error names the file and the field."""

from __future__ import annotations

import codecs
import dataclasses
import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from casgate.errors import EvidenceError

SOURCES = ("live", "crafted")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate; the decoded text itself cannot hold one (both decoders refuse them)."""


def read_json(path: Path, label: str) -> Any:
    """JSON as PowerShell writes it (Windows PowerShell 5.1's Out-File: UTF-16 LE with BOM; PowerShell 7 and
    Set-Content -Encoding UTF8: UTF-8, maybe with BOM) or as Python writes it."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig")
    except FileNotFoundError:
        raise EvidenceError(label, "is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(label, f"cannot be read ({exc})") from None
    try:
        doc = json.loads(text)
        if _SURROGATE_ESCAPE.search(text):  # only a \ud800-style escape can put a lone surrogate in the document
            json.dumps(doc, ensure_ascii=False).encode("utf-8")  # and a lone surrogate would break every report
    except json.JSONDecodeError as exc:
        raise EvidenceError(label, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise EvidenceError(label, "is nested too deeply (lists or objects inside each other); re-record it") from None
    except UnicodeEncodeError:
        raise EvidenceError(label, "holds a string that is not Unicode text (a lone surrogate such as \\ud800)") from None
    except ValueError:  # json.loads refuses integers of more than 4300 digits
        raise EvidenceError(label, "holds a number too long to be evidence") from None
    return doc


def _show(value: Any) -> str:
    return json.dumps(value, default=repr)[:80]


_KINDS = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "an object"}


def _typed(value: Any, path: str, kind: type | tuple[type, ...], label: str) -> Any:
    """`value` if it is of `kind` (a JSON true is no integer); else an EvidenceError naming the field's path."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(_KINDS.get(k, k.__name__) for k in kinds)
        raise EvidenceError(label, f"field {path!r} should be {names}, got {_show(value)}")
    return value


def _object(obj: Any, label: str, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise EvidenceError(label, f"{where or 'the document'} should be a JSON object, got {_show(obj)}")
    return obj


def required(obj: Any, key: str, kind: type | tuple[type, ...], label: str, where: str = "") -> Any:
    """obj[key] checked against `kind`; a missing or mistyped field is an EvidenceError naming its path."""
    path = f"{where}.{key}" if where else key
    if key not in _object(obj, label, where):
        raise EvidenceError(label, f"field {path!r} is missing")
    return _typed(obj[key], path, kind, label)


def optional(obj: Any, key: str, kind: type | tuple[type, ...], label: str, where: str = "") -> Any:
    """obj[key] checked against `kind`, or None when it is absent or null."""
    value = _object(obj, label, where).get(key)
    return None if value is None else _typed(value, f"{where}.{key}" if where else key, kind, label)


def strings(obj: Any, key: str, label: str, where: str = "") -> tuple[str, ...]:
    """A required list of strings, each item checked."""
    path = f"{where}.{key}" if where else key
    return tuple(_typed(item, f"{path}[{i}]", str, label) for i, item in enumerate(required(obj, key, list, label, where)))


# Times outside this span are a broken clock (0001-01-01 from an unset field), and window arithmetic on them overflows.
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


def in_era(moment: datetime) -> bool:
    """Whether an aware time lies in EARLIEST..LATEST, where casgate can trust it and do window arithmetic."""
    return EARLIEST <= moment < LATEST


def parse_utc(value: str, label: str, what: str) -> datetime:
    """An ISO 8601 time with a zone, in UTC, and between EARLIEST and LATEST."""
    shown = f"{what} {value[:40]!r}"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EvidenceError(label, f"{shown} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise EvidenceError(label, f"{shown} has no time zone; write it in UTC with a trailing Z")
    try:
        utc: datetime | None = moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first representable UTC time
        utc = None
    if utc is None or not in_era(utc):
        raise EvidenceError(label, f"{shown} is outside {EARLIEST.year}..{LATEST.year - 1}; was the clock that wrote it set?")
    return utc


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
            raise EvidenceError(label, f"field 'source' should be one of {SOURCES}, got {source[:40]!r}")
        return cls(
            host=required(doc, "host", str, label),
            fqdn=host_name(required(doc, "fqdn", str, label), label, "fqdn"),
            address=ip_address(required(doc, "address", str, label), label, "address"),
            os_version=required(doc, "os_version", str, label),
            collected_at=parse_utc(required(doc, "collected_at", str, label), label, "collected_at"),
            source=source,
            casgate_version=required(doc, "casgate_version", str, label),
            collected=strings(doc, "collected", label),
            skipped=_reasons(doc, "skipped", label),
            failed=_reasons(doc, "failed", label),
        )

    def claims(self, artifact: str) -> bool:
        """Whether `collected` lists the artifact (as "probes/https.json", or by hand "probes/https", "phone-logs")."""
        return _artifact_key(artifact) in {_artifact_key(entry) for entry in self.collected}


def _artifact_key(path: str) -> str:
    return path.strip().rstrip("/").removesuffix(".json").lower()


_LDH_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)


def host_name(value: str, label: str, field: str) -> str:
    """A DNS host name (RFC 1123 LDH labels of 1-63 characters, 253 in all), lower-cased and without a trailing dot;
    a Unicode name is accepted when IDNA can encode it (it is kept as written: matching compares A- and U-labels).
    A stray space, an empty label or any other character is refused: it names no host the phones can reach."""
    shown = f"field {field!r} {value[:80]!r}"
    name = value[:-1] if value.endswith(".") else value
    try:
        ascii_name = name if name.isascii() else name.encode("idna").decode("ascii")
        read_back = ascii_name.encode("ascii").decode("idna") if "xn--" in ascii_name.lower() else ascii_name  # A-labels decode
    except UnicodeError as exc:
        raise EvidenceError(label, f"{shown} is not a host name IDNA can encode ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    if not name.isascii() and read_back != name.lower():  # nameprep drops U+200B, folds full-width letters, ß to ss
        raise EvidenceError(label, f"{shown} is not a host name as written: IDNA reads it as {read_back[:80]!r}; write that")
    bad = next((part for part in ascii_name.lower().split(".") if not _LDH_LABEL.fullmatch(part)), None)
    if bad == "":
        raise EvidenceError(label, f"{shown} is not a host name: it has an empty label")
    if bad is not None:
        raise EvidenceError(label, f"{shown} is not a host name: label {bad[:70]!r} is not 1-63 letters, digits and inner hyphens")
    if len(ascii_name) > 253:
        raise EvidenceError(label, f"{shown} is not a host name: it is longer than 253 characters")
    return name.lower()


def ip_address(value: str, label: str, field: str) -> str:
    """An IPv4 or IPv6 address as Python's ipaddress writes it; anything else (spaces, a name, a zone) is refused."""
    if value.isascii() and "%" not in value:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    raise EvidenceError(label, f"field {field!r} {value[:80]!r} is not an IPv4 or IPv6 address (without zone or spaces)")


def _reasons(doc: dict[str, Any], key: str, label: str) -> dict[str, str]:
    """Optional {artifact: reason} maps: evidence deliberately skipped, or that collection failed to get."""
    value = optional(doc, key, dict, label) or {}
    return {artifact: _typed(reason, f"{key}.{artifact}", str, label) for artifact, reason in value.items()}


# IIS binding sslFlags (Microsoft.Web.Administration.SslFlags): Sni and CentralCertStore since IIS 8 (Server 2012), the
# Disable* bits since Server 2022 (dsccommunity/WebAdministrationDsc issue 627: "SslFlags = 97 # SNI with DisableTLS13
# and DisableLegacyTLS"). Not to be confused with system.webServer/security/access sslFlags (SSL_FLAGS below).
BINDING_SSL_FLAGS = {"Sni": 1, "CentralCertStore": 2, "DisableHTTP2": 4, "DisableOCSPStp": 8, "DisableQUIC": 16,
                     "DisableTLS13": 32, "DisableLegacyTLS": 64}


@dataclass(frozen=True)
class Binding:
    """One IIS site binding in Get-WebBinding's shape; `information` is "IP:port:host header". `ssl_flags` is None when
    the snapshot did not record it (collectors before it did): whether the binding requires SNI is then unknown."""

    protocol: str
    ip: str
    port: int
    host_header: str
    certificate_hash: str
    certificate_store: str
    ssl_flags: int | None = None

    def describe(self) -> str:
        if self.protocol != "https":
            return f"{self.protocol} {self.ip}:{self.port}:{self.host_header}"
        flags = "(not recorded)" if self.ssl_flags is None else (
            "+".join(n for n, bit in BINDING_SSL_FLAGS.items() if bit & self.ssl_flags) or "0")
        return (f"https {self.ip}:{self.port}:{self.host_header} certificateHash={self.certificate_hash or '(none)'} "
                f"store={self.certificate_store or '(none)'} sslFlags={flags}")


_BINDING_INFORMATION = re.compile(r"(?P<ip>.*):(?P<port>[0-9]{1,5}):(?P<host>[^:]*)", re.DOTALL)


def _flags_number(text: str) -> int | None:
    """IIS's sslFlags written as its number, in ASCII digits only: str.isdigit() and int() also take '٤٠' or '４０',
    which IIS never writes; None when the text is not such a number."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else None


def _binding_ssl_flags(item: Any, label: str, where: str) -> int | None:
    """sslFlags as Get-WebBinding returns it (an integer; a hand-made file may hold its digits as a string)."""
    value = optional(item, "sslFlags", (int, str), label, where)
    if isinstance(value, str):
        number = _flags_number(value)
        if number is None:
            raise EvidenceError(label, f"{where}.sslFlags {value[:40]!r} is not a number")
        value = number
    if value is not None and (value < 0 or value & ~sum(BINDING_SSL_FLAGS.values())):
        raise EvidenceError(label, f"{where}.sslFlags {value} has bits IIS does not define for a binding")
    return value


def parse_bindings(doc: Any, label: str) -> tuple[Binding, ...]:
    """Accept ConvertTo-Json of one binding (an object) or of several (a list)."""
    items = doc if isinstance(doc, list) else [doc]
    bindings = []
    for index, item in enumerate(items):
        where = f"[{index}]"
        info = required(item, "bindingInformation", str, label, where)
        match = _BINDING_INFORMATION.fullmatch(info)
        if match is None or not 0 < int(match["port"]) < 65536:
            raise EvidenceError(label, f"{where}.bindingInformation {info[:80]!r} is not 'IP:port:host'")
        bindings.append(
            Binding(
                protocol=required(item, "protocol", str, label, where).lower(),
                ip=match["ip"],
                port=int(match["port"]),
                host_header=match["host"],
                certificate_hash=optional(item, "certificateHash", str, label, where) or "",
                certificate_store=optional(item, "certificateStoreName", str, label, where) or "",
                ssl_flags=_binding_ssl_flags(item, label, where),
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
            answers.append(
                DnsAnswer(
                    server=required(item, "server", str, label, where),
                    rcode=optional(item, "rcode", str, label, where),
                    addresses=strings(item, "addresses", label, where),
                    ttl=optional(item, "ttl", int, label, where),
                    error=optional(item, "error", str, label, where),
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
    reached: bool = True  # False: no TCP connection at all (an outage, not a finding)

    @classmethod
    def parse(cls, doc: Any, label: str) -> HttpsProbe:
        status = optional(doc, "status", int, label)
        if status is not None and not 100 <= status <= 999:
            raise EvidenceError(label, f"field 'status' should be an HTTP status code, got {status}")
        error = optional(doc, "error", str, label)
        if status is None and not error:
            raise EvidenceError(label, "has neither a status nor an error; re-record the HTTPS probe")
        reached = optional(doc, "reached", bool, label)
        return cls(required(doc, "url", str, label), status, optional(doc, "reason", str, label), error, reached is not False)


@dataclass(frozen=True)
class Handshake:
    """One TLS handshake attempt from the runner: accepted or the alert/error that ended it."""

    profile: str
    accepted: bool
    version: str | None
    cipher: str | None
    error: str | None
    reached: bool = True
    certificate_thumbprint: str | None = None  # SHA-1 of the certificate the server presented

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
            reached = optional(item, "reached", bool, label, where)
            handshakes[profile] = Handshake(
                profile=profile,
                accepted=required(item, "accepted", bool, label, where),
                version=optional(item, "version", str, label, where),
                cipher=optional(item, "cipher", str, label, where),
                error=optional(item, "error", str, label, where),
                reached=reached is not False,
                certificate_thumbprint=optional(item, "certificate_thumbprint", str, label, where),
            )
        port = required(doc, "port", int, label)
        if not 0 < port < 65536:
            raise EvidenceError(label, f"field 'port' should be a TCP port, got {port}")
        target = f"{required(doc, 'address', str, label)}:{port} (SNI {optional(doc, 'sni', str, label) or '-'})"
        return cls(target=target, handshakes=handshakes)


def parse_state(doc: Any, label: str) -> bool | None:
    """iis/state.json's reboot-pending flag (live recordings), or None when the collector could not tell."""
    return optional(doc, "reboot_pending", bool, label)


# IIS's sslFlags (system.webServer/security/access), names and values as IIS's schema gives them.
SSL_FLAGS = {"None": 0, "Ssl": 8, "SslNegotiateCert": 32, "SslRequireCert": 64, "SslMapCert": 128, "Ssl128": 256}
_SSL_FLAG_NAMES = {name.lower(): name for name in SSL_FLAGS}


def parse_ssl_flags(value: str, label: str) -> frozenset[str]:
    """sslFlags as IIS writes it ("Ssl, SslNegotiateCert"), as Get-WebConfigurationProperty returns it
    ("Ssl,SslNegotiateCert") or as its number (40); an unknown name or bit is an error, never ignored."""
    text = value.strip()
    number = _flags_number(text)
    if number is not None:
        unknown = number & ~sum(SSL_FLAGS.values())
        if unknown:
            raise EvidenceError(label, f"sslFlags {text} has bits IIS does not define ({unknown:#x})")
        return frozenset(name for name, bit in SSL_FLAGS.items() if bit & number)
    words = [w.strip() for w in text.split(",")]
    unknown_words = [w for w in words if w.lower() not in _SSL_FLAG_NAMES]
    if not text or unknown_words:
        raise EvidenceError(label, f"sslFlags {value[:80]!r} is not a list of IIS's flags ({', '.join(SSL_FLAGS)})")
    names = frozenset(_SSL_FLAG_NAMES[w.lower()] for w in words)
    if "None" in names and len(names) > 1:
        raise EvidenceError(label, f"sslFlags {value[:80]!r} says None beside other flags")
    return names - {"None"}


@dataclass(frozen=True)
class AccessPolicy:
    """IIS's effective sslFlags where the phones post (the shoreauth application), from its configuration system."""

    location: str
    flags: frozenset[str]
    raw: str

    @classmethod
    def parse(cls, doc: Any, label: str) -> AccessPolicy:
        raw = required(doc, "sslFlags", (str, int), label)
        return cls(required(doc, "location", str, label), parse_ssl_flags(str(raw), label), str(raw))

    def describe(self) -> str:
        shown = ", ".join(n for n in SSL_FLAGS if n in self.flags) or "None"
        return f"sslFlags at {self.location}: {shown} (as read: {self.raw[:80]!r})"


@dataclass(frozen=True)
class ClockReading:
    """The server's clock read in the first round trip, between two readings of the runner's clock."""

    server: datetime
    runner_before: datetime
    runner_after: datetime

    @classmethod
    def parse(cls, doc: Any, label: str) -> ClockReading:
        reading = cls(*(parse_utc(required(doc, key, str, label), label, key)
                        for key in ("server_utc", "runner_before_utc", "runner_after_utc")))
        if reading.runner_after < reading.runner_before:
            raise EvidenceError(label, "runner_after_utc is before runner_before_utc: the runner's readings are not in order")
        return reading

    @property
    def skew(self) -> float:
        """Server minus runner, seconds, against the midpoint of the round trip."""
        midpoint = self.runner_before + (self.runner_after - self.runner_before) / 2
        return (self.server - midpoint).total_seconds()

    @property
    def uncertainty(self) -> float:
        """Half the round trip: the server read its clock somewhere inside it."""
        return (self.runner_after - self.runner_before).total_seconds() / 2


def parse_sslcert(text: str) -> dict[str, dict[str, str]]:
    """`netsh http show sslcert` as {binding ("IP:port 0.0.0.0:443"): {field: value}}; lines that are not
    "name : value" (headers, rules, blank) separate nothing and are passed over."""
    bindings: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        name, colon, value = line.partition(" : ")
        name, value = " ".join(name.split()), value.strip()
        if not colon:
            continue
        if name.lower() in ("ip:port", "hostname:port", "central certificate store", "ccs port"):
            current = bindings.setdefault(f"{name} {value}", {})
        elif current is not None:
            current.setdefault(name, value)  # "Extended Properties" blocks repeat PropertyId; the first is the binding's
    return bindings


def parse_sslcert_text(doc: Any, label: str) -> str | None:
    """iis/state.json's `netsh http show sslcert` text (live recordings), or None when not recorded."""
    return optional(doc, "netsh_http_show_sslcert", str, label)
