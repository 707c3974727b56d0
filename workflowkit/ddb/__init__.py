"""A fast in-memory DynamoDB data plane for the local cloud (see engine.py)."""

from __future__ import annotations

from workflowkit.ddb.engine import TRANSACTION_CONFLICT, DynamoEngine, ItemFault
from workflowkit.ddb.errors import (
    ConditionalCheckFailedException,
    DynamoDBError,
    ResourceNotFoundException,
    TransactionCanceledException,
    TransactionConflictException,
    ValidationException,
)

__all__ = [
    "TRANSACTION_CONFLICT",
    "ConditionalCheckFailedException",
    "DynamoDBError",
    "DynamoEngine",
    "ItemFault",
    "ResourceNotFoundException",
    "TransactionCanceledException",
    "TransactionConflictException",
    "ValidationException",
]
