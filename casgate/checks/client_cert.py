"""Beyond the KB (X7): IIS must ask the phones for their client certificate on /shoreauth, or certauth gets none."""

from __future__ import annotations

from casgate.errors import EvidenceError
from casgate.evidence import AccessPolicy
from casgate.snapshot import IIS_ACCESS
from casgate.verdict import Facts, Verdict

LOCATION = "Default Web Site/shoreauth"
ASKS = frozenset({"SslNegotiateCert", "SslRequireCert"})

REMEDIATION = (
    "Beyond the KB (X7): IIS only asks for a client certificate where sslFlags holds SslNegotiateCert (accept) or "
    "SslRequireCert (require); without either the phones' certificate never reaches certauth. Back up IIS's "
    "configuration, then let the shoreauth application accept client certificates (IIS Manager: shoreauth > SSL "
    "Settings > Client certificates: Accept):\n"
    "  Backup-WebConfiguration -Name casgate-before-sslflags\n"
    f"  Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Location '{LOCATION}' "
    "-Filter 'system.webServer/security/access' -Name sslFlags -Value 'Ssl,SslNegotiateCert'\n"
    "Undo:\n"
    "  Restore-WebConfiguration -Name casgate-before-sslflags"
)


def judge_client_cert_policy(access: AccessPolicy) -> Verdict:
    """X7, Microsoft Learn "Access Security <access>" (https://learn.microsoft.com/en-us/iis/configuration/
    system.webserver/security/access): sslFlags SslNegotiateCert accepts a client certificate, SslRequireCert requires
    one; with neither IIS never asks the client for one, and certauth, which authenticates the phone by it, fails."""
    if access.location.strip("/").lower() != LOCATION.lower():  # IIS's configuration paths ignore letter case
        raise EvidenceError(IIS_ACCESS, f"describes {access.location[:80]!r}, not {LOCATION!r} where the phones post")
    evidence = (access.describe(),)
    facts: Facts = {"sslFlags": tuple(sorted(access.flags)) or ("None",)}
    asks = sorted(access.flags & ASKS)
    if not asks:
        return Verdict.failed(f"IIS does not ask for a client certificate at {access.location} (no SslNegotiateCert or "
                              "SslRequireCert): the phones' certificate never reaches certauth", evidence, REMEDIATION, facts)
    return Verdict.passed(f"IIS asks for the phones' client certificate at {access.location} ({', '.join(asks)})", evidence, facts)
