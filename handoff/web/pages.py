"""Staff web UI routes (/staff/...). Forms post back and redirect (303); errors come back as a notice.

Every POST carries the CSRF token tied to the session; every case view and export is audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sse_starlette.sse import EventSourceResponse

from bot.conversations import service as conversations
from bot.conversations.models import ConversationEvent
from bot.db import SessionDep, utcnow
from handoff import accounts, agencies, exports, ratelimit, service, stats
from handoff.api import event_text
from handoff.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_TTL_SECONDS,
    WebSessionDep,
    check_csrf,
    make_session_cookie,
    read_web_session,
    require_role,
    set_cookie,
)
from handoff.directory import DirectoryError
from handoff.models import (
    IN_PROGRESS,
    OPEN_STATUSES,
    OUTCOME_LABELS,
    ROLE_ADMIN,
    ROLE_LABELS,
    ROLE_SUPERVISOR,
    STATUS_LABELS,
    URGENT,
    WAITING,
    WITHDRAWN,
    AgencyRow,
    CannedReply,
    Case,
    StaffUser,
)
from handoff.schemas import SheetDraft, SuggestedAgency
from handoff.web import apply_security_headers, templates
from nlp.taxonomy import CATEGORIES, SUBCATEGORIES

router = APIRouter(prefix="/staff", include_in_schema=False)

SSE_POLL_SECONDS = 1.0
# With PostgreSQL notifications a stream waits for a change; this look is only a safety net.
SSE_SAFETY_SECONDS = 30.0
# Notified streams look at most this often: a burst of webhooks costs less than polling.
SSE_COALESCE_SECONDS = 1.0
REPLY_DEDUP_SECONDS = 10

NOTICES = {
    "claimed": "このケースの担当になりました。",
    "released": "担当を外れました。相談者には自動の返事に戻ることを伝えました。",
    "closed": "ケースを終了しました。",
    "transferred": "担当者を変更しました。",
    "sent": "送信しました。",
    "duplicate": "同じ内容を送信済みのため、二重送信を防ぎました。",
    "noted": "メモを保存しました。",
    "sheet_saved": "つなぐシートを保存しました（新しい版）。",
    "saved": "保存しました。",
    "loaded": "相談機関一覧を読み込みました。",
    "created": "アカウントを作成しました。",
}
DEFAULT_CANNED = [
    (
        "はじめのあいさつ",
        "はじめまして。福祉まるごと相談窓口の{name}です。お話を読ませていただきました。よろしければ、もう少し教えていただけますか。",
    ),
    ("ゆっくりで大丈夫", "書ける範囲で、ゆっくりで大丈夫です。答えたくないことは、答えなくてかまいません。"),
    ("窓口の案内", "窓口は平日8時30分から17時15分まで開いています。お電話や来所でのご相談もできます。"),
    (
        "いったん区切る",
        "今日はお話しくださって、ありがとうございました。また何かあれば、いつでもこちらに書いてください。",
    ),
]


# --- helpers -----------------------------------------------------------------------------------


def render(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    ws = getattr(request.state, "web_session", None)
    base = {
        "me": ws.user if ws else None,
        "csrf_token": ws.csrf_token if ws else "",
        "notice": NOTICES.get(request.query_params.get("ok", ""), ""),
        "error": request.query_params.get("err", "")[:200],
        "city": request.app.state.city,
    }
    response = templates.TemplateResponse(request, name, base | ctx, status_code=status_code)
    apply_security_headers(response)
    return response


def back(url: str, *, ok: str | None = None, err: str | None = None) -> RedirectResponse:
    from urllib.parse import urlencode

    q = {k: v for k, v in (("ok", ok), ("err", err)) if v}
    return RedirectResponse(f"{url}?{urlencode(q)}" if q else url, status_code=303)


ERROR_TEXT = {
    service.CaseNotFound: "ケースが見つかりません。",
    service.Forbidden: "このケースは他の相談員が担当しています。",
}


def error_text(exc: Exception) -> str:
    if isinstance(exc, service.SheetChanged):
        return (
            f"あなたが開いたあとに、他の人がシートを保存しました（開いたのは第{exc.base}版、"
            f"いまは第{exc.current}版）。あなたの変更は保存していません。"
            "最新の内容を確かめてから、もう一度入力してください。"
        )
    if isinstance(exc, service.CaseConflict):
        msg = str(exc)
        if "another" in msg:
            return "他の相談員が先に担当しました。"
        if "withdrew" in msg:
            return "相談者が取り下げたケースです。"
        if "claim" in msg:
            return "先に「担当する」を押してください。"
        if "changed" in msg:
            return "他の人がシートを更新しました。最新の内容を確認してから保存してください。"
        return "この状態では、その操作はできません。"
    for cls, text in ERROR_TEXT.items():
        if isinstance(exc, cls):
            return text
    return str(exc)


def notifier_of(request: Request):
    notifier = getattr(request.app.state, "notifier", None)
    if notifier is None:
        raise HTTPException(503, "messaging to residents is not configured")
    return notifier


def queue_counts(session: Session, user: StaffUser) -> dict[str, int]:
    base = service.visible_cases_query(user).with_only_columns(func.count())
    return {
        "unassigned": session.scalar(base.where(Case.status == WAITING, Case.owner_id.is_(None))) or 0,
        "mine": session.scalar(base.where(Case.owner_id == user.id, Case.status.in_(OPEN_STATUSES))) or 0,
        "all": session.scalar(base) or 0,
    }


def queue_cases(session: Session, user: StaffUser, *, tab: str, category: str, status: str) -> list[Case]:
    q = service.visible_cases_query(user)
    if tab == "unassigned":
        q = q.where(Case.status == WAITING, Case.owner_id.is_(None))
    elif tab == "mine":
        q = q.where(Case.owner_id == user.id, Case.status.in_(OPEN_STATUSES))
    if status in STATUS_LABELS:
        q = q.where(Case.status == status)
    cases = list(session.scalars(q.order_by(*service.queue_order()).limit(500)))
    if category in CATEGORIES:
        # JSON containment differs between SQLite and PostgreSQL; filtering ≤500 rows here is cheap.
        cases = [c for c in cases if category in (c.categories or [])]
    # Open cases first (urgent, longest waiting), then the finished ones, newest first.
    open_cases = [c for c in cases if c.is_open]
    done = sorted((c for c in cases if not c.is_open), key=lambda c: c.updated_at, reverse=True)
    return open_cases + done


def staff_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(StaffUser.id, StaffUser.display_name)).tuples().all())


def canned_replies(session: Session) -> list[CannedReply]:
    rows = list(session.scalars(select(CannedReply).order_by(CannedReply.position, CannedReply.id)))
    if not rows:
        for i, (title, text) in enumerate(DEFAULT_CANNED):
            session.add(CannedReply(title=title, text=text, position=i, active=True))
        session.flush()
        rows = list(session.scalars(select(CannedReply).order_by(CannedReply.position, CannedReply.id)))
    return rows


# --- login / logout --------------------------------------------------------------------------


def _login_form(request: Request, *, error: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    ctx = {"login_csrf": token} | ({"error": error} if error else {})
    response = render(request, "login.html", ctx, status_code=status_code)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: SessionDep):
    if read_web_session(request, session) is not None:
        return RedirectResponse("/staff/", status_code=303)
    return _login_form(request)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    login_csrf: Annotated[str, Form()] = "",
):
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, login_csrf):
        return back("/staff/login", err="画面の有効期限が切れました。もう一度ログインしてください。")
    outcome = ratelimit.attempt_login(
        session,
        limiter=ratelimit.limiter_for(request.app),
        client_ip=request.client.host if request.client else None,
        username=username,
        password=password,
        via="ui",
    )
    if outcome.reason == ratelimit.RATE_LIMITED:
        minutes = max(1, -(-(outcome.retry_after or 60) // 60))
        response = _login_form(
            request,
            error=(
                "ログインの失敗が続いたため、この端末からのログインをしばらくお休みしています。"
                f"{minutes}分ほどたってから、もう一度お試しください。"
            ),
            status_code=429,
        )
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.user is None:
        message = {
            "locked": "ログインの失敗が続いたため、ロックしています。15分ほどしてからお試しください。",
            "inactive": "このアカウントは使えません。管理者にお問い合わせください。",
        }.get(outcome.reason, "ユーザー名またはパスワードが違います。")
        return back("/staff/login", err=message)
    response = RedirectResponse("/staff/", status_code=303)
    set_cookie(
        request, response, SESSION_COOKIE, make_session_cookie(request, outcome.user), SESSION_TTL_SECONDS
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
    return response


@router.post("/logout")
def logout(session: SessionDep, ws: WebSessionDep, csrf_token: Annotated[str, Form()] = ""):
    check_csrf(ws, csrf_token)
    service.audit(session, action="logout", staff_id=ws.user.id)
    session.commit()
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/staff")
    return response


# --- queue -------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    ws: WebSessionDep,
    tab: str = "unassigned",
    category: str = "",
    status: str = "",
):
    ctx = queue_context(session, ws.user, tab=tab, category=category, status=status)
    return render(request, "queue.html", ctx)


def queue_context(
    session: Session, user: StaffUser, *, tab: str, category: str, status: str
) -> dict[str, Any]:
    tab = tab if tab in ("unassigned", "mine", "all") else "unassigned"
    cases = queue_cases(session, user, tab=tab, category=category, status=status)
    return {
        "tab": tab,
        "category": category,
        "status": status,
        "counts": queue_counts(session, user),
        "cases": cases,
        "awaiting_reply": awaiting_reply(session, [c for c in cases if c.status == IN_PROGRESS]),
        "names": staff_names(session),
        "now": utcnow(),
    }


def awaiting_reply(session: Session, cases: list[Case]) -> set[int]:
    """Case ids whose resident wrote last (after staff or the bot): a reply is due."""
    by_conv = {c.conversation_id: c.id for c in cases if c.conversation_id}
    if not by_conv:
        return set()
    last_ids = (
        select(func.max(ConversationEvent.id))
        .where(
            ConversationEvent.conversation_id.in_(by_conv),
            ConversationEvent.author.in_(("resident", "staff", "bot")),
        )
        .group_by(ConversationEvent.conversation_id)
    )
    rows = session.execute(
        select(ConversationEvent.conversation_id, ConversationEvent.author).where(
            ConversationEvent.id.in_(last_ids)
        )
    )
    return {by_conv[conv_id] for conv_id, author in rows if author == "resident"}


@router.get("/queue/rows", response_class=HTMLResponse)
def queue_rows(
    request: Request,
    session: SessionDep,
    ws: WebSessionDep,
    tab: str = "unassigned",
    category: str = "",
    status: str = "",
):
    """The queue table and counts as an HTML fragment, fetched by the page on an SSE change."""
    ctx = queue_context(session, ws.user, tab=tab, category=category, status=status)
    return render(request, "_queue_rows.html", ctx)


def queue_signature(session_factory, user_id: int) -> dict[str, Any]:
    """A cheap fingerprint of what the queue shows; the SSE stream sends it when it changes.

    Read from the database (not from in-process state), so it is right in every process.
    """
    with session_factory() as session:
        user = session.get(StaffUser, user_id)
        if user is None or not user.active:
            return {"gone": True}
        q = service.visible_cases_query(user).with_only_columns(
            func.count(), func.max(Case.updated_at), func.max(Case.id)
        )
        count, updated, latest = session.execute(q).one()
        waiting = session.scalar(
            service.visible_cases_query(user)
            .with_only_columns(func.count())
            .where(Case.status == WAITING, Case.owner_id.is_(None))
        )
        urgent = session.scalar(
            service.visible_cases_query(user)
            .with_only_columns(func.count())
            .where(Case.status == WAITING, Case.priority == URGENT)
        )
        withdrawn_mine = session.scalar(
            select(func.count()).select_from(Case).where(Case.owner_id == user.id, Case.status == WITHDRAWN)
        )
        # Residents writing in my open cases: the queue refreshes, and the page can say so.
        mine_last_resident = session.scalar(
            select(func.max(ConversationEvent.id))
            .join(Case, Case.conversation_id == ConversationEvent.conversation_id)
            .where(
                Case.owner_id == user.id, Case.status == IN_PROGRESS, ConversationEvent.author == "resident"
            )
        )
        return {
            "sig": ":".join(
                str(x)
                for x in (count, updated.isoformat() if updated else "", latest or 0, mine_last_resident or 0)
            ),
            "mine_last_resident": mine_last_resident or 0,
            "latest_id": latest or 0,
            "waiting": waiting or 0,
            "urgent_waiting": urgent or 0,
            "withdrawn_mine": withdrawn_mine or 0,
        }


def _sse_user(request: Request) -> int:
    # A short-lived session just for the check: the stream itself must not hold a connection.
    with request.app.state.session_factory() as session:
        ws = read_web_session(request, session)
        if ws is None:
            raise HTTPException(401, "login required")
        return ws.user.id


def _stream(request: Request, compute, event_name: str):
    """Send `compute()` whenever it changes. On PostgreSQL the stream sleeps until this process's
    LISTEN connection hears that a case or a message changed in any process (bot/notify.py), then
    looks again — at most once per SSE_COALESCE_SECONDS, so a busy webhook costs no more than polling.
    Without notifications (SQLite, or the LISTEN connection is down) it polls every SSE_POLL_SECONDS."""
    listener = getattr(request.app.state, "notify_listener", None)

    async def gen():
        last = None
        loop = asyncio.get_running_loop()
        with contextlib.ExitStack() as stack:
            changed = stack.enter_context(listener.staff.subscribe()) if listener is not None else None
            while True:
                if await request.is_disconnected():
                    break
                if changed is not None:
                    changed.clear()  # before looking: a change committed from now on wakes us again
                looked_at = loop.time()
                current = await run_in_threadpool(compute)
                if current.get("gone"):
                    yield {"event": "gone", "data": "{}"}
                    break
                if current != last:
                    last = current
                    yield {"event": event_name, "data": json.dumps(current)}
                if changed is None:
                    await asyncio.sleep(SSE_POLL_SECONDS)
                    continue
                # The listener also wakes us when it connects or drops (then we poll meanwhile).
                wait = SSE_SAFETY_SECONDS if listener.connected else SSE_POLL_SECONDS
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), wait)
                await asyncio.sleep(max(0.0, looked_at + SSE_COALESCE_SECONDS - loop.time()))

    return EventSourceResponse(gen(), ping=15, headers={"Cache-Control": "no-store"})


@router.get("/events")
def queue_events(request: Request):
    user_id = _sse_user(request)
    factory = request.app.state.session_factory
    return _stream(request, lambda: queue_signature(factory, user_id), "queue")


# --- case page ---------------------------------------------------------------------------------


def chat_items(session: Session, case: Case, names: dict[int, str]) -> list[dict[str, Any]]:
    if case.conversation_id is None:
        return []
    items = []
    for ev in conversations.list_events(session, conversation_id=case.conversation_id):
        text = event_text(ev)
        if ev.author == "system":
            label = {
                "handoff": "相談者が同意し、相談キューに入りました",
                "handoff_update": "つなぐシートが更新されました",
                "staff_joined": f"{names.get(ev.staff_id or 0, '相談員')}が担当になりました",
                "staff_left": "相談員が担当を外れ、自動の返事に戻りました",
                "case_closed": "ケースを終了しました",
            }.get(ev.kind)
            if label is None and not text:
                continue
            items.append({"id": ev.id, "author": "system", "text": label or text, "at": ev.created_at})
            continue
        if text is None:
            text = {"media": "（画像・スタンプなど）", "follow": "（友だち追加）"}.get(
                ev.kind, f"（{ev.kind}）"
            )
        items.append(
            {
                "id": ev.id,
                "author": ev.author,
                "text": text,
                "at": ev.created_at,
                "name": names.get(ev.staff_id or 0, "相談員") if ev.author == "staff" else None,
            }
        )
    return items


def case_context(session: Session, case: Case, user: StaffUser) -> dict[str, Any]:
    names = staff_names(session)
    row = service.latest_sheet_row(session, case_id=case.id)
    sheet = SheetDraft.model_validate(row.content) if row is not None and row.content else None
    owner_ok = case.owner_id == user.id
    return {
        "case": case,
        "sheet": sheet,
        "sheet_revision": row.revision if row is not None else None,
        "revisions": service.sheet_revisions(session, case_id=case.id),
        "chat": chat_items(session, case, names),
        "notes": service.list_notes(session, case_id=case.id),
        "names": names,
        "consent": service.active_consent(session, case_id=case.id),
        "canned": [c for c in canned_replies(session) if c.active],
        "staff_list": [
            u
            for u in session.scalars(
                select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.id)
            )
        ],
        "can_reply": owner_ok and case.status == IN_PROGRESS,
        "can_edit": case.status != WITHDRAWN and (owner_ok or user.has_role(ROLE_SUPERVISOR)),
        "can_claim": case.status == WAITING and case.owner_id is None,
        "can_release": case.status == IN_PROGRESS and (owner_ok or user.has_role(ROLE_SUPERVISOR)),
        "can_close": case.is_open and (owner_ok or user.has_role(ROLE_SUPERVISOR)),
        "can_transfer": case.is_open and user.has_role(ROLE_SUPERVISOR),
        # One key per rendered reply form: posting the same form twice sends once.
        "form_key": secrets.token_urlsafe(24),
        "now": utcnow(),
    }


def _load_for(session: Session, case_id: int, user: StaffUser) -> Case:
    case = service.get_case(session, case_id=case_id)
    if not service.can_view(user, case):
        raise service.Forbidden("another staff member owns this case")
    return case


def _page_errors(fn):
    """Service errors on a page GET → a plain Japanese error page with the right status."""
    try:
        return fn()
    except service.CaseNotFound:
        raise HTTPException(404, "ケースが見つかりません。") from None
    except service.Forbidden:
        raise HTTPException(403, "このケースは他の相談員が担当しています。") from None


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, session: SessionDep, ws: WebSessionDep):
    case = _page_errors(lambda: service.view_case(session, case_id=case_id, staff=ws.user, via="ui"))
    ctx = case_context(session, case, ws.user)
    # Content-free: how many messages to this resident still wait for LINE (an outage, back-off).
    pending = getattr(request.app.state, "notifier", None)
    pending = getattr(pending, "pending_count", None)
    ctx["pending_outbound"] = (
        pending(session, resident_id=case.resident_id) if pending and case.resident_id else 0
    )
    session.commit()
    return render(request, "case.html", ctx)


@router.get("/cases/{case_id}/chat", response_class=HTMLResponse)
def case_chat(request: Request, case_id: int, session: SessionDep, ws: WebSessionDep):
    """The chat log fragment, refreshed live while the case page is open (the page view was audited)."""
    case = _page_errors(lambda: _load_for(session, case_id, ws.user))
    return render(
        request, "_chat.html", {"chat": chat_items(session, case, staff_names(session)), "case": case}
    )


def case_signature(session_factory, case_id: int, user_id: int) -> dict[str, Any]:
    if not 1 <= case_id <= service.MAX_ID:  # from the URL; out of range can't exist
        return {"gone": True}
    with session_factory() as session:
        user = session.get(StaffUser, user_id)
        case = session.get(Case, case_id)
        if user is None or case is None or not service.can_view(user, case):
            return {"gone": True}
        last_event = 0
        if case.conversation_id:
            last_event = session.scalar(
                select(func.max(ConversationEvent.id)).where(
                    ConversationEvent.conversation_id == case.conversation_id
                )
            )
        return {
            "status": case.status,
            "owner_id": case.owner_id,
            "updated": case.updated_at.isoformat(),
            "last_event": last_event or 0,
        }


@router.get("/cases/{case_id}/events")
def case_events(request: Request, case_id: int):
    user_id = _sse_user(request)
    factory = request.app.state.session_factory
    return _stream(request, lambda: case_signature(factory, case_id, user_id), "case")


def _act(session: Session, case_id: int, fn, ok: str) -> RedirectResponse:
    url = f"/staff/cases/{case_id}"
    try:
        fn()
        session.commit()
    except (service.HandoffError, ValueError) as exc:
        session.rollback()
        if isinstance(exc, service.CaseNotFound):
            raise HTTPException(404, "ケースが見つかりません。") from None
        if isinstance(exc, service.DuplicateSubmission):
            return back(url, ok="duplicate")
        return back(url, err=error_text(exc))
    return back(url, ok=ok)


@router.post("/cases/{case_id}/claim")
def claim_case(case_id: int, session: SessionDep, ws: WebSessionDep, csrf_token: Annotated[str, Form()] = ""):
    check_csrf(ws, csrf_token)
    return _act(session, case_id, lambda: service.claim(session, case_id=case_id, staff=ws.user), "claimed")


@router.post("/cases/{case_id}/release")
def release_case(
    request: Request,
    case_id: int,
    session: SessionDep,
    ws: WebSessionDep,
    csrf_token: Annotated[str, Form()] = "",
):
    check_csrf(ws, csrf_token)
    notifier = notifier_of(request)
    response = _act(
        session,
        case_id,
        lambda: service.release(session, case_id=case_id, staff=ws.user, notifier=notifier),
        "released",
    )
    return response


@router.post("/cases/{case_id}/close")
def close_case(
    request: Request,
    case_id: int,
    session: SessionDep,
    ws: WebSessionDep,
    outcome: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
):
    check_csrf(ws, csrf_token)
    notifier = notifier_of(request)
    return _act(
        session,
        case_id,
        lambda: service.close(session, case_id=case_id, staff=ws.user, outcome=outcome, notifier=notifier),
        "closed",
    )


@router.post("/cases/{case_id}/transfer")
def transfer_case(
    case_id: int,
    session: SessionDep,
    ws: WebSessionDep,
    to_staff_id: Annotated[int, Form()],
    csrf_token: Annotated[str, Form()] = "",
):
    check_csrf(ws, csrf_token)
    return _act(
        session,
        case_id,
        lambda: service.transfer(session, case_id=case_id, staff=ws.user, to_staff_id=to_staff_id),
        "transferred",
    )


def _is_duplicate_reply(session: Session, case: Case, staff_id: int, text: str) -> bool:
    """A double click (or a resubmitted form) must not message the resident twice."""
    if case.conversation_id is None:
        return False
    last = session.scalars(
        select(ConversationEvent)
        .where(
            ConversationEvent.conversation_id == case.conversation_id,
            ConversationEvent.author == "staff",
            ConversationEvent.staff_id == staff_id,
        )
        .order_by(ConversationEvent.id.desc())
        .limit(1)
    ).first()
    return (
        last is not None
        and last.text == text.strip()
        and utcnow() - last.created_at < timedelta(seconds=REPLY_DEDUP_SECONDS)
    )


@router.post("/cases/{case_id}/reply")
def reply(
    request: Request,
    case_id: int,
    session: SessionDep,
    ws: WebSessionDep,
    text: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    form_key: Annotated[str, Form()] = "",
):
    check_csrf(ws, csrf_token)
    notifier = notifier_of(request)
    case = _page_errors(lambda: _load_for(session, case_id, ws.user))
    if not text.strip():
        return back(f"/staff/cases/{case_id}", err="メッセージが空です。")
    # Without a key (a page from before keys existed) the best we can do is compare texts.
    if not form_key and _is_duplicate_reply(session, case, ws.user.id, text):
        return back(f"/staff/cases/{case_id}", ok="duplicate")

    def _reply() -> None:
        if form_key:
            service.record_submission(session, key=form_key[:64], staff=ws.user, case_id=case_id)
        service.staff_reply(session, case_id=case_id, staff=ws.user, text=text, notifier=notifier)

    return _act(session, case_id, _reply, "sent")


@router.post("/cases/{case_id}/notes")
def add_note(
    case_id: int,
    session: SessionDep,
    ws: WebSessionDep,
    text: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
):
    check_csrf(ws, csrf_token)
    return _act(
        session,
        case_id,
        lambda: service.add_note(session, case_id=case_id, staff=ws.user, text=text),
        "noted",
    )


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _parse_date(value: str):
    """A date from <input type=date>, as noon Japan time (a day, not an instant)."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    try:
        d = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return datetime.combine(d, time(12), tzinfo=ZoneInfo("Asia/Tokyo"))


