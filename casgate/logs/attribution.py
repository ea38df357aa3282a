"""Every symptom line becomes a finding tied to one cause, counted per cause and per phone (client IP or phone),
with first and last time and a few sample lines. Lines before the window are history: counted, not failures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from casgate.errors import EvidenceError
from casgate.logs import iis, phone
from casgate.logs.sources import Block, log_files
from casgate.win32status import describe_win32_status

CERTAUTH_STEM = "/shoreauth/certauth"
SAMPLES = 3
NO_CLIENT_IP = "(no c-ip field)"
REVOCATION = "X9"  # the cause 403.13 is tied to: Schannel's revocation check of the phone's certificate
_NOT_A_LOG = {None: "neither an IIS W3C log (#Software/#Fields header) nor an IP400 phone log",
              "phone": "not an IP400 phone log (its first lines do not start with an ISO 8601 time and the phone's name)"}

# (sc-status, sc-substatus) on certauth -> (cause, what it is). 403.7 counts only in trust-list mode (see below).
_IIS = {
    ("403", "16"): ("1", "403.16 client certificate untrusted"),
    ("403", "7"): ("1", "403.7 client certificate required (SendTrustedIssuerList=1)"),
    ("403", "13"): (REVOCATION, "403.13 client certificate revoked or its revocation not checkable"),
    ("403", "17"): ("-", "403.17 client certificate expired or not yet valid"),
}
_PHONE = {
    phone.HOST_NOT_FOUND: ("3", "'Host not found' (Qt error 3) on the certauth URL"),
    phone.TLS_FAILURE: ("2 or 4", "'SSL handshake error' / 'Certificate Authority Invalid' (Qt error 6)"),
}


class Finding:
    """One (cause, symptom, phone): how often, first and last seen, and the first few lines as file:line."""

    __slots__ = ("cause", "symptom", "phone", "count", "first", "last", "samples")

    def __init__(self, cause: str, symptom: str, phone_id: str) -> None:
        self.cause, self.symptom, self.phone = cause, symptom, phone_id
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.samples: list[str] = []

    def add(self, moment: datetime | None) -> None:
        self.count += 1
        if moment is not None:
            self.first = moment if self.first is None or moment < self.first else self.first
            self.last = moment if self.last is None or moment > self.last else self.last

    def as_dict(self) -> dict[str, object]:
        return {"cause": self.cause, "symptom": self.symptom, "phone": self.phone, "count": self.count,
                "first": _iso(self.first), "last": _iso(self.last), "samples": list(self.samples)}


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class Attribution:
    """Accumulates findings over any number of IIS and phone logs in one streaming pass each."""

    def __init__(self, window_start: datetime | None = None, trust_list_mode: bool | None = None,
                 tls_cause: str | None = None, samples: int = SAMPLES) -> None:
        self.window_start = window_start
        self.trust_list_mode = trust_list_mode  # None: unknown (logs only); 403.7 is then shown as a possible cause 1
        self.tls_cause = tls_cause  # "2" or "4" when the TLS probe says which; None: "2 or 4"
        self.samples = samples
        self.current: dict[tuple[str, str, str], Finding] = {}
        self.history: dict[tuple[str, str, str], Finding] = {}
        self.malformed: list[str] = []
        self.partial: list[str] = []  # last lines cut short by a log still being written: noted, not an error
        self.unreadable: list[str] = []
        self.unjudged: Counter[str] = Counter()  # "<#Fields at file:line> lacks <field>" -> candidate lines
        self.judged = 0  # certauth lines read and understood
        self.files = 0
        self._kinds: dict[tuple[str, str, str, str], tuple[str, str] | None] = {}

    def _finding(self, cause: str, symptom: str, phone_id: str, moment: datetime | None) -> tuple[Finding, bool]:
        current = moment is None or self.window_start is None or moment >= self.window_start
        table = self.current if current else self.history
        key = (cause, symptom, phone_id)
        finding = table.get(key) or table.setdefault(key, Finding(cause, symptom, phone_id))
        return finding, current

    def _iis_kind(self, stem: str, status: str, substatus: str, win32: str) -> tuple[str, str] | None:
        """(cause, symptom) of a certauth answer, or None when it is not a rejection casgate reports."""
        kind = _IIS.get((status, substatus))
        if stem.lower() != CERTAUTH_STEM or kind is None or (substatus == "7" and self.trust_list_mode is False):
            return None
        cause, what = kind
        if substatus == "7" and self.trust_list_mode is None:
            cause = "1?"
        return cause, what + (f" ({describe_win32_status(win32)})" if win32 not in ("-", "0") else "")

    def _kind_of(self, entry: iis.Entry) -> tuple[str, str] | None:
        """Memoised per Attribution: a log has a handful of distinct certauth answers and thousands of lines."""
        get = entry.values.get
        key = (get("cs-uri-stem", "-"), get("sc-status", "-"), get("sc-substatus", "-"), get("sc-win32-status", "-"))
        if key not in self._kinds:
            self._kinds[key] = self._iis_kind(*key)
        return self._kinds[key]

    def _wants_iis_line(self, entry: iis.Entry) -> bool:
        kind = self._kind_of(entry)
        if kind is None:
            return False
        finding, current = self._finding(kind[0], kind[1], entry.values.get("c-ip", NO_CLIENT_IP), entry.time)
        return current and len(finding.samples) < self.samples

    def _missing_field(self, entry: iis.Entry) -> str | None:
        """The field a candidate line's #Fields lacks for a judgement, or None: stem and status always, the
        substatus for a 403 on certauth (403.16 and 403.7 are causes, other 403s are not)."""
        values = entry.values
        for name in ("cs-uri-stem", "sc-status"):
            if name not in values:
                return name
        if values["sc-status"] == "403" and "sc-substatus" not in values and values["cs-uri-stem"].lower() == CERTAUTH_STEM:
            return "sc-substatus"
        return None

    def _sources(self, path: Path, label: str) -> Iterator[tuple[str, Iterator[Block]]]:
        """Each log source's blocks; one that cannot be opened or read is listed as unreadable, never skipped."""
        for source, blocks in log_files(path, label):
            self.files += 1
            yield source, self._guard(source, blocks)

    def _guard(self, source: str, blocks: Callable[[], Iterator[Block]]) -> Iterator[Block]:
        try:
            yield from blocks()
        except EvidenceError as exc:
            self.unreadable.append(str(exc))

    def add_iis(self, label: str, path: Path) -> None:
        for source, blocks in self._sources(path, label):
            self._scan_iis(source, blocks)

    def _scan_iis(self, source: str, blocks: Iterable[Block]) -> None:
        for item in iis.scan_file(source, blocks, self._wants_iis_line):
            if isinstance(item, iis.Malformed):
                (self.partial if item.partial else self.malformed if item.line else self.unreadable).append(item.cite())
                continue
            missing = self._missing_field(item)
            if missing is not None:
                self.unjudged[f"the #Fields: at {item.fields_at} lacks {missing}"] += 1
                continue
            if item.values["cs-uri-stem"].lower() == CERTAUTH_STEM:
                self.judged += 1
            kind = self._kind_of(item)
            if kind is not None:
                self._record(kind[0], kind[1], item.get("c-ip") if "c-ip" in item.values else NO_CLIENT_IP, item.time, item.line, item.cite)

    def problems(self) -> list[str]:
        """Everything that was not read and understood: unreadable files, malformed lines, lines under a #Fields
        that lacks what the judgement needs. Any of them means "no rejection" cannot be concluded."""
        unjudged = [f"{count} certauth line(s) not judged: {why}" for why, count in self.unjudged.items()]
        return self.unreadable + unjudged + [f"malformed: {m}" for m in self.malformed]

    def _phone_kind(self, hit: phone.PhoneLogHit) -> tuple[str, str]:
        cause, what = _PHONE[hit.symptom]
        if hit.symptom == phone.TLS_FAILURE and self.tls_cause:
            cause = self.tls_cause
        return cause, what + (f" asking for {hit.fqdn}" if hit.fqdn else "")

    def _wants_phone_line(self, hit: phone.PhoneLogHit) -> bool:
        cause, what = self._phone_kind(hit)
        finding, current = self._finding(cause, what, hit.phone, hit.time)
        return current and len(finding.samples) < self.samples

    def add_phone(self, label: str, path: Path) -> None:
        """Phone logs; a file that does not have the IP400 log's line shape is unreadable, never "no symptom"."""
        self._add(label, path, "phone")

    def add_any(self, label: str, path: Path) -> None:
        """Logs of unknown kind (the logs-only command): each source is read as IIS or phone log by its content."""
        self._add(label, path, None)

    def _add(self, label: str, path: Path, expected: str | None) -> None:
        for source, blocks in self._sources(path, label):
            first = next(blocks, None)
            if first is None:
                if not any(u.startswith(f"{source}:") for u in self.unreadable):
                    self.unreadable.append(f"{source}: is empty")
                continue
            kind = sniff(first.hay.slice(0, 4096))
            if kind is None or (expected is not None and kind != expected):
                self.unreadable.append(f"{source}: {_NOT_A_LOG[expected]}")
                continue
            (self._scan_iis if kind == "iis" else self._scan_phone)(source, _chain(first, blocks))

    def _scan_phone(self, source: str, blocks: Iterable[Block]) -> None:
        for hit in phone.scan_file(source, blocks, self._wants_phone_line):
            cause, what = self._phone_kind(hit)
            self._record(cause, what, hit.phone, hit.time, hit.line, hit.cite)

    def _record(self, cause: str, symptom: str, phone_id: str, moment: datetime | None, line: int | None, cite) -> None:  # type: ignore[no-untyped-def]
        finding, _ = self._finding(cause, symptom, phone_id, moment)
        finding.add(moment)
        if line is not None:
            finding.samples.append(cite())

    def findings(self, causes: Iterable[str] | None = None) -> list[Finding]:
        wanted = set(causes) if causes is not None else None
        return [f for f in self.current.values() if wanted is None or f.cause in wanted]

    def history_findings(self, causes: Iterable[str] | None = None) -> list[Finding]:
        wanted = set(causes) if causes is not None else None
        return [f for f in self.history.values() if wanted is None or f.cause in wanted]


