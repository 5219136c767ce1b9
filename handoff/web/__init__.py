"""The staff web UI: server-rendered Jinja2 pages under /staff/, plain CSS and JS, SSE for live updates."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from handoff.auth import LoginRequired
from handoff.models import (
    CONTACT_LABELS,
    OUTCOME_LABELS,
    PRIORITY_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    WRITER_LABELS,
)
from nlp.taxonomy import CATEGORIES, RISK_FLAGS, SUBCATEGORIES

HERE = Path(__file__).resolve().parent
JST = ZoneInfo("Asia/Tokyo")
WEEKDAYS = "月火水木金土日"


def jst(dt, fmt: str = "%Y/%m/%d %H:%M") -> str:
    if dt is None:
        return ""
    local = dt.astimezone(JST)
    return local.strftime(fmt).replace("(曜)", f"({WEEKDAYS[local.weekday()]})")


def wareki(dt) -> str:
    """Like the paper form: 令和X年Y月Z日."""
    if dt is None:
        return "　　年　　月　　日"
    d = dt.astimezone(JST)
    return f"令和{d.year - 2018}年{d.month}月{d.day}日"


def since(dt, now=None) -> str:
    from bot.db import utcnow

    if dt is None:
        return ""
    minutes = int(((now or utcnow()) - dt).total_seconds() // 60)
    if minutes < 1:
        return "たった今"
    if minutes < 60:
        return f"{minutes}分"
    if minutes < 60 * 24:
        return f"{minutes // 60}時間{minutes % 60}分"
    return f"{minutes // (60 * 24)}日"


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["jst"] = jst
templates.env.filters["wareki"] = wareki
templates.env.filters["since"] = since
templates.env.globals.update(
    CATEGORIES=CATEGORIES,
    SUBCATEGORIES=SUBCATEGORIES,
    RISK_FLAGS=RISK_FLAGS,
    STATUS_LABELS=STATUS_LABELS,
    PRIORITY_LABELS=PRIORITY_LABELS,
    ROLE_LABELS=ROLE_LABELS,
    OUTCOME_LABELS=OUTCOME_LABELS,
    WRITER_LABELS=WRITER_LABELS,
    CONTACT_LABELS=CONTACT_LABELS,
)


# Staff pages show personal data: never cached, never framed, scripts only from our own files.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def apply_security_headers(response) -> None:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)


def install(app: FastAPI) -> None:
    from handoff.web import pages

    app.include_router(pages.router)
    app.mount("/staff/static", StaticFiles(directory=str(HERE / "static")), name="staff_static")

    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def _staff_error_page(request: Request, exc: StarletteHTTPException):
        # Only the staff pages get an HTML page; the API and the webhook keep FastAPI's JSON.
        path = request.url.path
        if not path.startswith("/staff/") or path.startswith("/staff/static/"):
            return await http_exception_handler(request, exc)
        if request.headers.get("accept", "").startswith("text/event-stream"):
            return await http_exception_handler(request, exc)
        message = exc.detail if isinstance(exc.detail, str) else ""
        if message.startswith("your role"):
            message = "この画面を使う権限がありません。"
        elif message.startswith("CSRF"):
            message = "画面の有効期限が切れました。ページを再読み込みしてから、もう一度お試しください。"
        elif message in ("", "Not Found", "Method Not Allowed"):
            message = "ページが見つかりません。" if exc.status_code in (404, 405) else "エラーが起きました。"
        response = templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "message": message, "me": None, "city": request.app.state.city},
            status_code=exc.status_code,
        )
        apply_security_headers(response)
        return response

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired):
        if request.headers.get("accept", "").startswith("text/event-stream"):
            from fastapi.responses import PlainTextResponse

            return PlainTextResponse("login required", status_code=401)
        return RedirectResponse("/staff/login", status_code=303)
