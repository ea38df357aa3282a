"""Live mode: collect one host's evidence (host side over testinfra, probes from the runner) and write it as a
snapshot, atomically. Checks then read that snapshot, so a live run and its replay execute the same code."""

from __future__ import annotations

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
    DNS_PROBE,
    HTTPS_PROBE,
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

HOST_SIDE = (ROOT_STORE, MY_STORE, KEYSTORE, BINDINGS, IIS_LOGS, REGISTRY)
PROBES = (DNS_PROBE, TLS_PROBE, HTTPS_PROBE)

HostSide = Callable[[InventoryHost, timedelta, SnapshotWriter], str]
"""Collects the host-side artifacts into the writer and returns the OS version; raises CasgateError on failure."""


@dataclass(frozen=True)
class LiveOptions:
    since: timedelta
    probe_timeout: float
    phone_suites: tuple[str, ...]


def record(host: InventoryHost, options: LiveOptions, dest: Path, host_side: HostSide) -> Path:
    """Collect `host` into the snapshot folder `dest`; an interrupted run leaves no half snapshot behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    writer = SnapshotWriter(partial)
    collected_at = datetime.now(timezone.utc)
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    os_version = ""
    if not host.host_side:
        skipped = {a: OPTED_OUT for a in HOST_SIDE}
    else:
        try:
            os_version = host_side(host, options.since, writer)
        except CasgateError as exc:
            failed = {a: str(exc) for a in HOST_SIDE}
    writer.json(DNS_PROBE, probe_dns(host.fqdn, list(host.dns_servers), options.probe_timeout))
    writer.json(TLS_PROBE, probe_tls(host.address, host.https_port, host.fqdn, options.phone_suites, options.probe_timeout))
    writer.json(HTTPS_PROBE, probe_certauth(host.address, host.https_port, host.fqdn, options.probe_timeout))
    writer.json(MANIFEST, _manifest(host, os_version, collected_at, skipped, failed))
    _publish(partial, dest)
    return dest


def _manifest(host: InventoryHost, os_version: str, collected_at: datetime, skipped: dict[str, str],
              failed: dict[str, str]) -> dict[str, Any]:
    collected = [a for a in (*HOST_SIDE, *PROBES) if a not in skipped and a not in failed]
    return {
        "host": host.name, "fqdn": host.fqdn, "address": host.address, "os_version": os_version,
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
    """--record: a copy of the run's snapshot at `dest`, swapped in atomically."""
    partial = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(snapshot, partial)
    _publish(partial, dest)


def _publish(partial: Path, dest: Path) -> None:
    """Swap the finished snapshot into place; the previous recording is removed only once the new one is there."""
    previous = dest.parent / f".{dest.name}.previous-{os.getpid()}"
    if dest.exists():
        dest.rename(previous)
    partial.rename(dest)
    shutil.rmtree(previous, ignore_errors=True)