def sheet_from_form(previous: SheetDraft, form) -> SheetDraft:
    """Apply the edit form to a copy of the previous revision (fields not on the form are kept)."""
    sheet = previous.model_copy(deep=True)
    categories = [c for c in form.getlist("categories") if c in CATEGORIES]
    subcategories = [s for s in form.getlist("subcategories") if s in SUBCATEGORIES]
    for s in subcategories:
        if SUBCATEGORIES[s][0] not in categories:
            categories.append(SUBCATEGORIES[s][0])
    primary = form.get("primary") or None
    if primary not in CATEGORIES:
        primary = None
    if primary and primary not in categories:
        categories.insert(0, primary)
    sheet.categories = ([primary] if primary else []) + [
        c for c in CATEGORIES if c in categories and c != primary
    ]
    sheet.primary = primary
    sheet.subcategories = subcategories
    sheet.summary = form.get("summary", "").strip()
    sheet.household = _lines(form.get("household", ""))
    sheet.duration = form.get("duration", "").strip() or None
    sheet.urgency = form.get("urgency", "").strip() or None
    sheet.special_notes = form.get("special_notes", "").strip()
    sheet.agencies_involved = _lines(form.get("agencies_involved", ""))
    sheet.staff_in_charge = form.get("staff_in_charge", "").strip() or None
    sheet.result_policy = form.get("result_policy", "").strip() or None
    sheet.screening_date = _parse_date(form.get("screening_date", ""))
    writer = form.get("writer_type", sheet.writer_type)
    if writer in ("self", "family", "acquaintance", "professional", "unknown"):
        sheet.writer_type = writer
    for key in ("age_band", "sex", "address_area", "phone", "name"):
        value = form.get(f"person_{key}", "").strip() or None
        setattr(sheet.person, key, value)
    size = form.get("person_household_size", "").strip()
    sheet.person.household_size = int(size) if size.isdigit() else None
    sheet.referral.multi_agency = form.get("multi_agency") == "on"
    sheet.referral.reason = form.get("referral_reason", "").strip()
    suggestions = []
    for line in _lines(form.get("referral_agencies", "")):
        parts = [p.strip() for p in line.replace("|", "｜").split("｜")]
        parts += [""] * 3
        suggestions.append(SuggestedAgency(name=parts[0], department=parts[1], phone=parts[2]))
    sheet.referral.suggestions = suggestions
    return sheet


