"""The collector's PowerShell read by a real PowerShell grammar (tree-sitter-powershell): every shipped script and
every command casgate sends parses, minifying changes nothing but comments and layout, everything it runs is on a
read-only allowlist, and it uses nothing Windows PowerShell 5.1 lacks."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from casgate.collector import SCRIPTS, host_commands, minify, script
from casgate.inventory import InventoryHost

PARSER = Parser(Language(tree_sitter_powershell.language()))
SHIPPED = sorted(p.name for p in SCRIPTS.glob("*.ps1"))
# Quotes, a '$', a '#' and a block-comment opener in the one value casgate puts into a script.
HOST = InventoryHost("hq", "hq.example.com", "127.0.0.1", "local", ("127.0.0.1:53",),
                     shoreline_data="D:\\Shoreline's $Data #1 <#")

# Everything the collector may run, as _actions() names it. Commands: cmdlets that read or shape what was read, and
# host.ps1's own functions (their bodies are checked too); native commands with the words that say what they do.
READ_ONLY = frozenset({
    "convertto-json", "foreach-object", "get-childitem", "get-ciminstance", "get-date", "get-item", "get-service",
    "get-webbinding", "get-webconfigurationproperty", "import-module", "join-path", "out-null", "out-string", "select-object", "select-string",
    "split-path", "test-path", "where-object", "write-output", "get-registrytree", "get-storeder",
    "netsh http show",
    # .NET: static methods by type, instance methods by name (registry keys, dates, strings, hashes, encodings)
    "[convert]::frombase64string", "[convert]::tobase64string", "[io.file]::readallbytes", "[regex]::replace",
    "[environment]::expandenvironmentvariables", "[bitconverter]::tostring", "[security.cryptography.sha1]::create",
    ".getvaluenames", ".getvaluekind", ".getvalue", ".tostring", ".addhours", ".replace",
    ".computehash", ".getbytes", ".split", ".tolowerinvariant",
})
# collect.ps1 alone writes, and only the snapshot into its -Out folder; it runs the two part scripts from beside it.
SNAPSHOT_WRITERS = frozenset({
    "write-bytes", "write-text", "reg export", "[io.file]::writeallbytes", "[io.directory]::createdirectory",
    ". (join-path $psscriptroot 'host.ps1')", ". (join-path $psscriptroot 'iislogs.ps1')",
})
NATIVE_VERB_WORDS = {"reg": 1, "netsh": 2}  # `reg query`, `netsh http show`: the words that decide what it does


def _decode(command: str) -> str:
    return base64.b64decode(command.rsplit(" ", 1)[1]).decode("utf-16-le")


def _sources() -> dict[str, str]:
    """Every shipped script as written and minified, and every command casgate sends, decoded."""
    sent = dict(zip(("host.ps1", "iislogs.ps1"), host_commands(HOST, timedelta(hours=36))))
    return ({name: script(name) for name in SHIPPED} | {f"{name} minified": minify(script(name)) for name in SHIPPED}
            | {f"{name} as sent": _decode(command) for name, command in sent.items()})


SOURCES = _sources()


def _allowed(name: str) -> frozenset[str]:
    return READ_ONLY | SNAPSHOT_WRITERS if name.startswith("collect.ps1") else READ_ONLY


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _nodes(child)


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8") if node is not None and node.text is not None else ""


def _parse_errors(source: str) -> list[str]:
    """Where the grammar gave up, as 'line:column text'."""
    bad = (n for n in _nodes(PARSER.parse(source.encode()).root_node) if n.is_error or n.is_missing)
    return [f"{n.start_point.row + 1}:{n.start_point.column + 1} {_text(n)[:80]!r}" for n in bad]


@pytest.mark.parametrize("name", SOURCES)
def test_parses_with_a_real_powershell_grammar(name: str) -> None:
    assert _parse_errors(SOURCES[name]) == []


def _shape(node: Node, depth: int = 0) -> Iterator[tuple[int, str, str]]:
    """The tree without comments and layout: (depth, type, token) in order; a string literal is one token."""
    if node.type == "comment":
        return
    if node.type == "string_literal" or not node.children:
        if _text(node).strip():
            yield depth, node.type, _text(node)
        return
    yield depth, node.type, ""
    for child in node.children:
        yield from _shape(child, depth + 1)


def _same_tree(source: str) -> bool:
    parse = PARSER.parse
    return list(_shape(parse(minify(source).encode()).root_node)) == list(_shape(parse(source.encode()).root_node))


@pytest.mark.parametrize("name", SHIPPED)
def test_minify_changes_only_comments_and_layout(name: str) -> None:
    assert _same_tree(script(name))


@pytest.mark.parametrize("source", [
    "<# block\n# not a line comment\n  code-looking text\n#>\n$a = 1",
    "<# one line #>\n$a = 1",
    "$a = @'\n# data, not a comment\n    indented data\n'@\n$b = 2",
    '$a = @"\n  $b\n<# data #>\n"@ # trailing comment\n$c = 3',
    "$a = 'ends in @'\n    $b = 2\n# comment",
])
def test_minify_keeps_here_strings_and_drops_block_comments(source: str) -> None:
    assert _parse_errors(minify(source)) == [] and _same_tree(source)


def _command_action(command: Node) -> str:
    """A command as the allowlist names it: lower case, '.exe' and folders dropped, a native command with its verb
    words; `&`/`.` of an expression keeps the expression (what it runs is not known until it runs)."""
    name = command.child_by_field_name("command_name")
    operator = command.children[0] if command.children[0].type == "command_invokation_operator" else None
    if name is None or name.type != "command_name":
        return f"{_text(operator)} {_text(name)}".lower()
    program = re.split(r"[\\/]", _text(name).lower())[-1].removesuffix(".exe")
    elements = command.child_by_field_name("command_elements")
    args = [e for e in (elements.children if elements else []) if e.type != "command_argument_sep"]
    if program == "foreach-object":  # `ForEach-Object Delete` calls the method it names on every input
        words = [_text(e).lower() for e in args if e.type != "command_parameter" and not _text(e).startswith("{")]
    else:
        words = [_text(e).lower() for e in args[:NATIVE_VERB_WORDS.get(program, 0)]]
    return " ".join([program, *words])


def _method_action(call: Node) -> str:
    """`[type]::Method` for a static call (leading 'System.' dropped), `.method` for an instance call."""
    target, operator, member = call.children[:3]
    if operator.type == "::" and target.type == "type_literal":
        return f"[{_text(target)[1:-1].lower().removeprefix('system.')}]::{_text(member).lower()}"
    return f".{_text(member).lower()}"


def _actions(source: str) -> set[str]:
    """Everything `source` runs or writes: commands, .NET method calls, redirections to a file, and assignments to a
    drive-qualified variable (`${C:\\x.txt} = …` writes a file)."""
    found = set()
    for node in _nodes(PARSER.parse(source.encode()).root_node):
        if node.type == "command":
            found.add(_command_action(node))
        elif node.type == "invokation_expression":
            found.add(_method_action(node))
        elif node.type == "file_redirection_operator":
            found.add(_text(node.parent).lower())
        elif node.type == "left_assignment_expression" and ":" in _text(node):
            found.add(f"{_text(node).lower()} =")
    return found


@pytest.mark.parametrize("name", SOURCES)
def test_runs_only_what_the_read_only_allowlist_names(name: str) -> None:
    assert _actions(SOURCES[name]) - _allowed(name) == set()


def test_every_allowlist_entry_is_used() -> None:
    used = set().union(*(_actions(source) for source in SOURCES.values()))
    assert READ_ONLY | SNAPSHOT_WRITERS <= used


@pytest.mark.parametrize("sample, refused", [
    ("Remove-Item C:\\x", "remove-item"),
    ("Set-ItemProperty -Path HKLM:\\X -Name Y -Value 1", "set-itemproperty"),
    ("reg add HKLM\\X /v Y /d 1 /f", "reg add"),
    ("C:\\Windows\\System32\\REG.EXE delete HKLM\\X /f", "reg delete"),
    ("reg export HKLM\\X C:\\x.reg /y", "reg export"),
    ("netsh http delete sslcert ipport=0.0.0.0:443", "netsh http delete"),
    ("[IO.File]::WriteAllText('C:\\x', 'y')", "[io.file]::writealltext"),
    ("[System.IO.File]::Delete('C:\\x')", "[io.file]::delete"),
    ("$x.Delete()", ".delete"),
    ("Get-Item HKLM:\\X | ForEach-Object { $_.SetValue('a', 1) }", ".setvalue"),
    ("Get-Item C:\\x | ForEach-Object -MemberName Delete", "foreach-object delete"),
    ("Get-Item C:\\x | ForEach-Object Delete", "foreach-object delete"),
    ("$r = @{ a = (Get-Item C:\\x).MoveTo('C:\\y') }", ".moveto"),
    ("Invoke-Expression $s", "invoke-expression"),
    ("iex $s", "iex"),
    ("& $cmd", "& $cmd"),
    ("& ('Remove' + '-Item') C:\\x", "& ('remove' + '-item')"),
    (". (Join-Path $PSScriptRoot 'other.ps1')", ". (join-path $psscriptroot 'other.ps1')"),
    ("Start-Process cmd.exe", "start-process"),
    ("Restart-Service W3SVC", "restart-service"),
    ("Get-Date > C:\\x.txt", "> c:\\x.txt"),
    ("${C:\\x.txt} = 'y'", "${c:\\x.txt} ="),
])
def test_the_allowlist_refuses_what_writes_or_runs_code(sample: str, refused: str) -> None:
    assert _parse_errors(sample) == []
    assert _actions(sample) - READ_ONLY == {refused}


# PowerShell 7 parameters by the commands (and aliases) that have them; PowerShell takes any unambiguous prefix.
PWSH7_PARAMETERS = {
    "ForEach-Object -Parallel": ({"foreach-object", "foreach", "%"}, "parallel"),
    "ConvertFrom-Json -AsHashtable": ({"convertfrom-json"}, "ashashtable"),
    "ConvertFrom-Json -Depth": ({"convertfrom-json"}, "depth"),
    "Get-Content -AsByteStream": ({"get-content", "gc", "cat", "type"}, "asbytestream"),
}
# Operators the grammar has no node for (it reports an error): found by token, in code with strings, comments and
# bareword arguments (`-Filter u_ex??????.log`) blanked out.
PWSH7_TOKENS = {
    "??= (null-coalescing assignment)": r"\?\?=",
    "?? (null-coalescing)": r"\?\?(?!=)",
    "? : (ternary)": r"[\w)\]}]\s+\?\s",
    "?. ?[ (null-conditional)": r"\}\?[.\[]",  # ${a}?.b: without braces, $a? is a variable named 'a?'
    "clean {} block": r"\bclean\s*\{",
}


def _code_only(source: str, root: Node) -> str:
    """`source` with strings, comments and bareword arguments replaced by spaces."""
    code = bytearray(source.encode())
    for node in _nodes(root):
        if node.type in {"string_literal", "comment", "generic_token"}:
            code[node.start_byte:node.end_byte] = b" " * (node.end_byte - node.start_byte)
    return code.decode()


def _pwsh7_parameters(command: Node) -> set[str]:
    name = _text(command.child_by_field_name("command_name")).lower()
    elements = command.child_by_field_name("command_elements")
    given = {_text(e).lower().strip("-:") for e in (elements.children if elements else []) if e.type == "command_parameter"}
    return {label for label, (commands, parameter) in PWSH7_PARAMETERS.items()
            if name in commands and any(len(p) >= 3 and parameter.startswith(p) for p in given)}


def _pwsh7_only(source: str) -> set[str]:
    """What in `source` Windows PowerShell 5.1 lacks: from the syntax tree where the grammar has a node, else by token."""
    root = PARSER.parse(source.encode()).root_node
    found = {label for label, pattern in PWSH7_TOKENS.items() if re.search(pattern, _code_only(source, root))}
    for node in _nodes(root):
        if node.type == "pipeline_chain_tail":
            found.add(f"{_text(node)} (pipeline chain)")
        elif node.type == "variable" and re.fullmatch(r"\$\{?(\w+:)?psstyle\}?", _text(node), re.IGNORECASE):
            found.add("$PSStyle")
        elif node.type == "command":
            found |= _pwsh7_parameters(node)
    return found


@pytest.mark.parametrize("name", SOURCES)
def test_uses_nothing_windows_powershell_5_1_lacks(name: str) -> None:
    assert _pwsh7_only(SOURCES[name]) == set()


@pytest.mark.parametrize("sample, construct", [
    ("$a = $b ?? 'x'", "?? (null-coalescing)"),
    ("$a ??= 'x'", "??= (null-coalescing assignment)"),
    ("$a = $b ? 'x' : 'y'", "? : (ternary)"),
    ("$n = ${site}?.Name", "?. ?[ (null-conditional)"),
    ("$n = ${list}?[0]", "?. ?[ (null-conditional)"),
    ("Get-ChildItem | ForEach-Object -Parallel { $_ }", "ForEach-Object -Parallel"),
    ("Get-ChildItem | % -Para { $_ }", "ForEach-Object -Parallel"),
    ("Get-Item x && Get-Item y", "&& (pipeline chain)"),
    ("Get-Item x || Get-Item y", "|| (pipeline chain)"),
    ("$j | ConvertFrom-Json -AsHashtable", "ConvertFrom-Json -AsHashtable"),
    ("ConvertFrom-Json $j -Depth 10", "ConvertFrom-Json -Depth"),
    ("Get-Content C:\\x -AsByteStream", "Get-Content -AsByteStream"),
    ("Write-Output \"$($PSStyle.Reset)\"", "$PSStyle"),
    ("function f { process { $_ } clean { 'done' } }", "clean {} block"),
])
def test_the_5_1_check_catches_each_powershell_7_construct(sample: str, construct: str) -> None:
    assert _pwsh7_only(sample) == {construct}


def test_the_5_1_check_leaves_5_1_look_alikes_alone() -> None:
    sample = ("Get-ChildItem -Filter u_ex??????.log | ? { $_.Length } | Group-Object Name -AsHashTable\n"
              "ConvertTo-Json -Depth 3 -InputObject @{ a = 'a ?? b ? c : d' } # $x ?? $y\n"
              "Get-Content C:\\x -Encoding Byte | ForEach-Object -Process { $_ }")
    assert _parse_errors(sample) == [] and _pwsh7_only(sample) == set()
