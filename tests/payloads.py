"""A crafted snapshot with hostile text in every evidence field that stays legal after host-name validation: the
certificate subject and issuer, IIS User-Agent and cs-uri-query, a phone-log line, the DNS probe's fqdn, and waiver
justifications; and a parse of what HTML really holds. Shared by test_report_safety and test_report_browser."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casgate.scenarios import ALL, PHONE_PREFIX, W3C_FIELDS, Pki, write_scenario
from casgate.snapshot import DNS_PROBE, IIS_LOGS, PHONE_LOGS, ROOT_STORE, SnapshotWriter

HOST = "hostile"
PWNED = "pwned"  # every script payload sets document.title to this
# Script payloads; IIS fields hold no spaces, so those ride without them.
SCRIPTS = (
    "<img src=x onerror=\"document.title='pwned'\">",
    "<script>document.title='pwned'</script>",
    "\"><svg onload=\"document.title='pwned'\">",
)
TOKEN_SCRIPTS = (
    "<svg/onload=document.title=/pwned/.source>",
    "<script>document.title=/pwned/.source</script>",
    "\"><img/src=x/onerror=document.title=/pwned/.source//>",
    "javascript:document.title=/pwned/.source",
)
BREAKOUTS = (
    "</script><script>document.title='pwned'</script>",
    "<!--<script>document.title='pwned'</script>",
    "\u2028\u2029</SCRIPT ><img src=x onerror=\"document.title='pwned'\">",
)
"""Text that would end or nest a <script> data block raw: the report's rows ride in one as JSON."""
TERMINAL = "\x1b[2J\x1b]0;owned-title\x07\x9b31m\u202eevil\u202c\u2066\u200f\x00"
LONG = 60_000  # a User-Agent IIS lines can carry (casgate reads lines up to 64 KiB): capped in every report
HUGE = 10_000_000  # a User-Agent past what casgate reads: named by line number, never copied


def _name(common: str, unit: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit), x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: x509.Name, issuer: x509.Name) -> bytes:
    """A certificate that is not self-signed (so 1a lists it with subject and issuer) and names the payloads."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(7).not_valid_before(now).not_valid_after(now + timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def _iis_lines(at: datetime) -> str:
    """403.16 certauth rejections inside the window, each carrying payloads in cs-uri-query and cs(User-Agent)."""
    agents = [*TOKEN_SCRIPTS, f"curl{TERMINAL.replace(chr(0), '')}", "A" * LONG, "B" * HUGE]
    lines = [f"#Fields: {W3C_FIELDS}"]
    for n, agent in enumerate(agents):
        query = TOKEN_SCRIPTS[n % len(TOKEN_SCRIPTS)]
        lines.append(f"{at:%Y-%m-%d %H:%M:%S} 10.169.24.10 POST /shoreauth/certauth {query} 443 - 10.169.24.{150 + n} {agent} - "
                     "403 16 2148204809 730")
    return "\n".join(lines) + "\n"


def _phone_line(at: datetime) -> str:
    stamp = at.astimezone(timezone(timedelta(hours=-7))).isoformat(timespec="milliseconds")
    return (f"{stamp} P105709FW16424D2D8B {PHONE_PREFIX}sslErrors: SSL handshake error: Certificate Authority Invalid "
            f"{' '.join(SCRIPTS)} {TERMINAL}{'C' * LONG}\n")


def plant(root: Path) -> tuple[Path, Path]:
    """Write root/hostile (the cause-1a scenario with the payloads added) and a waivers file; return both."""
    scenario = ALL["cause-1a"]
    facts = replace(scenario.facts, name=HOST)
    folder = root / HOST
    write_scenario(folder, replace(scenario, facts=facts), Pki(scenario.facts.fqdn, facts.collected_at - timedelta(days=365)))
    out = SnapshotWriter(folder)
    out.certificate(ROOT_STORE, "evil.cer", _certificate(_name(SCRIPTS[0], TERMINAL), _name(SCRIPTS[1], SCRIPTS[2])))
    log = next((folder / IIS_LOGS).rglob("*.log"))
    log.write_bytes(log.read_bytes() + _iis_lines(facts.collected_at - timedelta(hours=1)).encode())
    phone_log = next((folder / PHONE_LOGS).iterdir())
    phone_log.write_bytes(phone_log.read_bytes() + _phone_line(facts.collected_at - timedelta(hours=1)).encode())
    dns = json.loads((folder / DNS_PROBE).read_text())
    # the DNS check quotes both names; the manifest's fqdn is validated as a host name, the probe's is quoted as read
    (folder / DNS_PROBE).write_text(json.dumps({**dns, "fqdn": f"hq.example.com{SCRIPTS[0]}{TERMINAL}"}))
    waivers = root / "waivers.toml"
    waivers.write_text(
        "[[waiver]]\n"
        f'host = "{HOST}"\ncheck = "test_phone_logs_show_no_tls_failure"\n'
        f"justification = {json.dumps('CHG-1 ' + SCRIPTS[1] + TERMINAL)}\nexpires = 2099-12-31\n\n"
        "[[waiver]]\n"
        f'host = "{HOST}"\ncheck = "test_trust_mode_workaround_absent"\n'
        f"justification = {json.dumps('CHG-2 ' + SCRIPTS[2] + TERMINAL)}\nexpires = 2001-01-01\n",
        encoding="utf-8")
    return folder, waivers


class Markup(HTMLParser):
    """The elements (tag, attributes) an HTML text really holds, as a browser's tokenizer sees them; its text; the
    code of its scripts; and the content of its data blocks (<script type="application/json">, never run)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        if self.cdata_elem != "script":
            self.text.append(data)
        elif self.elements[-1][1].get("type") == "application/json":
            self.data.append(data)
        else:
            self.scripts.append(data)


def markup(html: str) -> Markup:
    parsed = Markup()
    parsed.feed(html)
    parsed.close()
    return parsed
