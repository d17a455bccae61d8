"""EventBridge: TestEventPattern with this project's matcher (local_endpoint.event_patterns)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError

from local_endpoint.patches.registry import (
    EVENTS_RESPONSES,
    REGISTRY,
)
from local_endpoint.patching import Patcher


@REGISTRY.patch("events_test_event_pattern", module=EVENTS_RESPONSES)
def events_test_event_pattern(patcher: Patcher) -> None:
    """TestEventPattern answers whether the event matches, as EventBridge matches patterns.

    EventBridge API reference, TestEventPattern: {"Result": true|false}; a bad pattern is
    InvalidEventPatternException, an event without id, account, source, time, region,
    resources and detail-type is ValidationException. moto 5.2.5 answers an empty body, and its
    own matcher does not see fields of objects inside arrays (a CloudTrail event's
    detail.resources.ARN). The matcher is local_endpoint.event_patterns.
    """
    from moto.events.responses import EventsHandler

    from local_endpoint import event_patterns

    def test_event_pattern(self: Any) -> Any:
        try:
            result = event_patterns.test_event_pattern(
                self._get_param("EventPattern") or "", self._get_param("Event") or ""
            )
        except event_patterns.PatternError as error:
            raise JsonRESTError("InvalidEventPatternException", str(error)) from None
        except ValueError as error:
            raise JsonRESTError("ValidationException", str(error)) from None
        return json.dumps({"Result": result})

    patcher.replace(EventsHandler, "test_event_pattern", test_event_pattern)
