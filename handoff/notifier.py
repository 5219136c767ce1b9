"""How staff words reach the resident without handoff knowing about LINE.

The transport (bot/line/outbound.py) implements `ResidentNotifier` by writing push rows to its
outbox inside the caller's session, so the message, the conversation event and the audit row
commit together — and the push is retried by the outbox worker, never lost or sent twice.
`bot.main` puts the instance at `app.state.notifier`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from bot.messages import Outbound


@runtime_checkable
class ResidentNotifier(Protocol):
    def send(self, session: Session, *, resident_id: int, messages: list[Outbound]) -> None:
        """Queue `messages` for the resident in this session's transaction (flush only)."""
        ...


# Optional: a notifier may also offer `pending_count(session, *, resident_id) -> int` (messages not
# yet accepted by LINE); the case page shows it, content-free, when it is there.


class NotifierUnavailable(RuntimeError):
    """No transport was wired (app.state.notifier missing): staff cannot message residents."""
