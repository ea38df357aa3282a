"""casgate's PKI layer (casgate/pki.py) and the judges on it, run side by side with real verifiers: Debian's `openssl`
(`openssl verify -partial_chain -attime … -verify_hostname …`, `openssl x509 -checkhost/-checkip/-pubkey`) and, for host
names, the phones' Qt (Debian's python3-pyqt5, Qt 5.15: QSslCertificate::verify, tests/qt_hostname_oracle.py), on real
certificates (tests/realworld/certs, the bundled Windows root store, C2SP/x509-limbo's real online chains), on
x509-limbo's cases with their expected results (tests/realworld/x509-limbo, provenance in its PROVENANCE), on NIST
PKITS's paths of sections 4.1-4.3 (tests/realworld/pkits, provenance in its corpus.toml), and on crafted edge cases
(tests/pki_craft.py). Every deliberate disagreement is listed below with its reason; a listed difference that no
longer occurs fails too, so the lists stay true."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.name import _ASN1Type

from casgate import pki
from casgate.certs import Certificate, read_certificate
from casgate.checks.chain import judge_chain
from casgate.errors import CasgateError, EvidenceError
from casgate.tomlfile import read_toml
from casgate.verdict import Outcome
from tests.pki_craft import AT, EC_KEYS, MD5_RSA, RSA_KEYS, SHA1_RSA, Raw, build, certificate, name, pem, resign

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
CERTS = Path(__file__).parent / "realworld" / "certs"
CORPUS = read_toml(CERTS / "corpus.toml", "corpus", CasgateError)["cert"]
WINDOWS_ROOTS = sorted((Path(__file__).parents[1] / "casgate" / "data" / "windows-root-store").glob("*.cer"))
PKITS = Path(__file__).parent / "realworld" / "pkits"
PKITS_PATHS = read_toml(PKITS / "corpus.toml", "corpus", CasgateError)["path"]
LIMBO = json.loads((Path(__file__).parent / "realworld" / "x509-limbo" / "limbo-subset.json").read_text(encoding="utf-8"))["testcases"]

QT_PYTHON = "/usr/bin/python3"  # Debian's interpreter, with python3-pyqt5: the phones' Qt as an oracle
QT_ORACLE = Path(__file__).parent / "qt_hostname_oracle.py"


def _openssl(*args: str) -> tuple[bool, str]:
    """(accepted, output) of one openssl run: `verify` accepts with exit 0 and "OK", `x509 -check*` with "does match"."""
    if not Path(OPENSSL).exists():
        pytest.fail("the differential suite needs Debian's openssl (apt-get install openssl); it is never skipped")
    run = subprocess.run([OPENSSL, *args], capture_output=True, text=True, timeout=30, check=False)
    said = (run.stdout + run.stderr).strip()
    return run.returncode == 0 and ("OK" in run.stdout or " does match " in run.stdout), said


def _files(folder: Path, **certs: Certificate | list[Certificate]) -> dict[str, str]:
    """Each certificate (or list) written as one PEM file; {keyword: path}."""
    paths = {}
    for key, value in certs.items():
        path = folder / f"{key}.pem"
        path.write_bytes(b"".join(pem(c) for c in (value if isinstance(value, list) else [value])))
        paths[key] = str(path)
    return paths


def openssl_verify(peer: Certificate, trusted: list[Certificate], untrusted: list[Certificate] = (), *, at: datetime | None = None,
                   host: str | None = None, partial: bool = True, check_ss_sig: bool = False) -> tuple[bool, str]:
    """`openssl verify` as the phones' OpenSSL would judge the path: trusted certificates as anchors (-partial_chain: a
    keystore ca.crt need not be a root), the time (-attime, else none checked), the host name (X509_check_host)."""
    with tempfile.TemporaryDirectory() as folder:
        files = _files(Path(folder), peer=peer, trusted=trusted, **({"untrusted": list(untrusted)} if untrusted else {}))
        args = ["verify", "-CAfile", files["trusted"], *(["-untrusted", files["untrusted"]] if untrusted else [])]
        args += ["-partial_chain"] if partial else []
        args += ["-check_ss_sig"] if check_ss_sig else []
        args += ["-attime", str(int(at.timestamp()))] if at else ["-no_check_time"]
        args += ["-verify_hostname", host] if host else []
        return _openssl(*args, files["peer"])


# --- 1. Signatures on real certificates: every self-signed root and every issued pair of the corpus ------------

def _real(file: str) -> Certificate | Raw:
    """A corpus certificate as casgate reads it; one cryptography refuses, by its DER (pki reads it from there)."""
    cert = read_certificate(CERTS / file, file)
    return cert if isinstance(cert, Certificate) else Raw(_der(CERTS / file), file)


def _der(path: Path) -> bytes:
    data = path.read_bytes()
    return base64.b64decode(b"".join(data.split(b"-----")[2].split())) if data.startswith(b"-----") else data


SIGNED_PAIRS = [(e["file"], e["file"] if e["expect"] == "self-signed" else e["signed_by"]) for e in CORPUS
                if e["expect"] == "self-signed" or "signed_by" in e]
# Real same-name-other-key pairs: the certificate's issuer name is the CA's subject, but another key signed it.
FOREIGN_PAIRS = [("not-roots/pkits-sneaky-self-issued-old-with-new.crt", "not-roots/pkits-basic-self-issued-old-key-ca.crt"),
                 ("not-roots/pkits-sneaky-self-issued-new-with-old.crt", "not-roots/pkits-basic-self-issued-new-key-ca.crt"),
                 ("not-roots/rfc8410-sneaky-x25519-ietf-test-demo.pem", "roots/ed448-demo-ca.pem")]

# Certificates whose signature one side cannot check: casgate says "not checked" (never "does not chain").
UNVERIFIABLE = {
    "roots/verisign-class3-md2.pem": "MD2: neither cryptography nor OpenSSL 3.0 verifies it; 1a's rule (Issuer == Subject) decides, said in a note",
    "roots/verisign-commercial-software-publishers-ca-md2.pem": "MD2, as above",
    "roots/gost-minsvyaz-head-ca.der": "GOST R 34.10-2001: no code here (nor OpenSSL without the gost engine) reads the key",
}
# Where casgate and OpenSSL 3.0 answer differently about a real signature, and why casgate keeps its answer.
SIGNATURE_DIFFERENCES = {
    "roots/rsa-pss-rootca-bootstrap.pem": "RSA-PSS over SHA-1 (MGF1-SHA1): OpenSSL 3.0's verify reports 'certificate signature "
                                          "failure', cryptography verifies it with the certificate's own key; the corpus records it "
                                          "as self-signed (checked by hand), and so does casgate",
}


def _links(child: Certificate, issuer: Certificate) -> bool | None:
    """casgate's answer to "does `issuer` issue `child`": names (RFC 5280 7.1) and signature; None when not checkable."""
    if not pki.same_name(pki.issuer_of(child), pki.subject_of(issuer)):
        return False
    return pki.signed_by(child, issuer).verifies


