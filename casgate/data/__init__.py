"""Real-world data casgate ships: the root certificates of a Windows Server (provenance beside them)."""

from pathlib import Path

WINDOWS_ROOTS = Path(__file__).parent / "windows-root-store"
