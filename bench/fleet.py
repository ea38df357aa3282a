"""Benchmark: the gate over a healthy and a failing fleet of recorded snapshots, serial and with pytest-xdist, against bare pytest.

    python bench/fleet.py [--hosts 1000] [--healthy snapshots/hq01-before] [--failing snapshots/hq01] [--workers 2]
                          [--dist load] [--runs 1] [--dir DIR]

Copies each of two bundled snapshots N times (each manifest's host renamed, so every host is its own): a healthy
fleet and a failing one (hq01 fails 2 checks per host). Then times whole processes: the gate on each fleet in one
process and with `-n W --dist D` (its HTML report, --json and --junitxml written), and, in the same run, bare pytest
(no plugins but xdist) on as many trivial parametrised tests as the gate has checks (N x checks per host), serial and
with -n W; the six kinds of run interleaved round by round, --runs times, so a neighbour's load on a shared machine
falls on all alike. Prints wall time (median of --runs), the peak RSS of the largest process, the ratios to bare
pytest, failing to healthy and -n W to one process, and the reports' sizes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN_LIMIT = 1800  # seconds: a run taking longer is a regression to look at, not a figure to wait for

MEASURED = r'''
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).returncode
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(used.ru_maxrss, used.ru_utime + used.ru_stime, code)
'''
"""Runs a command and prints the peak RSS (KiB) of its largest process, xdist workers included, the CPU time of all
its processes and its status: in a process of its own, because a process's children's peak never resets."""

SHARDED = r'''
import json, subprocess, sys
plan = json.loads(sys.argv[1])
shards = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for command in plan["shards"]]
codes = [shard.wait() for shard in shards]
merged = subprocess.run(plan["merge"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
sys.exit(max(codes) if merged.returncode in (0, 1) else merged.returncode)
'''
"""Runs the --shard commands at once, then `casgate merge` on their results: the CI matrix's path, on one machine."""


def make_fleet(source: Path, folder: Path, hosts: int) -> list[str]:
    """`hosts` copies of the snapshot `source` under `folder`, named h0001 ..., each manifest naming its own host."""
    names = [f"h{n:04d}" for n in range(1, hosts + 1)]
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8-sig"))
    for name in names:
        copy = folder / name
        if not copy.exists():
            shutil.copytree(source, copy)
            (copy / "manifest.json").write_text(json.dumps({**manifest, "host": name}, indent=2) + "\n", encoding="utf-8")
    return names


