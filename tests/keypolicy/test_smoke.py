"""Placeholder smoke test; replaced by the full evaluator tests."""

import keypolicy


def test_decide_allows_named_role_session():
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Dec",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/ReceiverRole"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ],
    }
    session = "arn:aws:sts::123456789012:assumed-role/ReceiverRole/s1"
    assert keypolicy.decide(policy, session, "kms:Decrypt", {}).outcome is keypolicy.Outcome.ALLOW
    assert (
        keypolicy.decide(policy, session, "kms:Encrypt", {}).outcome
        is keypolicy.Outcome.IMPLICIT_DENY
    )
