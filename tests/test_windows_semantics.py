"""Windows semantics with their sources (issue 18): X5's SendTrustedIssuerList defaults per OS build and KB 2880390,
the list counted once per thumbprint; X9's sc-win32-status codes by their documented meaning and HTTP.sys's
revocation mode read from the registry; numbers never rounded across a limit (X8); ASCII-only numbers (X7); the
manifest's fqdn/address validated and claimed evidence never optional.

Sources (every documented value below is taken from one of these):
- SCHANNEL_OVERVIEW, KB_2880390, KB_933430, ERROR_CODES, SSL_PARAM (URL, title, and where we read it).
Real specimens: the Windows roots in casgate/data/windows-root-store (provenance in its PROVENANCE.toml) and
`netsh http show sslcert` from tests/realworld/iis-config (provenance in its corpus.toml). The localised netsh text
is crafted from the real English one (no real localised output was found in the public corpora searched)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from casgate.certs import Certificate, Store, load_store, read_certificate
from casgate.checks.clock import against, judge_clock
from casgate.checks.iis_log import scan_certauth
from casgate.checks.issuer_list import LIMIT, NEAR, judge_issuer_list
from casgate.checks.revocation import REVOKED_REMEDIATION, SSL_BINDINGS, judge_revocation, revocation_settings
from casgate.data import WINDOWS_ROOTS
from casgate.errors import EvidenceError
from casgate.evidence import AccessPolicy, Manifest, host_name, ip_address
from casgate.regfile import RegistryView, parse_reg
from casgate.schannel import SCHANNEL
from casgate.snapshot import Snapshot
from casgate.verdict import Outcome
from casgate.win32status import REVOCATION_CODES, Revocation, revocation_meaning
from tests.test_beyond_kb_judges import CORPUS, LINE, _logs, _reading
from tests.test_logs import DAY, FIELDS, _registry as _logs_registry
from tests.test_related_judges import _roots

SCHANNEL_OVERVIEW = ("https://learn.microsoft.com/windows-server/security/tls/what-s-new-in-tls-ssl-schannel-ssp-overview",
                     "Overview of TLS - SSL (Schannel SSP), 'Management of trusted issuers for client authentication'",
                     "MicrosoftDocs/windowsserverdocs WindowsServerDocs/security/tls/what-s-new-in-tls-ssl-schannel-ssp-overview.md "
                     "@ 012c4d76046514904bcd9bc7c1c501cc6f57e581 (CC BY 4.0)")
KB_2880390 = ("https://support.microsoft.com/help/2880390", "Microsoft KB 2880390: client certificate authentication fails on "
              "Windows 8 / Windows Server 2012 once Root exceeds 16 KB, 'regardless of the value of the SendTrustedIssuerList registry entry'")
KB_933430 = ("https://mskb.pkisolutions.com/kb/933430", "Microsoft KB 933430 (archived): Clients cannot make connections if you "
             "require client certificates on a Web site or if you use IAS in Windows Server 2003 (16 KB trusted issuer list)")
ERROR_CODES = ("https://learn.microsoft.com/windows/win32/com/com-error-codes-4", "COM Error Codes (Security and Setup) (Winerror.h)",
               "MicrosoftDocs/win32 desktop-src/com/com-error-codes-4.md @ 47e64c189dcb1c1a42c221380ccf0ec81cc82d4b (CC BY 4.0)")
SSL_PARAM = ("https://learn.microsoft.com/windows/win32/api/http/ns-http-http_service_config_ssl_param",
             "HTTP_SERVICE_CONFIG_SSL_PARAM structure (http.h), DefaultCertCheckMode",
             "MicrosoftDocs/sdk-api sdk-api-src/content/http/ns-http-http_service_config_ssl_param.md @ 1b8579c8e2868fc86201f77a617df90063e935ce")

# os_version as Win32_OperatingSystem prints Caption and Version
SERVER_2003 = "Microsoft(R) Windows(R) Server 2003, Standard Edition 5.2.3790"
SERVER_2008_R2 = "Microsoft Windows Server 2008 R2 Standard 6.1.7601"
SERVER_2012 = "Microsoft Windows Server 2012 Standard 6.2.9200"
SERVER_2012_R2 = "Microsoft Windows Server 2012 R2 Standard 6.3.9600"
SERVER_2019 = "Microsoft Windows Server 2019 Standard 10.0.17763"
NO_BUILD = "Windows Server"
OVER, NEAR_ONLY, SMALL = _roots(LIMIT + 1), _roots(NEAR + 1), _roots(2_000)


def _schannel(line: str = "") -> RegistryView:
    view = RegistryView()
    parse_reg(f"Windows Registry Editor Version 5.00\r\n\r\n[{SCHANNEL}]\r\n{line}\r\n", "registry/schannel.reg", view)
    return view


def _dword(value: int | None) -> RegistryView:
    return _schannel("" if value is None else f'"SendTrustedIssuerList"=dword:{value:08x}')


# ---- X5: SendTrustedIssuerList's default per OS build (SCHANNEL_OVERVIEW), KB 2880390, KB 933430's 16 KB ----------

@pytest.mark.parametrize(("os_version", "value", "outcome"), [
    (SERVER_2003, None, Outcome.FAIL), (SERVER_2008_R2, None, Outcome.FAIL),  # default 1 before Server 2012: sent
    (SERVER_2012_R2, None, Outcome.PASS), (SERVER_2019, None, Outcome.PASS),  # default 0 from Server 2012 on
    (SERVER_2012_R2, 1, Outcome.FAIL), (SERVER_2019, 1, Outcome.FAIL), (SERVER_2008_R2, 0, Outcome.PASS),
    (SERVER_2012, None, Outcome.FAIL), (SERVER_2012, 0, Outcome.FAIL),  # KB 2880390: whatever the value
])
def test_x5_judges_a_root_over_16_kb_by_the_os_default_and_kb_2880390(os_version: str, value: int | None, outcome: Outcome) -> None:
    verdict = judge_issuer_list(_dword(value), OVER, os_version)

    assert verdict.outcome is outcome, verdict.summary
    if outcome is Outcome.PASS:
        said = "SendTrustedIssuerList=0" if value == 0 else f"the default on OS build {os_version.rsplit('.', 1)[1]} is 0"
        assert verdict.summary.endswith(f"{said}): not sent"), verdict.summary
    else:
        assert f"{LIMIT + 1:,} bytes, over its {LIMIT:,}-byte limit" in verdict.summary
    if os_version == SERVER_2012:
        assert "KB 2880390" in verdict.summary


def test_x5_warns_near_the_limit_on_server_2012_even_when_not_sent() -> None:
    assert judge_issuer_list(_dword(0), NEAR_ONLY, SERVER_2012).outcome is Outcome.WARN
    assert judge_issuer_list(_dword(0), NEAR_ONLY, SERVER_2012_R2).outcome is Outcome.PASS


@pytest.mark.parametrize("line", ['"SendTrustedIssuerList"="1"', '"SendTrustedIssuerList"="0"', '"SendTrustedIssuerList"=dword:00000002',
                                  '"SendTrustedIssuerList"=hex:01,00,00,00', '"SendTrustedIssuerList"=dword:ffffffff'],
                         ids=["string-1", "string-0", "dword-2", "binary", "dword-max"])
@pytest.mark.parametrize("store", [SMALL, OVER], ids=["small-root", "root-over-16kb"])
def test_x5_warns_on_a_value_it_cannot_interpret_and_never_says_not_sent(line: str, store: Store) -> None:
    verdict = judge_issuer_list(_schannel(line), store, SERVER_2019)

    assert verdict.outcome is Outcome.WARN, verdict.summary
    assert "cannot tell whether Schannel sends" in verdict.summary and "not sent" not in verdict.summary
    assert "New-ItemProperty" in verdict.remediation and "-PropertyType DWord -Force" in verdict.remediation


def test_x5_without_a_readable_os_build_judges_only_what_the_build_cannot_change() -> None:
    small = judge_issuer_list(_dword(None), SMALL, NO_BUILD)
    assert small.outcome is Outcome.PASS and "whether or not Schannel sends it" in small.summary
    assert judge_issuer_list(_dword(1), OVER, NO_BUILD).outcome is Outcome.FAIL  # sent whatever the build

    for value in (None, 0):  # absent: the default depends on the build; 0: KB 2880390 may apply (Server 2012)
        with pytest.raises(EvidenceError, match=r"manifest.json: os_version 'Windows Server' has no Windows build.*depends on the Windows build"):
            judge_issuer_list(_dword(value), OVER, NO_BUILD)


def _real_roots(count: int) -> list[Path]:
    return sorted(WINDOWS_ROOTS.glob("*.cer"))[:count]


def test_x5_counts_a_root_exported_twice_once_by_thumbprint(tmp_path: Path) -> None:
    """Real Windows roots; one of them exported a second time as PEM, as an admin's second Export-Certificate does."""
    once, twice = tmp_path / "once", tmp_path / "twice"
    once.mkdir(), twice.mkdir()
    for path in _real_roots(4):
        shutil.copy(path, once / path.name), shutil.copy(path, twice / path.name)
    again = read_certificate(_real_roots(1)[0], "x")
    assert isinstance(again, Certificate)
    pem = "-----BEGIN CERTIFICATE-----\n" + __import__("base64").encodebytes(again.der).decode() + "-----END CERTIFICATE-----\n"
    (twice / "same-root-again.pem").write_text(pem)

    single = judge_issuer_list(_dword(1), load_store(once, "certs/root/"), SERVER_2019)
    double = judge_issuer_list(_dword(1), load_store(twice, "certs/root/"), SERVER_2019)

    assert len(load_store(twice, "certs/root/").certificates) == 5
    assert single.summary == double.summary  # the same bytes: the duplicate adds nothing
    assert any("4 distinct certificate(s); 1 more file(s) hold a certificate already counted" in line for line in double.evidence)


