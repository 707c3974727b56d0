"""Matches per second: workflowkit.patterns vs moto 5.2.5's EventPattern, same patterns, same events.

Run: .venv/bin/python benchmarks/pattern_matcher.py  (one run; prints a side-by-side table, then how
many of the documented cases in tests/unit/local_cloud/pattern_cases.json moto gets wrong).
Both sides get their compiled pattern from a cache, as the local cloud does; ours pays for the canonical
JSON key on every call, moto re-serialises and flattens the event on every call.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from moto.events.models import EventPattern

from workflowkit.patterns import matches

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "OrderPlaced",
    "source": "com.example.orders",
    "account": "111122223333",
    "time": "2024-05-01T10:00:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "orderId": "o-123",
        "amount": 250.5,
        "customer": {"tier": "gold", "country": "DE"},
        "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}],
    },
}

PATTERNS: dict[str, dict[str, Any]] = {
    "3-field exact": {
        "source": ["com.example.orders"],
        "detail-type": ["OrderPlaced"],
        "detail": {"customer": {"tier": ["gold"]}},
    },
    "3-field miss": {
        "source": ["com.example.orders"],
        "detail-type": ["OrderShipped"],
        "detail": {"customer": {"tier": ["gold"]}},
    },
    "numeric + prefix": {
        "source": [{"prefix": "com.example."}],
        "detail": {"amount": [{"numeric": [">", 100, "<=", 1000]}]},
    },
    "anything-but + exists": {
        "detail-type": [{"anything-but": ["OrderCancelled", "OrderRefunded"]}],
        "detail": {"orderId": [{"exists": True}], "coupon": [{"exists": False}]},
    },
    "$or + wildcard": {
        "$or": [{"detail": {"customer": {"country": ["FR"]}}}, {"source": [{"wildcard": "com.*.orders"}]}],
    },
    "array of objects": {"detail": {"items": {"sku": ["b"], "qty": [2]}}},
}


def rate(fn: Any, seconds: float = 0.4) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            fn()
        count += 200
    return count / elapsed


def main() -> None:
    print(f"{'pattern':<24}{'ours/s':>12}{'moto/s':>12}{'speed-up':>10}{'  µs/match ours':>16}")
    for name, pattern in PATTERNS.items():
        compiled_moto = EventPattern.load(json.dumps(pattern))
        ours = rate(lambda pattern=pattern: matches(pattern, EVENT))
        theirs = rate(lambda compiled_moto=compiled_moto: compiled_moto.matches_event(EVENT))
        print(f"{name:<24}{ours:>12,.0f}{theirs:>12,.0f}{ours / theirs:>9.1f}x{1e6 / ours:>16.1f}")

    cases_file = Path(__file__).parent.parent / "tests/unit/local_cloud/pattern_cases.json"
    cases = json.loads(cases_file.read_text())["cases"]
    wrong = [
        case["id"]
        for case in cases
        if bool(EventPattern.load(json.dumps(case["pattern"])).matches_event(case["event"]))
        is not case["expected"]
    ]
    ours_wrong = [
        case["id"] for case in cases if matches(case["pattern"], case["event"]) is not case["expected"]
    ]
    print(f"\nof {len(cases)} documented cases, moto gets {len(wrong)} wrong: {', '.join(wrong)}")
    print(f"of {len(cases)} documented cases, ours gets {len(ours_wrong)} wrong")


if __name__ == "__main__":
    main()