@router.post("/cases/{case_id}/sheet")
async def save_sheet(request: Request, case_id: int, session: SessionDep, ws: WebSessionDep):
    form = await request.form()
    check_csrf(ws, form.get("csrf_token"))
    base = form.get("base_revision")

    def _save():
        previous = service.latest_sheet(session, case_id=case_id)
        if previous is None:
            raise service.CaseConflict("no sheet to revise")
        service.revise_sheet(
            session,
            case_id=case_id,
            staff=ws.user,
            sheet=sheet_from_form(previous, form),
            base_revision=int(base) if base and str(base).isdigit() else None,
        )

    return await run_in_threadpool(_act, session, case_id, _save, "sheet_saved")


# --- exports -----------------------------------------------------------------------------------


def _sheet_for_export(session: Session, case_id: int, user: StaffUser) -> tuple[Case, SheetDraft | None]:
    case = _page_errors(lambda: _load_for(session, case_id, user))
    return case, service.latest_sheet(session, case_id=case.id)


def print_context(session: Session, case: Case, sheet: SheetDraft | None, city) -> dict[str, Any]:
    return {
        "case": case,
        "sheet": sheet,
        "consent": service.active_consent(session, case_id=case.id),
        "names": staff_names(session),
        "outcome_labels": OUTCOME_LABELS,
        "city": city,
    }


