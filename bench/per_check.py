"""Benchmark: what one check costs, start-up left out: the slope between a small and a large healthy fleet, against
bare pytest's slope on as many trivial tests, in CPU time.

    python bench/per_check.py [--small 200] [--large 1000] [--runs 3] [--healthy snapshots/hq01-before] [--dir DIR]

Each round times four whole processes, interleaved: the gate in one process on `--small` and on `--large` copies of
the healthy snapshot (HTML, --json and --junitxml written, as bench/fleet.py's gate runs), and bare pytest on 20 x
as many trivial tests. (large - small) / (checks added) is the cost of a check, start-up and the end of run's fixed
part cancelling; prints each round's figures and the ratio's min and median."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import REPO, make_fleet, run_once, write_anchor  # noqa: E402  (a script beside this one, not a package)

CHECKS_PER_HOST = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--healthy", type=Path, default=REPO / "snapshots" / "hq01-before")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
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
    added = (args.large - args.small) * CHECKS_PER_HOST
    ratios = []
    for round_ in range(1, args.runs + 1):
        cpu = {key: run_once(*spec)[2] for key, spec in runs.items()}
        gate, bare = ((cpu[(kind, args.large)] - cpu[(kind, args.small)]) / added * 1e3 for kind in ("gate", "bare"))
        ratios.append(gate / bare)
        print(f"round {round_}: gate {cpu[('gate', args.small)]:.1f} s / {cpu[('gate', args.large)]:.1f} s of CPU -> {gate:.3f} ms per "
              f"check; bare pytest {cpu[('bare', args.small)]:.1f} s / {cpu[('bare', args.large)]:.1f} s -> {bare:.3f} ms per test; "
              f"ratio {gate / bare:.2f}", flush=True)
    print(f"per check against bare pytest per test (CPU, start-up left out): min {min(ratios):.2f}, median "
          f"{statistics.median(ratios):.2f} of {args.runs} round(s); {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
