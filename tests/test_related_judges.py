"""The related causes' judges (X2-X6) on hand-made certificates: validity edges, RFC 6125 name matching, the stale
Mitel root, the trusted issuer list's size at its limits, and the chain's issuer, signature and CA flags."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casgate.certs import Certificate, Store, describe
from casgate.checks.chain import judge_chain
from casgate.checks.issuer_list import LIMIT, NEAR, judge_issuer_list
from casgate.checks.mitel_root import judge_mitel_root_itself
from casgate.checks.served import judge_name_match, judge_served_validity
from casgate.der import certificate_parts
from casgate.errors import EvidenceError
from casgate.evidence import Binding
from casgate.httpsys import ServerStores
from casgate.regfile import RegistryView, parse_reg
from casgate.schannel import SCHANNEL
from casgate.verdict import Outcome
from tests.pki_craft import AT, build

SERVER_2019 = "Microsoft Windows Server 2019 Standard 10.0.17763"
KEY = ec.generate_private_key(ec.SECP256R1())


def _cert(cn: str, *, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None, key: ec.EllipticCurvePrivateKey = KEY,
          days: tuple[float, float] = (-365, 365), san: list[x509.GeneralName] | None = None, ca: bool | None = None,
          usage: bool | None = None, extra_name: str = "") -> Certificate:
    """A certificate valid from AT+days[0] to AT+days[1]; self-signed unless `issuer` (its name and key) is given."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if extra_name:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, extra_name))
    name = x509.Name(attributes)
    issuer_name, signer = issuer or (name, key)
    return describe(build(name, key, signer, issuer_name, days=days, ca=ca, cert_sign=usage, san=san), f"{cn}.cer")


ADDRESS = "10.1.1.10"  # the manifest's address: the phones reach the wildcard binding there


def _bound(cert: Certificate) -> tuple[tuple[Binding, ...], ServerStores]:
    return (Binding("https", "*", 443, "", cert.thumbprint, "My"),), ServerStores(Store("certs/my/", (cert,)), None)


@pytest.mark.parametrize(("days", "outcome", "said"), [
    ((-365, 365), Outcome.PASS, "valid for 365 day(s) more"),
    ((-365, 10), Outcome.WARN, "expires 10 day(s) after collection (warning at 30 day(s))"),
    ((-365, 30), Outcome.WARN, "expires 30 day(s) after collection (warning at 30 day(s))"),
    ((-365, 30.5), Outcome.PASS, "valid for 30 day(s) 12:00:00 more"),  # past the limit, and said so: never "30 day(s)"
    ((-365, -1), Outcome.FAIL, "expired 1 day(s) before collection"),
    ((-365, -0.25), Outcome.FAIL, "expired 0 day(s) 06:00:00 before collection"),
    ((-365, 0), Outcome.FAIL, "expired 0 day(s) before collection"),  # OpenSSL's reading: expired from the notAfter second
    ((2, 365), Outcome.FAIL, "not valid until 2026-11-22 06:00:00Z (2 day(s) after collection)"),
], ids=["valid", "expiring", "at-the-limit", "half-a-day-past-the-limit", "expired", "expired-hours-ago", "expires-at-collection",
        "not-yet-valid"])
def test_served_validity_at_collection_time(days: tuple[float, float], outcome: Outcome, said: str) -> None:
    cert = _cert("hq.example.com", days=days)

    verdict = judge_served_validity(*_bound(cert), "hq.example.com", ADDRESS, cert, AT, 30)

    assert verdict.outcome is outcome
    assert verdict.evidence[0].startswith("served on https/443 = keystore server.crt:") and verdict.evidence[0].endswith(said)


def test_an_expired_server_crt_fails_even_when_iis_serves_another_valid_certificate() -> None:
    served, keystore = _cert("hq.example.com"), _cert("hq.example.com", days=(-700, -30))

    verdict = judge_served_validity(*_bound(served), "hq.example.com", ADDRESS, keystore, AT, 30)

    assert verdict.outcome is Outcome.FAIL
    assert set(verdict.facts) == {"served on https/443", "keystore server.crt"}
    assert "RemoveSslCertificate()" in verdict.remediation


def test_name_in_san_passes_and_another_name_fails() -> None:
    good = _cert("whatever", san=[x509.DNSName("*.example.com")])
    wrong = _cert("hq-old.example.com", san=[x509.DNSName("hq-old.example.com")])
    local = _cert("HQ", san=[x509.DNSName("*.local")])  # a wildcard over a whole second-level label

    assert judge_name_match(*_bound(good), "hq.example.com", ADDRESS).outcome is Outcome.PASS
    verdict = judge_name_match(*_bound(wrong), "hq.example.com", ADDRESS)
    assert verdict.outcome is Outcome.FAIL and "no SAN DNS name matches hq.example.com" in verdict.summary
    assert f"Get-Item Cert:\\LocalMachine\\My\\{wrong.thumbprint}" in verdict.remediation
    refused = judge_name_match(*_bound(local), "mitelhq.local", ADDRESS)
    assert refused.outcome is Outcome.FAIL and "neither OpenSSL nor Qt matches mitelhq.local" in refused.evidence[1]


