"""Byte search over a mapped log file or a decompressed block: stringzilla's SIMD search when it is installed
(the `fast` extra), Python's own find otherwise. Both give identical results; tests compare them. A large mapped
file is searched by two processes at once where the platform can fork (both searches hold the GIL)."""

from __future__ import annotations

import mmap
import os
import sys
from array import array

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
_SPLIT = 32 << 20  # from this size a mapped file's second half is searched by a forked child (a fork costs ~1 ms)


class Haystack:
    """Read-only bytes with find, rfind, count and slicing, whichever backend holds them."""

    __slots__ = ("_data", "_mapped", "_view", "_handle", "_children", "size")

    def __init__(self, data: object, size: int, mapped: mmap.mmap | None = None, view: memoryview | None = None,
                 handle: object = None) -> None:
        self._data = data
        self._mapped = mapped
        self._view = view
        self._handle = handle
        self._children: list[int] = []  # forked searches, reaped at close(): their exit overlaps the parsing
        self.size = size

    @classmethod
    def of_file(cls, path: str) -> Haystack:
        """The whole file, memory-mapped: the OS pages it in as the search runs, nothing is copied."""
        handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return cls(_sz.Str(b"") if _sz is not None else b"", 0, handle=handle)
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if _sz is None:
            return cls(mapped, size, mapped, handle=handle)
        view = memoryview(mapped)
        return cls(_sz.Str(view), size, mapped, view, handle)  # the Str holds no buffer export: close() drops it first

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
        needles read the window from cache, not from memory. A large mapped file is split between two processes."""
        if end >= _SPLIT and self._mapped is not None and _can_fork() and _idle_core():
            return self._split_positions(needles, end, uncased)
        return self._positions(needles, 0, end, end, uncased)

    def _positions(self, needles: tuple[bytes, ...], lo: int, hi: int, end: int, uncased: frozenset[bytes]) -> list[list[int]]:
        """positions() for matches starting in [lo, hi); a match may run on past `hi`, never past `end`."""
        found: list[list[int]] = [[] for _ in needles]
        for start in range(lo, hi, _WINDOW):
            stop = min(hi, start + _WINDOW)
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

    def _split_positions(self, needles: tuple[bytes, ...], end: int, uncased: frozenset[bytes]) -> list[list[int]]:
        """positions() with the second half searched by a forked child at the same time, its offsets sent back
        through a pipe; if the child fails in any way (no answer, a short or malformed one) this process searches
        that half itself, so the result never depends on the child. The child is reaped at close()."""
        mid = end // 2
        reader, writer = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            return self._positions(needles, 0, end, end, uncased)
        if pid == 0:  # the child: search, answer, and leave without running any of the parent's exit handlers
            code = 1
            try:
                os.close(reader)
                with open(writer, "wb") as pipe:
                    pipe.write(_encode(self._positions(needles, mid, end, end, uncased)))
                code = 0
            finally:
                os._exit(code)
        os.close(writer)
        self._children.append(pid)
        with open(reader, "rb") as pipe:  # closed on any error too: a child still writing then gets EPIPE and exits
            first = self._positions(needles, 0, mid, end, uncased)
            answer = pipe.read()
        second = _decode(answer, len(needles), mid, end)
        if second is None:
            second = self._positions(needles, mid, end, end, uncased)
        return [a + b for a, b in zip(first, second)]

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
        for pid in self._children:
            os.waitpid(pid, 0)
        self._children = []
        self._data = b""  # a stringzilla view of the mapping must not outlive it
        if self._view is not None:
            self._view.release()
        if self._mapped is not None:
            self._mapped.close()
        if self._handle is not None:
            self._handle.close()  # type: ignore[attr-defined]


def _can_fork() -> bool:
    """fork() exists (POSIX) and this process runs no other thread, Python's or a library's (a fork then is safe,
    and Python 3.12+ has no DeprecationWarning to raise; pytest-xdist workers have threads)."""
    threading = sys.modules.get("threading")
    if not hasattr(os, "fork") or (threading is not None and threading.active_count() > 1):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc (macOS, BSD): Python's own threads were counted above
        return True


def _idle_core() -> bool:
    """A core is free for the child (load average at most cores - 1): on a busy machine two processes finish later
    than one (measured: a 200 MB search 46 ms alone, 52 ms split, with both cores taken by other work)."""
    try:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return os.getloadavg()[0] <= cores - 1
    except OSError:
        return False


def _encode(found: list[list[int]]) -> bytes:
    """Each needle's count, then all offsets, as 64-bit integers."""
    return array("q", [len(hits) for hits in found]).tobytes() + b"".join(array("q", hits).tobytes() for hits in found)


def _decode(answer: bytes, needles: int, lo: int, hi: int) -> list[list[int]] | None:
    """_encode's lists back, or None when the answer is short, long, or names offsets outside [lo, hi)."""
    width = array("q").itemsize
    if len(answer) < needles * width or len(answer) % width:
        return None
    numbers = array("q", answer)
    counts, offsets = numbers[:needles].tolist(), numbers[needles:]
    if min(counts) < 0 or sum(counts) != len(offsets) or (offsets and (min(offsets) < lo or max(offsets) >= hi)):
        return None
    found, at = [], 0
    for count in counts:
        found.append(offsets[at:at + count].tolist())
        at += count
    return found
