"""TLS handshakes to the HQ address with the FQDN as SNI: one per protocol version and one with the phones'
TLS 1.0 cipher profile, all at once (ssl releases the GIL while it waits for the server). The stdlib ssl module
speaks TLS 1.0 once OpenSSL's security level is 0."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from casgate.profile import TLS10_SUITES
from casgate.thumbprint import thumbprint

_VERSIONS = {
    "tls1.0": "TLSv1",
    "tls1.1": "TLSv1_1",
    "tls1.2": "TLSv1_2",
    "tls1.3": "TLSv1_3",
}
# Every suite this OpenSSL has: a version probe asks "is TLS 1.x on at all?", whatever the suites. OpenSSL 3
# refuses TLS 1.0/1.1 and SHA-1 suites above security level 0.
_ANY_SUITE = "ALL:@SECLEVEL=0"


@lru_cache(maxsize=16)
def _context(version: str, ciphers: str) -> ssl.SSLContext:
    """One context per profile for the whole process (a fleet's hosts share them; wrap_socket is thread-safe)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we record the server's certificate; the phones' trust is judged elsewhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 are deprecated: that is why we test them
        tls_version = getattr(ssl.TLSVersion, version)
        context.minimum_version = tls_version
        context.maximum_version = tls_version
    if version != "TLSv1_3":
        context.set_ciphers(ciphers)
    return context


def _resolve(address: str, port: int) -> list[tuple[Any, ...]] | OSError:
    """The address's socket addresses, looked up once for all handshakes (an IP address needs no lookup)."""
    try:
        return socket.getaddrinfo(address, port, 0, socket.SOCK_STREAM)
    except OSError as exc:
        return exc


def _connect(targets: list[tuple[Any, ...]], timeout: float) -> socket.socket:
    """socket.create_connection over addresses already resolved: each in turn, the last error raised."""
    error: OSError = OSError("getaddrinfo returns an empty list")
    for family, kind, proto, _, sockaddr in targets:
        raw = socket.socket(family, kind, proto)
        try:
            raw.settimeout(timeout)
            raw.connect(sockaddr)
            return raw
        except OSError as exc:
            raw.close()
            error = exc
    raise error


def handshake(address: str, port: int, sni: str, version: str, ciphers: str, timeout: float,
              targets: list[tuple[Any, ...]] | OSError | None = None) -> dict[str, Any]:
    """One handshake as stored in probes/tls.json; `reached` tells a refused handshake from an unreachable server.
    `targets`: the address already resolved (or the error resolving it), else it is looked up here."""
    record: dict[str, Any] = {"reached": False, "accepted": False, "version": None, "cipher": None,
                              "certificate_thumbprint": None, "error": None}
    try:
        context = _context(version, ciphers)
    except (ssl.SSLError, ValueError) as exc:
        record["error"] = f"this runner's OpenSSL cannot offer it: {exc}"
        return record
    resolved = _resolve(address, port) if targets is None else targets
    try:
        if isinstance(resolved, OSError):
            raise OSError(resolved.errno, resolved.strerror or str(resolved))  # a copy: five threads raise it
        raw = _connect(resolved, timeout)
    except OSError as exc:
        record["error"] = f"cannot connect to {address}:{port}: {exc.strerror or exc}"
        return record
    record["reached"] = True
    try:
        with raw, context.wrap_socket(raw, server_hostname=sni) as tls:
            der = tls.getpeercert(binary_form=True)
            cipher = tls.cipher()
            record.update(accepted=True, version=tls.version(), cipher=cipher[0] if cipher else None,
                          certificate_thumbprint=thumbprint(der) if der else None)
    except ssl.SSLError as exc:
        record["error"] = exc.reason or str(exc)
    except OSError as exc:  # reset or timeout during the handshake: the server refused to talk this way
        record["error"] = f"connection dropped during the handshake: {exc.strerror or exc}"
    return record


def probe_tls(address: str, port: int, sni: str, phone_suites: tuple[str, ...], timeout: float) -> dict[str, Any]:
    """Every profile's handshake on its own connection, all at once; listed in a fixed order."""
    phone_ciphers = ":".join(TLS10_SUITES[s] for s in phone_suites) + ":@SECLEVEL=0"
    profiles = {**{name: (version, _ANY_SUITE) for name, version in _VERSIONS.items()}, "phone-profile": ("TLSv1", phone_ciphers)}
    targets = _resolve(address, port)
    handshakes = _at_once({name: partial(handshake, address, port, sni, version, ciphers, timeout, targets)
                           for name, (version, ciphers) in profiles.items()})
    return {"address": address, "port": port, "sni": sni, "handshakes": handshakes}


def _at_once(calls: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each call in its own thread; results in the calls' order, and once all have ended, the first failed call's
    exception (in that order) raised here, never lost. (Plain threads: concurrent.futures would import logging.)"""
    outcomes: dict[str, tuple[bool, Any]] = {}

    def run(name: str, call: Callable[[], dict[str, Any]]) -> None:
        try:
            outcomes[name] = (True, call())
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller's thread below
            outcomes[name] = (False, exc)

    threads = [threading.Thread(target=run, args=item, name=f"casgate-tls-{item[0]}", daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = {}
    for name in calls:
        done, value = outcomes[name]
        if not done:
            raise value
        results[name] = value
    return results
