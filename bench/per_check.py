"""Benchmark: what one check costs, start-up left out: the slope between a small and a large healthy fleet, against
bare pytest's slope on as many trivial tests, in CPU time.

    python bench/per_check.py [--small 200] [--large 1000] [--runs 5] [--healthy snapshots/hq01-before] [--dir DIR]

Each round times six whole processes, interleaved: the gate in one process on `--small` and on `--large` copies of
the healthy snapshot (HTML, --json and --junitxml written, as bench/fleet.py's gate runs), and bare pytest on 20 x
as many trivial tests, without and with --junitxml (JUnit is pytest's own per-test work, which the gate's run asks
for). (large - small) / (checks added) is the cost of a check, start-up and the end of run's fixed part cancelling.
Prints each round's figures, the ratio's min and median over rounds, and the ratio of the slopes of each run's
least CPU time over all rounds: on a shared machine a neighbour only ever adds CPU time (cache and core sharing),
so the least is the figure nearest the run's own cost.

    python bench/per_check.py --instructions [--small 20] [--large 60]

counts the same runs' user-space instructions under valgrind (callgrind, PYTHONHASHSEED=0) instead, once each: a
figure a neighbour's load cannot move, for comparing two versions of casgate on a shared machine (not a time: file
system calls and cache misses are left out)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import REPO, RUN_LIMIT, make_fleet, run_once, write_anchor  # noqa: E402  (a script beside this one, not a package)

CHECKS_PER_HOST = 20


def instructions(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """User-space instructions of one whole-process run under valgrind's callgrind (millions)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command], cwd=cwd,
                          env=dict(env, PYTHONHASHSEED="0"), capture_output=True, text=True, timeout=RUN_LIMIT)
    collected = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode not in (0, 1) or collected is None:
        raise SystemExit(f"{' '.join(command[:6])} ... under valgrind exited {done.returncode}: {done.stderr[-500:]}")
    return int(collected.group(1)) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int)
    parser.add_argument("--large", type=int)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind, once, instead of CPU time")
    parser.add_argument("--healthy", type=Path, default=REPO / "snapshots" / "hq01-before")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on PATH")
    args.small = args.small or (20 if args.instructions else 200)
    args.large = args.large or (60 if args.instructions else 1000)
    rounds, unit, per, digits = (1, "M instructions", "k instructions", 0) if args.instructions else (args.runs, "s of CPU", "ms", 3)
    folder = (args.dir or Path(tempfile.mkdtemp(prefix="casgate-per-check-"))).resolve()
    env, bare_env = dict(os.environ), dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    runs = {}
    for hosts in (args.small, args.large):
        names = make_fleet(args.healthy.resolve(), folder / f"fleet{hosts}", hosts)
        out = folder / f"reports{hosts}"
        runs[("gate", hosts)] = ([*base, f"--snapshots={folder / f'fleet{hosts}'}", *(f"--host={n}" for n in names),
                                  f"--html={out / 'r.html'}", f"--json={out / 'r.json'}", f"--junitxml={out / 'j.xml'}"], REPO, env)
        anchor = write_anchor(folder / f"anchor{hosts}", hosts * CHECKS_PER_HOST)
        runs[("bare", hosts)] = ([*base, "-p", "xdist.plugin", str(anchor)], anchor, bare_env)
        runs[("bare+JUnit", hosts)] = ([*base, "-p", "xdist.plugin", f"--junitxml={out / 'bare.xml'}", str(anchor)], anchor, bare_env)
    added = (args.large - args.small) * CHECKS_PER_HOST
    kinds = ("gate", "bare", "bare+JUnit")
    seen: dict[tuple[str, int], list[float]] = {key: [] for key in runs}
    ratios: dict[str, list[float]] = {kind: [] for kind in kinds[1:]}

    def slope(cost: dict[tuple[str, int], float], kind: str) -> float:
        """Per check: ms of CPU, or thousands of instructions."""
        return (cost[(kind, args.large)] - cost[(kind, args.small)]) / added * 1e3

    for round_ in range(1, rounds + 1):
        cost = {key: instructions(*spec) if args.instructions else run_once(*spec)[2] for key, spec in runs.items()}
        for key, value in cost.items():
            seen[key].append(value)
        for kind in kinds[1:]:
            ratios[kind].append(slope(cost, "gate") / slope(cost, kind))
        print(f"round {round_}: " + "; ".join(f"{kind} {cost[(kind, args.small)]:.1f} / {cost[(kind, args.large)]:.1f} {unit} -> "
                                               f"{slope(cost, kind):.{digits}f} {per}" for kind in kinds)
              + "; ratio " + ", ".join(f"{ratios[kind][-1]:.2f} to {kind}" for kind in kinds[1:]), flush=True)
    least = {key: min(values) for key, values in seen.items()}
    print(f"per check ({unit.split()[-1]}, start-up left out), {rounds} round(s), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}:")
    for kind in kinds[1:]:
        print(f"  gate against {kind}: ratio min {min(ratios[kind]):.2f}, median {statistics.median(ratios[kind]):.2f}; of the least: "
              f"{slope(least, 'gate'):.{digits}f} / {slope(least, kind):.{digits}f} = {slope(least, 'gate') / slope(least, kind):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
