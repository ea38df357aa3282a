"""KB reason 2: the certificate IIS binds where the phones connect (HQ FQDN and address, 443) must be the keystore's server.crt."""

from __future__ import annotations

from casgate.certs import Certificate, normalise_thumbprint
from casgate.errors import EvidenceError
from casgate.evidence import Binding, TlsProbe
from casgate.httpsys import ServerStores, phones_binding, store_name
from casgate.snapshot import BINDINGS
from casgate.verdict import Facts, Verdict

REMEDIATION = (
    "KB reason 2: bind the keystore's server certificate to the https binding the phones reach ({binding}) (IIS Manager > "
    "Default Web Site > Bindings > Edit > choose the certificate with thumbprint {thumb}), or from an administrative "
    "PowerShell:\n"
    "  Import-Module WebAdministration\n"
    "  (Get-WebBinding -Name 'Default Web Site' -Protocol https -Port 443 -IPAddress '{ip}' -HostHeader '{host}')"
    ".AddSslCertificate('{thumb}', '{store}')\n"
    "Then test the phones' CAS features."
)
ADD_BINDING = (
    "KB reason 2: no https binding answers the phones' connection to {fqdn} at {address}:443. Add one to Default Web Site "
    "with the keystore's server certificate (thumbprint {thumb}), from an administrative PowerShell:\n"
    "  Import-Module WebAdministration\n"
    "  New-WebBinding -Name 'Default Web Site' -Protocol https -Port 443 -IPAddress '*'\n"
    "  (Get-WebBinding -Name 'Default Web Site' -Protocol https -Port 443 -IPAddress '*' -HostHeader '').AddSslCertificate('{thumb}', 'My')\n"
    "Then test the phones' CAS features."
)
NOT_IN_STORE = (
    "KB reason 2: the certificate is not in LocalMachine\\{store}, so IIS cannot use it: first import the keystore's server "
    "certificate with its key into LocalMachine\\{store} (the Mitel Connect installer's keystore holds it), then bind it.\n"
)
RIVALS = (
    "\nThese bindings claim the phones' connection ({rule}) with different certificates: HTTP.sys keeps one certificate "
    "per IP:port, whichever IIS wrote last, and an IP binding on the phones' address competes with their SNI binding. Give "
    "them all the keystore's certificate, or move the other site to its own address or to an SNI binding of its own name."
)


def _fix(binding: Binding | None, server_crt: Certificate, fqdn: str, address: str) -> str:
    if binding is None:
        return ADD_BINDING.replace("{fqdn}", fqdn).replace("{address}", address).replace("{thumb}", server_crt.thumbprint)
    return (REMEDIATION.replace("{binding}", binding.describe()).replace("{ip}", binding.ip).replace("{host}", binding.host_header)
            .replace("{store}", store_name(binding)).replace("{thumb}", server_crt.thumbprint))


