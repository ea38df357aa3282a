"""reg export files: UTF-16 LE with BOM from reg.exe, UTF-8 by hand; values by type; errors with line numbers."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from casgate.errors import EvidenceError
from casgate.regfile import RegistryView, decode_reg_text, load_registry, parse_reg

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


def test_undecodable_bytes_are_named() -> None:
    with pytest.raises(EvidenceError, match="s.reg: is not UTF-16 LE or UTF-8"):
        decode_reg_text(b"\xff\xfe\x00\xd8", "s.reg")
