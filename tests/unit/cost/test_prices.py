"""The price file: every price the model uses is stated, with its unit, source and whether it was verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflowkit.cost.prices import (
    DEFAULT_LATENCIES,
    DEFAULT_PRICES,
    REQUIRED,
    PriceBook,
    PriceFileError,
    load_latencies,
)


def test_the_shipped_price_file_states_its_date_and_a_source_for_every_price() -> None:
    data = json.loads(DEFAULT_PRICES.read_text())
    book = PriceBook.load()

    assert data["read_on"] == book.read_on
    assert len(book.read_on) == 10
    assert data["free_tiers_excluded"] is True
    for name in REQUIRED:
        entry = data["prices"][name]
        assert entry["source"].startswith("https://"), name
        assert entry["unit"], name
        assert isinstance(entry["verified"], bool), name
        assert book[name] == entry["usd"] > 0


def _write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("field", ["source", "unit", "verified", "usd"])
def test_a_price_without_its_source_unit_or_flag_is_refused(tmp_path: Path, field: str) -> None:
    data = json.loads(DEFAULT_PRICES.read_text())
    del data["prices"]["sqs.standard_request"][field]

    with pytest.raises(PriceFileError, match=f"sqs.standard_request.*{field}"):
        PriceBook.load(_write(tmp_path, data))


def test_a_price_file_missing_a_price_the_model_uses_is_refused(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_PRICES.read_text())
    del data["prices"]["kms.request"]

    with pytest.raises(PriceFileError, match=r"kms\.request"):
        PriceBook.load(_write(tmp_path, data))


def test_every_hop_latency_has_a_source_and_a_kind() -> None:
    hops = load_latencies()
    raw = json.loads(DEFAULT_LATENCIES.read_text())["hops"]

    assert set(hops) == set(raw)
    for name, hop in hops.items():
        assert hop.kind in ("community", "assumption", "aws"), name
        assert hop.source, name
        assert 0 < hop.p50 <= hop.p99
