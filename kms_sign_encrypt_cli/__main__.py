"""`python -m kms_sign_encrypt_cli`: the same as the `kms-sign-encrypt` console command."""

from kms_sign_encrypt_cli.cli import main

raise SystemExit(main())
