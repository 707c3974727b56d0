"""The template's permissions, enforced in the local cloud.

See docs/decisions/0021-permissions-enforced-locally.md.
"""

from workflowkit.access.control import AccessControl, AccessDeniedError, Denial
from workflowkit.access.model import AccessModel, AccessModelError, Role

__all__ = ["AccessControl", "AccessDeniedError", "AccessModel", "AccessModelError", "Denial", "Role"]
