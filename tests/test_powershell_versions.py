"""Every PowerShell casgate runs or prints, command by command, against what Windows has: the collector (as written and
as sent), docs/snapshot-format.md's recipe and every remediation the judges print must use only commands and named
parameters that Windows PowerShell 4.0 on Server 2012 R2 has (PSScriptAnalyzer's command data, Microsoft's 2012 R2
cmdlet reference for the IIS and DNS modules) and 5.1 on Server 2016, or be a fix chosen for one generation only.
Also: `#Requires` by version, and no culture-dependent formatting in what the collector writes."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from tree_sitter import Node

import casgate.checks
from casgate.checks.tls import CIPHERS, cipher_remediation
from casgate.render import remediation_blocks
from casgate.windows import Generation, generation
from tests.test_powershell_grammar import PARSER, SOURCES, _nodes, _parse_errors, _text

REALWORLD = Path(__file__).parent / "realworld"
ROOT = Path(__file__).resolve().parents[1]
DATA = {  # provenance: each folder's PROVENANCE
    Generation.SERVER_2012_R2: (REALWORLD / "psscriptanalyzer" / "desktop-4.0-windows.commands.tsv",
                                REALWORLD / "windows-powershell-docs" / "winserver2012r2-ps.commands.tsv"),
    Generation.SERVER_2016: (REALWORLD / "psscriptanalyzer" / "desktop-5.1.14393.206-windows.commands.tsv",
                             REALWORLD / "windows-powershell-docs" / "winserver2016-ps.commands.tsv"),
}
# about_CommonParameters: PipelineVariable came with 4.0, InformationAction/-Variable with 5.0. The data says only
# [<CommonParameters>]; -WhatIf and -Confirm it lists where a command has them.
_COMMON_4_0 = {"debug", "erroraction", "errorvariable", "outbuffer", "outvariable", "pipelinevariable", "verbose",
               "warningaction", "warningvariable"}
COMMON = {Generation.SERVER_2012_R2: _COMMON_4_0, Generation.SERVER_2016: _COMMON_4_0 | {"informationaction", "informationvariable"}}
# Programs in System32 on every Windows Server casgate supports: Microsoft's "Windows commands" reference gives each
# (reg, netsh, w32tm, certutil, gpresult) as applying to Windows Server 2012 R2 through 2022.
NATIVE = frozenset({"reg", "netsh", "w32tm", "certutil", "gpresult"})
SAMPLE = {"{thumb}": "3F0A" * 10, "{fqdn}": "hq01.example.com", "{address}": "192.0.2.10", "{suite}": "TLS_RSA_WITH_AES_128_CBC_SHA"}
_PLACEHOLDER = re.compile(r"<[^<>\n]*[A-Za-z][^<>\n]*>")  # `<the phones' DNS server>`: for the reader to fill in
# The grammar's one gap met here: a parameter name with a digit (`-IPv4Address`) is a parse error. Such digits are
# spelled as letters for the parser and put back before the name is looked up.
_DIGITS, _LETTERS = "0123456789", "ABCDEFGHIJ"
_DIGIT_PARAMETER = re.compile(r"(?<=\s-)[A-Za-z]\w*\d\w*")
_SPELLED = re.compile(r"_DIGIT([A-J])_")


def _parseable(source: str) -> str:
    return _DIGIT_PARAMETER.sub(lambda m: re.sub(r"\d", lambda d: f"_DIGIT{_LETTERS[int(d[0])]}_", m[0]), source)


def _unspelled(name: str) -> str:
    return _SPELLED.sub(lambda m: _DIGITS[_LETTERS.index(m[1])], name)


@cache
def _profile(gen: Generation) -> dict[str, frozenset[str]]:
    """Command (lower case) -> its parameters (lower case), from the TSV files of that generation."""
    commands: dict[str, frozenset[str]] = {}
    for path in DATA[gen]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                _module, kind, name, params = line.split("\t")
                if kind == "command":
                    commands[name.lower()] = frozenset(p.lower() for p in params.split())
    return commands


def _functions(root: Node) -> set[str]:
    return {_text(n.child_by_field_name("function_name") or n.children[1]).lower() for n in _nodes(root)
            if n.type == "function_statement"}


def _from_5_0(node: Node) -> bool:
    """Language that came with PowerShell 5.0 (about_Classes, about_Enum): class and enum, and `[T]::new()`."""
    static_new = node.type == "invokation_expression" and re.fullmatch(r"\[[^\]]+\]::new", _text(node).split("(")[0], re.I)
    return node.type in {"class_statement", "enum_statement"} or bool(static_new)


def missing(source: str, gen: Generation) -> list[str]:
    """Each command, or command and named parameter, in `source` that `gen`'s Windows PowerShell does not have (on 4.0
    also 5.0's classes and `::new()`). Commands are spelled out (an alias or a shortened parameter is reported too); the script's own functions and
    Windows' own programs are known."""
    root = PARSER.parse(_parseable(source).encode()).root_node
    known, own, found = _profile(gen), _functions(root), []
    for node in _nodes(root):
        if gen is Generation.SERVER_2012_R2 and _from_5_0(node):
            found.append(f"{_text(node).splitlines()[0][:40]} (PowerShell 5.0)")
        name = node.child_by_field_name("command_name") if node.type == "command" else None
        if name is None or name.type != "command_name":
            continue  # `. (Join-Path …)`, `& $x`: what runs is a command node of its own, or not known until it runs
        command = _text(name)
        lowered = re.split(r"[\\/]", command.lower())[-1].removesuffix(".exe")
        if lowered in own or lowered in NATIVE:
            continue
        if lowered not in known:
            found.append(command)
            continue
        elements = node.child_by_field_name("command_elements")
        for element in (elements.children if elements else []):
            parameter = _unspelled(_text(element)).lstrip("-").rstrip(":")
            if element.type == "command_parameter" and parameter.lower() not in known[lowered] | COMMON[gen]:
                found.append(f"{command} -{parameter}")
    return found