def write_anchor(folder: Path, tests: int) -> Path:
    """A bare pytest project with `tests` trivial parametrised tests."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / "test_anchor.py").write_text(
        f"import pytest\n\n\n@pytest.mark.parametrize('i', range({tests}))\ndef test_trivial(i):\n    assert i >= 0\n", encoding="utf-8")
    return folder


def run_once(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall time (s) of one whole-process run, the peak RSS (MB) of its largest process and the CPU time (s) of all."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURED, *command], cwd=cwd, env=env, capture_output=True, text=True, check=True,
                          timeout=RUN_LIMIT)
    wall = time.perf_counter() - started
    peak, cpu, status = done.stdout.split()
    if status not in ("0", "1"):  # 1: the failing fleet's findings
        raise SystemExit(f"{' '.join(command[:6])} ... exited {status}")
    return wall, int(peak) / 1024, float(cpu)


def timed(runs: dict[str, tuple[list[str], Path, dict[str, str]]], rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per named run: the median wall time of `rounds`, the largest peak RSS and the median CPU time; the runs
    interleaved round by round, so a neighbour's load on a shared machine falls on all of them alike."""
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (command, cwd, env) in runs.items():
            samples[name].append(run_once(command, cwd, env))
            print(f"  {name}: {samples[name][-1][0]:.1f} s, CPU {samples[name][-1][2]:.1f} s", flush=True)  # a long run's progress
    return {name: (statistics.median(w for w, _, _ in got), max(p for _, p, _ in got), statistics.median(c for _, _, c in got))
            for name, got in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--healthy", type=Path, default=REPO / "snapshots" / "hq01-before", help="the snapshot of the healthy fleet")
    parser.add_argument("--failing", type=Path, default=REPO / "snapshots" / "hq01", help="the snapshot of the failing fleet")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dist", default="load", help="xdist's distribution mode (load, its default; loadgroup; worksteal)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    folder = (args.dir or Path(tempfile.mkdtemp(prefix="casgate-fleet-"))).resolve()
    python, env = sys.executable, dict(os.environ)
    bare = dict(env, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    base = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    parallel = ["-n", str(args.workers), "--dist", args.dist]
    runs: dict[str, tuple[list[str], Path, dict[str, str]]] = {}
    fleets = {"healthy": args.healthy, "failing": args.failing}
    for kind, snapshot in fleets.items():
        print(f"copying {snapshot.name} {args.hosts} times into {folder / kind} ...", flush=True)
        names = make_fleet(snapshot.resolve(), folder / kind, args.hosts)
        out = folder / f"{kind}-reports"
        hosts = [f"--snapshots={folder / kind}", *(f"--host={name}" for name in names)]
        gate = [*base, *hosts, f"--html={out / 'report.html'}", f"--json={out / 'result.json'}", f"--junitxml={out / 'junit.xml'}"]
        runs[f"{kind}, one process"] = (gate, REPO, env)
        runs[f"{kind}, -n {args.workers} --dist {args.dist}"] = ([*gate, *parallel], REPO, env)
    shards = [[*base, *hosts, f"--shard={i}/{args.workers}", f"--html={out / f'shard{i}.html'}", f"--json={out / f'shard{i}.json'}",
               f"--junitxml={out / f'junit{i}.xml'}"] for i in range(1, args.workers + 1)]  # of the failing fleet
    merge = [python, "-m", "casgate", "merge", *(str(out / f"shard{i}.json") for i in range(1, args.workers + 1)),
             "--json", str(out / "merged.json"), "--html", str(out / "merged.html")]
    runs[f"failing, {args.workers} shards + merge"] = ([python, "-c", SHARDED, json.dumps({"shards": shards, "merge": merge})], REPO, env)
    listed = subprocess.run([*base, "--collect-only", f"--snapshots={folder / 'healthy'}", f"--host={names[0]}"], cwd=REPO, env=env,
                            capture_output=True, text=True, check=False).stdout
    checks = sum(1 for line in listed.splitlines() if "::" in line)  # the gate's checks per host, as collected now
    anchor = write_anchor(folder / "anchor", args.hosts * checks)
    runs["bare pytest, one process"] = ([*base, "-p", "xdist.plugin", str(anchor)], anchor, bare)
    runs[f"bare pytest, -n {args.workers}"] = ([*base, "-p", "xdist.plugin", "-n", str(args.workers), str(anchor)], anchor, bare)
    results = timed(runs, args.runs)
    healthy_1, healthy_n, failing_1, failing_n, sharded, bare_1, bare_n = (wall for wall, _, _ in results.values())
    cpu = {name: used for name, (_, _, used) in results.items()}
    print(f"\n{args.hosts} hosts ({args.hosts * checks} checks), whole processes, median of {args.runs}, {os.cpu_count()} cores, "
          f"load average at the end {os.getloadavg()[0]:.1f}:")
    print(f"  {'':<34} {'wall':>8}  {'CPU, all processes':>18}  {'peak RSS':>9}  ratio to bare pytest, same mode: wall, CPU")
    anchors = ("bare pytest, one process", f"bare pytest, -n {args.workers}")
    for (name, (wall, peak, used)), anchor in zip(results.items(), (anchors[0], anchors[1], anchors[0], anchors[1], anchors[1], *anchors)):
        print(f"  {name:<34} {wall:7.1f} s  {used:16.1f} s  {peak:6.0f} MB  {wall / results[anchor][0]:6.2f}  {used / cpu[anchor]:6.2f}")
    print(f"  failing against healthy, wall (CPU): one process {failing_1 / healthy_1:.2f} "
          f"({cpu['failing, one process'] / cpu['healthy, one process']:.2f}), -n {args.workers} {failing_n / healthy_n:.2f} "
          f"({cpu[f'failing, -n {args.workers} --dist {args.dist}'] / cpu[f'healthy, -n {args.workers} --dist {args.dist}']:.2f})")
    print(f"  -n {args.workers} against one process, wall (below 1 is faster): healthy {healthy_n / healthy_1:.2f}, "
          f"failing {failing_n / failing_1:.2f} ({args.workers} shards + merge: {sharded / failing_1:.2f}), bare pytest {bare_n / bare_1:.2f}")
    for kind in fleets:
        sizes = ", ".join(f"{label} {(folder / f'{kind}-reports' / name).stat().st_size / 1e6:.1f} MB"
                          for label, name in (("HTML", "report.html"), ("JSON", "result.json"), ("JUnit", "junit.xml")))
        print(f"  {kind} fleet's reports: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
