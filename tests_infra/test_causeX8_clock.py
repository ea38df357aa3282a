"""Beyond the KB: the server's clock agrees with the runner's, or certificate dates are judged at the wrong time."""

import pytest

from casgate.checks.clock import judge_clock


@pytest.mark.cause("X8", "the server's clock is within the limit of the runner's")
def test_server_clock_in_step(hq, gate):
    gate(judge_clock(hq.clock, hq.max_clock_skew))
