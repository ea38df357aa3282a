#!/usr/bin/env bash
# The nightly casgate run a CI job calls: the whole fleet from the inventory, results kept as artifacts, the gate
# judged against the last good run. Run from the casgate checkout. Environment:
#   CASGATE_WINRM_USER / CASGATE_WINRM_PASSWORD  from the CI's secret store (never in the repo or the job file)
#   CASGATE_INVENTORY   inventory file (default inventory.toml)
#   CASGATE_HOSTS       hosts to check, space-separated (default: every host in the inventory)
#   CASGATE_SNAPSHOTS   check recorded snapshots from this folder instead of live hosts (dry runs, tests)
#   CASGATE_OUT         where the HTML, JSON and JUnit results go (default out/)
#   CASGATE_LAST_GOOD   the last good run's JSON, if the CI kept one (default $CASGATE_OUT/last-good.json)
# Exit status is casgate's: 0 passed, 1 a check newly failed (or failed, without a last good run),
# 2 usage or inventory error, 3 evidence could not be collected from a host.
set -uo pipefail
python=${PYTHON:-python3}
inventory=${CASGATE_INVENTORY:-inventory.toml}
out=${CASGATE_OUT:-out}
last_good=${CASGATE_LAST_GOOD:-$out/last-good.json}
mkdir -p "$out"

hosts=${CASGATE_HOSTS:-}
if [ -z "$hosts" ]; then
    hosts=$("$python" -c 'import sys, tomllib; print(" ".join(tomllib.load(open(sys.argv[1], "rb"))["hosts"]))' "$inventory") || exit 2
fi
args=(--json="$out/casgate.json" --junitxml="$out/junit.xml" --html="$out/casgate.html" -n auto --dist loadgroup)
if [ -n "${CASGATE_SNAPSHOTS:-}" ]; then
    args+=(--snapshots="$CASGATE_SNAPSHOTS")
else
    args+=(--inventory="$inventory" --live)
fi
if [ -f "$last_good" ]; then
    args+=(--baseline="$last_good" --gate new-failures)
fi
if [ -f waivers.toml ]; then
    args+=(--waivers=waivers.toml)
fi
for host in $hosts; do
    args+=(--host "$host")
done

"$python" -m pytest "${args[@]}"
status=$?
if [ "$status" -eq 0 ]; then
    cp "$out/casgate.json" "$out/last-good.json"   # the next night compares with this run
fi
exit "$status"
