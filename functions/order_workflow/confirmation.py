"""What a carrier desk may send with a confirmation: the details of ``POST .../steps/shipping/complete``.

Declared on the shipping step's ``Callback(details=...)``: the front door checks a confirmation's details
with it before accepting the decision (a typo is the desk's 400, not a dead-lettered decision and an
order waiting for its deadline), and shipping reads them with it. The estimate's bounds read the clock,
as of the moment the desk decided: the front door at once, shipping with the decision's ``decidedAt``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationInfo, model_validator

from workflow_core import clock
from workflow_core.envelope import ContractModel

# A carrier's own booking or tracking number: short, printable, no spaces.
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
# The slowest route ships in days; a delivery estimate a year out is a typo, not a plan.
LATEST_ESTIMATE = timedelta(days=366)
ESTIMATED_DELIVERY = "estimatedDelivery"
REFERENCE = "reference"
DETAILS = (ESTIMATED_DELIVERY, REFERENCE)


class CarrierConfirmation(ContractModel):
    estimated_delivery: datetime | None = None  # UTC
    reference: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, details: Any, info: ValidationInfo) -> Any:
        if not isinstance(details, dict):
            raise ValueError("a confirmation's details must be an object")
        unknown = sorted(set(details) - set(DETAILS))
        if unknown:
            raise ValueError(f"a confirmation's details are {list(DETAILS)}; {unknown} are not (a typo?)")
        checked: dict[str, Any] = {}
        if details.get(ESTIMATED_DELIVERY) is not None:
            # As of the decision (context "now": when the desk decided), not of whenever it is read: a
            # confirmation accepted at 23:59 stays valid when shipping handles it after midnight.
            now = (info.context or {}).get("now") or clock.now()
            checked[ESTIMATED_DELIVERY] = _estimate(details[ESTIMATED_DELIVERY], now=now)
        if details.get(REFERENCE) is not None or REFERENCE in details:
            checked[REFERENCE] = _reference(details.get(REFERENCE))
        return checked


def _estimate(value: object, *, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{ESTIMATED_DELIVERY} must be an ISO date, not {type(value).__name__}")
    try:
        parsed = (
            datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
            if len(value) == len("2026-12-01")
            else datetime.fromisoformat(value)
        )
    except ValueError:
        raise ValueError(f"{ESTIMATED_DELIVERY} {value[:40]!r} is not an ISO date") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{ESTIMATED_DELIVERY} {value!r}: a date-time needs its UTC offset")
    if parsed.date() < now.date():
        raise ValueError(f"{ESTIMATED_DELIVERY} {value!r} is in the past")
    if parsed > now + LATEST_ESTIMATE:
        raise ValueError(f"{ESTIMATED_DELIVERY} {value!r} is more than a year away")
    return parsed.astimezone(UTC)


def _reference(value: object) -> str:
    if not isinstance(value, str) or not _REFERENCE.match(value):
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise ValueError(
            f"{REFERENCE} {shown!r} must be 1 to 64 letters, digits or ._/- (the carrier's booking number)"
        )
    return value
