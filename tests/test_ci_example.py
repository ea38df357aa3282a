"""The example nightly job's script, run for real on the bundled upgrade pair: a good night, then a regression."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / "examples" / "ci" / "nightly.sh"


def _night(host: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHON=sys.executable, CASGATE_SNAPSHOTS=str(REPO / "snapshots"), CASGATE_HOSTS=host, CASGATE_OUT=str(out))
    return subprocess.run(["bash", str(SCRIPT)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_good_night_becomes_the_baseline_of_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"

    good = _night("hq01-before", out)
    assert good.returncode == 0, good.stdout + good.stderr
    assert json.loads((out / "last-good.json").read_text())["gate"]["passed"] is True
    assert {p.name for p in out.iterdir()} == {"casgate.json", "casgate.html", "junit.xml", "last-good.json"}

    regression = _night("hq01-after", out)

    assert regression.returncode == 1
    doc = json.loads((out / "casgate.json").read_text())
    assert doc["gate"]["mode"] == "new-failures" and doc["baseline"].endswith("last-good.json")
    assert {r["check_id"] for r in doc["results"] if r["change"] == "newly failing"} == {
        "test_tls10_enabled", "test_phone_cipher_profile_accepted", "test_https_binding_matches_keystore",
        "test_certificate_served_on_443_is_server_crt", "test_phone_logs_show_no_tls_failure", "test_served_certificate_names_hq_fqdn"}
    assert json.loads((out / "last-good.json").read_text())["hosts"][0]["name"] == "hq01-before"  # not overwritten


def test_unreadable_inventory_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHON=sys.executable, CASGATE_INVENTORY=str(tmp_path / "missing.toml"), CASGATE_OUT=str(tmp_path / "out"))

    run = subprocess.run(["bash", str(SCRIPT)], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)

    assert run.returncode == 2
