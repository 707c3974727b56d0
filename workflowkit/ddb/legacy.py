"""DynamoDB's legacy conditional parameters, translated into the expressions they are equivalent to.

``Expected``, ``AttributeUpdates``, ``KeyConditions``, ``QueryFilter``/``ScanFilter`` (with
``ConditionalOperator``) predate expressions; DynamoDB still accepts them. Rather than a second
evaluator, a request using them is rewritten into ConditionExpression/UpdateExpression/
KeyConditionExpression/FilterExpression with generated placeholders -- DynamoDB forbids mixing the two
styles in one request, so the generated placeholders cannot collide with the caller's.
"""

from __future__ import annotations

from typing import Any

from workflowkit.ddb.errors import ValidationException

_LEGACY = frozenset(
    {"Expected", "AttributeUpdates", "KeyConditions", "QueryFilter", "ScanFilter", "ConditionalOperator"}
)
_TARGETS = {
    "Expected": "ConditionExpression",
    "QueryFilter": "FilterExpression",
    "ScanFilter": "FilterExpression",
    "KeyConditions": "KeyConditionExpression",
    "AttributeUpdates": "UpdateExpression",
}
_EXPRESSIONS = (
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
)
_COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARGUMENT_COUNTS = {"NULL": 0, "NOT_NULL": 0, "BETWEEN": 2}


class _Placeholders:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#legacy{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":legacy{len(self.values)}"
        self.values[placeholder] = value
        return placeholder


def translate(request: dict[str, Any]) -> dict[str, Any]:
    """The request with legacy parameters replaced by expressions (the same dict when there are none)."""
    if _LEGACY.isdisjoint(request):
        return request
    legacy = sorted(_LEGACY.intersection(request) - {"ConditionalOperator"})
    modern = [
        name
        for name in (*_EXPRESSIONS, "ExpressionAttributeNames", "ExpressionAttributeValues")
        if name in request
    ]
    if modern:
        raise ValidationException(
            "Can not use both expression and non-expression parameters in the same request: Non-expression "
            f"parameters: {{{', '.join(legacy)}}} Expression parameters: {{{', '.join(modern)}}}"
        )
    placeholders = _Placeholders()
    translated = {key: value for key, value in request.items() if key not in _LEGACY}
    operator = request.get("ConditionalOperator", "AND")
    if operator not in ("AND", "OR"):
        raise ValidationException(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed to satisfy "
            "constraint: Member must satisfy enum value set: [AND, OR]"
        )
    for parameter in legacy:
        conditions = request[parameter]
        if parameter == "AttributeUpdates":
            text = _updates(conditions, placeholders)
        else:
            joiner = " AND " if parameter == "KeyConditions" else f" {operator} "
            text = joiner.join(
                _condition(attribute, condition, placeholders, parameter)
                for attribute, condition in conditions.items()
            )
        if text:
            translated[_TARGETS[parameter]] = text
    if placeholders.names:
        translated["ExpressionAttributeNames"] = placeholders.names
    if placeholders.values:
        translated["ExpressionAttributeValues"] = placeholders.values
    return translated


def _condition(attribute: str, condition: dict[str, Any], placeholders: _Placeholders, parameter: str) -> str:
    name = placeholders.name(attribute)
    if parameter == "Expected" and "ComparisonOperator" not in condition:
        # The older form: {"Value": v} (must equal), {"Exists": false} (must be absent).
        if condition.get("Exists", True) is False:
            if "Value" in condition:
                raise ValidationException(
                    "One or more parameter values were invalid: Value cannot be used when Exists is false "
                    f"for Attribute: {attribute}"
                )
            return f"attribute_not_exists({name})"
        if "Value" not in condition:
            raise ValidationException(
                "One or more parameter values were invalid: Value must be provided when Exists is true for "
                f"Attribute: {attribute}"
            )
        return f"{name} = {placeholders.value(condition['Value'])}"
    operator = condition.get("ComparisonOperator")
    arguments = condition.get("AttributeValueList", [])
    expected = _ARGUMENT_COUNTS.get(str(operator), None if operator == "IN" else 1)
    if (operator == "IN" and not arguments) or (expected is not None and len(arguments) != expected):
        raise ValidationException(
            f"One or more parameter values were invalid: Invalid number of argument(s) for the {operator} "
            "ComparisonOperator"
        )
    values = [placeholders.value(argument) for argument in arguments]
    if operator in _COMPARATORS:
        return f"{name} {_COMPARATORS[operator]} {values[0]}"
    if operator == "NOT_NULL":
        return f"attribute_exists({name})"
    if operator == "NULL":
        return f"attribute_not_exists({name})"
    if operator == "CONTAINS":
        return f"contains({name}, {values[0]})"
    if operator == "NOT_CONTAINS":
        return f"NOT contains({name}, {values[0]})"
    if operator == "BEGINS_WITH":
        return f"begins_with({name}, {values[0]})"
    if operator == "IN":
        return f"{name} IN ({', '.join(values)})"
    if operator == "BETWEEN":
        return f"{name} BETWEEN {values[0]} AND {values[1]}"
    raise ValidationException(
        f"1 validation error detected: Value '{operator}' at 'comparisonOperator' failed to satisfy "
        "constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, "
        "NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
    )


def _updates(updates: dict[str, Any], placeholders: _Placeholders) -> str:
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    for attribute, update in updates.items():
        action = update.get("Action", "PUT")
        if "Value" not in update and action in ("PUT", "ADD"):
            raise ValidationException(
                "One or more parameter values were invalid: Only DELETE action is allowed when no attribute "
                "value is specified"
            )
        name = placeholders.name(attribute)
        if action == "PUT":
            clauses["SET"].append(f"{name} = {placeholders.value(update['Value'])}")
        elif action == "DELETE" and "Value" not in update:
            clauses["REMOVE"].append(name)
        elif action in ("ADD", "DELETE"):
            clauses[action].append(f"{name} {placeholders.value(update['Value'])}")
        else:
            raise ValidationException(
                f"1 validation error detected: Value '{action}' at "
                f"'attributeUpdates.{attribute}.member.action' failed to satisfy constraint: Member must "
                "satisfy enum value set: [ADD, PUT, DELETE]"
            )
    return " ".join(f"{clause} {', '.join(actions)}" for clause, actions in clauses.items() if actions)
