"""Beyond the KB: the trusted issuer list Schannel sends (SendTrustedIssuerList, or the OS default) fits its 16 KB limit."""

import pytest

from casgate.checks.issuer_list import judge_issuer_list


@pytest.mark.cause("X5", "the trusted issuer list Schannel sends fits in 16 KB")
def test_trusted_issuer_list_fits(hq, gate):
    gate(judge_issuer_list(hq.registry, hq.root_store, hq.manifest.os_version))