@pytest.mark.parametrize(("child", "issuer"), SIGNED_PAIRS + FOREIGN_PAIRS, ids=[c.split("/")[-1] for c, _ in SIGNED_PAIRS + FOREIGN_PAIRS])
def test_real_signatures_agree_with_openssl(child: str, issuer: str) -> None:
    ours = _links(_real(child), _real(issuer))
    theirs, said = openssl_verify(_real(child), [_real(issuer)], check_ss_sig=child == issuer)

    if child in UNVERIFIABLE:
        assert ours is None and not theirs, said
    elif child in SIGNATURE_DIFFERENCES:
        assert ours is True and not theirs and "signature failure" in said
    else:
        assert ours is ((child, issuer) in SIGNED_PAIRS), child
        assert ours is theirs, said


@pytest.mark.parametrize("path", WINDOWS_ROOTS, ids=[p.name for p in WINDOWS_ROOTS])
def test_the_bundled_windows_roots_verify_as_openssl_verifies_them(path: Path) -> None:
    root = read_certificate(path, path.name)
    assert isinstance(root, Certificate)

    assert pki.signed_by(root, root).verifies is openssl_verify(root, [root], check_ss_sig=True)[0] is True


ISSUED_PAIRS = [(c, i) for c, i in SIGNED_PAIRS if c != i and all(isinstance(_real(f), Certificate) for f in (c, i))]


