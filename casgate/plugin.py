"""The pytest plugin: host selection, evidence fixtures, verdict enforcement, and the matrix in every report."""

from __future__ import annotations

import difflib
import gc
import json
import os
import shlex
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from casgate.baseline import load_baseline
from casgate.certs import Certificate, Store
from casgate.cli import bundled_snapshots
from casgate.checks.iis_log import scan_certauth
from casgate.checks.root_store import root_cause_hint
from casgate.errors import CasgateError, NotCollected
from casgate.evidence import AccessPolicy, Binding, ClockReading, DnsProbe, HttpsProbe, Manifest, TlsProbe
from casgate.httpsys import ServerStores
from casgate.inventory import InventoryHost, check_host_name, load_inventory
from casgate.logs.attribution import Attribution
from casgate.profile import phone_profile
from casgate.regfile import RegistryView
from casgate.render import HOSTS_UNFOLDED, verdict_text
from casgate.sanitize import LINE_LIMIT, one_line
from casgate.results import EXIT_NOT_COLLECTED, EXIT_PASSED, EXIT_USAGE, RESULT_PROPERTY, ResultBook, cannot_write, row_of
from casgate.snapshot import TLS_PROBE, LogFile, Snapshot, is_snapshot
from casgate.verdict import Cause, Outcome, Row, Verdict, finding_title
from casgate.waivers import Waiver, WaiverBook, load_waivers
from casgate.window import Window, parse_since, refuse_after, window_start

if TYPE_CHECKING:
    from casgate.live import LiveOptions  # live only: the transport and probe libraries load with it

_HOSTS = pytest.StashKey[list["HostTarget"]]()
_VERDICT = pytest.StashKey[Verdict]()
_WAIVER = pytest.StashKey[tuple["Waiver | None", "str | None"]]()
_WAIVERS = pytest.StashKey[WaiverBook]()
_CAUSE = pytest.StashKey[tuple[Cause, str]]()
_PYTEST_OUTCOMES = (pytest.fail.Exception, pytest.skip.Exception, pytest.exit.Exception, KeyboardInterrupt)
_COLLECT_WAIT = 900.0  # seconds a worker waits for another one collecting the same live host


@dataclass(frozen=True)
class HostTarget:
    """A host selected with --host: a recorded snapshot folder, or a live inventory entry."""

    name: str
    identity: str  # the host the evidence is of: a snapshot's manifest host, so hq01-before and hq01-after are hq01
    snapshot: Path | None = None
    live: InventoryHost | None = None
    note: str = ""  # said at the start of the run, e.g. which of two same-named sources is used


def _manifest_host(folder: Path, default: str) -> str:
    """The `host` a snapshot's manifest names (a plain host name, or a usage error); an unreadable manifest is
    the checks' business, not this lookup's."""
    try:
        doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return default
    host = doc.get("host") if isinstance(doc, dict) else None
    return check_host_name(host, f"{folder / 'manifest.json'}: host") if isinstance(host, str) else default


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("casgate", "casgate: Mitel Connect HQ CAS compliance")
    group.addoption("--host", action="append", default=[], metavar="NAME",
                    help="host to check (repeatable); resolves to the snapshot folder <snapshots>/NAME")
    group.addoption("--snapshots", default=None, metavar="DIR",
                    help="folder of recorded snapshots (default: snapshots/ beside pytest.ini)")
    group.addoption("--since", default="24h", metavar="DURATION|START",
                    help="log lines older than this before the collection time (24h, 7d), or before this date or time "
                         "(2026-11-20, 2026-11-20T06:00:00Z), are history, not failures (default 24h)")
    group.addoption("--json", dest="casgate_json", default=None, metavar="PATH",
                    help="also write the per host x check results as JSON")
    group.addoption("--inventory", default=None, metavar="FILE",
                    help="live hosts and how to reach them (default: inventory.toml in the working directory, if any)")
    group.addoption("--live", action="store_true", help="a host both in the inventory and in --snapshots is checked live")
    group.addoption("--replay", action="store_true", help="a host both in the inventory and in --snapshots is replayed (the default)")
    group.addoption("--record", default=None, metavar="DIR", help="save each live host's evidence as the snapshot DIR/NAME")
    group.addoption("--record-only", action="store_true",
                    help="collect each live host into --record DIR/NAME and judge nothing (what `casgate collect` runs)")
    group.addoption("--baseline", default=None, metavar="RESULT.json|SNAPSHOT",
                    help="compare with an earlier run: its --json result, or a snapshot taken before the upgrade")
    group.addoption("--gate", dest="gate_mode", choices=("all", "new-failures"), default="all",
                    help="what fails the gate: every failure (default), or only failures new against --baseline")
    group.addoption("--waivers", default=None, metavar="FILE", help="accepted failures with justification and expiry (TOML)")
    group.addoption("--cause", default="", metavar="IDS",
                    help="run only the checks of these causes, e.g. 1a,2 (the gate says PARTIAL and names the rest)")
    group.addoption("--shard", default="", metavar="I/N",
                    help="check only every N-th host of the sorted host list, from the I-th (CI matrix jobs; casgate merge joins them)")
    group.addoption("--probe-timeout", type=float, default=3.0, metavar="SECONDS",
                    help="bound on each DNS query, TCP connect and TLS handshake from the runner (default 3)")
    parser.addini("casgate_phone_ciphers", "the phones' TLS 1.0 cipher suites (IANA names)", type="linelist", default=[])
    parser.addini("casgate_expiry_warning_days", "warn when a certificate expires within this many days of collection (default 30)",
                  default="30")
    parser.addini("casgate_clock_skew_seconds", "fail when the server's clock is more than this many seconds off the runner's "
                  "(default 300)", default="300")


