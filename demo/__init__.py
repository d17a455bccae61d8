"""The demo CLI: the seed's sender and receiver flow, done right (`python -m demo --help`).

Library modules hold the logic and raise ``demo.errors.DemoError``; ``demo.cli`` is the thin
edge that turns those into one-line messages and exit codes.
"""
