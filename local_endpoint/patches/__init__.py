"""Every change this project makes to moto 5.2.5, one small named patch each, by service.

Each patch restores one behaviour that AWS documents and moto 5.2.5 lacks (measured gaps:
the facts file of the project notes; AWS references in each docstring). Each is registered
under a name, so a test can run the endpoint with that patch left out and watch the gap come
back. Drop a patch once moto fixes the gap upstream: its test then passes without it.

Modules (registered in this order, which is the order they apply in):

- :mod:`.cloudformation`: AWS::KMS::Key, change sets, rollback, CloudFormation's KMS calls;
- :mod:`.kms_api`: the KMS operations themselves (algorithms, key usage, key state, ...);
- :mod:`.kms_authorization`: credentials, validation and key policies on every KMS request
  (the flow is :func:`local_endpoint.authorization.authorize_request`);
- :mod:`.sts_iam`: caller identity, credentials, trust policies, principals that exist;
- :mod:`.eventbridge`: TestEventPattern;
- :mod:`.accounts`: several accounts, each with its administrator; cross-account rules;
- :mod:`.wire`: reading moto requests and writing AWS errors (no patch of its own).

The crypto lives in :mod:`local_endpoint.kms_operations`, who may do what in
:mod:`local_endpoint.authorization`; these modules only wire them into moto.

How patches stack on one operation
----------------------------------
A patch wraps what is there when it applies, so the one applied last runs first. For a KMS
request (say Decrypt), outermost first:

1. ``local_endpoint.cloudtrail`` (a WSGI layer, not a patch) records the call and its answer;
2. ``kms_validation_before_authorization`` (``KmsResponse.call_action``): credentials, then
   the request's parameters (``local_endpoint.validation``);
3. ``kms_key_policy_enforced`` (``KmsResponse.call_action``): the key exists, the key policy
   allows the caller;
4. moto's ``call_action`` dispatches to the operation's method, wrapped (outermost first) by
   ``kms_key_policy_safety_checks`` (CreateKey, PutKeyPolicy), ``kms_key_state_enforced``,
   ``kms_key_usage_enforced``, ``kms_encryption_algorithm_checked``,
   ``kms_decrypt_incorrect_key``, then the replacement itself (``kms_rsa_oaep``,
   ``kms_sign_verify_message_types``, ``kms_get_public_key_metadata``) or moto's method.

That is AWS's order (docs/LOCAL-ENDPOINT.md, "The patches"): credentials, validation, the key
exists, key policy, key state, key suitability. A CloudFormation request is wrapped by
``cfn_kms_calls_enforced`` (``CloudFormationResponse.call_action``: CloudFormation's identity),
and the AWS::KMS::Key handlers it runs by ``cfn_kms_key_properties`` inside
``cfn_kms_calls_enforced`` (each handler's KMS calls authorized before the handler runs). STS:
``sts_credentials_recognized`` outside ``sts_trust_policy_enforced`` (AssumeRole).
`tests/local_endpoint/test_endpoint_lifecycle.py` checks the registry order this relies on.
"""

from __future__ import annotations

# Importing the modules registers their patches; the order of these imports is the order above.
# isort: off
from local_endpoint.patches import cloudformation  # noqa: F401
from local_endpoint.patches import kms_api  # noqa: F401
from local_endpoint.patches import kms_authorization  # noqa: F401
from local_endpoint.patches import sts_iam  # noqa: F401
from local_endpoint.patches import eventbridge  # noqa: F401
from local_endpoint.patches import accounts  # noqa: F401

# isort: on
from local_endpoint.patches.cloudformation import IMMUTABLE_KEY_MESSAGE
from local_endpoint.patches.registry import (
    CFN_MODELS,
    CFN_RESPONSES,
    PRELOADED,
    REGISTRY,
)
from local_endpoint.patches.sts_iam import ADMINISTRATOR_USER_ID

__all__ = [
    "ADMINISTRATOR_USER_ID",
    "CFN_MODELS",
    "CFN_RESPONSES",
    "IMMUTABLE_KEY_MESSAGE",
    "PRELOADED",
    "REGISTRY",
]
