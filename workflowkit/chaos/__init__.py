"""Fault profiles for the local cloud: seeded, deterministic faults at every hop.

- :class:`FaultProfile`, :data:`PROFILES` (``none``, ``flaky``, ``chaos``), :func:`build_profile`: which
  faults and how often (:data:`FAULTS` says what each one is);
- :class:`ChaosFaults`: a profile injected through the local cloud's fault hooks (``cloud.faults``);
- :class:`Silence`: a runner that never answers one workflow (the outcome-changing faults).

See docs/decisions/0040-fault-profiles.md.
"""

from workflowkit.chaos.injector import ChaosFaults
from workflowkit.chaos.log import FaultLog, Injection
from workflowkit.chaos.profiles import (
    FAULTS,
    OUTCOME_FAULTS,
    PROFILES,
    FaultProfile,
    build_profile,
    parse_fault,
)
from workflowkit.chaos.silence import Silence, correlation_id

__all__ = [
    "FAULTS",
    "OUTCOME_FAULTS",
    "PROFILES",
    "ChaosFaults",
    "FaultLog",
    "FaultProfile",
    "Injection",
    "Silence",
    "build_profile",
    "correlation_id",
    "parse_fault",
]
