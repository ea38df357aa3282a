"""Beyond the KB: the certificate IIS serves on 443 and keystore server.crt are inside their validity window."""

import pytest

from casgate.checks.served import judge_served_validity


@pytest.mark.cause("X2", "the served certificate and keystore server.crt are valid at collection time")
def test_served_certificate_is_valid(hq, gate):
    gate(judge_served_validity(hq.bindings, hq.server_stores, hq.manifest.fqdn, hq.manifest.address, hq.server_crt,
                               hq.manifest.collected_at, hq.warn_days))
