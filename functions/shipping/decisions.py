"""A carrier desk's decision on a manual booking, as shipping reads it from ``StepDecided``.

The decision reaches shipping through the callback route (``POST /workflows/{id}/steps/shipping/
complete|reject``), which validates who decided, not what the details mean: that is shipping's. A
confirmation may carry the carrier's ``estimatedDelivery`` (an ISO date, or a date-time with its offset)
and its booking ``reference``; anything else, or a value out of range, is refused here as a
:class:`~shipping.errors.InvalidDecisionError` (terminal: dead-lettered, never retried in a loop).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from order_workflow import SHIPPING
from shipping.errors import InvalidDecisionError
from workflow_core.catalog import DomainEvent
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import StepDecided

ESTIMATED_DELIVERY = "estimatedDelivery"
REFERENCE = "reference"
CONFIRMATION_DETAILS = (ESTIMATED_DELIVERY, REFERENCE)
# A carrier's own booking or tracking number: short, printable, no spaces.
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
# The slowest route ships in days; a delivery estimate a year out is a typo, not a plan.
LATEST_ESTIMATE = timedelta(days=366)


@dataclass(frozen=True)
class CarrierDecision:
    order_id: str
    attempt: int
    verdict: Literal["complete", "reject"]
    decided_by: str
    reason: str | None
    event_id: str  # the decision's delivery id: a decline records it, to answer a redelivery alike
    estimated_delivery: datetime | None = None
    reference: str | None = None

    def refusal(self, carrier: str | None) -> str:
        """The message of the ShippingFailed a decline publishes: who declined, and why."""
        who = carrier or "the carrier"
        return f"{who} declined the booking ({self.decided_by}): {self.reason or 'no reason given'}"


def carrier_decision(event: DomainEvent, *, now: datetime) -> CarrierDecision:
    """The decision ``event`` carries, its details checked; raises on a decision shipping cannot apply."""
    data = event.data
    if not isinstance(data, StepDecided):
        raise InvalidEventError(f"{event.detail_type} carries {type(data).__name__}, not a decision")
    if data.step != SHIPPING.name:
        # The rule delivers only decisions on shipping's steps: anything else is a wiring error.
        raise InvalidEventError(f"shipping takes decisions on {SHIPPING.name!r}, not {data.step!r}")
    decision = CarrierDecision(
        # The order workflow's instance id is its subject's id: the order id.
        order_id=data.workflow_id,
        attempt=data.attempt,
        verdict=data.decision,
        decided_by=data.decided_by,
        reason=data.reason,
        event_id=event.event_id,
    )
    if data.decision == "reject":
        return decision  # a refusal needs no details; whatever came with it is the decider's record
    unknown = sorted(set(data.details) - set(CONFIRMATION_DETAILS))
    if unknown:
        raise InvalidDecisionError(
            f"a confirmation's details are {list(CONFIRMATION_DETAILS)}; {unknown} are not (a typo?)"
        )
    estimate = data.details.get(ESTIMATED_DELIVERY)
    reference = data.details.get(REFERENCE)
    return dataclasses.replace(
        decision,
        estimated_delivery=None if estimate is None else _estimate(estimate, now=now),
        reference=None if reference is None else _reference(reference),
    )


def _estimate(value: object, *, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise InvalidDecisionError(f"{ESTIMATED_DELIVERY} must be an ISO date, not {type(value).__name__}")
    try:
        parsed = (
            datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
            if len(value) == len("2026-12-01")
            else datetime.fromisoformat(value)
        )
    except ValueError:
        raise InvalidDecisionError(f"{ESTIMATED_DELIVERY} {value[:40]!r} is not an ISO date") from None
    if parsed.tzinfo is None:
        raise InvalidDecisionError(f"{ESTIMATED_DELIVERY} {value!r}: a date-time needs its UTC offset")
    if parsed.date() < now.date():
        raise InvalidDecisionError(f"{ESTIMATED_DELIVERY} {value!r} is in the past")
    if parsed > now + LATEST_ESTIMATE:
        raise InvalidDecisionError(f"{ESTIMATED_DELIVERY} {value!r} is more than a year away")
    return parsed.astimezone(UTC)


def _reference(value: object) -> str:
    if not isinstance(value, str) or not _REFERENCE.match(value):
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise InvalidDecisionError(
            f"{REFERENCE} {shown!r} must be 1 to 64 letters, digits or ._/- (the carrier's booking number)"
        )
    return value
