"""Line numbers, counted only up to the lines that are cited: counting every newline would cost a full pass."""

from __future__ import annotations

from casgate.logs._search import Haystack


class LineCounter:
    """Line number of an offset; offsets must be asked in increasing order within a block."""

    __slots__ = ("base", "_hay", "_pos", "_lines")

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self._hay: Haystack | None = None
        self._pos = 0
        self._lines = 0

    def enter(self, hay: Haystack) -> None:
        self._hay, self._pos, self._lines = hay, 0, 0

    def line_of(self, offset: int) -> int:
        assert self._hay is not None
        self._lines += self._hay.count_newlines(self._pos, offset)
        self._pos = offset
        return self.base + self._lines + 1

    def leave(self, block_last: bool) -> None:
        """After a block: the next block's lines follow this one's (skipped for the final block: nothing follows)."""
        if not block_last and self._hay is not None:
            self.base += self._lines + self._hay.count_newlines(self._pos, self._hay.size)


def line_bounds(hay: Haystack, at: int, end: int) -> tuple[int, int]:
    """Start and end (without the newline) of the line holding offset `at`."""
    start = hay.rfind(b"\n", 0, at) + 1
    stop = hay.find(b"\n", at, end)
    return start, end if stop == -1 else stop


def text_of(hay: Haystack, start: int, stop: int) -> str:
    return hay.slice(start, stop).decode("utf-8", "replace").rstrip("\r")
