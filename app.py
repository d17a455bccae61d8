#!/usr/bin/env python3
"""CDK entry point (`npx cdk synth|deploy|destroy`): build the app and synthesize it.

A bad `sample:*` context value prints one line on stderr and exits with status 2.
"""

import sys

from stacks.app import create_app
from stacks.config import ConfigError


def main() -> int:
    try:
        app = create_app()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
