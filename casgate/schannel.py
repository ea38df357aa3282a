"""SCHANNEL registry settings the KB talks about, read from a RegistryView, with Windows' defaults."""

from __future__ import annotations

from dataclasses import dataclass

from casgate import windows
from casgate.errors import EvidenceError
from casgate.regfile import RegistryView

SCHANNEL = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
TLS10_SERVER = SCHANNEL + r"\Protocols\TLS 1.0\Server"
# Group Policy "SSL Cipher Suite Order" (REG_SZ, comma-separated) overrides the local list (REG_MULTI_SZ).
CIPHER_POLICY_GPO = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002"
CIPHER_POLICY_LOCAL = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Cryptography\Configuration\Local\SSL\00010002"

# Windows turns TLS 1.0 on for the server side by default from Windows 7 / Server 2008 R2 (build 7601) through
# Windows Server 2022 (build 20348): Microsoft Learn, "Protocols in TLS/SSL (Schannel SSP)". Microsoft announced
# in "TLS 1.0 and TLS 1.1 soon to be disabled in Windows" (Windows IT Pro blog, Aug 2023) that later releases
# (Windows 11 24H2 / Server 2025, build 26100) ship with it off, so from that build we assume "off unless set".
_TLS10_DEFAULT_OFF_FROM_BUILD = 26100


def require_schannel(registry: RegistryView) -> None:
    if not registry.has_key(SCHANNEL):
        raise EvidenceError("registry/", f"no export of {SCHANNEL}; run reg export as in docs/snapshot-format.md")


def windows_build(os_version: str) -> int:
    build = windows.windows_build(os_version)
    if build is None:
        raise EvidenceError("manifest.json", f"os_version {os_version!r} has no Windows build number (e.g. 10.0.17763)")
    return build


@dataclass(frozen=True)
class ProtocolState:
    """Whether Schannel offers a protocol to IIS, and the registry values (or defaults) that say so."""

    enabled: bool
    explanation: str
    facts: dict[str, str]


def tls10_server_state(registry: RegistryView, os_version: str) -> ProtocolState:
    require_schannel(registry)
    enabled = _dword(registry, TLS10_SERVER, "Enabled")
    disabled_by_default = _dword(registry, TLS10_SERVER, "DisabledByDefault")
    build = windows_build(os_version)
    default_on = build < _TLS10_DEFAULT_OFF_FROM_BUILD
    shown = (
        f"{TLS10_SERVER}: Enabled={_show(enabled)}, DisabledByDefault={_show(disabled_by_default)} "
        f"(OS build {build}: TLS 1.0 server {'on' if default_on else 'off'} by default)"
    )
    # IIS (http.sys) never asks for a protocol explicitly, so DisabledByDefault=1 switches it off for IIS.
    is_enabled = (default_on if enabled is None else enabled != 0) and (
        default_on if disabled_by_default is None else disabled_by_default == 0
    )
    facts = {"TLS 1.0 Server Enabled": _show(enabled), "TLS 1.0 Server DisabledByDefault": _show(disabled_by_default),
             "TLS 1.0 OS default": "on" if default_on else "off"}
    return ProtocolState(is_enabled, shown, facts)


def _show(value: object) -> str:
    return "(absent)" if value is None else (f"0x{value:x}" if isinstance(value, int) and value > 9 else str(value))


def _dword(registry: RegistryView, key: str, name: str) -> int | None:
    """Schannel reads these as DWORDs; a string "0" must not count as "set to something non-zero"."""
    value = registry.value(key, name)
    if value is not None and not isinstance(value, int):
        raise EvidenceError(registry.source(key), f"{key} {name} should be a DWORD, got {value!r:.80}")
    return value


def dword(registry: RegistryView, name: str) -> int | None:
    """A DWORD under the SCHANNEL key itself, or None when absent."""
    require_schannel(registry)
    return _dword(registry, SCHANNEL, name)


# SendTrustedIssuerList's default: 1 (send) before Windows Server 2012 / Windows 8 (build 9200), 0 from them on.
# Microsoft Learn, "Overview of TLS - SSL (Schannel SSP)", "Management of trusted issuers for client authentication"
# (https://learn.microsoft.com/windows-server/security/tls/what-s-new-in-tls-ssl-schannel-ssp-overview).
ISSUER_LIST_DEFAULT_OFF_FROM_BUILD = 9200


@dataclass(frozen=True)
class IssuerListSetting:
    """Whether Schannel sends the trusted issuer list: the registry value, the OS build its default depends on, and
    the answer (None when it cannot be told: a value Schannel does not document, or absent with no build)."""

    value: object
    build: int | None
    no_build: str  # why there is no build ("" when there is one)
    sends: bool | None

    @property
    def interpretable(self) -> bool:
        return self.value is None or self.value in (0, 1)

    def shown(self) -> str:
        return "(absent)" if self.value is None else repr(self.value)[:40]

    def why(self) -> str:
        """The rule that decided, in the admin's words."""
        if self.value is not None:
            return f"SendTrustedIssuerList={self.value!r:.40}"
        if self.sends is None:
            return "SendTrustedIssuerList absent and the OS build unknown: sent before Windows Server 2012 (1), not from it on (0)"
        return f"SendTrustedIssuerList absent: the default on OS build {self.build} is {int(self.sends)}"


def trusted_issuer_list(registry: RegistryView, os_version: str) -> IssuerListSetting:
    """SendTrustedIssuerList as Schannel reads it: 1 sends, 0 does not, absent takes the default of the OS build."""
    require_schannel(registry)
    value = registry.value(SCHANNEL, "SendTrustedIssuerList")
    try:
        build: int | None = windows_build(os_version)
        no_build = ""
    except EvidenceError as exc:
        build, no_build = None, exc.problem
    if value is not None:
        sends = value == 1 if value in (0, 1) else None
    else:
        sends = None if build is None else build < ISSUER_LIST_DEFAULT_OFF_FROM_BUILD
    return IssuerListSetting(value, build, no_build, sends)


@dataclass(frozen=True)
class CipherPolicy:
    """The configured cipher-suite order, where one is set; `key` says which registry key set it."""

    key: str
    suites: tuple[str, ...]


def cipher_policy(registry: RegistryView) -> CipherPolicy | None:
    for key in (CIPHER_POLICY_GPO, CIPHER_POLICY_LOCAL):
        value = registry.value(key, "Functions")
        if value is None:
            continue
        if isinstance(value, str):
            suites = tuple(s.strip() for s in value.split(","))
        elif isinstance(value, tuple):
            suites = value
        else:
            raise EvidenceError(registry.source(key), f"{key} Functions should be a string list, got {value!r:.80}")
        return CipherPolicy(key, tuple(s for s in suites if s))
    return None
