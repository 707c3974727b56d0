"""What the local cloud gives its services: a narrow context, never the cloud itself.

Each service (SQS, EventBridge, Step Functions, Scheduler, the alarms) receives a
:class:`ServiceContext` (virtual time, the event loop, the ledger, permissions, the fault hooks and
moto's backends) and, explicitly, the other services it hands work to: :class:`Queues`,
:class:`Executions`, :class:`Functions` or a :data:`PutEvents` callable. DynamoDB needs only
:class:`Backends`. No service imports :mod:`workflowkit.cloud`: ``LocalCloud`` builds the services and
wires them together, and ``scripts/check_import_cycles.py`` finds any import that closes a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from moto.backends import get_backend
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from workflowkit.access import AccessControl
from workflowkit.clock import VirtualClock
from workflowkit.faults import Faults
from workflowkit.lambdas import FunctionSpec
from workflowkit.ledger import Ledger
from workflowkit.loop import EventLoop

# PutEvents entries (as the API takes them) -> one result per entry (EventId or ErrorCode).
PutEvents = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Backends:
    """moto's backends of one account and region: where the local cloud's resources are kept."""

    account: str
    region: str
    # service -> (moto's per-account mapping, the backend found in it): the local cloud asks tens of
    # thousands of times per run, and moto's lookup imports and walks on each. A mapping replaced or
    # emptied (moto's reset) is looked up anew.
    _found: dict[str, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, service: str) -> Any:
        found = self._found.get(service)
        if found is not None:
            regions, backend = found
            if regions.get(self.region) is backend:
                return backend
        if service == "stepfunctions":
            # The executing backend (mock_aws's execute_state_machine), not the plain one.
            regions = stepfunctions_parser_backends[self.account]
        else:
            regions = get_backend(service)[self.account]  # type: ignore[call-overload]
        backend = regions[self.region]
        self._found[service] = (regions, backend)
        return backend

    def owns(self, backend: Any) -> bool:
        """Whether ``backend`` is of this account and region (others stay plain moto)."""
        return (backend.account_id, backend.region_name) == (self.account, self.region)


@dataclass(frozen=True)
class ServiceContext:
    """What the services share: virtual time, the loop, the ledger, permissions, faults, backends."""

    backends: Backends
    clock: VirtualClock
    loop: EventLoop
    ledger: Ledger
    access: AccessControl
    # The current fault hooks, read at each hop: a test may replace them while the cloud runs.
    faults: Callable[[], Faults]
    # One network hop's latency, drawn from the loop's seeded random.
    network_latency: Callable[[], timedelta]


class Queues(Protocol):
    """SQS, as the services that deliver to queues use it."""

    def send(
        self,
        queue_arn_or_name: str,
        body: str,
        *,
        group_id: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> None: ...

    def has_consumer(self, queue_arn: str) -> bool:
        """Whether an event-source mapping consumes the queue (it then settles what it receives)."""
        ...


class Executions(Protocol):
    """Step Functions, as the services that start state machines use it."""

    def start_from_event(self, state_machine_arn: str, payload: str) -> None: ...


class Functions(Protocol):
    """The in-process Lambda runtime, as the services that invoke functions use it."""

    def by_arn(self, arn: str) -> FunctionSpec | None: ...

    def invoke(self, name: str, event: Any) -> Any: ...

    def invoke_json(self, name: str, event: Any) -> tuple[str, bool]: ...
