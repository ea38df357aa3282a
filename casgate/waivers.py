"""Waivers (waivers.toml): an accepted failure on a host, with a justification and an expiry date, optionally
pinned to the evidence it was granted for. A waiver lapses on expiry or when that evidence changes."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from casgate.errors import CasgateError
from casgate.tomlfile import read_toml

_KEYS = {"host", "check", "justification", "expires", "fingerprint"}
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


class WaiverFileError(CasgateError):
    """The waivers file cannot be read at all; a usage error."""


class WaiverError(CasgateError):
    """One [[waiver]] entry is malformed: it is listed in every report and never applied."""


CAUSE_PREFIX = "cause:"
# A waiver for cause 1a or 1b also covers the cause-1 check: IIS's certauth 403.16 is their symptom, one incident.
_SYMPTOMS = {"1a": {"1a", "1"}, "1b": {"1b", "1"}}


@dataclass(frozen=True)
class Waiver:
    host: str  # a host name or "*"
    check: str  # the check's function name (test_trust_mode_workaround_absent), or a cause: "cause:1a"
    justification: str
    expires: date
    fingerprint: str | None

    def covers(self, host: str, check: str, cause: str) -> bool:
        if self.host not in ("*", host) and self.host.lower() != host.lower():
            return False
        if self.check.startswith(CAUSE_PREFIX):
            waived = self.check.removeprefix(CAUSE_PREFIX)
            return cause in _SYMPTOMS.get(waived, {waived})
        return self.check == check

    def describe(self) -> str:
        pinned = f", evidence {self.fingerprint}" if self.fingerprint else ""
        return f"{self.host}/{self.check} until {self.expires}{pinned}: {self.justification}"


@dataclass(frozen=True)
class WaiverBook:
    """The usable waivers, and why the others are not applied (reported in every report, never silently)."""

    waivers: tuple[Waiver, ...]
    problems: tuple[str, ...]

    def decide(self, host: str, check: str, cause: str, fingerprint: str, today: date) -> tuple[Waiver | None, str | None]:
        """The waiver that applies, or None and (when one nearly did) why it lapsed."""
        lapsed = None
        for waiver in self.waivers:
            if not waiver.covers(host, check, cause):
                continue
            if waiver.expires < today:
                lapsed = f"waiver expired on {waiver.expires}: {waiver.justification}"
            elif waiver.fingerprint and waiver.fingerprint != fingerprint:
                lapsed = f"waiver was granted for evidence {waiver.fingerprint}, the evidence is now {fingerprint}"
            else:
                return waiver, None
        return None, lapsed


def parse_waiver(raw: object, where: str) -> Waiver:
    """One [[waiver]] table; `where` names the entry ("waivers.toml waiver #2") in the WaiverError."""

    def malformed(problem: str) -> WaiverError:
        return WaiverError(f"{where}: malformed, not applied: {problem}")

    if not isinstance(raw, dict):
        raise malformed("should be a [[waiver]] table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise malformed(f"unknown key(s) {', '.join(sorted(unknown))[:200]}")
    for key in ("host", "check", "justification"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise malformed(f"needs {key} = \"...\"")
    expires = raw.get("expires")
    if isinstance(expires, datetime):  # a TOML date-time: whose midnight, in which zone, is ambiguous
        raise malformed(f"expires = {expires.isoformat()} is a date-time; write the day alone: expires = {expires.date()}")
    if not isinstance(expires, date):
        raise malformed("needs expires = YYYY-MM-DD (a TOML date, no quotes)")
    fingerprint = raw.get("fingerprint")
    if fingerprint is not None and not (isinstance(fingerprint, str) and _FINGERPRINT.fullmatch(fingerprint)):
        raise malformed("fingerprint should be the 16 lower-case hex digits of a result's \"fingerprint\" in --json")
    return Waiver(raw["host"], raw["check"], raw["justification"].strip(), expires, fingerprint)


def unmatched(waivers: Iterable[Waiver], checks: Iterable[tuple[str, str, str]]) -> list[str]:
    """A problem line for each waiver that covers none of this run's (host, check, cause), with the closest names:
    a misspelt check or host must never pass unnoticed as "no failure waived"."""
    seen = list(checks)
    hosts, names = sorted({h for h, _, _ in seen}), sorted({c for _, c, _ in seen} | {CAUSE_PREFIX + k for _, _, k in seen})
    problems = []
    for waiver in waivers:
        if any(waiver.covers(host, check, cause) for host, check, cause in seen):
            continue
        hints = [f"{what} {given!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(given, known, n=1)) else "")
                 for what, given, known in (("host", waiver.host, hosts), ("check", waiver.check, names))
                 if given not in ("*", *known) and given.lower() not in {k.lower() for k in known}]
        problems.append(f"waiver {waiver.host}/{waiver.check} matches no check of this run: {'; '.join(hints) or 'no such host and check together'}")
    return problems


def load_waivers(path: Path, today: date) -> WaiverBook:
    """The waivers in `path`; an unreadable file is a WaiverFileError, a malformed entry a problem, never applied."""
    doc = read_toml(path, "waivers", WaiverFileError)
    unknown = set(doc) - {"waiver"}
    if unknown:
        raise WaiverFileError(f"{path}: unknown key(s) {', '.join(sorted(unknown))[:200]}; write each waiver as a [[waiver]] table")
    entries = doc.get("waiver", [])
    if not isinstance(entries, list):
        raise WaiverFileError(f"{path}: write each waiver as a [[waiver]] table")
    waivers, problems = [], []
    for index, raw in enumerate(entries, start=1):
        where = f"{path.name} waiver #{index}"
        try:
            waiver = parse_waiver(raw, where)
        except WaiverError as exc:
            problems.append(str(exc))
            continue
        if waiver.expires < today:
            problems.append(f"{where}: expired on {waiver.expires}, not applied: {waiver.describe()}")
        waivers.append(waiver)
    return WaiverBook(tuple(waivers), tuple(problems))