@pytest.mark.parametrize(("child", "issuer"), ISSUED_PAIRS, ids=[c.split("/")[-1] for c, _ in ISSUED_PAIRS])
def test_x6_on_real_issued_pairs_agrees_with_openssl(child: str, issuer: str) -> None:
    """Real pairs as server.crt and ca.crt, judged inside both validity periods: among them a SHA-1 certificate issued by
    GTE CyberTrust Global Root, a v1 root without extensions (X6 once called it "not a CA" and refused SHA-1)."""
    server_crt, ca_crt = _real(child), _real(issuer)
    start, end = max(server_crt.not_before, ca_crt.not_before), min(server_crt.not_after, ca_crt.not_after)
    at = start + (end - start) / 2

    verdict = judge_chain(server_crt, ca_crt, at, 0)

    assert verdict.outcome is Outcome.PASS, verdict
    assert openssl_verify(server_crt, [ca_crt], at=at)[0]


def test_the_real_pairs_hold_a_sha1_certificate_under_a_v1_root() -> None:
    assert any(_real(c).signature_algorithm == "sha1WithRSAEncryption" and pki.ca_extensions(_real(i)).version == 1
               for c, i in ISSUED_PAIRS)


# --- 2. X6 on crafted keystores (made here: ShoreTel/Mitel keystores are not public) ---------------------------

