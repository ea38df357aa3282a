"""What a check concludes: cause ids, outcomes and the verdict a judge returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Cause(str, Enum):
    """The KB article's causes; checks are grouped by these in every report."""

    UNTRUSTED_ROOT_STORE = "1a"
    MITEL_ROOT_MISSING = "1b"
    CERTAUTH_REJECTED = "1"
    BINDING_MISMATCH = "2"
    DNS = "3"
    TLS = "4"
    CERTAUTH_ENDPOINT = "X1"  # not in the KB: the path every cause above is about must answer at all

    @property
    def headline(self) -> str:
        return _CAUSE_TITLES[self]


_CAUSE_TITLES = {
    Cause.UNTRUSTED_ROOT_STORE: "non-self-signed cert in Root",
    Cause.MITEL_ROOT_MISSING: "Mitel HW root CA in Root",
    Cause.CERTAUTH_REJECTED: "certauth 403 in IIS logs",
    Cause.BINDING_MISMATCH: "IIS binding vs keystore",
    Cause.DNS: "DNS of the HQ FQDN",
    Cause.TLS: "TLS 1.0 / cipher suites",
    Cause.CERTAUTH_ENDPOINT: "certauth answers over HTTPS",
}


class Outcome(str, Enum):
    """Outcomes, least to most severe: a matrix cell shows the most severe of its checks."""

    SKIP = "skip"
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"

    @property
    def severity(self) -> int:
        return list(Outcome).index(self)


@dataclass(frozen=True)
class Verdict:
    """A judge's conclusion: the outcome, one-line summary, the evidence lines and the KB remediation."""

    outcome: Outcome
    summary: str
    evidence: tuple[str, ...] = ()
    remediation: str = ""

    @classmethod
    def passed(cls, summary: str, evidence: tuple[str, ...] = ()) -> Verdict:
        return cls(Outcome.PASS, summary, evidence)

    @classmethod
    def failed(cls, summary: str, evidence: tuple[str, ...], remediation: str) -> Verdict:
        return cls(Outcome.FAIL, summary, evidence, remediation)

    @classmethod
    def warned(cls, summary: str, evidence: tuple[str, ...], remediation: str) -> Verdict:
        return cls(Outcome.WARN, summary, evidence, remediation)

    @classmethod
    def skipped(cls, summary: str) -> Verdict:
        return cls(Outcome.SKIP, summary)
