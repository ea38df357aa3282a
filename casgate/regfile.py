"""Read `reg export` files as reg.exe reads them (UTF-16 LE with BOM, or REGEDIT4 in the ANSI code page; UTF-8 by
hand) into a case-insensitive view; anything reg.exe would not import is an EvidenceError naming file and line."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from casgate.errors import EvidenceError

RegValue = int | str | bytes | tuple[str, ...]

# Far above any export of the keys casgate reads (a few KB); a larger file is the wrong export or hostile.
MAX_REG_BYTES = 16 * 1024 * 1024
_V5, _V4 = "Windows Registry Editor Version 5.00", "REGEDIT4"
_ANSI = "cp1252"  # REGEDIT4 files are in the ANSI code page; casgate assumes the Western one
_NAME = re.compile(r'(?:"(?P<name>(?:[^"\\]|\\.)*)"|(?P<default>@))\s*=\s*')
_STRING = re.compile(r'"(?P<text>(?:[^"\\]|\\.)*)"\s*(?:;.*)?')
_DWORD = re.compile(r"dword:(?P<digits>[0-9a-fA-F]{1,8})\s*(?:;.*)?", re.IGNORECASE)
_HEX = re.compile(r"hex(?:\((?P<kind>[0-9a-fA-F]{1,8})\))?:(?P<rest>.*)", re.IGNORECASE)
_HEX_BYTES = re.compile(r"\s*(?:[0-9a-fA-F]{1,2}\s*,\s*)*(?:[0-9a-fA-F]{1,2}\s*)?")
_FIXED_SIZE = {4: ("REG_DWORD", 4, "little"), 5: ("REG_DWORD_BIG_ENDIAN", 4, "big"), 0xB: ("REG_QWORD", 8, "little")}


@dataclass(frozen=True)
class RegistryView:
    """Keys (lower-cased full paths) to their values (lower-cased names); the union of several exports."""

    keys: dict[str, dict[str, RegValue]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def has_key(self, path: str) -> bool:
        return _norm_key(path) in self.keys

    def value(self, path: str, name: str) -> RegValue | None:
        return self.keys.get(_norm_key(path), {}).get(name.lower())

    def subkeys(self, path: str) -> list[str]:
        """The names (lower-cased) of the keys directly under `path` that the exports hold."""
        prefix = _norm_key(path) + "\\"
        return sorted(key[len(prefix):] for key in self.keys if key.startswith(prefix) and "\\" not in key[len(prefix):])

    def source(self, path: str) -> str:
        """The export file a key came from, for evidence lines."""
        return self.sources.get(_norm_key(path), "registry/")


def _norm_key(path: str) -> str:
    """Registry key names are case-insensitive; HKLM/HKCU are reg.exe's short forms of the roots."""
    path = path.strip().strip("\\")
    for short, full in (("HKLM\\", "HKEY_LOCAL_MACHINE\\"), ("HKCU\\", "HKEY_CURRENT_USER\\")):
        if path.upper().startswith(short):
            path = full + path[len(short):]
    return path.lower()


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _hex_bytes(piece: str, continues: bool) -> bytes:
    """One line's share of hex data: bytes separated by commas; a line that continues must end in a comma."""
    if not _HEX_BYTES.fullmatch(piece) or (continues and piece.strip() and not piece.rstrip().endswith(",")):
        raise ValueError(f"hex data should be bytes like 0a,ff separated by commas, got {piece.strip()[:40]!r}")
    return bytes(int(b, 16) for b in piece.split(",") if b.strip())


def _text(raw: bytes, wide: bool, kind: str) -> str:
    """REG_SZ-like data written as hex: UTF-16 LE in version 5 files, the ANSI code page in REGEDIT4 files."""
    try:
        return raw.decode("utf-16-le" if wide else _ANSI)
    except UnicodeDecodeError:
        raise ValueError(f"{kind} data is not {'UTF-16 LE' if wide else 'ANSI'} text") from None


def _typed(kind: int, raw: bytes, wide: bool) -> RegValue:
    if kind in (1, 2):  # REG_SZ / REG_EXPAND_SZ written as hex, NUL-terminated
        return _text(raw, wide, f"hex({kind})").rstrip("\0")
    if kind == 7:  # REG_MULTI_SZ: strings separated by NUL, ending in two NULs
        return tuple(s for s in _text(raw, wide, "hex(7)").split("\0") if s)
    if kind in _FIXED_SIZE:
        name, size, order = _FIXED_SIZE[kind]
        if len(raw) != size:
            raise ValueError(f"hex({kind:x}) ({name}) should be {size} bytes, got {len(raw)}")
        return int.from_bytes(raw, order)  # type: ignore[arg-type]
    return raw


