"""The LINE channel: webhook in, outbox out, simulator. The only place that imports line-bot-sdk."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import FastAPI

from bot.line.outbound import OutboxSignal


@dataclass
class LineSignals:
    """In-process wake-ups: the webhook wakes the inbox worker, commits with outbox rows the sender."""

    inbox: threading.Event = field(default_factory=threading.Event)
    outbox: OutboxSignal = field(default_factory=OutboxSignal)


def install(app: FastAPI) -> None:
    """Mount the webhook (and the simulator in simulator mode) on the app."""
    from bot.line import webhook
    from bot.line.gate import AckPriority, WriteGate

    app.state.line_signals = LineSignals()
    app.state.line_write_gate = WriteGate(app.state.engine)
    app.state.line_ack_priority = AckPriority()
    webhook.install(app)
    if app.state.settings.simulator_mode:
        from bot.line import simulator

        simulator.install(app)
