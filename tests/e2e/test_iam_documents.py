"""Every policy document the synthesized app declares parses with the local IAM evaluator.

The local cloud evaluates these documents on every call; a document the evaluator rejected (an operator it
does not know, a policy variable) would turn into a failure of the local cloud, not of the app. Intrinsics
are resolved the way the local cloud resolves them (:class:`workflowkit.template.ResolvedTemplate`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workflowkit.iam import Policy
from workflowkit.template import ResolvedTemplate


def _documents(template: ResolvedTemplate) -> Iterator[tuple[str, str, Any]]:
    """(resource type, name, policy document) for every policy document in the template."""
    for resource in template.resources.values():
        kind, name = resource.type, resource.logical_id
        if kind not in _DOCUMENTS:
            continue
        props = template.props(resource)
        if kind in (
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SNS::TopicPolicy",
        ):
            yield kind, name, props["PolicyDocument"]
        elif kind == "AWS::IAM::Role":
            yield kind, f"{name} trust", props["AssumeRolePolicyDocument"]
            for inline in props.get("Policies", []):
                yield kind, f"{name} {inline['PolicyName']}", inline["PolicyDocument"]
        elif kind == "AWS::KMS::Key":
            yield kind, name, props["KeyPolicy"]
        elif kind == "AWS::Events::EventBusPolicy":
            # Either a whole Policy, or one Statement (the form CDK's EventBus.addToResourcePolicy emits).
            yield (
                kind,
                name,
                props.get("Policy") or {"Version": "2012-10-17", "Statement": [props["Statement"]]},
            )


_DOCUMENTS = {
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::KMS::Key",
}


def test_every_policy_document_in_the_template_parses(cdk_out: Path) -> None:
    # GIVEN the synthesized app, intrinsics resolved as the local cloud resolves them
    parsed: Counter[str] = Counter()
    for template in ResolvedTemplate.load(cdk_out):
        # WHEN each policy document is parsed
        for kind, name, document in _documents(template):
            Policy.parse(document, name=f"{template.stack_name}/{name}")  # raises PolicyError when malformed
            parsed[kind] += 1

    # THEN none is rejected, and every kind of document the kit declares was there to parse
    assert set(parsed) == _DOCUMENTS, f"kinds of policy document found: {dict(parsed)}"
