"""The custom event bus every event of the kit travels on, with an archive for replay."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs import defaults
from infra.constructs.naming import physical


class WorkflowEventBus(Construct):
    """A custom bus that admits ``PutEvents`` only from this account, and archives everything it carries.

    The bus keeps the well-known name ``workflowkit-<stage>`` (producers outside the stack address it by
    name) and is therefore never retained: it holds no data of its own, and a bus left behind by a deleted
    stack would make the stage's next deploy fail with AlreadyExists. Its archive goes with it, since an
    archive replays only into its own source bus.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        archive_retention: Duration = defaults.ARCHIVE_RETENTION,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=physical(stage))
        self.bus.apply_removal_policy(RemovalPolicy.DESTROY)
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AdmitPutEventsFromThisAccountOnly",
                principals=[iam.AccountPrincipal(Aws.ACCOUNT_ID)],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
            )
        )
        self.archive = self.bus.archive(
            "Archive",
            archive_name=physical(stage),
            description="Every event on the bus, for replay after an incident",
            event_pattern=events.EventPattern(account=[Aws.ACCOUNT_ID]),
            retention=archive_retention,
        )
