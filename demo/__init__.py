"""The demo: the seed walkthrough (`python -m demo run`) and its least-privilege checks.

It plays both parties of the seed's flow against a deployed stack through the public
``kms_sign_encrypt`` API. The command line (``kms_sign_encrypt_cli``) runs it as `run`;
`python -m demo ...` is the same command line, kept because the docs use it.
"""
