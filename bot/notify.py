"""Cross-process wake-ups on PostgreSQL: NOTIFY in the writing transaction, one LISTEN per process.

Without this every process polls: the inbox/outbox workers every second, each staff browser's SSE
stream every second. With it a process sleeps until something it cares about is committed anywhere:

- `consult_inbox`: the webhook stored events → wake the inbox workers (every process);
- `consult_outbox`: a transaction stored outbox rows → wake the senders;
- `consult_staff`: a case or a conversation message changed → wake the staff SSE streams.

NOTIFY runs inside the transaction that makes the change, so PostgreSQL delivers it only on commit
(a rolled-back change wakes nobody, and a woken reader always sees the change). Each process holds
one LISTEN connection (a thread, `Listener`), not one per browser; it fans out to the in-process
waiters. If that connection drops, everyone falls back to polling until it is back (reconnect with
back-off), and all waiters are woken on both edges so nothing is missed in between. SQLite has one
process and in-process signals, so none of this runs there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

INBOX = "consult_inbox"
OUTBOX = "consult_outbox"
STAFF = "consult_staff"
CHANNELS = (INBOX, OUTBOX, STAFF)


def is_postgres(bind) -> bool:
    return bind.dialect.name == "postgresql"


def notify(conn, channel: str) -> None:
    """NOTIFY on a Connection or Session, in its current transaction (PostgreSQL only)."""
    assert channel in CHANNELS  # never a name from outside: NOTIFY takes no bind parameters
    if isinstance(conn, Session):
        if is_postgres(conn.get_bind()):
            conn.connection().exec_driver_sql(f"NOTIFY {channel}")
    elif is_postgres(conn):
        conn.exec_driver_sql(f"NOTIFY {channel}")


# ---------------------------------------------------------------- staff changes, sent on commit

_SENT = "notify_staff_sent"


def _staff_models() -> tuple[type, ...]:
    """What the staff views show: cases and conversation messages (imported late: models import
    this package's siblings)."""
    from bot.conversations.models import ConversationEvent
    from handoff.models import Case

    return (Case, ConversationEvent)


def install_staff_hooks(factory: sessionmaker[Session]) -> None:
    """Every session of `factory` NOTIFYs `consult_staff` (once per transaction) when it writes a
    case or a conversation message — ORM flushes and bulk UPDATE/DELETE alike. Services stay
    unaware; the SSE streams of every process wake on the commit."""
    if not is_postgres(factory.kw["bind"]):
        return

    def send_once(session: Session) -> None:
        if not session.info.get(_SENT):
            session.info[_SENT] = True
            notify(session.connection(), STAFF)

    @event.listens_for(factory, "after_flush")
    def _after_flush(session: Session, _ctx) -> None:
        staff_models = _staff_models()
        if any(isinstance(o, staff_models) for o in (*session.new, *session.dirty, *session.deleted)):
            send_once(session)

    @event.listens_for(factory, "do_orm_execute")
    def _bulk(state) -> None:
        bulk_write = state.is_update or state.is_delete
        if bulk_write and state.bind_mapper is not None and state.bind_mapper.class_ in _staff_models():
            send_once(state.session)

    @event.listens_for(factory, "after_transaction_end")
    def _reset(session: Session, transaction) -> None:
        if transaction.parent is None:  # the outermost transaction: a new one may notify again
            session.info.pop(_SENT, None)


# ---------------------------------------------------------------- the per-process listener


class Broadcast:
    """Thread → asyncio fan-out: `publish()` from any thread sets every subscriber's asyncio.Event.
    Repeated publishes before a subscriber wakes cost nothing (one wake-up per subscriber)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Event]:
        changed = asyncio.Event()
        with self._lock:
            self._subs[changed] = asyncio.get_running_loop()
        try:
            yield changed
        finally:
            with self._lock:
                self._subs.pop(changed, None)

    def publish(self) -> None:
        with self._lock:
            subs = [(e, loop) for e, loop in self._subs.items() if not e.is_set()]
        for changed, loop in subs:
            with contextlib.suppress(RuntimeError):  # that loop is closing
                loop.call_soon_threadsafe(changed.set)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subs)


def psycopg_dsn(engine: Engine) -> str:
    """The engine's URL for a plain psycopg connection (query options such as search_path kept)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """One LISTEN connection per process (a daemon thread), dispatching to in-process callbacks.

    `connected` says whether notifications are flowing; while it is False, waiters must poll.
    `on_change(connected)` hooks run on every connect and disconnect (e.g. to wake everyone).
    """

    def __init__(
        self,
        dsn: str,
        handlers: dict[str, Callable[[], None]],
        *,
        reconnect: tuple[float, float] = (0.2, 5.0),
    ) -> None:
        self.dsn = dsn
        self.handlers = handlers
        self.reconnect = reconnect
        self.staff = Broadcast()
        self.connected = False
        self.connects = 0  # how many times a LISTEN connection was set up (tests, diagnosis)
        self.backend_pid: int | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-listener", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def wait_connected(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def _dispatch(self, channel: str) -> None:
        if channel == STAFF:
            self.staff.publish()
        handler = self.handlers.get(channel)
        if handler is not None:
            handler()

    def _wake_all(self) -> None:
        for channel in CHANNELS:
            self._dispatch(channel)

    def _run(self) -> None:
        import psycopg

        delay = self.reconnect[0]
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
                    for channel in CHANNELS:
                        conn.execute(f"LISTEN {channel}")
                    self.backend_pid = conn.info.backend_pid
                    self.connected = True
                    self.connects += 1
                    self._ready.set()
                    delay = self.reconnect[0]
                    # Whatever was committed while we were not listening: look once.
                    self._wake_all()
                    while not self._stopping.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._dispatch(note.channel)
            except Exception as exc:
                if not self._stopping.is_set():
                    log.warning("notify listener lost its connection (%s); polling until it is back", exc)
            finally:
                was = self.connected
                self.connected = False
                self._ready.clear()
                if was:
                    self._wake_all()  # waiters switch to polling now
            self._stopping.wait(delay)
            delay = min(delay * 2, self.reconnect[1])