def _whole_number(config: pytest.Config, name: str, unit: str, low: int, high: int) -> int:
    """An ini option that is a whole number from `low` to `high`, or a usage error naming it."""
    value = str(config.getini(name)).strip()
    if not value.isdigit() or not low <= int(value) <= high:
        usage_error(f"{name} = {value[:40]!r}: give a whole number of {unit}, {low} to {high}")
    return int(value)


def expiry_warning_days(config: pytest.Config) -> int:
    return _whole_number(config, "casgate_expiry_warning_days", "days", 0, 3650)


def clock_skew_seconds(config: pytest.Config) -> int:
    return _whole_number(config, "casgate_clock_skew_seconds", "seconds", 1, 86400)


def snapshot_root(config: pytest.Config) -> Path:
    option = config.getoption("snapshots")
    return Path(option).resolve() if option else config.rootpath / "snapshots"


def known_hosts(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if is_snapshot(p)) if root.is_dir() else []


def _inventory(config: pytest.Config) -> dict[str, InventoryHost]:
    option = config.getoption("inventory")
    path = Path(option) if option else config.invocation_params.dir / "inventory.toml"
    if not option and not path.is_file():
        return {}
    return load_inventory(path)


def _resolve_hosts(config: pytest.Config) -> list[HostTarget]:
    """Inventory names are live, other names are snapshots; a name in both is the snapshot unless --live. A value
    with a path separator is a snapshot folder. Names are plain host names, matched without regard to case."""
    root = snapshot_root(config)
    inventory = _inventory(config)
    live, replay = config.getoption("live"), config.getoption("replay")
    if live and replay:
        usage_error("--live and --replay exclude each other")
    targets = []
    for given in dict.fromkeys(config.getoption("host")):
        if "/" in given or "\\" in given:
            folder = Path(given).resolve()
            if not is_snapshot(folder):
                usage_error(f"--host {given}: no snapshot there ({folder}/manifest.json is missing)")
            name = check_host_name(folder.name, f"--host {given}")
            targets.append(HostTarget(name, _manifest_host(folder, name), snapshot=folder))
            continue
        name = _known_name(check_host_name(given, "--host"), root, inventory)
        folder = root / name
        in_inventory, recorded = name in inventory, is_snapshot(folder)
        if in_inventory and recorded and not (live or replay) and root.resolve() == bundled_snapshots().resolve():
            usage_error(f"{name} is a host in the inventory and also one of casgate's bundled demo snapshots (crafted "
                        f"evidence, not your server): --live checks the server; --host {folder} judges the demo; "
                        f"--snapshots DIR judges your own recording DIR/{name}")
        if in_inventory and (live or not recorded):
            targets.append(HostTarget(name, name, live=inventory[name]))
        elif recorded:  # a name in both is the snapshot unless --live: touching a server is never a surprise
            note = f"{name}: the snapshot {folder} (the inventory names it too: --live checks it live)" if in_inventory else ""
            targets.append(HostTarget(name, _manifest_host(folder, name), snapshot=folder, note=note))
        else:
            known = sorted(set(known_hosts(root)) | set(inventory))
            close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1)
            hint = f"; did you mean {next(k for k in known if k.lower() == close[0])!r}?" if close else ""
            usage_error(f"unknown host {name!r}: not in the inventory and no snapshot {folder}/manifest.json "
                        f"(known hosts: {_listed(known)}){hint}")
    return targets


def _listed(names: list[str], shown: int = 20) -> str:
    """Names for a message: a fleet's thousand hosts would fill the screen; `casgate hosts` lists them all."""
    more = f", and {len(names) - shown} more (casgate hosts lists them)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more if names else "none"


