"""Test helpers and tests (a package: helpers are imported as tests.<area>.<module>)."""
