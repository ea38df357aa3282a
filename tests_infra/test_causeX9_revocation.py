"""Beyond the KB: certauth is not refused for the phones' certificates' revocation status (403.13)."""

import pytest

from casgate.checks.revocation import judge_revocation


@pytest.mark.cause("X9", "IIS logs show no certauth 403.13 (revocation) in the window")
def test_certauth_not_refused_on_revocation(hq, gate):
    gate(judge_revocation(hq.certauth_scan, hq.window, hq.registry, hq.sslcert))
