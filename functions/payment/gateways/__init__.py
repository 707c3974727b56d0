"""Card processors behind one interface; ``PAYMENT_GATEWAY`` picks the implementation.

Only the ``sandbox`` ships (see docs/decisions/0006-payment-gateway-seam.md): a real processor is a
new :class:`PaymentGateway` subclass registered in :func:`build_gateway`.
"""

from __future__ import annotations

from typing import Any

from payment.gateways.base import (
    Authorization,
    AuthorizationStatus,
    Capture,
    GatewayCall,
    PaymentGateway,
    Refund,
    Settlement,
    SettlementOutcome,
    Void,
)
from payment.gateways.config import PAYMENT_GATEWAY, SANDBOX, GatewaySettings
from payment.gateways.sandbox import SandboxGateway

__all__ = [
    "PAYMENT_GATEWAY",
    "SANDBOX",
    "Authorization",
    "AuthorizationStatus",
    "Capture",
    "GatewayCall",
    "GatewaySettings",
    "PaymentGateway",
    "Refund",
    "SandboxGateway",
    "Settlement",
    "SettlementOutcome",
    "Void",
    "build_gateway",
]


def build_gateway(settings: GatewaySettings, *, dynamodb_client: Any) -> PaymentGateway:
    if settings.gateway == SANDBOX:
        return SandboxGateway(table_name=settings.payments_table_name, client=dynamodb_client)
    raise ValueError(f"{PAYMENT_GATEWAY}={settings.gateway!r} is not a known gateway (known: {SANDBOX})")