def _keystore_cases() -> dict[str, tuple[Certificate, Certificate]]:
    """{case: (server.crt, ca.crt)}; every certificate crafted by tests/pki_craft.py."""
    rsa_ca_name, ec_ca_name = name(("O", "casgate crafted"), ("CN", "HQ Local CA")), name(("CN", "HQ Local CA"))
    rsa_ca = build(rsa_ca_name, RSA_KEYS[0], RSA_KEYS[0], ca=True, cert_sign=True)
    ec_ca = build(ec_ca_name, EC_KEYS[0], EC_KEYS[0], ca=True, cert_sign=True)

    def server(issuer: x509.Name, signer=EC_KEYS[0]) -> x509.Certificate:
        return build(name(("CN", "hq.example.com")), EC_KEYS[1], signer, issuer, days=(-30, 300))

    def ca(subject: x509.Name = ec_ca_name, key=EC_KEYS[0], **kwargs) -> x509.Certificate:
        return build(subject, key, key, **kwargs)

    printable = name(("CN", "HQ Local CA", _ASN1Type.PrintableString))
    spaced = name(("CN", "  hq  LOCAL\tca "))
    intermediate_name = name(("CN", "HQ Issuing CA"))
    crafted = {
        "sha256-ecdsa": (server(ec_ca_name), ec_ca),
        "sha1-rsa": (resign(server(rsa_ca_name, RSA_KEYS[0]), RSA_KEYS[0], SHA1_RSA), rsa_ca),
        "md5-rsa": (resign(server(rsa_ca_name, RSA_KEYS[0]), RSA_KEYS[0], MD5_RSA), rsa_ca),
        "issuer-printablestring-subject-utf8string": (server(printable), ec_ca),
        "issuer-case-and-spaces-differ": (server(spaced), ec_ca),
        "issuer-non-ascii-case-differs": (server(name(("CN", "ZÜRICH CA"))), ca(name(("CN", "Zürich CA")), ca=True, cert_sign=True)),
        "issuer-is-another-name": (server(name(("CN", "Other CA"))), ec_ca),
        "same-name-other-key": (server(ec_ca_name, EC_KEYS[2]), ec_ca),
        "ca-rsa-key-without-null-parameters": (server(rsa_ca_name, RSA_KEYS[0]), resign(rsa_ca, RSA_KEYS[0], drop_null=True)),
        "ca-v1-self-signed": (server(rsa_ca_name, RSA_KEYS[0]), resign(rsa_ca, RSA_KEYS[0], v1=True)),
        "ca-basic-constraints-false": (server(ec_ca_name), ca(ca=False, cert_sign=True)),
        "ca-key-usage-without-cert-sign": (server(ec_ca_name), ca(ca=True, cert_sign=False)),
        "ca-v3-key-usage-only": (server(ec_ca_name), ca(cert_sign=True)),
        "ca-v3-no-ca-extension": (server(ec_ca_name), ca(san=[x509.DNSName("ca.example.com")])),
        "ca-expired": (server(ec_ca_name), ca(ca=True, cert_sign=True, days=(-3650, -1))),
        "ca-not-yet-valid": (server(ec_ca_name), ca(ca=True, cert_sign=True, days=(1, 3650))),
        "ca-intermediate": (server(intermediate_name, EC_KEYS[2]),
                            build(intermediate_name, EC_KEYS[2], EC_KEYS[0], ec_ca_name, ca=True, cert_sign=True)),
        "ca-intermediate-key-usage-only": (server(intermediate_name, EC_KEYS[2]),
                                           build(intermediate_name, EC_KEYS[2], EC_KEYS[0], ec_ca_name, cert_sign=True)),
    }
    return {case: (certificate(s, "keystore/server.crt"), certificate(c, "keystore/ca.crt")) for case, (s, c) in crafted.items()}


KEYSTORES = _keystore_cases()
X6_ACCEPTS = {"sha256-ecdsa", "sha1-rsa", "md5-rsa", "issuer-printablestring-subject-utf8string", "issuer-case-and-spaces-differ",
              "ca-rsa-key-without-null-parameters", "ca-v1-self-signed", "ca-v3-key-usage-only", "ca-intermediate"}
# Where X6 and `openssl verify -partial_chain` (default flags, as the phones) differ, and why.
X6_DIFFERENCES = {
    "ca-intermediate-key-usage-only": "an intermediate ca.crt without basicConstraints: RFC 5280 6.1.4 (k) refuses it as a CA; "
                                      "OpenSSL without -x509_strict takes keyCertSign alone (X509_check_ca returns 4). casgate "
                                      "follows the RFC: a CA certificate an X.509 path validator may refuse is a finding",
}


@pytest.mark.parametrize("case", sorted(KEYSTORES))
def test_x6_agrees_with_openssl_verify_on_crafted_keystores(case: str) -> None:
    server_crt, ca_crt = KEYSTORES[case]

    verdict = judge_chain(server_crt, ca_crt, AT, 0)
    theirs, said = openssl_verify(server_crt, [ca_crt], at=AT)

    assert (verdict.outcome is not Outcome.FAIL) is (case in X6_ACCEPTS), verdict
    assert ((verdict.outcome is not Outcome.FAIL) is theirs) is (case not in X6_DIFFERENCES), said


# --- 3. Host names: OpenSSL's X509_check_host and Qt's QSslCertificate::verify, both run for real ------------------

