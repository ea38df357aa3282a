"""Judges: pure functions from evidence to a Verdict, one module per KB cause; tests_infra/ calls them."""
