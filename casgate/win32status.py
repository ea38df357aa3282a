"""Names for the sc-win32-status values IIS logs when it rejects a client certificate."""

from __future__ import annotations

_NAMES = {
    0x800B0101: "CERT_E_EXPIRED",
    0x800B0109: "CERT_E_UNTRUSTEDROOT",
    0x800B010A: "CERT_E_CHAINING",
    0x800B010C: "CERT_E_REVOKED",
    0x800B010F: "CERT_E_CN_NO_MATCH",
    0x800B0110: "CERT_E_WRONG_USAGE",
    0x80092012: "CRYPT_E_NO_REVOCATION_CHECK",
    0x80092013: "CRYPT_E_REVOCATION_OFFLINE",
    0x80096004: "TRUST_E_CERT_SIGNATURE",
    0x80090325: "SEC_E_UNTRUSTED_ROOT",
    0x80090327: "SEC_E_CERT_UNKNOWN",
    0x80090328: "SEC_E_CERT_EXPIRED",
}


def describe_win32_status(value: str) -> str:
    """'2148204809' -> '2148204809 = 0x800B0109 CERT_E_UNTRUSTEDROOT'; IIS logs the HRESULT as unsigned decimal."""
    try:
        code = int(value)
    except ValueError:
        return value
    name = _NAMES.get(code)
    return f"{value} = 0x{code:08X}" + (f" {name}" if name else "")