@router.get("/cases/{case_id}/print", response_class=HTMLResponse)
def print_view(request: Request, case_id: int, session: SessionDep, ws: WebSessionDep):
    case, sheet = _sheet_for_export(session, case_id, ws.user)
    service.audit(session, action="export_print", staff_id=ws.user.id, case_id=case.id)
    session.commit()
    return render(
        request,
        "print_sheet.html",
        print_context(session, case, sheet, request.app.state.city) | {"for_pdf": False},
    )


@router.get("/cases/{case_id}/sheet.pdf")
def sheet_pdf(request: Request, case_id: int, session: SessionDep, ws: WebSessionDep):
    case, sheet = _sheet_for_export(session, case_id, ws.user)
    html = templates.get_template("print_sheet.html").render(
        print_context(session, case, sheet, request.app.state.city)
        | {"for_pdf": True, "request": request, "me": ws.user}
    )
    pdf = exports.html_to_pdf(html, base_url=str(request.base_url))
    service.audit(
        session, action="export_pdf", staff_id=ws.user.id, case_id=case.id, detail={"bytes": len(pdf)}
    )
    session.commit()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="tsunagu-sheet-{case.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/export/cases.csv")
def cases_csv(session: SessionDep, ws: WebSessionDep):
    cases = list(session.scalars(service.visible_cases_query(ws.user).order_by(Case.created_at, Case.id)))
    data = exports.cases_csv(cases, staff_names(session))
    service.audit(session, action="export_csv", staff_id=ws.user.id, detail={"rows": len(cases)})
    session.commit()
    stamp = utcnow().strftime("%Y%m%d")
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cases-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- statistics (supervisor) -------------------------------------------------------------------


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, session: SessionDep, ws: WebSessionDep, fy: int | None = None):
    require_role(ws.user, ROLE_SUPERVISOR)
    from zoneinfo import ZoneInfo

    this_fy = stats.fiscal_year_of(utcnow().astimezone(ZoneInfo("Asia/Tokyo")).date())
    fy = fy or this_fy
    result = stats.compute(session, fiscal_year=fy)
    service.audit(session, action="view_stats", staff_id=ws.user.id, detail={"fiscal_year": fy})
    session.commit()
    return render(request, "stats.html", {"s": result, "fy": fy, "this_fy": this_fy})


