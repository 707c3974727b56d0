"""The price file: list prices with the date they were read and the page each was read from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PRICES = Path(__file__).with_name("prices") / "us-east-1.json"
DEFAULT_LATENCIES = Path(__file__).with_name("latencies.json")
# Every price the model uses: a price file must state each of them.
REQUIRED = (
    "stepfunctions.standard_transition",
    "stepfunctions.express_request",
    "stepfunctions.express_gb_second",
    "lambda.request",
    "lambda.arm64_gb_second",
    "events.custom_event",
    "scheduler.invocation",
    "sqs.standard_request",
    "dynamodb.write_request_unit",
    "dynamodb.read_request_unit",
    "logs.ingestion_gb",
    "xray.trace_recorded",
    "kms.request",
    "kms.key_month",
    "apigateway.http_request",
    "sns.publish",
)


class PriceFileError(ValueError):
    """The price file lacks a price, or a price lacks its unit, source or verification flag."""


@dataclass(frozen=True)
class PriceBook:
    region: str
    read_on: str
    prices: dict[str, float]  # USD per unit
    sources: dict[str, str]
    verified: dict[str, bool]
    path: Path

    def __getitem__(self, name: str) -> float:
        return self.prices[name]

    @classmethod
    def load(cls, path: Path = DEFAULT_PRICES) -> PriceBook:
        data: dict[str, Any] = json.loads(Path(path).read_text())
        for field in ("region", "currency", "read_on", "prices"):
            if field not in data:
                raise PriceFileError(f"{path}: no {field!r}")
        if data["currency"] != "USD":
            raise PriceFileError(f"{path}: prices must be in USD, not {data['currency']}")
        prices, sources, verified = {}, {}, {}
        for name in REQUIRED:
            entry = data["prices"].get(name)
            if entry is None:
                raise PriceFileError(f"{path}: no price {name!r}")
            for field in ("usd", "unit", "source", "verified"):
                if field not in entry:
                    raise PriceFileError(f"{path}: price {name!r} has no {field!r}")
            usd = entry["usd"]
            if not isinstance(usd, int | float) or usd < 0:
                raise PriceFileError(f"{path}: price {name!r} is not a non-negative number")
            prices[name], sources[name], verified[name] = (
                float(usd),
                str(entry["source"]),
                bool(entry["verified"]),
            )
        return cls(str(data["region"]), str(data["read_on"]), prices, sources, verified, Path(path))


@dataclass(frozen=True)
class Hop:
    p50: float  # milliseconds
    p99: float
    kind: str  # "community", "assumption", "aws"
    source: str


def load_latencies(path: Path = DEFAULT_LATENCIES) -> dict[str, Hop]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    hops = {}
    for name, entry in data["hops"].items():
        if not 0 < entry["p50"] <= entry["p99"]:
            raise PriceFileError(f"{path}: hop {name!r} needs 0 < p50 <= p99")
        hops[name] = Hop(float(entry["p50"]), float(entry["p99"]), str(entry["kind"]), str(entry["source"]))
    return hops
