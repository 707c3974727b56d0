"""Stacks compose constructs, grant and output; nothing else."""

from infra.stacks.workflow_stack import StageConfig, WorkflowStack

__all__ = ["StageConfig", "WorkflowStack"]