def shard_of(targets: list[HostTarget], shard: str) -> list[HostTarget]:
    """--shard I/N: the I-th of N slices of the hosts sorted by name (hosts I, I+N, I+2N, ...), so N CI jobs given the
    same hosts split them without overlap and `casgate merge` joins their results."""
    if not shard:
        return targets
    index, _, count = shard.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise CasgateError(f"--shard {shard!r}: write I/N with 1 <= I <= N, e.g. 2/4")
    return sorted(targets, key=lambda t: t.name)[int(index) - 1::int(count)]


def _known_name(name: str, root: Path, inventory: dict[str, InventoryHost]) -> str:
    """Host names are case-insensitive (HQ01 is hq01): the known spelling when exactly one matches."""
    if name in inventory or is_snapshot(root / name):
        return name
    same = {k for k in (*known_hosts(root), *inventory) if k.lower() == name.lower()}
    return same.pop() if len(same) == 1 else name


def usage_error(message: str) -> NoReturn:
    """Usage and inventory errors end the run with exit status 2 and one line, never a traceback."""
    pytest.exit(f"casgate usage error: {message}", returncode=EXIT_USAGE)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cause(cause, title): the KB cause a check belongs to, and what it checks")
    for cause in Cause:
        config.addinivalue_line("markers", f"cause_{cause.value}: added by casgate to every check of cause {cause.value} ({cause.headline})")
    # casgate marks every check with its host's xdist group; pytest-xdist is optional, --strict-markers is not
    config.addinivalue_line("markers", "xdist_group(name): run in the worker of this group (pytest-xdist --dist loadgroup)")
    misled = _rootdir_from_an_option_value(config)
    if misled:
        usage_error(f"pytest took the value of {misled} for a folder of tests (it picks its root folder before casgate's "
                    f"options are known, and would run the wrong tests): write {misled}=VALUE, with '='")
    today = datetime.now(timezone.utc).date()
    try:
        since = parse_since(config.getoption("since"))
        phone_profile(config.getini("casgate_phone_ciphers"))
        expiry_warning_days(config)
        clock_skew_seconds(config)
        config.stash[_HOSTS] = shard_of(_resolve_hosts(config), config.getoption("shard"))
        if isinstance(since, datetime):
            _refuse_empty_windows(config.stash[_HOSTS], since)
        waivers_path = config.getoption("waivers")
        config.stash[_WAIVERS] = load_waivers(Path(waivers_path), today) if waivers_path else WaiverBook((), ())
        baseline_path = config.getoption("baseline")
        controller = not hasattr(config, "workerinput")  # only the controller compares with the baseline
        baseline = load_baseline(Path(baseline_path), config.rootpath, config.getoption("since")) if baseline_path and controller else None
    except CasgateError as exc:
        usage_error(str(exc))
    _wanted_causes(config)
    if not config.stash[_HOSTS] and _runs_only_checks(config):
        _no_host(config)
    if len(config.stash[_HOSTS]) > HOSTS_UNFOLDED and not _tb_given(config):
        config.option.tbstyle = "no"  # a fleet: pytest's FAILURES section would be a block per failed check, see _tb_given
    if config.getoption("gate_mode") == "new-failures" and not config.getoption("baseline"):
        usage_error("--gate new-failures needs --baseline=RESULT.json (the --json of the run before the upgrade)")
    recorder = Recorder(config, config.stash[_HOSTS]) if config.getoption("record_only") else None  # only live hosts
    if controller:
        _refuse_unwritable(config)
        missing = [css for css in config.getoption("css", None) or () if not Path(os.path.expandvars(css)).expanduser().is_file()]
        if missing:
            usage_error(f"--css {missing[0]}: no such file (pytest-html's --css adds a style sheet to the report)")
    if recorder is not None:
        config.pluginmanager.register(recorder, "casgate-recorder")
        return
    given, report = config.getoption("htmlpath", None), None
    if config.stash[_HOSTS]:
        # casgate writes the report itself; pytest-html, which lends it --html, stays idle rather than build one of its
        # own report by report and keep every test report of the run in memory
        config.option.htmlpath = None
        if controller:
            report = Path(given) if given else _default_report(config)
            problem = cannot_write(report.parent, folder=True) if not given else cannot_write(report)
            if problem:
                usage_error(f"the report {report}: {problem}" + ("" if given else "; --html PATH puts it elsewhere"))
    hosts = [{"name": h.name, "host_id": h.identity, "source": "live" if h.live else "recorded", "snapshot": str(h.snapshot or ""),
              "target": f"{h.live.fqdn} ({h.live.address}) via {h.live.connection}" if h.live else ""} for h in config.stash[_HOSTS]]
    book = ResultBook(config, hosts, baseline, config.getoption("gate_mode"), config.stash[_WAIVERS], report, own_name=not given)
    config.pluginmanager.register(book, "casgate-results")


