"""IP400 phone logs: the KB's symptom lines, found by search and attributed to the phone that logged them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone

from casgate.logs._lines import LineCounter, line_bounds, text_of
from casgate.logs.sources import Block

HOST_NOT_FOUND = "host-not-found"
TLS_FAILURE = "tls-failure"

_NEEDLES = (b"Host not found", b"error code = 3", b"SSL handshake error", b"Certificate Authority Invalid", b"error code = 6")
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))")
LINE_SHAPE = re.compile(_TIME.pattern + r" \S+ ")  # "2018-12-03T10:40:16.156-07:00 P105709FW16424D2D8B p8[240]: ..."
_CERTAUTH_URL = re.compile(r"https?://(?P<fqdn>[^/\s,:]+)(?::\d+)?/shoreauth/certauth", re.IGNORECASE)
# Qt's QNetworkReply errors: 3 = HostNotFoundError, 6 = SslHandshakeFailedError.
_HOST_NOT_FOUND = re.compile(r"error code = 3\b|Host not found")
_TLS_FAILURE = re.compile(r"SSL handshake error|Certificate Authority Invalid|error code = 6\b")
_MAC = re.compile(r"\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b")


class PhoneLogHit:
    """One symptom line; `fqdn` is the host the phone asked for when the line names the certauth URL."""

    __slots__ = ("symptom", "source", "line", "time", "fqdn", "phone", "text")

    def __init__(self, symptom: str, source: str, time: datetime | None, fqdn: str | None, phone: str, text: str) -> None:
        self.symptom, self.source, self.time, self.fqdn, self.phone, self.text = symptom, source, time, fqdn, phone, text
        self.line: int | None = None

    def cite(self) -> str:
        return f"{self.source}:{self.line}: {self.text}"


def _time_of(text: str) -> datetime | None:
    """The line's timestamp in UTC; an impossible one (month 13, offset +99:00) counts as undated, never a crash."""
    stamp = _TIME.match(text)
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp[1].replace("Z", "+00:00")).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def classify(text: str, source: str) -> PhoneLogHit | None:
    url = _CERTAUTH_URL.search(text)
    if _HOST_NOT_FOUND.search(text) and (url or "Host not found" in text):
        symptom = HOST_NOT_FOUND
    elif _TLS_FAILURE.search(text):
        symptom = TLS_FAILURE
    else:
        return None
    moment = _time_of(text)
    mac = _MAC.search(text)
    phone = mac[0].upper().replace("-", ":") if mac else source
    return PhoneLogHit(symptom, source, moment, url["fqdn"].lower() if url else None, phone, text.strip())


def scan_file(source: str, blocks: Iterable[Block], wants_line: Callable[[PhoneLogHit], bool]) -> Iterator[PhoneLogHit]:
    counter = LineCounter()
    for block in blocks:
        hay, end = block.hay, block.hay.size
        counter.enter(hay)
        starts = sorted({hay.rfind(b"\n", 0, at) + 1 for hits in hay.positions(_NEEDLES, end) for at in hits})
        for start in starts:
            _, stop = line_bounds(hay, start, end)
            hit = classify(text_of(hay, start, stop), source)
            if hit is None:
                continue
            if wants_line(hit):
                hit.line = counter.line_of(start)
            yield hit
        counter.leave(block.last)
