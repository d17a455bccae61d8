"""kms_sign_encrypt: sign and encrypt with AWS KMS asymmetric keys (docs/LIBRARY.md)."""
