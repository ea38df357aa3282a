"""reg export files: UTF-16 LE with BOM from reg.exe, UTF-8 by hand; values by type; errors with line numbers."""

from __future__ import annotations

import codecs
import tracemalloc
from pathlib import Path

import pytest

from casgate.errors import EvidenceError
from casgate.regfile import MAX_REG_BYTES, RegistryView, load_registry, parse_reg, read_reg_file

TLS10 = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.0\Server"
V5 = "Windows Registry Editor Version 5.00\n\n"

EXPORT = r"""Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL]
"EventLogging"=dword:00000001
"ClientAuthTrustMode"=dword:00000002
@="default"

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.0\Server]
"Enabled"=dword:ffffffff
"Path"="C:\\Shoreline Data\\Keystore"

[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002]
"Functions"=hex(7):41,00,42,00,00,00,43,00,\
  44,00,00,00,00,00
"Blob"=hex:01,02,ff
"""


def _utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le")


@pytest.mark.parametrize("encode", [_utf16, lambda t: t.encode("utf-8"), lambda t: codecs.BOM_UTF8 + t.encode("utf-8")],
                         ids=["reg.exe-utf16-bom", "utf8", "utf8-bom"])
def test_values_of_every_type_in_every_encoding(tmp_path: Path, encode) -> None:
    (tmp_path / "schannel.reg").write_bytes(encode(EXPORT))

    view = load_registry(tmp_path, "registry/")

    schannel = r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
    assert view.value(schannel, "clientauthtrustmode") == 2
    assert view.value(schannel, "") == "default"
    assert view.value(schannel + r"\Protocols\TLS 1.0\Server", "Enabled") == 0xFFFFFFFF
    assert view.value(schannel + r"\Protocols\TLS 1.0\Server", "Path") == r"C:\Shoreline Data\Keystore"
    local = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002"
    assert view.value(local, "Functions") == ("AB", "CD")
    assert view.value(local, "Blob") == b"\x01\x02\xff"
    assert view.source(schannel) == "registry/schannel.reg"


def test_malformed_line_is_reported_with_its_number() -> None:
    text = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\n\"A\"=dword:1\nnonsense\n"

    with pytest.raises(EvidenceError, match=r"^s.reg: line 5: not a key or value line"):
        parse_reg(text, "s.reg", RegistryView())


def test_not_a_reg_export() -> None:
    with pytest.raises(EvidenceError, match="is not a reg export"):
        parse_reg("hello\n", "s.reg", RegistryView())


def test_folder_without_reg_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match=r"^registry/: holds no .reg file"):
        load_registry(tmp_path, "registry/")


def test_undecodable_bytes_are_named(tmp_path: Path) -> None:
    (tmp_path / "s.reg").write_bytes(b"\xff\xfe\x00\xd8")

    with pytest.raises(EvidenceError, match="s.reg: is not valid utf-16-le text"):
        read_reg_file(tmp_path / "s.reg", "s.reg", RegistryView())


def _parsed(text: str) -> RegistryView:
    view = RegistryView()
    parse_reg(text, "r.reg", view)
    return view


def test_key_and_value_names_are_case_insensitive_as_in_windows() -> None:
    view = _parsed(V5 + f"[{TLS10.upper()}]\n\"ENABLED\"=dword:00000000\n")

    assert view.value(TLS10.lower(), "Enabled") == 0
    assert view.value(TLS10, "enabled") == 0


def test_a_comment_ending_in_a_backslash_does_not_swallow_the_next_line() -> None:
    view = _parsed(V5 + "[HKEY_LOCAL_MACHINE\\Other]\n; see C:\\Windows\\\n" + f"[{TLS10}]\n\"Enabled\"=dword:0\n")

    assert view.value(TLS10, "Enabled") == 0
    assert view.value(r"HKEY_LOCAL_MACHINE\Other", "Enabled") is None