# (SAN DNS names, CN, host, what Qt's QSslSocketPrivate::isMatchingHostname answers). Crafted certificates.
HOSTS = [
    (["hq.example.com"], "x", "hq.example.com", True),
    (["HQ.Example.COM"], "x", "hq.example.com", True),
    (["hq.example.com"], "x", "HQ.EXAMPLE.com", True),
    (["hq.example.com"], "x", "hq.example.com.", False),  # a trailing dot: neither strips it
    (["*.example.com"], "x", "hq.example.com", True),
    (["*.example.com"], "x", "a.hq.example.com", False),
    (["*.example.com"], "x", "example.com", False),
    (["*.local"], "x", "mitelhq.local", False),  # a wildcard over a whole second-level label
    (["*.com"], "x", "example.com", False),
    (["hq.*.com"], "x", "hq.example.com", False),
    (["*.*.com"], "x", "a.b.com", False),
    (["h*.example.com"], "x", "hq.example.com", True),  # a partial-label wildcard ending the label: both accept
    (["*q.example.com"], "x", "hq.example.com", False),  # ... starting it: OpenSSL accepts, Qt does not
    (["h*q.example.com"], "x", "hq.example.com", False),
    (["xn--*-1b3c148a.example.com"], "x", "xn--bliss-1b3c148a.example.com", False),
    (["*.xn--mnchen-3ya.de"], "x", "hq.xn--mnchen-3ya.de", True),
    (["xn--mnchen-3ya.example.com"], "x", "münchen.example.com", True),  # a Unicode host matches its A-label
    (["xn--mnchen-3ya.example.com"], "x", "MÜNCHEN.example.com", True),
    ([], "hq.example.com", "hq.example.com", True),  # CN only: both fall back to it
    ([], "*.example.com", "hq.example.com", True),
    (["other.example.com"], "hq.example.com", "hq.example.com", True),  # CN beside SAN DNS: Qt only
    ([], "10.1.1.10", "10.1.1.10", True),  # an address as a CN: Qt only (OpenSSL checks IP entries)
    (["10.1.1.10"], "x", "10.1.1.10", True),
    (["*.1.1.10"], "x", "10.1.1.10", False),
]
# Where Qt and OpenSSL answer differently: the phones' Qt decides X3 (a warning when only Qt accepts).
HOST_DIFFERENCES = {
    "*q.example.com hq.example.com": "OpenSSL's valid_star allows a wildcard at the start of the label, Qt only at its end",
    "other.example.com hq.example.com": "Qt checks every CN even beside SAN DNS names; OpenSSL (and RFC 6125 6.4.4) only without them",
    " 10.1.1.10": "Qt compares an address as text with CNs and DNS names too; OpenSSL's X509_check_ip only with SAN IP entries",
    "10.1.1.10 10.1.1.10": "as above, for a DNS name that is an address",
}


@lru_cache(maxsize=None)
def _host_cert(sans: tuple[str, ...], cn: str) -> Certificate:
    """One crafted served certificate per SAN list and CN (the same object for OpenSSL, Qt and casgate)."""
    san = [x509.DNSName(s) for s in sans] if sans else None
    return certificate(build(name(("CN", cn)), EC_KEYS[1], EC_KEYS[0], name(("CN", "HQ Local CA")), san=san), "my/served.cer")


def _host_cases() -> list[tuple[Certificate | Raw, str]]:
    """Every (certificate, host) the host-name tests ask about: crafted, real, and x509-limbo's peers."""
    return ([(_host_cert(tuple(sans), cn), host) for sans, cn, host, _ in HOSTS] + [(_real(f), h) for f, h in REAL_HOSTS]
            + [(_limbo_cert(c["peer_certificate"], "peer"), c["expected_peer_name"]["value"]) for c in LIMBO])


