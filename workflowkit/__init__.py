"""workflowkit: run the synthesized app end to end, in-process, on virtual time."""

from workflowkit.cloud import LocalCloud, LocalCloudError
from workflowkit.faults import Faults, InjectedFaultError
from workflowkit.ledger import Ledger

__all__ = ["Faults", "InjectedFaultError", "Ledger", "LocalCloud", "LocalCloudError"]
