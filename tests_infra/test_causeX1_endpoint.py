"""Beyond the KB: the certauth endpoint answers over HTTPS, so the phones' requests can reach IIS at all."""

import pytest

from casgate.checks.endpoint import judge_certauth_endpoint


@pytest.mark.cause("X1", "POST /shoreauth/certauth answers 403 without a client certificate")
def test_certauth_endpoint_answers(hq, gate):
    gate(judge_certauth_endpoint(hq.https_probe))
