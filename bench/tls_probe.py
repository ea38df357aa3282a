"""Benchmark: casgate's TLS probe (4 versions + the phones' TLS 1.0 profile) against sslyze scanning the 4 versions.

    python bench/tls_probe.py [--runs 15]

Starts the tests' loopback HTTPS server (tests/servers.py: TLS 1.0-1.3, a 2048-bit RSA certificate), then times,
interleaved: in this process, casgate's probe (handshakes at once), the same five handshakes one after the other
with a fresh context each (the probe before it ran them at once), and sslyze's Scanner with its four
cipher-suite scans (TLS 1.0, 1.1, 1.2, 1.3); as whole processes (Python start-up and imports included), casgate's
probe against `python -m sslyze --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3`. sslyze is not a casgate dependency:
install it beside casgate in the venv that runs this (`pip install sslyze`). Without it, `openssl s_client` once
per version is the anchor, and the output says so. Prints medians and best times, and ratios against the anchor
measured in the same round."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casgate.probes import tls  # noqa: E402
from casgate.profile import DEFAULT_PHONE_PROFILE  # noqa: E402
from tests.servers import tls_server, write_server_identity  # noqa: E402

FQDN = "hq.example.com"


def _casgate(address: str, port: int) -> Callable[[], object]:
    return lambda: tls.probe_tls(address, port, FQDN, DEFAULT_PHONE_PROFILE, timeout=5)


def _one_after_another(address: str, port: int) -> Callable[[], object]:
    """The five handshakes in turn, each with a new context and its own address lookup (the probe before)."""
    phone_ciphers = ":".join(tls.TLS10_SUITES[s] for s in DEFAULT_PHONE_PROFILE) + ":@SECLEVEL=0"
    profiles = [*((v, tls._ANY_SUITE) for v in tls._VERSIONS.values()), ("TLSv1", phone_ciphers)]

    def run() -> object:
        records = []
        for version, ciphers in profiles:
            tls._context.cache_clear()
            records.append(tls.handshake(address, port, FQDN, version, ciphers, 5))
        return records

    return run


def _sslyze(address: str, port: int) -> tuple[str, Callable[[], object]] | None:
    try:
        from importlib.metadata import version

        from sslyze import ScanCommand, Scanner, ServerNetworkLocation, ServerScanRequest
    except ImportError:
        return None
    commands = {ScanCommand.TLS_1_0_CIPHER_SUITES, ScanCommand.TLS_1_1_CIPHER_SUITES,
                ScanCommand.TLS_1_2_CIPHER_SUITES, ScanCommand.TLS_1_3_CIPHER_SUITES}

    def run() -> object:
        scanner = Scanner()
        scanner.queue_scans([ServerScanRequest(server_location=ServerNetworkLocation(FQDN, port, ip_address=address), scan_commands=commands)])
        results = list(scanner.get_results())
        assert results and results[0].scan_result is not None, "sslyze could not scan the loopback server"
        return results

    return f"sslyze {version('sslyze')}, 4 cipher-suite scans (Scanner API)", run


def _openssl(address: str, port: int) -> tuple[str, Callable[[], object]] | None:
    if shutil.which("openssl") is None:
        return None

    def run() -> object:
        for flag in ("-tls1", "-tls1_1", "-tls1_2", "-tls1_3"):
            subprocess.run(["openssl", "s_client", flag, "-cipher", "ALL:@SECLEVEL=0", "-servername", FQDN,
                            "-connect", f"{address}:{port}"], input=b"", capture_output=True, check=False)
        return None

    return "openssl s_client, one process per version (sslyze is not installed here)", run


def _process(command: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(command, capture_output=True, check=True)


def _whole_processes(address: str, port: int) -> dict[str, Callable[[], object]]:
    """casgate's probe and sslyze's command line as whole processes; empty without sslyze."""
    try:
        import sslyze  # noqa: F401
    except ImportError:
        return {}
    probe = (f"from casgate.probes.tls import probe_tls; from casgate.profile import DEFAULT_PHONE_PROFILE; "
             f"probe_tls({address!r}, {port}, {FQDN!r}, DEFAULT_PHONE_PROFILE, 5)")
    return {
        "python -m sslyze --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3": _process(
            [sys.executable, "-m", "sslyze", "--quiet", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", f"{FQDN}:{port}{{{address}}}"]),
        "python -c 'probe_tls(...)' (casgate)": _process([sys.executable, "-c", probe]),
    }


def _timed(rows: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Each row once to warm up (imports, first contexts), then `runs` interleaved rounds."""
    times: dict[str, list[float]] = {name: [] for name in rows}
    for run in rows.values():
        run()
    for _ in range(runs):
        for name, run in rows.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return times


def _report(times: dict[str, list[float]]) -> None:
    """Times and ratios against the first row (the anchor), round by round."""
    anchor = next(iter(times.values()))
    for name, seconds in times.items():
        ratios = [s / a for s, a in zip(seconds, anchor)]
        print(f"  {name:<62} median {statistics.median(seconds):6.3f} s  best {min(seconds):6.3f} s  "
              f"ratio to the anchor: median {statistics.median(ratios):5.3f}, best/best {min(seconds) / min(anchor):5.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--process-runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="casgate-tls-bench-"))
    cert, key, _ = write_server_identity(folder, FQDN)
    with tls_server(cert, key, tls10=True) as server:
        anchor = _sslyze(server.address, server.port) or _openssl(server.address, server.port)
        if anchor is None:
            print("neither sslyze nor openssl is available: no anchor to measure against")
            return 2
        anchor_name, anchor_run = anchor
        rows: dict[str, Callable[[], object]] = {
            anchor_name: anchor_run,
            "casgate probe_tls (5 handshakes at once)": _casgate(server.address, server.port),
            "the same 5 handshakes one after another": _one_after_another(server.address, server.port),
        }
        result = tls.probe_tls(server.address, server.port, FQDN, DEFAULT_PHONE_PROFILE, timeout=5)
        accepted = [name for name, shake in result["handshakes"].items() if shake["accepted"]]
        in_process = _timed(rows, args.runs)
        processes = _timed(_whole_processes(server.address, server.port), args.process_runs)
    print(f"loopback TLS server (TLS 1.0-1.3, RSA 2048); casgate's handshakes accepted: {', '.join(accepted)}")
    print(f"in one process, {args.runs} interleaved rounds:")
    _report(in_process)
    if processes:
        print(f"whole processes (start-up and imports included), {args.process_runs} interleaved rounds:")
        _report(processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
