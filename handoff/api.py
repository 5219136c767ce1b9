"""The JSON API in ../shared/contracts.md: OAuth2 password tokens, cases, claim, messages.

Same rules as the web UI (handoff.service does the checks and writes the audit rows).
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot.conversations import service as conversations
from bot.db import SessionDep
from handoff import ratelimit, service
from handoff.auth import API_TOKEN_TTL_SECONDS, CurrentStaff, create_api_token
from handoff.models import STATUS_LABELS, WAITING, WITHDRAWN, Case, ConsentRecord
from handoff.notifier import ResidentNotifier

router = APIRouter(prefix="/api", tags=["staff API"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = API_TOKEN_TTL_SECONDS


class CaseOut(BaseModel):
    id: int
    status: str
    status_label: str
    priority: str
    created_at: datetime
    waiting_since: datetime
    categories: list[str]
    primary: str | None
    risk: list[str]
    writer_type: str
    owner_id: int | None


class MessageOut(BaseModel):
    id: int
    author: str  # resident | bot | staff | system
    kind: str
    text: str | None
    at: datetime
    staff_id: int | None = None


class CaseDetailOut(CaseOut):
    sheet: dict[str, Any] | None
    sheet_revision: int | None
    messages: list[MessageOut]
    outcome: str | None


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class MessageSent(BaseModel):
    ok: bool = True
    case_id: int
    status: str


@contextmanager
def http_errors():
    """Service errors → HTTP statuses."""
    try:
        yield
    except service.CaseNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from None
    except service.Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except service.CaseConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def get_notifier(request: Request) -> ResidentNotifier:
    notifier = getattr(request.app.state, "notifier", None)
    if notifier is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "messaging to residents is not configured")
    return notifier


NotifierDep = Annotated[ResidentNotifier, Depends(get_notifier)]


def case_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "status": case.status,
        "status_label": STATUS_LABELS.get(case.status, case.status),
        "priority": case.priority,
        "created_at": case.created_at,
        "waiting_since": case.waiting_since,
        "categories": list(case.categories or []),
        "primary": case.primary,
        "risk": list(case.risk or []),
        "writer_type": case.writer_type,
        "owner_id": case.owner_id,
    }


def event_text(ev) -> str | None:
    if ev.text is not None:
        return ev.text
    payload = ev.payload
    if isinstance(payload, dict):
        return payload.get("alt_text") or payload.get("text") or payload.get("data")
    return None


def messages_out(session, case: Case) -> list[dict[str, Any]]:
    if case.conversation_id is None:
        return []
    return [
        {
            "id": ev.id,
            "author": ev.author,
            "kind": ev.kind,
            "text": event_text(ev),
            "at": ev.created_at,
            "staff_id": ev.staff_id,
        }
        for ev in conversations.list_events(session, conversation_id=case.conversation_id)
    ]


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Get a bearer token (OAuth2 password flow)",
    responses={429: {"description": "Too many failed logins from this address; see Retry-After"}},
)
def issue_token(request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    outcome = ratelimit.attempt_login(
        session,
        limiter=ratelimit.limiter_for(request.app),
        client_ip=request.client.host if request.client else None,
        username=form.username,
        password=form.password,
        via="api",
    )
    if outcome.reason == ratelimit.RATE_LIMITED:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins from this address; try again in {outcome.retry_after} seconds",
            headers={"Retry-After": str(outcome.retry_after)},
        )
    if outcome.user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return TokenOut(access_token=create_api_token(request, outcome.user))


@router.get("/cases", response_model=list[CaseOut], summary="Consented cases you may see, newest first")
def list_cases(session: SessionDep, staff: CurrentStaff):
    consented = select(ConsentRecord.case_id).where(ConsentRecord.withdrawn_at.is_(None))
    q = (
        service.visible_cases_query(staff)
        .where(Case.status != WITHDRAWN, Case.id.in_(consented))
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    cases = list(session.scalars(q))
    service.audit(session, action="list", staff_id=staff.id, detail={"via": "api", "count": len(cases)})
    session.commit()
    return [case_out(c) for c in cases]


@router.get("/cases/{case_id}", response_model=CaseDetailOut, summary="A case with its つなぐシート and chat")
def get_case(case_id: int, session: SessionDep, staff: CurrentStaff):
    with http_errors():
        case = service.view_case(session, case_id=case_id, staff=staff, via="api")
    row = service.latest_sheet_row(session, case_id=case.id)
    body = case_out(case) | {
        "sheet": row.content if row is not None else None,
        "sheet_revision": row.revision if row is not None else None,
        "messages": messages_out(session, case),
        "outcome": case.outcome,
    }
    session.commit()
    return body


@router.post(
    "/cases/{case_id}/claim", response_model=CaseOut, summary="Become the case's owner (409 if taken)"
)
def claim_case(case_id: int, session: SessionDep, staff: CurrentStaff):
    with http_errors():
        case = service.claim(session, case_id=case_id, staff=staff, via="api")
    session.commit()
    return case_out(case)


@router.post(
    "/cases/{case_id}/messages",
    response_model=MessageSent,
    summary="Send a message to the resident (push, as you) and record it",
)
def send_message(
    case_id: int,
    body: MessageIn,
    session: SessionDep,
    staff: CurrentStaff,
    notifier: NotifierDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Any string unique per message: a retried request with the same key sends once",
        ),
    ] = None,
):
    with http_errors():
        case = service.get_case(session, case_id=case_id)
        if idempotency_key:
            # Per staff member, hashed to the column's size: accounts cannot collide.
            key = hashlib.sha256(f"api:{staff.id}:{idempotency_key}".encode()).hexdigest()
            try:
                service.record_submission(session, key=key, staff=staff, case_id=case_id)
            except service.DuplicateSubmission:
                session.rollback()  # already sent: answer as the first request did
                case = service.get_case(session, case_id=case_id)
                return MessageSent(case_id=case.id, status=case.status)
        if case.status == WAITING and case.owner_id is None:
            # Writing to a waiting resident means taking the case: the bot must fall silent.
            case = service.claim(session, case_id=case_id, staff=staff, via="api")
        service.staff_reply(
            session, case_id=case_id, staff=staff, text=body.text, notifier=notifier, via="api"
        )
    session.commit()
    return MessageSent(case_id=case.id, status=case.status)
