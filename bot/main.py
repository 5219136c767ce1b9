"""create_app(): the whole service in one FastAPI app (webhook, simulator, staff UI, API, workers)."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot import crypto, notify
from bot.city import load_city
from bot.db import make_engine, make_session_factory
from bot.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    crypto.configure(settings.effective_secret_key, settings.old_secrets)
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # The NLP model loads once here, never at import time.
        if settings.load_nlp:
            import nlp

            app.state.analyzer = nlp.load()
        app.state.nlp_ready = True
        from bot.line import lifecycle

        await lifecycle.start(app)
        listener = _start_listener(app)
        # Everything loaded so far (the NLP model, the city, the ORM: ~160k objects) lives as long
        # as the process. Out of the garbage collector's sight it no longer makes every full
        # collection a 50–100 ms pause of the whole process — the webhook's ack tail.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if listener is not None:
                listener.stop()
            await lifecycle.stop(app)
            engine.dispose()

    app = FastAPI(title="福祉まるごと相談 LINE bot", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.notify_listener = None
    notify.install_staff_hooks(app.state.session_factory)
    app.state.city = load_city(settings.city_config)
    app.state.analyzer = None
    app.state.nlp_ready = False

    @app.get("/healthz")
    def healthz():
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the database is the one thing we cannot work without
            return JSONResponse({"status": "database unavailable", "error": type(exc).__name__}, 503)
        if not app.state.nlp_ready:
            return JSONResponse({"status": "loading"}, 503)
        return {"status": "ok"}

    from bot.line import install as install_line
    from handoff.routes import install as install_handoff

    install_line(app)
    from bot.line.outbound import LineNotifier

    # Staff replies reach the resident through the same outbox and sender as the bot's.
    app.state.notifier = LineNotifier(app.state.line_signals.outbox)
    install_handoff(app)
    from bot.metrics import install as install_metrics

    install_metrics(app)
    return app


def _start_listener(app: FastAPI) -> notify.Listener | None:
    """PostgreSQL: one LISTEN connection for this process; it wakes the workers and the SSE streams."""
    engine = app.state.engine
    if not notify.is_postgres(engine):
        return None
    signals = app.state.line_signals
    listener = notify.Listener(
        notify.psycopg_dsn(engine),
        {notify.INBOX: signals.inbox.set, notify.OUTBOX: signals.outbox.wake},
    ).start()
    app.state.notify_listener = listener
    if app.state.line_worker is not None:
        app.state.line_worker.use_notifications(lambda: listener.connected)
    return listener


def app_from_env() -> FastAPI:
    """uvicorn's app factory for `serve --workers N`: every process builds its app from the environment
    (the parent has migrated, created the first admin and exported what it computed)."""
    return create_app(Settings())
