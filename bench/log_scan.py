"""Benchmark: casgate's log attribution against `grep -F -c certauth` (the floor) and a naive per-line parser.

    python bench/log_scan.py [--mb 200] [--runs 11] [--dir DIR] [--python PYTHON]

Generates a realistic IIS log (several #Fields changes, ~0.1 % certauth 403.16 lines among ordinary traffic) and a
phone-log bundle, warms the page cache, then times whole processes (Python start-up included) in interleaved
rounds, and prints wall times (median, best), CPU times (user + system, the child's fork included), the median of
each round's ratio to grep, and peak memory. --python: the interpreter of another venv (e.g. a non-editable
`pip install .[fast]`); the output says whether its casgate is an editable install."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIELDS = ("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
          "cs(Referer) sc-status sc-substatus sc-win32-status time-taken")
FIELDS_WITH_HOST = FIELDS.replace("cs(Referer)", "cs(Referer) cs-host")
PATHS = ("/director/", "/shoreware/api/users", "/scripts/app.js", "/images/logo.png", "/shoreauth/ping", "/csis/api/status")

NAIVE = r'''
import sys
fields, hits = None, 0
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        if line.startswith("#Fields:"):
            fields = line[8:].split()
            continue
        if line.startswith("#") or fields is None:
            continue
        row = dict(zip(fields, line.rstrip("\r\n").split(" ")))
        if row.get("cs-uri-stem") == "/shoreauth/certauth" and row.get("sc-status") == "403" and row.get("sc-substatus") == "16":
            hits += 1
print(hits)
'''

MEASURED = r'''
import os, sys
if os.environ.get("BENCH_ONE_PROCESS"):
    from casgate.logs import _search
    _search._SPLIT = 1 << 62  # never fork: the one-process search
from casgate.logs.__main__ import main
code = main(sys.argv[1:])
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print("VmHWM", status["VmHWM"].strip(), "RssAnon", status["RssAnon"].strip(), file=sys.stderr)
sys.exit(code)
'''


def write_iis_log(path: Path, megabytes: int) -> int:
    """Returns the number of certauth 403.16 lines written."""
    rng = random.Random(7)
    target, size, n, hits = megabytes * 1_000_000, 0, 0, 0
    fields = FIELDS
    with path.open("w", newline="") as out:
        out.write("#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2026-11-20 00:00:00\r\n")
        out.write(fields + "\r\n")
        while size < target:
            n += 1
            if n % 300_000 == 0:  # a logging change or IIS restart writes a new header mid-file
                fields = FIELDS_WITH_HOST if fields == FIELDS else FIELDS
                out.write("#Software: Microsoft Internet Information Services 10.0\r\n" + fields + "\r\n")
            host = " hq.example.com" if fields == FIELDS_WITH_HOST else ""
            stamp = f"2026-11-20 {n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
            if rng.random() < 0.001:
                hits += 1
                line = f"{stamp} 10.169.24.10 POST /shoreauth/certauth - 443 - 10.169.24.{100 + n % 50} Mozilla/5.0 -{host} 403 16 2148204809 730\r\n"
            else:
                line = (f"{stamp} 10.169.24.10 GET {rng.choice(PATHS)} q={n} 443 - 10.169.25.{n % 200} "
                        f"Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) -{host} 200 0 0 {n % 500}\r\n")
            out.write(line)
            size += len(line)
    return hits


def write_phone_bundle(folder: Path, phones: int = 40, lines: int = 20_000) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for p in range(phones):
        with (folder / f"P1057{p:04d}.log").open("w") as out:
            for i in range(lines):
                msg = ("on url: https://hq.example.com/shoreauth/certauth, error code = 3, Host not found" if i % 5000 == 0
                       else f"pri 0000,sl 01165 msg NetworkAccessManager::handleRequestFinished: reply id ({i:#x}) OK")
                out.write(f"2026-11-20T05:{i // 60 % 60:02d}:{i % 60:02d}.000-07:00 P1057{p:04d} p8[240]: {msg}\n")


EDITABLE = r'''
import json
from importlib.metadata import distribution
url = distribution("casgate").read_text("direct_url.json")
print("editable" if url and json.loads(url).get("dir_info", {}).get("editable") else "not editable")
'''


class Runs:
    """Whole-process runs of several commands, interleaved round by round (the machine's load hits all alike)."""

    def __init__(self, commands: dict[str, tuple[list[str], dict[str, str] | None]], cwd: Path) -> None:
        self.commands, self.cwd = commands, cwd  # not the checkout: `python -c` would import casgate from there
        self.wall: dict[str, list[float]] = {name: [] for name in commands}
        self.cpu: dict[str, list[float]] = {name: [] for name in commands}
        self.out: dict[str, tuple[str, str]] = {}

    def run(self, rounds: int) -> None:
        for _ in range(rounds):
            for name, (command, env) in self.commands.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=self.cwd)
                self.wall[name].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                self.cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                self.out[name] = (done.stdout, done.stderr)

    def row(self, name: str, anchor: str) -> str:
        wall, cpu, base = self.wall[name], self.cpu[name], self.wall[anchor]
        ratio = statistics.median(w / b for w, b in zip(wall, base))
        return (f"  {name:<40} wall median {statistics.median(wall):6.3f} s  best {min(wall):6.3f} s   "
                f"cpu median {statistics.median(cpu):6.3f} s   ratio to grep: median {ratio:5.2f}, best/best {min(wall) / min(base):5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--python", default=sys.executable, help="interpreter whose casgate is measured")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="casgate-bench-"))
    big, small, phones = folder / "u_ex261120.log", folder / "u_ex261119.log", folder / "phones"
    folder.mkdir(parents=True, exist_ok=True)
    if not big.exists():
        print(f"generating {args.mb} MB IIS log, a {args.mb // 4} MB one and a phone-log bundle in {folder} ...", flush=True)
        (folder / "certauth-403.16-lines").write_text(str(write_iis_log(big, args.mb)))
        write_iis_log(small, args.mb // 4)
        write_phone_bundle(phones)
    for path in (big, small):
        path.read_bytes()  # warm the page cache
    python = args.python
    env_fast, env_pure = dict(os.environ), dict(os.environ, CASGATE_PURE_PYTHON="1")
    env_one = dict(os.environ, BENCH_ONE_PROCESS="1")
    grep = "grep -F -c certauth (floor)"
    runs = Runs({
        grep: (["sh", "-c", f"grep -F -c certauth {big} | cat"], None),
        "casgate (stringzilla, split search)": ([python, "-c", MEASURED, str(big), "--json"], env_fast),
        "casgate (stringzilla, one process)": ([python, "-c", MEASURED, str(big), "--json"], env_one),
        "casgate (pure Python fallback)": ([python, "-c", MEASURED, str(big), "--json"], env_pure),
        "python -c pass (start-up only)": ([python, "-c", "pass"], None),
    }, folder)
    load_before = os.getloadavg()[0]
    runs.run(args.runs)
    naive = Runs({grep: runs.commands[grep], "naive per-line Python parser": ([python, "-c", NAIVE, str(big)], None)}, folder)
    naive.run(max(1, args.runs // 4))
    extra = Runs({"small": ([python, "-c", MEASURED, str(small), "--json"], env_fast),
                  "phones": ([python, "-c", MEASURED, str(phones), "--json"], env_fast)}, folder)
    extra.run(3)
    install = subprocess.run([python, "-c", EDITABLE], capture_output=True, text=True, check=False, cwd=folder).stdout.strip()
    print(f"\n{big.stat().st_size / 1e6:.0f} MB IIS log, page cache warm, {args.runs} interleaved rounds, whole processes, "
          f"Python {sys.version.split()[0]}, casgate {install or 'not found'} ({python}); load average "
          f"{load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the search forks only with a core free):")
    for name in runs.commands:
        print(runs.row(name, grep))
    print(naive.row("naive per-line Python parser", grep))
    casgate = min(runs.wall["casgate (stringzilla, split search)"])
    expected = (folder / "certauth-403.16-lines").read_text()
    found = {name: sum(f["count"] for f in json.loads(runs.out[name][0])["findings"]) for name in list(runs.commands)[1:4]}
    print(f"  lines found: grep {runs.out[grep][0].strip()} (any certauth), naive {naive.out['naive per-line Python parser'][0].strip()}, "
          f"casgate {sorted(set(found.values()))}, written {expected}")
    print(f"  casgate is {min(naive.wall['naive per-line Python parser']) / casgate:.1f}x faster than the naive parser")
    print("memory (kernel's peak RSS includes the mapped log's page-cache pages; RssAnon is the process's own heap):")
    print(f"  {small.stat().st_size / 1e6:.0f} MB log: {extra.out['small'][1].strip()}")
    print(f"  {big.stat().st_size / 1e6:.0f} MB log: {runs.out['casgate (stringzilla, split search)'][1].strip()}")
    print(f"  phone bundle ({sum(p.stat().st_size for p in phones.iterdir()) / 1e6:.0f} MB, 40 files): "
          f"{min(extra.wall['phones']):.3f} s, {extra.out['phones'][1].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
