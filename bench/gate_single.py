"""Benchmark: the gate on one snapshot, `pytest --host hq01`, against bare pytest's start-up on one trivial test.

    python bench/gate_single.py [--host hq01] [--runs 5]

Whole processes (Python start-up included), best of --runs, the ratio measured in the same run."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import REPO, run_once, write_anchor  # noqa: E402  (a script beside this one, not a package)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="hq01")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="casgate-single-"))
    anchor = write_anchor(folder / "anchor", 1)
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    env = dict(os.environ)
    gate = best(base + [f"--host={args.host}", f"--html={folder / 'report.html'}"], REPO, env, args.runs)
    bare = best(base + [str(anchor)], anchor, dict(env, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"), args.runs)
    print(f"whole processes, best of {args.runs}:")
    print(f"  pytest --host {args.host} (HTML report written)  {gate:6.3f} s   ratio {gate / bare:5.2f}")
    print(f"  bare pytest, one trivial test               {bare:6.3f} s   ratio  1.00")
    return 0


def best(command: list[str], cwd: Path, env: dict[str, str], runs: int) -> float:
    """The fastest of `runs` whole-process runs."""
    return min(run_once(command, cwd, env)[0] for _ in range(runs))


if __name__ == "__main__":
    sys.exit(main())
