"""TOML files a user writes (inventory, waivers): read with one clear error naming the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from casgate.errors import CasgateError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def read_toml(path: Path, what: str, error: type[CasgateError]) -> dict[str, Any]:
    """The document, or `error` naming the file and what is wrong (never a parser traceback)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise error(f"{path}: cannot be read ({exc})") from None
    except RecursionError:
        raise error(f"{path}: cannot be read (arrays or tables nested too deeply)") from None
    except ValueError:  # tomllib refuses integers of more than 4300 digits
        raise error(f"{path}: cannot be read (a number too long)") from None
