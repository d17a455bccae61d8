"""Every message the endpoint writes itself, in one table, each marked quoted from AWS or invented.

``QUOTED`` messages are AWS's words, from recorded real-AWS responses or the AWS documentation
named in ``source``; a test pins each where the endpoint answers it. ``INVENTED`` messages
exist only here (AWS has no equivalent, or its wording is unknown): they say so in ``source``.
``{placeholders}`` are filled with ``str.format``. docs/LOCAL-ENDPOINT.md ("Messages") prints
this table; a test keeps the two equal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Origin(enum.Enum):
    QUOTED = "quoted from AWS"
    INVENTED = "invented"


@dataclass(frozen=True)
class Message:
    code: str  # the error code it goes with
    text: str
    origin: Origin
    source: str

    def format(self, **values: str) -> str:
        return self.text.format(**values)


_Q, _I = Origin.QUOTED, Origin.INVENTED

INCORRECT_KEY = Message(
    "IncorrectKeyException",
    "The key ID in the request does not identify a CMK that can perform this operation.",
    _Q,
    "recorded AWS KMS responses (Decrypt with another key's KeyId)",
)
LOCKOUT = Message(
    "MalformedPolicyDocumentException",
    "The new key policy will not allow you to update the key policy in the future.",
    _Q,
    "recorded AWS KMS responses; KMS developer guide, default key policy",
)
INVALID_PRINCIPALS = Message(
    "MalformedPolicyDocumentException",
    "Policy contains a statement with one or more invalid principals.",
    _Q,
    "recorded AWS KMS responses (CloudFormation events quoted in aws-cdk user issues)",
)
INVALID_TRUST_PRINCIPAL = Message(
    "MalformedPolicyDocument",
    'Invalid principal in policy: "AWS":"{arn}"',
    _Q,
    "recorded IAM CreateRole responses",
)
IMMUTABLE_KEY = Message(
    "InvalidRequest",
    "You cannot change the values of the KeySpec, KeyUsage, Origin, or MultiRegion "
    "properties of an AWS::KMS::Key resource.",
    _Q,
    "aws-cloudformation-resource-providers-kms, BaseHandlerStd.CFN_INVALID_REQUEST_MESSAGE",
)
HANDLER_FAILED = Message(
    "(stack event)",
    'Resource handler returned message: "{message}" (HandlerErrorCode: {code})',
    _Q,
    "CloudFormation stack events as `cdk deploy` prints them (aws-cdk user issues)",
)
INVALID_TOKEN = Message(
    "UnrecognizedClientException / InvalidClientTokenId",
    "The security token included in the request is invalid.",
    _Q,
    "KMS and STS API reference, Common Errors; recorded responses",
)
EXPIRED_TOKEN = Message(
    "ExpiredTokenException / ExpiredToken",
    "The security token included in the request is expired",
    _Q,
    "recorded STS/KMS responses",
)
ACCESS_DENIED = Message(
    "AccessDeniedException / AccessDenied",
    "User: {caller} is not authorized to perform: {action} on resource: {resource}{reason}",
    _Q,
    "IAM User Guide, Access denied error messages",
)
NOT_FOUND_KEY = Message(
    "NotFoundException", "Key '{arn}' does not exist", _Q, "recorded AWS KMS responses"
)
NOT_FOUND_ALIAS = Message(
    "NotFoundException", "Alias {arn} is not found.", _Q, "recorded AWS KMS responses"
)
VALIDATION = Message(
    "ValidationException",
    "{count} validation error(s) detected: Value at '{member}' failed to satisfy constraint: ...",
    _Q,
    "AWS's standard validation wording (recorded: the 4096-byte RAW Sign)",
)
KEY_USAGE = Message(
    "InvalidKeyUsageException",
    "{arn} key usage is {usage} which is not valid for {operation}.",
    _Q,
    "recorded AWS KMS responses",
)
ALGORITHM = Message(
    "InvalidKeyUsageException",
    "Algorithm {algorithm} is incompatible with key spec {key_spec}.",
    _Q,
    "recorded AWS KMS responses",
)
DIGEST_LENGTH = Message(
    "ValidationException",
    "Digest is invalid length for algorithm {algorithm}.",
    _Q,
    "recorded AWS KMS responses",
)
NO_PUBLIC_KEY = Message(
    "UnsupportedOperationException",
    "{arn} key spec is {key_spec} which is not valid for GetPublicKey.",
    _I,
    "wording modelled on the key-usage message; AWS's exact text not recorded",
)
DISABLED = Message("DisabledException", "{arn} is disabled.", _Q, "recorded AWS KMS responses")
PENDING_DELETION = Message(
    "KMSInvalidStateException", "{arn} is pending deletion.", _Q, "recorded AWS KMS responses"
)
POLICY_UNREADABLE = Message(
    "MalformedPolicyDocumentException",
    "The key policy cannot be read: {reason}",
    _I,
    "the project's evaluator cannot read the policy; AWS would name the element",
)
POLICY_NOT_EVALUATED = Message(
    "KMSInternalException",
    "key policy: {reason}",
    _I,
    "the evaluator met a policy element it does not model: refused, never guessed",
)
TRUST_NOT_UNDERSTOOD = Message(
    "AccessDenied",
    "trust policy not understood: {reason}",
    _I,
    "the trust evaluator met an element it does not model: refused, never guessed",
)
EMPTY_CIPHERTEXT_OR_SIGNATURE = Message(
    "InvalidCiphertextException / KMSInvalidSignatureException",
    "",
    _Q,
    "AWS KMS sends these without a message (recorded)",
)

TABLE: tuple[Message, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Message))
