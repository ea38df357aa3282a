"""Compare a run with the JSON of an earlier one (before an upgrade): per host x check, newly failing, fixed,
still failing or unchanged, and for evidence that changed, what changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from casgate.errors import CasgateError

NEW_FAILURE, FIXED, STILL_FAILING, UNCHANGED, NEW_CHECK = "newly failing", "fixed", "still failing", "unchanged", "new"
_BAD = {"fail", "error"}


class BaselineError(CasgateError):
    """The baseline is not a casgate JSON result; a usage error."""


def load_baseline(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(host id, check id) -> that result in the baseline run; the host id is the manifest's host name."""
    if path.is_dir():
        raise BaselineError(f"{path}: --baseline takes the --json result of the run before the upgrade, not a folder")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {(r["host_id"], r["check_id"]): r for r in doc["results"]}
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"{path}: not a casgate --json result ({type(exc).__name__}: {exc})") from None


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
