"""Worker parts: the SQLite write gate lets the webhook go first; old transport rows are purged."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from bot.db import make_engine, utcnow
from bot.line.gate import WriteGate
from bot.line.models import InboxEvent, OutboxMessage
from bot.worker import TRANSPORT_RETENTION
from tests.support import events as ev


def test_write_gate_serves_the_webhook_before_waiting_worker_steps(tmp_path):
    gate = WriteGate(make_engine(f"sqlite:///{tmp_path}/g.db"))
    order: list[str] = []
    holding = threading.Event()

    def hold():
        with gate():
            holding.set()
            time.sleep(0.3)
            order.append("holder")

    def run(name: str, urgent: bool):
        with gate(urgent=urgent):
            order.append(name)

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    holding.wait(5)
    for name, urgent in (("step-1", False), ("step-2", False), ("webhook", True)):
        t = threading.Thread(target=run, args=(name, urgent))
        t.start()
        threads.append(t)
        time.sleep(0.05)  # make sure each is waiting before the next arrives
    for t in threads:
        t.join(5)
    assert order[:2] == ["holder", "webhook"]
    assert sorted(order[2:]) == ["step-1", "step-2"]


def test_gate_does_nothing_on_postgresql():
    from bot.db import make_engine as mk

    gate = WriteGate(mk("postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    assert not gate.single_writer
    with gate(), gate(urgent=True):  # re-entrant because it is a no-op
        pass


def test_finished_transport_rows_are_purged_after_retention(line, fake_line):
    user = ev.new_user_id()
    line.say(user, "こんにちは")
    line.say(user, "もうひとつ")
    app = line.client.app
    old = utcnow() - TRANSPORT_RETENTION - timedelta(hours=1)
    with app.state.session_factory() as s:
        first_inbox = s.scalars(select(InboxEvent).order_by(InboxEvent.id)).first()
        first_inbox.received_at = old
        for row in s.scalars(select(OutboxMessage)):
            row.created_at = old
        s.commit()
    assert app.state.line_worker.purge_transport_records() >= 2
    with app.state.session_factory() as s:
        assert len(s.scalars(select(InboxEvent)).all()) == 1
        assert s.scalars(select(OutboxMessage)).all() == []
