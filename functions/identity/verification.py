"""Task Lambda of the identity verification state machine: one provider check per call.

Input ``{"operation": "verify", "applicant": {...}}`` (the workflow's subject); output the verdict in
camelCase. Errors surface by class name for the state machine's ``Retry``/``Catch``; an applicant that
breaks the contract is ``ApplicantIneligibleError`` (the flow reports it, nothing to retry), an input of
another shape ``InvalidTaskInputError``.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ValidationError

from identity.deployment import IDENTITY_PROVIDER, VERIFICATIONS_TABLE_NAME
from identity.errors import ApplicantIneligibleError, IdentityProviderUnavailableError
from identity.provider import IdentityProvider, SandboxProvider, Verification
from onboarding_workflow.events import CustomerRegistered
from workflow_core import item_table, lazy, logs
from workflow_core.contention import describe, is_transient
from workflow_core.errors import InvalidTaskInputError
from workflow_core.settings import required

OPERATIONS = ("verify",)

logger = logs.lean(Logger())
tracer = lazy.DeferredTracer()


def build_provider(name: str, *, table: Any) -> IdentityProvider:
    """The provider the deployment names; only the sandbox ships with the kit."""
    if name != "sandbox":
        raise ValueError(f"unknown identity provider {name!r}; the kit ships 'sandbox'")
    return SandboxProvider(table=table)


PROVIDER = build_provider(
    os.environ.get(IDENTITY_PROVIDER, "sandbox"),
    table=item_table.table(required(VERIFICATIONS_TABLE_NAME)),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, provider=PROVIDER)


def handle(event: Any, *, provider: IdentityProvider) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidTaskInputError(f"the input must be a JSON object, got {type(event).__name__}")
    operation = event.get("operation")
    if operation not in OPERATIONS:
        raise InvalidTaskInputError(f"operation must be one of {OPERATIONS}, got {operation!r}")
    applicant = _applicant(event.get("applicant"))
    logger.append_keys(customer_id=applicant.customer_id, operation=operation)
    logger.set_correlation_id(applicant.customer_id)  # the customer id is the workflow's correlation id
    try:
        verdict = _verified(provider, applicant)
    except Exception as error:
        logger.warning(
            "verification refused", extra={"error_type": type(error).__name__, "error": str(error)}
        )
        raise
    logger.info("identity verified", extra={"result": verdict.result, "risk": verdict.risk_level})
    return verdict.to_wire()


def _verified(provider: IdentityProvider, applicant: CustomerRegistered) -> Verification:
    try:
        return provider.verify(applicant)
    except ClientError as error:
        if not is_transient(error):
            raise
        # The provider's records throttled past the SDK's retries (or a 5xx): unavailable for now, not a
        # verdict; the state machine's Retry asks again after its back-off.
        raise IdentityProviderUnavailableError(
            f"the provider's records are unavailable: {describe(error)}"
        ) from error


def _applicant(raw: Any) -> CustomerRegistered:
    try:
        return CustomerRegistered.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()[:5]
        )
        raise ApplicantIneligibleError(f"the application does not match the contract: {problems}") from None
