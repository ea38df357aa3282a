"""Beyond the KB: the Mitel hardware root itself is valid, and no stale copy under its name sits in LocalMachine\\Root."""

import pytest

from casgate.checks.mitel_root import judge_mitel_root_itself


@pytest.mark.cause("X4", "Mitel_mfg_ca.crt is valid and Root holds no other key under its name")
def test_mitel_root_ca_is_current(mitel_ca, root_store, manifest, warn_days, gate):
    gate(judge_mitel_root_itself(mitel_ca, root_store, manifest.collected_at, warn_days))
