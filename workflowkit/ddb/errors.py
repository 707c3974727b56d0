"""DynamoDB errors, each carrying what botocore would hand the caller for it.

botocore parses an error body into ``{"Error": {"Code", "Message"}}`` and then copies the members of the
error's modeled shape (if the service model has one) to the top level of the response: that is why a
``ConditionalCheckFailedException`` carries ``message`` (lower case) and maybe ``Item``, a
``TransactionCanceledException`` carries ``Message`` and ``CancellationReasons``, and a
``ValidationException`` (not modeled) carries nothing extra.
"""

from __future__ import annotations

from typing import Any, ClassVar

# DynamoDB's words for "another transaction is in progress on this item", in a cancellation reason and
# in a TransactionConflictException alike.
TRANSACTION_CONFLICT_MESSAGE = "Transaction is ongoing for the item"


class DynamoDBError(Exception):
    """Base of every error the engine answers with; ``code`` is the DynamoDB error code."""

    code: ClassVar[str] = "InternalServerError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def modeled_fields(self) -> dict[str, Any]:
        """The error shape's members as botocore puts them at the response's top level."""
        return {"message": self.message}


class ValidationException(DynamoDBError):  # noqa: N818 - named after the DynamoDB error code
    code = "ValidationException"

    def modeled_fields(self) -> dict[str, Any]:
        return {}  # not in DynamoDB's service model, so botocore adds nothing


class ResourceNotFoundException(DynamoDBError):  # noqa: N818 - named after the DynamoDB error code
    code = "ResourceNotFoundException"

    def __init__(self, message: str = "Requested resource not found") -> None:
        super().__init__(message)


class ConditionalCheckFailedException(DynamoDBError):  # noqa: N818 - named after the DynamoDB error code
    code = "ConditionalCheckFailedException"

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        super().__init__("The conditional request failed")
        # Present only when the caller asked for ReturnValuesOnConditionCheckFailure=ALL_OLD
        # and an item existed.
        self.item = item

    def modeled_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"message": self.message}
        if self.item is not None:
            fields["Item"] = self.item
        return fields


class TransactionConflictException(DynamoDBError):  # noqa: N818 - named after the DynamoDB error code
    """A PutItem, UpdateItem or DeleteItem on an item that a transaction in progress is writing."""

    code = "TransactionConflictException"

    def __init__(self) -> None:
        super().__init__(TRANSACTION_CONFLICT_MESSAGE)


class TransactionCanceledException(DynamoDBError):  # noqa: N818 - named after the DynamoDB error code
    code = "TransactionCanceledException"

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        codes = ", ".join(reason["Code"] for reason in reasons)
        super().__init__(
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]"
        )
        self.reasons = reasons

    def modeled_fields(self) -> dict[str, Any]:
        return {"Message": self.message, "CancellationReasons": self.reasons}
