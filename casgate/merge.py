"""casgate merge: the --json results of several runs (CI matrix shards, `--shard I/N`) joined into one result, one
gate verdict and one report, as if one run had checked every host."""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from casgate.errors import CasgateError, EvidenceError
from casgate.evidence import optional, read_json, required, strings
from casgate.render import Provenance, report_html
from casgate.results import SCHEMA, GateVerdict, decide, result_document
from casgate.verdict import Cause, Outcome, Row, report_order


@dataclass(frozen=True)
class Shard:
    """One run's --json document, read back."""

    path: Path
    doc: dict[str, Any]
    rows: tuple[Row, ...]


_MODES = ("all", "new-failures")
_CHANGES = (None, "newly failing", "fixed", "still failing", "unchanged", "new")
_ROW_STRINGS = ("host", "host_id", "check", "check_id", "nodeid", "summary", "remediation", "fingerprint")
_CAUSES = tuple(c.value for c in Cause)
_OUTCOMES = tuple(o.value for o in Outcome)


def read_shard(path: Path) -> Shard:
    """A --json result, each field merge reads of its documented type (docs/result.schema.json); anything else is a
    CasgateError naming the file and the field."""
    label = str(path)
    try:
        doc = read_json(path, label)
        if required(doc, "schema", str, label) != SCHEMA:
            raise EvidenceError(label, f"field 'schema' should be {SCHEMA!r}")
        gate = required(doc, "gate", dict, label)
        _one_of(required(gate, "mode", str, label, "gate"), _MODES, "gate.mode", label)
        _one_of(required(gate, "state", str, label, "gate"), ("PASSED", "FAILED", "INCOMPLETE"), "gate.state", label)
        for key in ("verdict", "selection"):
            required(gate, key, str, label, "gate")
        required(gate, "selected", int, label, "gate")
        for key in ("started", "casgate_version"):
            required(doc, key, str, label)
        _seconds(required(doc, "duration_s", (int, float), label), "duration_s", label)
        optional(doc, "baseline", str, label)
        strings(doc, "waiver_problems", label)
        for index, host in enumerate(required(doc, "hosts", list, label)):
            for key in ("name", "host_id"):
                required(host, key, str, label, f"hosts[{index}]")
            _one_of(required(host, "source", str, label, f"hosts[{index}]"), ("live", "recorded"), f"hosts[{index}].source", label)
        rows = tuple(_row(result, f"results[{index}]", label) for index, result in enumerate(required(doc, "results", list, label)))
    except EvidenceError as exc:
        raise CasgateError(f"{exc} (not a casgate --json result)") from None
    return Shard(path, doc, rows)


def _row(result: Any, where: str, label: str) -> Row:
    """One result as the Row it was, every field of its documented type."""
    for key in _ROW_STRINGS:
        required(result, key, str, label, where)
    _one_of(required(result, "cause", str, label, where), _CAUSES, f"{where}.cause", label)
    _one_of(required(result, "outcome", str, label, where), _OUTCOMES, f"{where}.outcome", label)
    _one_of(required(result, "source", str, label, where), ("live", "recorded", ""), f"{where}.source", label)
    for key in ("change", "waiver", "waiver_lapsed"):  # required, null or a string
        if key not in result:
            raise EvidenceError(label, f"field '{where}.{key}' is missing")
        optional(result, key, str, label, where)
    _one_of(result["change"], _CHANGES, f"{where}.change", label)
    _seconds(required(result, "duration_s", (int, float), label, where), f"{where}.duration_s", label)
    strings(result, "changes", label, where)
    facts = required(result, "facts", dict, label, where)
    for key, value in facts.items():
        if not isinstance(value, str):
            strings(facts, key, label, f"{where}.facts")
    return Row.from_json(json.dumps(result))


def _one_of(value: object, allowed: Sequence[object], path: str, label: str) -> None:
    if value not in allowed:
        raise EvidenceError(label, f"field {path!r} should be one of {', '.join(str(a) for a in allowed)}, got {str(value)[:40]!r}")


