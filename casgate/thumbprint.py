"""The SHA-1 thumbprint Windows names certificates by, in a module of its own: the TLS probe needs it without
importing cryptography's X.509 (casgate.certs) or dataclasses (casgate.der)."""

from __future__ import annotations

import hashlib


def thumbprint(der: bytes) -> str:
    """The SHA-1 thumbprint as Windows shows it: upper-case hex, no separators (an identifier, not a signature)."""
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
