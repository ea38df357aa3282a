"""Beyond the KB: the HQ FQDN the phones use is a name of the certificate IIS serves on 443."""

import pytest

from casgate.checks.served import judge_name_match


@pytest.mark.cause("X3", "the served certificate's SAN names the HQ FQDN")
def test_served_certificate_names_hq_fqdn(hq, gate):
    gate(judge_name_match(hq.bindings, hq.server_stores, hq.manifest.fqdn, hq.manifest.address))