@pytest.fixture(scope="module")
def qt_accepts() -> dict[tuple[bytes, str], bool]:
    """Real Qt's answer for every host case, from one run of tests/qt_hostname_oracle.py under Debian's python3-pyqt5."""
    cases = _host_cases()
    run = subprocess.run([QT_PYTHON, str(QT_ORACLE)], input=json.dumps([[pem(c).decode(), h] for c, h in cases]),
                         capture_output=True, text=True, timeout=120, check=False)
    if run.returncode != 0:
        pytest.fail(f"the Qt oracle needs Debian's python3-pyqt5 (apt-get install python3-pyqt5); it is never skipped: {run.stderr[-500:]}")
    answer = json.loads(run.stdout)
    assert answer["qt"].startswith("5.15.")
    return {(c.der, h): accepted for (c, h), accepted in zip(cases, answer["accepts"], strict=True)}


@pytest.mark.parametrize(("sans", "cn", "host", "qt"), HOSTS, ids=[f"{h}-{','.join(s) or 'cn:' + c}" for s, c, h, _ in HOSTS])
def test_host_names_agree_with_openssl_and_qt(sans: list[str], cn: str, host: str, qt: bool, qt_accepts: dict) -> None:
    cert = _host_cert(tuple(sans), cn)
    match = pki.names_host(cert, host)
    with tempfile.TemporaryDirectory() as folder:
        files = _files(Path(folder), cert=cert)
        literal = pki.address(host) is not None
        theirs, said = _openssl("x509", "-in", files["cert"], "-noout", "-checkip" if literal else "-checkhost", match.host)

    assert (match.openssl is not None) is theirs, said
    assert (match.qt is not None) is qt is qt_accepts[(cert.der, host)]
    assert ((match.openssl is None) is (match.qt is None)) is (f"{','.join(sans)} {host}" not in HOST_DIFFERENCES)


REAL_HOSTS = [(e["file"], host) for e in CORPUS for host in e.get("hosts", ())]


@pytest.mark.parametrize(("file", "host"), REAL_HOSTS, ids=[f"{f.split('/')[-1]}-{h}" for f, h in REAL_HOSTS])
def test_host_names_of_real_server_certificates_agree_with_openssl_and_qt(file: str, host: str, qt_accepts: dict) -> None:
    """Real server certificates (wildcard and apex names, UTF-8 U-labels smuggled into SAN DNS names beside their
    A-labels): OpenSSL's answer run for real, and Qt agreeing with it on every one of these hosts."""
    cert = _real(file)
    match = pki.names_host(cert, host)
    with tempfile.TemporaryDirectory() as folder:
        option = "-checkip" if pki.address(host) is not None else "-checkhost"
        theirs, said = _openssl("x509", "-in", _files(Path(folder), cert=cert)["cert"], "-noout", option, match.host)

    assert (match.openssl is not None) is theirs, said
    assert (match.qt is not None) is theirs is qt_accepts[(cert.der, host)]


# --- 4. Validity to the second, and keys by value -------------------------------------------------------------

@pytest.mark.parametrize("offset", [-1, 0, 1], ids=["before", "at", "after"])
@pytest.mark.parametrize("edge", ["notBefore", "notAfter"])
def test_validity_edges_agree_with_openssl_attime(edge: str, offset: int) -> None:
    root = certificate(build(name(("CN", "Edge CA")), EC_KEYS[0], EC_KEYS[0], ca=True, cert_sign=True), "ca.crt")
    when = (root.not_before if edge == "notBefore" else root.not_after) + timedelta(seconds=offset)

    ours = pki.valid_at(root, when) == pki.IN_PERIOD
    theirs, said = openssl_verify(root, [root], at=when)

    assert ours is theirs, said
    assert ours is ((edge, offset) not in {("notBefore", -1), ("notAfter", 0), ("notAfter", 1)})
    assert pki.valid_at(root, when + timedelta(microseconds=500_000)) == pki.valid_at(root, when)  # whole seconds, as OpenSSL


def _public_key(cert: Certificate) -> str:
    with tempfile.TemporaryDirectory() as folder:
        return _openssl("x509", "-in", _files(Path(folder), cert=cert)["cert"], "-noout", "-pubkey")[1]


