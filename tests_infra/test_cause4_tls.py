"""KB reason 4: TLS versions or cipher suites changed on HQ; the phones speak TLS 1.0."""

import pytest

from casgate.checks.tls import judge_phone_ciphers, judge_tls10


@pytest.mark.cause("4", "TLS 1.0 is enabled for the server (registry and handshake agree)")
def test_tls10_enabled(hq, gate):
    gate(judge_tls10(hq.registry_if_collected, hq.manifest.os_version, hq.tls_probe, hq.reboot_pending))


@pytest.mark.cause("4", "the phones' TLS 1.0 cipher profile is accepted")
def test_phone_cipher_profile_accepted(hq, gate):
    gate(judge_phone_ciphers(hq.registry_if_collected, hq.tls_probe, hq.phone_ciphers, hq.manifest.os_version))
