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
    """Under webhook load, background steps leave the interpreter to the ack path half the time.

    One Python process has one interpreter lock. When dialogue steps (CPU-bound: NLP, ORM) run
    back to back, the event loop answering LINE gets only a slice of it and acks queue up. LINE
    waits for the ack (2 s, then counts a failure); the resident can wait a moment longer for the
    reply. So while webhooks are arriving, each step is followed by a pause as long as the step —
    the backlog is worked off at full speed as soon as the webhooks quieten.
    """

    def __init__(self, *, window: float = 0.5, share: float = 1.0, max_pause: float = 0.2) -> None:
        self.window = window
        self.share = share
        self.max_pause = max_pause
        self._last_ack = 0.0
        self._next_step = 0.0
        self._lock = threading.Lock()

    def ack(self) -> None:
        self._last_ack = time.monotonic()

    def admit(self) -> None:
        """Before a step: wait for this step's turn (serialised, so pauses add up across threads)."""
        with self._lock:
            pause = min(self._next_step - time.monotonic(), self.max_pause)
            if pause > 0:
                time.sleep(pause)

    def step_took(self, seconds: float) -> None:
        now = time.monotonic()
        if now - self._last_ack < self.window:
            with self._lock:
                self._next_step = now + seconds * self.share
