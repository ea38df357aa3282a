"""Beyond the KB: the certificate IIS serves on 443 and keystore server.crt are inside their validity window."""

import pytest

from casgate.checks.served import judge_served_validity


@pytest.mark.cause("X2", "the served certificate and keystore server.crt are valid at collection time")
def test_served_certificate_is_valid(bindings, server_stores, server_crt, manifest, warn_days, gate):
    gate(judge_served_validity(bindings, server_stores, manifest.fqdn, manifest.address, server_crt, manifest.collected_at, warn_days))
