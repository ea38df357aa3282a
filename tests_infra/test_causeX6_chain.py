"""Beyond the KB: keystore server.crt chains to the keystore's CA certificate."""

import pytest

from casgate.checks.chain import judge_chain


@pytest.mark.cause("X6", "keystore server.crt chains to keystore ca.crt")
def test_server_crt_chains_to_keystore_ca(hq, gate):
    gate(judge_chain(hq.server_crt, hq.ca_crt, hq.manifest.collected_at, hq.warn_days))