def judge_binding(bindings: tuple[Binding, ...], server_crt: Certificate, stores: ServerStores, fqdn: str, address: str) -> Verdict:
    """2: the binding HTTP.sys serves the phones' connection (HQ FQDN at the HQ address, 443) from must hold server.crt,
    and the store it names must hold that certificate. Other sites' SNI bindings and bindings on other addresses are
    shown, not judged. A certificate not among the store's files is missing only when every file was read."""
    phones = phones_binding(bindings, fqdn, address, BINDINGS)
    keystore_line = f"keystore: {server_crt.describe()}"
    facts: Facts = {"server.crt": server_crt.thumbprint,
                    "https/443 binding hash": normalise_thumbprint(phones.serving.certificate_hash) or "(none)" if phones.serving else "(no binding)",
                    "phones' binding": phones.rule or "(none)"}
    evidence = [keystore_line, f"the phones connect to {fqdn} at {address}:443"]
    evidence += [f"left alone: {b.describe()} ({why})" for b, why in phones.others]
    serving = phones.serving
    if serving is None:
        evidence += [f"binding: {b.describe()}" for b in bindings if b.protocol != "https"]
        return Verdict.failed(f"no https binding of Default Web Site answers the phones' connection to {fqdn} at {address}:443; "
                              "the phones cannot reach certauth", tuple(evidence), _fix(None, server_crt, fqdn, address), facts)
    store, found = stores.bound(serving)
    subject = found.subject if isinstance(found, Certificate) else f"({found.describe()})" if found else None
    bound = normalise_thumbprint(serving.certificate_hash)
    where = f"LocalMachine\\{store_name(serving)}"
    evidence.append(f"the phones' binding ({phones.rule}): {serving.describe()} -> {subject or 'not in ' + where}")
    evidence += [f"claims the same connection, another certificate: {b.describe()}" for b in phones.rivals if b is not serving]
    facts["server.crt in " + store_name(serving)] = "yes" if server_crt.thumbprint in store.thumbprints() else (
        "not among the files read" if store.not_read() else "no")
    if phones.rivals:
        return Verdict.failed(f"{len(phones.rivals)} https bindings claim the phones' connection ({phones.rule}) with different "
                              "certificates; which one the phones get is not fixed by the configuration", tuple(evidence),
                              _fix(serving, server_crt, fqdn, address) + RIVALS.replace("{rule}", phones.rule), facts)
    if bound == server_crt.thumbprint and subject is not None:
        return Verdict.passed(f"the phones' https binding ({phones.rule}) is bound to server.crt ({server_crt.thumbprint}) "
                              f"in {where}", tuple(evidence), facts)
    if server_crt.thumbprint not in store.thumbprints() and store.not_read():
        raise EvidenceError(store.label, f"server.crt ({server_crt.thumbprint}) is not among the {where} "
                                         f"certificates read, but {len(store.not_read())} file(s) could not be read, so whether IIS can use it "
                                         "is not known: " + "; ".join(u.describe() for u in store.not_read()))
    missing = server_crt.thumbprint not in store.thumbprints()
    names = (f"names {bound or 'no certificate'}, not the keystore's server.crt" if bound != server_crt.thumbprint
             else f"names server.crt, which LocalMachine\\{store_name(serving)} does not hold")
    return Verdict.failed(
        f"the phones' https binding ({phones.rule}) {names}; phones log 'SSL handshake error' or 'Certificate Authority Invalid'",
        tuple(evidence),
        (NOT_IN_STORE.replace("{store}", store_name(serving)) if missing else "") + _fix(serving, server_crt, fqdn, address),
        facts,
    )


WIRE_REMEDIATION = (
    "KB reason 2, seen from the phones' side: what answers on 443 presents another certificate than the keystore's "
    "server.crt ({thumb}). Either HTTP.sys still holds an old certificate for the address (its own SSL binding, which "
    "IIS Manager does not always update), or something else answers on that address (a load balancer, another server). "
    "Compare HTTP.sys's binding with IIS's, then bind server.crt again, which rewrites HTTP.sys's binding:\n"
    "  netsh http show sslcert ipport=0.0.0.0:443\n"
    "  Get-WebBinding -Name 'Default Web Site' -Protocol https\n"
    "  (Get-WebBinding -Name 'Default Web Site' -Protocol https -Port 443).AddSslCertificate('{thumb}', 'My')"
)


def judge_wire_certificate(probe: TlsProbe, server_crt: Certificate, label: str) -> Verdict:
    """The certificate the runner's handshakes were served is the keystore's server.crt: what the phones get, whatever
    the binding records say (KB reason 2)."""
    accepted = [h for h in probe.handshakes.values() if h.reached and h.accepted]
    if not accepted:
        raise EvidenceError(label, f"no handshake to {probe.target} was accepted, so the certificate it serves is unknown")
    unrecorded = [h.profile for h in accepted if not h.certificate_thumbprint]
    if unrecorded:
        raise EvidenceError(label, f"handshake(s) {', '.join(unrecorded)} recorded no certificate thumbprint; re-record the TLS probe")
    served = {h.profile: normalise_thumbprint(h.certificate_thumbprint or "") for h in accepted}
    malformed = [p for p, t in served.items() if len(t) != 40]
    if malformed:
        raise EvidenceError(label, f"handshake(s) {', '.join(malformed)}: the certificate thumbprint is not a SHA-1 (40 hex digits)")
    evidence = (f"keystore: {server_crt.describe()}",
                *(f"{probe.target}, {profile}: served {thumb}" for profile, thumb in served.items()))
    facts: Facts = {"served on 443": tuple(sorted(set(served.values())))}
    other = sorted({t for t in served.values() if t != server_crt.thumbprint})
    if other:
        return Verdict.failed(f"the server presented {', '.join(other)} on 443, not the keystore's server.crt "
                              f"({server_crt.thumbprint}); the phones reject it", evidence,
                              WIRE_REMEDIATION.replace("{thumb}", server_crt.thumbprint), facts)
    return Verdict.passed(f"every accepted handshake was served server.crt ({server_crt.thumbprint})", evidence, facts)
