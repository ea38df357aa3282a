"""Find the KB's symptom lines in IP400 phone logs (one log line per event, ISO 8601 time first)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))")
_CERTAUTH_URL = re.compile(r"https?://(?P<fqdn>[^/\s,]+)/shoreauth/certauth", re.IGNORECASE)
# Qt's QNetworkReply::HostNotFoundError is 3; the phone logs it as "error code = 3, Host not found".
_HOST_NOT_FOUND = re.compile(r"error code\s*=\s*3\b|host not found", re.IGNORECASE)
_TLS_FAILURE = re.compile(r"ssl handshake error|certificate authority invalid", re.IGNORECASE)


class PhoneSymptom(str, Enum):
    HOST_NOT_FOUND = "host-not-found"
    TLS_FAILURE = "tls-failure"


@dataclass(frozen=True)
class PhoneLogHit:
    """One symptom line; `fqdn` is the host the phone asked for when the line names the certauth URL."""

    symptom: PhoneSymptom
    source: str
    line: int
    time: datetime | None
    fqdn: str | None
    text: str

    def cite(self) -> str:
        return f"{self.source}:{self.line}: {self.text}"


def _time(text: str) -> datetime | None:
    match = _TIME.match(text)
    if not match:
        return None
    return datetime.fromisoformat(match[1].replace("Z", "+00:00")).astimezone(timezone.utc)


def scan_phone_log(lines: Iterable[str], source: str) -> Iterator[PhoneLogHit]:
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        url = _CERTAUTH_URL.search(text)
        if _HOST_NOT_FOUND.search(text) and (url or "host not found" in text.lower()):
            symptom = PhoneSymptom.HOST_NOT_FOUND
        elif _TLS_FAILURE.search(text):
            symptom = PhoneSymptom.TLS_FAILURE
        else:
            continue
        yield PhoneLogHit(symptom, source, number, _time(text), url["fqdn"].lower() if url else None, text.strip())
