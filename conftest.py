"""Registers the casgate plugin: --host, the evidence fixtures and the reports."""

import importlib.util
import sys

if importlib.util.find_spec("casgate") is None or importlib.util.find_spec("dns") is None:
    print("casgate usage error: casgate is not installed in this Python: "
          "python3 -m venv .venv && .venv/bin/pip install -e . (then run .venv/bin/pytest --host hq01)", file=sys.stderr)
    raise SystemExit(2)

pytest_plugins = ["casgate.plugin"]
