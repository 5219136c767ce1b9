"""Background work: inbox events → dialogue steps → outbox rows → LINE; plus the dialogue's timers.

Per key (a LINE user, group or room) work runs strictly in order; different keys run in parallel on
a small thread pool. Only the head (oldest pending row) of each key is ever taken, so a later event
can never overtake an earlier one; a head that is backing off after a failure holds its key back
until it succeeds or is given up (marked failed after `max_attempts`, logged) — never forever.

Inbox, at-least-once with idempotent effects: one transaction locks the row (FOR UPDATE SKIP LOCKED
on PostgreSQL, so several worker processes can share the table; SQLite has one process and one
writer), runs the dialogue step, stores its outbox rows and marks the row done. A crash before the
commit leaves the row pending, untouched, and it is taken again — at once after a restart.

Outbox: the HTTP call runs outside any transaction. On PostgreSQL the row is first claimed with a
compare-and-set UPDATE (lease + claim token) so two processes never send it at the same time; a
lease left by a dead process runs out after `outbox_lease`. Pushes carry the row's retry key, so
even a send repeated after a crash is delivered once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import utcnow
from bot.line import inbound as line_inbound
from bot.line import outbound as line_outbound
from bot.line.gate import AckPriority, WriteGate
from bot.line.models import InboxEvent, OutboxMessage

log = logging.getLogger(__name__)

# How long finished inbox/outbox rows are kept (diagnosis of delivery problems), then deleted.
TRANSPORT_RETENTION = timedelta(days=7)
# How often the privacy retention purge runs (unconsented conversations, closed cases' content).
RETENTION_INTERVAL = timedelta(hours=1)


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
        safety_poll_seconds: float = 5.0,
    ) -> None:
        self.name = name
        self.find_heads = find_heads
        self.run_one = run_one
        self.wake_event = wake_event
        self.pool_size = pool_size
        self.poll_seconds = poll_seconds
        # While cross-process notifications flow (bot/notify.py) new work wakes us at once; the
        # poll is then only a safety net (e.g. a lease left by a dead process running out).
        self.safety_poll_seconds = safety_poll_seconds
        self.notified: Callable[[], bool] = lambda: False
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
            self.wake_event.wait(self.safety_poll_seconds if self.notified() else self.poll_seconds)

    def _run(self, key: str, row_id: int) -> None:
        try:
            self.run_one(row_id)
        except Exception:
            log.exception("%s: row %s failed outside its own error handling", self.name, row_id)
        finally:
            with self._lock:
                self._inflight.discard(key)
            self.wake_event.set()


def _heads(
    session: Session, model, key_col, busy: set[str], limit: int, *, spread: bool = False
) -> list[tuple[str, int]]:
    """The oldest pending row of each key, if its lease/back-off has run out and the key is not busy.

    With `spread` (PostgreSQL, several processes) heads that another transaction holds right now
    are skipped (SKIP LOCKED: a step in progress in another process), and the choice is spread over
    twice as many candidates, so processes asking at the same moment rarely pick the same heads —
    losing that race costs a wasted round trip and, before this, made the loser spin until the
    winner committed. Order within a key is unaffected: only heads are ever candidates.
    """
    now = utcnow()
    head_ids = (
        select(func.min(model.id).label("id")).where(model.status == "pending").group_by(key_col).subquery()
    )
    stmt = (
        select(key_col, model.id)
        .join(head_ids, model.id == head_ids.c.id)
        .where(or_(model.locked_until.is_(None), model.locked_until < now))
        .order_by(model.id)
        .limit(limit * (2 if spread else 1) + len(busy))
    )
    if spread:
        stmt = stmt.with_for_update(skip_locked=True, of=model)
    found = [(k, i) for k, i in session.execute(stmt) if k not in busy]
    session.rollback()  # a peek: release the row locks at once
    if spread and len(found) > limit:
        found = sorted(random.sample(found, limit), key=lambda head: head[1])
    return found[:limit]


def _claim(session: Session, model, row_id: int, lease: timedelta):
    """Compare-and-set: take the row if it is still pending and free. Returns the row (with our
    claim token), or None; one round trip (UPDATE … RETURNING) plus the commit."""
    now = utcnow()
    row = session.scalars(
        update(model)
        .where(
            model.id == row_id,
            model.status == "pending",
            or_(model.locked_until.is_(None), model.locked_until < now),
        )
        .values(locked_until=now + lease, claim_token=str(uuid.uuid4()), attempts=model.attempts + 1)
        .returning(model),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    session.commit()
    return row


def _locked(session: Session, stmt):
    """`stmt` taking row locks other processes skip (PostgreSQL); SQLite has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def _lock_pending(session: Session, row_id: int) -> InboxEvent | None:
    """The inbox row, locked for this transaction, if it is still pending and not backing off."""
    stmt = select(InboxEvent).where(
        InboxEvent.id == row_id,
        InboxEvent.status == "pending",
        or_(InboxEvent.locked_until.is_(None), InboxEvent.locked_until < utcnow()),
    )
    return session.scalars(_locked(session, stmt)).one_or_none()


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
        gate: WriteGate | None = None,
        priority: AckPriority | None = None,
        pool_size: int = 4,
        outbox_lease: timedelta = timedelta(seconds=60),
        inbox_max_attempts: int = 5,
        inbox_backoff: tuple[float, float] = (1.0, 60.0),
        outbox_max_attempts: int = 10,
        outbox_backoff: tuple[float, float] = (0.5, 300.0),
        tick_seconds: float = 10.0,
        show_loading: bool = True,
        safety_poll_seconds: float = 5.0,
    ) -> None:
        self.session_factory = session_factory
        self.engine = engine
        self.api = api
        self.outbox_signal = outbox_signal
        self.gate = gate or WriteGate(session_factory.kw["bind"])
        self.priority = priority or AckPriority()
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
            safety_poll_seconds=safety_poll_seconds,
        )
        self.outbox = KeyedDispatcher(
            "outbox",
            find_heads=self._outbox_heads,
            run_one=self.send_outbox_row,
            wake_event=outbox_signal.event,
            pool_size=pool_size,
            poll_seconds=0.5,
            safety_poll_seconds=safety_poll_seconds,
        )
        self._next_retention = utcnow()  # the first tick after a start runs it
        self._stopping = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="dialogue-tick", daemon=True)

    def start(self) -> None:
        self.inbox.start()
        self.outbox.start()
        self._ticker.start()

    def use_notifications(self, connected: Callable[[], bool]) -> None:
        """Poll slowly while `connected()`: NOTIFY wakes the dispatchers when work arrives."""
        self.inbox.notified = connected
        self.outbox.notified = connected

    def stop(self) -> None:
        self._stopping.set()
        self.inbox.stop()
        self.outbox.stop()
        self._ticker.join(5)
        self.api.close()

    # -------------------------------------------------------------- inbox

    def _inbox_heads(self, busy: set[str], limit: int) -> list[tuple[str, int]]:
        with self.session_factory() as session:
            return _heads(
                session, InboxEvent, InboxEvent.source_key, busy, limit, spread=not self.gate.single_writer
            )

    def process_inbox_row(self, row_id: int) -> None:
        self.priority.admit()
        started = time.monotonic()
        try:
            self._process_inbox_row(row_id)
        finally:
            self.priority.step_took(time.monotonic() - started)

    def _process_inbox_row(self, row_id: int) -> None:
        try:
            # SQLite: the typing dots (HTTP) go before the transaction — never while we hold the
            # database's one write lock.
            if self.show_loading and self.gate.single_writer:
                with self.session_factory() as session:
                    row = session.get(InboxEvent, row_id)
                    payload = dict(row.payload) if row is not None and row.status == "pending" else None
                if payload is not None:
                    line_inbound.before_step(payload, self.api)
            with self.gate(), self.session_factory() as session:
                row = _lock_pending(session, row_id)
                if row is None:
                    return  # done, backing off, or another process has it
                if self.show_loading and not self.gate.single_writer:
                    # PostgreSQL: only the process that holds the row shows the dots (once); the
                    # row lock held meanwhile blocks nobody else.
                    line_inbound.before_step(dict(row.payload), self.api)
                ctx = line_inbound.EventContext(engine=self.engine, signal=self.outbox_signal)
                line_inbound.handle_event(session, dict(row.payload), ctx)
                row.status = "done"
                row.attempts += 1
                row.processed_at = utcnow()
                row.locked_until = None
                row.last_error = None
                # The conversation log is the record; the raw event is not kept.
                row.payload = {"type": row.event_type, "webhookEventId": row.webhook_event_id}
                session.commit()
        except Exception as exc:
            log.exception("inbox %s: processing failed", row_id)
            self._inbox_failed(row_id, exc)

    def _inbox_failed(self, row_id: int, exc: Exception) -> None:
        # Columns only: the payload itself may be what cannot be read (e.g. a key that is gone).
        with self.gate(), self.session_factory() as session:
            stmt = select(InboxEvent.attempts, InboxEvent.event_type).where(
                InboxEvent.id == row_id, InboxEvent.status == "pending"
            )
            found = session.execute(_locked(session, stmt)).one_or_none()
            if found is None:
                return
            attempts, event_type = found[0] + 1, found[1]
            values: dict = {"attempts": attempts, "last_error": f"{type(exc).__name__}: {str(exc)[:500]}"}
            if attempts >= self.inbox_max_attempts:
                # A poison event must not hold this person's later messages back forever.
                log.error("inbox %s (%s) given up after %s attempts", row_id, event_type, attempts)
                values.update(status="failed", locked_until=None)
            else:
                base, cap = self.inbox_backoff
                delay = line_outbound.backoff_seconds(attempts, base=base, cap=cap)
                values["locked_until"] = utcnow() + timedelta(seconds=delay)
                self._wake_later(self.inbox.wake_event, delay)
            session.execute(update(InboxEvent).where(InboxEvent.id == row_id).values(**values))
            session.commit()

    @staticmethod
    def _wake_later(event: threading.Event, delay: float) -> None:
        timer = threading.Timer(delay + 0.01, event.set)
        timer.daemon = True
        timer.start()

    # -------------------------------------------------------------- outbox

    def _outbox_heads(self, busy: set[str], limit: int) -> list[tuple[str, int]]:
        with self.session_factory() as session:
            return _heads(
                session,
                OutboxMessage,
                OutboxMessage.recipient_key,
                busy,
                limit,
                spread=not self.gate.single_writer,
            )

    def send_outbox_row(self, row_id: int) -> None:
        self.priority.admit()
        started = time.monotonic()
        try:
            self._send_outbox_row(row_id)
        finally:
            self.priority.step_took(time.monotonic() - started)

    def _send_outbox_row(self, row_id: int) -> None:
        token: str | None = None
        with self.session_factory() as session:
            if not self.gate.single_writer:
                # Several processes may send: take a lease first (its own short transaction).
                row = _claim(session, OutboxMessage, row_id, self.outbox_lease)
                if row is None:
                    return
                token = row.claim_token
            else:
                row = session.get(OutboxMessage, row_id)
                if row is None or row.status != "pending":
                    return
                if row.locked_until is not None and row.locked_until > utcnow():
                    return  # backing off
            session.expunge(row)
        # The HTTP call happens outside any transaction: a slow LINE never holds database locks.
        result = line_outbound.send_row(self.api, row, utcnow())
        attempts = row.attempts if token is not None else row.attempts + 1
        values: dict = {"claim_token": None, "last_error": result.error, "attempts": attempts}
        if result.status == "sent":
            values.update(
                status="sent",
                sent_at=utcnow(),
                sent_via=result.via,
                line_request_id=result.request_id,
                locked_until=None,
            )
        elif result.status == "failed" or attempts >= self.outbox_max_attempts:
            log.error("outbox %s not delivered: %s", row_id, result.error)
            values.update(status="failed", locked_until=None)
        else:
            base, cap = self.outbox_backoff
            delay = line_outbound.backoff_seconds(attempts, base=base, cap=cap)
            values["locked_until"] = utcnow() + timedelta(seconds=delay)
            if not result.keep_reply_token:
                values["reply_token"] = None
            log.info("outbox %s: retry in %.1fs (%s)", row_id, delay, result.error)
            # Wake up again when the back-off has passed (the poll would also find it).
            self._wake_later(self.outbox.wake_event, delay)
        guard = (
            OutboxMessage.claim_token == token
            if token is not None
            else OutboxMessage.status == "pending"  # e.g. not cancelled meanwhile (blocked)
        )
        with self.gate(), self.session_factory() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id, guard).values(**values))
            session.commit()

    # -------------------------------------------------------------- dialogue timers

    def _tick_loop(self) -> None:
        while not self._stopping.wait(self.tick_seconds):
            try:
                self.tick_once()
            except Exception:
                log.exception("dialogue tick failed")

    def tick_once(self) -> None:
        self.purge_transport_records()
        self.run_retention_if_due()
        from bot.conversations.models import Resident

        with self.gate(), self.session_factory() as session:
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

    def purge_transport_records(self) -> int:
        """Inbox and outbox rows are transport records, not the consultation record (that is the
        conversation log): finished ones are deleted after TRANSPORT_RETENTION. Retry keys are only
        valid for 24 h at LINE, so nothing older is ever needed for de-duplication."""
        cutoff = utcnow() - TRANSPORT_RETENTION
        with self.gate(), self.session_factory() as session:
            n = session.execute(
                delete(InboxEvent).where(InboxEvent.status != "pending", InboxEvent.received_at < cutoff)
            ).rowcount
            n += session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.status != "pending", OutboxMessage.created_at < cutoff
                )
            ).rowcount
            session.commit()
        return n or 0

    def run_retention_if_due(self) -> dict[str, int] | None:
        """Hourly (per process; running it twice is harmless): the city's retention periods."""
        now = utcnow()
        city = getattr(self.engine, "city", None)
        if city is None or now < self._next_retention:
            return None
        self._next_retention = now + RETENTION_INTERVAL
        from bot.line.service import run_retention

        with self.gate(), self.session_factory() as session:
            counts = run_retention(session, now=now, city=city)
            session.commit()
        if any(counts.values()):
            log.info("retention purge: %s", counts)
        return counts

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
