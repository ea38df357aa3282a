"""casgate/pki.py, the one answer to each semantic certificate question, and the judges that must ask it: names by
RFC 5280 7.1, keys by value, signatures of every algorithm (never "does not chain" for one it cannot check), trust
anchors without extensions. Certificates here are crafted (tests/pki_craft.py); the real ones and OpenSSL's answers
are in tests/test_pki_oracle.py."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.name import _ASN1Type

from casgate import pki
from casgate.certs import Store
from casgate.checks.chain import judge_chain
from casgate.checks.mitel_root import judge_mitel_root_itself
from casgate.checks.root_store import judge_mitel_root
from casgate.errors import EvidenceError
from casgate.verdict import Outcome
from tests.pki_craft import AT, EC_KEYS, RSA_KEYS, UNKNOWN_ALGORITHM, Raw, build, certificate, der, name, resign

CHECKS = Path(__file__).parents[1] / "casgate" / "checks"


def test_no_judge_imports_cryptography_for_a_question_pki_answers() -> None:
    """Issue 18's done-when: judges compare names, keys, signatures and host names only through casgate.pki."""
    for module in sorted(CHECKS.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] == "cryptography"}, module.name
        calls = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not calls & {"verify_directly_issued_by", "public_key", "get_attributes_for_oid", "tbs_certificate_bytes"}, module.name


def _rdn(*attributes: tuple[str, int, bytes]) -> bytes:
    """One RDN (a SET) of (OID content hex, string tag, value)."""
    return der(0x31, b"".join(der(0x30, der(0x06, bytes.fromhex(oid)) + der(tag, value)) for oid, tag, value in attributes))


CN, O = "550403", "55040a"  # 2.5.4.3, 2.5.4.10
UTF8, PRINTABLE, BMP, IA5 = 0x0C, 0x13, 0x1E, 0x16


@pytest.mark.parametrize(("a", "b", "same"), [
    ([_rdn((CN, UTF8, b"HQ CA"))], [_rdn((CN, PRINTABLE, b"HQ CA"))], True),
    ([_rdn((CN, UTF8, b"HQ CA"))], [_rdn((CN, BMP, "HQ CA".encode("utf-16-be")))], True),
    ([_rdn((CN, UTF8, b"HQ CA"))], [_rdn((CN, UTF8, b"  hq \t\n ca "))], True),
    ([_rdn((CN, UTF8, "Zürich".encode()))], [_rdn((CN, UTF8, "ZÜRICH".encode()))], False),  # OpenSSL folds ASCII only
    ([_rdn((O, UTF8, b"Corp"), (CN, UTF8, b"CA"))], [_rdn((CN, UTF8, b"CA"), (O, UTF8, b"Corp"))], True),  # one RDN, any order
    ([_rdn((O, UTF8, b"Corp")), _rdn((CN, UTF8, b"CA"))], [_rdn((CN, UTF8, b"CA")), _rdn((O, UTF8, b"Corp"))], False),
    ([_rdn((O, UTF8, b"Corp")), _rdn((CN, UTF8, b"CA"))], [_rdn((O, UTF8, b"Corp"), (CN, UTF8, b"CA"))], False),
    ([_rdn((CN, UTF8, b"CA"))], [_rdn((O, UTF8, b"CA"))], False),
    ([_rdn((CN, UTF8, b"HQ CA"))], [_rdn((CN, UTF8, b"HQ-CA"))], False),
    ([_rdn((CN, IA5, b"HQ CA"))], [_rdn((CN, 0x04, b"HQ CA"))], False),  # an OCTET STRING value is compared as bytes
], ids=["printable-utf8", "bmp-utf8", "case-and-spaces", "non-ascii-case", "multi-valued-rdn-order", "rdn-order",
        "rdn-grouping", "attribute-type", "hyphen", "non-string-value"])
def test_same_name_is_rfc5280_section_7_1_as_openssl_compares(a: list[bytes], b: list[bytes], same: bool) -> None:
    assert pki.same_name(der(0x30, b"".join(a)), der(0x30, b"".join(b))) is same


def test_an_unreadable_name_is_the_same_only_as_itself() -> None:
    assert pki.same_name(b"\x30\x05junk", b"\x30\x05junk") and not pki.same_name(b"\x30\x05junk", b"\x30\x05jUnk")


def test_same_key_reads_rsa_with_and_without_null_parameters_as_one_key() -> None:
    root = build(name(("CN", "Mitel Manufacturing CA")), RSA_KEYS[0], RSA_KEYS[0], ca=True)
    with_null, without_null = certificate(root, "a.cer"), certificate(resign(root, RSA_KEYS[0], drop_null=True), "b.cer")

    assert pki.same_key(with_null, without_null) and with_null.der != without_null.der
    assert not pki.same_key(with_null, certificate(build(name(("CN", "x")), RSA_KEYS[1], RSA_KEYS[1]), "c.cer"))
    with pytest.raises(EvidenceError, match="^junk.cer: its names and key cannot be read"):
        pki.same_key(with_null, Raw(b"\x30\x03\x02\x01\x00", "junk.cer"))


