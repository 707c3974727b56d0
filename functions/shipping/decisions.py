"""A carrier desk's decision on a manual booking, as shipping reads it from ``StepDecided``.

The decision reaches shipping through the callback route (``POST /workflows/{id}/steps/shipping/
complete|reject``), which checks who decided and, with the step's declared
:class:`~order_workflow.confirmation.CarrierConfirmation`, a confirmation's details (the carrier's
``estimatedDelivery`` and booking ``reference``): a desk's typo is its 400. Shipping reads them with the
same model; details it still cannot use (an event put on the bus by another way, a clock past the
estimate since) are an :class:`~shipping.errors.InvalidDecisionError` (terminal: dead-lettered, never
retried in a loop).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ValidationError

from order_workflow import SHIPPING
from order_workflow.confirmation import CarrierConfirmation
from shipping.errors import InvalidDecisionError
from workflow_core.catalog import DomainEvent
from workflow_core.errors import InvalidEventError
from workflow_core.lifecycle import StepDecided


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


def carrier_decision(event: DomainEvent) -> CarrierDecision:
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
    try:
        details = CarrierConfirmation.model_validate(data.details, context={"now": data.decided_at})
    except ValidationError as error:
        raise InvalidDecisionError(str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    return dataclasses.replace(
        decision, estimated_delivery=details.estimated_delivery, reference=details.reference
    )