# --- canned replies (supervisor edits, everyone uses) ------------------------------------------


@router.get("/canned", response_class=HTMLResponse)
def canned_page(request: Request, session: SessionDep, ws: WebSessionDep):
    require_role(ws.user, ROLE_SUPERVISOR)
    rows = canned_replies(session)
    session.commit()
    return render(request, "canned.html", {"rows": rows})


@router.post("/canned")
async def canned_save(request: Request, session: SessionDep, ws: WebSessionDep):
    require_role(ws.user, ROLE_SUPERVISOR)
    form = await request.form()
    check_csrf(ws, form.get("csrf_token"))
    row_id = form.get("id")
    title, text = (form.get("title") or "").strip(), (form.get("text") or "").strip()
    if row_id:
        row = session.get(CannedReply, int(row_id))
        if row is None:
            raise HTTPException(404)
        if form.get("delete"):
            session.delete(row)
        else:
            row.title, row.text = title or row.title, text or row.text
            row.position = int(form.get("position") or row.position)
            row.active = form.get("active") == "on"
    elif title and text:
        session.add(
            CannedReply(title=title[:64], text=text, position=int(form.get("position") or 99), active=True)
        )
    service.audit(session, action="edit_canned", staff_id=ws.user.id)
    session.commit()
    return back("/staff/canned", ok="saved")


