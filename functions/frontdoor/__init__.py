"""The front door: an IAM-authorised HTTP API to start any deployed workflow, read status, issue commands,
and take decisions on callback steps."""

from frontdoor.api import FrontDoor
from frontdoor.callbacks import Callbacks
from frontdoor.routes import build_app

__all__ = ["Callbacks", "FrontDoor", "build_app"]
