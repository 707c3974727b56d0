"""The encrypted queues every pattern uses: one definition of a dead-letter queue."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import defaults


def dead_letter_queue(
    scope: Construct, construct_id: str, *, key: kms.IKey, removal_policy: RemovalPolicy | None = None
) -> sqs.Queue:
    """A queue that keeps what could not be delivered or processed: encrypted with the stage key,
    TLS only, kept for the longest retention SQS allows so an operator can redrive it."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=defaults.DLQ_RETENTION,
        removal_policy=removal_policy,
    )
