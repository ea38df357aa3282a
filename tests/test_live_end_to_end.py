"""Live mode end to end through `pytest --host`: an inventory pointing at real loopback servers, a host that is
down, `--record`, and the replay of that recording giving the same outcome for every check."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest

from casgate.scenarios import Pki
from tests.conftest import CHECKS
from tests.servers import dns_server, tls_server, write_hq_identity
from tests.test_collector import LOGS_DOCUMENT, host_document, install_fake_powershell

FQDN = "hq.example.com"
HOST_SIDE = {"test_root_store_is_self_signed", "test_mitel_root_ca_is_trusted", "test_trust_mode_workaround_absent",
             "test_certauth_not_rejected_in_iis_logs", "test_https_binding_matches_keystore"}
PROBE_CHECKS = {"test_fqdn_resolves_to_hq", "test_tls10_enabled", "test_phone_cipher_profile_accepted", "test_certauth_endpoint_answers"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _inventory(path: Path, **hosts: dict[str, object]) -> Path:
    lines = []
    for name, entry in hosts.items():
        lines.append(f"[hosts.{name}]")
        lines += [f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}".replace("'", '"') for key, value in entry.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory):
    return write_hq_identity(tmp_path_factory.mktemp("live-tls"), FQDN, Pki(FQDN, datetime(2025, 1, 1, tzinfo=timezone.utc)).mitel_ca)


def test_probes_only_hosts_live_then_replayed(identity, tmp_path: Path, run_suite) -> None:
    cert, key, _ = identity
    with tls_server(cert, key, tls10=True) as tls, tls_server(cert, key, tls10=False) as modern, \
            dns_server({FQDN: ["127.0.0.1"]}) as dns, dns_server({FQDN: ["127.0.0.99"]}) as wrong, dns_server({}, silent=True) as mute:
        probes_only = {"fqdn": FQDN, "address": "127.0.0.1", "connection": "none"}
        inventory = _inventory(
            tmp_path / "inventory.toml",
            up={**probes_only, "dns_servers": [dns.spec], "https_port": tls.port},
            old={**probes_only, "dns_servers": [wrong.spec], "https_port": modern.port},
            down={**probes_only, "dns_servers": [mute.spec], "https_port": _closed_port()},
        )
        hosts = ("--host", "up", "--host", "old", "--host", "down")
        live = run_suite(f"--inventory={inventory}", *hosts, f"--record={tmp_path / 'rec'}", "--probe-timeout", "0.5")

    up, old, down = live.outcomes("up"), live.outcomes("old"), live.outcomes("down")
    assert {c for c, o in up.items() if o == "pass"} == PROBE_CHECKS
    assert {up[c] for c in set(up) - PROBE_CHECKS} == {"skip"}
    assert 'not collected: connection = "none": only the runner-side probes ran' in live.output
    assert {c for c, o in old.items() if o == "fail"} == {"test_fqdn_resolves_to_hq", "test_tls10_enabled", "test_phone_cipher_profile_accepted"}
    assert "resolves to 127.0.0.99, not the HQ address 127.0.0.1" in live.output
    assert old["test_certauth_endpoint_answers"] == "pass"
    # an unreachable host is an outage: nothing about it is judged, nothing blamed on DNS
    assert {down[c] for c in PROBE_CHECKS} == {"error"}
    assert "1 of 1 DNS server(s) did not answer (127.0.0.1:" in live.output and "timeout after 0.5 s): an outage" in live.output
    assert "the runner could not reach 127.0.0.1:" in live.output
    [down_dns] = [r for r in live.results if r["host"] == "down" and r["check_id"] == "test_fqdn_resolves_to_hq"]
    assert down_dns["remediation"] == "" and down_dns["summary"].startswith("could not judge, evidence unusable: probes/dns.json")
    assert live.returncode == 1

    replay = run_suite(f"--snapshots={tmp_path / 'rec'}", *hosts)

    assert (replay.outcomes("up"), replay.outcomes("old"), replay.outcomes("down")) == (up, old, down)
    assert not list((tmp_path / "rec").glob(".*partial*"))


def test_host_side_through_testinfra_local_backend(identity, tmp_path: Path, run_suite) -> None:
    cert, key, der = identity  # the TLS server presents the keystore's server.crt, as IIS would
    install_fake_powershell(tmp_path / "bin", host_document(der), LOGS_DOCUMENT, tmp_path / "scripts.log")
    with tls_server(cert, key, tls10=True) as tls, dns_server({FQDN: ["127.0.0.1"]}) as dns:
        inventory = _inventory(tmp_path / "inventory.toml", hq={"fqdn": FQDN, "address": "127.0.0.1", "connection": "local",
                                                                 "dns_servers": [dns.spec], "https_port": tls.port})
        run = run_suite(f"--inventory={inventory}", "--host", "hq",
                        env_extra={"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"})

    outcomes = run.outcomes("hq")
    assert run.returncode == 0, run.output
    assert {c for c, o in outcomes.items() if o == "skip"} == {"test_phone_logs_show_no_tls_failure", "test_phone_logs_show_no_host_not_found"}
    assert {o for c, o in outcomes.items() if "phone_logs" not in c} == {"pass"}
    assert len((tmp_path / "scripts.log").read_text().split("\n=====\n")) == 3  # two round trips


def test_failing_collector_errors_host_side_checks_and_probes_still_run(identity, tmp_path: Path, run_suite) -> None:
    cert, key, _ = identity
    fake = tmp_path / "bin" / "powershell"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Access is denied.' >&2\nexit 1\n")
    fake.chmod(0o755)
    with tls_server(cert, key) as tls, dns_server({FQDN: ["127.0.0.1"]}) as dns:
        inventory = _inventory(tmp_path / "inventory.toml", hq={"fqdn": FQDN, "address": "127.0.0.1", "connection": "local",
                                                                 "dns_servers": [dns.spec], "https_port": tls.port})
        run = run_suite(f"--inventory={inventory}", "--host", "hq", env_extra={"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"})

    outcomes = run.outcomes("hq")
    # TLS checks need the registry as well as the handshake: collected-but-failed evidence is an error, not a guess.
    assert {outcomes[c] for c in HOST_SIDE | {"test_tls10_enabled", "test_phone_cipher_profile_accepted"}} == {"error"}
    assert "could not be collected: host evidence: PowerShell exited 1: Access is denied." in run.output
    assert outcomes["test_fqdn_resolves_to_hq"] == outcomes["test_certauth_endpoint_answers"] == "pass"
    assert "Traceback" not in run.output


def test_name_in_inventory_and_snapshots_is_the_snapshot_unless_live(tmp_path: Path, run_suite) -> None:
    """Copying the example inventory (it names hq01 too, as the bundled demo does): `pytest --host hq01` asks which
    (it judged the crafted demo as the server); --replay judges the demo, --live the server."""
    inventory = _inventory(tmp_path / "inventory.toml", hq01={"fqdn": FQDN, "address": "127.0.0.1", "connection": "none",
                                                               "dns_servers": ["127.0.0.1:9"]})
    ambiguous = run_suite(f"--inventory={inventory}", "--host", "hq01")
    replayed = run_suite(f"--inventory={inventory}", "--host", "hq01", "--replay")
    live = run_suite(f"--inventory={inventory}", "--host", "hq01", "--live", "--probe-timeout", "0.3")

    assert ambiguous.returncode == 2 and "hq01 is a host in the inventory and also one of casgate's bundled demo snapshots" in ambiguous.output
    assert replayed.returncode == 1 and replayed.outcomes("hq01")["test_root_store_is_self_signed"] == "fail"
    assert "casgate: hq01: the snapshot" in replayed.output and "--live checks it live" in replayed.output
    assert live.outcomes("hq01")["test_root_store_is_self_signed"] == "skip"  # connection = "none": probes only


def test_broken_inventory_is_a_usage_error(tmp_path: Path, run_suite) -> None:
    inventory = tmp_path / "inventory.toml"
    inventory.write_text('[hosts.hq]\nfqdn = "x"\naddress = "127.0.0.1"\nconnection = "winrm://admin:secret@hq"\ndns_servers = ["1.1.1.1"]\n')

    run = run_suite(f"--inventory={inventory}", "--host", "hq")

    assert run.returncode == 2
    assert "connection must not carry credentials" in run.output
    assert "secret" not in run.output


def test_live_host_is_collected_once_when_two_workers_need_it(identity, tmp_path: Path, run_suite) -> None:
    cert, key, der = identity  # the TLS server presents the keystore's server.crt, as IIS would
    scripts = tmp_path / "scripts.log"
    install_fake_powershell(tmp_path / "bin", host_document(der), LOGS_DOCUMENT, scripts)
    with tls_server(cert, key) as tls, dns_server({FQDN: ["127.0.0.1"]}) as dns:
        inventory = _inventory(tmp_path / "inventory.toml", hq={"fqdn": FQDN, "address": "127.0.0.1", "connection": "local",
                                                                 "dns_servers": [dns.spec], "https_port": tls.port})
        run = run_suite(f"--inventory={inventory}", "--host", "hq", "-n", "2", "--dist", "load", f"--record={tmp_path / 'rec'}",
                        env_extra={"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"})

    assert run.returncode == 0, run.output
    assert "created: 2/2 workers" in run.output
    assert len(run.outcomes("hq")) == CHECKS
    assert scripts.read_text().count("\n=====\n") == 2  # one collection: two round trips, whatever the workers
    assert (tmp_path / "rec" / "hq" / "manifest.json").is_file()
