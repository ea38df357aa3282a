"""What a check concludes: cause ids, outcomes and the verdict a judge returns."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum


class Cause(str, Enum):
    """The KB article's causes, then the related ones on the same path (X…); checks are grouped by these in every report."""

    UNTRUSTED_ROOT_STORE = "1a"
    MITEL_ROOT_MISSING = "1b"
    CERTAUTH_REJECTED = "1"
    BINDING_MISMATCH = "2"
    DNS = "3"
    TLS = "4"
    CERTAUTH_ENDPOINT = "X1"  # not in the KB: the path every cause above is about must answer at all
    SERVED_CERT_VALIDITY = "X2"
    NAME_MATCH = "X3"
    MITEL_ROOT_ITSELF = "X4"
    ISSUER_LIST_SIZE = "X5"
    CHAIN = "X6"
    CLIENT_CERT_POLICY = "X7"
    CLOCK = "X8"
    REVOCATION = "X9"

    @property
    def headline(self) -> str:
        return _CAUSE_TITLES[self]

    @property
    def in_kb(self) -> bool:
        """A reason the KB article lists; the X causes are neighbouring faults with the same symptom."""
        return not self.value.startswith("X")


_CAUSE_TITLES = {
    Cause.UNTRUSTED_ROOT_STORE: "non-self-signed cert in Root",
    Cause.MITEL_ROOT_MISSING: "Mitel HW root CA in Root",
    Cause.CERTAUTH_REJECTED: "certauth 403 in IIS logs",
    Cause.BINDING_MISMATCH: "IIS binding vs keystore",
    Cause.DNS: "DNS of the HQ FQDN",
    Cause.TLS: "TLS 1.0 / cipher suites",
    Cause.CERTAUTH_ENDPOINT: "certauth answers over HTTPS",
    Cause.SERVED_CERT_VALIDITY: "served certificate validity",
    Cause.NAME_MATCH: "HQ FQDN in the certificate",
    Cause.MITEL_ROOT_ITSELF: "Mitel HW root CA itself",
    Cause.ISSUER_LIST_SIZE: "trusted issuer list size",
    Cause.CHAIN: "server.crt chains to ca.crt",
    Cause.CLIENT_CERT_POLICY: "certauth asks for the client cert",
    Cause.CLOCK: "server clock vs the runner's",
    Cause.REVOCATION: "client cert revocation check",
}


class Outcome(str, Enum):
    """Outcomes, least to most severe: a matrix cell shows the most severe of its checks."""

    SKIP = "skip"
    PASS = "pass"
    WAIVED = "waived"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"

    @property
    def severity(self) -> int:
        return _RANK[self]


_RANK = {outcome: rank for rank, outcome in enumerate(Outcome)}
"""Outcome.severity without listing the enum at each call (the matrix of 1,000 hosts asks 36,000 times)."""


Facts = dict[str, "str | tuple[str, ...]"]
"""The stable facts a verdict rests on (no counts, no times): what a baseline diff compares and a waiver pins."""


def facts_json(facts: Facts) -> dict[str, str | list[str]]:
    """Facts as JSON holds them (lists for tuples): the form fingerprints, results and baselines share."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in facts.items()}


@dataclass(frozen=True)
class Verdict:
    """A judge's conclusion: outcome, one-line summary, evidence lines, KB remediation, and the facts behind it."""

    outcome: Outcome
    summary: str
    evidence: tuple[str, ...] = ()
    remediation: str = ""
    facts: Facts = field(default_factory=dict)

    @classmethod
    def passed(cls, summary: str, evidence: tuple[str, ...] = (), facts: Facts | None = None) -> Verdict:
        return cls(Outcome.PASS, summary, evidence, "", facts or {})

    @classmethod
    def failed(cls, summary: str, evidence: tuple[str, ...], remediation: str, facts: Facts | None = None) -> Verdict:
        return cls(Outcome.FAIL, summary, evidence, remediation, facts or {})

    @classmethod
    def warned(cls, summary: str, evidence: tuple[str, ...], remediation: str, facts: Facts | None = None) -> Verdict:
        return cls(Outcome.WARN, summary, evidence, remediation, facts or {})

    def fingerprint(self) -> str:
        """sha256 over the facts: equal when the evidence behind the verdict is the same."""
        canonical = json.dumps(facts_json(self.facts), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


SEVERITY = {Outcome.ERROR: "critical", Outcome.FAIL: "critical", Outcome.WARN: "warning", Outcome.WAIVED: "warning",
            Outcome.SKIP: "info", Outcome.PASS: "info"}


@dataclass(frozen=True)
class Row:
    """One check's result on one host, as every report shows it; `change` and `changes` compare with a baseline."""

    host: str
    host_id: str
    cause: Cause
    check: str
    check_id: str
    nodeid: str
    outcome: Outcome
    summary: str
    remediation: str = ""
    facts: Facts = field(default_factory=dict)
    fingerprint: str = ""
    source: str = ""
    duration: float = 0.0
    waiver: str | None = None
    lapsed: str | None = None
    change: str | None = None
    changes: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host, "host_id": self.host_id, "cause": self.cause.value, "check": self.check, "check_id": self.check_id, "nodeid": self.nodeid,
            "outcome": self.outcome.value, "severity": SEVERITY[self.outcome], "summary": self.summary,
            "remediation": self.remediation, "facts": facts_json(self.facts),
            "fingerprint": self.fingerprint, "source": self.source, "duration_s": self.duration, "waiver": self.waiver,
            "waiver_lapsed": self.lapsed, "change": self.change, "changes": list(self.changes),
        }

    @classmethod
    def from_json(cls, text: str) -> Row:
        d = json.loads(text)
        facts = {k: tuple(v) if isinstance(v, list) else v for k, v in d["facts"].items()}
        return cls(d["host"], d["host_id"], Cause(d["cause"]), d["check"], d["check_id"], d["nodeid"], Outcome(d["outcome"]), d["summary"],
                   d["remediation"], facts, d["fingerprint"], d["source"], d["duration_s"], d["waiver"], d["waiver_lapsed"],
                   d["change"], tuple(d["changes"]))
