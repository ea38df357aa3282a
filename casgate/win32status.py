"""Names and documented meanings of the sc-win32-status values IIS logs when it rejects a client certificate.

Source of every name, value and meaning: Microsoft Learn, "COM Error Codes (Security and Setup) (Winerror.h)"
(https://learn.microsoft.com/windows/win32/com/com-error-codes-4; MicrosoftDocs/win32
desktop-src/com/com-error-codes-4.md, CC BY 4.0)."""

from __future__ import annotations

import re
from enum import Enum


class Revocation(str, Enum):
    """What a 403.13's status says about the phone's certificate."""

    NOT_CHECKED = "the server could not check revocation"
    REVOKED = "the phone's certificate is revoked"
    UNKNOWN = "unknown status"


_NAMES = {
    0x800B0101: "CERT_E_EXPIRED",
    0x800B0109: "CERT_E_UNTRUSTEDROOT",
    0x800B010A: "CERT_E_CHAINING",
    0x800B010F: "CERT_E_CN_NO_MATCH",
    0x800B0110: "CERT_E_WRONG_USAGE",
    0x80096004: "TRUST_E_CERT_SIGNATURE",
    0x80090325: "SEC_E_UNTRUSTED_ROOT",
    0x80090327: "SEC_E_CERT_UNKNOWN",
    0x80090328: "SEC_E_CERT_EXPIRED",
}
# The revocation codes, each with Microsoft's description (the page above) and what it means for a 403.13.
REVOCATION_CODES: dict[int, tuple[str, str, Revocation]] = {
    0x80092010: ("CRYPT_E_REVOKED", "The certificate is revoked.", Revocation.REVOKED),
    0x800B010C: ("CERT_E_REVOKED", "A certificate was explicitly revoked by its issuer.", Revocation.REVOKED),
    0x80092011: ("CRYPT_E_NO_REVOCATION_DLL", "No Dll or exported function was found to verify revocation.", Revocation.NOT_CHECKED),
    0x80092012: ("CRYPT_E_NO_REVOCATION_CHECK", "The revocation function was unable to check revocation for the certificate.",
                 Revocation.NOT_CHECKED),
    0x80092013: ("CRYPT_E_REVOCATION_OFFLINE", "The revocation function was unable to check revocation because the revocation "
                 "server was offline.", Revocation.NOT_CHECKED),
    0x80092014: ("CRYPT_E_NOT_IN_REVOCATION_DATABASE", "The certificate is not in the revocation server's database.",
                 Revocation.NOT_CHECKED),  # the responder knows nothing of it: neither revoked nor known good
    0x800B010E: ("CERT_E_REVOCATION_FAILURE", "The revocation process could not continue - the certificate(s) could not be checked.",
                 Revocation.NOT_CHECKED),
}
_DESCRIBED = re.compile(r"\((\d{1,10}) = 0x[0-9A-F]{8}(?: \w+)?\)$")


def _code(value: str) -> int | None:
    """IIS logs the HRESULT as unsigned decimal; only ASCII digits are a number here."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None


def describe_win32_status(value: str) -> str:
    """'2148204809' -> '2148204809 = 0x800B0109 CERT_E_UNTRUSTEDROOT'."""
    code = _code(value)
    if code is None:
        return value
    name = _NAMES.get(code) or REVOCATION_CODES.get(code, ("",))[0]
    return f"{value} = 0x{code:08X}" + (f" {name}" if name else "")


def revocation_meaning(symptom: str) -> tuple[Revocation, str]:
    """What a 403.13 finding's status means and why, from the symptom the log scan wrote (it ends in
    '(<value> = 0x... NAME)' when the line had a status): no status, or one Microsoft does not document as a
    revocation result, is UNKNOWN, named with its raw value."""
    match = _DESCRIBED.search(symptom)
    if match is None:
        raw = symptom.rpartition("(")[2].rstrip(")") if symptom.endswith(")") else ""
        return Revocation.UNKNOWN, (f"sc-win32-status {raw[:40]!r} is not a status code" if raw else
                                    "logged without an sc-win32-status (field absent, '-' or 0): nothing says why")
    code = int(match[1])
    if code not in REVOCATION_CODES:
        return Revocation.UNKNOWN, f"sc-win32-status {match[1]} = 0x{code:08X} is not a revocation result Microsoft documents"
    name, text, meaning = REVOCATION_CODES[code]
    return meaning, f"0x{code:08X} {name}: \"{text}\""
