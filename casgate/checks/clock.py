"""Beyond the KB (X8): the server's clock against the runner's at collection time."""

from __future__ import annotations

from datetime import datetime

from casgate.evidence import ClockReading
from casgate.verdict import Facts, Verdict

MAX_SKEW = 300  # seconds: Windows' own limit for clock differences (Kerberos "Maximum tolerance for computer clock synchronization")

REMEDIATION = (
    "Beyond the KB (X8): a server clock that is off makes Schannel judge the phones' certificates at the wrong time "
    "(403.17 'expired or not yet valid' once it passes their dates) and breaks Kerberos and WinRM sign-in. See where the "
    "server takes its time from, then resynchronise it (this only corrects the clock):\n"
    "  w32tm /query /status\n"
    "  w32tm /query /source\n"
    "  w32tm /resync /rediscover"
)


def _ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def judge_clock(reading: ClockReading, max_skew: int = MAX_SKEW) -> Verdict:
    """X8, RFC 5280 4.1.2.5 (validity is judged against the verifier's clock) and Microsoft's Kerberos policy
    "Maximum tolerance for computer clock synchronization" (5 minutes by default): fail when the server's clock is
    surely more than `max_skew` seconds off the runner's (half the round trip allowed for), warn when it may be."""
    skew, margin = reading.skew, reading.uncertainty
    direction = "ahead of" if skew > 0 else "behind"
    evidence = (f"server clock {_ms(reading.server)}Z, read while the runner's clock went from {_ms(reading.runner_before)[11:]} "
                f"to {_ms(reading.runner_after)[11:]} UTC",
                f"server {abs(skew):,.1f} s {direction} the runner (± {margin:,.1f} s: half the round trip); limit {max_skew} s")
    surely_off, maybe_off = abs(skew) - margin > max_skew, abs(skew) + margin > max_skew
    facts: Facts = {"clock": "off" if surely_off else "maybe off" if maybe_off else "in step"}
    if surely_off:
        return Verdict.failed(f"the server's clock is {abs(skew):,.0f} s {direction} the runner's (limit {max_skew} s)",
                              evidence, REMEDIATION, facts)
    if maybe_off:
        return Verdict.warned(f"the server's clock may be more than {max_skew} s off the runner's: the round trip took "
                              f"{2 * margin:,.1f} s, too long to tell", evidence,
                              "Collect again when the WinRM round trip is quicker, or compare the clocks by hand (w32tm /stripchart).",
                              facts)
    return Verdict.passed(f"the server's clock is within {max_skew} s of the runner's ({skew:+,.1f} s ± {margin:,.1f} s)", evidence, facts)
