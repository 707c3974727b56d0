"""A fast in-memory DynamoDB data plane for the local cloud (see engine.py)."""

from __future__ import annotations

from workflowkit.ddb.engine import DynamoEngine
from workflowkit.ddb.errors import (
    ConditionalCheckFailedException,
    DynamoDBError,
    ResourceNotFoundException,
    TransactionCanceledException,
    ValidationException,
)

__all__ = [
    "ConditionalCheckFailedException",
    "DynamoDBError",
    "DynamoEngine",
    "ResourceNotFoundException",
    "TransactionCanceledException",
    "ValidationException",
]
