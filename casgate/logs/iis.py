"""IIS W3C logs, parsed by the `#Fields:` directive in force at each line. Only lines that mention certauth are
parsed at all: a SIMD search finds them and every directive in the mapped file, the rest is never touched."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone

from casgate.logs._lines import LineCounter, line_bounds, text_of
from casgate.logs.sources import Block

CERTAUTH = b"certauth"
_DIRECTIVE = b"\n#"
_BOM = b"\xef\xbb\xbf"


class Entry:
    """One parsed line: its values keyed by the field names then in force; `time` is UTC as IIS writes it."""

    __slots__ = ("source", "line", "time", "values", "text")

    def __init__(self, source: str, time: datetime, values: dict[str, str], text: str) -> None:
        self.source, self.time, self.values, self.text = source, time, values, text
        self.line: int | None = None

    def get(self, name: str) -> str:
        return self.values.get(name, "-")

    def cite(self) -> str:
        return f"{self.source}:{self.line}: {self.text}"


class Malformed:
    """A candidate line that does not fit the `#Fields:` in force: reported with its number, never guessed at."""

    __slots__ = ("source", "line", "reason")

    def __init__(self, source: str, line: int, reason: str) -> None:
        self.source, self.line, self.reason = source, line, reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Malformed) and (self.source, self.line, self.reason) == (other.source, other.line, other.reason)

    def __repr__(self) -> str:
        return f"Malformed({self.source!r}, {self.line}, {self.reason!r})"

    def cite(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


class _State:
    """What the directives said so far in one file."""

    __slots__ = ("fields", "date")

    def __init__(self) -> None:
        self.fields: list[str] | None = None
        self.date: str | None = None

    def apply(self, directive: str) -> None:
        if directive.startswith("#Fields:"):
            self.fields = directive[len("#Fields:"):].split()
        elif directive.startswith("#Date:"):
            self.date = directive[len("#Date:"):].split()[0] if directive[len("#Date:"):].split() else None


def _parse(text: str, source: str, state: _State, counter: LineCounter, start: int) -> Entry | Malformed:
    if state.fields is None:
        return Malformed(source, counter.line_of(start), "entry before any #Fields: directive")
    values = text.split(" ")
    if len(values) != len(state.fields):
        return Malformed(source, counter.line_of(start), f"{len(values)} values where #Fields: names {len(state.fields)}")
    named = dict(zip(state.fields, values))
    try:
        moment = datetime.fromisoformat(f"{named.get('date', state.date)}T{named['time']}").replace(tzinfo=timezone.utc)
    except (KeyError, ValueError):
        return Malformed(source, counter.line_of(start), "no valid date and time fields")
    return Entry(source, moment, named, text)


def _directive_starts(block: Block, newline_hashes: list[int]) -> list[int]:
    starts = [p + 1 for p in newline_hashes]
    head = block.hay.slice(0, 4)
    if head.startswith(b"#"):
        starts.insert(0, 0)
    elif head.startswith(_BOM + b"#"):
        starts.insert(0, len(_BOM))
    return starts


def scan_file(source: str, blocks: Iterable[Block], wants_line: Callable[[Entry], bool]) -> Iterator[Entry | Malformed]:
    """Entries and malformed lines of one log, in order; an entry gets its line number only if `wants_line` says so."""
    state, counter = _State(), LineCounter()
    for block in blocks:
        hay, end = block.hay, block.hay.size
        counter.enter(hay)
        directives, candidates = hay.positions((_DIRECTIVE, CERTAUTH), end)
        events = heapq.merge(((p, 0) for p in _directive_starts(block, directives)), ((p, 1) for p in candidates))
        last_start = -1
        for at, kind in events:
            start, stop = line_bounds(hay, at, end)
            if start == last_start:
                continue  # certauth twice on one line
            last_start = start
            text = text_of(hay, start, stop).lstrip("\ufeff")
            if text.startswith("#"):
                state.apply(text)
                continue
            item = _parse(text, source, state, counter, start)
            if isinstance(item, Entry) and wants_line(item):
                item.line = counter.line_of(start)
            yield item
        counter.leave(block.last)
