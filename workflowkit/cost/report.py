"""The cost report in the terminal: designs as columns, services as rows; then the counts it came from."""

from __future__ import annotations

from workflowkit.cost.bill import SERVICES
from workflowkit.cost.designs import TITLES
from workflowkit.cost.run import CostReport

_WIDTH = 20


def format_report(report: CostReport) -> str:
    names = list(report.designs)
    out = [
        f"cost model: {report.workflow}, {report.workflows_a_month:,.0f} workflows a month, prices "
        f"{report.prices.region} read {report.prices.read_on} ({report.prices.path.name}); "
        "free tiers excluded",
        f"sample: {report.sample} workflows, seed {report.seed}, mix "
        + ",".join(f"{k}={v}" for k, v in report.mix.items())
        + f"; sample run {report.wall_seconds:.1f} s wall, {report.virtual_seconds:.0f} s virtual",
        "",
        _row("monthly USD", [TITLES[n] for n in names]),
        _row("", [f"({report.designs[n].basis})" for n in names]),
    ]
    for service in SERVICES:
        values = [report.designs[n].services.get(service, 0.0) for n in names]
        if any(values):
            out.append(_row(service, [f"{v:,.2f}" for v in values]))
    out.append(_row("total a month", [f"{report.designs[n].total:,.2f}" for n in names]))
    out.append(_row("per 1,000 workflows", [f"{report.per_thousand(n):.4f}" for n in names]))
    out.append(_row("latency p50 (ms)", [f"{report.designs[n].latency.p50_ms:,.0f}" for n in names]))
    out.append(_row("latency p99 (ms)", [f"{report.designs[n].latency.p99_ms:,.0f}" for n in names]))
    for hop in (
        "eventbridge_delivery",
        "sqs_to_lambda",
        "stepfunctions_standard_task",
        "stepfunctions_express_task",
        "stepfunctions_other_state",
        "lambda invocations",
        "dynamodb_call",
    ):
        values = [report.designs[n].latency.hops.get(hop, 0.0) for n in names]
        if any(values):
            out.append(_row(f"  hops: {hop}", [f"{v:.1f}" for v in values]))
    out += ["", "counted operations per workflow (hybrid: measured; others: modelled from it)"]
    metrics = [
        ("Step Functions Standard transitions", "stepfunctions", "transitions"),
        ("Step Functions Express executions", "stepfunctions", "express_executions"),
        ("Lambda invocations (as run)", "lambda", "invocations"),
        ("queue messages (one invocation each)", "sqs", "messages"),
        ("Lambda compute ms (local, unscaled)", "lambda", "compute_ms"),
        ("EventBridge events published", "events", "published"),
        ("SQS sends from rules", "sqs", "sends"),
        ("DynamoDB write units", "dynamodb", "wru"),
        ("DynamoDB read units", "dynamodb", "rru"),
        ("Scheduler invocations", "scheduler", "invocations"),
        ("log bytes", "logs", "bytes"),
        ("SNS publishes", "sns", "publishes"),
        ("API requests", "apigateway", "requests"),
    ]
    for label, service, metric in metrics:
        values = [report.designs[n].usage.per_workflow(service, metric) for n in names]
        if service == "sns":
            values = [
                report.designs[n].usage.per_workflow(
                    service, metric, actor=lambda a: a.startswith("function:")
                )
                for n in names
            ]
        out.append(_row(label, [f"{v:,.3f}" for v in values]))
    out += ["", "the bill of each design, line by line (quantity a month x price = USD): --json"]
    return "\n".join(out)


def _row(label: str, values: list[str]) -> str:
    return f"{label:<40}" + "".join(f"{v:>{_WIDTH + 10}}" for v in values)
