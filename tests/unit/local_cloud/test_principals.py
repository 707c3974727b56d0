"""API principals of the local cloud: an identity and the template's managed policies it holds."""

from __future__ import annotations

import pytest

from workflowkit.principals import ApiPrincipal, PrincipalError, principal

OUTPUTS = {
    "ClientPolicyArn": "arn:aws:iam::123456789012:policy/Client",
    "OfficersApproverPolicyArn": "arn:aws:iam::123456789012:policy/Officers",
    "EventBusName": "bus",
}


def test_policies_are_named_by_the_stack_output_that_publishes_them_or_by_arn() -> None:
    officer = principal(
        "alice",
        "OfficersApproverPolicyArn",
        "arn:aws:iam::123456789012:policy/X",
        outputs=OUTPUTS,
        account="1",
    )
    assert officer == ApiPrincipal(
        arn="arn:aws:iam::1:user/alice",
        policies=("arn:aws:iam::123456789012:policy/Officers", "arn:aws:iam::123456789012:policy/X"),
    )


def test_a_role_session_is_named_as_sts_names_it() -> None:
    ops = principal("Operators", outputs=OUTPUTS, account="123456789012", kind="role")
    assert ops == ApiPrincipal(arn="arn:aws:sts::123456789012:assumed-role/Operators/Operators-session")


def test_a_policy_the_stack_does_not_output_is_refused_with_the_ones_it_does() -> None:
    with pytest.raises(
        PrincipalError,
        match=r"no 'AuditorsApproverPolicyArn'; its policies: "
        r"\['ClientPolicyArn', 'OfficersApproverPolicyArn'\]",
    ):
        principal("eve", "AuditorsApproverPolicyArn", outputs=OUTPUTS, account="1")
