"""KB reason 4: TLS 1.0 (what IP400 phones speak) and one of the phones' cipher suites must stay enabled."""

from __future__ import annotations

from casgate.evidence import TlsProbe
from casgate.profile import windows_suite_name
from casgate.regfile import RegistryView
from casgate.schannel import CIPHER_POLICY_GPO, TLS10_SERVER, cipher_policy, tls10_server_state
from casgate.snapshot import TLS_PROBE
from casgate.verdict import Facts, Verdict
from casgate.windows import Generation, generation

TLS10_PROFILE = "tls1.0"
PHONE_PROFILE = "phone-profile"

ENABLE_TLS10 = (
    "KB reason 4: enable TLS 1.0 for the server side (IIS Crypto, or the registry from an administrative "
    "PowerShell), then reboot: Schannel reads these values only at start-up.\n"
    f"  New-Item -Path 'Registry::{TLS10_SERVER}' -Force\n"
    f"  New-ItemProperty -Path 'Registry::{TLS10_SERVER}' -Name Enabled -Value 1 -PropertyType DWord -Force\n"
    f"  New-ItemProperty -Path 'Registry::{TLS10_SERVER}' -Name DisabledByDefault -Value 0 -PropertyType DWord -Force\n"
    "  Restart-Computer"
)
DISAGREEMENT = (
    "KB reason 4: the registry and the live handshake disagree. Either the registry was changed but the server "
    "has not been rebooted since (Schannel reads it at start-up), or something else decides (a Group Policy, a "
    "load balancer or TLS-inspecting firewall in front of IIS). Reboot in a maintenance window, or find the policy:\n"
    "  gpresult /h C:\\gpresult.html"
)
_CIPHERS_WHY = (
    "KB reason 4: put at least one of the phones' TLS 1.0 suites back into the server's cipher-suite order "
    "(IIS Crypto, or Group Policy 'SSL Cipher Suite Order', which overrides the local list), then reboot.\n"
)
CIPHERS = {
    Generation.SERVER_2016: (
        "Locally, from an administrative PowerShell:\n"
        "  Enable-TlsCipherSuite -Name {suite}\n"
        "  Restart-Computer"
    ),
    # Enable-TlsCipherSuite first ships with Server 2016 (the 2012 R2 TLS module has only the session-ticket cmdlets):
    # there the order is the Group Policy value itself, which Schannel reads at start-up.
    Generation.SERVER_2012_R2: (
        "Windows Server 2012 R2 has no Enable-TlsCipherSuite: the order is the policy's Functions value (gpedit.msc > "
        "Computer Configuration > Administrative Templates > Network > SSL Configuration Settings). From an "
        "administrative PowerShell, back the key up, then put the phones' suite first:\n"
        f"  reg export \"{CIPHER_POLICY_GPO}\" \"$env:SystemDrive\\casgate-backup-cipher-order.reg\" /y\n"
        f"  $order = (Get-ItemProperty -Path 'Registry::{CIPHER_POLICY_GPO}' -Name Functions).Functions\n"
        f"  Set-ItemProperty -Path 'Registry::{CIPHER_POLICY_GPO}' -Name Functions -Value ('{{suite}},' + $order)\n"
        "  Restart-Computer\n"
        "Undo: reg import the backup file, then reboot. A domain Group Policy that sets the order (gpresult /h) "
        "overwrites a local change: change it there. Where the key does not exist, set the order in gpedit.msc."
    ),
}


def cipher_remediation(os_version: str, suite: str) -> str:
    """The fix for the server's Windows; both, each named, when the evidence does not say which."""
    chosen = generation(os_version)
    routes = [CIPHERS[chosen]] if chosen is not None else [f"On {g.value}: {text}" for g, text in CIPHERS.items()]
    return (_CIPHERS_WHY + "\n".join(routes)).replace("{suite}", suite)


def judge_tls10(registry: RegistryView | None, os_version: str, probe: TlsProbe, reboot_pending: bool | None = None) -> Verdict:
    """Registry and handshake must both say TLS 1.0 is on; without the registry, the handshake alone decides."""
    handshake = probe.handshake(TLS10_PROFILE, TLS_PROBE)
    shake_line = f"handshake to {probe.target}: {handshake.describe()}"
    facts: Facts = {"TLS 1.0 handshake": "accepted" if handshake.accepted else "refused"}
    if registry is None:
        evidence = ("registry: not collected; judged on the handshake alone", shake_line)
        if handshake.accepted:
            return Verdict.passed("the server accepts a TLS 1.0 handshake", evidence, facts)
        return Verdict.failed("the server refuses TLS 1.0; IP400 phones cannot connect", evidence, ENABLE_TLS10, facts)
    state = tls10_server_state(registry, os_version)
    evidence = (f"registry: {state.explanation}", shake_line)
    facts.update(state.facts)
    if state.enabled and handshake.accepted:
        return Verdict.passed("TLS 1.0 is enabled in the registry and the server accepts a TLS 1.0 handshake", evidence, facts)
    if not state.enabled and not handshake.accepted:
        return Verdict.failed("TLS 1.0 is disabled for the server side; IP400 phones cannot connect", evidence, ENABLE_TLS10, facts)
    said = "enabled" if state.enabled else "disabled"
    did = "accepts" if handshake.accepted else "refuses"
    pending = () if reboot_pending is None else (
        f"Windows reboot pending: {'yes: the registry change is probably not live yet' if reboot_pending else 'no'}",)
    return Verdict.failed(
        f"registry says TLS 1.0 is {said} but the server {did} a TLS 1.0 handshake "
        "(changed but not rebooted, or another policy decides)",
        evidence + pending,
        DISAGREEMENT + ("" if state.enabled else "\n" + ENABLE_TLS10),
        facts,
    )


def judge_phone_ciphers(registry: RegistryView | None, probe: TlsProbe, profile: tuple[str, ...], os_version: str = "") -> Verdict:
    handshake = probe.handshake(PHONE_PROFILE, TLS_PROBE)
    policy = cipher_policy(registry) if registry is not None else None
    evidence = [f"phone profile: {', '.join(profile)}", f"handshake to {probe.target}: {handshake.describe()}"]
    problems = []
    facts: Facts = {"phone-profile handshake": "accepted" if handshake.accepted else "refused"}
    if not handshake.accepted:
        problems.append("no suite of the phones' TLS 1.0 profile negotiates")
    if registry is None:
        evidence.append("cipher-suite policy: registry not collected; judged on the handshake alone")
    elif policy is None:
        evidence.append("cipher-suite policy: not set (Windows' default order applies)")
    else:
        kept = [s for s in policy.suites if windows_suite_name(s) in profile]
        facts["policy keeps of the phones' suites"] = tuple(kept)
        evidence.append(f"cipher-suite policy {policy.key}: {len(policy.suites)} suites, of the phones' profile: {', '.join(kept) or 'none'}")
        if not kept:
            problems.append("the cipher-suite policy lists none of the phones' suites")
    if not problems:
        return Verdict.passed("the server accepts the phones' TLS 1.0 cipher profile", tuple(evidence), facts)
    return Verdict.failed("; ".join(problems), tuple(evidence), cipher_remediation(os_version, profile[0]), facts)
