"""The `casgate` command from an empty folder: the bundled checks and snapshots, explicit root folder and
configuration (nothing of the working folder is collected or written but the report), and the sub-commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from casgate import __version__
from tests.conftest import CHECKS, gate_line


def _casgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "casgate", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty folder"  # a space in the path, as on many Windows machines
    folder.mkdir()
    (folder / "test_not_a_check.py").write_text("def test_never_collected():\n    raise AssertionError\n")
    return folder


def test_check_runs_the_bundled_gate_from_any_folder(empty: Path) -> None:
    run = _casgate("check", "hq01", "--json", "out/r.json", cwd=empty)

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.rstrip().splitlines()[-1] == "GATE FAILED: 2 check(s) failed on 1 of 1 host(s) -- evidence: crafted demo"
    assert len(json.loads((empty / "out" / "r.json").read_text())["results"]) == CHECKS  # the checks, not the folder's test file
    assert sorted(p.name for p in empty.iterdir()) == ["out", "reports", "test_not_a_check.py"]  # no cache, no stray files
    assert len(list((empty / "reports").glob("casgate-*.html"))) == 1


def test_check_takes_causes_snapshot_folders_and_pytest_options(empty: Path, scenarios_dir: Path) -> None:
    narrowed = _casgate("check", "hq01", "--cause", "1b,4", "--", "-q", cwd=empty)
    elsewhere = _casgate("check", "healthy", "--snapshots", str(scenarios_dir), "--html", "gate.html", cwd=empty)

    assert narrowed.returncode == 0
    assert "PARTIAL: causes 1a, 1, 2, 3, X1, X2, X3, X4, X5, X6, X7, X8, X9 not checked (--cause '1b,4')" in gate_line(narrowed.stdout)
    assert elsewhere.returncode == 0 and (empty / "gate.html").is_file()


def test_sub_commands(empty: Path) -> None:
    hosts = _casgate("hosts", cwd=empty)
    scenarios = _casgate("scenarios", str(empty / "made"), "cause-2", cwd=empty)
    logs = _casgate("logs", str(empty / "made" / "cause-2" / "phone-logs"), "--since", "7d", "--until", "2026-11-20T06:00:00Z", cwd=empty)
    version = _casgate("--version", cwd=empty)
    usage = _casgate("check", cwd=empty)

    assert hosts.returncode == 0 and "hq01, hq01-after, hq01-before" in hosts.stdout
    assert scenarios.returncode == 0 and (empty / "made" / "cause-2" / "manifest.json").is_file()
    assert logs.returncode == 1 and "Certificate Authority Invalid" in logs.stdout
    assert version.stdout.strip() == f"casgate {__version__}"
    assert usage.returncode == 2 and "the following arguments are required: HOST" in usage.stderr


def test_collect_records_live_hosts_into_snapshots(empty: Path) -> None:
    """`casgate collect` records a probes-only host (connection = "none") on loopback and runs no check."""
    (empty / "inventory.toml").write_text('[hosts.edge]\nfqdn = "hq.example.com"\naddress = "127.0.0.1"\nconnection = "none"\n'
                                          'dns_servers = ["127.0.0.1:9"]\nhttps_port = 9\n')

    run = _casgate("collect", "edge", "--out", "recorded", "--", "--probe-timeout=0.3", cwd=empty)

    assert run.returncode == 0, run.stdout + run.stderr  # the probes' failures to connect are what they recorded
    manifest = json.loads((empty / "recorded" / "edge" / "manifest.json").read_text())
    assert manifest["host"] == "edge" and manifest["source"] == "live"
    assert f"edge: recorded into {empty / 'recorded' / 'edge'} (3 artifact(s))" in run.stdout
    assert run.stdout.rstrip().splitlines()[-1] == (f"COLLECTED: 1 of 1 host(s) into {empty / 'recorded'}; no check ran (judge them: "
                                                    f"casgate check edge --snapshots {empty / 'recorded'})")
    assert "GATE" not in run.stdout and not (empty / "reports").exists()


def test_shards_merged_give_the_result_of_one_whole_run(empty: Path) -> None:
    """CI matrix sharding: N jobs run --shard I/N over the same hosts, `casgate merge` joins their --json results."""
    import jsonschema

    from tests.conftest import REPO

    hosts = ("hq01", "hq01-before", "hq01-after")
    for index in (1, 2):
        _casgate("check", *hosts, "--json", f"shard{index}.json", "--", f"--shard={index}/2", cwd=empty)
    whole = _casgate("check", *hosts, "--json", "whole.json", cwd=empty)

    merge = _casgate("merge", "shard1.json", "shard2.json", "--json", "merged.json", "--html", "merged.html", cwd=empty)
    overlap = _casgate("merge", "shard1.json", "shard1.json", "--json", "twice.json", cwd=empty)
    bad = _casgate("check", "hq01", "--", "--shard=3/2", cwd=empty)

    merged, one = (json.loads((empty / name).read_text()) for name in ("merged.json", "whole.json"))
    jsonschema.validate(merged, json.loads((REPO / "docs" / "result.schema.json").read_text()))
    assert merge.returncode == whole.returncode == 1
    assert merge.stdout.strip() == merged["gate"]["verdict"] == one["gate"]["verdict"]
    assert [(r["host"], r["check_id"], r["outcome"]) for r in merged["results"]] == [(r["host"], r["check_id"], r["outcome"]) for r in one["results"]]
    assert "merged from shard" in (empty / "merged.html").read_text()
    assert overlap.returncode == 2 and "shards must not overlap" in overlap.stderr
    assert bad.returncode == 2 and "--shard '3/2': write I/N" in bad.stdout + bad.stderr


def test_n_without_pytest_xdist_is_refused_with_the_install_line(tmp_path: Path) -> None:
    """A venv with this one's packages (casgate as installed here, editable) but pytest-xdist: the real `casgate check
    -n 2` in an interpreter that cannot import xdist."""
    venv = tmp_path / "no-xdist"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if not entry.name.startswith(("xdist", "pytest_xdist")):
            (site / entry.name).symlink_to(entry)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith(("PYTEST_", "CASGATE_"))}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, *args], cwd=tmp_path, env=env | {"COLUMNS": "80"}, capture_output=True, text=True, timeout=120,
                              check=False)

    xdist, refused, serial = run("-c", "import xdist"), run("-m", "casgate", "check", "hq01", "-n", "2"), run("-m", "casgate", "check", "hq01")

    assert "ModuleNotFoundError: No module named 'xdist'" in xdist.stderr
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == "casgate usage error: -n needs pytest-xdist, which this install lacks: pip install pytest-xdist\n"
    assert serial.returncode == 1 and gate_line(serial.stdout).startswith("GATE FAILED: 2 check(s) failed on 1 of 1 host(s)")
