"""KB reason 2: the certificate bound to Default Web Site https/443 must be the keystore's server.crt."""

from __future__ import annotations

from casgate.certs import Certificate, Store, normalise_thumbprint
from casgate.errors import EvidenceError
from casgate.evidence import Binding, TlsProbe
from casgate.verdict import Facts, Verdict

REMEDIATION = (
    "KB reason 2: bind the keystore's server certificate to Default Web Site https/443 (IIS Manager > Default Web "
    "Site > Bindings > https 443 > Edit > choose the certificate with thumbprint {thumb}), or from an administrative "
    "PowerShell:\n"
    "  Import-Module WebAdministration\n"
    "  (Get-WebBinding -Name 'Default Web Site' -Protocol https -Port 443).AddSslCertificate('{thumb}', 'My')\n"
    "Then test the phones' CAS features."
)
_NOT_IN_MY_SHORT = "not in LocalMachine\\My"
NOT_IN_MY = (
    "\nThe certificate is not in LocalMachine\\My, so IIS cannot use it: import the keystore's server certificate "
    "with its key into LocalMachine\\My first (the Mitel Connect installer's keystore holds it)."
)


def judge_binding(bindings: tuple[Binding, ...], server_crt: Certificate, my_store: Store) -> Verdict:
    https_443 = [b for b in bindings if b.protocol == "https" and b.port == 443]
    remediation = REMEDIATION.replace("{thumb}", server_crt.thumbprint)
    keystore_line = f"keystore: {server_crt.describe()}"
    facts: Facts = {"server.crt": server_crt.thumbprint,
             "https/443 binding hash": tuple(sorted(normalise_thumbprint(b.certificate_hash) or "(none)" for b in https_443)),
             "server.crt in My": "yes" if server_crt.thumbprint in my_store.thumbprints() else "no"}
    if not https_443:
        return Verdict.failed(
            "Default Web Site has no https binding on port 443; the phones cannot reach certauth",
            (keystore_line, *(f"binding: {b.describe()}" for b in bindings)),
            remediation,
            facts,
        )
    # by thumbprint: a My file cryptography cannot load is still there (its SHA-1 is the hash IIS binds)
    in_my = {c.thumbprint: c.subject for c in my_store} | {u.thumbprint: f"({u.describe()})" for u in my_store.unreadable}
    evidence = [keystore_line]
    wrong = []
    for binding in https_443:
        bound = normalise_thumbprint(binding.certificate_hash)
        subject = in_my.get(bound)
        evidence.append(f"binding: {binding.describe()} -> {subject or _NOT_IN_MY_SHORT}")
        if bound != server_crt.thumbprint or subject is None:
            wrong.append(binding)
    if not wrong:
        return Verdict.passed(f"https/443 is bound to server.crt ({server_crt.thumbprint})", tuple(evidence), facts)
    missing_from_my = server_crt.thumbprint not in in_my
    return Verdict.failed(
        f"{len(wrong)} https/443 binding(s) of Default Web Site do not use the keystore's server.crt; "
        "phones log 'SSL handshake error' or 'Certificate Authority Invalid'",
        tuple(evidence),
        remediation + (NOT_IN_MY if missing_from_my else ""),
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
