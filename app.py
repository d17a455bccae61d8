#!/usr/bin/env python3
"""CDK entry point (`npx cdk synth|deploy|destroy`): build the app and synthesize it.

Failures end in one line on stderr, never a traceback:
- a bad `sample:*` context value exits with status 2;
- a cdk-nag AwsSolutions finding (the pack runs at every synth) exits with status 1, after
  the plugin's report.
"""

import sys

from aws_cdk import App

from stacks.app import add_compliance_checks, create_app
from stacks.config import ConfigError

EXIT_CONFIG_ERROR = 2
EXIT_VALIDATION_FAILED = 1
_VALIDATION_FAILED = "ValidationFailed: "


def synthesize(app: App) -> int:
    """Synthesize `app` with the compliance checks; 0 on success, 1 on a finding."""
    try:
        add_compliance_checks(app).synth()
    except RuntimeError as error:
        if not str(error).startswith(_VALIDATION_FAILED):
            raise
        # The plugin has already printed its report on stderr; close with one line.
        print(
            "error: synth stopped: cdk-nag AwsSolutions findings (see the report above)",
            file=sys.stderr,
        )
        return EXIT_VALIDATION_FAILED
    return 0


def main() -> int:
    try:
        app = create_app()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    return synthesize(app)


if __name__ == "__main__":
    sys.exit(main())
