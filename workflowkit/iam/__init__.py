"""A pure IAM policy evaluator: identity-based, resource-based and KMS key policies, with conditions.

Parse each document once with :meth:`Policy.parse`, then ask :func:`authorize` per request. No AWS SDK and
no moto: the local cloud decides every call with it. See docs/decisions/0020-local-iam-evaluator.md for
what is modelled and what is not.
"""

from workflowkit.iam.evaluation import authorize
from workflowkit.iam.exceptions import PolicyError
from workflowkit.iam.model import Decision, Outcome, Principal, Request, Verdict
from workflowkit.iam.policy import Policy

__all__ = ["Decision", "Outcome", "Policy", "PolicyError", "Principal", "Request", "Verdict", "authorize"]
