"""JSONPath as Step Functions evaluates it (Jayway JsonPath), and ResultPath writing without side effects.

Sources: Step Functions' paths "follow JsonPath syntax" (github.com/json-path/JsonPath); AWS-recorded
results in localstack's snapshot suite (tests/aws/services/stepfunctions/v2/base/test_base.snapshot.json:
test_state_pass_regex_json_path_base; InputPath/OutputPath causes "Invalid path '$.x' : No results for
path: $['x']"); localstack issue #12318 / PR #12366 (wildcards and slices over an absent array give []
on AWS, a slice at the root of an object fails).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflowkit.asl import StateMachineProgram, VirtualRuntime, run_to_completion
from workflowkit.asl.errors import PathNotFoundError, PathSyntaxError
from workflowkit.asl.paths import PathMissError, ResultPath, compile_path, compile_reference_path

DOC: dict[str, Any] = {
    "foo": 123,
    "bar": ["a", "b", "c"],
    "car": {"cdr": True},
    "ship-date": "2016-03-14T01:59:00Z",
    "items": [{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}, {"id": 3}],
    "odd key": {"with.dot": 1},
}


def miss(path: str, document: Any = DOC) -> PathMissError:
    with pytest.raises(PathMissError) as raised:
        compile_path(path).get(document)
    return raised.value


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
        ("$.bar.[1]", "b"),  # Jayway reads ".[" as "["
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
        ("$.bar[0,2]", ["a", "c"]),
        ("$..id", [1, 2, 3]),
        ("$.car.*", [True]),
        ("$.items[*]['id','tags']", [{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}, {"id": 3}]),
    ],
)
def test_indefinite_paths_select_a_list_of_matches(path: str, expected: Any) -> None:
    assert compile_path(path).get(DOC) == expected


def test_a_leaf_union_of_names_merges_the_members_present_into_one_object() -> None:
    # Jayway's multi-property merge: "$['a','b']" is one object, absent names are left out.
    assert compile_path("$['foo','car']").get(DOC) == {"foo": 123, "car": {"cdr": True}}
    assert compile_path("$['foo','nope']").get(DOC) == {"foo": 123}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$[1:]", [1, 2, 3]),
        ("$[-2:]", [2, 3]),
        ("$[:2]", [0, 1]),
        ("$[:-1]", [0, 1, 2]),
        ("$[1:3]", [1, 2]),
        ("$[1:10]", [1, 2, 3]),
        ("$[0:4:2]", [0, 1, 2, 3]),  # Jayway reads no step: the third part is ignored
        ("$[-3:2]", [1, 2, 3, 0, 1]),  # [from:to] is walked as written, -3 counting from the end
        ("$[3:1]", []),
        ("$[0,5,-1]", [0, 3]),  # an index out of bounds is no match
    ],
)
def test_slices_and_index_lists_follow_jayway(path: str, expected: Any) -> None:
    assert compile_path(path).get([0, 1, 2, 3]) == expected


@pytest.mark.parametrize("path", ["$.nope[*].id", "$.nope[*]", "$.nope[0:2]", "$.car.nope[*]", "$.nope..id"])
def test_a_wildcard_or_slice_over_an_absent_member_selects_nothing(path: str) -> None:
    # GIVEN an indefinite path whose array is absent WHEN it is evaluated THEN AWS answers [] (issue 10;
    # localstack #12318), where a definite path would fail
    assert compile_path(path).get(DOC) == []


@pytest.mark.parametrize(
    ("path", "document", "reason"),
    [
        ("$.foo[0:2]", DOC, "Filter: [0:2] can only be applied to arrays. Current context is: 123"),
        ("$.foo[*].x[0]", DOC, None),  # a wildcard over a number is no match, so this one is fine
        ("$[1:]", {"a": 1}, 'Filter: [1:] can only be applied to arrays. Current context is: {"a":1}'),
        ("$.foo.x[*]", DOC, "Expected to find an object with property ['x'] in path $['foo']"),
        ("$.car[?(@.x)]", {"car": 5}, "Filter: [?] can not be applied to primitives"),
        ("$.car.cdr[0]", {"car": {"cdr": None}}, "The path $['car']['cdr'] is null"),
    ],
)
def test_an_indefinite_path_still_fails_on_a_value_of_the_wrong_type(
    path: str, document: Any, reason: str | None
) -> None:
    if reason is None:
        assert compile_path(path).get(document) == []
        return
    failure = miss(path, document)
    assert not failure.missing
    assert reason in failure.reason


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("$.nope", "No results for path: $['nope']"),
        ("$.foo.bar", "Expected to find an object with property ['bar'] in path $['foo']"),
        ("$.bar[3]", "No results for path: $['bar'][3]"),
        ("$.nope.x", "Missing property in path $['nope']"),
        ("$.items[7].id", "No results for path: $['items'][7]['id']"),
        ("$.car[0]", "Filter: [0] can only be applied to arrays."),
    ],
)
def test_a_definite_path_that_matches_nothing_fails_with_jaywayss_message(path: str, reason: str) -> None:
    failure = miss(path)
    assert isinstance(failure, PathNotFoundError)
    assert str(failure) == path  # callers name the path; the reason is Jayway's wording
    assert failure.reason.startswith(reason)


@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        ("$['a\\'b']", {"a'b": 1}, 1),
        ('$["x\\"y"]', {'x"y': 2}, 2),
        ("$['a.b']", {"a.b": 3, "a": {"b": 4}}, 3),
        ('$[\'Test\\""Name"\']', {'Test""Name"': 5}, 5),  # localstack escape_sequences_jsonpath
        ("$['tab\\tname']", {"tab\tname": 6}, 6),
        ("$['\\u00e9t\\u00e9']", {"\u00e9t\u00e9": 7}, 7),
    ],
)
def test_bracket_notation_unescapes_as_jayway_does(path: str, document: Any, expected: Any) -> None:
    assert compile_path(path).get(document) == expected


USERS = {"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}, {"year": 2001, "name": "x"}]}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # AWS-recorded: localstack test_state_pass_regex_json_path_base
        ("$.users[?(@.status == 0)]", [{"year": 1997, "status": 0}]),
        ("$.users[?(@.year <= 1998)].year", [1997, 1998]),
        ("$.users[?(@.year > 1997 && @.status)].year", [1998]),
        ("$.users[?(@.status == 1 || @.year == 1997)].year", [1997, 1998]),
        ("$.users[?(@.year == 1997 || @.year == 1998 && @.status == 0)].year", [1997]),  # && binds tighter
        ("$.users[?(!(@.status == 0))].year", [1998, 2001]),
        ("$.users[?(@.name)].year", [2001]),
        ("$.users[?(!@.name)].year", [1997, 1998]),
        ("$.users[?(@.status != 0)].year", [1998, 2001]),  # an absent member equals nothing
        ("$.users[?(@.status == '1')].year", [1998]),  # a number equals a string of the same value
        ("$.users[?(@.status < '1')].year", []),  # but orders only against a number
        ("$.users[?(@.year in [1997, 2001])].year", [1997, 2001]),
        ("$.users[?(@.year nin [1997, 2001])].year", [1998]),
        ("$.users[?(@.name =~ /X/i)].year", [2001]),
        ("$.users[?(@.name size 1)].year", [2001]),
        ("$.users[?(@.year > $.min)].year", [2001]),
        ("$[?(@.year)]", []),  # a filter on an object tests the object itself
        ("$.users[?(@.status == 7)]", []),
        (
            "$.users[?(@.year <= 1998)]['year','status']",
            [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}],
        ),
        ("$..[?(@.name)].year", [2001]),
    ],
)
def test_filter_expressions_evaluate_as_jayway_does(path: str, expected: Any) -> None:
    assert compile_path(path).get({**USERS, "min": 1998}) == expected


def test_filter_on_a_list_at_the_root_and_on_an_absent_array() -> None:
    assert compile_path("$[?(@.year <= 1997)].year").get(USERS["users"]) == [1997]
    assert compile_path("$.missing[?(@.year)]").get(USERS) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.l[?(@ contains 'b')]", [["a", "b"]]),
        ("$.l[?(@ empty true)]", [[]]),
        ("$.l[?(@ subsetof ['a','b','c'])]", [["a", "b"], []]),
        ("$.l[?(@ anyof ['b'])]", [["a", "b"]]),
        ("$.l[?(@ noneof ['b'])]", [[]]),
        ("$.l[?(@ == ['a','b'])]", [["a", "b"]]),
    ],
)
def test_filter_operators_on_arrays(path: str, expected: Any) -> None:
    assert compile_path(path).get({"l": [["a", "b"], []]}) == expected


@pytest.mark.parametrize(
    "path",
    [
        "foo",
        "$.",
        "$..",
        "$.a[",
        "$.a.length()",
        "$.a[x]",
        "$.a[::0]",
        "$.bar[::-1]",  # Jayway refuses a slice without a start or an end
        "$.a b",
        "$['a'",
        "$['a' 'b']",
        "$.a[?(@.b ==)]",
        "$.a[?(@.b > 1]",
        "$.a[?(@.b =~ /[/)]",
        "$.a[?(@.b >> 1)]",
        "$.a[99999999999]",
    ],
)
def test_malformed_or_unsupported_paths_are_rejected(path: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_path(path)


def test_reference_paths_allow_names_and_indexes_only() -> None:
    assert compile_reference_path("$.a[0]['b']").definite
    for path in ("$.a[*]", "$..a", "$.a[0:1]", "$.a[0,1]", "$['a','b']", "$.a[?(@.b)]"):
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


def test_evaluation_never_escapes_as_a_python_error() -> None:
    # GIVEN a document nested deeper than the interpreter's stack WHEN a deep scan walks it
    # THEN the path fails as a miss (the state fails), not with a RecursionError
    deep: Any = {}
    for _ in range(5000):
        deep = {"a": deep}
    failure = miss("$..b", deep)
    assert not failure.missing


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


# --- in a running state machine -------------------------------------------------------------------


def run_pass(state: dict[str, Any], document: Any) -> Any:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, **state}}}
    return run_to_completion(StateMachineProgram.parse(json.dumps(definition)), document, VirtualRuntime())


@pytest.mark.parametrize("field", ["InputPath", "OutputPath"])
def test_input_and_output_path_failures_are_worded_as_aws_words_them(field: str) -> None:
    # AWS-recorded (localstack test_base_scenarios, invalid_jsonpath_in_inputpath / _outputpath):
    # "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    result = run_pass({field: "$.NoSuchPath"}, {"a": 1})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause is not None
    assert result.cause.endswith("Invalid path '$.NoSuchPath' : No results for path: $['NoSuchPath']")


def test_paths_with_filters_and_absent_arrays_run_in_a_state() -> None:
    # GIVEN the AWS-recorded filter of test_state_pass_regex_json_path_base and an absent array
    state = {
        "Parameters": {"FromInput.$": "$.users[?(@.status == 0)]", "ids.$": "$.missing[*].id"},
        "OutputPath": "$.FromInput[?(@.year < 1999)].year",
    }
    users = [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]
    # WHEN the state runs THEN it succeeds with Jayway's matches and [] for the absent array
    result = run_pass(state, {"users": users})
    assert result.status == "SUCCEEDED", result.cause
    assert json.loads(result.output or "") == [1997]
    result = run_pass({"Parameters": {"ids.$": "$.missing[*].id"}}, {})
    assert json.loads(result.output or "") == {"ids": []}


def test_a_path_failing_on_a_wrong_type_fails_the_state_with_states_runtime() -> None:
    result = run_pass({"Parameters": {"v.$": "$.s[0:2]"}}, {"s": "text"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause is not None
    assert "The JSONPath '$.s[0:2]' specified for the field 'v.$' could not be found" in result.cause


# --- no path or document makes the engine raise anything but its own errors ------------------------

_PIECES = [".a", ".b", "[0]", "[-1]", "[*]", ".*", "..a", "[0:2]", "[1:]", "['a','b']", "[0,1]", "['a\\'b']"]
_FILTERS = ["@.a", "@", "$.b", "!@.a", "1", "'x'", "true", "null", "[1,'x']", "/x/i", "==", "<", ">=", "!="]
_FILTERS += [" in ", " nin ", " contains ", " size ", " empty ", " anyof ", "=~", "&&", "||", "(", ")", "!"]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2) | st.sampled_from(["", "x", "a'b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "a'b"]), inner),
    max_leaves=12,
)


@settings(derandomize=True, database=None, deadline=None, max_examples=300)
@given(
    pieces=st.lists(st.sampled_from(_PIECES), max_size=4),
    criteria=st.lists(st.sampled_from(_FILTERS), min_size=1, max_size=6),
    where=st.integers(0, 4),
    document=_JSON,
)
def test_any_path_either_is_refused_or_evaluates_to_a_value_or_a_miss(
    pieces: list[str], criteria: list[str], where: int, document: Any
) -> None:
    pieces.insert(min(where, len(pieces)), "[?(" + "".join(criteria) + ")]")
    text = "$" + "".join(pieces)
    try:
        path = compile_path(text)
    except PathSyntaxError:
        return
    try:
        path.get(document)
    except PathMissError as miss:
        failure = miss
    else:
        return
    assert failure.reason  # a miss always says why, in Jayway's words
