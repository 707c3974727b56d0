"""Order validation and the fraud screen: the checks before any money moves."""

from __future__ import annotations

from typing import Any

import pytest

from payment.checks import handle
from payment.errors import FraudSuspectedError, InvalidOrderError
from payment.fraud import FraudRules, screen_order
from payment.validation import validate_order
from tests.factories import order
from workflow_core.errors import InvalidTaskInputError


def wire(**changes: Any) -> dict[str, Any]:
    raw = order("o-1").to_wire()
    raw.update(changes)
    return raw


def test_a_consistent_order_is_valid() -> None:
    # GIVEN lines that add up to the amount, in a supported currency
    # WHEN validated THEN the verdict echoes what will be charged
    assert validate_order(order("o-1")) == {"valid": True, "amountMinor": 3300, "currency": "EUR"}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"amountMinor": 3301}, "lines add up to 3300 but the order amount is 3301"),
        ({"currency": "JPY"}, "currency JPY is not supported"),
        (
            {"items": [{"sku": "A", "quantity": 1, "unitPriceMinor": 0}], "amountMinor": 0},
            "amount must be positive",
        ),
        (
            {"items": [{"sku": "A", "quantity": 1, "unitPriceMinor": 5}] * 2, "amountMinor": 10},
            "SKUs listed on more than one line: A",
        ),
    ],
)
def test_an_inconsistent_order_is_invalid(changes: dict[str, Any], problem: str) -> None:
    # GIVEN an order breaking one business rule
    # WHEN the checks Lambda validates it
    # THEN InvalidOrderError names the problem
    with pytest.raises(InvalidOrderError, match=problem):
        handle({"operation": "validate", "order": wire(**changes)})


def test_an_order_that_breaks_the_contract_is_invalid_not_a_crash() -> None:
    # GIVEN an order without items WHEN validated THEN it is an InvalidOrderError (caught by the ASL)
    with pytest.raises(InvalidOrderError, match="does not match the contract"):
        handle({"operation": "validate", "order": wire(items=[])})


def test_an_ordinary_order_passes_the_fraud_screen() -> None:
    assert handle({"operation": "fraud", "order": wire()}) == {"decision": "ACCEPT", "rulesEvaluated": 6}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"paymentToken": "tok_riskLevelHighest"}, "payment token is on the block list"),
        (
            {"shippingAddress": {"line1": "x", "city": "Havana", "postalCode": "1", "country": "CU"}},
            "shipping to CU is blocked",
        ),
        (
            {
                "items": [{"sku": "GOLD", "quantity": 1, "unitPriceMinor": 2_000_000}],
                "amountMinor": 2_000_000,
            },
            "exceeds the limit 1000000",
        ),
        (
            {
                "customerId": "guest-7",
                "items": [{"sku": "TV", "quantity": 1, "unitPriceMinor": 80_000}],
                "amountMinor": 80_000,
            },
            "guest checkout of 80000 exceeds 50000",
        ),
        (
            {
                "items": [{"sku": f"S{n}", "quantity": 1, "unitPriceMinor": 1} for n in range(21)],
                "amountMinor": 21,
            },
            "21 lines exceed the limit 20",
        ),
        (
            {"items": [{"sku": "GIFTCARD", "quantity": 40, "unitPriceMinor": 10}], "amountMinor": 400},
            "more than 25 units of GIFTCARD",
        ),
    ],
)
def test_the_fraud_screen_rejects_suspect_orders(changes: dict[str, Any], reason: str) -> None:
    # GIVEN an order that trips one rule
    # WHEN screened THEN FraudSuspectedError gives the reason
    with pytest.raises(FraudSuspectedError, match=reason):
        handle({"operation": "fraud", "order": wire(**changes)})


def test_the_fraud_screen_reports_every_hit_and_takes_tuned_thresholds() -> None:
    # GIVEN stricter rules and an order over both of them
    rules = FraudRules(max_amount_minor=1000, blocked_countries=frozenset({"DE"}))

    # WHEN screened THEN both reasons are reported, deterministically in rule order
    with pytest.raises(FraudSuspectedError) as raised:
        screen_order(order("o-1"), rules=rules)
    assert str(raised.value).endswith("shipping to DE is blocked; amount 3300 exceeds the limit 1000")


def test_an_unknown_operation_is_a_wiring_error() -> None:
    with pytest.raises(InvalidTaskInputError, match="operation must be one of"):
        handle({"operation": "charge", "order": wire()})


@pytest.mark.parametrize("event", [None, [], "validate", 7])
def test_an_input_that_is_not_an_object_is_a_typed_error_not_a_crash(event: Any) -> None:
    # The fuzz suite's finding: these raised AttributeError, an error no state machine names
    with pytest.raises(InvalidTaskInputError, match="must be a JSON object"):
        handle(event)
