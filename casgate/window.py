"""The time window in which log symptoms count as current, so a repaired server stops failing on old lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from casgate.errors import CasgateError

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """'24h', '90m', '7d': how far back from the collection time log lines count."""
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise CasgateError(f"--since {text!r}: give a duration such as 24h, 90m or 7d")
    return timedelta(**{_UNITS[match[2].lower()]: int(match[1])})


@dataclass(frozen=True)
class Window:
    """[start, end]; lines after `end` (clock skew) still count, lines before `start` are history; undated lines
    count as current (an unknown time must not hide a symptom)."""

    start: datetime
    end: datetime

    @classmethod
    def before(cls, end: datetime, span: timedelta) -> Window:
        return cls(end - span, end)

    def describe(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}Z .. {self.end:%Y-%m-%d %H:%M}Z"
