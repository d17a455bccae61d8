"""The tests, as a package: helpers are imported by their full name, e.g.
`from tests.envelope.envelope_testkit import Parties`. tests/demo is not a package yet (see the
pythonpath in pyproject.toml)."""
