"""The `kms-sign-encrypt` command line: the thin edge over the ``kms_sign_encrypt`` library.

It parses each command's options, calls the library, and turns each
``kms_sign_encrypt.KmsSignEncryptError`` into one line and a documented exit code. It is the only
package that knows flag names. The seed walkthrough that `run` plays lives in ``demo``.
"""
