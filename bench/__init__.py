"""Benchmark of the envelope against its primitives and the AWS Encryption SDK (`make bench`)."""
