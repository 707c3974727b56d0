"""Event pattern matching for the local cloud's EventBridge.

Delegates to moto's matcher for now; the local cloud calls only :func:`matches`, so a stricter
matcher can replace it here without touching delivery.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from moto.events.models import EventPattern


@lru_cache(maxsize=1024)
def _compiled(pattern_json: str) -> EventPattern:
    return EventPattern.load(pattern_json)


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return bool(_compiled(json.dumps(pattern, sort_keys=True)).matches_event(event))  # type: ignore[arg-type]
