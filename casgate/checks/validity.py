"""Whether a certificate is inside its validity window at the snapshot's collection time (RFC 5280 §4.1.2.5):
shared by the served-certificate, Mitel-root and chain checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from casgate import pki
from casgate.certs import Certificate

VALID, EXPIRING, EXPIRED, NOT_YET_VALID = pki.IN_PERIOD, "expires soon", pki.EXPIRED, pki.NOT_YET_VALID


@dataclass(frozen=True)
class Validity:
    """One certificate's standing at `at`: its role (e.g. "keystore server.crt"), its state (one of the four above)
    and the evidence line that shows it."""

    cert: Certificate
    role: str
    state: str
    line: str

    @property
    def broken(self) -> bool:
        return self.state in (EXPIRED, NOT_YET_VALID)

    @property
    def fact(self) -> str:
        """Stable across runs: the state and the end date, never a count of days."""
        return f"{self.state} (notAfter {self.cert.not_after:%Y-%m-%d})"


def validity_at(cert: Certificate, role: str, at: datetime, warn_days: int) -> Validity:
    """RFC 5280 §4.1.2.5 as pki.valid_at reads it (notBefore through notAfter, inclusive); `warn_days` before the end
    is "expires soon"."""
    window = f"notBefore {cert.not_before:%Y-%m-%d %H:%M}Z, notAfter {cert.not_after:%Y-%m-%d %H:%M}Z"
    standing = pki.valid_at(cert, at)
    if standing == NOT_YET_VALID:
        state, how = NOT_YET_VALID, f"not valid until {cert.not_before:%Y-%m-%d}"
    elif standing == EXPIRED:
        state, how = EXPIRED, f"expired {(at - cert.not_after).days} day(s) before collection"
    elif cert.not_after - at <= timedelta(days=warn_days):
        state, how = EXPIRING, f"expires {(cert.not_after - at).days} day(s) after collection (warning at {warn_days})"
    else:
        state, how = VALID, f"valid for {(cert.not_after - at).days} more day(s)"
    return Validity(cert, role, state, f"{role}: {cert.subject} ({cert.thumbprint}): {window}: {how}")
