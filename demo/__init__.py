"""The demo: the seed walkthrough (`python -m demo run`) and the `kms-sign-encrypt` CLI.

The library is ``kms_sign_encrypt``: it holds the logic and raises
``kms_sign_encrypt.KmsSignEncryptError``; ``demo.cli`` is the thin edge that turns those into
one-line messages and exit codes, and the only place that knows flag names.
"""