def test_x4_keeps_the_mitel_root_written_without_null_parameters_and_finds_a_stale_copy_under_another_encoding() -> None:
    """Crafted: the same Mitel root key with and without NULL parameters is no stale copy; a copy whose subject is a
    PrintableString (the keystore's is UTF8String) with another key is one, and its removal is printed."""
    mitel_x509 = build(name(("CN", "Mitel Manufacturing CA")), RSA_KEYS[0], RSA_KEYS[0], ca=True, days=(-365, 3650))
    mitel = certificate(mitel_x509, "keystore/Mitel_mfg_ca.crt")
    same_key = certificate(resign(mitel_x509, RSA_KEYS[0], drop_null=True), "root/mitel-no-null.cer")
    stale = certificate(build(name(("CN", "MITEL manufacturing CA", _ASN1Type.PrintableString)), RSA_KEYS[1], RSA_KEYS[1], ca=True),
                        "root/old-mitel.cer")

    kept = judge_mitel_root_itself(mitel, Store("certs/root/", (mitel, same_key)), AT, 30)
    found = judge_mitel_root_itself(mitel, Store("certs/root/", (mitel, same_key, stale)), AT, 30)

    assert kept.outcome is Outcome.PASS and kept.facts["same subject, another key in Root"] == ()
    assert found.outcome is Outcome.FAIL and found.facts["same subject, another key in Root"] == (stale.thumbprint,)
    assert f"Remove-Item Cert:\\LocalMachine\\Root\\{stale.thumbprint}" in found.remediation
    assert same_key.thumbprint not in found.remediation and mitel.thumbprint not in found.remediation.split("Import-Certificate")[0]


def test_1b_lists_a_root_under_the_mitel_subject_whatever_its_string_type() -> None:
    mitel = certificate(build(name(("CN", "Mitel Manufacturing CA")), EC_KEYS[0], EC_KEYS[0], ca=True), "keystore/Mitel_mfg_ca.crt")
    other = certificate(build(name(("CN", "Mitel Manufacturing CA", _ASN1Type.PrintableString)), EC_KEYS[1], EC_KEYS[1]), "root/x.cer")

    verdict = judge_mitel_root(Store("certs/root/", (other,)), mitel)

    assert verdict.outcome is Outcome.FAIL
    assert f"same subject, other thumbprint: {other.describe()}" in verdict.evidence


def test_x6_never_calls_an_unverifiable_signature_a_broken_chain() -> None:
    """Crafted: server.crt signed under an algorithm no code here knows (OID 1.2.3.4): not judged, never "does not chain"."""
    ca = certificate(build(name(("CN", "HQ Local CA")), RSA_KEYS[0], RSA_KEYS[0], ca=True, cert_sign=True), "keystore/ca.crt")
    server = build(name(("CN", "hq.example.com")), EC_KEYS[1], RSA_KEYS[0], name(("CN", "HQ Local CA")))
    odd = certificate(resign(server, RSA_KEYS[0], UNKNOWN_ALGORITHM), "keystore/server.crt")

    signed = pki.signed_by(odd, ca)

    assert signed.verifies is None and "cannot be checked" in signed.detail
    with pytest.raises(EvidenceError, match=r"^keystore/server.crt: server.crt's signature \(1.2.3.4\) not checked: .*whether ca.crt signed it is not known"):
        judge_chain(odd, ca, AT, 30)


def test_x6_takes_a_v1_self_signed_ca_crt_as_the_trust_anchor_it_is() -> None:
    ca = build(name(("CN", "HQ Local CA")), RSA_KEYS[0], RSA_KEYS[0])
    v1 = certificate(resign(ca, RSA_KEYS[0], v1=True), "keystore/ca.crt")
    server = certificate(build(name(("CN", "hq.example.com")), EC_KEYS[1], RSA_KEYS[0], name(("CN", "HQ Local CA"))), "keystore/server.crt")

    verdict = judge_chain(server, v1, AT, 30)

    assert verdict.outcome is Outcome.PASS, verdict
    assert any("v1 self-signed trust anchor" in line for line in verdict.evidence)


def test_x6_wants_basic_constraints_of_an_intermediate_ca_crt() -> None:
    root_key, ca_key = EC_KEYS[0], EC_KEYS[2]
    intermediate = certificate(build(name(("CN", "HQ Issuing CA")), ca_key, root_key, name(("CN", "Root")), cert_sign=True), "keystore/ca.crt")
    server = certificate(build(name(("CN", "hq")), EC_KEYS[1], ca_key, name(("CN", "HQ Issuing CA"))), "keystore/server.crt")

    verdict = judge_chain(server, intermediate, AT, 30)

    assert verdict.outcome is Outcome.FAIL and "an intermediate CA must (RFC 5280 6.1.4 k)" in verdict.summary


def test_x6_names_a_certificate_whose_extensions_cannot_be_read() -> None:
    server = certificate(build(name(("CN", "hq")), EC_KEYS[1], EC_KEYS[0], name(("CN", "HQ Local CA"))), "keystore/server.crt")

    with pytest.raises(EvidenceError, match="keystore/ca.crt: its CA extensions cannot be read"):
        judge_chain(server, replace(server, source="keystore/ca.crt", der=b"\x30\x00"), AT, 30)


@pytest.mark.parametrize(("host", "expected"), [
    ("hq.example.com", "hq.example.com"), ("HQ.Example.COM", "hq.example.com"), ("münchen.example.com", "xn--mnchen-3ya.example.com"),
    ("hq.example.com.", "hq.example.com."), ("bad..name\u00e9", None),
])
def test_the_host_is_matched_by_its_a_labels_in_lower_case(host: str, expected: str | None) -> None:
    assert pki.ace(host) == expected


def test_an_address_is_never_matched_against_a_dns_name_by_openssl() -> None:
    cert = certificate(build(name(("CN", "x")), EC_KEYS[1], EC_KEYS[0], san=[x509.DNSName("10.0.0.1")]), "my/a.cer")

    match = pki.names_host(cert, "10.0.0.1")

    assert (match.openssl, match.qt, match.accepted, match.by_san) == (None, "SAN DNS 10.0.0.1", True, False)
    assert match.line().endswith("the stacks differ, the phones' Qt decides")
