"""Counting symptom lines per phone (client IP or phone log), shared by the log judges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

SAMPLES = 3
Hit = tuple[str, "datetime | None", str]
"""(phone, time, cited line): one symptom line attributed to one phone."""


@dataclass
class Tally:
    """How often one phone hit a symptom, when first and last, and a few lines to show."""

    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    samples: list[str] = field(default_factory=list)

    def add(self, moment: datetime | None, cite: str) -> None:
        self.count += 1
        if moment is not None:
            self.first = moment if self.first is None else min(self.first, moment)
            self.last = moment if self.last is None else max(self.last, moment)
        if len(self.samples) < SAMPLES:
            self.samples.append(cite)


def tally(hits: Iterable[Hit]) -> dict[str, Tally]:
    """(phone, time, cited line) triples grouped by phone, in first-seen order."""
    tallies: dict[str, Tally] = {}
    for phone, moment, cite in hits:
        tallies.setdefault(phone, Tally()).add(moment, cite)
    return tallies


def _when(moment: datetime | None) -> str:
    return "undated" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}Z"


def describe(tallies: dict[str, Tally], what: str) -> list[str]:
    lines = []
    for phone, t in tallies.items():
        lines.append(f"{phone}: {t.count} x {what}, first {_when(t.first)}, last {_when(t.last)}")
        lines.extend(f"    {sample}" for sample in t.samples)
    return lines


def describe_history(tallies: dict[str, Tally], what: str) -> list[str]:
    """One line about matches older than the window: mentioned, not counted."""
    if not tallies:
        return []
    count = sum(t.count for t in tallies.values())
    last = max((t.last for t in tallies.values() if t.last), default=None)
    return [f"older than the window (not counted): {count} x {what} from {len(tallies)} phone(s), last {_when(last)}"]
