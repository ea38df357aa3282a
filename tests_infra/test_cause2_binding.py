"""KB reason 2: the certificate bound to IIS differs from the Mitel keystore's server.crt."""

import pytest

from casgate.checks.binding import judge_binding, judge_wire_certificate
from casgate.checks.phone_log import judge_phone_logs
from casgate.logs.phone import TLS_FAILURE
from casgate.snapshot import TLS_PROBE


@pytest.mark.cause("2", "Default Web Site https/443 is bound to keystore server.crt")
def test_https_binding_matches_keystore(hq, gate):
    gate(judge_binding(hq.bindings, hq.server_crt, hq.server_stores, hq.manifest.fqdn, hq.manifest.address))


@pytest.mark.cause("2", "the certificate served on 443 (runner's TLS probe) is keystore server.crt")
def test_certificate_served_on_443_is_server_crt(hq, gate):
    gate(judge_wire_certificate(hq.tls_probe, hq.server_crt, TLS_PROBE))


@pytest.mark.cause("2", "phone logs show no TLS handshake / CA failures")
def test_phone_logs_show_no_tls_failure(hq, gate):
    gate(judge_phone_logs(hq.phone_logs, TLS_FAILURE, hq.window, hq.manifest.fqdn, hq.manifest.address, hq.tls_cause))
