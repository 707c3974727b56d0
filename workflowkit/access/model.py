"""Who may do what, read from the synthesized template: roles and their policies, resource policies, keys.

The model holds what AWS evaluates on a request: a role's identity policies (inline ``Policies``, every
``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` attached to it) and its trust policy; the resource
policy of each queue, topic, event bus and function; the key policy of each KMS key; and which key
encrypts which table, queue and topic. Nothing here decides anything: :mod:`workflowkit.access.control`
asks :func:`workflowkit.iam.authorize`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from workflowkit.iam import Policy
from workflowkit.template import ResolvedTemplate, TemplateError

# AWS-managed policies the kit's templates may attach, by ARN suffix. An AWS-managed policy the model
# does not know fails loudly: an unknown grant silently taken as "nothing" or "everything" would hide
# exactly the defects the model exists to show.
_AWS_MANAGED: dict[str, dict[str, Any]] = {
    "service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    },
}


class AccessModelError(TemplateError):
    """The template holds a policy the local cloud cannot model."""


@dataclass
class Role:
    arn: str
    trust: Policy | None
    policies: list[Policy] = field(default_factory=list)


@dataclass
class AccessModel:
    account: str
    region: str
    roles: dict[str, Role] = field(default_factory=dict)  # role ARN -> role
    resource_policies: dict[str, Policy] = field(default_factory=dict)  # resource ARN -> its policy
    key_policies: dict[str, Policy] = field(default_factory=dict)  # key ARN -> key policy
    encryption: dict[str, str] = field(default_factory=dict)  # table/queue/topic ARN -> key ARN
    function_roles: dict[str, str] = field(default_factory=dict)  # function name -> role ARN
    state_machine_roles: dict[str, str] = field(default_factory=dict)  # state machine ARN -> role ARN
    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)  # alarm ARN -> resolved properties
    managed_policies: dict[str, Policy] = field(default_factory=dict)  # the template's, by ARN
    resources: set[str] = field(default_factory=set)  # ARNs of the template's queues, topics, buses

    @classmethod
    def from_templates(cls, templates: list[ResolvedTemplate]) -> AccessModel:
        if not templates:
            raise AccessModelError("no template to read permissions from")
        model = cls(account=templates[0].account, region=templates[0].region)
        for template in templates:
            _Reader(model, template).read()
        return model

    def role(self, arn: str) -> Role:
        role = self.roles.get(arn)
        if role is None:
            raise AccessModelError(f"no role {arn} in the template")
        return role


class _Reader:
    def __init__(self, model: AccessModel, template: ResolvedTemplate) -> None:
        self.m = model
        self.t = template
        self._statements: dict[str, list[Any]] = defaultdict(list)  # resource ARN -> merged statements

    def read(self) -> None:
        t = self.t
        for r in t.of_type(
            "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Events::EventBus", "AWS::Lambda::Function"
        ):
            self.m.resources.add(t.arn(r.logical_id))
        self._roles()
        self._attached_policies()
        self._queue_policies()
        self._topic_policies()
        self._bus_policies()
        self._function_permissions()
        self._keys()
        self._encryption()
        self._compute()
        self._alarms()
        for arn, statements in self._statements.items():
            document = {"Version": "2012-10-17", "Statement": statements}
            self.m.resource_policies[arn] = Policy.parse(document, name=f"resource policy of {arn}")

    # --- identities ---------------------------------------------------------------------------------
    def _roles(self) -> None:
        t = self.t
        for r in t.of_type("AWS::IAM::Role"):
            props = t.props(r)
            arn = t.arn(r.logical_id)
            trust_document = props.get("AssumeRolePolicyDocument")
            role = Role(
                arn=arn,
                trust=Policy.parse(trust_document, name=f"trust policy of {arn}") if trust_document else None,
            )
            for inline in props.get("Policies") or []:
                role.policies.append(
                    Policy.parse(inline["PolicyDocument"], name=f"{arn} inline {inline.get('PolicyName')}")
                )
            for managed in props.get("ManagedPolicyArns") or []:
                role.policies.append(self._managed(str(managed)))
            self.m.roles[arn] = role

    def _managed(self, arn: str) -> Policy:
        for r in self.t.of_type("AWS::IAM::ManagedPolicy"):
            if self.t.arn(r.logical_id) == arn or self.t.ref(r.logical_id) == arn:
                return Policy.parse(self.t.props(r)["PolicyDocument"], name=arn)
        suffix = arn.split(":policy/", 1)[-1]
        if ":aws:policy/" in arn and suffix in _AWS_MANAGED:
            return Policy.parse(_AWS_MANAGED[suffix], name=arn)
        raise AccessModelError(f"{self.t.stack_name}: the local cloud does not know the managed policy {arn}")

    def _attached_policies(self) -> None:
        t = self.t
        for r in t.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            props = t.props(r)
            name = props.get("PolicyName") or props.get("ManagedPolicyName") or r.logical_id
            policy = Policy.parse(props["PolicyDocument"], name=f"{t.stack_name}/{name}")
            if r.type == "AWS::IAM::ManagedPolicy":
                self.m.managed_policies[t.ref(r.logical_id)] = policy
            for role_name in props.get("Roles") or []:
                self._role_named(str(role_name)).policies.append(policy)

    def _role_named(self, name: str) -> Role:
        arn = f"arn:aws:iam::{self.t.account}:role/{name}"
        return self.m.role(arn)

    # --- resource policies --------------------------------------------------------------------------
    def _queue_policies(self) -> None:
        t = self.t
        for r in t.of_type("AWS::SQS::QueuePolicy"):
            props = t.props(r)
            for url in props.get("Queues") or []:
                self._replace(_queue_arn(str(url)), props["PolicyDocument"], r.logical_id)

    def _topic_policies(self) -> None:
        t = self.t
        for r in t.of_type("AWS::SNS::TopicPolicy"):
            props = t.props(r)
            for topic in props.get("Topics") or []:
                self._replace(str(topic), props["PolicyDocument"], r.logical_id)

    def _replace(self, resource_arn: str, document: dict[str, Any], owner: str) -> None:
        """A queue or topic holds one policy: a second policy resource replaces the first in AWS, in a
        sequence CloudFormation does not promise, so the model refuses to guess which one holds."""
        if resource_arn in self._statements:
            raise AccessModelError(
                f"{self.t.stack_name}: {owner} and another policy resource both set the policy of "
                f"{resource_arn}; AWS keeps only the last one written"
            )
        self._add(resource_arn, document)

    def _bus_policies(self) -> None:
        t = self.t
        for r in t.of_type("AWS::Events::EventBus"):
            policy = t.props(r).get("Policy")
            if policy:
                self._add(t.arn(r.logical_id), policy)
        for r in t.of_type("AWS::Events::EventBusPolicy"):
            props = t.props(r)
            bus = str(props.get("EventBusName") or "default")
            bus_arn = (
                bus if bus.startswith("arn:") else f"arn:aws:events:{t.region}:{t.account}:event-bus/{bus}"
            )
            if "Statement" in props:
                self._add(bus_arn, {"Statement": [props["Statement"]]})
            else:  # the legacy form: one permission for a principal (an account, or "*")
                statement: dict[str, Any] = {
                    "Sid": props.get("StatementId"),
                    "Effect": "Allow",
                    "Principal": {"AWS": str(props["Principal"])} if props.get("Principal") != "*" else "*",
                    "Action": props.get("Action", "events:PutEvents"),
                    "Resource": bus_arn,
                }
                if props.get("Condition"):
                    condition = props["Condition"]
                    statement["Condition"] = {
                        condition.get("Type", "StringEquals"): {condition["Key"]: condition["Value"]}
                    }
                self._add(bus_arn, {"Statement": [statement]})

    def _function_permissions(self) -> None:
        """``AWS::Lambda::Permission`` resources are statements of the function's resource policy."""
        t = self.t
        for r in t.of_type("AWS::Lambda::Permission"):
            props = t.props(r)
            function = str(props["FunctionName"])
            arn = function if function.startswith("arn:") else self._function_arn(function)
            principal = str(props["Principal"])
            statement: dict[str, Any] = {
                "Sid": r.logical_id,
                "Effect": "Allow",
                "Principal": {"Service": principal}
                if principal.endswith(".amazonaws.com")
                else {"AWS": principal},
                "Action": props["Action"],
                "Resource": arn,
            }
            conditions: dict[str, dict[str, str]] = {}
            if props.get("SourceArn"):
                conditions["ArnLike"] = {"aws:SourceArn": str(props["SourceArn"])}
            if props.get("SourceAccount"):
                conditions["StringEquals"] = {"aws:SourceAccount": str(props["SourceAccount"])}
            if conditions:
                statement["Condition"] = conditions
            self._add(arn, {"Statement": [statement]})

    def _function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.t.region}:{self.t.account}:function:{name}"

    def _add(self, resource_arn: str, document: dict[str, Any]) -> None:
        statements = document.get("Statement", [])
        self._statements[resource_arn] += statements if isinstance(statements, list) else [statements]

    # --- keys and what they encrypt -----------------------------------------------------------------
    def _keys(self) -> None:
        t = self.t
        for r in t.of_type("AWS::KMS::Key"):
            arn = t.arn(r.logical_id)
            document = t.props(r).get("KeyPolicy")
            if document is None:
                # CloudFormation's default key policy: the account root, which lets IAM policies decide.
                document = {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{t.account}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                }
            self.m.key_policies[arn] = Policy.parse(document, name=f"key policy of {arn}")

    def _encryption(self) -> None:
        t = self.t
        for r in t.of_type("AWS::DynamoDB::Table"):
            sse = t.props(r).get("SSESpecification") or {}
            if sse.get("KMSMasterKeyId"):
                self.m.encryption[t.arn(r.logical_id)] = self._key_arn(str(sse["KMSMasterKeyId"]))
        for r in t.of_type("AWS::SQS::Queue"):
            key = t.props(r).get("KmsMasterKeyId")
            if key and not str(key).startswith("alias/aws/"):
                self.m.encryption[t.arn(r.logical_id)] = self._key_arn(str(key))
        for r in t.of_type("AWS::SNS::Topic"):
            key = t.props(r).get("KmsMasterKeyId")
            if key and not str(key).startswith("alias/aws/"):
                self.m.encryption[t.arn(r.logical_id)] = self._key_arn(str(key))

    def _key_arn(self, key: str) -> str:
        if key.startswith("arn:"):
            return key
        for r in self.t.of_type("AWS::KMS::Key"):
            if self.t.physical_id(r.logical_id) == key:
                return self.t.arn(r.logical_id)
        raise AccessModelError(f"{self.t.stack_name}: no key {key!r} in the template")

    # --- compute ------------------------------------------------------------------------------------
    def _compute(self) -> None:
        t = self.t
        for r in t.of_type("AWS::Lambda::Function"):
            self.m.function_roles[t.physical_id(r.logical_id)] = str(t.props(r)["Role"])
        for r in t.of_type("AWS::StepFunctions::StateMachine"):
            self.m.state_machine_roles[t.arn(r.logical_id)] = str(t.props(r)["RoleArn"])

    def _alarms(self) -> None:
        t = self.t
        for r in t.of_type("AWS::CloudWatch::Alarm"):
            props = t.props(r)
            name = str(props.get("AlarmName") or t.physical_id(r.logical_id))
            self.m.alarms[f"arn:aws:cloudwatch:{t.region}:{t.account}:alarm:{name}"] = props


def _queue_arn(url: str) -> str:
    if url.startswith("arn:"):
        return url
    # https://sqs.<region>.amazonaws.com/<account>/<name>
    parts = url.rstrip("/").split("/")
    region = parts[2].split(".")[1]
    return f"arn:aws:sqs:{region}:{parts[-2]}:{parts[-1]}"
