"""Compare a run with the JSON of an earlier one (before an upgrade): per host x check, newly failing, fixed,
still failing or unchanged, and for evidence that changed, what changed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from casgate.errors import CasgateError, EvidenceError
from casgate.evidence import read_json, required
from casgate.verdict import Outcome

NEW_FAILURE, FIXED, STILL_FAILING, UNCHANGED, NEW_CHECK = "newly failing", "fixed", "still failing", "unchanged", "new"
_BAD = {"fail", "error"}


class BaselineError(CasgateError):
    """The baseline is not a casgate JSON result; a usage error."""


def load_baseline(path: Path, rootdir: Path, since: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(host id, check id) -> that result in the baseline run; the host id is the manifest's host name.
    `path` is a --json result, or a snapshot taken before the upgrade: the same checks are then run on it."""
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise BaselineError(f"{path}: neither a --json result nor a snapshot folder (no manifest.json)")
        with tempfile.TemporaryDirectory(prefix="casgate-baseline-") as work:
            return load_baseline(_result_of_snapshot(path.resolve(), rootdir, since, Path(work)), rootdir, since)
    if not path.exists():
        raise BaselineError(f"{path}: baseline file not found")
    label = str(path)
    try:
        results = required(read_json(path, label), "results", list, label)
        rows = [_row(row, f"results[{index}]", label) for index, row in enumerate(results)]
    except EvidenceError as exc:
        raise BaselineError(f"{exc} (not a casgate --json result)") from None
    return {(row["host_id"], row["check_id"]): row for row in rows}


def _row(row: Any, where: str, label: str) -> dict[str, Any]:
    """One result row with the fields the comparison reads, each of its documented type (docs/result.schema.json)."""
    for key in ("host_id", "check_id", "fingerprint"):
        required(row, key, str, label, where)
    outcome = required(row, "outcome", str, label, where)
    if outcome not in {o.value for o in Outcome}:
        raise EvidenceError(label, f"field '{where}.outcome' should be one of {', '.join(o.value for o in Outcome)}, "
                                   f"got {outcome[:40]!r}")
    for key, value in required(row, "facts", dict, label, where).items():
        if not isinstance(value, str) and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise EvidenceError(label, f"field '{where}.facts.{key[:40]}' should be a string or a list of strings")
    return row


def _result_of_snapshot(snapshot: Path, rootdir: Path, since: str, work: Path) -> Path:
    """Run this suite on the baseline snapshot in a child pytest and return its --json result."""
    result = work / "baseline.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--snapshots={snapshot.parent}",
               "--host", snapshot.name, f"--since={since}", f"--json={result}", f"--html={work / 'baseline.html'}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CASGATE_"))}
    done = subprocess.run(command, cwd=rootdir, env=env, capture_output=True, text=True, timeout=600, check=False)
    if not result.is_file():
        raise BaselineError(f"{snapshot}: the checks could not be run on this baseline snapshot: {done.stdout[-300:]}")
    return result


def change(before: dict[str, Any] | None, outcome: str) -> str:
    if before is None:
        return NEW_CHECK if outcome not in _BAD else NEW_FAILURE
    was_bad, is_bad = before["outcome"] in _BAD, outcome in _BAD
    if is_bad and not was_bad:
        return NEW_FAILURE
    if was_bad and not is_bad:
        return FIXED
    return STILL_FAILING if is_bad else UNCHANGED


def _show(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def fact_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human lines for facts that differ: 'TLS 1.0 Server Enabled: 1 -> 0', 'not self-signed in Root: +CN=...'."""
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, list) or isinstance(new, list):
            added = [v for v in (new or []) if v not in (old or [])]
            removed = [v for v in (old or []) if v not in (new or [])]
            lines.append(f"{key}: " + "; ".join([f"+{v}" for v in added] + [f"-{v}" for v in removed]))
        else:
            lines.append(f"{key}: {_show(old) if old is not None else '(none)'} -> {_show(new) if new is not None else '(none)'}")
    return lines
