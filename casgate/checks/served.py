"""Beyond the KB (X2, X3): the certificate IIS serves on 443 must be inside its validity window and name the HQ FQDN
the phones connect to; either fault gives the phones the same "Failed to Connect to Server"."""

from __future__ import annotations

from datetime import datetime

from casgate import pki
from casgate.certs import Certificate
from casgate.checks.validity import EXPIRING, validity_at
from casgate.errors import EvidenceError
from casgate.evidence import Binding
from casgate.httpsys import ServerStores, phones_binding, store_name
from casgate.snapshot import BINDINGS
from casgate.verdict import Facts, Verdict

REBIND = (
    "  Import-Module WebAdministration\n"
    "  $binding = Get-WebBinding -Name 'Default Web Site' -Protocol https -Port 443\n"
    "  $binding.RemoveSslCertificate()\n"
    "  $binding.AddSslCertificate('<thumbprint of the new certificate>', 'My')\n"
    "  Restart-Service W3SVC\n"
    "Copy the same certificate to <Shoreline Data>\\Keystore\\certs\\server.crt: cause 2 checks that IIS serves the keystore's one."
)
RENEW = (
    "Beyond the KB (X2): a TLS client, the phones among them, refuses a server certificate outside its validity period "
    "(RFC 5280 4.1.2.5). Issue a renewed server certificate with its key into LocalMachine\\My, then bind it. From an "
    "administrative PowerShell, list what LocalMachine\\My holds, soonest expiry first:\n"
    "  Get-ChildItem Cert:\\LocalMachine\\My | Sort-Object NotAfter | Format-Table 'Thumbprint', 'Subject', 'NotBefore', 'NotAfter'\n"
    + REBIND
    + "\nIf the dates look right but the verdict does not, check the server's clock: validity is judged at collection time."
)
REISSUE = (
    "Beyond the KB (X3): the phones connect to https://{fqdn}/ and match that name against the certificate IIS serves "
    "(RFC 6125 6.4). Reissue the server certificate with {fqdn} in its Subject Alternative Name (a DNS name; an IP "
    "address entry when the phones use an address), import it with its key into LocalMachine\\My and bind it. Show the "
    "names the bound certificate carries:\n"
    "  $cert = Get-Item Cert:\\LocalMachine\\My\\{thumb}\n"
    "  $cert.DnsNameList\n"
    "  ($cert.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.17' }).Format($true)\n"
    + REBIND
)


def served_certificates(bindings: tuple[Binding, ...], stores: ServerStores, fqdn: str,
                        address: str) -> tuple[tuple[Certificate, ...], tuple[str, ...]]:
    """What HTTP.sys serves the phones on 443: the certificate of their binding (httpsys.phones_binding, the one cause 2
    judges; with the rivals claiming the same connection), found by hash in the store the binding names, and a line for
    each binding whose certificate is not there (cause 2's finding, said here as evidence). Other sites' bindings are not
    the phones' and are not judged here either."""
    phones = phones_binding(bindings, fqdn, address, BINDINGS)
    found: dict[str, Certificate] = {}
    missing = []
    for binding in phones.rivals or ((phones.serving,) if phones.serving else ()):
        cert = stores.bound(binding)[1]
        if isinstance(cert, Certificate):  # one cryptography cannot load has no validity to judge: missing, never a pass
            found[cert.thumbprint] = cert
        else:
            missing.append(f"binding {binding.describe()}: its certificate is not in LocalMachine\\{store_name(binding)} (cause 2)")
    return tuple(found.values()), tuple(missing)


def judge_served_validity(bindings: tuple[Binding, ...], stores: ServerStores, fqdn: str, address: str,
                          server_crt: Certificate, at: datetime, warn_days: int) -> Verdict:
    """X2, RFC 5280 4.1.2.5 (https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5): the served certificate and
    keystore server.crt must be valid at collection time; within `warn_days` of notAfter is a warning."""
    served, missing = served_certificates(bindings, stores, fqdn, address)
    roles = {c.thumbprint: ("served on https/443", c) for c in served}
    both = server_crt.thumbprint in roles
    roles[server_crt.thumbprint] = ("served on https/443 = keystore server.crt" if both else "keystore server.crt", server_crt)
    checked = [validity_at(cert, role, at, warn_days) for role, cert in roles.values()]
    evidence = (*(v.line for v in checked), *missing, *(() if served or missing else ("no https binding answers the phones' connection on 443 (cause 2)",)))
    facts: Facts = {v.role: f"{v.cert.thumbprint}: {v.fact}" for v in checked}
    broken = [v for v in checked if v.broken]
    if broken:
        return Verdict.failed(f"{len(broken)} certificate(s) IIS serves or the keystore holds are {' / '.join(sorted({v.state for v in broken}))} "
                              f"at collection time; TLS clients refuse them", evidence, RENEW, facts)
    if missing:  # the certificate IIS binds cannot be read, so its validity is unknown: never a pass
        raise EvidenceError(BINDINGS, "; ".join(missing) + ": the validity of what IIS serves cannot be judged")
    soon = [v for v in checked if v.state == EXPIRING]
    if soon:
        return Verdict.warned(f"{len(soon)} certificate(s) IIS serves or the keystore holds expire within {warn_days} day(s) of collection",
                              evidence, RENEW, facts)
    what = "the served certificate and keystore server.crt are" if served else "keystore server.crt is (no https binding answers the phones on 443)"
    return Verdict.passed(f"{what} valid for more than {warn_days} day(s)", evidence, facts)


