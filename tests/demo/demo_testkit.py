"""Helpers for the demo's tests (imported as tests.demo.demo_testkit)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from botocore.awsrequest import AWSResponse


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def aws_error(
    code: str, message: str, status: int = 400, *, xml: bool = False
) -> Callable[..., AWSResponse]:
    """A before-send handler answering every request with an AWS error: JSON protocol (KMS,
    CloudFormation's newer clients) or, with ``xml``, the query protocol (STS)."""
    if xml:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, status, headers, _Raw(body))

    return answer
