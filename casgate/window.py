"""The time window in which log symptoms count as current, so a repaired server stops failing on old lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from casgate.errors import CasgateError
from casgate.evidence import EARLIEST, LATEST, in_era

_DURATION = re.compile(r"0*([0-9]+)\s*([smhdw])", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Ten years: far beyond any log retention, and `end - span` stays a representable time.
MAX_SPAN = timedelta(days=3653)


def parse_since(text: str) -> timedelta | datetime:
    """--since: how far back from the window's end ('24h', '90m', '7d'), or the window's start as an ISO 8601 date
    or time ('2026-11-20', '2026-11-20T06:00:00Z'; without a zone it is UTC, as in IIS logs)."""
    shown = f"--since {text[:40]!r}"
    if match := _DURATION.fullmatch(text.strip()):
        seconds = int(match[1]) * _SECONDS[match[2].lower()] if len(match[1]) <= 12 else 0  # no 4300-digit ints
        if not 0 < seconds <= MAX_SPAN.total_seconds():
            raise CasgateError(f"{shown}: give a duration of at least 1s and at most ten years ({MAX_SPAN.days}d)")
        return timedelta(seconds=seconds)
    try:
        given = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        start: datetime | None = (given if given.tzinfo else given.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except ValueError:
        raise CasgateError(f"{shown}: give a duration such as 24h, 90m or 7d, "
                           "or a start such as 2026-11-20 or 2026-11-20T06:00:00Z") from None
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        start = None
    if start is None or not in_era(start):
        raise CasgateError(f"{shown}: give a start between {EARLIEST.year} and {LATEST.year - 1}")
    return start


def window_start(since: timedelta | datetime, end: datetime) -> datetime:
    """The start of the window that ends at `end` (the collection time, or now): a start as given, or end - span."""
    if isinstance(since, datetime):
        return since
    if not in_era(end):
        raise CasgateError(f"the log window's end {end.isoformat()} is outside {EARLIEST.year}..{LATEST.year - 1}")
    return end - since


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}Z"


def refuse_after(start: datetime, evidence_end: datetime, evidence: str) -> None:
    """A window that starts after the evidence it applies to ends holds nothing, so it would judge nothing and pass:
    a usage error naming both times. `evidence` says whose end it is ("the collection of hq01's evidence at")."""
    if start > evidence_end:
        raise CasgateError(f"--since: the log window starts {_when(start)}, after {evidence} {_when(evidence_end)}: nothing in it "
                           "could be judged; give an earlier start, or a duration such as 24h counted back from that time")


@dataclass(frozen=True)
class Window:
    """[start, end]; lines after `end` (clock skew) still count, lines before `start` are history; undated lines
    count as current (an unknown time must not hide a symptom)."""

    start: datetime
    end: datetime

    @classmethod
    def before(cls, end: datetime, since: timedelta | datetime) -> Window:
        return cls(window_start(since, end), end)

    def describe(self) -> str:
        return f"{_when(self.start)} .. {_when(self.end)}"