# ---- X9: sc-win32-status by its documented meaning (ERROR_CODES) --------------------------------------------------

DOCUMENTED = {  # name: (value as IIS logs it, unsigned decimal; hex from ERROR_CODES; meaning)
    "CRYPT_E_REVOKED": ("2148081680", 0x80092010, Revocation.REVOKED),
    "CERT_E_REVOKED": ("2148204812", 0x800B010C, Revocation.REVOKED),
    "CRYPT_E_NO_REVOCATION_DLL": ("2148081681", 0x80092011, Revocation.NOT_CHECKED),
    "CRYPT_E_NO_REVOCATION_CHECK": ("2148081682", 0x80092012, Revocation.NOT_CHECKED),
    "CRYPT_E_REVOCATION_OFFLINE": ("2148081683", 0x80092013, Revocation.NOT_CHECKED),
    "CRYPT_E_NOT_IN_REVOCATION_DATABASE": ("2148081684", 0x80092014, Revocation.NOT_CHECKED),
    "CERT_E_REVOCATION_FAILURE": ("2148204814", 0x800B010E, Revocation.NOT_CHECKED),
}


def test_the_code_table_is_microsofts() -> None:
    assert {name for name, _, _ in REVOCATION_CODES.values()} == set(DOCUMENTED)
    for name, (decimal, code, meaning) in DOCUMENTED.items():
        assert int(decimal) == code and REVOCATION_CODES[code][0] == name and REVOCATION_CODES[code][2] is meaning


