"""The identity service: verifies a customer's identity with a provider (a sandbox ships with the kit)."""

from identity.provider import SandboxProvider, Verification

__all__ = ["SandboxProvider", "Verification"]
