"""Handler CPU per workflow: what the app's own code costs, without the local cloud's answers.

    .venv/bin/python benchmarks/handler_cpu.py --orders 1000 --seed 7 [--profile 25]
    .venv/bin/python benchmarks/handler_cpu.py --before <a copy of cdk.out with older functions> [--pairs 3]

Runs one in-process simulation (``make synth`` first: the handlers are cdk.out's asset copies) and
splits the CPU time of every thread into three accounts, switching account on every transition:

- **handler**: inside a function's handler callable, outside any boto3 call: the app's code,
  Powertools (logging, metrics, idempotency, tracing), pydantic. In AWS: billed duration.
- **boto3 client side**: inside a handler's ``BaseClient._make_api_call`` but not in the local cloud's
  answer: botocore's parameter events and validation, boto3's resource-layer conversions (TypeSerializer /
  TypeDeserializer run in botocore's parameter and after-call events), retry bookkeeping. Also billed
  in AWS, where serialising and signing add to it.
- **local cloud**: the answer (``FastPath.answer``, the fault seam, moto's HTTP round trip for the
  operations the fast path leaves to moto, the observers told of each answered call), and everything
  outside handlers, the simulation's own boto3 calls included. In AWS: the network and the services, not
  the function's CPU.

Nested invocations (a handler's call reaching another handler) charge each account once. CPU is
``time.thread_time`` per thread. The figure held to issue 11's target is **handler + boto3 client side
per workflow**, i.e. the handlers' CPU excluding the time inside the local cloud's answers; the
handler-only figure (excluding all time inside boto3 calls, as the issue first proposed) is printed
beside it.

Measured baseline (issue 11, before docs/decisions/0042): 2026-12-06, functions as of commit 48f63a1
(a copy of that cdk.out), best of 2 runs of 1000 orders at load average ~4: see ``BASELINE_MS`` below;
target = baseline / 2.

``--before DIR`` measures another synthesized app beside this one, in one run: ``--pairs`` alternating
fresh processes, before then now (the machine's load drifting weighs on both alike), and prints the
minimum of each side next to the baseline and the target.

A benchmark, not a test: it prints figures and exits 0; the machine is shared and noisy (take the best
of a few runs, and note ``uptime``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from botocore.client import BaseClient  # noqa: E402

from workflowkit import fastpath  # noqa: E402
from workflowkit.lambdas import InProcessRuntime  # noqa: E402
from workflowkit.simulator import load_plugin, run_simulation  # noqa: E402

# Handler CPU per workflow (ms) measured before the changes of docs/decisions/0042, same machine,
# 1000 orders, seed 7, best of 3: (handler + boto3 client side, handler only).
BASELINE_MS: tuple[float, float] | None = (11.32, 7.36)
BASELINE_NOTE = "2026-12-06, functions of 48f63a1, best of 2, load ~4"

HANDLER, CLIENT, CLOUD = 0, 1, 2
ACCOUNTS = ("handler", "boto3 client side", "local cloud")


class CpuAccounts:
    """Per-thread CPU charged to the account on top of a stack, switched on every wrapped call."""

    def __init__(self) -> None:
        self.totals = [0.0, 0.0, 0.0]
        self.profiler: cProfile.Profile | None = None  # on while the top account is the profiled one
        self.profiled_account = HANDLER
        self._profiling = False
        self._lock = threading.Lock()
        self._local = threading.local()

    def _state(self) -> tuple[list[int], list[float]]:
        local = self._local
        stack = getattr(local, "stack", None)
        if stack is None:
            stack = local.stack = [CLOUD]
            local.mark = [time.thread_time()]
        return stack, local.mark

    def _charge(self, stack: list[int], mark: list[float]) -> None:
        now = time.thread_time()
        elapsed = now - mark[0]
        mark[0] = now
        with self._lock:
            self.totals[stack[-1]] += elapsed

    def _switch_profiler(self, stack: list[int]) -> None:
        profiling = self.profiler is not None and stack[-1] == self.profiled_account
        if self.profiler is not None and profiling != self._profiling:
            if profiling:
                self.profiler.enable()
            else:
                self.profiler.disable()
            self._profiling = profiling

    def wrap(
        self, account: int, function: Callable[..., Any], *, within: int | None = None
    ) -> Callable[..., Any]:
        """``function`` charged to ``account``; with ``within``, only when called from that account (else it
        stays on the caller's account)."""

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            stack, mark = self._state()
            if within is not None and stack[-1] != within:
                return function(*args, **kwargs)
            self._charge(stack, mark)
            stack.append(account)
            self._switch_profiler(stack)
            try:
                return function(*args, **kwargs)
            finally:
                self._charge(stack, mark)
                stack.pop()
                self._switch_profiler(stack)

        return wrapped


def install(accounts: CpuAccounts) -> None:
    """Wrap the three seams (from this benchmark only: nothing in the kit changes)."""
    find_handler = InProcessRuntime._handler
    wrapped: dict[int, tuple[Callable[..., Any], Callable[..., Any]]] = {}

    def handler(runtime: InProcessRuntime, spec: Any) -> Callable[..., Any]:
        # The handler callable itself: the runtime's own work around it (environment, log routing, the
        # context object) is the local cloud's, not the function's.
        found = find_handler(runtime, spec)
        pair = wrapped.get(id(found))
        if pair is None or pair[0] is not found:
            pair = wrapped[id(found)] = (found, accounts.wrap(HANDLER, found))
        return pair[1]

    InProcessRuntime._handler = handler  # type: ignore[method-assign,assignment]
    # A handler's call only: the simulation's own calls (sending the orders in, the checks at the end) are
    # the local cloud's side of the run, not a function's.
    BaseClient._make_api_call = accounts.wrap(CLIENT, BaseClient._make_api_call, within=HANDLER)
    fastpath.FastPath.answer = accounts.wrap(CLOUD, fastpath.FastPath.answer)  # type: ignore[method-assign]
    fastpath._seam = accounts.wrap(CLOUD, fastpath._seam)
    # The local cloud's observers (its cost meters and the runtime's count of each call's seconds) run
    # inside the client's call, after the answer: they are the local cloud's work, not the client's.
    fastpath._observed = accounts.wrap(CLOUD, fastpath._observed)
    fastpath._ORIGINAL_MAKE_API_CALL = accounts.wrap(CLOUD, fastpath._ORIGINAL_MAKE_API_CALL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1, help="simulations in this process; the best is shown")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--workflow", help="the simulation plug-in (default: simulations.DEFAULT_WORKFLOW)")
    parser.add_argument(
        "--profile", type=int, default=0, help="print the top N functions by own time (handler side)"
    )
    parser.add_argument("--cumulative", action="store_true", help="sort the profile by cumulative time")
    parser.add_argument("--before", type=Path, help="another synthesized app, measured alternately beside")
    parser.add_argument("--pairs", type=int, default=3, help="with --before: alternating processes per side")
    parser.add_argument("--figures-only", action="store_true", help=argparse.SUPPRESS)  # one JSON line
    parser.add_argument(
        "--profile-account",
        choices=ACCOUNTS[:2],
        default=ACCOUNTS[HANDLER],
        help="which account --profile profiles (default: the handler's own code)",
    )
    args = parser.parse_args()
    if args.before is not None:
        return _side_by_side(args)

    plugin = load_plugin(args.workflow)
    accounts = CpuAccounts()
    accounts.profiled_account = ACCOUNTS.index(args.profile_account)
    install(accounts)
    best: tuple[float, float] | None = None
    for run in range(args.runs):
        before = list(accounts.totals)
        profiler = accounts.profiler = cProfile.Profile() if args.profile else None
        started = time.process_time()
        result = run_simulation(plugin=plugin, cdk_out=args.cdk_out, count=args.orders, seed=args.seed)
        accounts.profiler = None
        process = time.process_time() - started
        spent = [after - prior for after, prior in zip(accounts.totals, before, strict=True)]
        workflows = result.workflows or 1
        per = [1000 * s / workflows for s in spent]
        summary = result.summary()
        if args.figures_only:
            print(json.dumps({"per_workflow_ms": [per[HANDLER] + per[CLIENT], per[HANDLER]]}))
            return 0
        print(
            f"run {run + 1}: {result.workflows} workflows, process CPU {process:.2f} s; "
            + ", ".join(f"{name} {s:.2f} s" for name, s in zip(ACCOUNTS, spent, strict=True))
            + f"; violations {summary['invariant_violations']}, mismatches {summary['scenario_mismatches']}"
        )
        figure = (per[HANDLER] + per[CLIENT], per[HANDLER])
        if best is None or figure[0] < best[0]:
            best = figure
        if profiler is not None:
            _print_profile(profiler, args.profile, args.profile_account, sort_cumulative=args.cumulative)
    assert best is not None
    load = os.getloadavg()
    print(f"\nhandler CPU per workflow: {args.orders} orders, seed {args.seed}, best of {args.runs}")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; baseline: {BASELINE_NOTE}")
    print(f"{'figure (ms per workflow)':<44}{'baseline':>10}{'now':>10}{'target':>10}{'met':>6}")
    for index, name in enumerate(("handler + boto3 client side", "handler only (no boto3 calls)")):
        base = BASELINE_MS[index] if BASELINE_MS else None
        target = base / 2 if base else None
        met = "" if target is None else ("yes" if best[index] <= target else "NO")
        print(f"{name:<44}{_fmt(base):>10}{best[index]:>10.2f}{_fmt(target):>10}{met:>6}")
    return 0


def _side_by_side(args: argparse.Namespace) -> int:
    """Alternating fresh processes of the two apps; the minimum of each side, beside baseline and target."""
    sides = {"before": args.before, "now": args.cdk_out}
    figures: dict[str, list[list[float]]] = {name: [] for name in sides}
    for pair in range(args.pairs):
        for name, cdk_out in sides.items():
            command = [sys.executable, __file__, "--figures-only", "--cdk-out", str(cdk_out)]
            command += ["--orders", str(args.orders), "--seed", str(args.seed)]
            if args.workflow:
                command += ["--workflow", args.workflow]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            measured = json.loads(output.strip().splitlines()[-1])["per_workflow_ms"]
            figures[name].append(measured)
            handler_client, handler = measured
            print(
                f"pair {pair + 1} {name:<6} handler + client {handler_client:6.2f} ms, handler {handler:6.2f}"
            )
    load = os.getloadavg()
    print(f"\nhandler CPU per workflow: {args.orders} orders, seed {args.seed}, min of {args.pairs} per side")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; before: {args.before}")
    columns = ("baseline", 10), ("before", 9), ("now", 9), ("change", 9), ("target", 9), ("met", 5)
    print(f"{'figure (ms per workflow)':<38}" + "".join(f"{title:>{width}}" for title, width in columns))
    for index, name in enumerate(("handler + boto3 client side", "handler only (no boto3 calls)")):
        base = BASELINE_MS[index] if BASELINE_MS else None
        target = base / 2 if base else None
        before = min(run[index] for run in figures["before"])
        now = min(run[index] for run in figures["now"])
        met = "" if target is None else ("yes" if now <= target else "NO")
        change = f"{100 * (now - before) / before:+.0f}%"
        print(f"{name:<38}{_fmt(base):>10}{before:>9.2f}{now:>9.2f}{change:>9}{_fmt(target):>9}{met:>5}")
    return 0


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_profile(
    profiler: cProfile.Profile, top: int, account: str, *, sort_cumulative: bool = False
) -> None:
    """Own time by function while the account's code runs (the local cloud's answers are not profiled)."""
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((own, calls, cumulative, f"{_short(filename)}:{line}({name})"))
    rows.sort(reverse=True, key=lambda row: row[2] if sort_cumulative else row[0])
    print(f"{'own s':>8}{'calls':>10}{'cum s':>8}  function ({account} account only)")
    for own, calls, cumulative, where in rows[:top]:
        print(f"{own:>8.3f}{calls:>10}{cumulative:>8.3f}  {where}")


def _short(filename: str) -> str:
    for marker in ("site-packages/", "cdk.out/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    raise SystemExit(main())