@pytest.mark.parametrize("name", DOCUMENTED)
def test_x9_tells_could_not_check_from_revoked_by_each_documented_code(tmp_path: Path, name: str) -> None:
    decimal, code, meaning = DOCUMENTED[name]

    verdict = judge_revocation(scan_certauth(_logs(tmp_path, LINE.format(win32=decimal)), _logs_registry(), DAY), DAY, None, None)

    assert verdict.outcome is Outcome.FAIL
    assert verdict.facts["403.13 meaning"] == (meaning.value,)
    assert any(line.startswith(f"{meaning.value}: 0x{code:08X} {name}") and ERROR_CODES[1] in line for line in verdict.evidence)
    assert ("Replace that phone" in verdict.remediation) is (meaning is Revocation.REVOKED)


@pytest.mark.parametrize(("fields", "line", "said"), [
    (FIELDS, LINE.format(win32="2148204809"), "sc-win32-status 2148204809 = 0x800B0109 is not a revocation result"),  # a 403.16 code
    (FIELDS, LINE.format(win32="5"), "sc-win32-status 5 = 0x00000005 is not a revocation result"),  # a Win32 error, not an HRESULT
    (FIELDS, LINE.format(win32="-"), "logged without an sc-win32-status"),
    (FIELDS.replace(" sc-win32-status", ""), LINE.format(win32="").replace("13  730", "13 730"), "logged without an sc-win32-status"),
], ids=["other-hresult", "win32-error", "dash", "field-absent"])
def test_x9_names_anything_else_unknown_with_its_raw_value_and_blames_no_phone(tmp_path: Path, fields: str, line: str, said: str) -> None:
    path = tmp_path / "u_ex161221.log"
    path.write_text("\r\n".join(["#Software: Microsoft Internet Information Services 8.5", fields, line]) + "\r\n")
    from casgate.snapshot import LogFile

    verdict = judge_revocation(scan_certauth([LogFile("iis/logs/u_ex161221.log", path)], _logs_registry(), DAY), DAY, None, None)

    assert verdict.outcome is Outcome.FAIL
    assert "cannot interpret" in verdict.summary
    assert any(said in e for e in verdict.evidence), verdict.evidence
    assert "Replace no phone" in verdict.remediation and REVOKED_REMEDIATION not in verdict.remediation


