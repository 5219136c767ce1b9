"""Mount the staff API and web UI on the app."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from handoff import api

    app.include_router(api.router)
    try:
        from handoff.web import install as install_web
    except ImportError:  # the web UI lands after the API
        return
    install_web(app)
