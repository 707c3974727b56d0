"""What the onboarding notices service needs deployed (read by the stack: workflow_core.deployment)."""

from onboarding_workflow.events import SOURCE_NOTICES
from workflow_core.deployment import ServiceNeeds, TableNeed, TopicNeed

ONBOARDING_NOTICES_TABLE_NAME = "ONBOARDING_NOTICES_TABLE_NAME"
NOTICES_TOPIC_ARN = "NOTICES_TOPIC_ARN"

NEEDS = ServiceNeeds(
    handler="onboarding_notices.handler.lambda_handler",
    description="tells compliance officers and customers about onboardings",
    tables=(TableNeed("OnboardingNotices", env=ONBOARDING_NOTICES_TABLE_NAME),),
    topics=(TopicNeed("notices", env=NOTICES_TOPIC_ARN),),
    extra_sources=(SOURCE_NOTICES,),  # OnboardingNoticeSent
)
