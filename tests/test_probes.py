"""The runner-side probes against real servers on loopback: TLS 1.0 on and off, a cipher list without the phones'
suites, an IIS-like 403 on certauth, and a DNS server that answers right, wrong, NXDOMAIN, or not at all."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from casgate.certs import thumbprint
from casgate.probes.dns import ask, split_server
from casgate.probes.https import probe_certauth
from casgate.probes.tls import probe_tls
from casgate.profile import DEFAULT_PHONE_PROFILE
from tests.servers import dns_server, tls_server, write_server_identity

FQDN = "hq.example.com"


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    return write_server_identity(tmp_path_factory.mktemp("tls"), FQDN)


def test_tls10_server_accepts_tls10_and_the_phone_profile(identity) -> None:
    cert, key, der = identity
    with tls_server(cert, key, tls10=True) as server:
        result = probe_tls(server.address, server.port, FQDN, DEFAULT_PHONE_PROFILE, timeout=3)

    shakes = result["handshakes"]
    assert shakes["tls1.0"]["accepted"] and shakes["tls1.0"]["version"] == "TLSv1"
    assert shakes["phone-profile"]["accepted"]
    assert shakes["phone-profile"]["cipher"] in {"ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA", "AES256-SHA", "AES128-SHA", "DES-CBC3-SHA"}
    assert shakes["tls1.2"]["certificate_thumbprint"] == thumbprint(der)


def test_server_without_tls10_refuses_it_but_was_reached(identity) -> None:
    cert, key, _ = identity
    with tls_server(cert, key, tls10=False) as server:
        shakes = probe_tls(server.address, server.port, FQDN, DEFAULT_PHONE_PROFILE, timeout=3)["handshakes"]

    assert shakes["tls1.0"]["reached"] and not shakes["tls1.0"]["accepted"]
    assert shakes["tls1.0"]["error"]
    assert not shakes["phone-profile"]["accepted"]
    assert shakes["tls1.2"]["accepted"]


def test_cipher_list_without_the_phone_suites(identity) -> None:
    cert, key, _ = identity
    with tls_server(cert, key, tls10=True, ciphers="CAMELLIA256-SHA:@SECLEVEL=0") as server:
        shakes = probe_tls(server.address, server.port, FQDN, DEFAULT_PHONE_PROFILE, timeout=3)["handshakes"]

    assert shakes["tls1.0"]["accepted"] and shakes["tls1.0"]["cipher"] == "CAMELLIA256-SHA"
    assert not shakes["phone-profile"]["accepted"]


def test_all_five_handshakes_run_at_once_and_are_listed_in_a_fixed_order(identity) -> None:
    cert, key, der = identity
    opened: list[int] = []
    # the server holds every handshake until five connections are open: one after the other, none would finish
    with tls_server(cert, key, tls10=True, together=5, opened=opened) as server:
        result = probe_tls(server.address, server.port, FQDN, DEFAULT_PHONE_PROFILE, timeout=10)

    shakes = result["handshakes"]
    assert list(shakes) == ["tls1.0", "tls1.1", "tls1.2", "tls1.3", "phone-profile"]
    assert [shakes[n]["version"] for n in list(shakes)[:4]] == ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    assert all(s["accepted"] and s["certificate_thumbprint"] == thumbprint(der) for s in shakes.values())
    assert max(opened) == 5


def test_versions_refused_beside_versions_accepted_keep_their_own_records(identity) -> None:
    cert, key, _ = identity
    with tls_server(cert, key, tls10=False, together=5) as server:
        shakes = probe_tls(server.address, server.port, FQDN, DEFAULT_PHONE_PROFILE, timeout=10)["handshakes"]

    refused, accepted = ("tls1.0", "tls1.1", "phone-profile"), ("tls1.2", "tls1.3")
    assert all(shakes[n]["reached"] and not shakes[n]["accepted"] and shakes[n]["error"] for n in refused)
    assert all(shakes[n]["accepted"] and shakes[n]["error"] is None for n in accepted)
    assert {shakes[n]["certificate_thumbprint"] for n in accepted} == {thumbprint(identity[2])}


def test_a_host_name_is_looked_up_once_for_all_handshakes(identity) -> None:
    cert, key, _ = identity
    with tls_server(cert, key, tls10=True) as server:
        shakes = probe_tls("localhost", server.port, FQDN, DEFAULT_PHONE_PROFILE, timeout=3)["handshakes"]

    assert all(s["accepted"] for s in shakes.values())


def test_an_unexpected_error_in_a_handshake_is_raised_not_lost(identity) -> None:
    cert, key, _ = identity
    with tls_server(cert, key) as server, pytest.raises(ValueError, match="idna"):
        probe_tls(server.address, server.port, ".hq.example.com", DEFAULT_PHONE_PROFILE, timeout=3)


def test_certauth_answers_403_like_iis(identity) -> None:
    cert, key, _ = identity
    with tls_server(cert, key) as server:
        result = probe_certauth(server.address, server.port, FQDN, timeout=3)

    assert result["status"] == 403 and result["error"] is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connection_is_recorded_quickly_not_raised() -> None:
    port = _closed_port()
    started = time.monotonic()
    shakes = probe_tls("127.0.0.1", port, FQDN, DEFAULT_PHONE_PROFILE, timeout=1)["handshakes"]
    https = probe_certauth("127.0.0.1", port, FQDN, timeout=1)

    assert time.monotonic() - started < 5
    assert not shakes["tls1.0"]["reached"] and "cannot connect to 127.0.0.1" in shakes["tls1.0"]["error"]
    assert https["status"] is None and not https["reached"] and "cannot connect to 127.0.0.1" in https["error"]


def test_silent_tls_server_times_out_within_the_bound() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts TCP, never speaks TLS
    try:
        started = time.monotonic()
        shakes = probe_tls("127.0.0.1", listener.getsockname()[1], FQDN, ("TLS_RSA_WITH_AES_128_CBC_SHA",), timeout=0.3)["handshakes"]
        assert time.monotonic() - started < 5
        assert shakes["tls1.0"]["reached"] and not shakes["tls1.0"]["accepted"]
        assert "timed out" in shakes["tls1.0"]["error"]
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("records", "silent", "expected"),
    [
        ({FQDN: ["127.0.0.10"]}, False, {"rcode": "NOERROR", "addresses": ["127.0.0.10"], "ttl": 300, "error": None}),
        ({FQDN: ["127.0.0.99"]}, False, {"rcode": "NOERROR", "addresses": ["127.0.0.99"], "ttl": 300, "error": None}),
        ({}, False, {"rcode": "NXDOMAIN", "addresses": [], "ttl": None, "error": None}),
        ({FQDN: []}, False, {"rcode": "NOERROR", "addresses": [], "ttl": None, "error": None}),
        ({FQDN: ["127.0.0.10"]}, True, {"rcode": None, "addresses": [], "ttl": None, "error": "timeout after 0.5 s"}),
    ],
    ids=["right", "wrong", "nxdomain", "no-record", "silent"],
)
def test_dns_answers_as_recorded(records, silent, expected) -> None:
    with dns_server(records, silent=silent) as server:
        answer = ask(FQDN, server.spec, timeout=0.5)

    assert answer == {"server": server.spec, **expected}


@pytest.mark.parametrize(("spec", "expected"), [("192.0.2.53", ("192.0.2.53", 53)), ("192.0.2.53:5353", ("192.0.2.53", 5353)),
                                                  ("::1", ("::1", 53)), ("[::1]:5353", ("::1", 5353))])
def test_dns_server_specs(spec: str, expected: tuple[str, int]) -> None:
    assert split_server(spec) == expected
