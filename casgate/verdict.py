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


_CANONICAL = json.JSONEncoder(sort_keys=True)
"""json.dumps(facts, sort_keys=True), with one encoder for the run instead of one per verdict."""


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
        canonical = _CANONICAL.encode(self.facts)  # as facts_json's: json writes a tuple as a list
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

    @property
    def title(self) -> str:
        """How the check is shown: its finding when it failed, warned or was waived, else its own title."""
        if self.outcome in (Outcome.FAIL, Outcome.WARN, Outcome.WAIVED):
            return finding_title(self.check_id, self.check, self.facts)
        return self.check

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host, "host_id": self.host_id, "cause": self.cause.value, "check": self.check, "check_id": self.check_id, "nodeid": self.nodeid,
            "outcome": self.outcome.value, "severity": SEVERITY[self.outcome], "summary": self.summary,
            "finding": self.title if self.outcome in (Outcome.FAIL, Outcome.WARN, Outcome.WAIVED) else "",
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


_CAUSE_RANK = {cause: rank for rank, cause in enumerate(Cause)}


def report_order(row: Row) -> tuple[str, int, str]:
    """How every report lists its rows: by host, then cause in the KB's order, then check (a table, not
    list(Cause).index() per row: a 1,000-host run sorts 15,000 rows several times)."""
    return row.host, _CAUSE_RANK[row.cause], row.nodeid


FAILING_TITLES: dict[str, str | tuple[str, str, str]] = {
    "test_root_store_is_self_signed": ("LocalMachine\\Root holds {n} certificate that is not self-signed",
                                       "LocalMachine\\Root holds {n} certificates that are not self-signed", "not self-signed in Root"),
    "test_mitel_root_ca_is_trusted": "the Mitel HW root CA (Mitel_mfg_ca.crt) is missing from LocalMachine\\Root",
    "test_trust_mode_workaround_absent": "ClientAuthTrustMode = 2 masks what LocalMachine\\Root holds",
    "test_certauth_not_rejected_in_iis_logs": "IIS rejected the phones' certauth (403.16, 403.7 or 403.17) in the window",
    "test_https_binding_matches_keystore": "the https/443 binding of Default Web Site is not keystore server.crt",
    "test_certificate_served_on_443_is_server_crt": "the certificate served on 443 is not keystore server.crt",
    "test_phone_logs_show_no_tls_failure": "phones logged TLS handshake / CA failures in the window",
    "test_fqdn_resolves_to_hq": "the phones' DNS servers do not resolve the HQ FQDN to the HQ address",
    "test_phone_logs_show_no_host_not_found": "phones logged 'Host not found' for the certauth URL",
    "test_tls10_enabled": "TLS 1.0 is disabled for the server",
    "test_phone_cipher_profile_accepted": "the server refuses the phones' TLS 1.0 cipher suites",
    "test_certauth_endpoint_answers": "POST /shoreauth/certauth does not answer 403 without a client certificate",
    "test_served_certificate_is_valid": "the served certificate or keystore server.crt is expired, not yet valid or expiring",
    "test_served_certificate_names_hq_fqdn": "the served certificate does not name the HQ FQDN",
    "test_mitel_root_ca_is_current": "Mitel_mfg_ca.crt is out of date, or Root holds another key under its name",
    "test_trusted_issuer_list_fits": "the trusted issuer list Schannel sends exceeds 16 KB",
    "test_server_crt_chains_to_keystore_ca": "keystore server.crt does not chain to keystore ca.crt",
    "test_certauth_asks_for_client_certificate": "IIS does not ask for the phones' client certificate on /shoreauth",
    "test_server_clock_in_step": "the server's clock is off the runner's by more than the limit",
    "test_certauth_not_refused_on_revocation": "IIS refused certauth on revocation (403.13) in the window",
}
"""What a failing or warned check found, stated as the problem (a check's own title states the healthy state, which
read beside FAIL says the opposite of the finding). A title may count the items of one of its facts."""


def finding_title(check_id: str, check: str, facts: Facts) -> str:
    """The title a failed, warned or waived check is shown with (card, terminal, JUnit); `check` for a check the
    table does not know (a site's own check)."""
    title = FAILING_TITLES.get(check_id)
    if title is None:
        return f"not so: {check}"
    if isinstance(title, str):
        return title
    one, many, counted = title
    items = facts.get(counted)
    n = len(items) if isinstance(items, tuple) else 0
    return (one if n == 1 else many).format(n=n) if n else many.replace("{n} ", "")
