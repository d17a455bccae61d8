"""The CDK app: two asymmetric KMS keys, their aliases, a sender and a receiver role."""
