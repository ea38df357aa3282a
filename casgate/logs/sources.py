"""Log files as administrators hand them over: plain, .gz, or .zip of logs; each read as blocks of whole lines
with flat memory (a plain file is one memory-mapped block, compressed ones are decompressed a block at a time)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from casgate.logs._search import Haystack

BLOCK = 8 << 20


class Block:
    """A haystack of whole lines (the last one may be cut short at end of file) and whether it ends the file."""

    __slots__ = ("hay", "last")

    def __init__(self, hay: Haystack, last: bool) -> None:
        self.hay = hay
        self.last = last


def _stream_blocks(opener: Callable[[], Any]) -> Iterator[Block]:
    """Decompressed blocks of whole lines; `opener` gives a binary stream (gzip or zip member)."""
    with opener() as stream:
        carry = b""
        while True:
            chunk = stream.read(BLOCK)
            if not chunk:
                if carry:
                    yield Block(Haystack.of_bytes(carry), True)
                return
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                yield Block(Haystack.of_bytes(data[:cut]), False)


def _file_blocks(path: Path) -> Iterator[Block]:
    hay = Haystack.of_file(str(path))
    try:
        yield Block(hay, True)
    finally:
        hay.close()


def log_files(path: Path, label: str, pattern: str) -> Iterator[tuple[str, Callable[[], Iterator[Block]]]]:
    """(label, blocks) per log in `path`: a file, a .gz, a .zip (members matching `pattern`), or a folder of those."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
            yield from log_files(child, f"{label}{child.relative_to(path).as_posix()}", pattern)
        return
    name = path.name.lower()
    if name.endswith(".zip"):
        import zipfile

        with zipfile.ZipFile(path) as archive:
            members = sorted(m for m in archive.namelist() if Path(m).match(pattern) and not m.endswith("/"))
        for member in members:
            yield f"{label}!{member}", _zip_member(path, member)
    elif name.endswith(".gz"):
        import gzip

        yield label, (lambda: _stream_blocks(lambda: gzip.open(path, "rb")))
    else:
        yield label, (lambda: _file_blocks(path))


def _zip_member(path: Path, member: str) -> Callable[[], Iterator[Block]]:
    def blocks() -> Iterator[Block]:
        import zipfile

        with zipfile.ZipFile(path) as archive:
            yield from _stream_blocks(lambda: archive.open(member))

    return blocks