def _refuse_empty_windows(targets: list[HostTarget], start: datetime) -> None:
    """--since START after a host's evidence ends (its collection time; now for a live host) would judge no log line."""
    now = datetime.now(timezone.utc)
    for target in targets:
        if target.snapshot is None:
            refuse_after(start, now, f"the live collection of {target.name}, now at")
            continue
        try:
            collected = Snapshot(target.snapshot).manifest.collected_at
        except CasgateError:
            continue  # an unreadable manifest is the checks' business: they say so, not judged
        refuse_after(start, collected, f"the collection of {target.name}'s evidence at")


def _refuse_unwritable(config: pytest.Config) -> None:
    """--json, --junitxml and --record outputs that cannot be written end the run before any check, in one line."""
    record = config.getoption("record")
    outputs = [("--json", config.getoption("casgate_json"), False), ("--junitxml", getattr(config.option, "xmlpath", None), False),
               ("--record", record, True)]
    for option, value, folder in outputs:
        problem = cannot_write(Path(value).resolve(), folder=folder) if value else None
        if problem:
            usage_error(f"{option} {value}: {problem}")


class Recorder:
    """--record-only (`casgate collect`): each live host collected into its snapshot folder, no check run, and where
    each went said; exit 0 when every artifact was collected, 3 when some were not, 2 for a host that is not live."""

    def __init__(self, config: pytest.Config, targets: list[HostTarget]) -> None:
        record_to = config.getoption("record")
        if not record_to:
            usage_error("--record-only needs --record=DIR, where the snapshots go")
        if getattr(config.option, "numprocesses", None) or getattr(config.option, "tx", None):
            usage_error("--record-only collects in this process: leave out -n / --tx")
        for target in targets:
            if target.live is None:
                usage_error(f"{target.name}: not in the inventory (inventory.toml here, or --inventory FILE): casgate "
                            "collect records live hosts only; a snapshot is judged with casgate check")
        self.config, self.targets, self.folder = config, targets, Path(record_to).resolve()
        self.said: list[str] = []
        self.recorded = 0
        self.gaps = 0

    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        from casgate.collector import collect_host_side  # live only: the transport and probe libraries load here
        from casgate.live import record

        options = _live_options(self.config, parse_since(self.config.getoption("since")),
                                phone_profile(self.config.getini("casgate_phone_ciphers")))
        for target in self.targets:
            assert target.live is not None
            try:
                dest = record(target.live, options, self.folder / target.name, collect_host_side(self.config))
                manifest = Snapshot(dest).manifest
            except (CasgateError, OSError) as exc:
                self.gaps += 1
                self.said.append(one_line(f"{target.name}: not recorded: {exc}"))
                continue
            self.recorded += 1
            self.gaps += bool(manifest.failed)
            missing = f"; not collected: {', '.join(manifest.failed)} ({next(iter(manifest.failed.values()))})" if manifest.failed else ""
            self.said.append(one_line(f"{target.name}: recorded into {dest} ({len(manifest.collected)} artifact(s){missing})"))
        return True  # no check runs: `casgate check HOST --snapshots DIR` judges the recordings

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.said and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = EXIT_NOT_COLLECTED if self.gaps else EXIT_PASSED

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None or not self.said:
            return
        for line in self.said:
            terminal.write_line(line)
        names = " ".join(t.name for t in self.targets)
        state = f"COLLECTED with gaps on {self.gaps} host(s)" if self.gaps else "COLLECTED"
        terminal.write_line(one_line(f"{state}: {self.recorded} of {len(self.targets)} host(s) into {self.folder}; "
                                     f"no check ran (judge them: casgate check {names} --snapshots {self.folder})"), bold=True)


