"""Cold start per function: importing each handler module in a fresh interpreter, against bare boto3.

    .venv/bin/python benchmarks/cold_start.py [--runs 7] [--cdk-out cdk.out] [--first-call]

For every ``AWS::Lambda::Function`` of the synthesized app (``make synth`` first), a fresh interpreter
starts in the function's code asset folder (first on ``sys.path``, as ``/var/task`` is in Lambda; the
Powertools layer is the venv's site-packages, as in the local cloud), with the function's own
environment as deployed (tracing active: no ``POWERTOOLS_TRACE_DISABLED``), the Lambda runtime's
variables and dummy credentials, and times ``import <handler module>``: Lambda's init phase, module-level
clients included. The figure is the minimum over ``--runs`` processes; one more process with
``-X importtime`` names the top import costs (own import time summed per top-level package).

The yardstick is a bare handler module that imports boto3 and creates two clients (dynamodb, events) at
module level, timed the same way; issue 11's target is a ratio of at most 1.3 for every function.

With ``--first-call`` each process also creates, after the import, every boto3 client the module left
for first use (what ``workflow_core.lazy`` defers), so that a cost moved out of the init phase into
the first invocation shows too.

A benchmark, not a test: it prints figures and exits 0; the machine is shared and noisy (note
``uptime``; ratios are steadier than seconds).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workflowkit.template import ResolvedTemplate  # noqa: E402

TARGET_RATIO = 1.3
STACK = "WorkflowKit-dev"
REGION = "us-east-1"
BARE_HANDLER = """\
import boto3

dynamodb = boto3.client("dynamodb")
events = boto3.client("events")


def lambda_handler(event, context):
    return {}
"""
# Timed in the child: the import, and optionally the clients a module defers to first use.
PROBE = """\
import sys, time
started = time.perf_counter()
import {module}
imported = time.perf_counter() - started
first = 0.0
if {first_call}:
    started = time.perf_counter()
    clients = sys.modules.get("workflow_core.lazy")
    if clients is not None:
        clients.create_deferred()
    first = time.perf_counter() - started
print(imported, first)
"""


@dataclass(frozen=True)
class Function:
    name: str
    code_dir: Path
    module: str
    environment: dict[str, str]


def functions(cdk_out: Path) -> list[Function]:
    template = next(t for t in ResolvedTemplate.load(cdk_out) if t.stack_name == STACK)
    found = []
    for resource in template.of_type("AWS::Lambda::Function"):
        props = template.props(resource)
        asset = resource.metadata.get("aws:asset:path")
        handler = props.get("Handler")
        if not asset or not handler:
            continue  # CDK's own helper functions (inline code) are not the app's
        variables = props.get("Environment", {}).get("Variables", {})
        found.append(
            Function(
                name=resource.logical_id,
                code_dir=cdk_out / asset,
                module=handler.rpartition(".")[0],
                environment={key: str(value) for key, value in variables.items()},
            )
        )
    return found


def runtime_environment(function: Function) -> dict[str, str]:
    """What Lambda's python runtime sets, with dummy credentials, under the function's own variables."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "dummy",
        "AWS_SECRET_ACCESS_KEY": "dummy",
        "AWS_SESSION_TOKEN": "dummy",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "_HANDLER": f"{function.module}.lambda_handler",
        **function.environment,
    }


def time_import(function: Function, *, first_call: bool) -> tuple[float, float]:
    probe = PROBE.format(module=function.module, first_call=first_call)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=function.code_dir,
        env=runtime_environment(function),
        capture_output=True,
        text=True,
        check=True,
    )
    imported, first = done.stdout.split()
    return float(imported), float(first)


def import_costs(function: Function) -> list[tuple[str, float]]:
    """Own import time summed per top-level package, largest first (one ``-X importtime`` process)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {function.module}"],
        cwd=function.code_dir,
        env=runtime_environment(function),
        capture_output=True,
        text=True,
        check=True,
    )
    by_package: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|", 2)
        by_package[name.strip().split(".")[0]] += int(own) / 1e6
    return sorted(by_package.items(), key=lambda item: -item[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per function (the min counts)")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--first-call", action="store_true", help="also time deferred client creation")
    parser.add_argument("--top", type=int, default=3, help="import costs named per function")

    parser.add_argument(
        "--before",
        type=Path,
        help="another synthesized app (e.g. a copy of cdk.out before a change), side by side",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as bare_dir:
        Path(bare_dir, "bare_handler.py").write_text(BARE_HANDLER)
        bare = Function("bare boto3 + 2 clients", Path(bare_dir), "bare_handler", {})
        now = functions(args.cdk_out)
        before = {f.name: f for f in functions(args.before)} if args.before else {}
        subjects = [bare, *now, *before.values()]
        # Round-robin, so that the machine's load drifting during the run weighs on every row alike.
        times: dict[int, list[tuple[float, float]]] = {id(f): [] for f in subjects}
        for _ in range(args.runs):
            for subject in subjects:
                times[id(subject)].append(time_import(subject, first_call=args.first_call))
        best = {key: _best(samples) for key, samples in times.items()}
        costs = {id(f): import_costs(f) for f in [bare, *now]}

    bare_import = best[id(bare)][0]
    load = os.getloadavg()
    print(f"cold start: import of the handler module, min of {args.runs} fresh processes (round-robin)")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; interpreter {sys.version.split()[0]}")
    before_header = f"{'before':>8}{'ratio':>7}" if before else ""
    first_header = f"{'+1st call':>10}{'ratio':>7}" if args.first_call else ""
    print(
        f"{'function':<46}{before_header}{'import s':>9}{'ratio':>7}{'target':>7}{'':>6}{first_header}"
        "  top import costs (s, own time per package)"
    )
    failed = []
    for function in [bare, *now]:
        imported, with_first = best[id(function)]
        ratio = imported / bare_import
        verdict = "pass" if ratio <= TARGET_RATIO else "FAIL"
        if function is not bare and ratio > TARGET_RATIO:
            failed.append(function.name)
        earlier = before.get(function.name)
        was = ""
        if before:
            was_import = best[id(earlier)][0] if earlier else None
            was = f"{was_import:>8.3f}{was_import / bare_import:>7.2f}" if was_import else f"{'-':>8}{'-':>7}"
        extra = f"{with_first:>10.3f}{with_first / bare_import:>7.2f}" if args.first_call else ""
        top = ", ".join(f"{name} {seconds:.3f}" for name, seconds in costs[id(function)][: args.top])
        row = f"{imported:>9.3f}{ratio:>7.2f}{TARGET_RATIO:>7}{verdict:>6}{extra}"
        print(f"{function.name:<46}{was}{row}  {top}")
    print(
        f"\noverall: {len(now) - len(failed)} of {len(now)} functions within {TARGET_RATIO}x "
        "the bare handler "
        f"({bare_import:.3f} s)" + (f"; over: {', '.join(failed)}" if failed else "")
    )
    return 0


def _best(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """(min import seconds, min import + first-call seconds) over the fresh processes."""
    return min(i for i, _ in samples), min(i + f for i, f in samples)


if __name__ == "__main__":
    raise SystemExit(main())