def _hex_value(first: str, kind: str | None, lines: Iterator[tuple[int, str]], wide: bool) -> RegValue:
    """Hex data, continued on the next lines while a line ends in a backslash (comment lines in between skipped)."""
    data = bytearray()
    piece, number = first, None
    while True:
        body = piece.split(";", 1)[0].rstrip()
        continues = body.endswith("\\")
        try:
            data += _hex_bytes(body[:-1] if continues else body, continues)
        except ValueError as exc:
            raise ValueError(f"{exc} (continued on line {number})" if number else str(exc)) from None
        if not continues:
            break
        piece = ""
        for number, raw in lines:
            piece = raw.strip()
            if not piece.startswith(";"):
                break
        if not piece:  # end of file or an empty line ends the value
            break
    return _typed(int(kind or "3", 16), bytes(data), wide)


def _value(data: str, lines: Iterator[tuple[int, str]], wide: bool) -> RegValue:
    """One value's data: "string", dword:XXXXXXXX (32-bit, at most 8 hex digits) or hex[(kind)]:bytes."""
    if match := _STRING.fullmatch(data):
        return _unescape(match["text"])
    if match := _DWORD.fullmatch(data):
        return int(match["digits"], 16)
    if match := _HEX.fullmatch(data):
        return _hex_value(match["rest"], match["kind"], lines, wide)
    if data.lower().startswith("dword:"):
        raise ValueError(f"a DWORD is 1 to 8 hex digits (32-bit, unsigned), got {data[:40]!r}")
    raise ValueError(f"unknown value data {data[:40]!r}")


def _parse_lines(lines: Iterable[str], label: str, view: RegistryView) -> None:
    numbered = enumerate((line.rstrip("\r\n") for line in lines), start=1)
    header = next(numbered, (1, ""))[1].lstrip("\ufeff").strip()
    if header not in (_V5, _V4):
        raise EvidenceError(label, f"is not a reg export (first line should be {_V5!r} or {_V4!r})")
    wide = header == _V5
    current: dict[str, RegValue] | None = None
    for number, raw in numbered:
        line = raw.strip()
        if not line or line.startswith(";"):  # a comment ends at the line end, whatever its last character
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise EvidenceError(label, f"line {number}: a key line should end with ']': {line[:80]!r}")
            key = line[1:-1]
            if key.startswith("-"):
                raise EvidenceError(label, f"line {number}: deletes a key ({line[:80]!r}): a .reg script that changes a "
                                           f"registry, not a reg export of one; export the keys with reg export")
            current = view.keys.setdefault(_norm_key(key), {})
            view.sources.setdefault(_norm_key(key), label)
            continue
        match = _NAME.match(line)
        if not match:
            raise EvidenceError(label, f"line {number}: not a key or value line: {line[:80]!r}")
        if current is None:
            raise EvidenceError(label, f"line {number}: a value outside any [key]: {line[:80]!r}")
        name = "" if match["default"] else _unescape(match["name"]).lower()
        data = line[match.end():]
        try:
            if data == "-":
                raise ValueError(f"deletes a value ({line[:80]!r}): a .reg script, not a reg export; export the keys with reg export")
            current[name] = _value(data, numbered, wide)
        except ValueError as exc:
            raise EvidenceError(label, f"line {number}: {exc}") from None


def parse_reg(text: str, label: str, view: RegistryView) -> None:
    """Add one export's keys and values to `view`; malformed lines raise EvidenceError with the line number."""
    _parse_lines(io.StringIO(text, newline=None), label, view)


def _encoding(head: bytes) -> tuple[str, int]:
    """The encoding and BOM length: reg.exe writes UTF-16 LE with a BOM, regedit's REGEDIT4 export is ANSI."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", len(codecs.BOM_UTF16_LE)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if len(head) > 1 and head[1] == 0:
        return "utf-16-le", 0
    return (_ANSI if head.startswith(_V4.encode("ascii")) else "utf-8"), 0


def read_reg_file(path: Path, label: str, view: RegistryView) -> None:
    """Stream one export into `view` (no copy of the whole text); over MAX_REG_BYTES it is refused unread."""
    try:
        size = path.stat().st_size
        if size > MAX_REG_BYTES:
            raise EvidenceError(label, f"is {size / 2**20:.1f} MB, over the {MAX_REG_BYTES // 2**20} MB limit for a reg "
                                       "export; export only the keys listed in docs/snapshot-format.md")
        with path.open("rb") as binary:
            encoding, bom = _encoding(binary.read(8))
            binary.seek(bom)
            text = io.TextIOWrapper(binary, encoding=encoding, newline=None)
            _parse_lines(text, label, view)
    except OSError as exc:
        raise EvidenceError(label, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise EvidenceError(label, f"is not valid {encoding} text ({exc.reason}); re-export it with reg export") from None


def reg_files(folder: Path) -> list[Path]:
    """The folder's .reg files, the extension in any case (Windows names are case-insensitive: CIPHER-POLICY.REG)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".reg" and p.is_file())


def load_registry(folder: Path, label: str) -> RegistryView:
    """Merge every `*.reg` file in the folder into one view."""
    files = reg_files(folder)
    if not files:
        raise EvidenceError(label, "holds no .reg file; run `reg export` as shown in docs/snapshot-format.md")
    view = RegistryView()
    for path in files:
        read_reg_file(path, f"{label}{path.name}", view)
    return view