def _default_report(config: pytest.Config) -> Path:
    """reports/casgate-<UTC time>.html: the checkout's reports/, or from `casgate check` the working folder's."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    reports = config.rootpath / "reports"
    return (reports if reports.is_dir() else config.invocation_params.dir / "reports") / f"casgate-{stamp}.html"


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Installed, the checks live deep in site-packages, and from `casgate check` anywhere else: progress lines and test
    ids name them from the checks' own folder (test_cause4_tls.py), not as ../../lib/python3.x/site-packages/…."""
    config = session.config
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None and config.stash.get(_HOSTS, None) and not config.invocation_params.dir.is_relative_to(config.rootpath):
        terminal.startpath = config.rootpath


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"casgate: {h.note}" for h in config.stash.get(_HOSTS, []) if h.note]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hq" in metafunc.fixturenames:  # the host is hq's own parameter: no fixture between a check and its evidence
        config = metafunc.config
        # `--dist loadgroup` (an xdist worker sees it as its `loadgroup` option): all checks of a host run in one worker,
        # which reads (or collects) its evidence once. Marked here, as the checks are made: xdist's worker reads the
        # group in its own pytest_collection_modifyitems, which runs before any other plugin's.
        grouped = config.getoption("dist", None) == "loadgroup" or config.getoption("loadgroup", False)
        hosts = [pytest.param(h, id=h.name, marks=pytest.mark.xdist_group(h.name) if grouped else ()) for h in config.stash[_HOSTS]]
        metafunc.parametrize("hq", hosts, indirect=True, scope="session")


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselect: they may select on the cause markers added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    host_checks = [i for i in items if _host_check(i)]
    if host_checks and not config.stash[_HOSTS]:
        _no_host(config)
    wanted = _wanted_causes(config)
    kept, dropped = [], []
    for item in items:
        if _host_check(item):
            mark = item.get_closest_marker("cause")
            if mark is None:
                usage_error(f"{item.nodeid} has no @pytest.mark.cause(...); every check names its KB cause")
            cause = Cause(mark.args[0])
            item.stash[_CAUSE] = (cause, mark.args[1])
            item.add_marker(f"cause_{cause.value}")  # -m cause_1a, -k 1a
            if wanted and cause.value.lower() not in wanted:
                dropped.append(item)
                continue
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _wanted_causes(config: pytest.Config) -> set[str]:
    """--cause as lower-case cause ids; an unknown one is a usage error (asked at configure, before any collection)."""
    wanted = {c.strip().lower() for c in config.getoption("cause").split(",") if c.strip()}
    unknown = wanted - {c.value.lower() for c in Cause}
    if unknown:
        usage_error(f"--cause {', '.join(sorted(unknown))}: not a cause (known: {', '.join(c.value for c in Cause)})")
    return wanted


def pytest_collection_finish(session: pytest.Session) -> None:
    """A fleet's collected checks live to the end of the run: frozen out of the cycle collector, which would otherwise
    walk them all at every full collection and once more at exit (seconds per process at 1,000 hosts)."""
    if session.config.stash.get(_HOSTS, None):
        gc.freeze()  # no collection first: it would walk the whole heap, start-up's modules included, for a few cycles


_VALUE_OPTIONS = ("--host", "--snapshots", "--inventory", "--record", "--baseline", "--waivers", "--json", "--since", "--cause")


def _rootdir_from_an_option_value(config: pytest.Config) -> str | None:
    """The casgate option whose value, given after a space, pytest may have taken for a test path when it chose its
    root folder: when it then found no pytest.ini, or a root folder that holds the value but not the working folder."""
    args = list(config.invocation_params.args)
    here = config.invocation_params.dir.resolve()
    for option, value in zip(args, args[1:]):
        if option not in _VALUE_OPTIONS or not Path(value).exists():
            continue
        place = Path(value).resolve()
        if config.inipath is None or (place.is_relative_to(config.rootpath) and not here.is_relative_to(config.rootpath)):
            return option
    return None


def _tb_given(config: pytest.Config) -> bool:
    """Whether --tb was chosen (command line, PYTEST_ADDOPTS, the ini's addopts): if not, a fleet's run (more hosts than
    the terminal matrix shows unfolded) gets --tb=no, as if given. pytest then prints no FAILURES section, a block per
    failed check, which also finds each check's teardown reports by scanning every report of the run (quadratic:
    ~100 s of CPU at 1,000 failing hosts); casgate's summary, the HTML, JSON and JUnit keep every finding's evidence."""
    given = [*config.invocation_params.args, *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.getini("addopts")]
    return any(arg == "--tb" or arg.startswith("--tb=") for arg in given)


def _runs_only_checks(config: pytest.Config) -> bool:
    """Whether this run collects only the gate's checks (tests_infra/), so no --host is a mistake known up front."""
    checks = (config.rootpath / "tests_infra").resolve()
    paths = [Path(arg.split("::")[0]) for arg in config.args]
    return bool(paths) and all((p if p.is_absolute() else config.invocation_params.dir / p).resolve().is_relative_to(checks) for p in paths)


def _no_host(config: pytest.Config) -> NoReturn:
    known = ", ".join(known_hosts(snapshot_root(config))) or "none"
    usage_error(f"no host selected: run `pytest --host NAME` (bundled snapshots: {known})")


def _strict(config: pytest.Config) -> bool:
    """pytest's own --strict also makes casgate warnings fail (pytest 9: the `strict` ini; before: an option)."""
    try:
        return bool(config.getini("strict"))
    except ValueError:
        return bool(config.getoption("strict", False))


def _check_id(item: pytest.Item) -> str:
    """The check's function name, the same on every host: what waivers and baselines refer to."""
    return item.originalname if isinstance(item, pytest.Function) else item.name


def _cause_of(item: pytest.Item) -> tuple[Cause, str]:
    """The check's KB cause and title, from its mark as read at collection."""
    return item.stash[_CAUSE]


