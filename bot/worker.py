"""Background work: inbox events → dialogue steps → outbox rows → LINE; plus the dialogue's timers.

Per key (a LINE user, group or room) work runs strictly in order; different keys run in parallel on
a small thread pool. Claiming is a compare-and-set UPDATE (status pending and lease free → lease
ours, with a fresh claim token), which is safe with several processes on PostgreSQL and with one
process on SQLite. Only the head (oldest pending row) of each key is ever claimed, so a later event
can never overtake an earlier one; a held or backing-off head holds its key back until it is done
or given up (marked failed after `max_attempts`).

At-least-once with idempotent effects: the inbox row is marked done in the same transaction as the
dialogue step and its outbox rows, guarded by the claim token. A crash before that commit leaves
the row pending; it is taken again when the lease runs out. On SQLite (always one process) the
leases left by a dead process are released at start, so a restart picks the rows up at once.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.line import inbound as line_inbound
from bot.line import outbound as line_outbound
from bot.line.models import InboxEvent, OutboxMessage

log = logging.getLogger(__name__)


class KeyedDispatcher:
    """Runs work items in parallel across keys and strictly in order within a key."""

    def __init__(
        self,
        name: str,
        *,
        find_heads: Callable[[set[str], int], list[tuple[str, int]]],
        run_one: Callable[[int], None],
        wake_event: threading.Event,
        pool_size: int = 4,
        poll_seconds: float = 1.0,
    ) -> None:
        self.name = name
        self.find_heads = find_heads
        self.run_one = run_one
        self.wake_event = wake_event
        self.pool_size = pool_size
        self.poll_seconds = poll_seconds
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix=name)
        self._thread = threading.Thread(target=self._loop, name=f"{name}-dispatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self.wake_event.set()
        self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def idle(self) -> bool:
        with self._lock:
            return not self._inflight

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.wake_event.clear()
            try:
                with self._lock:
                    busy = set(self._inflight)
                free = self.pool_size - len(busy)
                if free > 0:
                    for key, row_id in self.find_heads(busy, free):
                        with self._lock:
                            if key in self._inflight or len(self._inflight) >= self.pool_size:
                                continue
                            self._inflight.add(key)
                        self._pool.submit(self._run, key, row_id)
            except Exception:
                # The database may be briefly unavailable; keep polling rather than dying.
                log.exception("%s: finding work failed", self.name)
                self._stopping.wait(self.poll_seconds)
            self.wake_event.wait(self.poll_seconds)

    def _run(self, key: str, row_id: int) -> None:
        try:
            self.run_one(row_id)
        except Exception:
            log.exception("%s: row %s failed outside its own error handling", self.name, row_id)
        finally:
            with self._lock:
                self._inflight.discard(key)
            self.wake_event.set()


def _heads(session: Session, model, key_col, busy: set[str], limit: int) -> list[tuple[str, int]]:
    """The oldest pending row of each key, if its lease/back-off has run out and the key is not busy."""
    now = utcnow()
    head_ids = (
        select(func.min(model.id).label("id")).where(model.status == "pending").group_by(key_col).subquery()
    )
    stmt = (
        select(key_col, model.id)
        .join(head_ids, model.id == head_ids.c.id)
        .where(or_(model.locked_until.is_(None), model.locked_until < now))
        .order_by(model.id)
        .limit(limit + len(busy))
    )
    return [(k, i) for k, i in session.execute(stmt) if k not in busy][:limit]


def _claim(session: Session, model, row_id: int, lease: timedelta) -> str | None:
    """Compare-and-set: take the row if it is still pending and free. Returns our claim token."""
    now = utcnow()
    token = str(uuid.uuid4())
    result = session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.status == "pending",
            or_(model.locked_until.is_(None), model.locked_until < now),
        )
        .values(locked_until=now + lease, claim_token=token, attempts=model.attempts + 1)
    )
    session.commit()
    return token if result.rowcount == 1 else None


class LineWorker:
    """Inbox processor, outbox sender and the dialogue's timer, sharing one app's resources."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        engine,
        api: line_outbound.LineApi,
        inbox_signal: threading.Event,
        outbox_signal: line_outbound.OutboxSignal,
        pool_size: int = 4,
        inbox_lease: timedelta = timedelta(seconds=120),
        outbox_lease: timedelta = timedelta(seconds=60),
        inbox_max_attempts: int = 5,
        inbox_backoff: tuple[float, float] = (1.0, 60.0),
        outbox_max_attempts: int = 10,
        outbox_backoff: tuple[float, float] = (0.5, 300.0),
        tick_seconds: float = 10.0,
        show_loading: bool = True,
    ) -> None:
        self.session_factory = session_factory
        self.engine = engine
        self.api = api
        self.outbox_signal = outbox_signal
        self.inbox_lease = inbox_lease
        self.outbox_lease = outbox_lease
        self.inbox_max_attempts = inbox_max_attempts
        self.inbox_backoff = inbox_backoff
        self.outbox_max_attempts = outbox_max_attempts
        self.outbox_backoff = outbox_backoff
        self.tick_seconds = tick_seconds
        self.show_loading = show_loading
        self.inbox = KeyedDispatcher(
            "inbox",
            find_heads=self._inbox_heads,
            run_one=self.process_inbox_row,
            wake_event=inbox_signal,
            pool_size=pool_size,
        )
        self.outbox = KeyedDispatcher(
            "outbox",
            find_heads=self._outbox_heads,
            run_one=self.send_outbox_row,
            wake_event=outbox_signal.event,
            pool_size=pool_size,
            poll_seconds=0.5,
        )
        self._stopping = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="dialogue-tick", daemon=True)

    def start(self) -> None:
        self.release_leases_of_dead_process()
        self.inbox.start()
        self.outbox.start()
        self._ticker.start()

    def stop(self) -> None:
        self._stopping.set()
        self.inbox.stop()
        self.outbox.stop()
        self._ticker.join(5)
        self.api.close()

    def release_leases_of_dead_process(self) -> None:
        """SQLite means a single process: any lease still held was held by a process that died."""
        with self.session_factory() as session:
            if session.get_bind().dialect.name != "sqlite":
                return  # other processes may be alive and holding these leases
            for model in (InboxEvent, OutboxMessage):
                session.execute(
                    update(model)
                    .where(model.status == "pending", model.claim_token.is_not(None))
                    .values(locked_until=None, claim_token=None)
                )
            session.commit()

    # -------------------------------------------------------------- inbox

    def _inbox_heads(self, busy: set[str], limit: int) -> list[tuple[str, int]]:
        with self.session_factory() as session:
            return _heads(session, InboxEvent, InboxEvent.source_key, busy, limit)

    def process_inbox_row(self, row_id: int) -> None:
        with self.session_factory() as session:
            token = _claim(session, InboxEvent, row_id, self.inbox_lease)
        if token is None:
            return  # another worker took it, or it is done
        try:
            with self.session_factory() as session:
                row = session.get(InboxEvent, row_id)
                if row is None or row.claim_token != token:
                    return
                ctx = line_inbound.EventContext(
                    engine=self.engine,
                    signal=self.outbox_signal,
                    loading=self.api if self.show_loading else None,
                )
                line_inbound.handle_event(session, dict(row.payload), ctx)
                done = session.execute(
                    update(InboxEvent)
                    .where(InboxEvent.id == row_id, InboxEvent.claim_token == token)
                    .values(
                        status="done",
                        processed_at=utcnow(),
                        locked_until=None,
                        claim_token=None,
                        last_error=None,
                        # The conversation log is the record; the raw event is not kept.
                        payload={"type": row.event_type, "webhookEventId": row.webhook_event_id},
                    )
                )
                if done.rowcount != 1:
                    # Our lease ran out and someone else took the row: their effects win, ours go.
                    session.rollback()
                    log.warning("inbox %s: lease lost, step discarded", row_id)
                    return
                session.commit()
        except Exception as exc:
            log.exception("inbox %s: processing failed", row_id)
            self._inbox_failed(row_id, token, exc)

    def _inbox_failed(self, row_id: int, token: str, exc: Exception) -> None:
        with self.session_factory() as session:
            row = session.get(InboxEvent, row_id)
            if row is None or row.claim_token != token:
                return
            error = f"{type(exc).__name__}: {str(exc)[:500]}"
            if row.attempts >= self.inbox_max_attempts:
                # A poison event must not hold this person's later messages back forever.
                log.error("inbox %s (%s) given up after %s attempts", row_id, row.event_type, row.attempts)
                values = {"status": "failed", "locked_until": None}
            else:
                base, cap = self.inbox_backoff
                delay = line_outbound.backoff_seconds(row.attempts, base=base, cap=cap)
                values = {"locked_until": utcnow() + timedelta(seconds=delay)}
            session.execute(
                update(InboxEvent)
                .where(InboxEvent.id == row_id, InboxEvent.claim_token == token)
                .values(claim_token=None, last_error=error, **values)
            )
            session.commit()
        self.inbox.wake_event.set()

    # -------------------------------------------------------------- outbox

    def _outbox_heads(self, busy: set[str], limit: int) -> list[tuple[str, int]]:
        with self.session_factory() as session:
            return _heads(session, OutboxMessage, OutboxMessage.recipient_key, busy, limit)

    def send_outbox_row(self, row_id: int) -> None:
        with self.session_factory() as session:
            token = _claim(session, OutboxMessage, row_id, self.outbox_lease)
            if token is None:
                return
            row = session.get(OutboxMessage, row_id)
            if row is None:
                return
            session.expunge(row)
        # The HTTP call happens outside any transaction: a slow LINE never holds database locks.
        result = line_outbound.send_row(self.api, row, utcnow())
        with self.session_factory() as session:
            values: dict = {"claim_token": None, "last_error": result.error}
            if result.status == "sent":
                values.update(
                    status="sent",
                    sent_at=utcnow(),
                    sent_via=result.via,
                    line_request_id=result.request_id,
                    locked_until=None,
                )
            elif result.status == "failed" or row.attempts >= self.outbox_max_attempts:
                log.error("outbox %s not delivered: %s", row_id, result.error)
                values.update(status="failed", locked_until=None)
            else:
                base, cap = self.outbox_backoff
                delay = line_outbound.backoff_seconds(row.attempts, base=base, cap=cap)
                values["locked_until"] = utcnow() + timedelta(seconds=delay)
                if not result.keep_reply_token:
                    values["reply_token"] = None
                log.info("outbox %s: retry in %.1fs (%s)", row_id, delay, result.error)
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.claim_token == token)
                .values(**values)
            )
            session.commit()
        if result.status == "retry":
            # Wake up again when the back-off has passed (the poll would also find it).
            timer = threading.Timer(
                (values["locked_until"] - utcnow()).total_seconds() + 0.01, self.outbox.wake_event.set
            )
            timer.daemon = True
            timer.start()

    # -------------------------------------------------------------- dialogue timers

    def _tick_loop(self) -> None:
        while not self._stopping.wait(self.tick_seconds):
            try:
                self.tick_once()
            except Exception:
                log.exception("dialogue tick failed")

    def tick_once(self) -> None:
        from bot.conversations.models import Resident

        with self.session_factory() as session:
            pushes = self.engine.tick(session, utcnow())
            for resident_id, messages in pushes:
                resident = session.get(Resident, resident_id)
                if resident is None or not messages:
                    continue
                line_outbound.enqueue(
                    session,
                    to=resident.line_user_id,
                    outbounds=messages,
                    resident_id=resident_id,
                    signal=self.outbox_signal,
                )
            session.commit()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and benchmarks: until nothing is pending in either table (or timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.session_factory() as session:
                pending = session.scalar(
                    select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "pending")
                ) + session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
                )
            if pending == 0 and self.inbox.idle() and self.outbox.idle():
                return True
            time.sleep(0.05)
        return False
