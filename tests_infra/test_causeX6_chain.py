"""Beyond the KB: keystore server.crt chains to the keystore's CA certificate."""

import pytest

from casgate.checks.chain import judge_chain


@pytest.mark.cause("X6", "keystore server.crt chains to keystore ca.crt")
def test_server_crt_chains_to_keystore_ca(server_crt, ca_crt, manifest, warn_days, gate):
    gate(judge_chain(server_crt, ca_crt, manifest.collected_at, warn_days))
