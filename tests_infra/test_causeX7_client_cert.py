"""Beyond the KB: IIS asks the phones for their client certificate on the shoreauth application (sslFlags)."""

import pytest

from casgate.checks.client_cert import judge_client_cert_policy


@pytest.mark.cause("X7", "IIS asks for the phones' client certificate on /shoreauth (sslFlags)")
def test_certauth_asks_for_client_certificate(hq, gate):
    gate(judge_client_cert_policy(hq.certauth_access))
