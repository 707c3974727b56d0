"""Payload templates and intrinsic functions, as a Pass state's Parameters evaluates them."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflowkit.asl import (
    AslDefinitionError,
    ExecutionResult,
    StateMachineProgram,
    VirtualRuntime,
    run_to_completion,
)
from workflowkit.asl.functions import FUNCTIONS


def evaluate(parameters: Any, document: Any = None, *, seed: int = 0) -> ExecutionResult:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": parameters, "End": True}}}
    return run_to_completion(
        StateMachineProgram.parse(json.dumps(definition)), document, VirtualRuntime(seed=seed)
    )


def value(expression: str, document: Any = None, *, seed: int = 0) -> Any:
    result = evaluate({"v.$": expression}, document, seed=seed)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output is not None
    return json.loads(result.output)["v"]


def failure(expression: str, document: Any = None) -> str:
    result = evaluate({"v.$": expression}, document)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause is not None
    return result.cause


def test_templates_resolve_dollar_keys_at_any_depth_including_inside_arrays() -> None:
    template = {
        "Entries": [{"Detail": {"id.$": "$.id", "fixed": 1}, "Source": "s"}],
        "copy.$": "$",
        "literal.keeps": "$.not-a-path",
    }
    result = evaluate(template, {"id": "o-1"})
    assert json.loads(result.output or "") == {
        "Entries": [{"Detail": {"id": "o-1", "fixed": 1}, "Source": "s"}],
        "copy": {"id": "o-1"},
        "literal.keeps": "$.not-a-path",
    }


@pytest.mark.parametrize(
    ("expression", "document", "expected"),
    [
        ("States.Format('ORDER#{}', $.id)", {"id": "o-1"}, "ORDER#o-1"),
        ("States.Format('{} and {}', $.n, $.b)", {"n": 2.5, "b": True}, "2.5 and true"),
        ("States.Format('{}', $.x)", {"x": None}, "null"),
        ("States.Format($.template, $.name)", {"template": "Hi {}!", "name": "Ana"}, "Hi Ana!"),
        ("States.Format('a \\{b\\} {} \\'q\\' \\\\', 1)", {}, "a {b} 1 'q' \\"),
        ("States.StringToJson($.s)", {"s": '{"number": 20}'}, {"number": 20}),
        ("States.StringToJson($.s)", {"s": "2500"}, 2500),
        ("States.JsonToString($.o)", {"o": {"name": "Foo", "year": 2020}}, '{"name":"Foo","year":2020}'),
        ("States.Array('Foo', 2020, $.j, null)", {"j": {"r": "a"}}, ["Foo", 2020, {"r": "a"}, None]),
        ("States.Array()", {}, []),
        (
            "States.ArrayPartition($.a, 4)",
            {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
            [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
        ),
        ("States.ArrayContains($.a, $.x)", {"a": [1, 2, {"k": 1, "j": 2}], "x": {"j": 2, "k": 1}}, True),
        ("States.ArrayContains($.a, true)", {"a": [1]}, False),  # true is not 1
        ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
        ("States.ArrayRange(5, 1, -2)", {}, [5, 3, 1]),
        ("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9], "i": 5}, 6),
        ("States.ArrayLength($.a)", {"a": [1, 2, 3]}, 3),
        ("States.ArrayUnique($.a)", {"a": [1, 2, 3, 3, 3, 3, 3, 3, 4]}, [1, 2, 3, 4]),
        ("States.ArrayUnique($.a)", {"a": [{"a": 1}, {"a": 1}, True, 1]}, [{"a": 1}, True, 1]),
        ("States.Base64Encode($.s)", {"s": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
        ("States.Base64Encode($.s)", {"s": ""}, ""),  # AWS-recorded (test_encode_decode)
        ("States.Base64Decode($.s)", {"s": ""}, ""),  # AWS-recorded (test_encode_decode)
        ("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU"}, "Data to encode"),  # Java: no padding
        ("States.Base64Decode($.s)", {"s": "/w=="}, "\ufffd"),  # Java: malformed UTF-8 is U+FFFD
        ("States.Hash($.d, 'SHA-1')", {"d": "input data"}, hashlib.sha1(b"input data").hexdigest()),
        ("States.Hash($.d, $.alg)", {"d": "x", "alg": "SHA-256"}, hashlib.sha256(b"x").hexdigest()),
        (
            "States.JsonMerge($.a, $.b, false)",
            {"a": {"a": {"a1": 1, "a2": 2}, "b": 2}, "b": {"a": {"a3": 1, "a4": 2}, "c": 3}},
            {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
        ),
        ("States.MathAdd($.v, $.step)", {"v": 111, "step": -1}, 110),
        ("States.MathAdd(1.5, 1)", {}, 3),  # a non-integer is rounded (half up)
        ("States.StringSplit($.s, ',')", {"s": "1,2,3,4,5"}, ["1", "2", "3", "4", "5"]),
        (
            "States.StringSplit($.s, ',+')",
            {"s": "This,is+a,,test+string"},
            ["This", "is", "a", "test", "string"],
        ),
        (
            "States.ArrayGetItem(States.StringSplit("
            "States.ArrayGetItem(States.StringSplit($.arn, '/'), 1), '.'), 0)",
            {"arn": "arn:aws:imagebuilder:recipe/name.v1/1.0.0"},
            "name",
        ),
        ("States.Format('{}', $$.State.Name)", {}, "P"),
    ],
)
def test_intrinsic_functions(expression: str, document: Any, expected: Any) -> None:
    assert value(expression, document) == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # AWS-recorded (localstack tests/aws/services/stepfunctions/v2/intrinsic_functions/
        # test_generic.snapshot.json, test_format_2): Java's toString of the value
        ({"v": {"Arg1": 1, "Arg2": []}}, "Formatting {Arg1=1, Arg2=[]}."),
        ({"v": '{"Arg1": 1, "Arg2": []}'}, 'Formatting {"Arg1": 1, "Arg2": []}.'),
        ({"v": None}, "Formatting null."),
        ({"v": 1.1}, "Formatting 1.1."),
        ({"v": ""}, "Formatting ."),
        ({"v": ["a", [1, True], {"k": None}]}, "Formatting [a, [1, true], {k=null}]."),
        ({"v": 2.0}, "Formatting 2.0."),  # Double.toString keeps the fraction ...
        ({"v": 1e20}, "Formatting 1.0E20."),  # ... and writes large doubles in E notation
    ],
)
def test_format_writes_objects_arrays_and_numbers_as_java_does(document: Any, expected: str) -> None:
    assert value("States.Format('Formatting {}.', $.v)", document) == expected


def test_format_of_a_context_object_part() -> None:
    # AWS-recorded (test_context_json_path): "snd={Id=arn:...:stateMachine:..., Name=...}"
    formatted = value("States.Format('{}', $$.StateMachine)")
    assert formatted.startswith("{Id=arn:aws:states:")
    assert ", Name=" in formatted


@pytest.mark.parametrize("text", ["", " ", "  \t\n "])
def test_string_to_json_of_a_blank_string_is_null(text: str) -> None:
    # AWS-recorded (test_json_manipulation.snapshot.json, test_string_to_json): "" and " " give null
    assert value("States.StringToJson($.s)", {"s": text}) is None


def test_math_random_rounds_non_integer_bounds_and_seed() -> None:
    # "If you specify a non-integer value for the start number or end number argument, Step Functions
    # will round it off to the nearest integer"; AWS recorded 12.5..44.51 succeeding (test_math_random).
    draws = {value("States.MathRandom($.a, $.b)", {"a": 12.5, "b": 44.51}, seed=seed) for seed in range(40)}
    assert draws <= set(range(13, 46))
    assert len(draws) > 1
    assert value("States.MathRandom(1.4, 1.6)", seed=3) in (1, 2)
    assert value("States.MathRandom(0, 999, 3.2)", seed=1) == value("States.MathRandom(0, 999, 3)", seed=2)


def test_uuid_and_math_random_come_from_the_seeded_random() -> None:
    first = value("States.UUID()", seed=1)
    assert uuid.UUID(first).version == 4
    assert first == value("States.UUID()", seed=1)
    assert first != value("States.UUID()", seed=2)
    draws = {value("States.MathRandom(1, 999)", seed=seed) for seed in range(20)}
    assert all(1 <= draw <= 999 for draw in draws)
    assert len(draws) > 1
    # "If you use this function with the same seed value, it returns an identical number."
    assert value("States.MathRandom(1, 999, 42)", seed=1) == value("States.MathRandom(1, 999, 42)", seed=2)


@pytest.mark.parametrize(
    ("expression", "document", "message"),
    [
        ("States.StringToJson($.s)", {"s": "{not json"}, "not JSON"),
        ("States.ArrayGetItem($.a, 3)", {"a": [1]}, "out of bounds"),
        ("States.ArrayLength($.a)", {"a": "text"}, "expected an array"),
        ("States.ArrayPartition($.a, 0)", {"a": [1]}, "positive"),
        ("States.ArrayRange(1, 2000, 1)", {}, "more than 1000"),
        ("States.ArrayRange(1, 2, 0)", {}, "must not be 0"),
        ("States.Hash($.d, 'MD4')", {"d": "x"}, "unknown algorithm"),
        ("States.Base64Encode($.s)", {"s": "x" * 10_001}, "more than 10000"),
        ("States.Base64Decode($.s)", {"s": "R"}, "not Base64"),
        ("States.Base64Decode($.s)", {"s": "R$=="}, "not Base64"),
        ("States.JsonMerge($.a, $.a, true)", {"a": {}}, "must be false"),
        ("States.MathAdd($.v, 1)", {"v": "1"}, "expected an integer"),
        ("States.Format('{}', $.missing)", {}, "could not be found"),
    ],
)
def test_intrinsic_failures_fail_the_state_with_states_runtime(
    expression: str, document: Any, message: str
) -> None:
    assert message in failure(expression, document)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", '{"a": [NaN]}'])
def test_string_to_json_rejects_nan_infinity_and_numbers_beyond_a_double(text: str) -> None:
    # GIVEN text that Python's json accepts (NaN) or turns into inf (1e400), but that is not JSON
    # WHEN States.StringToJson parses it THEN the intrinsic itself fails with States.Runtime
    # (it used to return nan/inf, which failed later as "the execution's output is not JSON")
    cause = failure("States.StringToJson($.s)", {"s": text})
    assert "States.StringToJson" in cause
    assert "not JSON text" in cause


def test_string_to_json_keeps_large_finite_numbers() -> None:
    assert value("States.StringToJson($.s)", {"s": "[1e308, -1.5e-300, 12345678901234567890]"}) == [
        1e308,
        -1.5e-300,
        12345678901234567890,
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "States.Format('{}', NaN)",  # NaN, Infinity and 1e400 are no number literals either
        "States.Format('{}', Infinity)",
        "States.MathAdd(1e400, 1)",
        "States.Nope($.a)",
        "States.Format('{} {}', $.a)",  # placeholders and values disagree
        "States.Format('a { b', $.a)",  # an unescaped reserved character
        "States.ArrayLength($.a, $.b)",
        "States.Format('open \\x escape')",
        "States.Array($.a",
        "not a path",
    ],
)
def test_malformed_expressions_are_rejected_at_parse_time(expression: str) -> None:
    with pytest.raises(AslDefinitionError) as raised:
        evaluate({"v.$": expression}, {})
    assert (raised.value.state, raised.value.field) == ("P", "Parameters")


def test_a_template_value_under_a_dollar_key_must_be_a_string() -> None:
    with pytest.raises(AslDefinitionError, match="path or an intrinsic"):
        evaluate({"v.$": 1}, {})


def test_constant_parts_of_templates_are_fresh_for_every_use() -> None:
    # Even a task runner that (against the contract) changes its parameters cannot change the program.
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "Parameters": {"list": [1], "nested": {"k": "v"}},
                "End": True,
            }
        },
    }
    program = StateMachineProgram.parse(json.dumps(definition))

    def vandal(_resource: str, parameters: Any, _task: Any) -> Any:
        seen = json.dumps(parameters)
        parameters["list"].append(2)
        parameters["nested"]["k"] = "changed"
        return seen

    runtime = VirtualRuntime(vandal)
    first = run_to_completion(program, {}, runtime)
    second = run_to_completion(program, {}, runtime)
    assert first.output == second.output == json.dumps(json.dumps({"list": [1], "nested": {"k": "v"}}))


def test_hash_with_an_algorithm_that_is_not_a_string_fails_the_state() -> None:
    # It raised a Python TypeError (a list is unhashable) instead of failing the execution.
    assert "unknown algorithm" in failure("States.Hash($.d, $.alg)", {"d": "x", "alg": ["SHA-256"]})


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1100, 1100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", " ", "x", "SGk=", "SHA-256", "{}", "[1", "{}a{}", "null"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b"]), inner),
    max_leaves=6,
)


@settings(derandomize=True, database=None, deadline=None, max_examples=400)
@given(name=st.sampled_from(sorted(FUNCTIONS)), arguments=st.lists(_JSON, max_size=4))
def test_any_arguments_give_a_value_or_fail_the_state_with_states_runtime(
    name: str, arguments: list[Any]
) -> None:
    low, high, _function = FUNCTIONS[name]
    if not low <= len(arguments) <= high:
        return
    paths = [f"$.a{index}" for index in range(len(arguments))]
    if name == "States.Format":
        paths[0] = "'" + "{}" * (len(arguments) - 1) + "'"  # a literal template, a placeholder per value
    document = {f"a{index}": value for index, value in enumerate(arguments)}
    result = evaluate({"v.$": f"{name}({', '.join(paths)})"}, document)
    assert result.status in ("SUCCEEDED", "FAILED")
    if result.status == "FAILED":
        assert result.error == "States.Runtime", result.cause


def test_template_objects_list_their_members_in_java_hash_map_order() -> None:
    # AWS-recorded (localstack test_base.snapshot.json, test_query_context_object_values): a Parameters
    # template written in alphabetical order came out in java.util.HashMap order, so JSON text made of
    # it (States.JsonToString) reads differently from the template.
    names = ["context_object", "execution", "execution_id", "execution_input", "execution_name"]
    names += ["execution_rolearn", "execution_starttime", "state", "state_enteredtime", "state_name"]
    names += ["statemachine", "statemachine_id", "statemachine_name"]
    result = evaluate({f"{name}.$": "$.v" for name in names}, {"v": 1})
    assert list(json.loads(result.output or "")) == [
        "execution", "execution_rolearn", "execution_name", "statemachine_id", "execution_id",
        "execution_input", "execution_starttime", "state_name", "state_enteredtime", "statemachine",
        "state", "context_object", "statemachine_name",
    ]  # fmt: skip
    nested = value("States.JsonToString($.o)", {"o": {"b": 1, "a": 2}})
    assert nested == '{"b":1,"a":2}'  # the execution input keeps its order; only templates are HashMaps


def test_json_merge_lists_the_merged_members_in_java_hash_map_order() -> None:
    # AWS-recorded (test_json_manipulation.snapshot.json, test_json_merge): {a, b, d} + {a, c, d}
    merged = value("States.JsonToString(States.JsonMerge($.f, $.s, false))", {
        "f": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3},
        "s": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4},
    })  # fmt: skip
    assert merged == '{"a":{"a3":1,"a4":2},"b":2,"c":3,"d":4}'


def test_a_pass_result_keeps_the_order_it_is_written_in() -> None:
    # AWS-recorded (test_state_pass_result_jsonpaths): Result {"unsupported1.$", "unsupported2.$"}
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"u1.$": "$.a", "u2.$": "$$"}, "End": True}},
    }
    result = run_to_completion(StateMachineProgram.parse(json.dumps(definition)), {}, VirtualRuntime())
    assert result.output == '{"u1.$":"$.a","u2.$":"$$"}'
