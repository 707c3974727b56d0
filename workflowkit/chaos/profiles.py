"""Fault profiles: which faults a run injects, and how often.

A profile is a rate per fault. Every rate is a probability per chance the fault has: per delivery
attempt, per received message, per invocation, per AWS call, per item a write touches, per workflow
(see :data:`FAULTS`). ``none`` injects nothing (a run keeps the trace it had before faults existed);
``flaky`` is a cloud on a bad day; ``chaos`` is every fault at once, often. ``--fault NAME=RATE`` changes
one rate of the chosen profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Each fault, and what one chance of it is.
FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "duplicate": "an EventBridge delivery, a Scheduler firing or an SQS message handed over twice "
        "(per delivery, firing, processed message)",
        "delay": "an EventBridge delivery held back 1-30 s, so events overtake each other (per delivery)",
        "drop": "a delivery attempt lost: EventBridge retries it under the target's retry policy, SQS "
        "returns the message after its visibility timeout (per attempt, per received message)",
        "crash_before": "a handler crashes before its work: a queue's batch comes back; a Step Functions "
        "task gets Lambda.ServiceException (per invocation)",
        "crash_after": "the work is done, then the invocation fails: the batch comes back; a task gets "
        "Lambda.SdkClientException and retries (per invocation)",
        "timeout": "an AWS call hangs until the function's timeout: Sandbox.Timedout, mid-work "
        "(per call of a queue-fed handler)",
        "throttle": "an AWS call throttled, answered through the client's botocore retry mode; a "
        "task's invoke gets Lambda.TooManyRequestsException (per call)",
        "conflict": "a DynamoDB item another transaction is writing: TransactionConflict "
        "(per item a handler's write touches)",
        "race": "a concurrent duplicate invocation of a queue-fed handler runs to its end just "
        "before the handler's conditional write (per conditional write)",
        "never_answers": "a step's runner never answers the workflow: it is given up at its deadline "
        "(per workflow whose scenario completes)",
        "compensation_fails": "an undo never completes: escalated at its deadline "
        "(per workflow whose scenario compensates)",
    }
)

# The faults whose effect is the workflow's outcome: the simulator expects that outcome of whom they hit.
OUTCOME_FAULTS = frozenset({"never_answers", "compensation_fails"})

_FLAKY = {
    "duplicate": 0.02,
    "delay": 0.05,
    "drop": 0.02,
    "crash_before": 0.01,
    "crash_after": 0.01,
    "timeout": 0.002,
    "throttle": 0.01,
    "conflict": 0.02,
    "race": 0.01,
}
_CHAOS = {
    "duplicate": 0.05,
    "delay": 0.10,
    "drop": 0.05,
    "crash_before": 0.03,
    "crash_after": 0.03,
    "timeout": 0.005,
    "throttle": 0.03,
    "conflict": 0.05,
    "race": 0.03,
    "never_answers": 0.02,
    "compensation_fails": 0.05,
}


@dataclass(frozen=True)
class FaultProfile:
    name: str
    rates: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for fault, rate in self.rates.items():
            _check(fault, rate)

    def rate(self, fault: str) -> float:
        return float(self.rates.get(fault, 0.0))

    @property
    def active(self) -> bool:
        """Whether it injects anything at all."""
        return any(rate > 0 for rate in self.rates.values())

    def with_rates(self, overrides: Mapping[str, float]) -> FaultProfile:
        """This profile with some rates changed (named ``<profile>+<fault>=<rate>,...``)."""
        if not overrides:
            return self
        changed = ",".join(f"{fault}={rate:g}" for fault, rate in overrides.items())
        return FaultProfile(f"{self.name}+{changed}", {**self.rates, **overrides})

    def describe(self) -> str:
        rates = ", ".join(f"{fault}={self.rate(fault):g}" for fault in FAULTS if self.rate(fault))
        return f"{self.name} ({rates or 'no faults'})"


def parse_fault(text: str) -> tuple[str, float]:
    """``drop=0.1`` -> ("drop", 0.1); the name must be a fault, the rate within [0, 1]."""
    name, separator, value = text.partition("=")
    name = name.strip()
    if not separator:
        raise ValueError(f"--fault takes NAME=RATE, not {text!r}")
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"the rate of fault {name!r} must be a number, not {value!r}") from None
    _check(name, rate)
    return name, rate


def build_profile(name: str, overrides: Iterable[str] = ()) -> FaultProfile:
    """Profile ``name`` with ``NAME=RATE`` overrides applied (the last one of a fault counts)."""
    if name not in PROFILES:
        raise ValueError(f"unknown fault profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name].with_rates(dict(parse_fault(text) for text in overrides))


def _check(fault: str, rate: float) -> None:
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
    if not 0.0 <= rate <= 1.0:  # also refuses NaN
        raise ValueError(f"the rate of fault {fault!r} must be within [0, 1], not {rate:g}")


PROFILES: Mapping[str, FaultProfile] = MappingProxyType(
    {
        "none": FaultProfile("none"),
        "flaky": FaultProfile("flaky", _FLAKY),
        "chaos": FaultProfile("chaos", _CHAOS),
    }
)
