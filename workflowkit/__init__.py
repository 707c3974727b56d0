"""workflowkit: run the synthesized app end to end, in-process, on virtual time."""

# Before anything imports moto's Step Functions parser: its Batch integration would import Batch's, EC2's
# and ECS's backends (about 0.5 s of start-up) for an enum.
from workflowkit import moto_imports

moto_imports.defer_batch_backend()

from workflowkit.cloud import LocalCloud, LocalCloudError  # noqa: E402
from workflowkit.faults import Faults, InjectedFaultError  # noqa: E402
from workflowkit.ledger import Ledger  # noqa: E402

__all__ = ["Faults", "InjectedFaultError", "Ledger", "LocalCloud", "LocalCloudError"]
