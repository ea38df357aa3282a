"""Beyond the KB: the Mitel hardware root itself is valid, and no stale copy under its name sits in LocalMachine\\Root."""

import pytest

from casgate.checks.mitel_root import judge_mitel_root_itself


@pytest.mark.cause("X4", "Mitel_mfg_ca.crt is valid and Root holds no other key under its name")
def test_mitel_root_ca_is_current(hq, gate):
    gate(judge_mitel_root_itself(hq.mitel_ca, hq.root_store, hq.manifest.collected_at, hq.warn_days))