def _seconds(value: float, path: str, label: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise EvidenceError(label, f"field {path!r} should be a number of seconds, got {value!r}")


def merged(shards: list[Shard]) -> tuple[GateVerdict, dict[str, Any], list[Row]]:
    """One verdict and one document over every shard's rows; a host x check in two shards is an error. A shard whose
    own run was cut short (Ctrl-C, -x) leaves the merged run incomplete, and runs on a selection (-k, --cause, some of
    the --shard slices) leave it partial: merging never makes a whole run of part of one."""
    modes = {s.doc["gate"]["mode"] for s in shards}
    if len(modes) != 1:
        raise CasgateError(f"the results were judged in different --gate modes ({', '.join(sorted(modes))}); merge runs of one mode")
    seen: dict[str, Path] = {}
    for shard in shards:
        for row in shard.rows:
            if row.nodeid in seen:
                raise CasgateError(f"{row.host} {row.check_id} is in both {seen[row.nodeid]} and {shard.path}: shards must not overlap")
            seen[row.nodeid] = shard.path
    rows = sorted((r for s in shards for r in s.rows), key=report_order)
    mode = modes.pop()
    selection = _selection(shards)
    cut = "; ".join(f"{s.path} was cut short ({s.doc['gate']['verdict'].removeprefix('GATE INCOMPLETE: ').split(': ')[0]})"
                    for s in shards if _was_cut(s, mode))
    verdict = decide(rows, mode, selection, cut, sum(s.doc["gate"]["selected"] for s in shards))
    started = min(_started(s) for s in shards)
    problems = tuple(dict.fromkeys(p for s in shards for p in s.doc["waiver_problems"]))
    document = result_document(verdict, mode, selection, rows, started, round(sum(s.doc["duration_s"] for s in shards), 3),
                               shards[0].doc.get("baseline"), [h for s in shards for h in s.doc["hosts"]], problems)
    return verdict, document, rows


def _was_cut(shard: Shard, mode: str) -> bool:
    """A shard's run ended before every check it selected ran: fewer results than it selected, or INCOMPLETE where
    its results alone would not be."""
    gate = shard.doc["gate"]
    return gate["state"] == "INCOMPLETE" and (gate["selected"] > len(shard.rows)
                                              or decide(list(shard.rows), mode, gate["selection"]).state != "INCOMPLETE")


def _selection(shards: list[Shard]) -> str:
    """What narrowed the merged run, as the shards' runs typed it: each -k, -m or --cause once, and the --shard slices
    merged unless they are every slice of N (a whole run)."""
    parts: dict[str, None] = {}
    slices: dict[str, set[str]] = {}
    for shard in shards:
        try:
            words = shlex.split(shard.doc["gate"]["selection"])
        except ValueError:
            raise CasgateError(f"{shard.path}: field 'gate.selection' is not a selection casgate wrote") from None
        for flag, value in zip(words[::2], words[1::2]):
            if flag == "--shard":
                slices.setdefault(value.partition("/")[2], set()).add(value)
            else:
                parts[f"{flag} {value!r}"] = None
    for count, taken in slices.items():
        if not count.isdigit() or taken != {f"{i}/{count}" for i in range(1, int(count) + 1)}:
            parts.update((f"--shard {value!r}", None) for value in sorted(taken))
    return " ".join(parts)


def _started(shard: Shard) -> datetime:
    try:
        return datetime.strptime(str(shard.doc.get("started")), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise CasgateError(f"{shard.path}: 'started' is not a UTC time like 2026-11-20T06:00:00Z") from None


def merged_html(verdict: GateVerdict, document: dict[str, Any], rows: list[Row], shards: list[Shard]) -> str:
    """The report of the merged run; each host's provenance is the shard result it came from."""
    origin = {r.host: str(s.path) for s in shards for r in s.rows}
    provenance = [Provenance(h["name"], f"merged from {origin.get(h['name'], '?')}", source=h.get("source", "")) for h in document["hosts"]]
    meta = {"version": document["casgate_version"], "started": document["started"],
            "command": "casgate merge " + " ".join(str(s.path) for s in shards)}
    return report_html(state=verdict.state, headline=verdict.headline, rows=rows, texts={}, provenance=provenance,
                       waiver_problems=tuple(document["waiver_problems"]), baseline=any(r.change for r in rows), meta=meta)
