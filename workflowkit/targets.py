"""What a rule target receives: the event, or its ``Input``, ``InputPath`` or input transformation.

Implements EventBridge's rules: ``Input`` replaces the event with constant JSON; ``InputPath`` selects a
part of it; an ``InputTransformer`` fills ``<name>`` placeholders of its template from JSON paths —
inside quotes a placeholder takes the value's text, outside quotes its JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
_MISSING = object()


def json_path(document: Any, path: str) -> Any:
    """The value at a simple JSONPath (``$``, ``$.a.b``, ``$.a[0]``); missing -> a sentinel."""
    if path in ("$", ""):
        return document
    if not path.startswith("$"):
        raise ValueError(f"unsupported JSON path {path!r}")
    value = document
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path[1:]):
        key, index = part
        if key:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def target_input(target: dict[str, Any], event: dict[str, Any], *, rule_name: str) -> str:
    """The payload delivered to ``target`` for ``event``, as the string EventBridge would send."""
    if "Input" in target and target["Input"] is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        selected = json_path(event, target["InputPath"])
        return json.dumps(None if selected is _MISSING else selected)
    transformer = target.get("InputTransformer")
    if transformer:
        return _transform(transformer, event, rule_name=rule_name)
    return json.dumps(event)


def _transform(transformer: dict[str, Any], event: dict[str, Any], *, rule_name: str) -> str:
    values: dict[str, Any] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found = json_path(event, path)
        values[name] = None if found is _MISSING else found
    values.setdefault("aws.events.rule-name", rule_name)
    values.setdefault("aws.events.event", event)
    values.setdefault("aws.events.event.json", event)
    values.setdefault("aws.events.event.ingestion-time", event.get("time"))
    template = transformer["InputTemplate"]

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        start, end = match.start(), match.end()
        quoted = start > 0 and template[start - 1] == '"' and end < len(template) and template[end] == '"'
        if quoted:
            text = value if isinstance(value, str) else json.dumps(value)
            return json.dumps(text)[1:-1]  # escaped for its place inside a JSON string
        return value if isinstance(value, str) and not _looks_like_json(template) else json.dumps(value)

    return _PLACEHOLDER.sub(fill, template)


def _looks_like_json(template: str) -> bool:
    stripped = template.strip()
    return stripped.startswith(("{", "["))