def test_a_cn_beside_other_san_names_is_what_only_the_phones_qt_accepts() -> None:
    """Qt's QSslSocket checks every CN even when SAN DNS names are present; OpenSSL and RFC 6125 6.4.4 do not: the
    phones connect, so it is a warning (not a pass, not a failure) whose evidence names the stack that decides."""
    cert = _cert("hq.example.com", san=[x509.DNSName("hq-old.example.com")])

    verdict = judge_name_match(*_bound(cert), "hq.example.com", ADDRESS)

    assert verdict.outcome is Outcome.WARN
    assert "Qt (the phones' QSslSocket) accepts hq.example.com by CN hq.example.com; OpenSSL's X509_check_host refuses it: " \
           "the stacks differ, the phones' Qt decides" in verdict.evidence[1]


def test_a_unicode_fqdn_matches_its_a_label_in_the_san() -> None:
    cert = _cert("x", san=[x509.DNSName("xn--mnchen-3ya.example.com")])

    verdict = judge_name_match(*_bound(cert), "münchen.example.com", ADDRESS)

    assert verdict.outcome is Outcome.PASS
    assert "xn--mnchen-3ya.example.com matches SAN DNS xn--mnchen-3ya.example.com (OpenSSL and Qt agree)" in verdict.evidence[1]


def test_cn_only_certificate_warns_as_a_deprecated_fallback() -> None:
    verdict = judge_name_match(*_bound(_cert("hq.example.com")), "hq.example.com", ADDRESS)

    assert verdict.outcome is Outcome.WARN and "RFC 6125 6.4.4" in verdict.summary


def test_an_address_needs_an_ip_san_entry() -> None:
    import ipaddress

    with_ip = _cert("hq", san=[x509.IPAddress(ipaddress.ip_address("10.1.1.10"))])
    dns_only = _cert("10.1.1.10", san=[x509.DNSName("10.1.1.10")])

    assert judge_name_match(*_bound(with_ip), "10.1.1.10", ADDRESS).outcome is Outcome.PASS
    assert judge_name_match(*_bound(_cert("hq", san=[x509.DNSName("hq")])), "10.1.1.10", ADDRESS).outcome is Outcome.FAIL
    as_text = judge_name_match(*_bound(dns_only), "10.1.1.10", ADDRESS)  # Qt compares the address as text too; OpenSSL only IP entries
    assert as_text.outcome is Outcome.WARN and "the phones' Qt decides" in as_text.evidence[1]


def test_no_served_certificate_cannot_be_judged_for_its_name() -> None:
    with pytest.raises(EvidenceError, match="served name cannot be read"):
        judge_name_match((), ServerStores(Store("certs/my/", ()), None), "hq.example.com", ADDRESS)


def test_stale_mitel_root_with_another_key_fails_and_a_reissue_with_the_same_key_does_not() -> None:
    mitel = _cert("Mitel Manufacturing CA", ca=True)
    same_key = _cert("Mitel Manufacturing CA", ca=True, days=(-30, 3000))
    other_key = _cert("Mitel Manufacturing CA", ca=True, key=ec.generate_private_key(ec.SECP256R1()))

    assert judge_mitel_root_itself(mitel, Store("certs/root/", (mitel, same_key)), AT, 30).outcome is Outcome.PASS
    verdict = judge_mitel_root_itself(mitel, Store("certs/root/", (mitel, other_key)), AT, 30)
    assert verdict.outcome is Outcome.FAIL
    assert f"Remove-Item Cert:\\LocalMachine\\Root\\{other_key.thumbprint}" in verdict.remediation
    assert mitel.thumbprint not in verdict.remediation.split("Import-Certificate")[0].split("$backup")[-1]


def test_expired_mitel_root_fails_without_touching_1b() -> None:
    expired = _cert("Mitel Manufacturing CA", ca=True, days=(-3650, -1))

    verdict = judge_mitel_root_itself(expired, Store("certs/root/", ()), AT, 30)

    assert verdict.outcome is Outcome.FAIL and "expired" in verdict.summary
    assert "LocalMachine\\Root: not there (cause 1b)" in verdict.evidence


def _registry(value: int | None) -> RegistryView:
    line = "" if value is None else f'"SendTrustedIssuerList"=dword:{value:08x}\r\n'
    view = RegistryView()
    parse_reg(f"Windows Registry Editor Version 5.00\r\n\r\n[{SCHANNEL}]\r\n{line}", "registry/schannel.reg", view)
    return view


