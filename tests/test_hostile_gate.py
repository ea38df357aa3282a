"""The gate on hostile input: host names that are not host names, links out of a snapshot, a check that crashes,
and --record leftovers of killed runs. Each gives one clear line and the taxonomy's exit status, never a pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from casgate.live import publish_copy
from tests.conftest import REPO

PAYLOADS = ["<img src=x onerror=alert(1)>", "../victim", "hq01/../../etc", "-k", "hq 01", "hq01\x1b[2J", "..", "a" * 64]


@pytest.mark.parametrize("name", PAYLOADS, ids=range(len(PAYLOADS)))
def test_a_host_name_that_is_not_one_is_a_usage_error(run_suite, name: str) -> None:
    run = run_suite(f"--host={name}")

    assert run.returncode == 2 and "casgate usage error" in run.output and "Traceback" not in run.output


def test_a_manifest_naming_a_hostile_host_is_a_usage_error(scenarios_dir: Path, tmp_path: Path, run_suite) -> None:
    snapshot = tmp_path / "snaps" / "ok"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    manifest = snapshot / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"host": "', '"host": "<script>x</script>', 1))

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "ok")

    assert run.returncode == 2 and "manifest.json: host" in run.output and "is not a plain host name" in run.output


def test_host_names_are_case_insensitive_and_paths_are_snapshots(run_suite) -> None:
    upper = run_suite("--host", "HQ01", "-k", "root_store")
    path = run_suite("--host=snapshots/hq01", "-k", "root_store")
    typo = run_suite("--host", "hq1")

    assert upper.returncode == 1 and "[hq01]" in upper.output
    assert path.returncode == 1 and "[hq01]" in path.output
    assert typo.returncode == 2 and "did you mean 'hq01'?" in typo.output


def test_links_out_of_a_snapshot_are_never_read(scenarios_dir: Path, tmp_path: Path, run_suite) -> None:
    snapshot = tmp_path / "snaps" / "linked"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    secret = tmp_path / "secret.cer"
    secret.write_text("SECRET-CONTENT")
    (snapshot / "certs" / "root" / "evil.cer").symlink_to(secret)
    (snapshot / "registry").rename(tmp_path / "registry-elsewhere")
    (snapshot / "registry").symlink_to(tmp_path / "registry-elsewhere", target_is_directory=True)

    run = run_suite(f"--snapshots={snapshot.parent}", "--host", "linked")

    outcomes = run.outcomes("linked")
    assert run.returncode == 3 and "SECRET-CONTENT" not in run.output
    assert outcomes["test_root_store_is_self_signed"] == outcomes["test_trust_mode_workaround_absent"] == "error"
    assert f"certs/root/evil.cer is a link to {secret}, outside the snapshot" in run.output
    assert "registry/: registry is a link to" in run.output


@pytest.mark.parametrize("body, said", [
    ("    return {}['missing']\n", "could not judge, casgate itself failed on this evidence (KeyError: 'missing' at test_bug.py:7)"),
    ("    gate(Verdict(Outcome.PASS, 'fine'))\n    gate(Verdict(Outcome.PASS, 'fine again'))\n", "gate() called twice: a check gives one verdict"),
], ids=["crashes", "gives two verdicts"])
def test_a_check_with_a_bug_is_an_error_of_that_check_never_a_finding(body: str, said: str, tmp_path: Path, run_suite) -> None:
    buggy = tmp_path / "test_bug.py"
    buggy.write_text("import pytest\nfrom casgate.verdict import Verdict, Outcome\n\n\n@pytest.mark.cause('2', 'a check with a bug')\n"
                     f"def test_bug(hq, gate):\n{body}")

    run = run_suite(str(buggy), f"--snapshots={REPO / 'snapshots'}", "--host", "hq01")

    [row] = run.results
    assert row["outcome"] == "error" and run.returncode == 3
    assert said in run.output
    assert "Traceback" not in run.output


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(child.stdout)


@pytest.mark.skipif(os.name == "nt", reason="POSIX process check")
def test_record_cleans_up_after_killed_runs_and_keeps_a_recording(scenarios_dir: Path, tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    rec.mkdir()
    dead = _dead_pid()
    (rec / f".hq.partial-{dead}" / "certs").mkdir(parents=True)  # a copy killed half-way
    shutil.copytree(scenarios_dir / "healthy", rec / f".hq.previous-{dead}")  # a kill between the two renames
    (rec / "victim").mkdir()
    (rec / "victim" / "keep.txt").write_text("untouched")

    publish_copy(scenarios_dir / "cause-2", rec / "hq")

    assert sorted(p.name for p in rec.iterdir()) == ["hq", "victim"]
    assert (rec / "hq" / "manifest.json").read_text() == (scenarios_dir / "cause-2" / "manifest.json").read_text()
    assert (rec / "victim" / "keep.txt").read_text() == "untouched"


def test_record_never_replaces_a_link(scenarios_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("untouched")
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "hq").symlink_to(elsewhere, target_is_directory=True)

    with pytest.raises(Exception, match="is a link; casgate replaces only recordings it wrote itself"):
        publish_copy(scenarios_dir / "healthy", tmp_path / "rec" / "hq")

    assert (elsewhere / "keep.txt").read_text() == "untouched"


def test_a_link_beside_an_artifact_is_not_taken_for_it(scenarios_dir: Path, tmp_path: Path) -> None:
    from casgate.errors import EvidenceError
    from casgate.snapshot import Snapshot

    snapshot = tmp_path / "snap"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    (snapshot / "probes" / "dns.json.bak").symlink_to("/etc/hostname")

    evidence = Snapshot(snapshot)

    assert evidence.dns_probe.fqdn == "hq.example.com"  # probes/dns.json itself is no link
    (snapshot / "certs" / "root" / "x.cer").symlink_to("/etc/hostname")
    with pytest.raises(EvidenceError, match="certs/root/x.cer is a link to /etc/hostname"):
        Snapshot(snapshot).root_store


def test_a_link_inside_a_folder_reached_through_a_link_is_found(scenarios_dir: Path, tmp_path: Path) -> None:
    from casgate.errors import EvidenceError
    from casgate.snapshot import Snapshot

    snapshot = tmp_path / "snap"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    (snapshot / "certs" / "root").rename(snapshot / "roots-moved")
    (snapshot / "certs" / "root").symlink_to(snapshot / "roots-moved", target_is_directory=True)  # inside the snapshot
    (snapshot / "roots-moved" / "x.cer").symlink_to("/etc/hostname")

    with pytest.raises(EvidenceError, match="certs/root/x.cer is a link to /etc/hostname"):
        Snapshot(snapshot).root_store


def test_a_folder_linked_to_the_whole_snapshot_still_finds_its_links_outside(scenarios_dir: Path, tmp_path: Path) -> None:
    from casgate.errors import EvidenceError
    from casgate.snapshot import Snapshot

    snapshot = tmp_path / "snap"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    shutil.rmtree(snapshot / "certs" / "root")
    (snapshot / "certs" / "root").symlink_to(snapshot, target_is_directory=True)  # inside the snapshot: the snapshot itself
    (snapshot / "x.cer").symlink_to("/etc/hostname")

    with pytest.raises(EvidenceError, match="certs/root/x.cer is a link to /etc/hostname"):
        Snapshot(snapshot).root_store


def test_a_loop_of_links_is_refused_as_leading_outside(scenarios_dir: Path, tmp_path: Path) -> None:
    from casgate.errors import EvidenceError
    from casgate.snapshot import Snapshot

    snapshot = tmp_path / "snap"
    shutil.copytree(scenarios_dir / "healthy", snapshot)
    (snapshot / "certs" / "root" / "a.cer").symlink_to(snapshot / "certs" / "root" / "b.cer")
    (snapshot / "certs" / "root" / "b.cer").symlink_to(snapshot / "certs" / "root" / "a.cer")

    evidence = Snapshot(snapshot)

    assert evidence.dns_probe.fqdn == "hq.example.com"  # the loop is no other artifact's business
    with pytest.raises(EvidenceError, match="certs/root/a.cer is a link to a loop of links"):
        evidence.root_store


def test_a_verdict_given_outside_a_host_check_is_refused_and_never_reaches_the_next_check(tmp_path: Path, run_suite) -> None:
    checks = tmp_path / "test_stray.py"
    checks.write_text("import pytest\nfrom casgate.verdict import Verdict, Outcome\n\n\ndef test_a_stray(gate):\n"
                      "    gate(Verdict(Outcome.FAIL, 'not about any host'))\n\n\n"
                      "@pytest.mark.cause('2', 'a check after it')\ndef test_after(hq, gate):\n    gate(Verdict(Outcome.PASS, 'fine'))\n")

    run = run_suite(str(checks), f"--snapshots={REPO / 'snapshots'}", "--host", "hq01")

    [row] = run.results
    assert row["check_id"] == "test_after" and row["outcome"] == "pass"
    assert "gate() judges a host's evidence: a check that gives a verdict takes hq" in run.output
