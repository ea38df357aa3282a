"""casgate merge: the --json results of several runs (CI matrix shards, `--shard I/N`) joined into one result, one
gate verdict and one report, as if one run had checked every host."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from casgate.errors import CasgateError
from casgate.render import Provenance, report_html
from casgate.results import SCHEMA, GateVerdict, decide, result_document
from casgate.verdict import Row, report_order


@dataclass(frozen=True)
class Shard:
    """One run's --json document, read back."""

    path: Path
    doc: dict[str, Any]
    rows: tuple[Row, ...]


def read_shard(path: Path) -> Shard:
    """A --json result; anything else is a CasgateError naming the file (and the row)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CasgateError(f"{path}: not a readable casgate --json result ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("results"), list):
        raise CasgateError(f"{path}: not a casgate --json result (schema {SCHEMA!r} with a results list)")
    rows = []
    for index, result in enumerate(doc["results"]):
        try:
            rows.append(Row.from_json(json.dumps(result)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CasgateError(f"{path}: results[{index}] is not a casgate result row ({type(exc).__name__}: {exc})") from None
    return Shard(path, doc, tuple(rows))


def merged(shards: list[Shard]) -> tuple[GateVerdict, dict[str, Any], list[Row]]:
    """One verdict and one document over every shard's rows; a host × check in two shards is an error."""
    modes = {s.doc.get("gate", {}).get("mode", "all") for s in shards}
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
    verdict = decide(rows, mode)
    started = min(_started(s) for s in shards)
    problems = tuple(dict.fromkeys(p for s in shards for p in s.doc.get("waiver_problems", [])))
    document = result_document(verdict, mode, "", rows, started, round(sum(float(s.doc.get("duration_s", 0)) for s in shards), 3),
                               shards[0].doc.get("baseline"), [h for s in shards for h in s.doc.get("hosts", [])], problems)
    return verdict, document, rows


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
