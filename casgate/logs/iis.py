"""IIS W3C logs, parsed by the `#Fields:` directive in force at each line. Only lines that mention certauth (in any
letter case: IIS paths are case-insensitive) are parsed at all: a SIMD search finds them and every directive in the
mapped file, the rest is never touched. A file without a `#Fields:` directive is never taken for a clean log."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone

from casgate.logs._lines import LineCounter, line_bounds, text_of
from casgate.logs.sources import Block

CERTAUTH = b"certauth"
# A directive is a '#' that starts a line, or follows NUL padding (after a crash IIS writes its next header straight
# after it). One search for '#' and a look at the byte before each (a '#' inside a line is rare in IIS logs) costs
# one pass over the file instead of two for "\n#" and "\x00#".
_HASH = b"#"
_BEFORE_DIRECTIVE = (b"\n", b"\x00")
_BOM = b"\xef\xbb\xbf"
MAX_LINE = 64 << 10  # IIS lines are a few KB; a longer one is reported by number, never copied into a report
NO_FIELDS = "has no #Fields: directive: not an IIS W3C log, or not text"
BLIND_WITHOUT = ("cs-uri-stem", "sc-status")


class Place:
    """A directive's file:line, its line counted the first time a message shows it (while its block is read):
    counting up to every directive would cost a pass over the whole file."""

    __slots__ = ("_source", "_counter", "_offset", "_text")

    def __init__(self, source: str, counter: LineCounter, offset: int) -> None:
        self._source, self._counter, self._offset = source, counter, offset
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = f"{self._source}:{self._counter.line_of(self._offset)}"
        return self._text


class Entry:
    """One parsed line: its values keyed by the field names then in force; `time` is UTC as IIS writes it."""

    __slots__ = ("source", "line", "time", "values", "text", "fields_at")

    def __init__(self, source: str, time: datetime, values: dict[str, str], text: str, fields_at: Place | str) -> None:
        self.source, self.time, self.values, self.text, self.fields_at = source, time, values, text, fields_at
        self.line: int | None = None

    def get(self, name: str) -> str:
        return self.values.get(name, "-")

    def cite(self) -> str:
        return f"{self.source}:{self.line}: {self.text}"


class Malformed:
    """A candidate line that does not fit the `#Fields:` in force, or a file that is no W3C log (line None):
    reported with its number, never guessed at. `partial` is a last line cut short by a log still being written."""

    __slots__ = ("source", "line", "reason", "partial")

    def __init__(self, source: str, line: int | None, reason: str, partial: bool = False) -> None:
        self.source, self.line, self.reason, self.partial = source, line, reason, partial

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Malformed) and (self.source, self.line, self.reason) == (other.source, other.line, other.reason)

    def __repr__(self) -> str:
        return f"Malformed({self.source!r}, {self.line}, {self.reason!r})"

    def cite(self) -> str:
        return f"{self.source}: {self.reason}" if self.line is None else f"{self.source}:{self.line}: {self.reason}"


class _State:
    """What the directives said so far in one file; `problem` says why the #Fields in force cannot be used."""

    __slots__ = ("fields", "fields_at", "date", "problem", "seen_fields")

    def __init__(self) -> None:
        self.fields: list[str] | None = None
        self.fields_at: Place | str = ""
        self.date: str | None = None
        self.problem = "entry before any #Fields: directive"
        self.seen_fields = False

    def apply(self, directive: str, where: Place) -> None:
        if directive.startswith("#Fields:"):
            names = directive[len("#Fields:"):].split()
            twice = sorted({n for n in names if names.count(n) > 1})
            self.seen_fields, self.fields_at = True, where
            self.fields = None if twice or not names else names
            if self.fields is None:
                self.problem = f"the #Fields: at {where} names {', '.join(twice)} twice" if twice else f"the #Fields: at {where} is empty"
        elif directive.startswith("#Date:"):
            words = directive[len("#Date:"):].split()
            self.date = words[0] if words else None

    def blind(self) -> str | None:
        """Why the lines under this #Fields can never show a certauth answer, or None: a selection without the
        path or the status cannot be taken for "no rejection"."""
        lacking = [f for f in BLIND_WITHOUT if self.fields is not None and f not in self.fields]
        return f"its #Fields: lacks {' and '.join(lacking)}, so it cannot show certauth answers" if lacking else None


def _parse(text: str, source: str, state: _State, line_of: Callable[[], int], partial: bool) -> Entry | Malformed:
    """An entry under the #Fields in force; line numbers are counted only for what is malformed (or cited later)."""
    if state.fields is None:
        return Malformed(source, line_of(), state.problem, partial)
    values = text.split(" ")
    if len(values) != len(state.fields):
        reason = f"{len(values)} values where the #Fields: at {state.fields_at} names {len(state.fields)}"
        return Malformed(source, line_of(), ("last line cut short (log still being written?): " if partial else "") + reason, partial)
    named = dict(zip(state.fields, values))
    try:
        moment = datetime.fromisoformat(f"{named.get('date', state.date)}T{named['time']}").replace(tzinfo=timezone.utc)
    except (KeyError, ValueError):
        return Malformed(source, line_of(), "no valid date and time fields", partial)
    return Entry(source, moment, named, text, state.fields_at)


def _directive_starts(block: Block, hashes: list[int]) -> list[int]:
    """Offsets of the '#'s that start a directive, in order."""
    starts = [at for at in hashes if at and block.hay.slice(at - 1, at) in _BEFORE_DIRECTIVE]
    head = block.hay.slice(0, 4)
    if head.startswith(b"#"):
        starts.insert(0, 0)
    elif head.startswith(_BOM + b"#"):
        starts.insert(0, len(_BOM))
    return starts


def scan_file(source: str, blocks: Iterable[Block], wants_line: Callable[[Entry], bool]) -> Iterator[Entry | Malformed]:
    """Entries and malformed lines of one log, in order; an entry gets its line number only if `wants_line` says so.
    Ends with a Malformed for the whole file if it never had a #Fields: directive."""
    state, counter = _State(), LineCounter()
    for block in blocks:
        hay, end = block.hay, block.hay.size
        counter.enter(hay)
        hashes, candidates = hay.positions((_HASH, CERTAUTH), end, frozenset({CERTAUTH}))
        events = heapq.merge(((p, 0) for p in _directive_starts(block, hashes)), ((p, 1) for p in candidates))
        last_start = -1
        for at, _kind in events:
            start, stop = line_bounds(hay, at, end)
            if start == last_start:
                continue  # certauth twice on one line, or a directive after NUL padding
            last_start = start
            if stop - start > MAX_LINE:
                yield Malformed(source, counter.line_of(start), f"line of {stop - start} bytes, longer than {MAX_LINE}: not judged")
                continue
            text = text_of(hay, start, stop).lstrip("\ufeff\x00")
            if text.startswith("#"):
                state.apply(text, Place(source, counter, start))
                blind = text.startswith("#Fields:") and state.blind()
                if blind:
                    yield Malformed(source, counter.line_of(start), blind)
                continue
            item = _parse(text, source, state, lambda: counter.line_of(start), partial=block.last and stop == end)
            if isinstance(item, Entry) and wants_line(item):
                item.line = counter.line_of(start)
            yield item
        counter.leave(block.last)
    if not state.seen_fields:
        yield Malformed(source, None, NO_FIELDS)