def test_x9_with_revoked_and_offline_phones_says_both(tmp_path: Path) -> None:
    lines = (LINE.format(win32="2148204812"), LINE.format(win32="2148081683").replace("10.169.24.139", "10.169.24.140"))

    verdict = judge_revocation(scan_certauth(_logs(tmp_path, *lines), _logs_registry(), DAY), DAY, None, None)

    assert "the server could not check revocation: 1 time(s); the phone's certificate is revoked: 1 time(s)" in verdict.summary
    assert "netsh winhttp show proxy" in verdict.remediation and REVOKED_REMEDIATION in verdict.remediation


def test_revocation_meaning_reads_only_the_status_the_scan_wrote() -> None:
    assert revocation_meaning("403.13 client certificate revoked or its revocation not checkable")[0] is Revocation.UNKNOWN
    assert revocation_meaning("403.13 x (abc)") == (Revocation.UNKNOWN, "sc-win32-status 'abc' is not a status code")


# ---- X9: the binding's revocation mode from HTTP.sys's registry (SSL_PARAM), display text only as a fallback ------

def _bindings(*values: tuple[str, str]) -> RegistryView:
    view = RegistryView()
    body = "".join(f"[{SSL_BINDINGS}\\{name}]\r\n{line}\r\n\r\n" for name, line in values)
    parse_reg(f"Windows Registry Editor Version 5.00\r\n\r\n[{SSL_BINDINGS}]\r\n\r\n{body}", "registry/http-sslbindings.reg", view)
    return view


@pytest.mark.parametrize(("line", "said"), [
    ('"DefaultCertCheckMode"=dword:00000000', "DefaultCertCheckMode=0x0: client certificates are checked for revocation"),
    ('"DefaultCertCheckMode"=dword:00000001', "DefaultCertCheckMode=0x1: client certificates are not checked for revocation"),
    ('"DefaultCertCheckMode"=dword:00000006',
     "DefaultCertCheckMode=0x6: only cached revocation data is used; DefaultRevocationFreshnessTime is in force"),
    ('"DefaultCertCheckMode"=dword:00010000', "DefaultCertCheckMode=0x10000: no usage check"),
    ('"DefaultCertCheckMode"=dword:00000020',
     "DefaultCertCheckMode=0x20 has bits HTTP_SERVICE_CONFIG_SSL_PARAM does not define (0x20): not interpreted"),
    ('"DefaultCertCheckMode"="0"', "DefaultCertCheckMode='0' is not a DWORD: not interpreted"),
    ('"SslCertStoreName"="MY"', "DefaultCertCheckMode absent: not interpreted"),
])
def test_the_bindings_revocation_mode_is_read_from_httpsys_registry_in_any_language(line: str, said: str) -> None:
    registry = _bindings(("0.0.0.0:443", line), ("0.0.0.0:44307", '"DefaultCertCheckMode"=dword:00000001'))

    settings = revocation_settings(registry, "netsh text, ignored: the registry is the locale-independent source")

    assert settings == (f"HTTP.sys binding 0.0.0.0:443 (registry/http-sslbindings.reg): {said}",)


def test_no_binding_on_443_in_the_registry_is_said_with_what_was_not_collected() -> None:
    settings = revocation_settings(_bindings(("0.0.0.0:44307", '"DefaultCertCheckMode"=dword:00000000')), None)

    assert "no IP binding on port 443 (SNI bindings live under SslSniBindingInfo, not collected)" in settings[0]


def test_netsh_text_with_labels_casgate_does_not_know_is_shown_raw_never_read_as_absent() -> None:
    real = (CORPUS / "nbstrat-sslcert-revocation-enabled.txt").read_text(encoding="utf-8").replace("0.0.0.0:44307", "0.0.0.0:443")
    localised = (real.replace("Verify Client Certificate Revocation", "Clientzertifikatsperrung überprüfen")
                 .replace("Certificate Hash", "Zertifikathash").replace(": Enabled", ": Aktiviert"))  # crafted from the real one

    [line] = revocation_settings(None, localised)

    assert "in labels casgate does not read" in line and "not judged" in line
    assert "Clientzertifikatsperrung überprüfen : Aktiviert" in line and "(not shown)" not in line
    assert revocation_settings(None, real) == ("netsh http show sslcert, IP:port 0.0.0.0:443: Verify Client Certificate Revocation = Enabled",)


