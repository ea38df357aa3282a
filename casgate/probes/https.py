"""POST /shoreauth/certauth without a client certificate: a 403-family answer proves IIS and the path are there."""

from __future__ import annotations

import socket
import ssl
from typing import Any


def probe_certauth(address: str, port: int, fqdn: str, timeout: float) -> dict[str, Any]:
    record: dict[str, Any] = {"url": f"https://{fqdn}:{port}/shoreauth/certauth", "status": None, "reason": None, "error": None,
                              "reached": True}
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = (
        f"POST /shoreauth/certauth HTTP/1.1\r\nHost: {fqdn}\r\nContent-Length: 0\r\n"
        "User-Agent: casgate\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    try:
        raw = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:  # no TCP connection: the runner cannot reach the host (an outage, not a finding)
        record.update(reached=False, error=f"cannot connect to {address}:{port}: {exc.strerror or exc}")
        return record
    try:
        with raw, context.wrap_socket(raw, server_hostname=fqdn) as tls:
            tls.sendall(request)
            status_line = tls.makefile("rb").readline(1024).decode("latin-1").strip()
    except (OSError, ssl.SSLError) as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        return record
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        record["error"] = f"not an HTTP answer: {status_line[:80]!r}"
        return record
    record["status"] = int(parts[1])
    record["reason"] = parts[2] if len(parts) > 2 else ""
    return record
