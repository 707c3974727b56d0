"""Every contract survives its own wire form: ``to_wire()`` leaves out None values, so a field that may be
None must have a default, or the reader of the event refuses it as missing (an undo that found nothing
to undo once reported ``accountId: None`` and had its outcome dead-lettered as malformed)."""

from __future__ import annotations

import types
import typing

import pytest

from workflow_core.envelope import ContractModel
from workflow_core.registry import deployed


def _models() -> list[tuple[str, int, type[ContractModel]]]:
    return [
        (name, version, model)
        for name, etype in deployed().catalog.items()
        for version, model in sorted(etype.versions.items())
    ]


def _admits_none(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return type(None) in typing.get_args(annotation)
    return annotation is None or annotation is type(None)


@pytest.mark.parametrize(("name", "version", "model"), _models(), ids=[f"{n}-v{v}" for n, v, _ in _models()])
def test_a_field_that_may_be_none_has_a_default(name: str, version: int, model: type[ContractModel]) -> None:
    required_nullable = [
        field
        for field, info in model.model_fields.items()
        if info.is_required() and _admits_none(info.annotation)
    ]
    assert required_nullable == [], f"{name} v{version}: {required_nullable} would vanish from the wire"


def test_the_rule_catches_a_nullable_field_without_a_default() -> None:
    class Broken(ContractModel):
        thing: str | None

    assert Broken(thing=None).to_wire() == {}
    with pytest.raises(ValueError, match="Field required"):
        Broken.model_validate(Broken(thing=None).to_wire())
    assert [f for f, i in Broken.model_fields.items() if i.is_required() and _admits_none(i.annotation)] == [
        "thing"
    ]
