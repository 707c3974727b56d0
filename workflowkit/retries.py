"""botocore's retry loop, for the calls the local cloud answers without an HTTP round trip.

A boto3 client retries in ``botocore.endpoint.Endpoint._send_request``: after every attempt it emits
``needs-retry.<service-id>.<operation>`` with the response, and the handler its retry mode registered
answers with a pause (retry after it) or nothing (done). Standard mode (botocore's default since it
made ``retry_mode`` default to ``standard``, so the app's: its handlers build clients without a retry
``Config``) uses ``botocore.retries.standard``: 3 attempts, DynamoDB 4, full-jitter back-off, throttling
codes, 5xx and ``TransactionInProgressException`` retried, within a retry quota per client that retries
spend and successful calls refill. Legacy mode reads ``data/_retry.json`` (5 attempts, DynamoDB 10,
exponential back-off). The fast path has no endpoint, so
without this loop an error the local cloud answered (a ``ThrottlingException`` a fault injected) reached
the handler on the first attempt, as no AWS client ever sees it. Here each attempt is answered, the
client's own handler is asked exactly as the endpoint asks it, and its pause is taken with ``time.sleep``
(virtual inside a handler: it counts towards the function's timeout, as in Lambda).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient
from botocore.hooks import first_non_none_response
from botocore.model import OperationModel

# (HTTP response, parsed response) as botocore's endpoint hands them to its retry handlers.
Response = tuple[Any, dict[str, Any]]


def answer_with_retries(
    client: BaseClient,
    operation_model: OperationModel,
    context: dict[str, Any],
    attempt: Callable[[], Response],
) -> Response:
    """``attempt()`` again while the client's retry handler asks for another try; the last answer.

    ``context`` is the request context (botocore's ``request_dict['context']``): the retry handlers keep
    their bookkeeping there (the attempt, the quota a retry took), which ``after-call`` handlers read.
    """
    attempts = 1
    retries = context.setdefault("retries", {})
    retries["attempt"] = 1
    while True:
        response = attempt()
        if response[0].status_code < 300:
            break
        pause = _pause(client, operation_model, context, response, attempts)
        if pause is None:
            break
        time.sleep(pause)  # looked up at each call: inside a handler the local cloud's pause is virtual
        attempts += 1
        retries["attempt"] = attempts
    # As botocore reports it, on every answer (0 on a first-try success): retries, not attempts.
    response[1].setdefault("ResponseMetadata", {})["RetryAttempts"] = attempts - 1
    return response


def _pause(
    client: BaseClient,
    operation_model: OperationModel,
    context: dict[str, Any],
    response: Response,
    attempts: int,
) -> float | None:
    """What the client's ``needs-retry`` handler answers (botocore's ``Endpoint._needs_retry``)."""
    service_id = operation_model.service_model.service_id.hyphenize()
    responses = client.meta.events.emit(
        f"needs-retry.{service_id}.{operation_model.name}",
        response=response,
        endpoint=None,
        operation=operation_model,
        attempts=attempts,
        caught_exception=None,
        request_dict={"context": context},
    )
    answer = first_non_none_response(responses)
    if answer is None or answer is False:
        return None
    return float(answer)


def retried(context: dict[str, Any]) -> bool:
    """Whether the call in ``context`` took more than one attempt."""
    return int(context.get("retries", {}).get("attempt", 1)) > 1
