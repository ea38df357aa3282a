"""KB reason 3: the phones cannot resolve the HQ FQDN to the HQ server."""

import pytest

from casgate.checks.dns import judge_dns
from casgate.checks.phone_log import judge_phone_logs
from casgate.logs.phone import HOST_NOT_FOUND


@pytest.mark.cause("3", "the phones' DNS servers resolve the HQ FQDN to the HQ address")
def test_fqdn_resolves_to_hq(hq, gate):
    gate(judge_dns(hq.dns_probe, hq.manifest))


@pytest.mark.cause("3", "phone logs show no 'Host not found' on the certauth URL")
def test_phone_logs_show_no_host_not_found(hq, gate):
    gate(judge_phone_logs(hq.phone_logs, HOST_NOT_FOUND, hq.window, hq.manifest.fqdn, hq.manifest.address))
