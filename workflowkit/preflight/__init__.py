"""Preflight: check the target AWS account and region before ``cdk deploy``.

What the stack needs is read from the synthesized template (``cdk.out``), so the checks follow the
stack as it changes; the account is asked with the user's own credentials. Each check is a small
:class:`Check` with a name and ``run(session, template) -> CheckResult``.
"""

from workflowkit.preflight.assembly import StackTemplate, load_stack_template
from workflowkit.preflight.base import Check, CheckResult, Status
from workflowkit.preflight.bootstrap import BootstrapVersionCheck, ToolkitStackCheck
from workflowkit.preflight.checks import default_checks
from workflowkit.preflight.collisions import NameCollisionCheck
from workflowkit.preflight.concurrency import LambdaConcurrencyCheck
from workflowkit.preflight.counts import ResourceCountCheck, resource_count_checks
from workflowkit.preflight.credentials import CredentialsCheck
from workflowkit.preflight.parameters import SsmParametersCheck
from workflowkit.preflight.report import as_json, format_table
from workflowkit.preflight.rules import RulesPerBusCheck
from workflowkit.preflight.runner import open_session, run_checks
from workflowkit.preflight.stack_state import StackStateCheck

__all__ = [
    "BootstrapVersionCheck",
    "Check",
    "CheckResult",
    "CredentialsCheck",
    "LambdaConcurrencyCheck",
    "NameCollisionCheck",
    "ResourceCountCheck",
    "RulesPerBusCheck",
    "SsmParametersCheck",
    "StackStateCheck",
    "StackTemplate",
    "Status",
    "ToolkitStackCheck",
    "as_json",
    "default_checks",
    "format_table",
    "load_stack_template",
    "open_session",
    "resource_count_checks",
    "run_checks",
]