def _subject_size(cert: Certificate) -> int:
    return len(certificate_parts(cert.der).subject) + 2


def _roots(total: int) -> Store:
    """Self-signed roots whose subjects, with a 2-byte length each, add up to exactly `total` bytes."""
    certs: list[Certificate] = []
    while total - sum(map(_subject_size, certs)) > 120:  # the last name stays under 128 bytes: DER's short length form
        certs.append(_cert(f"Root {len(certs):04}", extra_name="u" * 30))
    rest = total - sum(map(_subject_size, certs))
    last = _cert("R", extra_name="u" * (1 + rest - _subject_size(_cert("R", extra_name="u"))))
    assert _subject_size(last) == rest
    return Store("certs/root/", (*certs, last))


@pytest.mark.parametrize(("total", "outcome"), [(NEAR, Outcome.PASS), (NEAR + 1, Outcome.WARN), (LIMIT, Outcome.WARN), (LIMIT + 1, Outcome.FAIL)])
def test_issuer_list_size_at_its_limits(total: int, outcome: Outcome) -> None:
    verdict = judge_issuer_list(_registry(1), _roots(total), SERVER_2019)

    assert verdict.outcome is outcome, verdict.summary
    assert any(f"= {total:,} bytes" in line for line in verdict.evidence)


@pytest.mark.parametrize("value", [None, 0])
def test_issuer_list_not_sent_passes_without_measuring(value: int | None) -> None:
    verdict = judge_issuer_list(_registry(value), Store("certs/root/", ()), SERVER_2019)

    assert verdict.outcome is Outcome.PASS and verdict.summary.endswith("not sent")


def _ca(usage: bool | None = True, ca: bool = True, days: tuple[int, int] = (-365, 3650)) -> tuple[Certificate, tuple[x509.Name, ec.EllipticCurvePrivateKey], ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("HQ Local CA", key=key, ca=ca, usage=usage, days=days)
    return cert, (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "HQ Local CA")]), key), key


def test_chain_passes_and_each_break_fails() -> None:
    ca, issuer, _ = _ca()
    server = _cert("hq.example.com", issuer=issuer)
    other_ca, _, _ = _ca()  # same name, another key
    no_sign, no_sign_issuer, _ = _ca(usage=False)
    not_ca, not_ca_issuer, _ = _ca(ca=False)
    expired, expired_issuer, _ = _ca(days=(-3650, -1))

    assert judge_chain(server, ca, AT, 30).outcome is Outcome.PASS
    assert "does not verify with ca.crt's key" in judge_chain(server, other_ca, AT, 30).summary
    assert "is not ca.crt's subject" in judge_chain(_cert("hq.example.com"), ca, AT, 30).summary
    assert "lacks keyCertSign" in judge_chain(_cert("hq", issuer=no_sign_issuer), no_sign, AT, 30).summary
    assert "not a CA certificate" in judge_chain(_cert("hq", issuer=not_ca_issuer), not_ca, AT, 30).summary
    assert "ca.crt is expired" in judge_chain(_cert("hq", issuer=expired_issuer), expired, AT, 30).summary


def test_chain_notes_a_ca_without_key_usage() -> None:
    ca, issuer, _ = _ca(usage=None)

    verdict = judge_chain(_cert("hq", issuer=issuer), ca, AT, 30)

    assert verdict.outcome is Outcome.PASS
    assert any("no keyUsage extension" in line for line in verdict.evidence)


def test_x2_x3_judge_the_binding_the_phones_reach_not_another_sites_sni_binding() -> None:
    """Another site's SNI binding (sslFlags 1) with its own expired certificate for its own name is that site's business:
    X2 and X3 judge what HTTP.sys serves the phones (httpsys.phones_binding, as cause 2 does), found in its own store."""
    hq = _cert("hq.example.com", days=(-10, 300), san=[x509.DNSName("hq.example.com")])
    other = _cert("intranet.example.com", days=(-400, -5), san=[x509.DNSName("intranet.example.com")])
    bindings = (Binding("https", "*", 443, "", hq.thumbprint, "WebHosting", 0),
                Binding("https", "*", 443, "intranet.example.com", other.thumbprint, "My", 1))
    stores = ServerStores(Store("certs/my/", (other,)), Store("certs/webhosting/", (hq,)))

    named = judge_name_match(bindings, stores, "hq.example.com", ADDRESS)
    valid = judge_served_validity(bindings, stores, "hq.example.com", ADDRESS, hq, AT, 30)

    assert named.outcome is Outcome.PASS and other.thumbprint not in " ".join(named.evidence)
    assert valid.outcome is Outcome.PASS and other.thumbprint not in " ".join(valid.evidence)