def _host_check(item: pytest.Item) -> bool:
    """Whether the item is one of the gate's checks: a test of one host's evidence, `hq`."""
    return "hq" in getattr(item, "fixturenames", ())


def _target_of(item: pytest.Item) -> HostTarget:
    return item.callspec.params["hq"]  # type: ignore[attr-defined, no-any-return]


# ---- the evidence: checks read it only through `hq` ---------------------------------------------------------------

@dataclass(frozen=True)
class HostEvidence:
    """One host's evidence and the run's settings its checks judge by. Each piece is worked out when a check first
    reads it and kept for the host's other checks: one fixture per host, not a chain of fixtures per check."""

    snapshot: Snapshot
    since: timedelta | datetime  # --since
    warn_days: int  # casgate_expiry_warning_days
    max_clock_skew: int  # casgate_clock_skew_seconds
    phone_ciphers: tuple[str, ...]  # casgate_phone_ciphers

    @property
    def manifest(self) -> Manifest:
        return self.snapshot.manifest

    @property
    def root_store(self) -> Store:
        return self.snapshot.root_store

    @property
    def my_store(self) -> Store:
        return self.snapshot.my_store

    @property
    def server_stores(self) -> ServerStores:
        """The stores an IIS binding can take its certificate from (My, WebHosting)."""
        return self.snapshot.server_stores

    @property
    def mitel_ca(self) -> Certificate:
        return self.snapshot.keystore_certificate("Mitel_mfg_ca.crt")

    @property
    def server_crt(self) -> Certificate:
        return self.snapshot.keystore_certificate("server.crt")

    @property
    def ca_crt(self) -> Certificate:
        """The HQ's own CA certificate in the keystore, which issues server.crt."""
        return self.snapshot.keystore_certificate("ca.crt")

    @property
    def bindings(self) -> tuple[Binding, ...]:
        return self.snapshot.bindings

    @property
    def registry(self) -> RegistryView:
        return self.snapshot.registry

    @property
    def registry_if_collected(self) -> RegistryView | None:
        """The registry, or None when deliberately not collected (connection = "none"): TLS is judged on the handshake."""
        try:
            return self.snapshot.registry
        except NotCollected:
            return None

    @property
    def phone_logs(self) -> tuple[LogFile, ...]:
        logs = self.snapshot.phone_logs
        if logs is None:
            pytest.skip("no phone logs in this snapshot (phone-logs/ is optional evidence)")
        return logs

    @property
    def dns_probe(self) -> DnsProbe:
        return self.snapshot.dns_probe

    @property
    def tls_probe(self) -> TlsProbe:
        return self.snapshot.tls_probe

    @property
    def reboot_pending(self) -> bool | None:
        return self.snapshot.reboot_pending

    @cached_property
    def root_hint(self) -> str:
        """Whether 403.16 lines point at 1a or 1b; unusable root store evidence is said, not raised (1a/1b error on it)."""
        try:
            return root_cause_hint(self.root_store, self.mitel_ca)
        except CasgateError as exc:
            return f"cannot tell 1a from 1b: {exc}"

    @cached_property
    def tls_cause(self) -> str | None:
        """Phone TLS failures are cause 4 when the phones' TLS 1.0 profile is refused, else cause 2; None if unknown."""
        try:
            refused = not all(self.tls_probe.handshake(p, TLS_PROBE).accepted for p in ("tls1.0", "phone-profile"))
        except CasgateError:
            return None
        return "4" if refused else "2"

    @property
    def certauth_access(self) -> AccessPolicy:
        return self.snapshot.certauth_access

    @property
    def clock(self) -> ClockReading:
        return self.snapshot.clock

    @property
    def sslcert(self) -> str | None:
        """`netsh http show sslcert` as recorded, or None (crafted snapshots and collect.ps1 have none)."""
        return self.snapshot.sslcert_text

    @property
    def https_probe(self) -> HttpsProbe:
        probe = self.snapshot.https_probe
        if probe is None:
            pytest.skip("no HTTPS probe in this snapshot (probes/https.json is optional evidence)")
        return probe

    @cached_property
    def window(self) -> Window:
        """The --since window ending at the snapshot's collection time."""
        return Window.before(self.manifest.collected_at, self.since)

    @cached_property
    def certauth_scan(self) -> Attribution:
        """The host's IIS logs read once, every certauth answer attributed, for the checks of cause 1 and X9."""
        return scan_certauth(self.snapshot.iis_logs, self.registry, self.window, self.manifest.os_version)