# --- agency directory (admin) ------------------------------------------------------------------


@router.get("/admin/agencies", response_class=HTMLResponse)
def agencies_page(request: Request, session: SessionDep, ws: WebSessionDep):
    require_role(ws.user, ROLE_ADMIN)
    agencies.seed_from_city_if_empty(session, request.app.state.city)
    session.commit()
    return render(request, "agencies.html", {"rows": agencies.list_rows(session)})


@router.post("/admin/agencies/upload")
async def agencies_upload(
    request: Request,
    session: SessionDep,
    ws: WebSessionDep,
    file: UploadFile,
    csrf_token: Annotated[str, Form()] = "",
):
    require_role(ws.user, ROLE_ADMIN)
    check_csrf(ws, csrf_token)
    raw = await file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return back("/staff/admin/agencies", err="CSVはUTF-8で保存してください。")
    try:
        n = agencies.replace_from_csv(session, text=text)
    except DirectoryError as exc:
        session.rollback()
        return back("/staff/admin/agencies", err=f"読み込めませんでした: {exc}")
    service.audit(session, action="load_agencies", staff_id=ws.user.id, detail={"rows": n})
    session.commit()
    return back("/staff/admin/agencies", ok="loaded")


@router.post("/admin/agencies/save")
async def agencies_save(request: Request, session: SessionDep, ws: WebSessionDep):
    require_role(ws.user, ROLE_ADMIN)
    form = await request.form()
    check_csrf(ws, form.get("csrf_token"))
    row_id = form.get("id")
    row = session.get(AgencyRow, int(row_id)) if row_id else AgencyRow()
    if row is None:
        raise HTTPException(404)
    name = (form.get("name") or "").strip()
    if not name:
        return back("/staff/admin/agencies", err="機関名を入力してください。")
    for key in ("topic", "consultation", "department", "address", "phone", "hours", "notes"):
        setattr(row, key, (form.get(key) or "").strip())
    row.name = name
    no = (form.get("no") or "").strip()
    row.no = int(no) if no.isdigit() else None
    row.categories = [c for c in form.getlist("categories") if c in CATEGORIES]
    row.subcategories = [s for s in (form.get("subcategories") or "").split() if s in SUBCATEGORIES]
    row.active = form.get("active", "on") == "on"
    if not row_id:
        session.add(row)
    session.flush()
    service.audit(session, action="edit_agency", staff_id=ws.user.id, detail={"agency_id": row.id})
    session.commit()
    return back("/staff/admin/agencies", ok="saved")


