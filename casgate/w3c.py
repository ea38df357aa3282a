"""Stream IIS W3C logs by their `#Fields:` directives, which may change in the middle of a file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class W3CEntry:
    """One log line, its values keyed by the field names in force when IIS wrote it (times are UTC)."""

    source: str
    line: int
    time: datetime
    values: dict[str, str]
    text: str

    def get(self, name: str) -> str:
        return self.values.get(name, "-")

    def cite(self) -> str:
        return f"{self.source}:{self.line}: {self.text}"


@dataclass(frozen=True)
class Malformed:
    """A line that does not fit the `#Fields:` in force; reported, never guessed at."""

    source: str
    line: int
    reason: str


def scan_w3c(lines: Iterable[str], source: str, needle: str | None = None) -> Iterator[W3CEntry | Malformed]:
    """Entries of one log; with `needle`, only lines containing it (case-insensitive) are parsed at all."""
    fields: list[str] | None = None
    wanted = needle.lower() if needle else None
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if text.startswith("#"):
            if text.startswith("#Fields:"):
                fields = text[len("#Fields:"):].split()
            continue
        if not text.strip() or (wanted is not None and wanted not in text.lower()):
            continue
        if fields is None:
            yield Malformed(source, number, "entry before any #Fields: directive")
            continue
        values = text.split(" ")
        if len(values) != len(fields):
            yield Malformed(source, number, f"{len(values)} values where #Fields: names {len(fields)}")
            continue
        named = dict(zip(fields, values))
        try:
            moment = datetime.fromisoformat(f"{named['date']}T{named['time']}").replace(tzinfo=timezone.utc)
        except (KeyError, ValueError):
            yield Malformed(source, number, "no valid date and time fields")
            continue
        yield W3CEntry(source, number, moment, named, text)


def read_lines(path: Path) -> Iterator[str]:
    """Lines of a text log, streamed; IIS writes UTF-8 (PowerShell adds a BOM), stray bytes must not stop a gate."""
    with path.open(encoding="utf-8-sig", errors="replace", newline=None) as handle:
        yield from handle