@pytest.fixture(scope="session")
def hq(request: pytest.FixtureRequest) -> HostEvidence:
    """All evidence of one host (its parameter, a HostTarget), read lazily from its snapshot (a live host is first
    collected into one), for all its checks; released when the run moves on to the next host."""
    config, target = request.config, request.param
    since = parse_since(config.getoption("since"))
    ciphers = phone_profile(config.getini("casgate_phone_ciphers"))
    if target.live is None:
        assert target.snapshot is not None
        snapshot = Snapshot(target.snapshot)
    else:
        snapshot = _collected(target.live, target.name, config, since, ciphers, request)
    return HostEvidence(snapshot, since, expiry_warning_days(config), clock_skew_seconds(config), ciphers)


def _live_options(config: pytest.Config, since: timedelta | datetime, ciphers: tuple[str, ...]) -> LiveOptions:
    """How a live host is collected: its logs from the --since window ending now, the probes' timeout, the phones' suites."""
    from casgate.live import LiveOptions

    now = datetime.now(timezone.utc)
    return LiveOptions(now - window_start(since, now), config.getoption("probe_timeout"), ciphers)


def _say_connecting(config: pytest.Config, live: InventoryHost, probe_timeout: float) -> None:
    """One progress line before the network is waited on, so a stalled port is not a silent terminal (a serial run;
    xdist's workers have no terminal of their own)."""
    reporter, capture = (config.pluginmanager.get_plugin(name) for name in ("terminalreporter", "capturemanager"))
    if reporter is None or capture is None or hasattr(config, "workerinput"):
        return
    with capture.global_and_fixture_disabled():  # as pytest's own live logging writes from inside a fixture's set-up
        reporter.write_line(f"casgate: collecting {live.name} live (connection {live.connection.split('?')[0][:120]}; probes "
                            f"of {live.fqdn}:{live.https_port} and its DNS servers, {probe_timeout:g} s each at most) ...")


def _collected(live: InventoryHost, name: str, config: pytest.Config, since: timedelta | datetime, ciphers: tuple[str, ...],
               request: pytest.FixtureRequest) -> Snapshot:
    """A live host collected into a snapshot once per run (xdist workers share it), and recorded with --record."""
    from casgate.collector import collect_host_side  # live only: the transport and probe libraries load here
    from casgate.live import collect_once, publish_copy, record

    options = _live_options(config, since, ciphers)
    _say_connecting(config, live, options.probe_timeout)
    base = request.getfixturevalue("tmp_path_factory").getbasetemp()
    run_dir = (base.parent if hasattr(config, "workerinput") else base) / "casgate-live"  # shared by xdist workers
    snapshot, collected_here = collect_once(
        run_dir / name, lambda: record(live, options, run_dir / name, collect_host_side(config)), _COLLECT_WAIT)
    record_to = config.getoption("record")
    if record_to and collected_here:
        publish_copy(snapshot, Path(record_to) / name)
    return Snapshot(snapshot)


class Gate:
    """`gate(verdict)` in a check: keeps the check's one verdict, which casgate's pytest_runtest_call wrapper enforces
    when the check returns. One for the session, so no check pays a fixture's set-up and teardown for it."""

    def __init__(self) -> None:
        self.given: Verdict | None = None

    def __call__(self, verdict: Verdict) -> None:
        if self.given is not None:
            raise RuntimeError("gate() called twice: a check gives one verdict")
        self.given = verdict

    def take(self) -> Verdict | None:
        given, self.given = self.given, None
        return given


@pytest.fixture(scope="session")
def gate() -> Gate:
    """Enforce a judge's verdict: it fails the check through pytest unless a waiver covers it; warnings are kept for
    the reports (they fail with --strict)."""
    return Gate()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """When a check returns, the verdict it gave gate() is enforced, in the check's call phase as if raised there."""
    keeper = getattr(item, "funcargs", {}).get("gate")
    if not isinstance(keeper, Gate):
        return (yield)
    try:
        result = yield
    except BaseException:
        keeper.take()  # what the check raised is its outcome, not a verdict it may have given before
        raise
    verdict = keeper.take()
    if verdict is not None and not _host_check(item):
        raise RuntimeError("gate() judges a host's evidence: a check that gives a verdict takes hq")
    if verdict is not None:
        _enforce(item, verdict)
    return result


def _enforce(item: pytest.Item, verdict: Verdict) -> None:
    """The verdict kept for the reports; a failure (a warning with --strict) that no waiver covers fails the check."""
    cause, check = _cause_of(item)
    item.stash[_VERDICT] = verdict
    lapsed = None
    if verdict.outcome in (Outcome.FAIL, Outcome.WARN):
        waivers: WaiverBook = item.config.stash[_WAIVERS]
        waiver, lapsed = waivers.decide(_target_of(item).name, _check_id(item), cause.value, verdict.fingerprint(),
                                        datetime.now(timezone.utc).date())
        item.stash[_WAIVER] = (waiver, lapsed)
        if waiver is not None:
            return
    if verdict.outcome is Outcome.FAIL or (verdict.outcome is Outcome.WARN and _strict(item.config)):
        pytest.fail(verdict_text(cause, finding_title(_check_id(item), check, verdict.facts), verdict)
                    + (f"\nWaiver not applied: {lapsed}" if lapsed else ""), pytrace=False)


