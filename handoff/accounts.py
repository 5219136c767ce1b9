"""Staff accounts: argon2 password hashes, roles, lockout after repeated failures."""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import utcnow
from handoff.models import ROLE_ADMIN, ROLE_LABELS, StaffUser

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
COMMON_PASSWORDS = {
    "password",
    "password1",
    "password123",
    "passw0rd",
    "1234567890",
    "0123456789",
    "qwertyuiop",
    "letmein123",
    "iloveyou12",
    "administrator",
    "changeme123",
}

_hasher = PasswordHasher()
# Verifying against this keeps a wrong username as slow as a wrong password (no user enumeration).
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


class AccountError(ValueError):
    """A clear, user-facing reason an account could not be created or changed."""


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why the password is too weak, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        n = MIN_PASSWORD_LENGTH
        return f"パスワードは{n}文字以上にしてください (password must be at least {n} characters)"
    if password.lower() in COMMON_PASSWORDS:
        return "よく使われるパスワードは使えません (password is too common)"
    if username and username.lower() in password.lower():
        return "ユーザー名を含むパスワードは使えません (password must not contain the username)"
    if len(set(password)) < 5:
        return "同じ文字の繰り返しが多すぎます (password has too few different characters)"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_staff(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    icon_url: str | None = None,
) -> StaffUser:
    if role not in ROLE_LABELS:
        raise AccountError(f"unknown role {role!r} (staff, supervisor or admin)")
    if not USERNAME_RE.match(username):
        raise AccountError("username: 2–64 characters, letters, digits, dot, dash or underscore")
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.username) == username.lower())):
        raise AccountError(f"a staff account named {username!r} already exists")
    problem = password_problem(password, username=username)
    if problem:
        raise AccountError(problem)
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        display_name=(display_name or username)[:64],
        icon_url=icon_url,
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, user: StaffUser, password: str) -> None:
    problem = password_problem(password, username=user.username)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.auth_version += 1  # signs out existing sessions and tokens
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def is_locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def authenticate(
    session: Session, *, username: str, password: str, now: datetime | None = None
) -> tuple[StaffUser | None, str]:
    """Check credentials. Returns (user, "ok") or (None, reason) with reason in
    "bad_credentials" | "locked" | "inactive". Failures are counted; the caller commits."""
    now = now or utcnow()
    user = session.scalars(
        select(StaffUser).where(func.lower(StaffUser.username) == username.strip().lower())
    ).one_or_none()
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None, "bad_credentials"
    if is_locked(user, now):
        return None, "locked"
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.flush()
        return None, "bad_credentials"
    if not user.active:
        return None, "inactive"
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return user, "ok"


def ensure_first_admin(session: Session) -> tuple[str, str] | None:
    """On a fresh install, create an `admin` with a random password and return (name, password)
    for the console. Returns None when any staff account exists."""
    if session.scalar(select(func.count()).select_from(StaffUser)):
        return None
    password = secrets.token_urlsafe(12)
    create_staff(session, username="admin", password=password, role=ROLE_ADMIN, display_name="管理者")
    return "admin", password
