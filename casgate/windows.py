"""Which Windows a snapshot came from, read from the manifest's os_version: the build, and the generation that
decides which commands a printed fix may use (Server 2012 R2 ships Windows PowerShell 4.0 and lacks the 2016 modules)."""

from __future__ import annotations

import re
from enum import Enum

_BUILD = re.compile(r"\b(?:10|6|5)\.[0-9]+\.([0-9]{4,5})\b", re.ASCII)  # ASCII digits only; 5.2.3790 is Server 2003
_SERVER_2016_BUILD = 14393


class Generation(Enum):
    """The Windows releases casgate prints fixes for, oldest first."""

    SERVER_2012_R2 = "Windows Server 2012 R2 (Windows PowerShell 4.0)"
    SERVER_2016 = "Windows Server 2016 or later (Windows PowerShell 5.1)"


def windows_build(os_version: str) -> int | None:
    """The build number in "Microsoft Windows Server 2012 R2 Standard 6.3.9600" (9600), or None."""
    match = _BUILD.search(os_version)
    return int(match[1]) if match else None


def generation(os_version: str) -> Generation | None:
    """Server 2016's build 14393 and later, else 2012 R2 (older builds are out of range: 2012 R2's fix is the nearest);
    None when os_version names no build."""
    build = windows_build(os_version)
    if build is None:
        return None
    return Generation.SERVER_2016 if build >= _SERVER_2016_BUILD else Generation.SERVER_2012_R2