def test_same_key_by_value_agrees_with_the_key_openssl_reads() -> None:
    rsa_ca = build(name(("CN", "Mitel Manufacturing CA")), RSA_KEYS[0], RSA_KEYS[0], ca=True, cert_sign=True)
    with_null = certificate(rsa_ca, "root/with-null.cer")
    without_null = certificate(resign(rsa_ca, RSA_KEYS[0], drop_null=True), "root/without-null.cer")
    other = certificate(build(name(("CN", "Mitel Manufacturing CA")), RSA_KEYS[1], RSA_KEYS[1], ca=True), "root/other.cer")

    assert pki.subject_of(with_null) == pki.subject_of(without_null) and with_null.der != without_null.der
    for a, b, same in ((with_null, without_null, True), (with_null, other, False)):
        assert pki.same_key(a, b) is same is (_public_key(a) == _public_key(b))


# --- 5. x509-limbo: expected results, and OpenSSL on the same cases ---------------------------------------------

def _limbo_cert(text: str, source: str) -> Certificate:
    return certificate(x509.load_pem_x509_certificate(text.encode()), source)


def _casgate_path(peer: Certificate, trusted: list[Certificate], untrusted: list[Certificate], at: datetime,
                  seen: tuple[bytes, ...] = ()) -> str | None:
    """None when a path from `peer` reaches a trusted certificate through links X6 accepts (names, signature, a CA valid
    at `at`), else why not. Depth-first over every candidate issuer, as a path builder does."""
    if pki.valid_at(peer, at) != pki.IN_PERIOD:
        return f"{peer.subject} is {pki.valid_at(peer, at)}"
    why = f"no issuer of {peer.subject} found"
    for candidate in [*trusted, *untrusted]:
        if candidate.der in seen or not pki.same_name(pki.issuer_of(peer), pki.subject_of(candidate)):
            continue
        try:
            link = judge_chain(peer, candidate, at, 0)
        except EvidenceError as exc:
            why = str(exc)
            continue
        if link.outcome is Outcome.FAIL:
            why = link.summary
            continue
        if candidate in trusted:
            return None
        why = _casgate_path(candidate, trusted, untrusted, at, (*seen, peer.der)) or ""
        if not why:
            return None
    return why


def _limbo_verdicts(case: dict) -> tuple[bool, str, bool, str]:
    """(casgate accepts, why not, openssl accepts, what openssl said) for one x509-limbo case."""
    at = datetime.fromisoformat(case["validation_time"]) if case["validation_time"] else datetime.now(timezone.utc)
    peer = _limbo_cert(case["peer_certificate"], "peer")
    trusted = [_limbo_cert(t, f"trusted {n}") for n, t in enumerate(case["trusted_certs"])]
    untrusted = [_limbo_cert(t, f"untrusted {n}") for n, t in enumerate(case["untrusted_intermediates"])]
    host = case["expected_peer_name"]["value"]
    why = _casgate_path(peer, trusted, untrusted, at)
    if why is None:
        match = pki.names_host(peer, host)
        why = None if match.by_san else match.line()
    theirs, said = openssl_verify(peer, trusted, untrusted, at=at, host=host, partial=False)
    return why is None, why or "", theirs, said


# Where casgate differs from x509-limbo's expected result (limbo tests the Web PKI / CABF profile; the phones are Qt
# clients on OpenSSL talking to a private CA), and why.
LIMBO_DIFFERENCES = {
    "webpki::san::wildcard-embedded-leftmost-san": "ba*.example.com: CABF forbids partial-label wildcards, but OpenSSL (no flags) "
                                                   "and the phones' Qt both accept it, so casgate does",
    "webpki::forbidden-dsa-spki-leaf": "a DSA key is outside CABF's list, not outside RFC 5280; OpenSSL and Windows accept it",
    "webpki::forbidden-signature-algorithm-in-root": "DSA-3072 signatures: CABF policy, not RFC 5280; OpenSSL verifies them",
    "webpki::forbidden-signature-algorithm-in-leaf": "as above",
    "rfc5280::root-missing-basic-constraints": "a self-signed trust anchor's extensions are not processed (RFC 5280 6.1); OpenSSL "
                                               "takes a root with keyCertSign and no basicConstraints (X509_check_ca), so does X6",
}
# Where casgate differs from `openssl verify` on a limbo case, and why.
LIMBO_OPENSSL_DIFFERENCES = {
    "webpki::san::no-san": "no SAN, CN example.com: OpenSSL falls back to the CN; casgate's X3 warns (RFC 6125 6.4.4) rather than passes",
}