NOT_BY_SAN = "matched by the subject CN or as text, not by a SAN entry both stacks accept"


def _name_problem(cert: Certificate, fqdn: str) -> tuple[str, str | None]:
    """(evidence line, problem): problem is None when OpenSSL and Qt both accept a SAN entry, NOT_BY_SAN when the phones' Qt
    accepts the host only where RFC 6125 does not want it (a subject CN, an address as text), else why it does not match."""
    try:
        dns, ips, cns = pki.identifiers(cert.der)
        match = pki.names_host(cert, fqdn)
    except ValueError as exc:
        raise EvidenceError(cert.source, f"its names cannot be read ({exc})") from None
    shown = (f"served {cert.subject} ({cert.thumbprint}): SAN DNS [{', '.join(dns) or '-'}] IP [{', '.join(ips) or '-'}], "
             f"CN [{', '.join(cns) or '-'}]  <- {match.line()}")
    if match.by_san:
        return shown, None
    if match.accepted:
        return shown, NOT_BY_SAN
    if pki.address(fqdn) is not None:
        return shown, f"no IP address entry {fqdn} in the SAN"
    if dns:
        return shown, f"no SAN DNS name matches {fqdn}"
    return shown, f"no SAN DNS name, and no CN ({', '.join(cns) or 'none'}) matches {fqdn} either"


def judge_name_match(bindings: tuple[Binding, ...], stores: ServerStores, fqdn: str, address: str) -> Verdict:
    """X3, RFC 6125 6.4.3 and 6.4.4 (https://www.rfc-editor.org/rfc/rfc6125#section-6.4), as OpenSSL's X509_check_host
    and the phones' Qt QSslSocket apply it (pki.names_host): the HQ FQDN the phones use must be a SAN DNS name (an IP
    entry for an address) of every certificate IIS serves on 443. Where only Qt accepts the name (a subject CN, also
    beside SAN DNS names; an address written as a DNS name or CN), the phones connect but RFC 6125 and OpenSSL do not:
    a warning. Where Qt refuses it, the phones do: a failure, whatever OpenSSL says."""
    served, missing = served_certificates(bindings, stores, fqdn, address)
    if not served:
        raise EvidenceError(BINDINGS, "the phones' https/443 binding has no certificate in the store it names, so the served "
                                      "name cannot be read (cause 2 judges the binding)")
    judged = [(cert, *_name_problem(cert, fqdn)) for cert in served]
    evidence = (f"HQ FQDN the phones use (manifest): {fqdn}", *(line for _, line, _ in judged), *missing)
    facts: Facts = {"HQ FQDN": fqdn, **{f"names of {c.thumbprint}": problem or "SAN match" for c, _, problem in judged}}
    wrong = [(c, p) for c, _, p in judged if p not in (None, NOT_BY_SAN)]
    remediation = REISSUE.replace("{fqdn}", fqdn).replace("{thumb}", (wrong or judged)[0][0].thumbprint)
    if wrong:
        return Verdict.failed(f"the certificate IIS serves on 443 does not name {fqdn}: {wrong[0][1]}; the phones refuse it",
                              evidence, remediation, facts)
    if any(p == NOT_BY_SAN for _, _, p in judged):
        return Verdict.warned(f"{fqdn} matches the served certificate only where RFC 6125 6.4.4 does not want it (its subject "
                              "CN, or an address written as a name): the phones' Qt accepts it, OpenSSL and other clients may not",
                              evidence, remediation, facts)
    return Verdict.passed(f"every certificate IIS serves on 443 names {fqdn} in its SAN", evidence, facts)
