"""Live mode: collect one host's evidence (host side over testinfra, probes from the runner) and write it as a
snapshot, atomically. Checks then read that snapshot, so a live run and its replay execute the same code."""

from __future__ import annotations

import glob
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from casgate import __version__
from casgate.errors import CasgateError
from casgate.inventory import InventoryHost
from casgate.probes.dns import probe_dns
from casgate.probes.https import probe_certauth
from casgate.probes.tls import probe_tls
from casgate.snapshot import (
    BINDINGS,
    CLOCK,
    DNS_PROBE,
    HTTPS_PROBE,
    IIS_ACCESS,
    IIS_LOGS,
    KEYSTORE,
    MANIFEST,
    OPTED_OUT,
    MY_STORE,
    REGISTRY,
    ROOT_STORE,
    TLS_PROBE,
    SnapshotWriter,
)

HOST_SIDE = (ROOT_STORE, MY_STORE, KEYSTORE, BINDINGS, IIS_ACCESS, CLOCK, IIS_LOGS, REGISTRY)
PROBES = (DNS_PROBE, TLS_PROBE, HTTPS_PROBE)


@dataclass(frozen=True)
class HostSideResult:
    """What the host side tells the manifest: the OS version, and the optional artifacts the server had."""

    os_version: str
    optional: tuple[str, ...] = ()


HostSide = Callable[[InventoryHost, timedelta, SnapshotWriter], HostSideResult]
"""Collects the host-side artifacts into the writer; raises CasgateError on failure."""


@dataclass(frozen=True)
class LiveOptions:
    since: timedelta
    probe_timeout: float
    phone_suites: tuple[str, ...]


def record(host: InventoryHost, options: LiveOptions, dest: Path, host_side: HostSide) -> Path:
    """Collect `host` into the snapshot folder `dest`; an interrupted run leaves no half snapshot behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    _tidy(dest)
    shutil.rmtree(partial, ignore_errors=True)
    writer = SnapshotWriter(partial)
    collected_at = datetime.now(timezone.utc)
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    result = HostSideResult("")
    if not host.host_side:
        skipped = {a: OPTED_OUT for a in HOST_SIDE}
    else:
        try:
            result = host_side(host, options.since, writer)
        except CasgateError as exc:
            failed = {a: str(exc) for a in HOST_SIDE}
    writer.json(DNS_PROBE, probe_dns(host.fqdn, list(host.dns_servers), options.probe_timeout))
    writer.json(TLS_PROBE, probe_tls(host.address, host.https_port, host.fqdn, options.phone_suites, options.probe_timeout))
    writer.json(HTTPS_PROBE, probe_certauth(host.address, host.https_port, host.fqdn, options.probe_timeout))
    writer.json(MANIFEST, _manifest(host, result, collected_at, skipped, failed))
    _publish(partial, dest)
    return dest


def _manifest(host: InventoryHost, host_side: HostSideResult, collected_at: datetime, skipped: dict[str, str],
              failed: dict[str, str]) -> dict[str, Any]:
    collected = [a for a in (*HOST_SIDE, *host_side.optional, *PROBES) if a not in skipped and a not in failed]
    return {
        "host": host.name, "fqdn": host.fqdn, "address": host.address, "os_version": host_side.os_version,
        "collected_at": collected_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "source": "live", "casgate_version": __version__,
        "connection": host.connection.split("?")[0], "dns_servers": list(host.dns_servers),
        "collected": collected, "skipped": skipped, "failed": failed,
    }


def collect_once(dest: Path, collect: Callable[[], Path], timeout: float) -> tuple[Path, bool]:
    """Collect into `dest` unless another worker of this run already does: then wait for its snapshot.
    Returns the snapshot and whether this process collected it. The publish is an atomic rename, so a
    manifest in `dest` means a whole snapshot."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    lock = dest.parent / f".{dest.name}.lock"
    try:
        handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        deadline = time.monotonic() + timeout
        while not (dest / MANIFEST).is_file():
            if time.monotonic() > deadline:
                raise CasgateError(f"waited {timeout:g} s for another worker to collect {dest.name}") from None
            time.sleep(0.05)
        return dest, False
    try:
        return collect(), True
    except BaseException:
        lock.unlink(missing_ok=True)  # let another worker try
        raise
    finally:
        os.close(handle)


def publish_copy(snapshot: Path, dest: Path) -> None:
    """--record: a copy of the run's snapshot at `dest` (DIR/NAME, NAME a validated host name), swapped in."""
    partial = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    _tidy(dest)
    shutil.copytree(snapshot, partial)
    _publish(partial, dest)


def _publish(partial: Path, dest: Path) -> None:
    """Swap the finished snapshot into place; the previous recording is removed only once the new one is there.
    A kill between the two renames leaves it at .NAME.previous-PID, which the next run puts back (_tidy)."""
    if dest.is_symlink():
        raise CasgateError(f"{dest} is a link; casgate replaces only recordings it wrote itself, never what a link leads to")
    previous = dest.parent / f".{dest.name}.previous-{os.getpid()}"
    if dest.exists():
        dest.rename(previous)
    partial.rename(dest)
    shutil.rmtree(previous, ignore_errors=True)


def _tidy(dest: Path) -> None:
    """Clean up after killed runs before writing `dest`: drop their partial copies, put back a previous recording
    a kill left aside. Only dot-folders named after `dest` are touched, and links are never followed."""
    for stale in dest.parent.glob(f".{glob.escape(dest.name)}.partial-*"):
        if not _owner_alive(stale):
            shutil.rmtree(stale, ignore_errors=True)
    for aside in dest.parent.glob(f".{glob.escape(dest.name)}.previous-*"):
        if _owner_alive(aside) or aside.is_symlink():
            continue
        if not dest.exists():
            aside.rename(dest)
        else:
            shutil.rmtree(aside, ignore_errors=True)


def _owner_alive(folder: Path) -> bool:
    """Whether the process that named `folder` (suffix -PID) still runs; on Windows, where signal 0 would be a
    Ctrl+C, a folder younger than an hour counts as in use."""
    try:
        pid = int(folder.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return True
    if os.name == "nt":
        return time.time() - folder.lstat().st_mtime < 3600
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
