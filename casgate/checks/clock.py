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


def against(value: float, limit: float) -> str:
    """`value` with the fewest decimals (at least one) that still compare with `limit` as `value` does: 300.5 against
    a 300 s limit is never printed as "300", nor 299.96 as "300.0" where the judge saw it below."""
    for places in range(1, 7):
        text = f"{value:,.{places}f}"
        shown = float(text.replace(",", ""))
        if (shown > limit) == (value > limit) and (shown < limit) == (value < limit):
            return text
    return repr(value)


def judge_clock(reading: ClockReading, max_skew: int = MAX_SKEW) -> Verdict:
    """X8, RFC 5280 4.1.2.5 (validity is judged against the verifier's clock) and Microsoft's Kerberos policy
    "Maximum tolerance for computer clock synchronization" (5 minutes by default): fail when the server's clock is
    surely more than `max_skew` seconds off the runner's (half the round trip allowed for), warn when it may be.
    Every number printed beside the limit is printed so that it compares with the limit as the judge compared it."""
    skew, margin = reading.skew, reading.uncertainty
    low, high = abs(skew) - margin, abs(skew) + margin  # how far off the clock is, at least and at most
    direction = "ahead of" if skew > 0 else "behind"
    evidence = (f"server clock {_ms(reading.server)}Z, read while the runner's clock went from {_ms(reading.runner_before)[11:]} "
                f"to {_ms(reading.runner_after)[11:]} UTC",
                f"server {against(abs(skew), max_skew)} s {direction} the runner (± {margin:,.1f} s: half the round trip), so between "
                f"{against(max(low, 0.0), max_skew)} and {against(high, max_skew)} s off; limit {max_skew} s")
    surely_off, maybe_off = low > max_skew, high > max_skew
    facts: Facts = {"clock": "off" if surely_off else "maybe off" if maybe_off else "in step"}
    if surely_off:
        return Verdict.failed(f"the server's clock is {against(abs(skew), max_skew)} s {direction} the runner's, at least "
                              f"{against(low, max_skew)} s with the round trip (limit {max_skew} s)", evidence, REMEDIATION, facts)
    if maybe_off:
        return Verdict.warned(f"the server's clock may be more than {max_skew} s off the runner's (up to {against(high, max_skew)} s): "
                              f"the round trip took {2 * margin:,.1f} s, too long to tell", evidence,
                              "Collect again when the WinRM round trip is quicker, or compare the clocks by hand (w32tm /stripchart).",
                              facts)
    signed = ("-" if skew < 0 else "+") + against(abs(skew), max_skew)
    return Verdict.passed(f"the server's clock is within {max_skew} s of the runner's ({signed} s ± {margin:,.1f} s: at most "
                          f"{against(high, max_skew)} s off)", evidence, facts)
