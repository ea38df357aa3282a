"""casgate logs FILES_OR_FOLDERS [--since 24h] [--until TIME] [--json] (or python -m casgate.logs)

Attributes the IIS and phone log lines of a bundle to the KB's causes, without any other evidence: for the
administrator who only has logs (a phone-log bundle a customer emailed, a folder of u_ex*.log)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from casgate.cli import Parser
from casgate.errors import CasgateError
from casgate.logs._search import BACKEND
from casgate.logs.attribution import Attribution, Finding, describe_history, when_text
from casgate.sanitize import one_line


def _table(findings: list[Finding]) -> list[str]:
    """Findings as columns, then their sample lines; log text is the sender's, so each cell and line is one_line'd."""
    if not findings:
        return ["no symptom lines found"]
    rows: list[tuple[str, ...]] = [("cause", "phone", "count", "first", "last", "symptom")]
    for f in sorted(findings, key=lambda f: (f.cause, f.phone, f.symptom)):
        rows.append(tuple(one_line(cell) for cell in (f.cause, f.phone, str(f.count), when_text(f.first), when_text(f.last), f.symptom)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [one_line("  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths)) + "  " + row[5]) for row in rows]
    for f in findings:
        lines += [one_line(f"  {sample}") for sample in f.samples]
    return lines


def _attribution(paths: list[Path], start: datetime | None) -> Attribution:
    """Every file under `paths` attributed, lines before `start` as history."""
    attribution = Attribution(window_start=start)
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            attribution.add_any(file.as_posix(), file)  # IIS or phone log by content, not by name
    return attribution


def _newest(attribution: Attribution) -> datetime | None:
    """The newest dated symptom line: what a window counts back from when loose logs carry no collection time."""
    return max((f.last for f in attribution.findings() if f.last is not None), default=None)


def parser() -> Parser:
    """`casgate logs`' command line."""
    command = Parser(prog="casgate logs", description=__doc__.split("\n\n")[1] + " Exit 0 no symptom line, 1 symptom lines "
                     "found, 2 usage, 3 a file or line could not be read (so 'no symptom' cannot be concluded).")
    command.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log files, .gz/.zip archives, or folders of them")
    command.add_argument("--since", metavar="WHEN", help="only lines from this long before the window's end (24h, 7d), or since "
                                                         "this date or time (2026-11-20), count; older ones are history")
    command.add_argument("--until", metavar="TIME", help="with --since: the time it counts back from, ISO 8601 UTC (default: the "
                                                         "newest dated symptom line, as loose logs carry no collection time); "
                                                         "later lines still count")
    command.add_argument("--json", action="store_true", help="print the findings as JSON")
    return command


def main(argv: list[str] | None = None) -> int:
    command = parser()
    args = command.parse_args(argv)
    for path in args.paths:
        if not path.exists():
            command.error(f"{path}: no such file or folder")
        if not (path.is_file() or path.is_dir()):  # a pipe or a device would be read forever, or block before a line
            command.error(f"{path}: not a file or folder of logs (a pipe, socket or device is not read)")
    if args.until and not args.since:  # without a window every line counts: an --until alone would be silently ignored
        command.error("--until is the time --since counts back from: give --since too, e.g. --since 7d --until 2026-11-20T06:00:00Z")
    until = None
    if args.until:
        try:
            given = datetime.fromisoformat(args.until.replace("Z", "+00:00"))
            until = given if given.tzinfo else given.replace(tzinfo=timezone.utc)
        except ValueError:
            command.error(f"--since/--until: --until {args.until[:40]!r} is not an ISO 8601 time such as 2026-11-20T06:00:00Z")
    window = ""
    if not args.since:
        attribution = _attribution(args.paths, None)
    else:
        from casgate.window import Window, parse_since, refuse_after

        try:
            since = parse_since(args.since)
            if until is not None:
                end = "the window's end, --until"
            else:
                newest = _newest(_attribution(args.paths, None))  # a first pass: where the logs end
                until = newest or datetime.now(timezone.utc)
                end = "the newest dated symptom line in the logs, at" if newest else "now (no dated symptom line in the logs),"
            shown = Window.before(until, since)
            refuse_after(shown.start, until, end)
            refuse_after(shown.start, datetime.now(timezone.utc), "now,")
        except (CasgateError, OverflowError) as exc:
            command.error(f"--since/--until: {exc}".replace("--since/--until: --since", "--since"))
        window = f"window {shown.describe()}, ending at " + (
            "--until" if args.until else f"{end.removesuffix(', at').removesuffix(',')}: loose logs carry no collection time "
            "(--until sets the end)")
        attribution = _attribution(args.paths, shown.start)
    findings, history, problems = attribution.findings(), attribution.history_findings(), attribution.problems()
    if args.json:
        import json

        json.dump({"backend": BACKEND, "window": window or None, "files": attribution.files, "findings": [f.as_dict() for f in findings],
                   "history": [f.as_dict() for f in history], "not_judged": problems, "partial": attribution.partial},
                  sys.stdout, indent=2)
        print()
    else:
        print("\n".join(_table(findings)))
        notes = describe_history(history) + [f"not judged: {p}" for p in problems] + [f"noted: {p}" for p in attribution.partial]
        print("\n".join(one_line(line) for line in notes))
        print(f"({attribution.files} file(s) scanned with the {BACKEND} search{'; ' + window if window else ''})")
    if findings:
        return 1
    if problems:
        print(f"NOT JUDGED: {len(problems)} file(s) or line(s) could not be read; 'no symptom' cannot be concluded", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
