"""Registers the casgate plugin: --host, the evidence fixtures and the reports."""

pytest_plugins = ["casgate.plugin"]
