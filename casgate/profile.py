"""The TLS 1.0 cipher suites the IP400 phones offer: the profile the cipher check and the TLS probe use.

Mitel does not publish the list; this default is what IP400 firmware is commonly seen to offer in TLS 1.0.
Confirm it against a capture of a phone's ClientHello and override it with the `casgate_phone_ciphers` ini option.
"""

from __future__ import annotations

import re

from casgate.errors import CasgateError

# IANA name (what Windows' cipher-suite policy lists) -> OpenSSL name (what the runner's probe offers).
TLS10_SUITES: dict[str, str] = {
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA": "DHE-RSA-AES256-SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA": "DHE-RSA-AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
}

DEFAULT_PHONE_PROFILE: tuple[str, ...] = (
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
)

# Windows before 10 / Server 2016 named ECDHE suites with their curve: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA_P384.
_CURVE_SUFFIX = re.compile(r"_P(256|384|521)$")


def windows_suite_name(name: str) -> str:
    return _CURVE_SUFFIX.sub("", name.strip().upper())


def phone_profile(names: list[str]) -> tuple[str, ...]:
    """The configured profile (the default when `names` is empty); unknown names are a usage error."""
    profile = tuple(windows_suite_name(n) for n in names) or DEFAULT_PHONE_PROFILE
    unknown = [n for n in profile if n not in TLS10_SUITES]
    if unknown:
        raise CasgateError(f"casgate_phone_ciphers: unknown TLS 1.0 suite(s) {', '.join(unknown)}; known: {', '.join(TLS10_SUITES)}")
    return profile
