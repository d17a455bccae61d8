"""`python -m local_endpoint serve | demo` (see local_endpoint.cli)."""

import sys

from local_endpoint.cli import main

sys.exit(main())
