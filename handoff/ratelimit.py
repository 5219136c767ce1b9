"""Login rate limiting per client address, and the one login path the form and the API share.

The per-account lockout (handoff.accounts) stops guessing one account's password; it does nothing
against one address trying a few passwords on many usernames. This does: a sliding window of
failed logins per client address. The window lives in the database, so it holds across every
server process on PostgreSQL. The address is personal data: only its keyed hash is stored
(bot.crypto.lookup_hash), and rows older than the window are deleted as new failures arrive.

Successful logins are not counted and do not reset the window (one valid account must not buy an
attacker fresh guesses). Refused attempts are not counted either: the limit is on guesses, and a
blocked address frees up as its failures age out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot import crypto
from bot.db import utcnow
from handoff import accounts, service
from handoff.models import LoginFailure, StaffUser

RATE_LIMITED = "rate_limited"


@dataclass
class LoginRateLimiter:
    max_failures: int
    window: timedelta
    # Injectable so tests move time instead of sleeping.
    clock: Callable[[], datetime] = field(default=utcnow)

    @staticmethod
    def _key(client_ip: str | None) -> str:
        return crypto.lookup_hash(f"login-ip:{client_ip or 'unknown'}")

    def retry_after(self, session: Session, *, client_ip: str | None) -> int | None:
        """Seconds until this address may try again, or None when it may try now."""
        now = self.clock()
        times = list(
            session.scalars(
                select(LoginFailure.at)
                .where(LoginFailure.ip_hash == self._key(client_ip), LoginFailure.at > now - self.window)
                .order_by(LoginFailure.at)
            )
        )
        if len(times) < self.max_failures:
            return None
        # Free again once enough failures have aged out of the window to leave one slot.
        frees_at = times[len(times) - self.max_failures] + self.window
        return max(1, math.ceil((frees_at - now).total_seconds()))

    def purge(self, session: Session) -> None:
        """Forget failures older than the window (they no longer count; the hashes are personal)."""
        session.execute(delete(LoginFailure).where(LoginFailure.at <= self.clock() - self.window))

    def record_failure(self, session: Session, *, client_ip: str | None) -> bool:
        """Count a failed login (and purge expired rows). True when this failure starts a block."""
        now = self.clock()
        self.purge(session)
        key = self._key(client_ip)
        session.add(LoginFailure(ip_hash=key, at=now))
        session.flush()
        count = session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.ip_hash == key, LoginFailure.at > now - self.window)
        )
        return count == self.max_failures


def limiter_for(app) -> LoginRateLimiter:
    """The app's limiter, built from its settings on first use."""
    limiter = getattr(app.state, "login_limiter", None)
    if limiter is None:
        settings = app.state.settings
        limiter = LoginRateLimiter(
            max_failures=settings.login_ip_max_failures,
            window=timedelta(seconds=settings.login_ip_window_seconds),
        )
        app.state.login_limiter = limiter
    return limiter


@dataclass(frozen=True)
class LoginOutcome:
    user: StaffUser | None
    reason: str  # ok | bad_credentials | locked | inactive | rate_limited
    retry_after: int | None = None


def attempt_login(
    session: Session,
    *,
    limiter: LoginRateLimiter,
    client_ip: str | None,
    username: str,
    password: str,
    via: str,
) -> LoginOutcome:
    """Check the address's window, then the credentials; count and audit failures. Commits."""
    wait = limiter.retry_after(session, client_ip=client_ip)
    if wait is not None:
        # Not audited per attempt (a flood would fill the append-only log); the block's start is.
        return LoginOutcome(None, RATE_LIMITED, wait)
    user, why = accounts.authenticate(session, username=username, password=password)
    if user is None:
        blocked = limiter.record_failure(session, client_ip=client_ip)
        service.audit(
            session, action="login_failed", detail={"via": via, "username": username[:64], "reason": why}
        )
        if blocked:
            service.audit(
                session,
                actor="system",
                action="login_rate_limited",
                detail={
                    "via": via,
                    "failures": limiter.max_failures,
                    "window_seconds": int(limiter.window.total_seconds()),
                },
            )
        session.commit()
        return LoginOutcome(None, why)
    service.audit(session, action="login", staff_id=user.id, detail={"via": via})
    limiter.purge(session)
    session.commit()
    return LoginOutcome(user, "ok")
