"""The local cloud starts without importing AWS Batch's backend; Batch still works when asked for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_local_cloud_imports_without_batch_s_backend() -> None:
    out = _run(
        """
        import sys
        import workflowkit.cloud
        backends = ("moto.batch.models", "moto.ec2.models", "moto.ecs.models")
        print(sorted(m for m in backends if m in sys.modules))
        """
    )
    assert out == "[]"


def test_batch_is_moto_s_own_once_used() -> None:
    out = _run(
        """
        import boto3
        import workflowkit.cloud  # the stand-in is in place
        from moto import mock_aws
        from moto.batch import batch_backends
        import moto.batch.models
        assert batch_backends is moto.batch.models.batch_backends
        with mock_aws():
            batch = boto3.client("batch", region_name="eu-west-1")
            print(batch.describe_compute_environments()["computeEnvironments"])
        """
    )
    assert out == "[]"


def test_a_process_that_imported_batch_first_keeps_it() -> None:
    out = _run(
        """
        import moto.batch
        real = moto.batch
        from workflowkit import moto_imports
        moto_imports.defer_batch_backend()
        import sys
        print(sys.modules["moto.batch"] is real, type(real).__name__)
        """
    )
    assert out == "True module"


def test_a_package_that_failed_to_run_runs_again_when_asked_again() -> None:
    out = _run(
        """
        import sys
        import workflowkit.cloud  # the stand-in is in place
        import moto.batch
        sys.modules["moto.batch.models"] = None  # its backend cannot be imported, for now
        try:
            moto.batch.batch_backends
        except ImportError as error:
            print("first:", type(error).__name__)
        del sys.modules["moto.batch.models"]  # the cause is gone
        print("then:", type(moto.batch.batch_backends).__name__)
        """
    )
    assert out == "first: ModuleNotFoundError\nthen: BackendDict"
