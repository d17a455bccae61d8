"""The registry every patch module registers with, and the moto modules they patch."""

from __future__ import annotations

from local_endpoint.patching import Registry

REGISTRY = Registry()

KMS_MODELS = "moto.kms.models"
KMS_RESPONSES = "moto.kms.responses"
CFN_MODELS = "moto.cloudformation.models"
CFN_RESPONSES = "moto.cloudformation.responses"
STS_MODELS = "moto.sts.models"
STS_RESPONSES = "moto.sts.responses"
IAM_MODELS = "moto.iam.models"
EVENTS_RESPONSES = "moto.events.responses"
# Cheap to import (about 0.1 s together): the server loads them before installing, so every
# patch but the CloudFormation ones applies at start-up, in registry order. CloudFormation
# costs about 2 s to import and is patched when its first request arrives.
PRELOADED = (KMS_MODELS, KMS_RESPONSES, STS_MODELS, STS_RESPONSES)
