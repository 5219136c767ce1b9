"""Start and stop the background workers with the app (inbox processing, outbox sending, timers)."""

from __future__ import annotations

import asyncio
import logging
import sys

from fastapi import FastAPI

from bot.line.gate import watch_event_loop

log = logging.getLogger(__name__)


def line_api_base_url(app: FastAPI) -> str:
    """Where the Messaging API lives: LINE, a test's fake, or (simulator mode) the app's own fake."""
    settings = app.state.settings
    if settings.simulator_mode and "line_api_base_url" not in settings.model_fields_set:
        return settings.public_base_url.rstrip("/") + "/simulator/line-api"
    return settings.line_api_base_url


def dialogue_engine(app: FastAPI):
    engine = getattr(app.state, "dialogue_engine", None)
    if engine is None:
        from bot.engine import Engine

        engine = Engine(analyzer=app.state.analyzer, city=app.state.city)
        app.state.dialogue_engine = engine
    return engine


async def start(app: FastAPI) -> None:
    settings = app.state.settings
    base = settings.public_base_url.rstrip("/")
    # Printed, not only logged: the person who typed `make run` needs to see where to go.
    if settings.simulator_mode:
        print(f"LINE simulator (no LINE channel configured): {base}/simulator", flush=True)
    print(f"staff UI: {base}/staff/    LINE webhook: {base}/callback", flush=True)
    if not settings.run_worker:
        app.state.line_worker = None
        return
    from bot.line.outbound import LineApi
    from bot.worker import LineWorker

    # Worker threads run CPU-bound dialogue/NLP steps; a shorter GIL switch interval (default 5 ms)
    # lets the event loop answer webhooks promptly in between.
    sys.setswitchinterval(0.001)

    signals = app.state.line_signals
    # Tests and benchmarks may tune back-off and timeouts (app.state.line_worker_options).
    options = dict(getattr(app.state, "line_worker_options", None) or {})
    api_timeout = options.pop("api_timeout", 10.0)
    worker = LineWorker(
        session_factory=app.state.session_factory,
        engine=dialogue_engine(app),
        api=LineApi(line_api_base_url(app), settings.channel_access_token, timeout=api_timeout),
        inbox_signal=signals.inbox,
        outbox_signal=signals.outbox,
        gate=app.state.line_write_gate,
        priority=app.state.line_ack_priority,
        **options,
    )
    worker.start()
    app.state.line_worker = worker
    app.state.line_loop_watch = asyncio.create_task(watch_event_loop(app.state.line_ack_priority))


async def stop(app: FastAPI) -> None:
    watch = getattr(app.state, "line_loop_watch", None)
    if watch is not None:
        watch.cancel()
    worker = getattr(app.state, "line_worker", None)
    if worker is not None:
        worker.stop()
        app.state.line_worker = None