# ---- X8 and X5: numbers beside a limit ---------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "shown"), [(300.5, "300.5"), (300.04, "300.04"), (299.96, "299.96"), (300.0, "300.0"),
                                              (299.0, "299.0"), (300.0000001, "300.0000001"), (7200.0, "7,200.0")])
def test_a_number_is_never_rounded_across_its_limit(value: float, shown: str) -> None:
    assert against(value, 300) == shown


@pytest.mark.parametrize("skew", [300.5, 300.25, 300.04, -300.3])
def test_x8_fails_just_past_the_limit_without_saying_300_s(skew: float) -> None:
    verdict = judge_clock(_reading(skew, 0.02), 300)

    assert verdict.outcome is Outcome.FAIL
    assert "300 s ahead" not in verdict.summary and "300 s behind" not in verdict.summary
    assert f"is {against(abs(skew), 300)} s" in verdict.summary and "(limit 300 s)" in verdict.summary
    assert float(verdict.summary.split(" s ")[0].rsplit(" ", 1)[1].replace(",", "")) > 300


def test_x8_passes_just_under_the_limit_without_saying_300_point_0() -> None:
    verdict = judge_clock(_reading(299.96, 0.02), 300)

    assert verdict.outcome is Outcome.PASS and "at most 299.97 s off" in verdict.summary


# ---- X7: ASCII digits only -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["٤٠", "４０", "۴۰", "²", "4\u0660"], ids=["arabic-indic", "full-width", "persian", "superscript", "mixed"])
def test_ssl_flags_with_non_ascii_digits_are_an_error_naming_access_json(value: str) -> None:
    with pytest.raises(EvidenceError, match="^iis/access.json: sslFlags .* is not a list of IIS's flags"):
        AccessPolicy.parse({"location": "Default Web Site/shoreauth", "sslFlags": value}, "iis/access.json")


# ---- the manifest: fqdn and address validated; claimed evidence is not optional -----------------------------------

MANIFEST = {"host": "hq", "fqdn": "hq.example.com", "address": "10.169.24.10", "os_version": SERVER_2019,
            "collected_at": "2026-11-20T06:00:00Z", "source": "crafted", "casgate_version": "0", "collected": []}


@pytest.mark.parametrize(("fqdn", "error"), [
    ("hq.example.com ", "label 'com ' is not 1-63 letters"), (" hq.example.com", "label ' hq' is not"),
    ("hq..example.com", "has an empty label"), (".hq.example.com", "has an empty label"), ("", "has an empty label"),
    ("hq_01.example.com", "label 'hq_01' is not"), ("hq.example.com/x", "label 'com/x' is not"), ("-hq.example.com", "label '-hq'"),
    ("a" * 64 + ".example.com", "is not 1-63"), ("hq.\u200bexample.com", "IDNA reads it as 'hq.example.com'"),
    ("ｈｑ.example.com", "IDNA reads it as 'hq.example.com'"), ("straße-hq.example", "IDNA reads it as 'strasse-hq.example'"), ("hq.exa mple.com", "label 'exa mple' is not"),
])
def test_a_manifest_fqdn_that_is_not_a_host_name_is_an_error_naming_manifest_json(fqdn: str, error: str) -> None:
    with pytest.raises(EvidenceError, match=f"^manifest.json: field 'fqdn' .*({error})"):
        Manifest.parse({**MANIFEST, "fqdn": fqdn}, "manifest.json")


@pytest.mark.parametrize(("fqdn", "kept"), [("HQ.Example.COM.", "hq.example.com"), ("bücher-hq.example", "bücher-hq.example"),
                                            ("xn--bcher-hq-q9a.example", "xn--bcher-hq-q9a.example")])
def test_a_manifest_fqdn_in_unicode_or_with_a_trailing_dot_is_accepted(fqdn: str, kept: str) -> None:
    assert Manifest.parse({**MANIFEST, "fqdn": fqdn}, "manifest.json").fqdn == kept
    assert host_name(fqdn, "manifest.json", "fqdn") == kept


