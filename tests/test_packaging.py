"""`pip install .` as a user gets it: a wheel built from a copy of this checkout (pip's isolated build, setuptools
from PyPI or pip's cache), installed with --no-deps into a fresh venv whose other packages are links to this venv's,
run as the `casgate` command from an empty folder outside the checkout.

Proves: the wheel carries every file of casgate/, tests_infra/ and snapshots/ byte for byte (the collector's .ps1
scripts, the Windows root store, the checks); casgate imports from the install, and the collector commands it sends
are built from the installed scripts; the installed gate runs live — the host side through testinfra's `local`
backend, where a stand-in `powershell` records what it was sent and prints recorded JSON, the probes against
loopback DNS and TLS servers — and on a scenario the installed generator writes.
Does not prove: that the PowerShell runs on Windows (there is no PowerShell here), WinRM, or the probes against IIS."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from casgate.collector import encoded_command
from casgate.scenarios import Pki
from tests.conftest import CHECKS, REPO
from tests.servers import dns_server, tls_server, write_hq_identity
from tests.test_collector import LOGS_DOCUMENT, host_document, install_fake_powershell

FQDN = "hq.example.com"
PS1 = ("collect.ps1", "emit.ps1", "host.ps1", "iislogs.ps1")
SHIPPED_AS = {"casgate": "", "tests_infra": "suite/", "snapshots": "bundled/"}  # pyproject.toml's package-dir
HOST_COMMAND = encoded_command("host.ps1", {"ShorelineData": r"C:\Shoreline Data"})  # the inventory's default folder


@dataclass(frozen=True)
class Installed:
    """The fresh venv's bin folder and where casgate landed in it."""

    bin: Path
    package: Path

    def run(self, program: str, *args: str, cwd: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run one of the venv's programs as a user would: no PYTHONPATH, no pytest variables of this run."""
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("PYTEST_")}
        return subprocess.run([str(self.bin / program), *args], cwd=cwd, env=env | (env_extra or {}), capture_output=True,
                              text=True, check=False, timeout=120)


def _package_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _build_wheel(work: Path) -> Path:
    """Build from a copy of the checkout, so the build leaves nothing in it."""
    source = work / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "reports",
                                                                "__pycache__", ".pytest_cache", ".hypothesis"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(work / "dist"), "-q"],
                           capture_output=True, text=True, check=False, timeout=120)
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = (work / "dist").glob("casgate-*.whl")
    return wheel


def _fresh_venv(folder: Path) -> Path:
    """A venv holding links to this venv's packages, minus casgate (installed editable here) and .pth hooks."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=60)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)}))
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if not entry.name.startswith(("casgate", "__editable__")) and entry.suffix != ".pth":
            (site / entry.name).symlink_to(entry)
    return folder / "bin" / "python"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("packaging")
    wheel = _build_wheel(work)
    python = _fresh_venv(work / "venv")
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                             capture_output=True, text=True, check=False, timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    where = subprocess.run([str(python), "-c", "import casgate; print(casgate.__file__)"], cwd=work, capture_output=True,
                           text=True, check=True, timeout=60)
    return Installed(python.parent, Path(where.stdout.strip()).parent)


def test_the_wheel_carries_every_file_and_commands_come_from_it(installed: Installed, tmp_path: Path) -> None:
    source = {f"{into}{name}": data for folder, into in SHIPPED_AS.items() for name, data in _package_files(REPO / folder).items()}
    shipped = _package_files(installed.package)
    roots = {name for name in source if name.startswith("data/windows-root-store/") and name.endswith(".cer")}

    assert installed.package.is_relative_to(installed.bin.parent)
    assert sorted(set(source) - set(shipped)) == [] and [n for n in source if shipped[n] != source[n]] == []
    assert {name for name in shipped if name.endswith(".ps1")} == {f"collector/{n}" for n in PS1}
    assert len(roots) > 20 and roots <= set(shipped)
    built = installed.run("python", "-c", "from casgate.collector import SCRIPTS, encoded_command\nprint(SCRIPTS)\n"
                                "print(encoded_command('host.ps1', {'ShorelineData': r'C:\\Shoreline Data'}))", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    scripts, command = built.stdout.splitlines()
    assert Path(scripts) == installed.package / "collector" and command == HOST_COMMAND


def test_the_installed_gate_runs_live_and_on_a_generated_scenario(installed: Installed, tmp_path: Path) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    cert, key, der = write_hq_identity(tmp_path, FQDN, Pki(FQDN, datetime(2025, 1, 1, tzinfo=timezone.utc)).mitel_ca)
    sent = tmp_path / "sent.log"
    install_fake_powershell(tmp_path / "bin", host_document(der), LOGS_DOCUMENT, sent)
    with tls_server(cert, key) as tls, dns_server({FQDN: ["127.0.0.1"]}) as dns:
        (work / "inventory.toml").write_text(f'[hosts.hq]\nfqdn = "{FQDN}"\naddress = "127.0.0.1"\nconnection = "local"\n'
                                             f'dns_servers = ["{dns.spec}"]\nhttps_port = {tls.port}\n')
        live = installed.run("casgate", "check", "hq", "--inventory=inventory.toml", "--html=live.html", cwd=work,
                             env_extra={"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"})

    assert live.returncode == 0, live.stdout + live.stderr
    assert f"rootdir: {installed.package / 'suite'}" in live.stdout
    assert f"GATE PASSED: {CHECKS - 2} of {CHECKS} check(s) judged on 1 host(s)" in live.stdout  # the two phone-log checks skip: no logs
    host_script = base64.b64decode(HOST_COMMAND.rsplit(" ", 1)[1]).decode("utf-16-le")
    assert sent.read_text().split("\n=====\n")[0] == host_script

    written = installed.run("casgate", "scenarios", str(tmp_path / "scenarios"), "healthy", cwd=work)
    replay = installed.run("casgate", "check", "healthy", f"--snapshots={tmp_path / 'scenarios'}", "--html=replay.html", cwd=work)

    assert written.returncode == 0, written.stderr
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"GATE PASSED: {CHECKS} of {CHECKS} check(s) judged on 1 host(s)" in replay.stdout


def test_the_installed_command_runs_the_bundled_example_from_an_empty_folder(installed: Installed, tmp_path: Path) -> None:
    """The quick start of an installed casgate: `casgate check hq01` in an empty folder exits 1 with its report."""
    work = tmp_path / "empty"
    work.mkdir()

    run = installed.run("casgate", "check", "hq01", cwd=work)

    assert run.returncode == 1, run.stdout + run.stderr
    assert f"rootdir: {installed.package / 'suite'}" in run.stdout and "CN=Corp Issuing CA 01" in run.stdout
    assert [p.parent.name for p in work.rglob("*") if p.is_file()] == ["reports"]  # the report, and nothing else
