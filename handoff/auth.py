"""Who is calling: bearer tokens for the JSON API, a signed session cookie + CSRF for the web UI.

Both are signed with a key derived from settings.effective_secret_key (never the raw secret, and a
different key than the one that encrypts data). Both carry the account's `auth_version`, so changing
a password or deactivating an account ends every session and token at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bot.db import SessionDep
from handoff.models import ROLE_ADMIN, ROLE_SUPERVISOR, StaffUser

API_TOKEN_TTL_SECONDS = 60 * 60  # an hour: scripts ask again, a leaked token dies soon
SESSION_TTL_SECONDS = 10 * 60 * 60  # a working day
SESSION_COOKIE = "consult_staff"
LOGIN_CSRF_COOKIE = "consult_login_csrf"


def _auth_key(request_or_app: Any) -> bytes:
    app = getattr(request_or_app, "app", request_or_app)
    cached = getattr(app.state, "staff_auth_key", None)
    if cached is None:
        secret = app.state.settings.effective_secret_key.encode()
        cached = hmac.new(secret, b"consult-bot staff auth v1", hashlib.sha256).digest()
        app.state.staff_auth_key = cached
    return cached


def _serializer(request: Request, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_auth_key(request), salt=f"consult-bot {purpose}")


def _load_staff(session: Session, payload: Any) -> StaffUser | None:
    if not isinstance(payload, dict):
        return None
    user = session.get(StaffUser, payload.get("sid"))
    if user is None or not user.active or user.auth_version != payload.get("v"):
        return None
    return user


# --- API: OAuth2 bearer tokens -----------------------------------------------------------------

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def create_api_token(request: Request, user: StaffUser) -> str:
    return _serializer(request, "api token").dumps({"sid": user.id, "v": user.auth_version})


def _unauthorized(detail: str = "not authenticated") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def current_api_staff(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> StaffUser:
    if not token:
        raise _unauthorized()
    try:
        payload = _serializer(request, "api token").loads(token, max_age=API_TOKEN_TTL_SECONDS)
    except SignatureExpired:
        raise _unauthorized("token expired") from None
    except BadSignature:
        raise _unauthorized("invalid token") from None
    user = _load_staff(session, payload)
    if user is None:
        raise _unauthorized("invalid token")
    return user


CurrentStaff = Annotated[StaffUser, Depends(current_api_staff)]


def require_role(user: StaffUser, role: str) -> None:
    if not user.has_role(role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow this")


# --- Web UI: session cookie + CSRF ---------------------------------------------------------------


class LoginRequired(Exception):
    """Raised by web dependencies; the app turns it into a redirect to the login page."""


class WebSession:
    def __init__(self, user: StaffUser, nonce: str, csrf_token: str):
        self.user = user
        self.nonce = nonce
        self.csrf_token = csrf_token


def _csrf_for(request: Request, nonce: str) -> str:
    return hmac.new(_auth_key(request), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def make_session_cookie(request: Request, user: StaffUser) -> str:
    nonce = secrets.token_urlsafe(16)
    return _serializer(request, "web session").dumps({"sid": user.id, "v": user.auth_version, "n": nonce})


def set_cookie(request: Request, response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=bool(request.app.state.settings.secure_cookies),
        path="/staff",
    )


def read_web_session(request: Request, session: Session) -> WebSession | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        payload = _serializer(request, "web session").loads(raw, max_age=SESSION_TTL_SECONDS)
    except BadSignature:
        return None
    user = _load_staff(session, payload)
    if user is None:
        return None
    return WebSession(user, payload["n"], _csrf_for(request, payload["n"]))


def web_session(request: Request, session: SessionDep) -> WebSession:
    ws = read_web_session(request, session)
    if ws is None:
        raise LoginRequired()
    request.state.web_session = ws
    return ws


WebSessionDep = Annotated[WebSession, Depends(web_session)]


def check_csrf(ws: WebSession, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, ws.csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong; reload the page")


def require_web_role(ws: WebSession, role: str) -> None:
    require_role(ws.user, role)


SUPERVISOR = ROLE_SUPERVISOR
ADMIN = ROLE_ADMIN
