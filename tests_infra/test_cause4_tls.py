"""KB reason 4: TLS versions or cipher suites changed on HQ; the phones speak TLS 1.0."""

import pytest

from casgate.checks.tls import judge_phone_ciphers, judge_tls10


@pytest.mark.cause("4", "TLS 1.0 is enabled for the server (registry and handshake agree)")
def test_tls10_enabled(registry_if_collected, manifest, tls_probe, evidence, gate):
    gate(judge_tls10(registry_if_collected, manifest.os_version, tls_probe, evidence.reboot_pending))


@pytest.mark.cause("4", "the phones' TLS 1.0 cipher profile is accepted")
def test_phone_cipher_profile_accepted(registry_if_collected, manifest, tls_probe, phone_ciphers, gate):
    gate(judge_phone_ciphers(registry_if_collected, tls_probe, phone_ciphers, manifest.os_version))
