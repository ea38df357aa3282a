"""Property tests: whatever bytes, text, JSON or TOML a parser is given, it returns a well-typed value or raises
casgate's own error — never another exception. Runs are bounded so the file stays well under 20 seconds."""

from __future__ import annotations

import codecs
import copy
import json
import math
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casgate.baseline import BaselineError, load_baseline
from casgate.errors import CasgateError, EvidenceError
from casgate.evidence import EARLIEST, LATEST, DnsProbe, HttpsProbe, Manifest, TlsProbe, parse_bindings, parse_state, read_json
from casgate.inventory import InventoryError, load_inventory
from casgate.regfile import RegistryView, load_registry, parse_reg, read_reg_file
from casgate.snapshot import REGISTRY, SnapshotWriter
from casgate.waivers import WaiverFileError, load_waivers
from casgate.window import MAX_SPAN, Window, parse_since

BOUNDED = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
V5 = "Windows Registry Editor Version 5.00"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per module, overwritten by each example (function-scoped tmp_path does not mix with @given)."""
    return tmp_path_factory.mktemp("properties")


# ---- .reg ----------------------------------------------------------------------------------------------------------

_REG_PIECES = st.sampled_from([
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\X]", "[-HKLM\\X]", "[HKLM\\X", "[]", '"Enabled"=', '"A\\"b"=', "@=", '"', "=", "-",
    "dword:", "dword:ffffffff", "dword:100000000", "dword:-1", "hex:", "hex(7):", "hex(4):", "hex(b):", "hex(2):", "hex(zz):",
    "00,", "ff", "41,00,00,00,00,00", "\\", ";", " ", "\t", "\r\n", "\n", "\r", "\ufeff", "\u2028", "0", "é",
])
_REG_TEXT = st.tuples(
    st.sampled_from([V5, "REGEDIT4", "", "regedit4", V5 + " ;"]),
    st.lists(st.one_of(_REG_PIECES, st.text(max_size=4)), max_size=40).map("".join),
).map(lambda parts: parts[0] + "\r\n" + parts[1])


def _read_or_named_error(read: Callable[[str, RegistryView], None], label: str) -> None:
    """`read` either fills the view with well-typed values or raises an EvidenceError naming `label`."""
    view = RegistryView()
    try:
        read(label, view)
    except EvidenceError as exc:
        assert str(exc).startswith(f"{label}: ")
        return
    for values in view.keys.values():
        for value in values.values():
            assert isinstance(value, (str, bytes, tuple)) or (isinstance(value, int) and 0 <= value < 2**64)


@BOUNDED
@given(_REG_TEXT)
def test_any_reg_text_is_parsed_or_an_evidence_error(text: str) -> None:
    _read_or_named_error(lambda label, view: parse_reg(text, label, view), "p.reg")


@BOUNDED
@given(st.sampled_from([b"", codecs.BOM_UTF16_LE, codecs.BOM_UTF8, b"REGEDIT4\r\n", V5.encode() + b"\r\n"]),
       st.one_of(st.binary(max_size=200), _REG_TEXT.map(lambda t: t.encode("utf-16-le", "surrogatepass"))))
def test_any_reg_bytes_are_parsed_or_an_evidence_error(scratch: Path, prefix: bytes, data: bytes) -> None:
    (scratch / "any.reg").write_bytes(prefix + data)
    _read_or_named_error(lambda label, view: read_reg_file(scratch / "any.reg", label, view), "registry/any.reg")


_NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12)
_KEY = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters=" ._-{}"), min_size=1, max_size=12)
_TYPED = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda v: ("DWord", v)),
    st.integers(0, 2**64 - 1).map(lambda v: ("QWord", v)),
    _NAME.map(lambda v: ("String", v)),
    _NAME.map(lambda v: ("ExpandString", v)),
    st.lists(_NAME.filter(lambda s: "\0" not in s), max_size=3).map(lambda v: ("MultiString", v)),
    st.binary(max_size=40).map(lambda v: ("Binary", v)),
)


def _cased(name: str) -> bool:
    """Lower case, and upper-casing it and back gives it again (not so for 'ß' or 'ǅ'): one name per spelling."""
    return name.lower() == name and name.upper().lower() == name


def _expected(kind: str, value: Any) -> Any:
    return tuple(value) if kind == "MultiString" else value


@BOUNDED
@given(st.dictionaries(_KEY, st.dictionaries(_NAME, _TYPED, max_size=4), min_size=1, max_size=3))
def test_what_reg_export_writes_reads_back_unchanged_in_any_case(scratch: Path, tree: dict[str, dict[str, tuple[str, Any]]]) -> None:
    """Round trip through the writer the collector uses (reg.exe's format), looked up upper-cased."""
    tree = {k: {n: v for n, v in values.items() if _cased(n)} for k, values in tree.items() if _cased(k)}
    keys = {f"HKEY_LOCAL_MACHINE\\SOFTWARE\\{key}": values for key, values in tree.items()}
    SnapshotWriter(scratch).reg_tree("tree.reg", {k: {n: {"kind": kind, "value": v} for n, (kind, v) in values.items()}
                                                  for k, values in keys.items()})

    view = load_registry(scratch / REGISTRY, REGISTRY)

    for key, values in keys.items():
        assert view.has_key(key.upper())
        for name, (kind, value) in values.items():
            assert view.value(key.upper(), name.upper()) == _expected(kind, value)


# ---- JSON evidence -------------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
VALID: dict[str, tuple[Any, Callable[[Any, str], object]]] = {
    "manifest.json": ({"host": "hq01", "fqdn": "hq01.example.com", "address": "10.0.0.1", "os_version": "10.0.17763",
                       "collected_at": "2026-11-20T06:00:00Z", "source": "live", "casgate_version": "0.1.0",
                       "collected": ["registry"], "skipped": {"certs/my/": "why"}, "failed": {}}, Manifest.parse),
    "probes/https.json": ({"url": "https://hq/shoreauth/certauth", "status": 403, "reason": "Forbidden", "error": None},
                          HttpsProbe.parse),
    "iis/bindings.json": ([{"protocol": "https", "bindingInformation": "*:443:", "certificateHash": "AB",
                            "certificateStoreName": "My"}], parse_bindings),
    "probes/dns.json": ({"fqdn": "hq", "servers": [{"server": "10.0.0.53", "rcode": "NOERROR", "addresses": ["10.0.0.1"],
                                                    "ttl": 60, "error": None}]}, DnsProbe.parse),
    "probes/tls.json": ({"address": "10.0.0.1", "port": 443, "sni": "hq", "handshakes": {
        "tls1.0": {"accepted": True, "version": "TLSv1", "cipher": "AES128-SHA", "error": None, "reached": True}}},
        TlsProbe.parse),
    "iis/state.json": ({"reboot_pending": False, "w3svc": "Running"}, parse_state),
}


def _paths(doc: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document, the root included."""
    yield here
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, child in children:
        yield from _paths(child, (*here, key))


@st.composite
def _mutated(draw: st.DrawFn, doc: Any) -> Any:
    """The valid document with one place replaced by an arbitrary JSON value, or deleted."""
    path = draw(st.sampled_from(list(_paths(doc))))
    if not path:
        return draw(JSON_VALUES)
    changed = copy.deepcopy(doc)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return changed


@BOUNDED
@given(st.sampled_from(sorted(VALID)).flatmap(lambda label: st.tuples(st.just(label), _mutated(VALID[label][0]))))
def test_any_json_evidence_is_parsed_or_an_evidence_error(labelled: tuple[str, Any]) -> None:
    label, doc = labelled
    try:
        parsed = VALID[label][1](doc, label)
    except EvidenceError as exc:
        assert exc.artifact == label
    else:
        if isinstance(parsed, Manifest):
            assert EARLIEST <= parsed.collected_at < LATEST and all(isinstance(c, str) for c in parsed.collected)
        if isinstance(parsed, HttpsProbe):
            assert parsed.status is None or (isinstance(parsed.status, int) and not isinstance(parsed.status, bool))
        if isinstance(parsed, tuple):
            assert all(isinstance(b.certificate_hash, str) and 0 < b.port < 65536 for b in parsed)


@BOUNDED
@given(st.one_of(st.binary(max_size=100), JSON_VALUES.map(lambda v: json.dumps(v).encode()),
                 st.integers(1, 3000).map(lambda n: b"[" * n * 40)))
def test_any_file_is_json_or_an_evidence_error(scratch: Path, data: bytes) -> None:
    (scratch / "any.json").write_bytes(data)
    try:
        doc = read_json(scratch / "any.json", "probes/any.json")
    except EvidenceError as exc:
        assert exc.artifact == "probes/any.json"
    else:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")  # what the reports do with it later


# ---- --since -------------------------------------------------------------------------------------------------------

_OFFSETS = st.integers(-1439, 1439).map(lambda minutes: timezone(timedelta(minutes=minutes)))
SINCE_TEXT = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A\s*[0-9]{1,16}\s*[smhdwSMHDW]\s*\Z"),
    st.dates().map(date.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.datetimes(timezones=_OFFSETS).map(datetime.isoformat),
    st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
)


@BOUNDED
@given(SINCE_TEXT, st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)))
def test_any_since_is_a_bounded_span_or_a_start_in_range_or_a_casgate_error(text: str, end: datetime) -> None:
    try:
        since = parse_since(text)
    except CasgateError as exc:
        assert str(exc).startswith("--since ")
        return
    if isinstance(since, timedelta):
        assert timedelta(0) < since <= MAX_SPAN
    else:
        assert since.tzinfo is timezone.utc and EARLIEST <= since < LATEST
    window = Window.before(end.replace(tzinfo=timezone.utc), since)  # no overflow at either end of the era
    assert window.start.tzinfo is not None


# ---- waivers.toml, inventory.toml ----------------------------------------------------------------------------------

def _toml(value: Any) -> str:
    """A TOML value: inline tables and arrays, so any nesting fits on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, (int, date, time)):
        return value.isoformat() if isinstance(value, (date, time)) else str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


TOML_LEAVES = (st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | st.dates() | st.times()
               | st.datetimes() | st.datetimes(timezones=_OFFSETS))
TOML_VALUES = st.recursive(TOML_LEAVES, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                           max_leaves=8)


def _entries(keys: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Tables with mostly the expected keys (so that parsing gets deep) holding arbitrary TOML values."""
    return st.lists(st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), TOML_VALUES, max_size=len(keys) + 1), max_size=3)


def _document(tables: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {_toml(value)}\n" for key, value in tables.items())


@BOUNDED
@given(st.dictionaries(st.sampled_from(["waiver"]) | st.text(max_size=6),
                       _entries(["host", "check", "justification", "expires", "fingerprint"]) | TOML_VALUES, max_size=2))
def test_any_waivers_file_is_loaded_or_a_casgate_error(scratch: Path, doc: dict[str, Any]) -> None:
    path = scratch / "waivers.toml"
    path.write_text(_document(doc), encoding="utf-8")
    try:
        book = load_waivers(path, date(2026, 11, 20))
    except WaiverFileError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    entries = doc.get("waiver", [])
    malformed = [p for p in book.problems if "malformed, not applied" in p]
    assert len(book.waivers) + len(malformed) == len(entries)
    assert all(type(w.expires) is date for w in book.waivers)


@BOUNDED
@given(st.dictionaries(st.sampled_from(["hosts"]) | st.text(max_size=6),
                       st.dictionaries(st.sampled_from(["hq01", "../x", "a b"]) | st.text(max_size=6),
                                       st.dictionaries(st.sampled_from(["fqdn", "address", "connection", "dns_servers",
                                                                        "https_port", "shoreline_data"]) | st.text(max_size=6),
                                                       TOML_VALUES, max_size=7), max_size=2) | TOML_VALUES, max_size=2))
def test_any_inventory_is_loaded_or_an_inventory_error(scratch: Path, doc: dict[str, Any]) -> None:
    path = scratch / "inventory.toml"
    path.write_text(_document(doc), encoding="utf-8")
    try:
        hosts = load_inventory(path)
    except InventoryError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    assert all(isinstance(h.https_port, int) and "@" not in h.connection for h in hosts.values())


# ---- baselines -----------------------------------------------------------------------------------------------------

ROW = {"host_id": "hq01", "check_id": "test_tls10_enabled", "outcome": "fail", "facts": {"k": "v", "l": ["a"]}, "fingerprint": ""}


@BOUNDED
@given(st.one_of(_mutated({"results": [ROW, {**ROW, "check_id": "test_b"}]}), JSON_VALUES))
def test_any_baseline_is_loaded_or_a_baseline_error(scratch: Path, doc: Any) -> None:
    path = scratch / "baseline.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    try:
        rows = load_baseline(path, scratch, "24h")
    except BaselineError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    for (host, check), row in rows.items():
        assert isinstance(host, str) and isinstance(check, str) and row["outcome"] in {"pass", "fail", "warn", "waived", "skip", "error"}
        assert isinstance(row["facts"], dict) and isinstance(row["fingerprint"], str)
