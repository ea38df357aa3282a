"""casgate as one command, from any folder: `casgate check hq01` runs the bundled checks through pytest.main with
an explicit root folder and configuration, so the working folder is never searched and never holds a cache."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from casgate import __version__

USAGE_ERROR = 2
"""The exit status of a usage or configuration error, in every casgate command."""
NOT_JUDGED = 3
"""The exit status when nothing could be judged (here: the command was interrupted)."""


class Parser(argparse.ArgumentParser):
    """The command line of every casgate command: a usage error is one line, as every other casgate error is, exit 2
    (argparse's own prints its usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"casgate usage error: {message}\n")

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def checks_folder() -> Path:
    """The checks (tests_infra/ in a checkout; casgate/suite/ in an installed wheel): one copy, two places."""
    return _CHECKOUT / "tests_infra" if (_CHECKOUT / "tests_infra").is_dir() else _PACKAGE / "suite"


def bundled_snapshots() -> Path:
    """The bundled example snapshots (hq01 and the upgrade pair)."""
    return _CHECKOUT / "snapshots" if (_CHECKOUT / "tests_infra").is_dir() else _PACKAGE / "bundled"


def _check_args(args: argparse.Namespace, passthrough: list[str]) -> list[str]:
    """pytest's arguments for `casgate check`: every path explicit, every value written with '='."""
    checks = checks_folder()
    snapshots = getattr(args, "snapshots", None)
    # -rN: no short test summary (its ids are paths from the working folder: ../../lib/python3.x/site-packages/...);
    # casgate's last screen says what failed. `-- -rfE` brings it back.
    argv = [str(checks), f"--rootdir={checks}", f"--config-file={_PACKAGE / 'gate.ini'}", "-p", "no:cacheprovider", "-rN",
            f"--snapshots={Path(snapshots).resolve() if snapshots else bundled_snapshots()}"]
    argv += [f"--host={host}" for host in args.hosts]
    for option in ("inventory", "cause", "since", "json", "html", "record", "baseline", "waivers", "gate"):
        value = getattr(args, option, None)  # `casgate collect` has only some of them
        if value is not None:
            dest = {"json": "--json", "gate": "--gate"}.get(option, f"--{option}")
            if option == "baseline" and not Path(value).exists() and (bundled_snapshots() / value / "manifest.json").is_file():
                value = bundled_snapshots() / value  # a bundled snapshot by name, as --host takes it
            argv.append(f"{dest}={Path(value).resolve() if option in _PATHS else value}")
    argv += [flag for flag in ("--live", "--replay", "--strict", "--record-only") if getattr(args, flag[2:].replace("-", "_"), False)]
    if getattr(args, "workers", None):
        argv += ["-n", args.workers]  # xdist's own `load`: consecutive chunks, so a host's checks mostly share a worker
    return argv + passthrough


_PATHS = {"inventory", "json", "html", "record", "baseline", "waivers"}


def _check(args: argparse.Namespace, passthrough: list[str]) -> int:
    import importlib.util

    import pytest

    if getattr(args, "workers", None) and importlib.util.find_spec("xdist") is None:
        print("casgate usage error: -n needs pytest-xdist, which this install lacks: pip install pytest-xdist", file=sys.stderr)
        return USAGE_ERROR

    return int(pytest.main(_check_args(args, passthrough)))


def _merge(args: argparse.Namespace, _: list[str]) -> int:
    from casgate.errors import CasgateError
    from casgate.merge import merged, merged_html, read_shard
    from casgate.results import cannot_write, json_text, write_whole

    outputs = [("--json", args.json_out), ("--html", args.html_out)]
    for option, path in outputs:  # before any shard is read: nothing written, and never half of it
        problem = cannot_write(path.resolve()) if path else None
        if problem:
            print(f"casgate usage error: {option} {path}: {problem}", file=sys.stderr)
            return USAGE_ERROR
    try:
        shards = [read_shard(path) for path in args.results]
        verdict, document, rows = merged(shards)
        texts = {"--json": json_text(document)}
        if args.html_out:
            texts["--html"] = merged_html(verdict, document, rows, shards)
    except CasgateError as exc:
        print(f"casgate usage error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    for option, path in outputs:
        if path:
            try:
                write_whole(path, texts[option], fresh=False)
            except OSError as exc:  # checked above; a disk that filled up since
                print(f"casgate usage error: {option} {path}: could not be written: {exc.strerror or exc}", file=sys.stderr)
                return USAGE_ERROR
    print(verdict.headline)
    return verdict.exit_code


def _hosts(args: argparse.Namespace, _: list[str]) -> int:
    from casgate.errors import CasgateError
    from casgate.inventory import load_inventory
    from casgate.plugin import known_hosts

    root = Path(args.snapshots).resolve() if args.snapshots else bundled_snapshots()
    if not root.is_dir():
        print(f"casgate usage error: --snapshots {args.snapshots}: not a folder", file=sys.stderr)
        return USAGE_ERROR
    print(f"snapshots in {root}: {', '.join(known_hosts(root)) or 'none'}")
    inventory = Path(args.inventory or "inventory.toml")
    if inventory.is_file() or args.inventory:
        try:
            print(f"live hosts in {inventory}: {', '.join(sorted(load_inventory(inventory))) or 'none'}")
        except CasgateError as exc:
            print(f"casgate usage error: {exc}", file=sys.stderr)
            return USAGE_ERROR
    return 0


def _delegate(module: str, argv: list[str]) -> int:
    """`casgate logs …` and `casgate scenarios …` are the modules' own commands."""
    import importlib

    return int(importlib.import_module(module).main(argv))


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="casgate", description="Why do the IP400 phones say 'Failed to Connect to Server'? "
                                             "A compliance gate for Mitel Connect HQ servers (CAS, KB causes 1a-4).")
    top.add_argument("--version", action="version", version=f"casgate {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="run the gate on hosts (snapshots or live); pytest options after --",
                                description="Run the checks on each HOST. Exit 0 pass, 1 finding, 2 usage, 3 not judged.")
    check.add_argument("hosts", nargs="+", metavar="HOST", help="snapshot names, snapshot folders, or inventory hosts")
    where = check.add_argument_group("evidence")
    where.add_argument("--snapshots", metavar="DIR", help="folder of snapshots (default: the bundled examples)")
    where.add_argument("--inventory", metavar="FILE", help="live hosts (default: inventory.toml here, if any)")
    where.add_argument("--live", action="store_true", help="a host both in the inventory and in --snapshots is checked live")
    where.add_argument("--replay", action="store_true", help="... or replayed from its snapshot")
    where.add_argument("--record", metavar="DIR", help="keep each live host's evidence as DIR/HOST")
    what = check.add_argument_group("what and how")
    what.add_argument("--cause", metavar="IDS", help="only these causes, e.g. 1a,2")
    what.add_argument("--since", metavar="WHEN", help="log window: 24h, 7d, or a start date (default 24h)")
    what.add_argument("--strict", action="store_true", help="warnings fail too")
    what.add_argument("-n", dest="workers", metavar="N", help="hosts spread over N worker processes (pytest-xdist), or auto")
    gate = check.add_argument_group("results")
    gate.add_argument("--json", metavar="PATH", help="results as JSON")
    gate.add_argument("--html", metavar="PATH", help="the report (default: reports/casgate-<UTC>.html here)")
    gate.add_argument("--baseline", metavar="RESULT.json|SNAPSHOT", help="compare with a run before the upgrade")
    gate.add_argument("--gate", choices=("all", "new-failures"), help="what fails the gate (default: every failure)")
    gate.add_argument("--waivers", metavar="FILE", help="accepted failures with justification and expiry")
    check.set_defaults(run=_check)

    collect = commands.add_parser("collect", help="collect live hosts into snapshots (no check runs)",
                                  description="Collect each inventory HOST live into OUT/HOST, read-only, and say where each went; "
                                              "no check runs (casgate check HOST --snapshots OUT judges them). Exit 0 all collected, "
                                              "2 usage, 3 some evidence not collected.")
    collect.add_argument("hosts", nargs="+", metavar="HOST", help="inventory hosts")
    collect.add_argument("--out", dest="record", required=True, metavar="DIR", help="where the snapshots go (OUT/HOST)")
    collect.add_argument("--inventory", metavar="FILE", help="live hosts (default: inventory.toml here)")
    collect.add_argument("--since", metavar="WHEN", help="IIS log window to collect: 24h, 7d, or a start date (default 24h)")
    collect.set_defaults(run=_check, live=True, record_only=True)

    merge = commands.add_parser("merge", help="join the --json results of shards (--shard I/N) into one result and report",
                                description="Join the --json results of shards (casgate check ... -- --shard I/N) into one result, "
                                            "one gate verdict and one report, as if one run had checked every host. Both outputs "
                                            "are checked before anything is written. Exit 0 pass, 1 finding, 2 usage (a shard not "
                                            "readable, not a casgate result, or overlapping another; an output not writable), 3 "
                                            "not judged.")
    merge.add_argument("results", nargs="+", type=Path, metavar="RESULT.json", help="the --json of each shard")
    merge.add_argument("--json", dest="json_out", required=True, type=Path, metavar="PATH", help="where the merged result goes")
    merge.add_argument("--html", dest="html_out", type=Path, metavar="PATH", help="where the merged report goes (none without it)")
    merge.set_defaults(run=_merge)

    hosts = commands.add_parser("hosts", help="list the known snapshots and inventory hosts",
                                description="List the snapshots and the inventory's live hosts that `casgate check` takes by name.")
    hosts.add_argument("--snapshots", metavar="DIR", help="folder of snapshots (default: the bundled examples)")
    hosts.add_argument("--inventory", metavar="FILE", help="live hosts (default: inventory.toml here, if any)")
    hosts.set_defaults(run=_hosts)
    commands.add_parser("logs", help="attribute IIS and phone log lines to causes (casgate logs --help)", add_help=False)
    commands.add_parser("scenarios", help="craft a healthy snapshot and one per cause (casgate scenarios --help)", add_help=False)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """casgate's command line; a Ctrl-C that pytest does not handle itself (merge, logs, scenarios) ends in one line,
    exit 3: nothing was judged."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("casgate: interrupted (Ctrl-C); nothing judged", file=sys.stderr)
        return NOT_JUDGED


def _main(argv: list[str]) -> int:
    if argv[:1] in (["logs"], ["scenarios"]):
        return _delegate("casgate.logs.__main__" if argv[0] == "logs" else "casgate.scenarios", argv[1:])
    passthrough = argv[argv.index("--") + 1:] if "--" in argv else []
    ours = argv[:argv.index("--")] if "--" in argv else argv
    top = parser()
    args, unknown = top.parse_known_args(ours)
    if unknown:
        hint = (f"; pytest's options go after --: casgate {args.command} ... -- {' '.join(unknown)}"
                if args.command in ("check", "collect") and unknown[0].startswith("-") else "")
        top.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    return args.run(args, passthrough)