@pytest.mark.parametrize("case", LIMBO, ids=[c["id"] for c in LIMBO])
def test_x509_limbo_cases_agree_with_their_expected_result_and_with_openssl(case: dict, qt_accepts: dict) -> None:
    ours, why, theirs, said = _limbo_verdicts(case)
    expected = case["expected_result"] == "SUCCESS"
    peer, host = _limbo_cert(case["peer_certificate"], "peer"), case["expected_peer_name"]["value"]

    assert (pki.names_host(peer, host).qt is not None) is qt_accepts[(peer.der, host)]
    assert (ours is expected) is (case["id"] not in LIMBO_DIFFERENCES), why
    assert (ours is theirs) is (case["id"] not in LIMBO_OPENSSL_DIFFERENCES), f"casgate: {why or 'accepts'}; openssl: {said}"


def test_the_limbo_subset_holds_every_class_the_issue_names() -> None:
    ids = {c["id"] for c in LIMBO}

    assert sum(i.startswith("webpki::san::") for i in ids) >= 12 and sum(i.startswith("online::") for i in ids) >= 10
    assert {"rfc5280::validity::expired-root", "rfc5280::validity::expired-leaf", "rfc5280::chain-untrusted-root"} <= ids
    assert set(LIMBO_DIFFERENCES) | set(LIMBO_OPENSSL_DIFFERENCES) <= ids


# --- 6. NIST PKITS 4.1-4.3: signatures, validity periods, name chaining (real certificates of a test PKI) ---------

PKITS_AT = datetime(2026, 11, 20, 6, tzinfo=timezone.utc)
# Where casgate differs from PKITS's expected result or from OpenSSL on a PKITS path, and why.
PKITS_DIFFERENCES = {
    "4.1.5": "DSA parameter inheritance (RFC 5280 6.1.4 (f)): a DSA key without parameters; cryptography refuses the "
             "certificate, so casgate does not judge it (load_certificate: an evidence error, never 'does not chain'); "
             "OpenSSL 3.0 cannot decode that key either and refuses the path",
}


def _pkits(file: str) -> Certificate | Raw:
    cert = read_certificate(PKITS / file, f"pkits/{file}")
    return cert if isinstance(cert, Certificate) else Raw((PKITS / file).read_bytes(), file)


@pytest.mark.parametrize("path", PKITS_PATHS, ids=[f"{p['section']} {p['title']}" for p in PKITS_PATHS])
def test_pkits_paths_agree_with_their_expected_result_and_with_openssl(path: dict) -> None:
    anchor, cas, ee = _pkits("TrustAnchorRootCertificate.crt"), [_pkits(c) for c in path["cas"]], _pkits(path["ee"])

    unreadable = [c.source for c in (anchor, *cas, ee) if isinstance(c, Raw)]  # casgate reports these, never judges them
    why = f"not judged: cryptography cannot load {unreadable}" if unreadable else _casgate_path(ee, [anchor], cas, PKITS_AT)
    theirs, said = openssl_verify(ee, [anchor], cas, at=PKITS_AT, partial=False)

    if path["section"] in PKITS_DIFFERENCES:
        assert why is not None and "not" in why and not theirs, why
        return
    assert (why is None) is (path["expect"] == "valid"), why
    assert (why is None) is theirs, said
