"""The front door: an IAM-authorised HTTP API to start any deployed workflow, read status, issue commands."""

from frontdoor.api import FrontDoor
from frontdoor.routes import build_app

__all__ = ["FrontDoor", "build_app"]