# ---- reporting ------------------------------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # the call phase settles a check; its set-up only when it did not pass (a passing set-up settles nothing)
    if _host_check(item) and (report.when == "call" or (report.when == "setup" and not report.passed)):
        _settle(item, call, report)
    return report


def _settle(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Give the report casgate's outcome and row; evidence errors become one clear line, not a traceback."""
    cause, check = _cause_of(item)
    excinfo = call.excinfo
    crashed = excinfo is not None and not excinfo.errisinstance((CasgateError, *_PYTEST_OUTCOMES))
    problem = None  # why the check could not judge, said once (the report line names the check already)
    if excinfo is not None and excinfo.errisinstance((NotCollected, pytest.skip.Exception)):  # the check's line, as pytest's own
        report.outcome = "skipped"                                                                # skips say, not the reader's
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, f"Skipped: {excinfo.value}")
    elif excinfo is not None and excinfo.errisinstance(CasgateError):
        problem = f"could not judge, evidence unusable: {excinfo.value}"
    elif crashed:
        assert excinfo is not None
        last = excinfo.traceback[-1]
        problem = (f"could not judge, casgate itself failed on this evidence ({excinfo.typename}: {str(excinfo.value)[:300]} "
                   f"at {Path(str(last.path)).name}:{last.lineno + 1}); a casgate bug: please report it with the snapshot")
    if problem is not None:  # pytest's short summary puts the test id before this line (and in CI never cuts it)
        problem = one_line(problem, LINE_LIMIT - 400)
        report.longrepr = f"[cause {cause.value}] {check}: {problem}"
    verdict = item.stash.get(_VERDICT, None)
    if report.when == "call" and report.passed and verdict is None:
        report.outcome = "failed"  # a check that never called gate() judged nothing: never a silent pass
        report.longrepr = f"[cause {cause.value}] {check}: the check returned without a verdict (it must call gate())"
    waiver, lapsed = item.stash.get(_WAIVER, (None, None))
    unusable = problem is not None and report.failed
    result = Outcome.ERROR if unusable else _outcome(report, verdict, waiver is not None)
    if result is None:
        return
    if result in (Outcome.WARN, Outcome.WAIVED) and verdict is not None:
        report.sections.append((f"casgate {result.value}", verdict_text(cause, finding_title(_check_id(item), check, verdict.facts), verdict)
                                + (f"\nWaived: {waiver.describe()}" if waiver else "")))
    target = _target_of(item)
    row = Row(
        host=target.name, host_id=target.identity, cause=cause, check=check, check_id=_check_id(item), nodeid=item.nodeid, outcome=result,
        summary=verdict.summary if verdict else problem if unusable else _first_line(report),
        remediation=verdict.remediation if verdict and result is not Outcome.PASS else "",
        facts=verdict.facts if verdict else {}, fingerprint=verdict.fingerprint() if verdict else "",
        source="live" if target.live else "recorded", duration=round(report.duration, 4),
        waiver=waiver.describe() if waiver else None, lapsed=lapsed,
    )
    report.user_properties.append((RESULT_PROPERTY, row))


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(config: pytest.Config, report: pytest.CollectReport | pytest.TestReport) -> Generator[None, object, object]:
    """A report that leaves its process (an xdist worker's, pytest-reportlog's) carries its row as JSON text; in its
    own process it is the Row itself, so no check's row is written as JSON and read back."""
    if isinstance(report, pytest.TestReport):
        report.user_properties = [(name, value.to_json() if isinstance(value, Row) else value) for name, value in report.user_properties]
    return (yield)


def _outcome(report: pytest.TestReport, verdict: Verdict | None, waived: bool) -> Outcome | None:
    """The casgate outcome a phase report settles, or None when a later phase will."""
    if report.when == "setup":
        if report.failed:
            return Outcome.ERROR
        return Outcome.SKIP if report.skipped else None
    if report.failed:
        return Outcome.FAIL
    if report.skipped or verdict is None:
        return Outcome.SKIP
    return Outcome.WAIVED if waived else verdict.outcome


def _first_line(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return (report.longreprtext or "").strip().splitlines()[0] if report.longreprtext else ""


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    row = row_of(report)
    if row is not None and report.passed and row.outcome is Outcome.WARN:
        return "warned", "W", "WARN"
    if row is not None and report.passed and row.outcome is Outcome.WAIVED:
        return "waived", "w", "WAIVED"
    if row is not None and report.when == "call" and report.failed and row.outcome is Outcome.ERROR:
        return "error", "E", "ERROR"  # evidence unusable inside the check: an error, as at setup
    return None
