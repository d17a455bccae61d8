"""`python -m demo`: the same as the `kms-sign-encrypt` console command."""

from demo.cli import main

raise SystemExit(main())
