"""``-c compliance=strict``: what NIST 800-53 R5, PCI DSS and HIPAA ask is built, and the synth fails on
what is not; the default stage is left as it was (docs/decisions/0033-compliance-stage.md).

The ``strict_synthesized`` fixture passing at all is the first assertion: its synth ran the five packs
and raises on any unacknowledged finding.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from botocore.stub import Stubber
from moto import mock_aws

from app import stage_config
from infra.compliance import (
    Compliance,
    ReservedConcurrency,
    nag_packs,
    parse_compliance,
    parse_reserved_concurrency,
)
from infra.constructs.managed_policies import to_managed_policies
from infra.stacks import WorkflowStack
from tests.infra.conftest import Synthesized, strict_config
from tests.infra.test_logical_ids import stateful_ids
from tests.unit.preflight.accounts import StubbedSession
from workflowkit.preflight import LambdaConcurrencyCheck, StackTemplate, Status
from workflowkit.template import ResolvedTemplate

# The vault holds the recovery points: a changed logical ID leaves it behind (retained) and starts an
# empty one.
VAULT_LOGICAL_ID = "BackupsVault1F11AFCC"
# IAM's limit on a managed policy document (non-whitespace characters); inline ones may hold 10,240.
MANAGED_POLICY_LIMIT = 6144
# Lambda keeps this much of the account's concurrency unreserved (configuration-concurrency.html).
UNRESERVED_FLOOR = 100
REGION = "eu-west-1"


def _get_att_id(value: Any) -> str:
    assert isinstance(value, dict), value
    assert "Fn::GetAtt" in value, value
    return str(value["Fn::GetAtt"][0])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _attached(synth: Synthesized, cfn_type: str) -> dict[str, list[dict[str, Any]]]:
    """role logical ID -> the statements of the policies of ``cfn_type`` attached to it."""
    statements: dict[str, list[dict[str, Any]]] = {}
    for policy in synth.of_type(cfn_type).values():
        for role in policy["Properties"].get("Roles", []):
            statements.setdefault(role["Ref"], []).extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _key_statement(synth: Synthesized, sid: str) -> dict[str, Any]:
    (key,) = synth.of_type("AWS::KMS::Key").values()
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Sid"] == sid]
    return dict(statement)


def _via_services(synth: Synthesized) -> list[Any]:
    use = _key_statement(synth, "AllowAccountUseThroughWorkflowServices")
    return list(use["Condition"]["StringEquals"]["kms:ViaService"])


BACKUP_VIA = {"Fn::Join": ["", ["backup.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}


# --- the default stage is what it was ------------------------------------------------------------------
def test_the_default_stage_has_none_of_the_strict_additions(synthesized: Synthesized) -> None:
    assert not any(r["Type"].startswith("AWS::Backup::") for r in synthesized.resources.values())
    for lid, function in synthesized.of_type("AWS::Lambda::Function").items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], lid
    for lid, mapping in synthesized.of_type("AWS::Lambda::EventSourceMapping").items():
        assert "ScalingConfig" not in mapping["Properties"], lid
    assert synthesized.of_type("AWS::IAM::Policy")  # the roles' grants stay inline
    assert BACKUP_VIA not in _via_services(synthesized)


def test_strict_keeps_every_stateful_resource_where_it_was(
    synthesized: Synthesized, strict_synthesized: Synthesized
) -> None:
    # Switching a stage to strict must not replace a table, queue, log group or key (both are stage 'test').
    assert stateful_ids(strict_synthesized) == stateful_ids(synthesized)


# --- backups -------------------------------------------------------------------------------------------
def test_every_table_is_in_the_backup_plan(strict_synthesized: Synthesized) -> None:
    tables = set(strict_synthesized.of_type("AWS::DynamoDB::Table"))
    (selection,) = strict_synthesized.of_type("AWS::Backup::BackupSelection").values()
    (plan_id,) = strict_synthesized.of_type("AWS::Backup::BackupPlan")
    chosen = selection["Properties"]["BackupSelection"]
    assert len(tables) >= 11
    assert {_get_att_id(resource) for resource in chosen["Resources"]} == tables
    assert _get_att_id(selection["Properties"]["BackupPlanId"]) == plan_id
    assert not chosen.get("ListOfTags")  # by ARN: a table is in the plan because it exists, not by a tag


def test_the_plan_keeps_daily_points_35_days_and_monthly_ones_a_year_in_the_vault(
    strict_synthesized: Synthesized,
) -> None:
    (plan,) = strict_synthesized.of_type("AWS::Backup::BackupPlan").values()
    rules = {rule["RuleName"]: rule for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]}
    assert {name: rule["Lifecycle"]["DeleteAfterDays"] for name, rule in rules.items()} == {
        "Daily": 35,
        "Monthly": 365,
    }
    assert rules["Daily"]["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rules["Monthly"]["ScheduleExpression"] == "cron(0 4 1 * ? *)"
    for rule in rules.values():
        assert _get_att_id(rule["TargetBackupVault"]) == VAULT_LOGICAL_ID


def test_the_vault_is_encrypted_with_the_stage_key_kept_and_its_points_undeletable(
    strict_synthesized: Synthesized,
) -> None:
    vaults = strict_synthesized.of_type("AWS::Backup::BackupVault")
    assert set(vaults) == {VAULT_LOGICAL_ID}
    vault = vaults[VAULT_LOGICAL_ID]
    (key_id,) = strict_synthesized.of_type("AWS::KMS::Key")
    assert vault["Properties"]["EncryptionKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}
    # Kept when the stack goes (CloudFormation cannot delete a vault holding recovery points), under a
    # name unique to the stack instance, so a redeploy does not collide with the vault left behind.
    assert vault["DeletionPolicy"] == "Retain"
    assert '{"Ref": "AWS::StackId"}' in json.dumps(vault["Properties"]["BackupVaultName"])
    (statement,) = vault["Properties"]["AccessPolicy"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert set(statement["Action"]) == {"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"}


def _table_of(resource: Any) -> str:
    """A table's ARN, or ``<table arn>/backup/*``: the table's logical ID."""
    if "Fn::Join" in resource:
        head, tail = resource["Fn::Join"][1]
        assert tail == "/backup/*", resource
        return _get_att_id(head)
    return _get_att_id(resource)


def test_aws_backup_backs_up_through_a_role_of_its_own_on_the_tables_only(
    strict_synthesized: Synthesized,
) -> None:
    synth = strict_synthesized
    assert synth.stack.backups is not None
    (selection,) = synth.of_type("AWS::Backup::BackupSelection").values()
    role_id = _get_att_id(selection["Properties"]["BackupSelection"]["IamRoleArn"])
    assert role_id == synth.logical_id(synth.stack.backups.role)
    role = synth.resources[role_id]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]  # not AWS's policy for backing up every service
    statements = _attached(synth, "AWS::IAM::ManagedPolicy")[role_id]
    tables = set(synth.of_type("AWS::DynamoDB::Table"))
    dynamodb_statements = [
        s for s in statements if any(a.startswith("dynamodb:") for a in _list(s["Action"]))
    ]
    assert len(dynamodb_statements) == 2  # the tables, and the backups DynamoDB makes of them
    for statement in dynamodb_statements:
        assert {_table_of(resource) for resource in _list(statement["Resource"])} == tables
    # It holds its permissions before AWS Backup is told to use it.
    assert synth.logical_id(synth.stack.backups.policy) in selection["DependsOn"]


def test_the_stage_key_admits_aws_backup_for_this_accounts_principals(
    strict_synthesized: Synthesized,
) -> None:
    use = _key_statement(strict_synthesized, "AllowAccountUseThroughWorkflowServices")
    assert BACKUP_VIA in use["Condition"]["StringEquals"]["kms:ViaService"]
    assert use["Condition"]["StringEquals"]["kms:CallerAccount"] == {"Ref": "AWS::AccountId"}


# --- reserved concurrency ------------------------------------------------------------------------------
def _reservations(synth: Synthesized) -> dict[str, int]:
    """POWERTOOLS_SERVICE_NAME -> reserved concurrent executions, for every function."""
    return {
        f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]: f["Properties"].get(
            "ReservedConcurrentExecutions", 0
        )
        for f in synth.of_type("AWS::Lambda::Function").values()
    }


def test_every_function_reserves_its_stated_figure(strict_synthesized: Synthesized) -> None:
    reserved = _reservations(strict_synthesized)
    assert len(reserved) == len(strict_synthesized.of_type("AWS::Lambda::Function")) >= 11
    assert reserved["controller"] == 10
    assert reserved["frontdoor"] == 20
    others = {figure for service, figure in reserved.items() if service not in ("controller", "frontdoor")}
    assert others == {5}
    assert reserved == {service: ReservedConcurrency().of(service) for service in reserved}


def test_a_queue_fed_functions_pollers_never_outrun_its_reservation(strict_synthesized: Synthesized) -> None:
    # Lambda's SQS pollers do not know a reservation: past it they are throttled and the batch goes back to
    # the queue, spending a receive towards the DLQ. The mapping's MaximumConcurrency is the reservation.
    functions = strict_synthesized.of_type("AWS::Lambda::Function")
    mappings = strict_synthesized.of_type("AWS::Lambda::EventSourceMapping")
    assert len(mappings) >= 7
    for lid, mapping in mappings.items():
        function = functions[mapping["Properties"]["FunctionName"]["Ref"]]
        reserved = function["Properties"]["ReservedConcurrentExecutions"]
        assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": reserved}, lid


def _account(limit: int) -> StubbedSession:
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit}},
    )
    stubber.activate()
    return StubbedSession({"lambda": client}, region_name=REGION)


def test_preflight_holds_the_strict_stage_to_the_accounts_unreserved_floor(
    strict_synthesized: Synthesized,
) -> None:
    template = StackTemplate(
        stack_name=strict_synthesized.stack.stack_name,
        body={"Resources": strict_synthesized.resources},
        account=None,
        region=REGION,
        bootstrap_parameter=None,
        required_bootstrap_version=None,
        qualifier="hnb659fds",
        toolkit_stack_name="CDKToolkit",
    )
    total = sum(_reservations(strict_synthesized).values())
    assert total == 10 + 20 + 5 * (len(_reservations(strict_synthesized)) - 2)
    with mock_aws():  # no such stack deployed yet: nothing is held already
        enough = LambdaConcurrencyCheck().run(_account(total + UNRESERVED_FLOOR), template)
        short = LambdaConcurrencyCheck().run(_account(total + UNRESERVED_FLOOR - 1), template)
    assert enough.status is Status.OK, enough.detail
    assert f"the stack reserves {total}" in enough.detail
    assert short.status is Status.FAILED
    assert f"the stack reserves {total}" in short.detail
    assert f"at most {total - 1} can be reserved" in short.detail


# --- managed policies ----------------------------------------------------------------------------------
def test_no_role_keeps_an_inline_policy(strict_synthesized: Synthesized) -> None:
    assert not strict_synthesized.of_type("AWS::IAM::Policy")
    for lid, role in strict_synthesized.of_type("AWS::IAM::Role").items():
        assert "Policies" not in role["Properties"], lid


def test_every_role_keeps_exactly_its_permissions(
    synthesized: Synthesized, strict_synthesized: Synthesized
) -> None:
    # The same stage: each role's inline statements are now its managed policy's, none lost, none added.
    inline = _attached(synthesized, "AWS::IAM::Policy")
    managed = _attached(strict_synthesized, "AWS::IAM::ManagedPolicy")
    assert len(inline) >= 17
    for role, statements in inline.items():
        assert managed[role] == statements, role


def test_what_waited_for_a_roles_inline_policy_waits_for_its_managed_one(
    synthesized: Synthesized, strict_synthesized: Synthesized
) -> None:
    # A function (or mapping) created before its role may use the queue or table fails its first calls.
    inline_role = {
        lid: policy["Properties"]["Roles"][0]["Ref"]
        for lid, policy in synthesized.of_type("AWS::IAM::Policy").items()
    }
    managed_of_role = {
        policy["Properties"]["Roles"][0]["Ref"]: lid
        for lid, policy in strict_synthesized.of_type("AWS::IAM::ManagedPolicy").items()
        if policy["Properties"].get("Roles")
    }
    waited = 0
    for lid, resource in synthesized.resources.items():
        for dependency in resource.get("DependsOn", []):
            if dependency in inline_role:
                assert (
                    managed_of_role[inline_role[dependency]] in strict_synthesized.resources[lid]["DependsOn"]
                ), lid
                waited += 1
    assert waited >= 15


def test_every_managed_policy_fits_iams_limit(strict_synthesized: Synthesized) -> None:
    # Resolved as deployed (generated names, ARNs): the limit counts the document's characters.
    resolved = ResolvedTemplate(
        stack_name=strict_synthesized.stack.stack_name,
        template={"Resources": strict_synthesized.resources},
        region=REGION,
    )
    sizes = {
        policy.logical_id: len(json.dumps(resolved.props(policy)["PolicyDocument"], separators=(",", ":")))
        for policy in resolved.of_type("AWS::IAM::ManagedPolicy")
    }
    assert len(sizes) >= 18
    assert max(sizes.values()) <= MANAGED_POLICY_LIMIT, sizes


def test_strict_grants_no_wildcard_action(strict_synthesized: Synthesized) -> None:
    for lid, policy in strict_synthesized.of_type("AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow", lid
            assert not [a for a in _list(statement["Action"]) if "*" in a], lid


def test_a_role_with_inline_policies_of_its_own_is_refused() -> None:
    stack = cdk.Stack(cdk.App())
    iam.Role(
        stack,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        inline_policies={
            "Own": iam.PolicyDocument(
                statements=[iam.PolicyStatement(actions=["sqs:SendMessage"], resources=["arn:aws:sqs:::q"])]
            )
        },
    )
    with pytest.raises(ValueError, match="inline Policies"):
        to_managed_policies(stack)


# --- the gate ------------------------------------------------------------------------------------------
def test_the_strict_synth_fails_on_what_the_packs_find_unacknowledged(tmp_path: Path) -> None:
    # The strict stage as the fixture builds it, plus three constructs added after it: a table no backup
    # plan selects, a function without a reservation, a role with an inline policy.
    app = cdk.App(outdir=str(tmp_path))
    config = strict_config()
    stack = WorkflowStack(
        app,
        f"WorkflowKit-{config.stage}",
        config=config,
        env=cdk.Environment(account="123456789012", region=REGION),
    )
    dynamodb.Table(
        stack,
        "StrayTable",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=stack.encryption.key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    lambda_.Function(
        stack,
        "StrayFunction",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    role = iam.Role(stack, "StrayRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=["arn:aws:sqs:::q"]))
    cdk.Validations.of(app).add_plugins(*nag_packs(app, config.compliance))

    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()

    report = json.loads((tmp_path / "validation-report.json").read_text())
    found = {
        (violation["ruleName"], construct["constructPath"].split("/")[1])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert ("NIST.800.53.R5-DynamoDBInBackupPlan", "StrayTable") in found
    assert ("NIST.800.53.R5-LambdaConcurrency", "StrayFunction") in found
    assert ("NIST.800.53.R5-IAMNoInlinePolicy", "StrayRole") in found
    # Nothing of the stage itself: only the three strays are findings.
    assert {path for _, path in found} == {"StrayTable", "StrayFunction", "StrayRole"}


# --- configuration -------------------------------------------------------------------------------------
def test_stage_config_reads_compliance_and_reserved_figures_from_context() -> None:
    assert stage_config(cdk.App()).compliance is Compliance.DEFAULT
    config = stage_config(
        cdk.App(
            context={"compliance": "strict", "reservedConcurrency": "default=3,controller=12,frontdoor=8"}
        )
    )
    assert config.strict
    assert config.reserved_concurrency.of("controller") == 12
    assert config.reserved_concurrency.of("frontdoor") == 8
    assert config.reserved_concurrency.of("inventory") == 3
    # cdk.json may give them as an object.
    assert parse_reserved_concurrency({"payment-gateway": 2}).of("payment-gateway") == 2
    assert parse_reserved_concurrency(None) == ReservedConcurrency()


@pytest.mark.parametrize("value", ["STRICT", " strict "])
def test_compliance_is_read_whatever_its_case(value: str) -> None:
    assert parse_compliance(value) is Compliance.STRICT


@pytest.mark.parametrize("value", ["nist", "true"])
def test_an_unknown_compliance_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="compliance"):
        parse_compliance(value)


@pytest.mark.parametrize("value", ["controller", "controller=0", "controller=-1", "controller=two", "=4"])
def test_a_reserved_figure_that_is_not_a_whole_number_of_at_least_1_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="reserved concurrency"):
        parse_reserved_concurrency(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("invntory=4", r"reserved concurrency for \['invntory'\]: no such function"),
        # An SQS mapping's MaximumConcurrency is at least 2: a queue-fed function cannot reserve less.
        ("inventory=1", "inventory: a queue-fed function needs at least 2 reserved"),
    ],
)
def test_a_reserved_figure_the_stage_cannot_apply_is_refused(value: str, message: str) -> None:
    config = dataclasses.replace(strict_config(), reserved_concurrency=parse_reserved_concurrency(value))
    with pytest.raises(ValueError, match=message):
        WorkflowStack(cdk.App(), "WorkflowKit-test", config=config)


# --- what the acknowledgements rest on -----------------------------------------------------------------
def test_no_function_is_invoked_asynchronously(strict_synthesized: Synthesized) -> None:
    # The functions' DLQ findings are acknowledged because a DLQ (or an on-failure destination) only ever
    # receives failed asynchronous invocations. This fails the day a function becomes an asynchronous
    # target: a rule or topic delivering to it, or any service but the HTTP API allowed to invoke it.
    functions = set(strict_synthesized.of_type("AWS::Lambda::Function"))
    for lid, permission in strict_synthesized.of_type("AWS::Lambda::Permission").items():
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com", lid
    for lid, rule in strict_synthesized.of_type("AWS::Events::Rule").items():
        for target in rule["Properties"].get("Targets", []):
            assert not (
                isinstance(target["Arn"], dict) and target["Arn"].get("Fn::GetAtt", [""])[0] in functions
            ), lid
    for lid, subscription in strict_synthesized.of_type("AWS::SNS::Subscription").items():
        assert subscription["Properties"]["Protocol"] != "lambda", lid
    assert not strict_synthesized.of_type("AWS::Lambda::EventInvokeConfig")
    invoked_by_sqs = {
        m["Properties"]["FunctionName"]["Ref"]
        for m in strict_synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    assert invoked_by_sqs < functions