def not_judged(artifact: str, conclusion: str, problems: list[str]) -> EvidenceError:
    """The error a log judge raises when it has no finding but could not read everything: no "all clear"."""
    shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return EvidenceError(artifact, f"cannot conclude '{conclusion}': {shown}")


def when_text(moment: datetime | None) -> str:
    """A finding's time as the reports print it."""
    return "undated" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}Z"


def describe(findings: list[Finding]) -> list[str]:
    """Evidence lines: one per finding, then its sample lines indented."""
    lines = []
    for f in findings:
        lines.append(f"[cause {f.cause}] {f.phone}: {f.count} x {f.symptom}, first {when_text(f.first)}, last {when_text(f.last)}")
        lines.extend(f"    {sample}" for sample in f.samples)
    return lines


def describe_history(findings: list[Finding]) -> list[str]:
    if not findings:
        return []
    last = max((f.last for f in findings if f.last), default=None)
    count, phones = sum(f.count for f in findings), len({f.phone for f in findings})
    return [f"older than the window (not counted): {count} line(s) from {phones} phone(s), last {when_text(last)}"]


def _chain(first: Block, rest: Iterator[Block]) -> Iterator[Block]:
    yield first
    yield from rest


def sniff(head: bytes) -> str | None:
    """"iis" when the text starts with W3C directives, "phone" when its first lines have the IP400 log shape."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff\x00")
    if text.startswith(("#Software:", "#Version:", "#Date:", "#Fields:", "#Start-Date:", "#Remark:")):
        return "iis"
    lines = [line for line in text.splitlines()[:5] if line.strip()]
    if lines and sum(bool(phone.LINE_SHAPE.match(line)) for line in lines) * 2 >= len(lines):
        return "phone"
    return None
