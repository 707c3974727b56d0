"""HTTP routes (API Gateway HTTP API, payload v2) over :class:`frontdoor.api.FrontDoor` and, for
decisions on callback steps, :class:`frontdoor.callbacks.Callbacks`."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from frontdoor.api import FrontDoor
from frontdoor.callbacks import Callbacks
from frontdoor.decisions import Verdict
from frontdoor.errors import CallerUnknownError, FrontDoorError, InvalidRequestError

# The integers the event bus takes: "For the JSON number (integer) data type, the constraints are a
# minimum value of -9,223,372,036,854,775,808 and a maximum value of 9,223,372,036,854,775,807" (PutEvents).
_INT64 = range(-(2**63), 2**63)


def _not_json(constant: str) -> Any:
    raise InvalidRequestError(f"the body is not valid JSON: {constant} is not a JSON number")


def _int64(literal: str) -> int:
    value = int(literal)
    if value not in _INT64:
        raise InvalidRequestError(
            f"the body holds {literal[:30]}, past the 64-bit integers the event bus takes"
        )
    return value


def build_app(
    front_door: FrontDoor, *, logger: Logger, callbacks: Callbacks | None = None
) -> APIGatewayHttpResolver:
    """The routes; the callback routes only with ``callbacks`` (the decisions' store and delivery)."""
    app = APIGatewayHttpResolver()

    def json_body(*, required: bool = True) -> Any:
        raw = app.current_event.decoded_body
        if not raw:
            if not required:
                return None
            raise InvalidRequestError("the request has no body")
        try:
            # NaN and Infinity are not JSON (RFC 8259), no AWS API takes them, and the event bus takes no
            # integer past 64 bits: refuse them here, not after a start or a decision carrying one was
            # accepted and its event refused for good (a 503 no retry can mend; a claim never delivered).
            return json.loads(raw, parse_constant=_not_json, parse_int=_int64)
        except json.JSONDecodeError as error:
            raise InvalidRequestError(f"the body is not valid JSON: {error.msg}") from None
        except ValueError:
            # An integer of more digits than Python converts (sys.get_int_max_str_digits): no contract's.
            raise InvalidRequestError("the body is not valid JSON: a number is too long") from None
        except RecursionError:
            # Nested deeper than the parser's stack: no contract nests so deep, and it must not be a 500.
            raise InvalidRequestError("the body is not valid JSON: it is nested too deeply") from None

    def request_id() -> str:
        return app.current_event.request_context.request_id

    def caller() -> str:
        """The IAM caller: its ARN, or its caller id when the ARN is absent."""
        iam = app.current_event.request_context.authorizer.iam
        identity = iam.user_arn or iam.caller_id
        if not identity:
            raise CallerUnknownError("the request carries no IAM identity to attribute it to")
        return identity

    @app.post("/start/<workflow_type>")
    def start(workflow_type: str) -> Response[str]:
        accepted = front_door.start(workflow_type, json_body(), request_id=request_id())
        logger.set_correlation_id(accepted["workflowId"])
        logger.info("workflow submitted", extra={"event_id": accepted["eventId"], "type": workflow_type})
        return _json(202, accepted)

    @app.get("/workflows/<workflow_id>")
    def workflow_status(workflow_id: str) -> Response[str]:
        logger.set_correlation_id(workflow_id)
        return _json(200, front_door.workflow_status(workflow_id))

    @app.post("/workflows/<workflow_id>/commands")
    def issue_command(workflow_id: str) -> Response[str]:
        logger.set_correlation_id(workflow_id)
        accepted = front_door.issue_command(
            workflow_id, json_body(), operator=caller(), request_id=request_id()
        )
        logger.info("operator command issued", extra={"command": accepted["command"], "operator": caller()})
        return _json(202, accepted)

    if callbacks is not None:
        decisions = callbacks

        def decide(workflow_id: str, step: str, verdict: Verdict) -> Response[str]:
            logger.set_correlation_id(workflow_id)
            accepted = decisions.decide(
                workflow_id, step, verdict, json_body(required=False), decided_by=caller()
            )
            logger.info(
                "step decided",
                extra={"step": step, "attempt": accepted["attempt"], "decision": verdict, "by": caller()},
            )
            return _json(202, accepted)

        @app.post("/workflows/<workflow_id>/steps/<step>/complete")
        def complete(workflow_id: str, step: str) -> Response[str]:
            return decide(workflow_id, step, "complete")

        @app.post("/workflows/<workflow_id>/steps/<step>/reject")
        def reject(workflow_id: str, step: str) -> Response[str]:
            return decide(workflow_id, step, "reject")

    def typed_error(error: FrontDoorError) -> Response[str]:
        log = logger.error if error.status_code >= 500 else logger.info
        log("request refused", extra={"error_code": error.code, "status_code": error.status_code})
        return _json(error.status_code, error.body())

    app.exception_handler(FrontDoorError)(typed_error)
    return app


def _json(status_code: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status_code,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":"), default=str),
    )
