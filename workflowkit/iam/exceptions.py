"""The one error of the IAM evaluator."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy document AWS would reject when the policy is created (or that this evaluator cannot model)."""