def _recipe_blocks() -> dict[str, str]:
    text = (ROOT / "docs" / "snapshot-format.md").read_text(encoding="utf-8")
    return {f"snapshot-format.md block {n}": block for n, block in enumerate(re.findall(r"```powershell\n(.*?)```", text, re.S), 1)}


def _fill(text: str, module: object) -> str:
    """A remediation as printed: the judge's values in its placeholders (a removal list from the module's own helper)."""
    if "{removals}" in text:
        text = text.replace("{removals}", module._removal(SAMPLE["{thumb}"]))  # type: ignore[attr-defined]
    for placeholder, value in SAMPLE.items():
        text = text.replace(placeholder, value)
    return text


def _code(remediation: str) -> str:
    """The PowerShell lines of a remediation (indented by two, as the reports show them), placeholders as barewords."""
    lines = [line for code, block in remediation_blocks(remediation) if code for line in block]
    return _PLACEHOLDER.sub("PLACEHOLDER", "\n".join(lines))


def _remediations() -> Iterator[tuple[str, Generation | None, str]]:
    """Every remediation text a judge module holds with PowerShell in it: module-level strings, and the values of
    module-level dicts (a dict keyed by Generation is a fix for that generation alone); docstrings are prose."""
    for info in pkgutil.iter_modules(casgate.checks.__path__):
        module = importlib.import_module(f"casgate.checks.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("__"):
                continue
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for key, text in entries:
                if isinstance(text, str) and _code(text):
                    label = f"{info.name}.{name}" + (f"[{key.name if isinstance(key, Generation) else key}]" if key else "")
                    yield label, key if isinstance(key, Generation) else None, _code(_fill(text, module))


REMEDIATIONS = {label: (gen, code) for label, gen, code in _remediations()}
SCRIPTS = dict(SOURCES) | _recipe_blocks()
CASES = [(label, source, gen) for label, source in SCRIPTS.items() for gen in Generation] + [
    (label, code, g) for label, (gen, code) in REMEDIATIONS.items() for g in ([gen] if gen else Generation)]


def test_the_remediations_found_include_every_judges_fix() -> None:
    """The collection is not vacuous: the fixes of causes 1a, 2, 4 (both generations), X4, X7 and X9 are there."""
    assert {"root_store.ROOT_CLEANUP", "binding.REMEDIATION", "tls.CIPHERS[SERVER_2012_R2]", "tls.CIPHERS[SERVER_2016]",
            "mitel_root.STALE_REMOVAL", "client_cert.REMEDIATION", "revocation.OFFLINE_REMEDIATION"} <= set(REMEDIATIONS)
    assert "Remove-Item Cert:\\LocalMachine\\Root\\" + SAMPLE["{thumb}"] in REMEDIATIONS["root_store.ROOT_CLEANUP"][1]


@pytest.mark.parametrize(("label", "source", "gen"), CASES, ids=[f"{label}-{gen.name}" for label, _, gen in CASES])
def test_uses_only_what_that_windows_powershell_has(label: str, source: str, gen: Generation) -> None:
    assert _parse_errors(_parseable(source)) == []
    assert missing(source, gen) == []


def test_cause_4s_2016_fix_is_kept_from_2012_r2() -> None:
    """Why CIPHERS is keyed by generation: Enable-TlsCipherSuite is not in 2012 R2's TLS module."""
    fix = _code(cipher_remediation("Microsoft Windows Server 2016 Standard 10.0.14393", SAMPLE["{suite}"]))
    assert missing(fix, Generation.SERVER_2012_R2) == ["Enable-TlsCipherSuite"] and missing(fix, Generation.SERVER_2016) == []
    assert "Enable-TlsCipherSuite" not in _code(cipher_remediation("Microsoft Windows Server 2012 R2 Standard 6.3.9600", "X"))


@pytest.mark.parametrize(("sample", "found"), [
    ("Get-ChildItem C:\\x -Depth 1", {Generation.SERVER_2012_R2: ["Get-ChildItem -Depth"], Generation.SERVER_2016: []}),
    ("ConvertTo-Json $x -AsArray", {g: ["ConvertTo-Json -AsArray"] for g in Generation}),
    ("Write-Output 1 -InformationAction Ignore", {Generation.SERVER_2012_R2: ["Write-Output -InformationAction"],
                                                  Generation.SERVER_2016: []}),
    ("Get-TlsCipherSuite", {Generation.SERVER_2012_R2: ["Get-TlsCipherSuite"], Generation.SERVER_2016: []}),
    ("gci C:\\x | % { $_ }", {g: ["gci", "%"] for g in Generation}),
    ("Get-WebBinding -Name x -Prot https", {g: ["Get-WebBinding -Prot"] for g in Generation}),
    ("Add-DnsServerResourceRecordA -ZoneName z -Name h -IPv4Address 192.0.2.1 -IPv6Address ::1",
     {g: ["Add-DnsServerResourceRecordA -IPv6Address"] for g in Generation}),
    ("$b = [Text.StringBuilder]::new()\nclass Evidence { [string]$Name }",
     {Generation.SERVER_2012_R2: ["[Text.StringBuilder]::new() (PowerShell 5.0)", "class Evidence { [string]$Name } (PowerShell 5.0)"],
      Generation.SERVER_2016: []}),
    ("function Get-X { 1 }\nGet-X -Verbose; reg.exe query HKLM\\X; C:\\Windows\\System32\\certutil -dump x",
     {g: [] for g in Generation}),
])
def test_the_version_check_catches_what_a_version_lacks(sample: str, found: dict[Generation, list[str]]) -> None:
    assert {g: missing(sample, g) for g in Generation} == found


def test_the_os_version_names_the_generation() -> None:
    assert generation("Microsoft Windows Server 2012 R2 Standard 6.3.9600") is Generation.SERVER_2012_R2
    assert generation("Microsoft Windows Server 2016 Datacenter 10.0.14393") is Generation.SERVER_2016
    assert generation("Microsoft Windows Server 2022 Standard 10.0.20348") is Generation.SERVER_2016
    assert generation("Windows") is None


# about_Requires (MicrosoftDocs/PowerShell-Docs, reference/{3.0,4.0}/…/about_Requires.md at a7bae07a, 5.1 at 27138b21):
# -Version, -PSSnapin, -ShellId and -Modules (ModuleName, ModuleVersion, GUID) from 3.0; -RunAsAdministrator "is
# introduced in Windows PowerShell 4.0"; -Assembly in 5.0; -PSEdition only in the 5.1 page; RequiredVersion "was added
# in Windows PowerShell 5.0", MaximumVersion in 5.1.
REQUIRES_SINCE = {"version": (3, 0), "pssnapin": (3, 0), "shellid": (3, 0), "modules": (3, 0), "runasadministrator": (4, 0),
                  "assembly": (5, 0), "psedition": (5, 1)}
MODULE_KEYS_SINCE = {"modulename": (3, 0), "moduleversion": (3, 0), "guid": (3, 0), "requiredversion": (5, 0),
                     "maximumversion": (5, 1)}
FLOOR = (4, 0)  # Windows PowerShell on Server 2012 R2


def requires_beyond(source: str, floor: tuple[int, int] = FLOOR) -> list[str]:
    """Each `#Requires` word or value that PowerShell `floor` refuses (it then refuses the whole script)."""
    found = []
    for node in _nodes(PARSER.parse(source.encode()).root_node):
        text = _text(node)
        if node.type != "comment" or not re.match(r"#requires\s", text, re.IGNORECASE):
            continue
        for parameter, value in re.findall(r"-(\w+)\s*((?:@\{[^}]*\}|[^-\s][^\s]*)?)", text[len("#requires"):]):
            if REQUIRES_SINCE.get(parameter.lower(), (99, 0)) > floor:
                found.append(f"-{parameter}")
            elif parameter.lower() == "version" and tuple(int(x) for x in (value.split(".") + ["0"])[:2]) > floor:
                found.append(f"-Version {value}")
            for key in re.findall(r"(\w+)\s*=", value):
                if MODULE_KEYS_SINCE.get(key.lower(), (99, 0)) > floor:
                    found.append(f"-Modules {key}")
    return found


@pytest.mark.parametrize("label", SCRIPTS)
def test_requires_only_what_powershell_4_accepts(label: str) -> None:
    assert requires_beyond(SCRIPTS[label]) == []


def test_collect_ps1_requires_4_0_and_administrator() -> None:
    requires = [line for line in SOURCES["collect.ps1"].splitlines() if line.lower().startswith("#requires")]
    assert requires == ["#Requires -Version 4.0", "#Requires -RunAsAdministrator"]
    assert "$PSVersionTable.PSEdition -eq 'Core'" in SOURCES["collect.ps1"]  # the edition, checked where 4.0 can


@pytest.mark.parametrize(("sample", "found"), [
    ("#Requires -PSEdition Desktop", ["-PSEdition"]),
    ("#requires -version 5.1", ["-Version 5.1"]),
    ("#Requires -Modules @{ ModuleName='WebAdministration'; RequiredVersion='1.0.0.0' }", ["-Modules RequiredVersion"]),
    ("#Requires -Modules @{ ModuleName='WebAdministration'; ModuleVersion='1.0' }", []),
    ("#Requires -Version 3\n#Requires -RunAsAdministrator", []),
    ("# requires -PSEdition Desktop (prose, not a #Requires statement)", []),
])
def test_the_requires_rule_by_version(sample: str, found: list[str]) -> None:
    assert requires_beyond(sample) == found


# Culture: PowerShell's string expansion and casts use the invariant culture (about_Quoting_Rules 5.1: "PowerShell uses
# the invariant culture when interpreting expandable string expressions"); .ToString(), -f, [string]::Format and
# Get-Date -Format use the session's (Get-Date 5.1: "uses the current culture settings of the operating system").
def culture_dependent(source: str) -> list[str]:
    """Each formatting call in `source` whose result depends on the server's culture."""
    found = []
    for node in _nodes(PARSER.parse(source.encode()).root_node):
        text = _text(node)
        if node.type == "invokation_expression":  # [BitConverter]::ToString(bytes) is hex whatever the culture
            member = _text(node.children[2]).lower() if not _text(node).lower().startswith("[bitconverter]::") else ""
            invariant = re.search(r"cultureinfo\]::invariantculture", text, re.IGNORECASE)
            if member in {"tostring", "format"} and not invariant or member in {"tolower", "toupper"}:
                found.append(text)
        elif node.type == "format_operator":
            found.append(_text(node.parent))
        elif node.type == "command" and _text(node.child_by_field_name("command_name")).lower() == "get-date":
            found.extend(text for e in node.children if re.search(r"-u?format", _text(e), re.IGNORECASE))
    return found


@pytest.mark.parametrize("label", SCRIPTS)
def test_the_collector_and_the_recipe_format_culture_invariantly(label: str) -> None:
    assert culture_dependent(SCRIPTS[label]) == []


@pytest.mark.parametrize(("sample", "flagged"), [
    ("(Get-Date).ToUniversalTime().ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\")", True),
    ("$n.ToString('N0')", True),
    ("'\\u{0:x4}' -f 233", True),
    ("[string]::Format('{0}', $d)", True),
    ("Get-Date -Format yyyyMMdd", True),
    ("$env:COMPUTERNAME.ToLower()", True),
    ("[DateTime]::UtcNow.ToString('o', [Globalization.CultureInfo]::InvariantCulture)", False),
    ("$env:COMPUTERNAME.ToLowerInvariant(); \"$(Get-Date)\"; (Get-Date).AddHours(-1)", False),
])
def test_the_culture_check_flags_culture_dependent_formatting(sample: str, flagged: bool) -> None:
    assert bool(culture_dependent(sample)) is flagged


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (its ICU and CLDR data)")
def test_a_thai_culture_writes_the_buddhist_year() -> None:
    """What collect.ps1's old `(Get-Date).ToString('yyyy-…')` gave on a Thai-language server, shown with real CLDR data
    (Node.js's ICU): th-TH's calendar is the Buddhist one, 543 years ahead (Microsoft Learn, ThaiBuddhistCalendar
    class: "the Thai Buddhist calendar … years differ by 543"), so 2026 reads 2569; the invariant format keeps 2026."""
    script = ("const d = new Date(Date.UTC(2026, 11, 3, 12));"
              "const f = (l) => new Intl.DateTimeFormat(l, {year: 'numeric', timeZone: 'UTC'});"
              "console.log(JSON.stringify([f('th-TH').resolvedOptions().calendar, f('th-TH').formatToParts(d)"
              ".find(p => p.type === 'year').value, f('en-US-u-ca-gregory').format(d), process.versions.icu]))")
    calendar, thai_year, invariant_year, icu = json.loads(subprocess.run(["node", "-e", script], capture_output=True,
                                                                         text=True, check=True, timeout=30).stdout)
    assert (calendar, thai_year, invariant_year) == ("buddhist", "2569", "2026"), icu
