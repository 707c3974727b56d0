"""The products an account can be opened for: the catalogue a core banking system would hold.

A product the customer applied for is ``OFFERED``, ``RETIRED`` (it existed, no new accounts: the
onboarding fails with PRODUCT_RETIRED, which the demo's "provisioning fails" scenario uses) or unknown.
"""

from __future__ import annotations

from typing import Literal

OFFERED = frozenset({"CURRENT", "SAVINGS", "JOINT"})
RETIRED = frozenset({"GOLD-LEGACY"})

Refusal = Literal["UNKNOWN_PRODUCT", "PRODUCT_RETIRED"]


def refusal(product: str) -> tuple[Refusal, str] | None:
    """Why no account of ``product`` can be opened, or None when it can."""
    if product in OFFERED:
        return None
    if product in RETIRED:
        return "PRODUCT_RETIRED", f"{product} is retired: no new accounts are opened for it"
    return "UNKNOWN_PRODUCT", f"no product {product!r}; offered: {', '.join(sorted(OFFERED))}"


def account_id_for(customer_id: str) -> str:
    return f"acc_{customer_id}"