@pytest.mark.parametrize("address", [" 10.169.24.10", "10.169.24.10 ", "010.169.24.10", "hq.example.com", "fe80::1%eth0", "１０.１.１.１", ""])
def test_a_manifest_address_that_is_not_an_ip_address_is_an_error_naming_manifest_json(address: str) -> None:
    with pytest.raises(EvidenceError, match="^manifest.json: field 'address' .* is not an IPv4 or IPv6 address"):
        Manifest.parse({**MANIFEST, "address": address}, "manifest.json")
    assert ip_address("2001:DB8::1", "manifest.json", "address") == "2001:db8::1"


def _claimed_but_missing(scenarios_dir: Path, tmp_path: Path, relative: str, claim: str) -> Path:
    snapshot = tmp_path / "snapshots" / "claimed"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    target = snapshot / relative
    shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["collected"] = [c for c in manifest["collected"] if c != claim] + [claim]
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    return snapshot


@pytest.mark.parametrize(("relative", "claim"), [("probes/https.json", "probes/https.json"), ("probes/https.json", "probes/https"),
                                                 ("phone-logs", "phone-logs/"), ("iis/state.json", "iis/state.json")])
def test_optional_evidence_the_manifest_claims_but_lacks_is_an_error(scenarios_dir: Path, tmp_path: Path, relative: str, claim: str) -> None:
    snapshot = Snapshot(_claimed_but_missing(scenarios_dir, tmp_path, relative, claim))
    read = {"probes/https.json": lambda: snapshot.https_probe, "phone-logs": lambda: snapshot.phone_logs,
            "iis/state.json": lambda: snapshot.reboot_pending}[relative]

    with pytest.raises(EvidenceError, match=f"^{relative}/?: is listed in manifest.json's collected but"):
        read()


def test_an_empty_phone_logs_folder_the_manifest_claims_is_an_error(scenarios_dir: Path, tmp_path: Path) -> None:
    snapshot = _claimed_but_missing(scenarios_dir, tmp_path, "phone-logs", "phone-logs/")
    (snapshot / "phone-logs").mkdir()

    with pytest.raises(EvidenceError, match="^phone-logs/: is listed in manifest.json's collected but holds no log file"):
        Snapshot(snapshot).phone_logs


def test_https_probe_listed_but_absent_makes_x1_not_judged_and_the_gate_incomplete(scenarios_dir: Path, tmp_path: Path, run_suite) -> None:
    snapshot = _claimed_but_missing(scenarios_dir, tmp_path, "probes/https.json", "probes/https.json")

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "claimed")

    assert run.outcomes("claimed")["test_certauth_endpoint_answers"] == "error"
    assert "probes/https.json: is listed in manifest.json's collected but is not in the snapshot" in run.output
    assert run.returncode == 3, run.output[-2000:]


def test_a_bad_manifest_fqdn_leaves_the_host_not_judged_exit_3(scenarios_dir: Path, tmp_path: Path, run_suite) -> None:
    """Exit 3, not 2: manifest.json is the host's evidence (written by the collector or by hand), not casgate's
    configuration; like any unusable evidence it leaves that host not judged, and the other hosts of a fleet run
    are still judged, where a usage error would stop the whole run."""
    snapshot = tmp_path / "snapshots" / "spaced"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    (snapshot / "manifest.json").write_text(json.dumps({**manifest, "fqdn": "hq.example.com "}))

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "spaced")

    assert run.returncode == 3, run.output[-2000:]
    assert "manifest.json: field 'fqdn' 'hq.example.com ' is not a host name" in run.output
    assert set(run.outcomes("spaced").values()) == {"error"}


# ---- cause 1's log scan asks the same question: 403.7 counts when the list is sent, by value or OS default --------

@pytest.mark.parametrize(("value", "os_version", "cause"), [
    (None, SERVER_2008_R2, "1"), (None, SERVER_2019, None), (1, SERVER_2019, "1"), (0, SERVER_2008_R2, None),
    (None, NO_BUILD, "1?"), (None, "", "1?"),
])
def test_403_7_is_cause_1_when_schannel_sends_the_list_by_value_or_os_default(tmp_path: Path, value: int | None, os_version: str,
                                                                               cause: str | None) -> None:
    logs = _logs(tmp_path, LINE.format(win32="0").replace("403 13", "403 7"))

    scan = scan_certauth(logs, _dword(value), DAY, os_version)

    assert [f.cause for f in scan.findings()] == ([cause] if cause else [])
