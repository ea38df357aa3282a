"""KB reason 1: IIS answers the phones' certauth 403.16 (CERT_E_UNTRUSTEDROOT) because of LocalMachine\\Root."""

import pytest

from casgate.checks.iis_log import judge_certauth_log
from casgate.checks.root_store import judge_mitel_root, judge_root_store, judge_trust_mode


@pytest.mark.cause("1a", "LocalMachine\\Root holds only self-signed certificates")
def test_root_store_is_self_signed(hq, gate):
    gate(judge_root_store(hq.root_store))


@pytest.mark.cause("1b", "Mitel HW root CA (Mitel_mfg_ca.crt) is in LocalMachine\\Root")
def test_mitel_root_ca_is_trusted(hq, gate):
    gate(judge_mitel_root(hq.root_store, hq.mitel_ca))


@pytest.mark.cause("1a", "ClientAuthTrustMode workaround is not masking the root store")
def test_trust_mode_workaround_absent(hq, gate):
    gate(judge_trust_mode(hq.registry))


@pytest.mark.cause("1", "IIS logs show no certauth rejection (403.16, 403.7, 403.17) in the window")
def test_certauth_not_rejected_in_iis_logs(hq, gate):
    gate(judge_certauth_log(hq.certauth_scan, hq.window, hq.root_hint))
