"""Craft snapshots with cryptography: a healthy HQ server and one per documented sub-cause.

    casgate scenarios DIR [NAME ...]      (or python -m casgate.scenarios)

Each scenario says which checks it must fail and warn; the project's self-tests run the real suite on every one.
No private key is ever written: keys live in memory only while the certificates are signed. LocalMachine\\Root holds
the real roots a Windows Server has (casgate/data/windows-root-store, provenance in its PROVENANCE.toml: SHA-1,
MD5 and MD2-era Microsoft and public roots) that existed at collection time, beside the crafted ones.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from casgate import __version__
from casgate.data import WINDOWS_ROOTS
from casgate.certs import Certificate, read_certificate, thumbprint
from casgate.cli import Parser
from casgate.errors import CasgateError
from casgate.checks.revocation import SSL_BINDINGS
from casgate.schannel import CIPHER_POLICY_GPO, SCHANNEL, TLS10_SERVER
from casgate.snapshot import (
    BINDINGS,
    CLOCK,
    DNS_PROBE,
    HTTPS_PROBE,
    IIS_ACCESS,
    IIS_LOGS,
    IIS_STATE,
    KEYSTORE,
    MY_STORE,
    PHONE_LOGS,
    REGISTRY,
    ROOT_STORE,
    TLS_PROBE,
    SnapshotWriter,
)

W3C_FIELDS = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"
# After a logging change an administrator added cs-host: the header changes in the middle of the file.
W3C_FIELDS_WITH_HOST = W3C_FIELDS.replace("cs(Referer)", "cs(Referer) cs-host")
PHONE_PREFIX = "p8[240]: 342246.5 pri 0000,sl 01165,sf src/networkaccessmanager.cpp,msg [0x45bff490] NetworkAccessManager::"


@dataclass(frozen=True)
class HostFacts:
    """The identity a snapshot is of."""

    name: str = "hq-healthy"
    fqdn: str = "hq.example.com"
    address: str = "10.169.24.10"
    dns_server: str = "10.169.24.5"
    os_version: str = "Microsoft Windows Server 2019 Standard 10.0.17763"
    collected_at: datetime = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Scenario:
    """One crafted host: the knobs that break it and the checks it must fail or warn on."""

    name: str
    description: str
    fails: frozenset[str] = frozenset()
    warns: frozenset[str] = frozenset()
    intermediate_in_root: bool = False
    mitel_root_in_root: bool = True
    trust_mode: int | None = None
    bound_to_other_cert: bool = False
    dns_rcode: str = "NOERROR"
    dns_addresses: tuple[str, ...] | None = None  # None: the HQ address
    phone_symptom: str | None = None  # "host-not-found" or "tls"
    phone_logs: bool = True
    certauth_403_16: bool = False
    tls10_registry: int | None = None  # TLS 1.0\Server Enabled; None: absent (OS default)
    tls10_handshake: bool = True
    phone_handshake: bool = True
    cipher_policy_without_phone_suites: bool = False
    certauth_status: int = 403
    served: str = "server"  # the Pki certificate that is keystore server.crt, in LocalMachine\My and bound on 443
    stale_mitel_in_root: bool = False  # a certificate named like the Mitel root, with another key, in LocalMachine\Root
    trusted_issuer_list: bool = False  # SCHANNEL SendTrustedIssuerList=1
    filler_roots: int = 0  # extra self-signed roots in LocalMachine\Root with long names
    kb_log_lines: bool = False
    ssl_flags: str = "Ssl, SslNegotiateCert"  # sslFlags at Default Web Site/shoreauth, as applicationHost.config writes them
    clock_skew: float = 0.0  # seconds the server's clock is ahead of the runner's
    certauth_403_13: bool = False  # certauth refused on revocation: the server cannot reach the phones' CRL
    wire_other_cert: bool = False  # what answers on 443 presents another certificate than IIS's binding names
    facts: HostFacts = field(default_factory=HostFacts)


ROOT = "test_root_store_is_self_signed"
MITEL = "test_mitel_root_ca_is_trusted"
TRUST_MODE = "test_trust_mode_workaround_absent"
IIS_LOG = "test_certauth_not_rejected_in_iis_logs"
BINDING = "test_https_binding_matches_keystore"
PHONE_TLS = "test_phone_logs_show_no_tls_failure"
DNS = "test_fqdn_resolves_to_hq"
PHONE_DNS = "test_phone_logs_show_no_host_not_found"
TLS10 = "test_tls10_enabled"
CIPHERS = "test_phone_cipher_profile_accepted"
ENDPOINT = "test_certauth_endpoint_answers"
VALIDITY = "test_served_certificate_is_valid"
NAME = "test_served_certificate_names_hq_fqdn"
MITEL_ITSELF = "test_mitel_root_ca_is_current"
ISSUER_LIST = "test_trusted_issuer_list_fits"
CHAIN = "test_server_crt_chains_to_keystore_ca"
WIRE = "test_certificate_served_on_443_is_server_crt"
CLIENT_CERT = "test_certauth_asks_for_client_certificate"
CLOCK_CHECK = "test_server_clock_in_step"
REVOCATION = "test_certauth_not_refused_on_revocation"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("healthy", "every cause healthy; an old 403.16 from before the window is history, not a failure"),
    Scenario("cause-1a", "an intermediate CA in LocalMachine\\Root; certauth 403.16", frozenset({ROOT, IIS_LOG}),
             intermediate_in_root=True, certauth_403_16=True),
    Scenario("cause-1b", "Mitel_mfg_ca.crt missing from LocalMachine\\Root; certauth 403.16", frozenset({MITEL, IIS_LOG}),
             mitel_root_in_root=False, certauth_403_16=True),
    Scenario("cause-1a-masked", "an intermediate CA in Root, masked by ClientAuthTrustMode=2", frozenset({ROOT}),
             frozenset({TRUST_MODE}), intermediate_in_root=True, trust_mode=2),
    Scenario("cause-2", "https/443 bound to another certificate than keystore server.crt (which does not name the HQ FQDN either)",
             frozenset({BINDING, WIRE, PHONE_TLS, NAME}),
             bound_to_other_cert=True, phone_symptom="tls"),
    Scenario("cause-2-wire", "IIS is bound to server.crt, but HTTP.sys's own 0.0.0.0:443 binding still serves the old certificate",
             frozenset({WIRE}), wire_other_cert=True),
    Scenario("cause-3-nxdomain", "the phones' DNS server answers NXDOMAIN for the HQ FQDN", frozenset({DNS}), dns_rcode="NXDOMAIN",
             dns_addresses=()),
    Scenario("cause-3-wrong-address", "the HQ FQDN resolves to another address", frozenset({DNS}), dns_addresses=("10.169.99.10",)),
    Scenario("cause-3-phone-log", "phone logs show 'Host not found' on the certauth URL (phones without DNS)", frozenset({PHONE_DNS}),
             phone_symptom="host-not-found"),
    Scenario("cause-4-registry", "TLS 1.0 Server Enabled=0 in the registry, handshakes refused", frozenset({TLS10, CIPHERS}),
             tls10_registry=0, tls10_handshake=False, phone_handshake=False),
    Scenario("cause-4-handshake", "registry leaves TLS 1.0 on, but the server refuses TLS 1.0 handshakes", frozenset({TLS10, CIPHERS}),
             tls10_handshake=False, phone_handshake=False),
    Scenario("cause-4-not-rebooted", "TLS 1.0 disabled in the registry, still accepted: changed but not rebooted", frozenset({TLS10}),
             tls10_registry=0),
    Scenario("cause-4-ciphers", "the cipher-suite policy lists none of the phones' TLS 1.0 suites", frozenset({CIPHERS}),
             phone_handshake=False, cipher_policy_without_phone_suites=True),
    Scenario("x1-certauth-missing", "certauth answers 404: the shoreauth application is missing", frozenset({ENDPOINT}),
             certauth_status=404),
    Scenario("x2-server-crt-expired", "keystore server.crt, which IIS binds on 443, expired before collection", frozenset({VALIDITY}),
             served="server_expired"),
    Scenario("x2-server-crt-expiring", "keystore server.crt, which IIS binds on 443, expires 10 days after collection",
             warns=frozenset({VALIDITY}), served="server_expiring"),
    Scenario("x3-name-mismatch", "the served certificate (= server.crt) names hq-old.example.com, not the HQ FQDN", frozenset({NAME}),
             served="server_other_name"),
    Scenario("x4-stale-mitel-root", "LocalMachine\\Root also holds an old Mitel Manufacturing CA with another key", frozenset({MITEL_ITSELF}),
             stale_mitel_in_root=True),
    Scenario("x5-issuer-list-too-large", "SendTrustedIssuerList=1 and LocalMachine\\Root's subjects exceed Schannel's 16 KB",
             frozenset({ISSUER_LIST}), trusted_issuer_list=True, filler_roots=60),
    Scenario("x6-chain-broken", "server.crt was issued by another 'Mitel Connect HQ Local CA' (another key) than keystore ca.crt",
             frozenset({CHAIN}), served="server_other_ca"),
    Scenario("x7-client-cert-not-asked", "sslFlags on the shoreauth application is 'Ssl': IIS never asks the phones for their certificate",
             frozenset({CLIENT_CERT}), ssl_flags="Ssl"),
    Scenario("x8-clock-skew", "the server's clock runs two hours ahead of the runner's", frozenset({CLOCK_CHECK}), clock_skew=7200.0),
    Scenario("x9-revocation-offline", "certauth answered 403.13 CRYPT_E_REVOCATION_OFFLINE: the server cannot reach the phones' CRL",
             frozenset({REVOCATION}), certauth_403_13=True),
)

# The KB's own incident as a bundled host: its log lines, addresses and date; no phone logs were collected.
KB_INCIDENT = Scenario(
    "hq01", "the KB's incident: an intermediate CA imported into LocalMachine\\Root, certauth answered 403.16 / 2148204809",
    frozenset({ROOT, IIS_LOG}), intermediate_in_root=True, certauth_403_16=True, kb_log_lines=True, phone_logs=False,
    facts=HostFacts(name="hq01", fqdn="hq01.example.com", os_version="Microsoft Windows Server 2012 R2 Standard 6.3.9600",
                    collected_at=datetime(2016, 12, 21, 16, 0, tzinfo=timezone.utc)),
)

# An upgrade of hq01 seen by the gate: healthy before; after it, TLS 1.0 is off and IIS is bound to a new certificate.
_HQ01 = HostFacts(name="hq01", fqdn="hq01.example.com", collected_at=datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc))
UPGRADE_BEFORE = Scenario("hq01-before", "hq01 before the upgrade: every cause healthy", facts=_HQ01)
UPGRADE_AFTER = Scenario(
    "hq01-after", "hq01 after the upgrade: TLS 1.0 disabled, Default Web Site re-bound to a new certificate",
    frozenset({TLS10, CIPHERS, BINDING, WIRE, PHONE_TLS, NAME}), bound_to_other_cert=True, phone_symptom="tls", tls10_registry=0,
    tls10_handshake=False, phone_handshake=False, facts=replace(_HQ01, collected_at=datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)),
)
BUNDLED = (KB_INCIDENT, UPGRADE_BEFORE, UPGRADE_AFTER)

ALL: dict[str, Scenario] = {s.name: s for s in (*SCENARIOS, *BUNDLED)}


def _name(cn: str) -> x509.Name:
    """RFC 4514 (and Windows) print the last attribute first: CN=..., O=..."""
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "casgate crafted"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class _Issuer:
    name: x509.Name
    key: rsa.RSAPrivateKey


_CA_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False)


def _certificate(subject: x509.Name | str, issuer: _Issuer | None, ca: bool, not_before: datetime, dns_name: str | None = None,
                 not_after: datetime | None = None, key: rsa.RSAPrivateKey | None = None) -> tuple[bytes, _Issuer]:
    """A certificate (DER) and, for use as an issuer, its name and in-memory key; a CA may sign certificates."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(subject) if isinstance(subject, str) else subject
    signer = issuer or _Issuer(subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer.name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after or not_before + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(_CA_USAGE, critical=True)
    if dns_name:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
    cert = builder.sign(signer.key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER), _Issuer(subject, key)


class Pki:
    """The certificates of a Mitel Connect HQ server and its neighbourhood, made once per generator run; valid from
    `not_before` to `not_after` (ten years by default). The broken server certificates are dated against the crafted
    collection time, a year after `not_before`."""

    def __init__(self, fqdn: str, not_before: datetime, not_after: datetime | None = None) -> None:
        until = not_after or not_before + timedelta(days=3650)
        collected = not_before + timedelta(days=365)
        self.mitel_ca, _ = _certificate("Mitel Manufacturing CA", None, True, not_before, not_after=until)
        self.stale_mitel_ca, _ = _certificate("Mitel Manufacturing CA", None, True, not_before - timedelta(days=3650), not_after=until)
        self.hq_ca, hq_issuer = _certificate("Mitel Connect HQ Local CA", None, True, not_before, not_after=until)
        _, other_hq_issuer = _certificate("Mitel Connect HQ Local CA", None, True, not_before, not_after=until)
        self.server, _ = _certificate(fqdn, hq_issuer, False, not_before, dns_name=fqdn, not_after=until)
        self.server_expired, _ = _certificate(fqdn, hq_issuer, False, collected - timedelta(days=730), dns_name=fqdn,
                                              not_after=collected - timedelta(days=65))
        self.server_expiring, _ = _certificate(fqdn, hq_issuer, False, not_before, dns_name=fqdn, not_after=collected + timedelta(days=10))
        self.server_other_name, _ = _certificate("hq-old.example.com", hq_issuer, False, not_before, dns_name="hq-old.example.com",
                                                 not_after=until)
        self.server_other_ca, _ = _certificate(fqdn, other_hq_issuer, False, not_before, dns_name=fqdn, not_after=until)
        self.other_server, _ = _certificate("WMSvc-SHA2-HQ", None, False, not_before, not_after=until)
        self.corp_root, corp_issuer = _certificate("Corp Root CA", None, True, not_before, not_after=until)
        self.corp_intermediate, _ = _certificate("Corp Issuing CA 01", corp_issuer, True, not_before, not_after=until)
        self._not_before, self._until = not_before, until

    def filler_roots(self, count: int) -> dict[str, bytes]:
        """Self-signed roots with long names (about 270 bytes of subject each), sharing one key: Root stores that grew."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        units = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"Trust Services Unit {u} " + "x" * 40) for u in range(4)]
        names = [x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "casgate crafted filler"), *units,
                            x509.NameAttribute(NameOID.COMMON_NAME, f"Filler Root CA {n:03}")]) for n in range(count)]
        return {f"filler-{n:03}.cer": _certificate(name, None, True, self._not_before, not_after=self._until, key=key)[0]
                for n, name in enumerate(names)}

    def served(self, name: str) -> bytes:
        """The server certificate a scenario names: server, server_expired, server_expiring, server_other_name, server_other_ca."""
        der: bytes = getattr(self, name)
        return der


class _Crafter:
    def __init__(self, scenario: Scenario, pki: Pki, writer: SnapshotWriter) -> None:
        self.s = scenario
        self.f = scenario.facts
        self.pki = pki
        self.out = writer

    def at(self, hours_before: float) -> datetime:
        return self.f.collected_at - timedelta(hours=hours_before)

    def write(self) -> None:
        self.manifest()
        self.stores()
        self.out.json(BINDINGS, self.bindings())
        self.host_state()
        self.registry()
        self.out.text(f"{IIS_LOGS}W3SVC1/u_ex{self.f.collected_at:%y%m%d}.log", self.iis_log())
        if self.s.phone_logs:
            self.out.text(f"{PHONE_LOGS}P105709FW16424D2D8B.log", self.phone_log())
        self.out.json(DNS_PROBE, self.dns())
        self.out.json(TLS_PROBE, self.tls())
        self.out.json(HTTPS_PROBE, {"url": f"https://{self.f.fqdn}:443/shoreauth/certauth", "status": self.s.certauth_status,
                                    "reason": {403: "Forbidden", 404: "Not Found"}[self.s.certauth_status], "error": None})

    def manifest(self) -> None:
        collected = [ROOT_STORE, MY_STORE, KEYSTORE, BINDINGS, IIS_ACCESS, CLOCK, IIS_LOGS, REGISTRY, DNS_PROBE, TLS_PROBE, HTTPS_PROBE]
        self.out.json("manifest.json", {
            "host": self.f.name, "fqdn": self.f.fqdn, "address": self.f.address, "os_version": self.f.os_version,
            "collected_at": self.f.collected_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "source": "crafted",
            "casgate_version": __version__, "description": self.s.description,
            "collected": collected + ([PHONE_LOGS] if self.s.phone_logs else []),
        })

    def stores(self) -> None:
        p = self.pki
        roots = {**windows_roots(self.f.collected_at), "corp-root.cer": p.corp_root, "hq-local-ca.cer": p.hq_ca}
        if self.s.mitel_root_in_root:
            roots["mitel-mfg-ca.cer"] = p.mitel_ca
        if self.s.intermediate_in_root:
            roots["corp-issuing-ca-01.cer"] = p.corp_intermediate
        if self.s.stale_mitel_in_root:
            roots["mitel-mfg-ca-old.cer"] = p.stale_mitel_ca
        roots.update(p.filler_roots(self.s.filler_roots))
        for name, der in roots.items():
            self.out.certificate(ROOT_STORE, name, der)
        server = p.served(self.s.served)
        for name, der in {"server.cer": server, "wmsvc.cer": p.other_server}.items():
            self.out.certificate(MY_STORE, name, der)
        for name, der in {"Mitel_mfg_ca.crt": p.mitel_ca, "server.crt": server, "ca.crt": p.hq_ca}.items():
            self.out.certificate(KEYSTORE, name, der)

    def bindings(self) -> list[dict[str, str]]:
        bound = self.pki.other_server if self.s.bound_to_other_cert else self.pki.served(self.s.served)
        return [
            {"protocol": "http", "bindingInformation": "*:80:", "certificateHash": "", "certificateStoreName": ""},
            {"protocol": "https", "bindingInformation": "*:443:", "certificateHash": thumbprint(bound), "certificateStoreName": "My"},
        ]

    def host_state(self) -> None:
        """sslFlags where the phones post, the server's clock in the round trip, and, when certauth is refused on
        revocation, the HTTP.sys binding netsh shows (revocation checking on, as IIS creates it)."""
        self.out.json(IIS_ACCESS, {"location": "Default Web Site/shoreauth", "sslFlags": self.s.ssl_flags})
        runner = self.f.collected_at + timedelta(seconds=1)
        self.out.json(CLOCK, {"server_utc": _stamp(runner + timedelta(seconds=0.2 + self.s.clock_skew)),
                              "runner_before_utc": _stamp(runner), "runner_after_utc": _stamp(runner + timedelta(seconds=0.4))})
        if self.s.certauth_403_13:
            self.out.json(IIS_STATE, {"w3svc": "Running", "reboot_pending": False, "netsh_http_show_sslcert": self.sslcert()})

    def sslcert(self) -> str:
        """`netsh http show sslcert` for IIS's 0.0.0.0:443 binding, field names and layout as Windows prints them."""
        fields = {"IP:port": "0.0.0.0:443", "Certificate Hash": thumbprint(self.pki.served(self.s.served)).lower(),
                  "Application ID": "{4dc3e181-e14b-4a21-b022-59fc669b0914}", "Certificate Store Name": "My",
                  "Verify Client Certificate Revocation": "Enabled",
                  "Verify Revocation Using Cached Client Certificate Only": "Disabled", "Usage Check": "Enabled",
                  "Revocation Freshness Time": "0", "URL Retrieval Timeout": "0", "Ctl Identifier": "(null)",
                  "Ctl Store Name": "(null)", "DS Mapper Usage": "Disabled", "Negotiate Client Certificate": "Disabled"}
        return "\r\nSSL Certificate bindings:\r\n-------------------------\r\n\r\n" + "".join(
            f"    {name:<28} : {value}\r\n" for name, value in fields.items()) + "\r\n"

    def registry(self) -> None:
        schannel: dict[str, int | str] = {"EventLogging": 1}
        if self.s.trust_mode is not None:
            schannel["ClientAuthTrustMode"] = self.s.trust_mode
        if self.s.trusted_issuer_list:
            schannel["SendTrustedIssuerList"] = 1
        keys: dict[str, dict[str, int | str]] = {SCHANNEL: schannel, SCHANNEL + r"\Protocols": {}}
        if self.s.tls10_registry is not None:
            keys[TLS10_SERVER] = {"Enabled": self.s.tls10_registry, "DisabledByDefault": int(self.s.tls10_registry == 0)}
        self.out.reg_export("schannel.reg", keys)
        self.out.reg_tree("http-sslbindings.reg", self.ssl_binding())
        if self.s.cipher_policy_without_phone_suites:
            suites = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"
            self.out.reg_export("cipher-policy.reg", {CIPHER_POLICY_GPO: {"Functions": suites}})

    def ssl_binding(self) -> dict[str, dict[str, dict[str, object]]]:
        """HTTP.sys's record of IIS's 0.0.0.0:443 binding as reg export writes it (the fields of
        HTTP_SERVICE_CONFIG_SSL_PARAM): the bound certificate, IIS's application id, revocation checking on (0)."""
        bound = self.pki.other_server if self.s.bound_to_other_cert else self.pki.served(self.s.served)
        app_id = uuid.UUID("4dc3e181-e14b-4a21-b022-59fc669b0914").bytes_le
        return {SSL_BINDINGS: {}, f"{SSL_BINDINGS}\\0.0.0.0:443": {
            "AppId": {"kind": "Binary", "value": list(app_id)},
            "DefaultCertCheckMode": {"kind": "DWord", "value": 0}, "DefaultFlags": {"kind": "DWord", "value": 0},
            "DefaultRevocationFreshnessTime": {"kind": "DWord", "value": 0},
            "DefaultRevocationUrlRetrievalTimeout": {"kind": "DWord", "value": 0},
            "SslCertHash": {"kind": "Binary", "value": list(bytes.fromhex(thumbprint(bound)))},
            "SslCertStoreName": {"kind": "String", "value": "MY"}}}

    def iis_log(self) -> str:
        f = self.f
        def line(moment: datetime, method: str, stem: str, client: str, status: str, fields: str = W3C_FIELDS) -> str:
            values = [f"{moment:%Y-%m-%d}", f"{moment:%H:%M:%S}", f.address, method, stem, "-", "443", "-", client, "Mozilla/5.0", "-"]
            if fields == W3C_FIELDS_WITH_HOST:
                values.append(f.fqdn)
            return " ".join(values + status.split())
        day = f.collected_at.replace(hour=0, minute=0, second=0)
        out = ["#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0", f"#Date: {day:%Y-%m-%d %H:%M:%S}",
               f"#Fields: {W3C_FIELDS}",
               line(self.at(5), "GET", "/shoreauth/ping", "10.169.24.77", "200 0 0 15"),
               line(self.at(4.9), "POST", "/shoreauth/certauth", "10.169.24.77", "200 0 0 120")]
        if not self.s.certauth_403_16:
            # a repaired incident from three days earlier: history only
            out.append(line(self.at(72), "POST", "/shoreauth/certauth", "10.169.24.139", "403 16 2148204809 730"))
        if self.s.kb_log_lines:
            kb = datetime(2016, 12, 21, 15, 1, 37, tzinfo=timezone.utc)
            out += [line(kb, "POST", "/shoreauth/certauth", "10.169.24.139", f"403 16 2148204809 {t}") for t in (730, 1, 1)]
        elif self.s.certauth_403_16:
            out += [line(self.at(h), "POST", "/shoreauth/certauth", ip, "403 16 2148204809 730")
                    for h, ip in ((2, "10.169.24.139"), (1.5, "10.169.24.139"), (1, "10.169.24.140"))]
        if self.s.certauth_403_13:
            out += [line(self.at(h), "POST", "/shoreauth/certauth", ip, "403 13 2148081683 15010")
                    for h, ip in ((2, "10.169.24.139"), (1, "10.169.24.141"))]
        out += [f"#Fields: {W3C_FIELDS_WITH_HOST}",
                line(self.at(0.5), "GET", "/director/", "10.169.24.200", "200 0 0 31", W3C_FIELDS_WITH_HOST)]
        return "\n".join(out) + "\n"

    def phone_log(self) -> str:
        def line(moment: datetime, msg: str) -> str:
            return f"{moment.astimezone(timezone(timedelta(hours=-7))).isoformat(timespec='milliseconds')} P105709FW16424D2D8B {PHONE_PREFIX}{msg}"
        out = [line(self.at(3), "handleRequestFinished: reply (0x169f010), id (0x14): OK")]
        if self.s.phone_symptom == "host-not-found":
            out.append(line(self.at(1), "handleRequestFinished: ERROR ON REPLY qreply (0x156a980), reply (0x169f010), id (0x15), "
                                        f"cancelled (0): on url: https://{self.f.fqdn}/shoreauth/certauth, error code = 3, Host not found"))
        if self.s.phone_symptom == "tls":
            out.append(line(self.at(1), "sslErrors: SSL handshake error: Certificate Authority Invalid"))
        return "\n".join(out) + "\n"

    def dns(self) -> dict[str, object]:
        addresses = (self.f.address,) if self.s.dns_addresses is None else self.s.dns_addresses
        return {"fqdn": self.f.fqdn, "servers": [{"server": self.f.dns_server, "rcode": self.s.dns_rcode, "addresses": list(addresses),
                                                   "ttl": 3600 if addresses else None, "error": None}]}

    def tls(self) -> dict[str, object]:
        wrong = self.s.bound_to_other_cert or self.s.wire_other_cert
        on_the_wire = self.pki.other_server if wrong else self.pki.served(self.s.served)
        def handshake(accepted: bool, version: str, cipher: str) -> dict[str, object]:
            if accepted:
                return {"accepted": True, "version": version, "cipher": cipher, "certificate_thumbprint": thumbprint(on_the_wire),
                        "error": None}
            return {"accepted": False, "version": None, "cipher": None, "certificate_thumbprint": None,
                    "error": "handshake failure (alert 40) from server"}
        return {"address": self.f.address, "port": 443, "sni": self.f.fqdn, "handshakes": {
            "tls1.0": handshake(self.s.tls10_handshake, "TLSv1", "DHE-RSA-AES256-SHA" if not self.s.phone_handshake else "ECDHE-RSA-AES256-SHA"),
            "tls1.1": handshake(True, "TLSv1.1", "ECDHE-RSA-AES256-SHA"),
            "tls1.2": handshake(True, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),
            "tls1.3": handshake(False, "TLSv1.3", ""),
            "phone-profile": handshake(self.s.phone_handshake, "TLSv1", "ECDHE-RSA-AES256-SHA"),
        }}


def _stamp(moment: datetime) -> str:
    """UTC with milliseconds, as the collector prints the server's clock."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def windows_roots(at: datetime) -> dict[str, bytes]:
    """The real roots of a Windows Server's LocalMachine\\Root that were issued by `at`, by file name."""
    certs = [read_certificate(path, path.name) for path in sorted(WINDOWS_ROOTS.glob("*.cer"))]
    return {c.source: c.der for c in certs if isinstance(c, Certificate) and c.not_before <= at}


def write_scenario(folder: Path, scenario: Scenario, pki: Pki) -> None:
    _Crafter(scenario, pki, SnapshotWriter(folder)).write()


def craft(root: Path, names: list[str]) -> list[Scenario]:
    """Write the named scenarios (default: all but the bundled ones) as root/<name>/."""
    chosen = [ALL[n] for n in names] if names else list(SCENARIOS)
    pkis: dict[str, Pki] = {}
    for scenario in chosen:
        facts = scenario.facts if scenario in BUNDLED else replace(scenario.facts, name=scenario.name)
        if facts.fqdn not in pkis:  # one PKI per FQDN, valid at every collection time of the run (hq01 2016, hq01-before 2026)
            times = [s.facts.collected_at for s in chosen if s.facts.fqdn == facts.fqdn]
            pkis[facts.fqdn] = Pki(facts.fqdn, min(times) - timedelta(days=365), max(times) + timedelta(days=3285))
        write_scenario(root / scenario.name, replace(scenario, facts=facts), pkis[facts.fqdn])
    return chosen


def parser() -> Parser:
    """`casgate scenarios`' command line."""
    command = Parser(prog="casgate scenarios", description=__doc__.splitlines()[0] + " Exit 0 written, 2 usage (an unknown "
                     "scenario, a folder that cannot be written).")
    command.add_argument("folder", type=Path, metavar="DIR", help="where to write one snapshot folder per scenario (DIR/NAME)")
    command.add_argument("names", nargs="*", default=[], metavar="NAME", help=f"scenarios (default: all crafted ones): {', '.join(ALL)}")
    return command


def main(argv: list[str] | None = None) -> int:
    from casgate.results import cannot_write

    command = parser()
    args = command.parse_args(argv)
    unknown = [n for n in args.names if n not in ALL]
    if unknown:
        command.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(ALL)}")
    problem = cannot_write(args.folder.resolve(), folder=True)
    if problem:
        command.error(f"{args.folder}: {problem}")
    try:
        crafted = craft(args.folder, args.names)
    except CasgateError as exc:  # a scenario's folder taken by a link
        command.error(f"{args.folder}: {exc}")
    except OSError as exc:  # ... or by a file, a disk full
        command.error(f"{exc.filename or args.folder}: could not be written: {exc.strerror or exc}")
    for scenario in crafted:
        print(f"{args.folder / scenario.name}: {scenario.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
