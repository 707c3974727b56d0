"""EventBridge delivery skips a rule by its exact sources and detail types before matching the pattern:
only when the pattern could not match an event of another source or type, whatever else it says."""

from __future__ import annotations

import json

import pytest

from workflowkit.eventbridge import _exact_fields
from workflowkit.patterns import matches_json


@pytest.mark.parametrize(
    ("pattern", "sources", "detail_types"),
    [
        ({"source": ["a", "b"], "detail-type": ["T"]}, {"a", "b"}, {"T"}),
        ({"source": ["a"]}, {"a"}, None),
        ({"detail-type": ["T"], "detail": {"x": [1]}}, None, {"T"}),
        ({"source": [{"prefix": "a"}]}, None, None),  # an operator: no exact list
        ({"source": ["a", {"prefix": "b"}]}, None, None),  # exact and operator mixed
        ({"$or": [{"source": ["a"]}, {"source": ["b"]}]}, None, None),
        ({"source": [1]}, None, None),  # not a string: left to the matcher
        # An $or branch may write source or detail-type again, and inside a branch the later writing wins
        # (workflowkit.patterns.compiler): the top-level list is not the only one an event may match.
        ({"source": ["a"], "$or": [{"source": ["b"]}, {"detail-type": ["T"]}]}, None, None),
        ({"detail-type": ["T"], "$or": [{"detail-type": ["U"]}, {"source": ["s"]}]}, None, None),
    ],
)
def test_only_exact_string_lists_prefilter(
    pattern: dict, sources: set | None, detail_types: set | None
) -> None:
    assert _exact_fields(json.dumps(pattern)) == (
        None if sources is None else frozenset(sources),
        None if detail_types is None else frozenset(detail_types),
    )


def test_the_prefilter_never_skips_a_rule_whose_pattern_matches() -> None:
    # GIVEN patterns with exact lists and events of every combination of source and type
    patterns = [
        {"source": ["shop", "shop.v2"], "detail-type": ["Placed", "Paid"]},
        {"source": ["shop"], "detail": {"amount": [{"numeric": [">", 1]}]}},
        {"detail-type": ["Paid"]},
        {"source": ["shop"], "$or": [{"source": ["other"]}, {"detail-type": ["Placed"]}]},
        {"detail-type": ["Paid"], "$or": [{"detail-type": ["paid"]}, {"source": ["shop.v2"]}]},
        {"$or": [{"source": ["shop"]}, {"detail": {"amount": [2]}}], "source": ["SHOP"]},
    ]
    for pattern in map(json.dumps, patterns):
        sources, detail_types = _exact_fields(pattern)
        for source in ("shop", "shop.v2", "other", "SHOP"):
            for detail_type in ("Placed", "Paid", "paid"):
                event = {"source": source, "detail-type": detail_type, "detail": {"amount": 2}}
                skipped = (sources is not None and source not in sources) or (
                    detail_types is not None and detail_type not in detail_types
                )
                # THEN a skipped rule is one whose pattern does not match
                if skipped:
                    assert not matches_json(pattern, event)
