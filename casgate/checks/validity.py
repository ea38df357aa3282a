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


def _span(delta: timedelta) -> str:
    """A duration as whole days, and the rest to the second when there is one: never rounded across a day limit
    ("30 day(s) 12:00:00" is past a 30-day warning, "30 day(s)" is on it)."""
    days, rest = divmod(int(delta.total_seconds()), 86400)
    return f"{days} day(s)" + (f" {rest // 3600:02}:{rest // 60 % 60:02}:{rest % 60:02}" if rest else "")


def validity_at(cert: Certificate, role: str, at: datetime, warn_days: int) -> Validity:
    """RFC 5280 §4.1.2.5 as pki.valid_at reads it (from notBefore on, expired from notAfter on, whole seconds);
    `warn_days` or less before the end is "expires soon"."""
    window = f"notBefore {cert.not_before:%Y-%m-%d %H:%M}Z, notAfter {cert.not_after:%Y-%m-%d %H:%M}Z"
    at = at.replace(microsecond=0)
    standing = pki.valid_at(cert, at)
    if standing == NOT_YET_VALID:
        state, how = NOT_YET_VALID, f"not valid until {cert.not_before:%Y-%m-%d %H:%M:%S}Z ({_span(cert.not_before - at)} after collection)"
    elif standing == EXPIRED:
        state, how = EXPIRED, f"expired {_span(at - cert.not_after)} before collection"
    elif cert.not_after - at <= timedelta(days=warn_days):
        state, how = EXPIRING, f"expires {_span(cert.not_after - at)} after collection (warning at {warn_days} day(s))"
    else:
        state, how = VALID, f"valid for {_span(cert.not_after - at)} more"
    return Validity(cert, role, state, f"{role}: {cert.subject} ({cert.thumbprint}): {window}: {how}")
