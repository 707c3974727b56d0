"""The local cloud's transaction journal: a cancelled transaction leaves every item as it was."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from workflowkit.dynamodb import TransactionJournal


@pytest.fixture
def ddb() -> Iterator[object]:
    journal = TransactionJournal()
    with mock_aws():
        journal.install()
        try:
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName="t",
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            for n in range(3):
                client.put_item(TableName="t", Item={"pk": {"S": "A"}, "sk": {"S": str(n)}, "v": {"N": "1"}})
            yield client
        finally:
            journal.uninstall()


def items(client: object) -> dict[str, str]:
    scanned = client.scan(TableName="t")["Items"]  # type: ignore[attr-defined]
    return {f"{i['pk']['S']}/{i['sk']['S']}": i["v"]["N"] for i in scanned}


def test_a_cancelled_transaction_restores_updated_put_and_deleted_items(ddb: object) -> None:
    # GIVEN three items; WHEN a transaction updates one, adds one, deletes one, and a condition fails
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(  # type: ignore[attr-defined]
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "A"}, "sk": {"S": "0"}},
                        "UpdateExpression": "SET v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "A"}, "sk": {"S": "new"}, "v": {"N": "9"}}}},
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "A"}, "sk": {"S": "2"}},
                        "ConditionExpression": "v = :five",
                        "ExpressionAttributeValues": {":five": {"N": "5"}},
                    }
                },
            ]
        )
    # THEN the cancellation is reported as moto reports it, and nothing changed
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert items(ddb) == {"A/0": "1", "A/1": "1", "A/2": "1"}


def test_a_successful_transaction_applies_every_write(ddb: object) -> None:
    ddb.transact_write_items(  # type: ignore[attr-defined]
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "A"}, "sk": {"S": "new"}, "v": {"N": "9"}}}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}}}},
        ]
    )
    assert items(ddb) == {"A/0": "1", "A/2": "1", "A/new": "9"}
