"""Benchmark: the HTML report of one host and of a fleet - render time, size, and how long headless Chromium takes to
open it to a usable page - against Chromium opening a trivial page, measured in the same run.

    python bench/report_open.py [--hosts 1000] [--host hq01-before] [--runs 5] [--old REV]

Runs the gate once on --host for its real rows, then repeats them for --hosts hosts (each host renamed: what a fleet
of copies of one snapshot reports) and renders both reports in a fresh interpreter, --runs times (the first render
compiles the templates). --old REV renders the same rows with casgate as it was at git revision REV too (the anchor
of the unpaged report). Chromium opens each page --runs times, interleaved; a probe script appended to a copy of the
page records, at the load event, the time to a laid-out page, then the time the first filter click takes (outcome
'pass' off: over every row), so the dump Chromium prints stays small. Medians."""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import REPO  # noqa: E402  (a script beside this one, not a package)

sys.path.insert(0, str(REPO))
from casgate.verdict import Row  # noqa: E402
from tests.test_report_browser import CHROMIUM, FLAGS  # noqa: E402  (the flags that keep Chromium off the network)

RENDER = r'''
import json, sys, time
from casgate.render import Provenance, report_html
from casgate.verdict import Row
source, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [Row.from_json(line) for line in open(source, encoding="utf-8")]
hosts = list(dict.fromkeys(r.host for r in rows))
times = []
for _ in range(runs):
    started = time.perf_counter()
    html = report_html(state="PASSED", headline=f"GATE PASSED: {len(rows)} check(s) on {len(hosts)} host(s)", rows=rows, texts={},
                       provenance=[Provenance(h, f"snapshots/{h}") for h in hosts], waiver_problems=(), baseline=False,
                       meta={"version": "bench", "started": "now", "command": "bench/report_open.py"})
    times.append(time.perf_counter() - started)
open(out, "w", encoding="utf-8").write(html)
print(json.dumps(times))
'''
"""Renders the rows in `source` (one Row JSON a line) `runs` times in this interpreter; prints each render's seconds."""

PROBE = """<script>
addEventListener("load", function () {
  document.body.getBoundingClientRect();
  var ready = performance.now(), box = document.querySelector('#casgate-filters input[data-outcome="pass"]'), filtered = -1;
  if (box) {
    var started = performance.now();
    box.click();
    document.body.getBoundingClientRect();
    filtered = performance.now() - started;
  }
  document.body.textContent = "";
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({ready: ready, filtered: filtered});
  document.body.append(out);
});
</script></body>"""
"""At the load event: force style and layout (the page as a person first sees it), then time the first filter click."""

TRIVIAL = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>anchor</title></head><body><p>casgate</p></body></html>"


def gate_rows(host: str, folder: Path) -> list[Row]:
    """One host's real rows: the gate run once on its snapshot."""
    out = folder / f"{host}.json"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--host={host}", f"--json={out}",
                    f"--html={folder / 'gate.html'}"], cwd=REPO, capture_output=True, check=False)
    return [Row.from_json(json.dumps(r)) for r in json.loads(out.read_text(encoding="utf-8"))["results"]]


def fleet_of(rows: list[Row], hosts: int) -> list[Row]:
    """The rows of `hosts` copies of one host, each named h0001 ..."""
    names = [f"h{n:04d}" for n in range(1, hosts + 1)]
    return [replace(r, host=name, host_id=name, nodeid=r.nodeid.replace(f"[{r.host}]", f"[{name}]")) for name in names for r in rows]


def render(rows: list[Row], out: Path, runs: int, casgate_root: Path) -> list[float]:
    """Seconds of each of `runs` renders of `rows` by the casgate under `casgate_root`, in one fresh interpreter."""
    source = out.with_suffix(".rows")
    source.write_text("".join(r.to_json() + "\n" for r in rows), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(casgate_root))
    done = subprocess.run([sys.executable, "-c", RENDER, str(source), str(out), str(runs)], env=env, capture_output=True, text=True,
                          check=True, cwd=casgate_root)
    return json.loads(done.stdout)


def old_casgate(revision: str, folder: Path) -> Path:
    """casgate's package as it was at `revision`, extracted under `folder`."""
    archive = subprocess.run(["git", "archive", revision, "casgate"], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def open_page(page: Path, profile: Path) -> tuple[float, float, float]:
    """Chromium's whole-process wall time (s) to load `page` and dump it, and the probe's time to a laid-out page and
    of the first filter click (ms; -1 when the page has no filters)."""
    started = time.perf_counter()
    dump = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()], capture_output=True, text=True,
                          timeout=300, check=True).stdout
    wall = time.perf_counter() - started
    probe = json.loads(dump[dump.index('<pre id="probe">') + len('<pre id="probe">'):dump.index("</pre>")])
    return wall, probe["ready"], probe["filtered"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--host", default="hq01-before")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old", metavar="REV", help="also render with casgate at this git revision (e.g. main before paging)")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    folder = Path(tempfile.mkdtemp(prefix="casgate-report-open-"))
    one = gate_rows(args.host, folder)
    many = fleet_of(one, args.hosts)
    versions = {"this": REPO}
    if args.old:
        versions[f"at {args.old}"] = old_casgate(args.old, folder / "old")
    (folder / "trivial.html").write_text(TRIVIAL, encoding="utf-8")
    pages = {"trivial page (anchor)": folder / "trivial.html"}
    print(f"render, fresh interpreter, {args.runs} renders: first (templates compiled) / median of the rest; HTML size")
    for version, root in versions.items():
        for label, rows in ((f"1 host ({len(one)} checks)", one), (f"{args.hosts} hosts ({len(many)} checks)", many)):
            out = folder / f"{version.replace(' ', '-')}-{len(rows)}.html"
            times = render(rows, out, args.runs, root)
            print(f"  {version:<10} {label:<26} {times[0] * 1000:8.1f} ms / {statistics.median(times[1:] or times) * 1000:8.1f} ms"
                  f"   {out.stat().st_size / 1e6:6.2f} MB")
            pages[f"{version}, {label}"] = out
    probed = {}
    for label, page in pages.items():
        probed[label] = page.with_name(f"probed-{page.name}")
        probed[label].write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    measured: dict[str, list[tuple[float, float, float]]] = {label: [] for label in probed}
    for run in range(args.runs):
        for label, page in probed.items():
            measured[label].append(open_page(page, folder / "profile"))
    anchor = statistics.median(m[0] for m in measured["trivial page (anchor)"])
    print(f"\nheadless Chromium {subprocess.run([CHROMIUM, '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"median of {args.runs}, interleaved:")
    print(f"  {'page':<42} {'wall':>7}  {'ratio':>5}  {'laid out':>9}  {'1st filter':>10}")
    for label, values in measured.items():
        wall, ready, filtered = (statistics.median(v[i] for v in values) for i in range(3))
        print(f"  {label:<42} {wall:5.2f} s  {wall / anchor:5.2f}  {ready:6.0f} ms  " + (f"{filtered:7.0f} ms" if filtered >= 0 else f"{'-':>10}"))
    print("  wall: the whole chromium --headless --dump-dom process (start-up included); laid out: navigation start to the load\n"
          "  event plus forced style and layout; 1st filter: unchecking 'pass' (the JSON parsed, every row filtered, a page drawn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
