"""Records retention: profiles that must not be closed automatically.

A profile under a legal hold (litigation, a regulator's request) is kept until a person releases it; the
onboarding's undo then fails and escalates instead of closing it. The sandbox puts every profile whose
e-mail is at a ``LEGAL_HOLD_DOMAINS`` domain under hold when it is recorded: the demo's "closing the
profile fails" scenario uses it (README, "Test identities").
"""

from __future__ import annotations

LEGAL_HOLD_DOMAINS = frozenset({"legal-hold.example"})


def under_legal_hold(email: str) -> bool:
    return email.rsplit("@", 1)[-1].lower() in LEGAL_HOLD_DOMAINS
