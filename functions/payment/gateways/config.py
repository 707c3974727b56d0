"""Which gateway a function runs, read once at cold start."""

from __future__ import annotations

import os
from dataclasses import dataclass

from payment.deployment import PAYMENTS_TABLE_NAME
from workflow_core.settings import required

PAYMENT_GATEWAY = "PAYMENT_GATEWAY"  # env var: the implementation to use
SANDBOX = "sandbox"


@dataclass(frozen=True)
class GatewaySettings:
    gateway: str
    payments_table_name: str

    @classmethod
    def from_env(cls) -> GatewaySettings:
        return cls(
            gateway=os.environ.get(PAYMENT_GATEWAY, SANDBOX),
            payments_table_name=required(PAYMENTS_TABLE_NAME),
        )
