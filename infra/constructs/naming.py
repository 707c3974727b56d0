"""How the kit names what it creates: construct ids from declaration names, physical names per stage.

Every name a workflow's resource carries contains the workflow's name, so two workflows of one stage
never collide (workflow names are ``[a-z][a-z0-9-]{0,23}``: see ``workflow_core.definition``).

The kit chooses few physical names: the stage's bus, archive, dashboard, API and key alias, and each
workflow's state machines and their log groups. Rules, queues, functions and roles get CloudFormation's
generated names, which CloudFormation fits to each service's limit. The chosen ones are checked against
AWS's limits when the stack is planned (``infra.plan``), so a declaration whose names do not fit is
refused with its workflow and machine named, before CDK or CloudFormation refuses it less helpfully.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "workflowkit"
# A state machine's log group ends in ``-<first block of the stack UUID>`` (defaults.stack_unique_suffix).
STACK_SUFFIX_LENGTH = 8
STATE_MACHINE_LOG_PREFIX = "/aws/vendedlogs/states/"

# AWS's limits on the names the kit chooses (each service's API reference, "Length Constraints"), and
# the characters each admits (a state machine's name must not contain whitespace, brackets, wildcards,
# punctuation or control characters; the kit keeps to letters, digits, '-' and '_').
LIMITS = {
    "state machine": 80,
    "log group": 512,
    "event bus": 256,
    "archive": 48,
    "dashboard": 255,
    "HTTP API": 128,
    "KMS alias": 256,
    "backup vault": 50,
    # Not chosen by the kit (CloudFormation generates and fits them), listed for reference: a construct
    # that starts naming one of these must check it here too.
    "rule": 64,
    "queue": 80,
    "function": 64,
    "role": 64,
}
_STATE_MACHINE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class PhysicalName:
    """A name the kit chooses: what it names (for the message), which kind of resource, the name."""

    owner: str  # e.g. "workflow 'shop', state machine 'checkout'" or "stage 'prod'"
    kind: str  # a key of LIMITS
    name: str

    def check(self) -> None:
        limit = LIMITS[self.kind]
        if len(self.name) > limit:
            raise ValueError(
                f"{self.owner}: the {self.kind} name {self.name!r} is {len(self.name)} characters; AWS "
                f"allows at most {limit}. Shorten the names it is made of."
            )
        if self.kind == "state machine" and not _STATE_MACHINE_NAME.match(self.name):
            raise ValueError(
                f"{self.owner}: the state machine name {self.name!r} may only contain letters, digits, "
                "'-' and '_'"
            )


def camel(name: str) -> str:
    """``shop``, ``card-checks``, ``retail.shop`` -> ``Shop``, ``CardChecks``, ``RetailShop``."""
    parts = name.replace("_", "-").replace(".", "-").split("-")
    return "".join(part[:1].upper() + part[1:] for part in parts)


def physical(stage: str, *parts: str) -> str:
    """``workflowkit-<stage>-<part>-...``: a name unique per stage (and per workflow when a part is one)."""
    return "-".join((PREFIX, stage, *parts))


def key_alias(stage: str) -> str:
    return f"alias/{PREFIX}/{stage}"


def state_machine_name(stage: str, workflow: str, machine: str) -> str:
    return physical(stage, workflow, machine)


def state_machine_log_group_prefix(state_machine: str) -> str:
    """The log group's name before ``-<stack suffix>``: the vended-logs prefix keeps Step Functions' log
    delivery off the size-limited CloudWatch Logs resource policy."""
    return f"{STATE_MACHINE_LOG_PREFIX}{state_machine}"


def stage_names(stage: str) -> tuple[PhysicalName, ...]:
    """The names the stage's shared resources carry."""
    owner = f"stage {stage!r}"
    return (
        PhysicalName(owner, "event bus", physical(stage)),
        PhysicalName(owner, "archive", physical(stage)),
        PhysicalName(owner, "dashboard", physical(stage)),
        PhysicalName(owner, "HTTP API", physical(stage)),
        PhysicalName(owner, "KMS alias", key_alias(stage)),
    )


def state_machine_names(stage: str, workflow: str, machine: str) -> tuple[PhysicalName, ...]:
    """The names one workflow's state machine and its log group carry."""
    owner = f"workflow {workflow!r}, state machine {machine!r}"
    name = state_machine_name(stage, workflow, machine)
    log_group = f"{state_machine_log_group_prefix(name)}-{'x' * STACK_SUFFIX_LENGTH}"
    return (PhysicalName(owner, "state machine", name), PhysicalName(owner, "log group", log_group))
