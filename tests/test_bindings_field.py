"""IIS as configured in the field (issue 19, item 4): cause 2 judges the binding HTTP.sys serves the phones' connection
to the HQ FQDN at the HQ address on 443, and leaves other sites' SNI bindings and bindings on other addresses alone.
Binding shapes are Get-WebBinding's (bindingInformation "IP:port:host", sslFlags an integer: 1 SNI, 2 Central
Certificate Store, IIS 8+; certificateStoreName "My" or "WebHosting"); the precedence is HTTP.sys's as cited in
casgate/httpsys.py. Certificates are stand-ins (thumbprints only): what is judged is which binding is chosen."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from casgate.certs import Certificate, Store, Unreadable
from casgate.checks.binding import judge_binding
from casgate.errors import EvidenceError
from casgate.evidence import Binding, parse_bindings
from casgate.httpsys import ServerStores, phones_binding
from casgate.snapshot import Snapshot
from casgate.verdict import Outcome

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
FQDN, ADDRESS = "hq.example.com", "10.0.0.5"
SERVER, OTHER = "A" * 40, "B" * 40


def _cert(thumb: str, source: str = "certs/my/x.cer") -> Certificate:
    return Certificate(source, thumb, "CN=hq.example.com", "CN=HQ CA", NOW, NOW, False)


SERVER_CRT = _cert(SERVER, "keystore/server.crt")
MY = Store("certs/my/", (_cert(SERVER), _cert(OTHER)))


def _https(info: str, thumb: str, flags: int | None = 0, store: str = "My") -> dict:
    item = {"protocol": "https", "bindingInformation": info, "certificateHash": thumb, "certificateStoreName": store}
    return item if flags is None else item | {"sslFlags": flags}


def _judge(*items: dict, stores: ServerStores = ServerStores(MY, None), fqdn: str = FQDN):
    return judge_binding(parse_bindings(list(items), "iis/bindings.json"), SERVER_CRT, stores, fqdn, ADDRESS)


# ---- reading ------------------------------------------------------------------------------------------------------

def test_sslflags_ip_port_and_host_header_are_read_as_get_webbinding_gives_them() -> None:
    doc = json.loads('[{"protocol":"https","bindingInformation":"[fe80::1]:443:hq.example.com","certificateHash":"AA",'
                     '"certificateStoreName":"WebHosting","sslFlags":97},'
                     '{"protocol":"https","bindingInformation":"*:443:","certificateHash":"BB","certificateStoreName":"My"}]')

    sni, legacy = parse_bindings(doc, "iis/bindings.json")

    assert (sni.ip, sni.port, sni.host_header, sni.ssl_flags, sni.certificate_store) == ("[fe80::1]", 443, "hq.example.com", 97, "WebHosting")
    assert legacy.ssl_flags is None  # not recorded (snapshots before sslFlags): unknown, never taken for 0
    assert "sslFlags=Sni+DisableTLS13+DisableLegacyTLS" in sni.describe() and "sslFlags=(not recorded)" in legacy.describe()


@pytest.mark.parametrize(("value", "problem"), [(128, "bits IIS does not define"), (-1, "bits IIS does not define"),
                                                ("Sni", "is not a number"), (True, "should be an integer or a string"),
                                                ("\u0661", "is not a number"), ("\uff11", "is not a number")])  # Arabic-Indic, full-width 1
def test_an_sslflags_casgate_does_not_understand_is_an_error_naming_the_binding(value, problem: str) -> None:
    doc = [{"protocol": "https", "bindingInformation": "*:443:", "sslFlags": value}]

    with pytest.raises(EvidenceError, match=rf"iis/bindings.json: .*{problem}"):
        parse_bindings(doc, "iis/bindings.json")


# ---- the binding the phones reach ---------------------------------------------------------------------------------

def test_another_sites_sni_binding_with_its_own_certificate_is_left_alone() -> None:
    verdict = _judge(_https("*:443:", SERVER), _https("*:443:intranet.example.com", OTHER, flags=1))

    assert verdict.outcome is Outcome.PASS, verdict
    assert any("left alone" in e and "intranet.example.com" in e and "SNI binding for another host name" in e for e in verdict.evidence)


def test_an_ip_specific_binding_on_another_address_is_left_alone() -> None:
    verdict = _judge(_https("*:443:", SERVER), _https("10.0.0.9:443:", OTHER))

    assert verdict.outcome is Outcome.PASS
    assert any("bound to address 10.0.0.9, not the phones' 10.0.0.5" in e for e in verdict.evidence)


def test_the_exact_address_comes_before_the_wildcard() -> None:
    assert _judge(_https("10.0.0.5:443:", SERVER), _https("*:443:", OTHER)).outcome is Outcome.PASS
    wrong = _judge(_https("10.0.0.5:443:", OTHER), _https("*:443:", SERVER))
    assert wrong.outcome is Outcome.FAIL and "IP binding 10.0.0.5:443" in wrong.summary


def test_an_sni_binding_for_the_hq_name_comes_before_the_wildcard() -> None:
    assert _judge(_https("*:443:hq.example.com", SERVER, flags=1), _https("*:443:", OTHER)).outcome is Outcome.PASS
    assert _judge(_https("*:443:HQ.example.com", OTHER, flags=1), _https("*:443:", SERVER)).outcome is Outcome.FAIL


def test_an_sni_binding_and_an_ip_binding_on_the_phones_address_with_different_certificates_both_claim_them() -> None:
    """Whether HTTP.sys takes the exact IP:port or the SNI binding first is not settled by the sources: a finding either way."""
    assert _judge(_https("*:443:hq.example.com", SERVER, flags=1), _https("10.0.0.5:443:", SERVER)).outcome is Outcome.PASS
    verdict = _judge(_https("*:443:hq.example.com", SERVER, flags=1), _https("10.0.0.5:443:", OTHER))

    assert verdict.outcome is Outcome.FAIL and "claim the phones' connection (SNI binding for hq.example.com:443)" in verdict.summary
    assert any("claims the same connection, another certificate: https 10.0.0.5:443:" in e for e in verdict.evidence)


def test_phones_that_connect_by_address_send_no_server_name_so_sni_bindings_do_not_serve_them() -> None:
    verdict = _judge(_https("*:443:hq.example.com", SERVER, flags=1), fqdn="10.0.0.5")

    assert verdict.outcome is Outcome.FAIL and "no https binding of Default Web Site answers" in verdict.summary
    assert "New-WebBinding" in verdict.remediation
    assert any("phones connect by address and send no server name" in e for e in verdict.evidence)


def test_no_binding_covering_the_phones_is_the_finding() -> None:
    verdict = _judge(_https("*:443:intranet.example.com", SERVER, flags=1), _https("10.0.0.9:443:", SERVER), _https("*:8443:", SERVER))

    assert verdict.outcome is Outcome.FAIL and "hq.example.com at 10.0.0.5:443" in verdict.summary


def test_bindings_sharing_the_phones_ip_port_entry_with_different_certificates_fail() -> None:
    # a host header without SNI does not change HTTP.sys's key: both claim 0.0.0.0:443, one certificate is kept
    verdict = _judge(_https("*:443:", SERVER), _https("*:443:intranet.example.com", OTHER, flags=0))

    assert verdict.outcome is Outcome.FAIL and "claim the phones' connection (wildcard IP binding 0.0.0.0:443)" in verdict.summary
    assert "HTTP.sys keeps one certificate per IP:port" in verdict.remediation


def test_one_certificate_written_as_the_mmc_copies_it_is_no_rival_of_itself() -> None:
    # the same hash with the MMC's spaces and its invisible U+200E mark: one certificate, as the binding judge reads it
    copied = "\u200e" + " ".join(SERVER[i:i + 2] for i in range(0, 40, 2)).lower()
    verdict = _judge(_https("*:443:", SERVER), _https("*:443:intranet.example.com", copied, flags=0))

    assert verdict.outcome is Outcome.PASS, verdict.summary


def test_a_certificate_bound_from_webhosting_is_found_there_and_the_fix_never_says_my() -> None:
    webhosting = Store("certs/webhosting/", (_cert(SERVER, "certs/webhosting/s.cer"),))
    sni = _https("*:443:hq.example.com", SERVER, flags=1, store="WebHosting")

    passed = _judge(sni, _https("*:443:", OTHER), stores=ServerStores(Store("certs/my/", (_cert(OTHER),)), webhosting))
    missing = _judge(sni, stores=ServerStores(MY, Store("certs/webhosting/", ())))

    assert passed.outcome is Outcome.PASS and "LocalMachine\\WebHosting" in passed.summary
    assert missing.outcome is Outcome.FAIL and "which LocalMachine\\WebHosting does not hold" in missing.summary
    assert "'WebHosting')" in missing.remediation and "into LocalMachine\\WebHosting" in missing.remediation
    assert "My" not in missing.remediation.replace("Mitel", "")


def test_a_webhosting_binding_without_an_export_of_the_store_is_not_judged() -> None:
    with pytest.raises(EvidenceError, match=r"^certs/webhosting/: binding https \*:443:hq.example.com .* takes its certificate from "
                                            r"LocalMachine\\WebHosting, which this snapshot did not export"):
        _judge(_https("*:443:hq.example.com", SERVER, flags=1, store="WebHosting"))


def test_a_central_certificate_store_binding_is_not_judged() -> None:
    with pytest.raises(EvidenceError, match="Central Certificate Store"):
        _judge(_https("*:443:hq.example.com", "", flags=3), _https("*:443:", SERVER))


def test_server_crt_not_in_my_is_concluded_only_when_every_my_file_was_read() -> None:
    read_all = _judge(_https("*:443:", SERVER), stores=ServerStores(Store("certs/my/", (_cert(OTHER),)), None))
    assert read_all.outcome is Outcome.FAIL and "import the keystore's server certificate with its key into LocalMachine\\My" in read_all.remediation

    broken = Unreadable("certs/my/odd.cer", "C" * 40, "is not a certificate file in any format Windows writes: ...", None)
    with pytest.raises(EvidenceError, match=r"^certs/my/: server.crt \(A+\) is not among the LocalMachine\\My certificates read, "
                                            r"but 1 file\(s\) could not be read.*certs/my/odd.cer"):
        _judge(_https("*:443:", SERVER), stores=ServerStores(Store("certs/my/", (_cert(OTHER),), (broken,)), None))


def test_a_wrong_certificate_found_among_readable_files_is_still_the_finding() -> None:
    broken = Unreadable("certs/my/odd.cer", "C" * 40, "unreadable", None)

    verdict = _judge(_https("*:443:", OTHER), stores=ServerStores(Store("certs/my/", (_cert(SERVER), _cert(OTHER)), (broken,)), None))

    assert verdict.outcome is Outcome.FAIL and f"names {OTHER}, not the keystore's server.crt" in verdict.summary


# ---- sslFlags not recorded (older snapshots) ------------------------------------------------------------------------

def test_without_sslflags_a_binding_without_host_name_is_judged_as_before() -> None:
    assert _judge(_https("*:443:", SERVER, flags=None)).outcome is Outcome.PASS


def test_without_sslflags_a_host_named_binding_is_judged_when_both_readings_agree() -> None:
    # SNI or not, hq.example.com's binding with server.crt is the phones' (SNI: by name; not: the only 0.0.0.0:443 entry)
    assert _judge(_https("*:443:hq.example.com", SERVER, flags=None)).outcome is Outcome.PASS


def test_without_sslflags_fails_closed_where_the_reading_decides_the_certificate() -> None:
    # intranet's binding is either another site's SNI binding (left alone) or a rival for 0.0.0.0:443: not known
    with pytest.raises(EvidenceError, match=r"sslFlags is not recorded for https \*:443:intranet.example.com.*re-collect iis/bindings.json"):
        _judge(_https("*:443:", SERVER, flags=None), _https("*:443:intranet.example.com", OTHER, flags=None))


def test_a_wildcard_host_name_is_not_judged() -> None:
    with pytest.raises(EvidenceError, match="wildcard host name"):
        phones_binding((Binding("https", "*", 443, "*.example.com", SERVER, "My", 1),), FQDN, ADDRESS, "iis/bindings.json")


# ---- the snapshot's WebHosting export -------------------------------------------------------------------------------

def _snapshot(tmp_path: Path, collected: list[str], webhosting: bytes | None) -> Snapshot:
    manifest = {"host": "hq01", "fqdn": FQDN, "address": ADDRESS, "os_version": "10.0.20348", "collected_at": "2026-01-01T00:00:00Z",
                "source": "crafted", "casgate_version": "0", "collected": collected}
    tmp_path.mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    if webhosting is not None:
        (tmp_path / "certs" / "webhosting").mkdir(parents=True)
        (tmp_path / "certs" / "webhosting" / "s.cer").write_bytes(webhosting)
    return Snapshot(tmp_path)


def test_webhosting_is_none_when_not_exported_empty_when_listed_and_read_when_there(tmp_path: Path) -> None:
    isrg = Path(__file__).parent / "realworld" / "certs" / "roots" / "isrg-root-x1.pem"

    assert _snapshot(tmp_path / "old", ["certs/root", "certs/my"], None).webhosting_store is None
    assert _snapshot(tmp_path / "empty", ["certs/webhosting"], None).webhosting_store == Store("certs/webhosting/", ())
    assert len(_snapshot(tmp_path / "full", ["certs/webhosting"], isrg.read_bytes()).webhosting_store) == 1


def test_an_empty_my_is_read_as_empty_only_where_the_manifest_lists_it_as_collected(tmp_path: Path) -> None:
    listed, unlisted = _snapshot(tmp_path / "listed", ["certs/my"], None), _snapshot(tmp_path / "unlisted", ["certs/root"], None)
    for snapshot in (listed, unlisted):
        (snapshot.folder / "certs" / "my").mkdir(parents=True)

    assert listed.my_store == Store("certs/my/", ())
    with pytest.raises(EvidenceError, match="never empty"):
        unlisted.my_store
    verdict = judge_binding(parse_bindings([_https("*:443:", SERVER)], "iis/bindings.json"), SERVER_CRT, ServerStores(listed.my_store, None), FQDN, ADDRESS)
    assert verdict.outcome is Outcome.FAIL and "which LocalMachine\\My does not hold" in verdict.summary


def test_a_webhosting_export_that_cannot_be_read_matters_only_to_a_binding_that_names_webhosting(tmp_path: Path) -> None:
    snapshot = _snapshot(tmp_path / "s", ["certs/my", "certs/webhosting"], None)
    (snapshot.folder / "certs" / "my").mkdir(parents=True)
    (snapshot.folder / "certs" / "my" / "s.cer").write_bytes((Path(__file__).parent / "realworld" / "certs" / "roots" / "isrg-root-x1.pem").read_bytes())
    manifest = json.loads((snapshot.folder / "manifest.json").read_text())
    (snapshot.folder / "manifest.json").write_text(json.dumps(manifest | {"failed": {"certs/webhosting/": "access denied"}}))

    stores = snapshot.server_stores

    my_binding = parse_bindings([_https("*:443:", "CABD2A79A1076A31F21D253635CB039D4329A5E8")], "iis/bindings.json")[0]
    assert stores.of(my_binding) is stores.my
    with pytest.raises(EvidenceError, match=r"^certs/webhosting/: could not be collected: access denied"):
        stores.of(parse_bindings([_https("*:443:hq.example.com", SERVER, flags=1, store="WebHosting")], "iis/bindings.json")[0])
