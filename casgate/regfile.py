"""Read `reg export` files (UTF-16 LE with BOM as reg.exe writes them, or UTF-8) into a case-insensitive view."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from casgate.errors import EvidenceError

RegValue = int | str | bytes | tuple[str, ...]

_HEADERS = ("Windows Registry Editor Version 5.00", "REGEDIT4")
_VALUE = re.compile(r'^(?:"(?P<name>(?:[^"\\]|\\.)*)"|(?P<default>@))=(?P<data>.*)$')
_HEX = re.compile(r"^hex(?:\((?P<kind>[0-9a-fA-F]+)\))?:(?P<bytes>[0-9a-fA-F,\s]*)$")


@dataclass(frozen=True)
class RegistryView:
    """Keys (lower-cased full paths) to their values (lower-cased names); the union of several exports."""

    keys: dict[str, dict[str, RegValue]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def has_key(self, path: str) -> bool:
        return _norm_key(path) in self.keys

    def value(self, path: str, name: str) -> RegValue | None:
        return self.keys.get(_norm_key(path), {}).get(name.lower())

    def source(self, path: str) -> str:
        """The export file a key came from, for evidence lines."""
        return self.sources.get(_norm_key(path), "registry/")


def _norm_key(path: str) -> str:
    path = path.strip().strip("\\")
    for short, full in (("HKLM\\", "HKEY_LOCAL_MACHINE\\"), ("HKCU\\", "HKEY_CURRENT_USER\\")):
        if path.upper().startswith(short):
            path = full + path[len(short):]
    return path.lower()


def decode_reg_text(data: bytes, label: str) -> str:
    """reg.exe writes UTF-16 LE with a BOM; hand-made files are often UTF-8 (with or without BOM)."""
    if data.startswith(codecs.BOM_UTF16_LE):
        encoding = "utf-16-le"
        data = data[len(codecs.BOM_UTF16_LE):]
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8"
        data = data[len(codecs.BOM_UTF8):]
    elif len(data) > 1 and data[1] == 0:
        encoding = "utf-16-le"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise EvidenceError(label, f"is not UTF-16 LE or UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join hex continuation lines (a trailing backslash) and keep the first physical line number."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if pending is not None:
            line = pending[1] + line
            number = pending[0]
            pending = None
        if line.endswith("\\") and not line.startswith("["):
            pending = (number, line[:-1])
            continue
        out.append((number, line))
    if pending is not None:
        out.append(pending)
    return out


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _parse_data(data: str) -> RegValue:
    if data.startswith('"') and data.endswith('"') and len(data) >= 2:
        return _unescape(data[1:-1])
    if data.lower().startswith("dword:"):
        return int(data[6:], 16)
    match = _HEX.match(data)
    if not match:
        raise ValueError(f"unknown value data {data[:40]!r}")
    raw = bytes(int(b, 16) for b in re.split(r"[,\s]+", match["bytes"].strip()) if b)
    kind = int(match["kind"] or "3", 16)
    if kind in (2, 1):  # REG_EXPAND_SZ / REG_SZ written as hex: UTF-16 LE, NUL-terminated
        return raw.decode("utf-16-le").rstrip("\0")
    if kind == 7:  # REG_MULTI_SZ: UTF-16 LE strings separated by NUL, ending in two NULs
        return tuple(s for s in raw.decode("utf-16-le").split("\0") if s)
    if kind == 4:
        return int.from_bytes(raw, "little")
    if kind == 0xB:  # REG_QWORD
        return int.from_bytes(raw, "little")
    return raw


def parse_reg(text: str, label: str, view: RegistryView) -> None:
    """Add one export's keys and values to `view`; malformed lines raise EvidenceError with the line number."""
    lines = _logical_lines(text)
    if not lines or lines[0][1].lstrip("\ufeff") not in _HEADERS:
        raise EvidenceError(label, f"is not a reg export (first line should be {_HEADERS[0]!r})")
    current: dict[str, RegValue] | None = None
    for number, line in lines[1:]:
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            key = line[1:-1]
            if key.startswith("-"):  # a deletion entry: not state, ignore
                current = None
                continue
            current = view.keys.setdefault(_norm_key(key), {})
            view.sources.setdefault(_norm_key(key), label)
            continue
        match = _VALUE.match(line)
        if current is None or not match:
            raise EvidenceError(label, f"line {number}: not a key or value line: {line[:80]!r}")
        name = "" if match["default"] else _unescape(match["name"])
        if match["data"] == "-":
            continue
        try:
            current[name.lower()] = _parse_data(match["data"])
        except ValueError as exc:
            raise EvidenceError(label, f"line {number}: {exc}") from None


def load_registry(folder: Path, label: str) -> RegistryView:
    """Merge every `*.reg` file in the folder into one view."""
    files = sorted(folder.glob("*.reg")) if folder.is_dir() else []
    if not files:
        raise EvidenceError(label, "holds no .reg file; run `reg export` as shown in docs/snapshot-format.md")
    view = RegistryView()
    for path in files:
        file_label = f"{label}{path.name}"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise EvidenceError(file_label, f"cannot be read ({exc.strerror or exc})") from None
        parse_reg(decode_reg_text(data, file_label), file_label, view)
    return view
