"""Benchmark: casgate's log attribution against `grep -F -c certauth` (the floor) and a naive per-line parser.

    python bench/log_scan.py [--mb 200] [--runs 5] [--dir DIR]

Generates a realistic IIS log (several #Fields changes, ~0.1 % certauth 403.16 lines among ordinary traffic) and a
phone-log bundle, warms the page cache, then times whole processes (Python start-up included), best of --runs,
and prints times, ratios against grep measured in the same run, and peak memory."""

from __future__ import annotations

import argparse
import json
import os
import random
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
import sys
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


def timed(command: list[str], env: dict[str, str] | None = None, runs: int = 5) -> tuple[float, str, str]:
    """Best wall time of `runs` whole-process runs, and the last run's stdout and stderr."""
    best, out, err = float("inf"), "", ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        best = min(best, time.perf_counter() - started)
        out, err = done.stdout, done.stderr
    return best, out, err


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path)
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
    python = sys.executable
    env_fast, env_pure = dict(os.environ), dict(os.environ, CASGATE_PURE_PYTHON="1")
    grep = timed(["sh", "-c", f"grep -F -c certauth {big} | cat"], runs=args.runs)
    rows = [
        ("grep -F -c certauth (floor)", grep),
        ("naive per-line Python parser", timed([python, "-c", NAIVE, str(big)], runs=max(1, args.runs // 2))),
        ("casgate (stringzilla)", timed([python, "-c", MEASURED, str(big), "--json"], env_fast, args.runs)),
        ("casgate (pure Python fallback)", timed([python, "-c", MEASURED, str(big), "--json"], env_pure, args.runs)),
        ("python -c pass (start-up only)", timed([python, "-c", "pass"], runs=args.runs)),
    ]
    small_run = timed([python, "-c", MEASURED, str(small), "--json"], env_fast, args.runs)
    phone_run = timed([python, "-c", MEASURED, str(phones), "--json"], env_fast, args.runs)
    print(f"\n{big.stat().st_size / 1e6:.0f} MB IIS log, page cache warm, best of {args.runs}, whole process:")
    for name, (seconds, _, _) in rows:
        print(f"  {name:<34} {seconds:7.3f} s   ratio to grep {seconds / grep[0]:6.2f}")
    casgate, naive = rows[2][1][0], rows[1][1][0]
    expected = (folder / "certauth-403.16-lines").read_text()
    found = sum(f["count"] for f in json.loads(rows[2][1][1])["findings"])
    print(f"  lines found: grep {grep[1].strip()} (any certauth), naive {rows[1][1][1].strip()}, casgate {found}, written {expected}")
    print(f"  casgate is {naive / casgate:.1f}x faster than the naive parser; pure-Python fallback {naive / rows[3][1][0]:.1f}x")
    print("memory (kernel's peak RSS includes the mapped log's page-cache pages; RssAnon is the process's own heap):")
    print(f"  {small.stat().st_size / 1e6:.0f} MB log: {small_run[2].strip()}")
    print(f"  {big.stat().st_size / 1e6:.0f} MB log: {rows[2][1][2].strip()}")
    print(f"  phone bundle ({sum(p.stat().st_size for p in phones.iterdir()) / 1e6:.0f} MB, 40 files): {phone_run[0]:.3f} s, {phone_run[2].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
