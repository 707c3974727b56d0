"""botocore's parameter validation, compiled per input shape, for the calls the fast path answers.

botocore's ``ParamValidator`` re-reads the shape model and dispatches by name for every parameter of
every call: a sixth of a simulation's wall time once the backends answer in microseconds. Here each
input shape compiles once into a checker built of closures. A checker only *accepts*: it returns True
when botocore's rules certainly pass (dict/list/scalar types as botocore's ``SCALAR_TYPES`` and
``CONTAINER_TYPES``, required members, no unknown members, ``min`` lengths and values, implicit
``min`` 1 for host labels). Anything else (a failure, or a case it does not model: documents, tagged
unions, JSON-value headers, timestamps given as strings, file-like blobs) goes to botocore's own
validator, which raises its usual ``ParamValidationError``. So an invalid call fails exactly as it
would without the local cloud, and a valid one costs a fraction.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.model import Shape
from botocore.utils import is_json_value_header
from botocore.validate import validate_parameters

Checker = Callable[[Any], bool]
_OBJECTS_KEPT = 4096

_NUMBERS: dict[str, tuple[type, ...]] = {
    "float": (float, decimal.Decimal, int),
    "double": (float, decimal.Decimal, int),
    "integer": (int,),
    "long": (int,),
}


class CompiledValidator:
    """Checkers per shape of one service model (``model``, e.g. "dynamodb/2012-08-10").

    ``wire_form``: accept only values already as a JSON protocol carries them (lists as lists, blobs as
    bytes): what botocore would serialise unchanged. The fast path uses it to hand a backend the
    caller's params as they are, and serialises with botocore first otherwise.
    """

    def __init__(self, *, wire_form: bool = False) -> None:
        self._wire_form = wire_form
        self._by_shape: dict[tuple[str, str | None, str], Checker] = {}
        # The checker of an input shape object seen before (a client keeps its operations' shapes), so
        # the per-call lookup skips building the key. Each entry holds its shape: its id stays its own.
        self._by_object: dict[tuple[int, str], tuple[Shape, Checker]] = {}

    def validate(self, params: Any, shape: Shape | None, *, model: str) -> None:
        """Raise botocore's ParamValidationError if botocore would; accept fast what it would accept."""
        if shape is not None and not self.accepts(params, shape, model=model):
            validate_parameters(params, shape)

    def accepts(self, params: Any, shape: Shape, *, model: str) -> bool:
        """True when botocore's validation certainly passes (False: ask botocore)."""
        known = self._by_object.get((id(shape), model))
        if known is not None and known[0] is shape:
            return known[1](params)
        checker = self._checker(shape, model)
        if len(self._by_object) >= _OBJECTS_KEPT:
            self._by_object.clear()
        self._by_object[(id(shape), model)] = (shape, checker)
        return checker(params)

    def _checker(self, shape: Shape, model: str) -> Checker:
        # botocore builds new Shape objects per client and per reference, so a shape is known by its
        # model, its name, and the traits a reference may add (host labels, JSON-value headers). The
        # cache holds no shape: it stays one entry per shape of each model, however many clients.
        key = (model, shape.name, repr(sorted(getattr(shape, "serialization", {}).items())))
        checker = self._by_shape.get(key)
        if checker is None:
            # Recursive shapes (DynamoDB's AttributeValue holds maps and lists of itself): register a
            # forwarder first, so the recursion finds it instead of compiling forever.
            compiled: list[Checker] = []
            self._by_shape[key] = lambda value: compiled[0](value)  # noqa: PLW0108 - late bound
            compiled.append(self._compile(shape, model))
            checker = self._by_shape[key] = compiled[0]
        return checker

    def _compile(self, shape: Shape, model: str) -> Checker:
        kind = shape.type_name
        if is_json_value_header(shape) or shape.metadata.get("document") or shape.metadata.get("union"):
            return _never
        minimum = shape.metadata.get("min")
        if minimum is None and getattr(shape, "serialization", {}).get("hostLabel"):
            minimum = 1
        if kind == "structure":
            return self._structure(shape, model)
        if kind == "list":
            member = self._checker(shape.member, model)
            least = minimum or 0
            sequences = list if self._wire_form else list | tuple
            return lambda value: (
                isinstance(value, sequences) and len(value) >= least and all(member(v) for v in value)
            )
        if kind == "map":
            key = self._checker(shape.key, model)
            item = self._checker(shape.value, model)
            return lambda value: isinstance(value, dict) and all(key(k) and item(v) for k, v in value.items())
        if kind == "string":
            least = minimum or 0
            return lambda value: isinstance(value, str) and len(value) >= least
        if kind == "boolean":
            return lambda value: isinstance(value, bool)
        if kind in _NUMBERS:
            types = _NUMBERS[kind]
            if minimum is None:
                return lambda value: isinstance(value, types)
            return lambda value: isinstance(value, types) and value >= minimum
        if kind == "blob":
            blobs = bytes | bytearray if self._wire_form else bytes | bytearray | str
            return lambda value: isinstance(value, blobs)
        if kind == "timestamp":
            if self._wire_form:  # JSON carries numbers: botocore converts every timestamp
                return _never
            return lambda value: isinstance(value, datetime)
        return _never

    def _structure(self, shape: Shape, model: str) -> Checker:
        members = {name: self._checker(member, model) for name, member in shape.members.items()}
        required = tuple(shape.metadata.get("required", ()))

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return False
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                member = members.get(name)
                if member is None or not member(item):
                    return False
            return True

        return check


def _never(_: Any) -> bool:
    return False
