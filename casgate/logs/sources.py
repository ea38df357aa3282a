"""Log files as administrators hand them over: plain, .gz, or .zip of logs, in UTF-8/ANSI or UTF-16 (Notepad's
"Unicode"); each read as blocks of whole lines with flat memory (a plain file is one memory-mapped block, the
others are decoded a block at a time). Damaged archives and endless lines are an EvidenceError naming the file."""

from __future__ import annotations

import codecs
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from casgate.errors import EvidenceError
from casgate.logs._search import Haystack

BLOCK = 8 << 20
MAX_LINE = 1 << 20  # no IIS or phone log line comes near this; a longer one is never buffered whole
MAX_RATIO = 500  # text logs compress 10-50x; past 64 MiB, more than this is a decompression bomb
MAX_EXPANDED = 8 << 30  # and no single log is read past 8 GiB
# damaged, truncated, encrypted or unsupported archives (BadGzipFile is an OSError; encrypted zips: RuntimeError);
# zip archives add zipfile.BadZipFile (zipfile is imported only for them: it costs ~5 ms of start-up)
_UNREADABLE = (OSError, EOFError, RuntimeError, NotImplementedError, zlib.error, ValueError)


class Block:
    """A haystack of whole lines (the last one may be cut short at end of file) and whether it ends the file."""

    __slots__ = ("hay", "last")

    def __init__(self, hay: Haystack, last: bool) -> None:
        self.hay = hay
        self.last = last


def utf16_codec(head: bytes) -> str | None:
    """The codec of a UTF-16 log, from its BOM or from ASCII text with every other byte zero; None for UTF-8/ANSI."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if len(head) >= 4 and head[0] and not head[1] and head[2] and not head[3]:
        return "utf-16-le"
    return None


def _stream_blocks(opener: Callable[[], io.BufferedIOBase], label: str, stored: int) -> Iterator[Block]:
    """Blocks of whole lines from a binary stream (file, gzip or zip member of `stored` bytes on disk), UTF-16
    re-encoded as UTF-8; memory stays flat and a bomb stops at its ratio or size limit."""
    with opener() as stream:
        carry, decoder = b"", None
        first, expanded = True, 0
        while True:
            chunk = stream.read(BLOCK)
            expanded += len(chunk)
            if expanded > MAX_EXPANDED or (expanded > 64 << 20 and expanded > MAX_RATIO * max(stored, 1)):
                raise EvidenceError(label, f"expands to more than {expanded >> 20} MiB from {stored} bytes; "
                                           f"refusing it (limits: {MAX_RATIO}x, {MAX_EXPANDED >> 30} GiB)")
            if first:
                codec = utf16_codec(chunk[:4])
                decoder = codecs.getincrementaldecoder(codec)("replace") if codec else None
                first = False
            if decoder is not None:
                chunk = decoder.decode(chunk, final=not chunk).encode("utf-8")
            if not chunk:
                if carry:
                    yield Block(Haystack.of_bytes(carry), True)
                return
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if len(carry) > MAX_LINE:
                raise EvidenceError(label, f"has a line longer than {MAX_LINE} bytes; not a log casgate can read")
            if cut:
                yield Block(Haystack.of_bytes(data[:cut]), False)


def _file_blocks(path: Path, label: str) -> Iterator[Block]:
    with path.open("rb") as handle:
        codec = utf16_codec(handle.read(4))
    if codec:
        yield from _stream_blocks(lambda: path.open("rb"), label, path.stat().st_size)
        return
    hay = Haystack.of_file(str(path))
    try:
        yield Block(hay, True)
    finally:
        hay.close()


def _guarded(label: str, blocks: Callable[[], Iterator[Block]],
             unreadable: tuple[type[Exception], ...] = _UNREADABLE) -> Callable[[], Iterator[Block]]:
    """The same blocks, with a damaged file or archive raised as an EvidenceError naming it."""

    def read() -> Iterator[Block]:
        try:
            yield from blocks()
        except unreadable as exc:
            raise EvidenceError(label, f"cannot be read ({type(exc).__name__}: {exc})") from None

    return read


def log_files(path: Path, label: str) -> Iterator[tuple[str, Callable[[], Iterator[Block]]]]:
    """(label, blocks) per log in `path`: a file, a .gz, every member of a .zip, or a folder of those. Opening a
    source's blocks may raise EvidenceError (damaged archive, endless line)."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
            yield from log_files(child, f"{label}{child.relative_to(path).as_posix()}")
        return
    name = path.name.lower()
    if name.endswith(".zip"):
        yield from _zip_members(path, label)
    elif name.endswith(".gz"):
        import gzip

        yield label, _guarded(label, lambda: _stream_blocks(lambda: gzip.open(path, "rb"), label, path.stat().st_size))
    else:
        yield label, _guarded(label, lambda: _file_blocks(path, label))


def _zip_members(path: Path, label: str) -> Iterator[tuple[str, Callable[[], Iterator[Block]]]]:
    import zipfile

    unreadable = (*_UNREADABLE, zipfile.BadZipFile)
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(m for m in archive.namelist() if not m.endswith("/"))
    except unreadable as exc:
        error = EvidenceError(label, f"is not a readable zip archive ({type(exc).__name__}: {exc})")

        def broken() -> Iterator[Block]:
            raise error

        yield label, broken
        return
    for member in members:
        yield f"{label}!{member}", _guarded(f"{label}!{member}", _zip_member(path, member, f"{label}!{member}"), unreadable)


def _zip_member(path: Path, member: str, label: str) -> Callable[[], Iterator[Block]]:
    def blocks() -> Iterator[Block]:
        import zipfile

        with zipfile.ZipFile(path) as archive:
            yield from _stream_blocks(lambda: archive.open(member), label, archive.getinfo(member).compress_size)

    return blocks
