"""Judges on hand-made evidence: DNS answers, bindings, TLS 1.0 registry defaults, the cipher policy."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from casgate.certs import Certificate, Store
from casgate.checks.binding import judge_binding, judge_wire_certificate
from casgate.httpsys import ServerStores
from casgate.checks.dns import judge_dns
from casgate.checks.tls import judge_phone_ciphers, judge_tls10
from casgate.errors import CasgateError, EvidenceError
from casgate.evidence import Binding, DnsAnswer, DnsProbe, Handshake, Manifest, TlsProbe
from casgate.profile import DEFAULT_PHONE_PROFILE, phone_profile
from casgate.regfile import RegistryView, parse_reg
from casgate.schannel import SCHANNEL, tls10_server_state
from casgate.verdict import Outcome

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)
MANIFEST = Manifest("hq", "hq.example.com", "10.1.1.10", "10.0.17763", NOW, "crafted", "0.1.0", ())


def _answer(rcode: str | None = "NOERROR", addresses: tuple[str, ...] = ("10.1.1.10",), error: str | None = None) -> DnsAnswer:
    return DnsAnswer("10.1.1.53", rcode, addresses, 3600, error)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (_answer(rcode="NXDOMAIN", addresses=()), "NXDOMAIN: the name does not exist"),
        (_answer(addresses=()), "NOERROR but no A record"),
        (_answer(addresses=("10.9.9.9",)), "resolves to 10.9.9.9, not the HQ address 10.1.1.10"),
        (_answer(rcode="SERVFAIL", addresses=()), "answered SERVFAIL"),
    ],
    ids=["nxdomain", "no-answer", "other-address", "servfail"],
)
def test_each_dns_failure_has_its_own_message(answer: DnsAnswer, message: str) -> None:
    verdict = judge_dns(DnsProbe("hq.example.com", (_answer(), answer)), MANIFEST)

    assert verdict.outcome is Outcome.FAIL
    assert verdict.summary.startswith("1 of 2 DNS server(s) answer but do not resolve")
    assert any(line.endswith(message) for line in verdict.evidence)
    assert "Resolve-DnsName hq.example.com" in verdict.remediation


def test_a_dns_server_that_does_not_answer_is_an_outage_not_a_finding() -> None:
    silent = _answer(rcode=None, addresses=(), error="timeout after 3 s")

    with pytest.raises(EvidenceError, match=r"1 of 2 DNS server\(s\) did not answer \(10.1.1.53: timeout after 3 s\): an outage"):
        judge_dns(DnsProbe("hq.example.com", (_answer(), silent)), MANIFEST)
    wrong_and_silent = judge_dns(DnsProbe("hq.example.com", (_answer(rcode="NXDOMAIN", addresses=()), silent)), MANIFEST)
    assert wrong_and_silent.outcome is Outcome.FAIL and wrong_and_silent.summary.startswith("1 of 2 DNS server(s) answer but")


def test_dns_with_the_hq_address_among_others_passes() -> None:
    assert judge_dns(DnsProbe("hq.example.com", (_answer(addresses=("10.2.2.2", "10.1.1.10")),)), MANIFEST).outcome is Outcome.PASS


def _cert(thumb: str) -> Certificate:
    return Certificate("keystore/server.crt", thumb, "CN=hq", "CN=ca", NOW, NOW, False)


def test_no_https_443_binding_fails() -> None:
    verdict = judge_binding((Binding("http", "*", 80, "", "", ""), Binding("https", "*", 8443, "", "AA", "My")), _cert("AA"),
                            ServerStores(Store("certs/my/", (_cert("AA"),)), None), "hq.example.com", "10.0.0.5")

    assert verdict.outcome is Outcome.FAIL and "no https binding of Default Web Site answers the phones' connection" in verdict.summary


def test_binding_hash_is_compared_after_normalising() -> None:
    verdict = judge_binding((Binding("https", "*", 443, "", "aa bb", "My"),), _cert("AABB"),
                            ServerStores(Store("certs/my/", (_cert("AABB"),)), None), "hq.example.com", "10.0.0.5")

    assert verdict.outcome is Outcome.PASS


def test_right_hash_but_certificate_missing_from_my_fails() -> None:
    verdict = judge_binding((Binding("https", "*", 443, "", "AABB", "My"),), _cert("AABB"), ServerStores(Store("certs/my/", ()), None),
                            "hq.example.com", "10.0.0.5")

    assert verdict.outcome is Outcome.FAIL
    assert "not in LocalMachine\\My" in verdict.remediation


def _registry(server_values: str = "", extra: str = "") -> RegistryView:
    view = RegistryView()
    text = f"Windows Registry Editor Version 5.00\n\n[{SCHANNEL}]\n\n"
    if server_values:
        text += f"[{SCHANNEL}\\Protocols\\TLS 1.0\\Server]\n{server_values}\n"
    parse_reg(text + extra, "registry/schannel.reg", view)
    return view


@pytest.mark.parametrize(
    ("values", "os_version", "enabled"),
    [
        ("", "Windows Server 2012 R2 6.3.9600", True),
        ("", "Windows Server 2022 10.0.20348", True),
        ("", "Windows Server 2025 10.0.26100", False),
        ('"Enabled"=dword:00000001\n"DisabledByDefault"=dword:00000000', "10.0.26100", True),
        ('"Enabled"=dword:ffffffff', "10.0.17763", True),
        ('"Enabled"=dword:00000000', "10.0.17763", False),
        ('"DisabledByDefault"=dword:00000001', "10.0.17763", False),
    ],
    ids=["2012r2-default", "2022-default", "2025-default", "2025-explicit", "ffffffff", "enabled-0", "disabled-by-default"],
)
def test_tls10_server_state_with_os_defaults(values: str, os_version: str, enabled: bool) -> None:
    assert tls10_server_state(_registry(values), os_version).enabled is enabled


def test_os_version_without_build_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError, match="manifest.json: os_version 'Windows' has no Windows build number"):
        tls10_server_state(_registry(), "Windows")


def _probe(tls10: bool, phone: bool) -> TlsProbe:
    return TlsProbe("10.1.1.10:443", {
        "tls1.0": Handshake("tls1.0", tls10, "TLSv1" if tls10 else None, "AES256-SHA" if tls10 else None, None if tls10 else "alert 40"),
        "phone-profile": Handshake("phone-profile", phone, None, None, None if phone else "alert 40"),
    })


def test_registry_and_handshake_disagreeing_is_its_own_failure() -> None:
    verdict = judge_tls10(_registry('"Enabled"=dword:00000000'), "10.0.17763", _probe(tls10=True, phone=True))

    assert verdict.outcome is Outcome.FAIL
    assert "registry says TLS 1.0 is disabled but the server accepts" in verdict.summary
    assert "not been rebooted" in verdict.remediation
    pending = judge_tls10(_registry('"Enabled"=dword:00000000'), "10.0.17763", _probe(tls10=True, phone=True), reboot_pending=True)
    assert "Windows reboot pending: yes: the registry change is probably not live yet" in pending.evidence


def test_missing_handshake_profile_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError, match="probes/tls.json: has no handshake for profile 'tls1.0'"):
        judge_tls10(_registry(), "10.0.17763", TlsProbe("x", {}))


def test_cipher_policy_with_legacy_curve_suffix_still_lists_a_phone_suite() -> None:
    gpo = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002"
    policy = f'[{gpo}]\n"Functions"="TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA_P384"\n'

    verdict = judge_phone_ciphers(_registry(extra=policy), _probe(True, True), DEFAULT_PHONE_PROFILE)

    assert verdict.outcome is Outcome.PASS
    assert any("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA_P384" in line for line in verdict.evidence)


def test_phone_profile_override_and_unknown_suites() -> None:
    assert phone_profile(["tls_rsa_with_aes_128_cbc_sha"]) == ("TLS_RSA_WITH_AES_128_CBC_SHA",)
    assert phone_profile([]) == DEFAULT_PHONE_PROFILE
    with pytest.raises(CasgateError, match="unknown TLS 1.0 suite"):
        phone_profile(["TLS_AES_128_GCM_SHA256"])


def test_x2_never_passes_when_the_bound_certificate_cannot_be_read() -> None:
    from casgate.checks.served import judge_served_validity
    from casgate.httpsys import ServerStores

    bound_elsewhere = (Binding("https", "*", 443, "", "CCDD", "My"),)
    server = Certificate("keystore/server.crt", "AABB", "CN=hq", "CN=ca", NOW - timedelta(days=10), NOW + timedelta(days=300), False)

    stores = ServerStores(Store("certs/my/", (server,)), None)
    with pytest.raises(EvidenceError, match=r"iis/bindings.json: binding https \*:443:.*is not in LocalMachine\\My.*cannot be judged"):
        judge_served_validity(bound_elsewhere, stores, "hq.example.com", "10.1.1.10", server, NOW, 30)
    unbound = judge_served_validity((), stores, "hq.example.com", "10.1.1.10", server, NOW, 30)
    assert unbound.outcome is Outcome.PASS and "no https binding answers the phones on 443" in unbound.summary


def test_a_bound_certificate_cryptography_cannot_load_is_still_in_my_by_its_sha1() -> None:
    from casgate.certs import Unreadable

    my = Store("certs/my/", (), (Unreadable("certs/my/odd.cer", "AABB", "InvalidVersion", True, ""),))

    verdict = judge_binding((Binding("https", "*", 443, "", "AABB", "My"),), _cert("AABB"), ServerStores(my, None), "hq.example.com", "10.0.0.5")

    assert verdict.outcome is Outcome.PASS and verdict.facts["server.crt in My"] == "yes"


def _served(*thumbs: str | None, reached: bool = True) -> TlsProbe:
    """One accepted handshake per thumbprint (None: accepted, no thumbprint recorded), and one refused."""
    handshakes = {f"tls1.{n}": Handshake(f"tls1.{n}", True, "TLSv1.2", "AES128-SHA", None, reached, t) for n, t in enumerate(thumbs)}
    return TlsProbe("10.1.1.10:443 (SNI hq.example.com)", handshakes | {"tls1.3": Handshake("tls1.3", False, None, None, "alert 40")})


SHA1, OTHER = "AB" * 20, "CD" * 20


def test_the_certificate_served_on_443_is_compared_with_server_crt() -> None:
    same = judge_wire_certificate(_served(SHA1, SHA1.lower()), _cert(SHA1), "probes/tls.json")
    other = judge_wire_certificate(_served(SHA1, OTHER), _cert(SHA1), "probes/tls.json")

    assert same.outcome is Outcome.PASS
    assert other.outcome is Outcome.FAIL and f"presented {OTHER} on 443, not the keystore's server.crt ({SHA1})" in other.summary
    assert "10.1.1.10:443 (SNI hq.example.com), tls1.1: served " + OTHER in other.evidence
    assert other.remediation.index("netsh http show sslcert") < other.remediation.index("AddSslCertificate")


@pytest.mark.parametrize(("probe", "error"), [
    (_served(), "no handshake to 10.1.1.10:443 .* was accepted"),
    (_served(SHA1, reached=False), "no handshake to 10.1.1.10:443 .* was accepted"),
    (_served(SHA1, None), "handshake\\(s\\) tls1.1 recorded no certificate thumbprint"),
    (_served(SHA1 + "00"), "handshake\\(s\\) tls1.0: the certificate thumbprint is not a SHA-1"),
])
def test_the_served_certificate_unknown_is_not_judged(probe: TlsProbe, error: str) -> None:
    with pytest.raises(EvidenceError, match=f"probes/tls.json: {error}"):
        judge_wire_certificate(probe, _cert(SHA1), "probes/tls.json")


@pytest.mark.parametrize(("os_version", "route"), [
    ("Microsoft Windows Server 2012 R2 Standard 6.3.9600", "registry"),
    ("Microsoft Windows Server 2016 Datacenter 10.0.14393", "cmdlet"),
    ("Microsoft Windows Server 2022 Standard 10.0.20348", "cmdlet"),
    ("", "both"),
])
def test_the_cipher_fix_is_the_one_the_servers_windows_has(os_version: str, route: str) -> None:
    """Enable-TlsCipherSuite first ships with Server 2016: 2012 R2 gets the policy value, backed up before it changes."""
    verdict = judge_phone_ciphers(_registry(), _probe(True, False), DEFAULT_PHONE_PROFILE, os_version)
    fix = verdict.remediation

    assert verdict.outcome is Outcome.FAIL
    assert ("Enable-TlsCipherSuite -Name" in fix) is (route != "registry")
    assert ("Set-ItemProperty" in fix) is (route != "cmdlet")
    if route != "cmdlet":
        assert fix.index("  reg export ") < fix.index("  Set-ItemProperty") and f"-Value ('{DEFAULT_PHONE_PROFILE[0]}," in fix
    if route == "both":
        assert "On Windows Server 2012 R2 (Windows PowerShell 4.0):" in fix
