"""Line numbers, counted only for the lines that are cited: counting every newline would cost a full pass."""

from __future__ import annotations

from bisect import bisect_right

from casgate.logs._search import Haystack


class LineCounter:
    """Line number of an offset in the current block, counted from the nearest offset already counted before it,
    so offsets may be asked in any order (a directive's line is counted only if a message cites it)."""

    __slots__ = ("base", "_hay", "_offsets", "_lines")

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self._hay: Haystack | None = None
        self._offsets = [0]  # offsets counted so far, sorted, and the newlines before each
        self._lines = [0]

    def enter(self, hay: Haystack) -> None:
        self._hay, self._offsets, self._lines = hay, [0], [0]

    def line_of(self, offset: int) -> int:
        assert self._hay is not None, "a line number asked outside its block"
        nearest = bisect_right(self._offsets, offset) - 1
        lines = self._lines[nearest] + self._hay.count_newlines(self._offsets[nearest], offset)
        if self._offsets[nearest] != offset:
            self._offsets.insert(nearest + 1, offset)
            self._lines.insert(nearest + 1, lines)
        return self.base + lines + 1

    def leave(self, block_last: bool) -> None:
        """After a block: the next block's lines follow this one's (skipped for the final block: nothing follows)."""
        if not block_last and self._hay is not None:
            self.base += self._lines[-1] + self._hay.count_newlines(self._offsets[-1], self._hay.size)
        self._hay = None


def line_bounds(hay: Haystack, at: int, end: int) -> tuple[int, int]:
    """Start and end (without the newline) of the line holding offset `at`."""
    start = hay.rfind(b"\n", 0, at) + 1
    stop = hay.find(b"\n", at, end)
    return start, end if stop == -1 else stop


def text_of(hay: Haystack, start: int, stop: int) -> str:
    return hay.slice(start, stop).decode("utf-8", "replace").rstrip("\r")
