"""The checks ``workflowkit preflight`` runs, in the sequence of the table. A new check is one more entry."""

from __future__ import annotations

from workflowkit.preflight.base import Check
from workflowkit.preflight.bootstrap import BootstrapVersionCheck, ToolkitStackCheck
from workflowkit.preflight.collisions import NameCollisionCheck
from workflowkit.preflight.concurrency import LambdaConcurrencyCheck
from workflowkit.preflight.counts import resource_count_checks
from workflowkit.preflight.credentials import CredentialsCheck
from workflowkit.preflight.parameters import SsmParametersCheck
from workflowkit.preflight.rules import RulesPerBusCheck
from workflowkit.preflight.stack_state import StackStateCheck


def default_checks() -> list[Check]:
    return [
        CredentialsCheck(),
        BootstrapVersionCheck(),
        ToolkitStackCheck(),
        StackStateCheck(),
        SsmParametersCheck(),
        NameCollisionCheck(),
        LambdaConcurrencyCheck(),
        RulesPerBusCheck(),
        *resource_count_checks(),
    ]
