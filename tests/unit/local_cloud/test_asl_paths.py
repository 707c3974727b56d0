"""JSONPath as ASL uses it: reading documents, and ResultPath writing into them without side effects."""

from __future__ import annotations

from typing import Any

import pytest

from workflowkit.asl.errors import PathNotFoundError, PathSyntaxError
from workflowkit.asl.paths import ResultPath, compile_path, compile_reference_path

DOC: dict[str, Any] = {
    "foo": 123,
    "bar": ["a", "b", "c"],
    "car": {"cdr": True},
    "ship-date": "2016-03-14T01:59:00Z",
    "items": [{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}, {"id": 3}],
    "odd key": {"with.dot": 1},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.foo", 123),
        ("$.bar", ["a", "b", "c"]),
        ("$.car.cdr", True),
        ("$.ship-date", "2016-03-14T01:59:00Z"),
        ("$['car']['cdr']", True),
        ('$["odd key"]["with.dot"]', 1),
        ("$.bar[0]", "a"),
        ("$.bar[-1]", "c"),
        ("$.items[1].id", 2),
    ],
)
def test_definite_paths_select_one_node(path: str, expected: Any) -> None:
    assert compile_path(path).get(DOC) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.bar[*]", ["a", "b", "c"]),
        ("$.items[*].id", [1, 2, 3]),
        ("$.items[*].tags[0]", ["x"]),  # no match in an item is simply no element
        ("$.bar[0:2]", ["a", "b"]),
        ("$.bar[::-1]", ["c", "b", "a"]),
        ("$.bar[0,2]", ["a", "c"]),
        ("$['foo','car']", [123, {"cdr": True}]),
        ("$..id", [1, 2, 3]),
        ("$.car.*", [True]),
    ],
)
def test_indefinite_paths_select_a_list_of_matches(path: str, expected: Any) -> None:
    assert compile_path(path).get(DOC) == expected


@pytest.mark.parametrize("path", ["$.nope", "$.foo.bar", "$.bar[3]", "$.bar.x", "$.car[0]", "$.nope[*].id"])
def test_a_path_that_matches_nothing_raises(path: str) -> None:
    with pytest.raises(PathNotFoundError):
        compile_path(path).get(DOC)


@pytest.mark.parametrize(
    "path", ["foo", "$.", "$.a[", "$.a[?(@.b > 1)]", "$.a.length()", "$.a[x]", "$.a[::0]"]
)
def test_malformed_or_unsupported_paths_are_rejected(path: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_path(path)


def test_reference_paths_allow_names_and_indexes_only() -> None:
    assert compile_reference_path("$.a[0]['b']").definite
    for path in ("$.a[*]", "$..a", "$.a[0:1]", "$.a[0,1]"):
        with pytest.raises(PathSyntaxError):
            compile_reference_path(path)


def test_context_paths_are_marked_and_read_the_context_object() -> None:
    path = compile_path("$$.Execution.Name")

    class Scope:
        random = None

        def context_object(self) -> Any:
            return {"Execution": {"Name": "exec-1"}}

    assert path.context
    assert path.select({"Execution": {"Name": "not this"}}, Scope()) == "exec-1"  # type: ignore[arg-type]


def test_result_path_copies_on_write_and_leaves_the_original_untouched() -> None:
    original = {"a": {"b": 1, "keep": [1]}, "other": {"x": 1}}
    updated = ResultPath(compile_reference_path("$.a.c")).put(original, "new")
    assert updated == {"a": {"b": 1, "keep": [1], "c": "new"}, "other": {"x": 1}}
    assert original == {"a": {"b": 1, "keep": [1]}, "other": {"x": 1}}
    assert updated["other"] is original["other"]  # untouched branches are shared, not copied


def test_result_path_replaces_array_elements_and_rejects_impossible_targets() -> None:
    assert ResultPath(compile_reference_path("$.l[1]")).put({"l": [0, 0]}, 9) == {"l": [0, 9]}
    for path, document in (("$.l[5]", {"l": []}), ("$.a.b", {"a": 1}), ("$.a", [1])):
        with pytest.raises(ValueError, match=r"cannot|no element"):
            ResultPath(compile_reference_path(path)).put(document, 1)
    with pytest.raises(PathSyntaxError):
        ResultPath(compile_reference_path("$$.Execution"))
