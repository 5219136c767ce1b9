"""Mount the staff JSON API (/api/...) and the staff web UI (/staff/...) on the app."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from handoff import api
    from handoff.web import install as install_web

    app.include_router(api.router)
    install_web(app)
