"""One writer at a time on SQLite, queued in Python instead of in SQLite's busy handler.

SQLite allows a single writer; the others wait in its busy handler, which *sleeps* in growing steps
(1, 2, 5, 10 … 100 ms) instead of waking when the lock is free. That turns a 1 ms contention into
tens of milliseconds on the webhook's ack path. Our own write transactions therefore queue on a
Python condition first and start the moment the previous one commits, and the webhook (`urgent`)
goes before any waiting worker step: LINE is waiting for its answer, the worker is not.
PostgreSQL has row locks and many writers: there the gate does nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine


class WriteGate:
    def __init__(self, engine: Engine) -> None:
        self.single_writer = engine.dialect.name == "sqlite"
        self._cond = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0

    @contextmanager
    def __call__(self, *, urgent: bool = False) -> Iterator[None]:
        if not self.single_writer:
            yield
            return
        with self._cond:
            if urgent:
                self._urgent_waiting += 1
            try:
                while self._busy or (not urgent and self._urgent_waiting):
                    self._cond.wait()
            finally:
                if urgent:
                    self._urgent_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class AckPriority:
    """When the ack path is under pressure, background steps leave it the interpreter half the time.

    One Python process has one interpreter lock. When dialogue steps (CPU-bound: NLP, ORM) run
    back to back, the event loop answering LINE gets only a slice of it and acks queue up. LINE
    waits for the ack (2 s, then counts a failure); the resident can wait a moment longer for the
    reply. Pressure is seen directly: the event loop runs late (`loop_lag`, measured by a small
    watcher task) or several webhook requests are in flight at once. Under pressure each step is
    followed by a pause three times as long as the step (the worker keeps ≥ a quarter of the time;
    measured with benchmarks/webhook.py --ack-priority-share); at ordinary rates nothing pauses.
    """

    def __init__(
        self,
        *,
        lag_threshold: float = 0.010,
        busy_at: int = 2,
        hold: float = 0.5,
        share: float = 3.0,
        max_pause: float = 0.2,
    ) -> None:
        self.lag_threshold = lag_threshold
        self.busy_at = busy_at
        self.hold = hold
        self.share = share
        self.max_pause = max_pause
        self._in_flight = 0
        self._pressure_until = 0.0
        self._next_step = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def acking(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            if self._in_flight >= self.busy_at:
                self._pressure_until = time.monotonic() + self.hold
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def loop_lag(self, seconds: float) -> None:
        if seconds > self.lag_threshold:
            self._pressure_until = time.monotonic() + self.hold

    def admit(self) -> None:
        """Before a step: wait for this step's turn (serialised, so pauses add up across threads)."""
        with self._lock:
            pause = min(self._next_step - time.monotonic(), self.max_pause)
        if pause > 0:
            time.sleep(pause)

    def step_took(self, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._pressure_until:
                self._next_step = now + seconds * self.share


async def watch_event_loop(priority: AckPriority, interval: float = 0.01) -> None:
    """Measure how late the event loop runs (it is late when webhooks wait for the interpreter)."""
    import asyncio

    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(interval)
        priority.loop_lag(loop.time() - before - interval)
