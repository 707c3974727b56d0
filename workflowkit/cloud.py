"""``LocalCloud``: the synthesized app, running in-process on moto, on virtual time, from a seed.

    with LocalCloud(cdk_out="cdk.out", seed=7) as cloud:
        boto3.client("events").put_events(Entries=[...])   # plain boto3 talks to the local cloud
        cloud.run_until_quiescent()
        cloud.ledger.unaccounted()                          # every event is processed or dead-lettered

Under the context manager plain boto3 clients reach moto (as under ``mock_aws``); the local cloud
adds what moto lacks: the template's resources, in-process Lambdas, EventBridge delivery to every
target type, SQS event-source mappings, Scheduler firings, Step Functions on virtual time, and a
ledger of every event.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.retryhandler
from botocore.retries.standard import ExponentialBackoff
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.events.exceptions import InvalidEventPatternException
from moto.events.exceptions import ValidationException as EventsValidationException
from moto.events.models import EventsBackend
from moto.events.responses import EventsHandler
from moto.moto_api._internal import mock_random

from workflowkit.access import AccessControl, AccessModel
from workflowkit.alarms import AlarmService
from workflowkit.answers import register_answers
from workflowkit.build import AppBuilder, BuiltApp, HttpRoute
from workflowkit.clock import DEFAULT_START, VirtualClock
from workflowkit.context import Backends, ServiceContext
from workflowkit.dynamodb import DynamoDBService
from workflowkit.eventbridge import EventBridgeDelivery, rate_period
from workflowkit.fastpath import FastPath
from workflowkit.faults import Faults, handler_item_faults
from workflowkit.lambdas import HandlerError, InProcessRuntime
from workflowkit.ledger import Ledger
from workflowkit.loop import EventLoop
from workflowkit.patterns import InvalidEventPatternError, validate_pattern
from workflowkit.patterns import test_event_pattern as check_event_pattern
from workflowkit.principals import ApiPrincipal, Kind, principal
from workflowkit.retention import stop_instance_tracking
from workflowkit.scheduler import SchedulerService
from workflowkit.sqs import SqsService
from workflowkit.stepfunctions import StepFunctionsService
from workflowkit.template import ACCOUNT, REGION, ResolvedTemplate
from workflowkit.update import StackChanges, StackUpdate

_SERVICES = ("dynamodb", "sqs", "sns", "events", "iam", "lambda", "stepfunctions", "scheduler")
_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_DEV": "false",
}
_ACTIVE: LocalCloud | None = None


class LocalCloudError(RuntimeError):
    """The local cloud cannot start or was used wrongly."""


def running() -> bool:
    """Whether a LocalCloud runs in this process (moto's mock, a frozen clock, the fast path active)."""
    return _ACTIVE is not None


class LocalCloud:
    def __init__(
        self,
        *,
        cdk_out: str | Path = "cdk.out",
        seed: int = 0,
        start: datetime = DEFAULT_START,
        latency: tuple[float, float] = (0.005, 0.050),
        faults: Faults | None = None,
        enforce_permissions: bool = True,
    ) -> None:
        self.cdk_out = Path(cdk_out)
        self.seed = seed
        self.account = ACCOUNT
        self.region = REGION
        self.clock = VirtualClock(start)
        self.loop = EventLoop(self.clock, seed=seed)
        self.ledger = Ledger()
        self.lambdas = InProcessRuntime()
        self.faults = faults or Faults()
        # API Gateway gives every request its own id, even two in the same millisecond.
        self._http_requests = itertools.count(1)
        self.backends = Backends(account=self.account, region=self.region)
        self._latency = latency
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_methods: list[tuple[Any, str, Any]] = []
        self._after_start: list[Callable[[], None]] = []
        self._saved_session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}  # the local cloud's own, to build and update the app
        self.app: BuiltApp | None = None
        self.fast_path = FastPath(region=self.region)
        self.enforce_permissions = enforce_permissions
        # Built on entry, once the template's permissions are read (every service checks them).
        self.access: AccessControl
        self.alarms: AlarmService
        self.sqs: SqsService
        self.stepfunctions: StepFunctionsService
        self.eventbridge: EventBridgeDelivery
        self.scheduler: SchedulerService
        self.dynamodb: DynamoDBService

    # --- lifecycle ----------------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        global _ACTIVE  # noqa: PLW0603 - moto's backends are process-wide, so is the active local cloud
        if _ACTIVE is not None:
            raise LocalCloudError("a LocalCloud is already running in this process")
        templates = ResolvedTemplate.load(self.cdk_out, account=self.account, region=self.region)
        # Read before anything starts: a template whose policies cannot be modelled fails here, clearly.
        self.access = AccessControl(
            AccessModel.from_templates(templates),
            now=self.clock.now,
            enabled=self.enforce_permissions,
            live_policy=self._live_policy,
        )
        self._build_services()
        self._set_environment()
        mock_random.seed(self.seed)
        # The default (Docker) Lambda backend is kept: its _invoke_lambda is the seam patched below.
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        _ACTIVE = self
        try:
            self._install()
            self._clients = {name: boto3.client(name, region_name=self.region) for name in _SERVICES}
            self.app = AppBuilder(cdk_out=self.cdk_out, clients=self._clients).build(templates)
            for spec in self.app.functions:
                self.lambdas.register(spec)
            self.sqs.install(self.app.mappings)
            self.lambdas.__enter__()
            # Cold-start every function before time is frozen: handler modules build their clients
            # inside the mock, and pydantic cannot build schemas for freezegun's datetime class.
            self.lambdas.load_all()
            # The item-level DynamoDB faults (transaction conflicts), for the handlers' calls only.
            lambdas = self.lambdas
            self.dynamodb.engine.item_faults = handler_item_faults(
                lambda: self.faults, lambda: lambdas.invoking
            )
            self.clock.__enter__()
            self._run_after_start()
            # moto's per-class lists of every instance it made keep no more (workflowkit.retention).
            self._saved_methods.extend(stop_instance_tracking())
            # Everything built so far (moto's and botocore's models, the handlers' modules) lives as
            # long as the cloud: out of the collector's sight, full collections stop walking it again
            # and again while the run allocates (measured: a third of a PutItem's time).
            gc.collect()
            gc.freeze()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE  # noqa: PLW0603
        gc.unfreeze()
        self.lambdas.__exit__()
        self.fast_path.deactivate()
        boto3.DEFAULT_SESSION = self._saved_session
        if hasattr(self, "sqs"):  # the services exist once the template's permissions were read
            self.sqs.uninstall()
            self.dynamodb.uninstall()
            self.scheduler.uninstall()
            self.stepfunctions.uninstall()
        for owner, name, original in reversed(self._saved_methods):
            setattr(owner, name, original)
        self._saved_methods.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self.clock.__exit__()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _ACTIVE = None

    def deploy(self, cdk_out: str | Path) -> StackChanges:
        """Deploy another synthesis of the app to this running cloud, as a CloudFormation stack update.

        What stays keeps its state (items, messages, running executions, schedules); what is new is
        created, what changed is updated (when any function changed, all load the new code: every
        handler starts cold), what disappeared is deleted; permissions, alarms, routes and outputs follow
        the new template.
        Nothing runs meanwhile: virtual time stands still. See :mod:`workflowkit.update` for what it
        does less than CloudFormation (no rollback, no replacement but of renamed resources).
        """
        if self.app is None or self._mock is None:
            raise LocalCloudError("deploy needs a running LocalCloud (inside its with-block)")
        if self.lambdas.invoking:
            raise LocalCloudError("deploy cannot run inside a handler")
        cdk_out = Path(cdk_out)
        templates = ResolvedTemplate.load(cdk_out, account=self.account, region=self.region)
        # Read first: a template whose policies cannot be modelled changes nothing.
        model = AccessModel.from_templates(templates)
        app, changes = StackUpdate(cdk_out=cdk_out, clients=self._clients).apply(
            self.app.templates, templates
        )
        self.access.use(model)
        self.alarms.reload()
        self.sqs.update(app.mappings)
        if app.functions != self.app.functions:
            self.lambdas.replace(app.functions)
            with self.clock.thawed():  # cold starts build pydantic models: real datetime meanwhile
                self.lambdas.load_all()
        self.app, self.cdk_out = app, cdk_out
        return changes

    def _build_services(self) -> None:
        """Each service gets the narrow context and, explicitly, the services it hands work to."""
        context = ServiceContext(
            backends=self.backends,
            clock=self.clock,
            loop=self.loop,
            ledger=self.ledger,
            access=self.access,
            faults=lambda: self.faults,
            network_latency=self.network_latency,
        )
        self.alarms = AlarmService(context)
        self.sqs = SqsService(context, functions=self.lambdas, queue_changed=self.alarms.queue_changed)
        self.stepfunctions = StepFunctionsService(
            context, seed=self.seed, functions=self.lambdas, client=self.client
        )
        self.eventbridge = EventBridgeDelivery(
            context, queues=self.sqs, executions=self.stepfunctions, functions=self.lambdas
        )
        self.scheduler = SchedulerService(
            context,
            queues=self.sqs,
            executions=self.stepfunctions,
            functions=self.lambdas,
            put_events=self.eventbridge.publish,
        )
        self.dynamodb = DynamoDBService(self.backends)

    def _set_environment(self) -> None:
        for key, value in _ENVIRONMENT.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value

    def _install(self) -> None:
        cloud = self

        def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return cloud.eventbridge.put_events(backend, events)

        def invoke_lambda(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            # A handler's own Invoke call through moto: the Invoke API's faults would need moto's error
            # responses; Step Functions' tasks (the local cloud's own Invoke path) take them.
            payload, errored = cloud.lambdas.invoke_json(
                function.function_name, event if event is not None else {}, api_faults=False
            )
            return payload, errored, ""

        original_put_rule = EventsBackend.put_rule

        def put_rule(backend: EventsBackend, name: str, *args: Any, **kwargs: Any) -> Any:
            pattern = kwargs.get("event_pattern")
            if pattern:
                try:
                    validate_pattern(json.loads(pattern))
                except (ValueError, InvalidEventPatternError) as error:
                    raise InvalidEventPatternException(str(error)) from error
            schedule = kwargs.get("scheduled_expression")
            if schedule:
                try:
                    rate_period(schedule)
                except ValueError as error:
                    raise EventsValidationException(str(error)) from error
            rule = original_put_rule(backend, name, *args, **kwargs)
            if schedule:
                # Armed once virtual time runs: the template's rules are built before the clock starts.
                cloud._after_start.append(lambda: cloud.eventbridge.arm_scheduled_rule(backend, rule))
                if cloud.clock.running:
                    cloud._run_after_start()
            return rule

        def test_event_pattern(response: EventsHandler) -> str:
            try:
                result = check_event_pattern(
                    response._get_param("EventPattern"), response._get_param("Event")
                )
            except InvalidEventPatternError as error:
                raise InvalidEventPatternException(str(error)) from error
            except ValueError as error:
                raise EventsValidationException(str(error)) from error
            return json.dumps({"Result": result})

        self._patch(EventsBackend, "put_events", put_events)
        self._patch(EventsBackend, "put_rule", put_rule)
        self._patch(EventsHandler, "test_event_pattern", test_event_pattern)
        self._patch(LambdaFunction, "_invoke_lambda", invoke_lambda)
        self._seed_retry_back_offs()
        self._wire_handler_faults()
        access = self.access
        self.lambdas.acting_as = lambda name: access.acting_as(access.function_role(name))
        # The caller's default session is put back on exit.
        self._saved_session = boto3.DEFAULT_SESSION
        boto3.setup_default_session(region_name=self.region)
        # Every boto3 call, from any session, reaches the fast path: it sees each call of the app (the
        # fault seam) and answers the hot operations without the HTTP round trip through moto.
        register_answers(self.fast_path, self.backends, self.eventbridge.publish)
        self.fast_path.before_call = self._before_service_call
        # Time inside a handler's AWS calls is the local cloud's work, not the handler's own.
        self.fast_path.observers.append(self._count_api_call)
        self.fast_path.activate()
        self.stepfunctions.install(self.fast_path)
        self.scheduler.install()
        self.dynamodb.install(self.fast_path)

    def _seed_retry_back_offs(self) -> None:
        """botocore's retry modes draw their back-offs from the process's random; a pause counts towards a
        handler's timeout, so a seeded one keeps a run with retries repeatable."""
        back_offs = random.Random(self.seed)
        self._patch(botocore.retryhandler, "random", back_offs)  # legacy mode
        standard_init = ExponentialBackoff.__init__

        def seeded(back_off: ExponentialBackoff, *args: Any, **kwargs: Any) -> None:
            standard_init(back_off, *args, **{**kwargs, "random": back_offs.random})

        self._patch(ExponentialBackoff, "__init__", seeded)  # standard and adaptive modes

    def _wire_handler_faults(self) -> None:
        """The runtime's fault hooks, late-bound: ``cloud.faults`` may be replaced while the cloud runs."""
        self.lambdas.before_invoke = lambda name, event: self.faults.before_handler(name, event)  # noqa: PLW0108
        self.lambdas.after_invoke = lambda name, event: self.faults.after_handler(name, event)  # noqa: PLW0108
        self.lambdas.before_invoke_api = lambda name, event: self.faults.before_invoke_api(name, event)  # noqa: PLW0108
        self.lambdas.after_invoke_api = lambda name, event: self.faults.after_invoke_api(name, event)  # noqa: PLW0108

    def _run_after_start(self) -> None:
        pending, self._after_start = self._after_start, []
        for action in pending:
            action()

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved_methods.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    # --- moto access --------------------------------------------------------------------------------
    def _before_service_call(self, service: str, operation: str, params: dict[str, Any]) -> None:
        # Whoever acts (a handler's or a task's role) must be allowed the call, as in AWS.
        self.access.check_call(service, operation, params)
        # Only the app's calls: the local cloud's own (building, driving) are not hops of the app.
        if self.lambdas.invoking:
            self.faults.before_service_call(service, operation, params)

    def _count_api_call(self, service: str, operation: str, params: Any, parsed: Any, seconds: float) -> None:
        self.lambdas.count_api_call(seconds)

    def backend(self, service: str) -> Any:
        return self.backends(service)

    def _live_policy(self, arn: str) -> str | None:
        """The policy a queue, topic or bus created at run time holds (moto keeps it as JSON text)."""
        service, name = arn.split(":")[2], arn.rsplit(":", maxsplit=1)[-1]
        try:
            if service == "sqs":
                return str(self.backend("sqs").get_queue(name).policy or "") or None
            if service == "sns":
                return str(self.backend("sns").get_topic(arn).policy)
            if service == "events":
                bus = self.backend("events").describe_event_bus(name.rsplit("/", maxsplit=1)[-1])
                return str(bus.policy or "") or None
        except Exception:  # no such resource: nothing grants anything on it
            return None
        return None

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    # --- running ------------------------------------------------------------------------------------
    def network_latency(self) -> timedelta:
        low, high = self._latency
        return timedelta(seconds=self.loop.random.uniform(low, high))

    def put_events_raw(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.eventbridge.publish(entries)

    def run_until_quiescent(self, *, budget: timedelta = timedelta(days=30)) -> None:
        """Advance virtual time through every pending task until nothing is left to do."""
        self.loop.run_until_quiescent(budget=budget)

    def run_for(self, duration: timedelta) -> None:
        """Run what falls due in the next ``duration`` of virtual time, then stop there."""
        self.loop.run_until(self.clock.now() + duration)

    # --- the app's surface ----------------------------------------------------------------------------
    @property
    def outputs(self) -> dict[str, str]:
        assert self.app is not None
        return self.app.outputs

    def principal(self, name: str, *policies: str, kind: Kind = "user") -> ApiPrincipal:
        """An IAM user (or role session) ``name`` holding the template's managed ``policies``, named by
        the stack output that publishes each (``"ClientPolicyArn"``) or by ARN; call the API as it with
        ``cloud.http(..., caller=p.arn, caller_policies=p.policies)``."""
        return principal(name, *policies, outputs=self.outputs, account=self.account, kind=kind)

    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        caller: str = "arn:aws:iam::123456789012:user/local",
        caller_policies: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """Call the app's HTTP API as an IAM-authorised caller; returns the Lambda proxy response.

        ``caller_policies``: the ARNs of the template's managed policies the caller holds (e.g. a client
        policy the template outputs); the route then answers 403 unless they allow
        ``execute-api:Invoke`` on it, as API Gateway's IAM authorisation does. None: an administrator.
        """
        assert self.app is not None
        route, parameters = _route(self.app.routes, method, path)
        denied = self._api_gateway_refusal(route, method, path, caller, caller_policies)
        if denied is not None:
            return denied
        event = _http_event(
            method,
            path,
            route,
            parameters,
            body,
            caller=caller,
            now=self.clock.now(),
            request_number=next(self._http_requests),
        )
        try:
            response = self.lambdas.invoke(route.function_name, event)
        except HandlerError as error:
            # What an HTTP API answers when its Lambda integration fails; the error is in the function's log.
            return {
                "statusCode": 500,
                "json": {"message": "Internal Server Error"},
                "error": error.error_type,
            }
        if isinstance(response.get("body"), str):
            with contextlib.suppress(ValueError):
                response = {**response, "json": json.loads(response["body"])}
        return dict(response)

    def _api_gateway_refusal(
        self, route: HttpRoute, method: str, path: str, caller: str, policies: tuple[str, ...] | None
    ) -> dict[str, Any] | None:
        """API Gateway's answer when the caller or the integration is not allowed; None when both are."""
        access = self.access
        api = f"arn:aws:execute-api:{self.region}:{self.account}:{route.api_id}/$default"
        if policies is not None and route.authorization == "AWS_IAM":
            resource = f"{api}/{method}/{path.split('?', 1)[0].lstrip('/')}"
            if not access.caller_may(
                caller, policies, "execute-api:Invoke", resource, hop=f"{method} {path}"
            ):
                return {"statusCode": 403, "json": {"message": "Forbidden"}}
        # API Gateway invokes the integration as itself: the function's resource policy must allow it.
        function = self.lambdas.functions[route.function_name]
        verdict = access.service_may(
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            function.arn,
            source_arn=f"{api}/{method}{route.path}",
            hop=f"API {method} {route.path} -> {route.function_name}",
        )
        if not verdict.allowed:
            return {"statusCode": 500, "json": {"message": "Internal Server Error"}}
        return None


def _route(routes: list[HttpRoute], method: str, path: str) -> tuple[HttpRoute, dict[str, str]]:
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        template = route.path.strip("/").split("/")
        actual = path.split("?", maxsplit=1)[0].strip("/").split("/")
        if len(template) != len(actual):
            continue
        parameters: dict[str, str] = {}
        for want, got in zip(template, actual, strict=True):
            if want.startswith("{") and want.endswith("}"):
                parameters[want[1:-1]] = got
            elif want != got:
                break
        else:
            return route, parameters
    raise LocalCloudError(f"no route {method} {path}")


def _http_event(
    method: str,
    path: str,
    route: HttpRoute,
    parameters: dict[str, str],
    body: Any,
    *,
    caller: str,
    now: datetime,
    request_number: int,
) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json"},
        "pathParameters": parameters or None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "authorizer": {
                "iam": {
                    "userArn": caller,
                    "callerId": caller.rsplit("/", maxsplit=1)[-1],
                    "accountId": ACCOUNT,
                }
            },
            "domainName": "local.execute-api",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "workflowkit",
            },
            "requestId": f"req-{int(now.timestamp() * 1000)}-{request_number}",
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": json.dumps(body) if body is not None and not isinstance(body, str) else body,
        "isBase64Encoded": False,
    }
