"""Byte search over a mapped log file or a decompressed block: stringzilla's SIMD search when it is installed
(the `fast` extra), Python's own find otherwise. Both give identical results; tests compare them."""

from __future__ import annotations

import mmap
import os

try:
    if os.environ.get("CASGATE_PURE_PYTHON"):
        raise ImportError("pure-Python search requested")
    import stringzilla as _sz
except ImportError:
    _sz = None

BACKEND = "stringzilla" if _sz is not None else "python"
_FOLD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_COUNT_STEP = 1 << 20  # the fallback counts newlines a megabyte at a time: memory stays flat
_WINDOW = 1 << 20  # positions() searches every needle in one window before moving on (fits in L2/L3)


class Haystack:
    """Read-only bytes with find, rfind, count and slicing, whichever backend holds them."""

    __slots__ = ("_data", "_handle", "size")

    def __init__(self, data: object, size: int, handle: object = None) -> None:
        self._data = data
        self._handle = handle
        self.size = size

    @classmethod
    def of_file(cls, path: str) -> Haystack:
        """The whole file, memory-mapped: the OS pages it in as the search runs, nothing is copied."""
        size = os.path.getsize(path)
        if _sz is not None:
            return cls(_sz.Str(_sz.File(path)), size)
        handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        if size == 0:
            return cls(b"", 0, handle)
        return cls(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ), size, handle)

    @classmethod
    def of_bytes(cls, data: bytes) -> Haystack:
        return cls(_sz.Str(data) if _sz is not None else data, len(data))

    def find(self, needle: bytes, start: int = 0, end: int | None = None) -> int:
        return self._data.find(needle, start, self.size if end is None else end)  # type: ignore[attr-defined]

    def rfind(self, needle: bytes, start: int, end: int) -> int:
        return self._data.rfind(needle, start, end)  # type: ignore[attr-defined]

    def count_newlines(self, start: int, end: int) -> int:
        if _sz is not None:
            return self._data.count(b"\n", start, end)  # type: ignore[attr-defined]
        total = 0
        for offset in range(start, end, _COUNT_STEP):
            total += self._data[offset:min(end, offset + _COUNT_STEP)].count(b"\n")  # type: ignore[index]
        return total

    def slice(self, start: int, end: int) -> bytes:
        return bytes(self._data[start:end])  # type: ignore[index]

    def positions(self, needles: tuple[bytes, ...], end: int, uncased: frozenset[bytes] = frozenset()) -> list[list[int]]:
        """Every offset of each needle before `end`, in order (needles in `uncased`, lower-case ASCII, match in any
        letter case): one streaming pass, a cache-sized window at a time, so the searches for the second and later
        needles read the window from cache, not from memory."""
        found: list[list[int]] = [[] for _ in needles]
        for start in range(0, end, _WINDOW):
            stop = min(end, start + _WINDOW)
            for needle, hits in zip(needles, found):
                limit = min(end, stop + len(needle) - 1)  # a match may straddle the window's end
                if needle in uncased:
                    hits.extend(self._uncased(needle, start, stop, limit))
                    continue
                at = self.find(needle, start, limit)
                while at != -1 and at < stop:
                    hits.append(at)
                    at = self.find(needle, at + 1, limit)
        return found

    def _uncased(self, needle: bytes, start: int, stop: int, limit: int) -> list[int]:
        """Offsets in [start, stop) of `needle` in any ASCII letter case: stringzilla's case-folding search, or
        Python's find in an ASCII-lowered copy of the window."""
        hits = []
        if _sz is not None:
            at = self._data.utf8_uncased_search(needle, start, limit)  # type: ignore[attr-defined]
            while at != -1 and at < stop:
                hits.append(at)
                at = self._data.utf8_uncased_search(needle, at + 1, limit)  # type: ignore[attr-defined]
            return hits
        window = self.slice(start, limit).translate(_FOLD)
        at = window.find(needle)
        while at != -1 and start + at < stop:
            hits.append(start + at)
            at = window.find(needle, at + 1)
        return hits

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()
        if self._handle is not None:
            self._handle.close()  # type: ignore[attr-defined]