def test_only_hex_data_continues_and_comment_lines_inside_it_are_skipped() -> None:
    view = _parsed(V5 + "[HKEY_LOCAL_MACHINE\\K]\n\"B\"=hex:01,02,\\\n; a comment\n  03 ; trailing\n\"C\"=dword:5 ; five\n")

    assert view.value(r"HKLM\K", "B") == b"\x01\x02\x03"
    assert view.value(r"HKLM\K", "C") == 5


@pytest.mark.parametrize("data", ["dword:100000002", "dword:-1", "dword:", "dword: 1", "dword:0x1", "dword:1\\"])
def test_dwords_are_32_bit_unsigned_hex(data: str) -> None:
    with pytest.raises(EvidenceError, match=r"^r.reg: line 4: a DWORD is 1 to 8 hex digits"):
        _parsed(V5 + f"[{TLS10}]\n\"Enabled\"={data}\n")


def test_a_key_line_after_an_unfinished_hex_value_is_an_error_not_data() -> None:
    with pytest.raises(EvidenceError, match=r"^r.reg: line 4: hex data should be .* got .\[HKLM.*\(continued on line 5\)$"):
        _parsed(V5 + "[HKLM\\K]\n\"B\"=hex:01,\\\n[HKLM\\Other]\n")


def test_fixed_size_hex_values_must_have_their_size() -> None:
    with pytest.raises(EvidenceError, match=r"line 4: hex\(4\) \(REG_DWORD\) should be 4 bytes, got 5"):
        _parsed(V5 + f"[{TLS10}]\n\"Enabled\"=hex(4):01,00,00,00,01\n")


def test_regedit4_is_ansi_and_its_hex_strings_are_ansi_too(tmp_path: Path) -> None:
    text = f"REGEDIT4\r\n\r\n[{TLS10}]\r\n\"Caf\xe9\"=\"\xe9t\xe9\"\r\n\"X\"=hex(2):25,41,25,00\r\n"
    (tmp_path / "old.reg").write_bytes(text.encode("cp1252"))

    view = load_registry(tmp_path, "registry/")

    assert view.value(TLS10, "CAF\xc9") == "\xe9t\xe9"
    assert view.value(TLS10, "X") == "%A%"


def test_a_file_without_a_header_is_an_error() -> None:
    with pytest.raises(EvidenceError, match=r"^r.reg: is not a reg export"):
        _parsed(f"[{TLS10}]\n\"Enabled\"=dword:0\n")


def test_upper_case_file_names_are_read(tmp_path: Path) -> None:
    (tmp_path / "CIPHER-POLICY.REG").write_text(V5 + "[HKLM\\K]\n\"Functions\"=\"A,B\"\n", encoding="utf-8")

    view = load_registry(tmp_path, "registry/")

    assert view.value(r"HKLM\K", "Functions") == "A,B"
    assert view.source(r"HKLM\K") == "registry/CIPHER-POLICY.REG"


def test_an_oversized_export_is_refused_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "big.reg").open("wb") as out:
        out.truncate(MAX_REG_BYTES + 1)

    with pytest.raises(EvidenceError, match=r"^registry/big.reg: is 16.0 MB, over the 16 MB limit"):
        load_registry(tmp_path, "registry/")


def test_a_large_export_is_streamed_not_copied_whole(tmp_path: Path) -> None:
    """A 15 MB UTF-16 export costs a bounded buffer to read, not several copies of its text (it once took 6x)."""
    padding = ("; " + "x" * 200 + "\r\n") * 36_000
    path = tmp_path / "big.reg"
    path.write_bytes(codecs.BOM_UTF16_LE + (V5 + f"[{TLS10}]\r\n" + padding + '"Enabled"=dword:0\r\n').encode("utf-16-le"))
    assert 14 * 2**20 < path.stat().st_size < MAX_REG_BYTES

    tracemalloc.start()
    try:
        view = RegistryView()
        read_reg_file(path, "big.reg", view)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert view.value(TLS10, "Enabled") == 0
    assert peak < 2**20