@router.get("/admin/agencies.csv")
def agencies_csv(request: Request, session: SessionDep, ws: WebSessionDep):
    require_role(ws.user, ROLE_ADMIN)
    from handoff.directory import directory_to_csv

    data = exports.BOM + directory_to_csv(agencies.current_directory(session, request.app.state.city))
    service.audit(session, action="export_agencies", staff_id=ws.user.id)
    session.commit()
    return Response(
        data.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="agencies.csv"'},
    )


# --- staff accounts (admin) --------------------------------------------------------------------


@router.get("/admin/staff", response_class=HTMLResponse)
def staff_page(request: Request, session: SessionDep, ws: WebSessionDep):
    require_role(ws.user, ROLE_ADMIN)
    users = list(session.scalars(select(StaffUser).order_by(StaffUser.id)))
    return render(request, "staff_accounts.html", {"users": users, "now": utcnow()})


@router.post("/admin/staff")
async def staff_save(request: Request, session: SessionDep, ws: WebSessionDep):
    require_role(ws.user, ROLE_ADMIN)
    form = await request.form()
    check_csrf(ws, form.get("csrf_token"))
    url = "/staff/admin/staff"
    try:
        if form.get("id"):
            user = session.get(StaffUser, int(form["id"]))
            if user is None:
                raise HTTPException(404)
            action = form.get("action")
            if action == "update":
                role = form.get("role", user.role)
                if role in ROLE_LABELS:
                    if user.id == ws.user.id and role != ROLE_ADMIN:
                        return back(url, err="自分自身の管理者権限は外せません。")
                    user.role = role
                user.display_name = (form.get("display_name") or user.display_name).strip()[:64]
                user.icon_url = (form.get("icon_url") or "").strip() or None
            elif action == "password":
                accounts.set_password(session, user=user, password=form.get("password") or "")
            elif action == "toggle":
                if user.id == ws.user.id:
                    return back(url, err="自分自身は無効にできません。")
                user.active = not user.active
                user.auth_version += 1
            elif action == "unlock":
                user.locked_until = None
                user.failed_logins = 0
            service.audit(session, action=f"staff_{action}", staff_id=ws.user.id, detail={"target": user.id})
            ok = "saved"
        else:
            user = accounts.create_staff(
                session,
                username=(form.get("username") or "").strip(),
                password=form.get("password") or "",
                role=form.get("role") or "staff",
                display_name=(form.get("display_name") or "").strip() or None,
                icon_url=(form.get("icon_url") or "").strip() or None,
            )
            service.audit(session, action="staff_create", staff_id=ws.user.id, detail={"target": user.id})
            ok = "created"
        session.commit()
    except accounts.AccountError as exc:
        session.rollback()
        return back(url, err=str(exc))
    return back(url, ok=ok)
