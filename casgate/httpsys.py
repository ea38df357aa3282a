"""Which IIS https binding answers the phones: HTTP.sys picks the server certificate before IIS sees a request, from
its SNI bindings (hostname:port, IIS sslFlags bit 1) when the client sends a server name, else from its IP bindings,
the exact IP:port before the wildcard 0.0.0.0:port. Sources: Kaushal Panday, "SSL Scalability with IIS 8" and "Server
Name Indication (SNI) with IIS 8" (Microsoft blogs, 2012: SslSniBindingInfo beside SslBindingInfo, the legacy IP:port
lookup when no SNI binding matches); HTTP_SERVICE_CONFIG_SSL_SNI_KEY (SNI bindings always sit on the wildcard
address); serverfault 909918 (SNI mappings first, then IP mappings). Whether an exact IP:port binding comes before a
matching SNI binding is not settled by them (win-acme issue 243: adding an IP binding gives the SNI sites on that
address the wrong certificate), so where the two name different certificates both claim the phones' connection: a
finding either way. A phone connecting by name sends SNI (Qt 4.8+ on OpenSSL); by address it sends none."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from casgate import pki
from casgate.certs import Certificate, Store, Unreadable, normalise_thumbprint
from casgate.errors import EvidenceError
from casgate.evidence import Binding

SNI, CENTRAL_STORE = 1, 2  # IIS binding sslFlags bits (Microsoft.Web.Administration.SslFlags)
_WILDCARD = {"*", "", "0.0.0.0", "::", "[::]"}
_MAX_UNKNOWN = 8  # bindings without a recorded sslFlags whose SNI setting is tried both ways


@dataclass(frozen=True)
class PhonesBinding:
    """The binding whose certificate HTTP.sys presents to the phones (None: no binding covers their connection), how it
    was chosen, the bindings that share its IP:port entry with another certificate, and why each other one is not it."""

    serving: Binding | None
    rule: str
    rivals: tuple[Binding, ...]
    others: tuple[tuple[Binding, str], ...]


def _same_certificate(a: Binding, b: Binding) -> bool:
    return (normalise_thumbprint(a.certificate_hash), store_name(a)) == (normalise_thumbprint(b.certificate_hash), store_name(b))


def store_name(binding: Binding) -> str:
    """The LocalMachine store a binding takes its certificate from; IIS and HTTP.sys default to My."""
    return {"my": "My", "webhosting": "WebHosting", "": "My"}.get(binding.certificate_store.lower(), binding.certificate_store)


def _choose(https: list[Binding], sni: dict[int, bool], server_name: str | None, address: str, port: int) -> PhonesBinding:
    """HTTP.sys's choice for one reading of every binding's SNI flag."""
    others: list[tuple[Binding, str]] = []
    on_port = []
    for b in https:
        if b.port != port:
            others.append((b, f"port {b.port}, not {port}"))
        elif b.ip not in _WILDCARD and pki.address(b.ip) != pki.address(address):
            others.append((b, f"bound to address {b.ip}, not the phones' {address}"))
        else:
            on_port.append(b)
    for rule, chosen in (
        (f"SNI binding for {server_name}:{port}", [b for b in on_port if sni[id(b)] and server_name and b.host_header.lower() == server_name]),
        (f"IP binding {address}:{port}", [b for b in on_port if not sni[id(b)] and b.ip not in _WILDCARD]),
        (f"wildcard IP binding 0.0.0.0:{port}", [b for b in on_port if not sni[id(b)] and b.ip in _WILDCARD]),
    ):
        if chosen:
            serving = chosen[0]
            rivals = tuple(b for b in chosen[1:] if not _same_certificate(b, serving))
            if rule.startswith("SNI"):  # exact IP:port before SNI, or after it? Sources differ (see the module's
                # docstring): an IP binding on the phones' address with another certificate is a rival either way
                rivals += tuple(b for b in on_port if not sni[id(b)] and b.ip not in _WILDCARD and not _same_certificate(b, serving))
            for b in on_port:
                if b not in chosen:
                    others.append((b, _why_not(b, sni[id(b)], server_name, rule)))
            return PhonesBinding(serving, rule, (serving, *rivals) if rivals else (), tuple(others))
    others += [(b, _why_not(b, sni[id(b)], server_name, "")) for b in on_port]
    return PhonesBinding(None, "", (), tuple(others))


def _why_not(binding: Binding, sni: bool, server_name: str | None, rule: str) -> str:
    if sni and not server_name:
        return "SNI binding; the phones connect by address and send no server name"
    if sni and binding.host_header.lower() != server_name:
        return f"SNI binding for another host name ({binding.host_header})"
    return f"the {rule} comes first in HTTP.sys's lookup" if rule else "not reached"


def phones_binding(bindings: tuple[Binding, ...], fqdn: str, address: str, label: str, port: int = 443) -> PhonesBinding:
    """The https binding that serves the phones' connection to `fqdn` at `address`:`port`. A binding whose sslFlags was
    not recorded (snapshots before sslFlags) is read both as SNI and not; where the two readings choose differently,
    EvidenceError: which certificate the phones get is then unknown."""
    https = [b for b in bindings if b.protocol == "https"]
    server_name = None if pki.address(fqdn) is not None else fqdn.lower()
    wildcard_hosts = [b for b in https if "*" in b.host_header]
    if wildcard_hosts:
        raise EvidenceError(label, f"binding {wildcard_hosts[0].describe()} has a wildcard host name; casgate does not judge "
                                   "which binding HTTP.sys picks then")
    central = [b for b in https if (b.ssl_flags or 0) & CENTRAL_STORE and b.port == port]
    if central:
        raise EvidenceError(label, f"binding {central[0].describe()} takes certificates from IIS's Central Certificate Store "
                                   "(sslFlags bit 2), files casgate does not collect; which certificate the phones get is not judged")
    unknown = [b for b in https if b.ssl_flags is None and b.host_header]  # without a host name a binding cannot be SNI
    if len(unknown) > _MAX_UNKNOWN:
        raise EvidenceError(label, f"{len(unknown)} https bindings with a host name have no sslFlags; re-collect iis/bindings.json")
    readings = []
    for guess in itertools.product((False, True), repeat=len(unknown)):
        sni = {id(b): bool((b.ssl_flags or 0) & SNI) for b in https} | {id(b): g for b, g in zip(unknown, guess)}
        readings.append(_choose(https, sni, server_name, address, port))
    outcomes = {(id(r.serving), tuple(map(id, r.rivals))) for r in readings}
    if len(outcomes) > 1:
        raise EvidenceError(label, "sslFlags is not recorded for " + ", ".join(b.describe() for b in unknown)
                                   + "; whether it requires SNI decides which certificate the phones get: re-collect iis/bindings.json")
    return readings[0]


@dataclass(frozen=True)
class ServerStores:
    """The LocalMachine stores an IIS binding can take its certificate from, as exported: My, and WebHosting (None when
    the snapshot has no export of it: older collectors did not make one)."""

    my: Store
    webhosting: Store | None
    webhosting_problem: EvidenceError | None = None  # why certs/webhosting/ could not be read; raised only where needed

    def of(self, binding: Binding) -> Store:
        """The exported store a binding's certificate lives in; EvidenceError when that store was not exported or read."""
        name = store_name(binding)
        if name == "My":
            return self.my
        if name == "WebHosting" and self.webhosting_problem is not None:
            raise self.webhosting_problem
        if name == "WebHosting" and self.webhosting is not None:
            return self.webhosting
        folder = "certs/webhosting/" if name == "WebHosting" else f"LocalMachine\\{name}"
        raise EvidenceError(folder, f"binding {binding.describe()} takes its certificate from LocalMachine\\{name}, which this "
                                    "snapshot did not export, so the certificate it serves cannot be looked up")

    def bound(self, binding: Binding) -> tuple[Store, Certificate | Unreadable | None]:
        """The store a binding names and the certificate its hash finds there, by thumbprint: a file cryptography cannot
        load is still there (its SHA-1 is the hash IIS binds) unless even its DER is unreadable; None when not found."""
        store, thumb = self.of(binding), normalise_thumbprint(binding.certificate_hash)
        held = (*store, *(u for u in store.unreadable if u.self_signed is not None))
        return store, next((c for c in held if thumb and c.thumbprint == thumb), None)
