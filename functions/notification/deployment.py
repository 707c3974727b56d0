"""What the notification service needs deployed (read by the stack: workflow_core.deployment)."""

from order_workflow.events import SOURCE_NOTIFICATIONS
from workflow_core.deployment import ServiceNeeds, TableNeed, TopicNeed

NOTIFICATIONS_TABLE_NAME = "NOTIFICATIONS_TABLE_NAME"
CUSTOMER_TOPIC_ARN = "CUSTOMER_TOPIC_ARN"

NEEDS = ServiceNeeds(
    handler="notification.handler.lambda_handler",
    description="tells customers their orders are confirmed and how their workflows ended",
    tables=(TableNeed("Notifications", env=NOTIFICATIONS_TABLE_NAME),),
    topics=(TopicNeed("notices", env=CUSTOMER_TOPIC_ARN),),
    extra_sources=(SOURCE_NOTIFICATIONS,),  # CustomerNotified (its step's outcomes are granted anyway)
)
