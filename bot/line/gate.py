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
