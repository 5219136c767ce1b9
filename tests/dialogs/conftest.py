"""Dialogue fixtures: the real analyzer (loaded once), the sample city, and a `chat` driver.

`chat` plays one resident against the real Engine on the real database (SQLite and PostgreSQL),
one unit of work per message exactly like the transport: handle(), then commit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from dialog_clock import AFTER_HOURS, HOLIDAY, OFFICE_HOURS  # noqa: F401

from bot.city import load_city
from bot.conversations import service as conversations
from bot.conversations.models import Resident
from bot.engine import Engine
from bot.messages import Inbound, Outbound
from bot.settings import SAMPLE_CITY_FILE


@pytest.fixture(autouse=True)
def _only_listed_transitions(caplog):
    """Every dialogue test also checks that each step took a transition in the machine's table."""
    yield
    stray = [r.getMessage() for r in caplog.records if "not in the table" in r.getMessage()]
    assert not stray, stray


@pytest.fixture(scope="session")
def analyzer():
    import nlp

    # DIALOG_NLP_MODEL_DIR lets a developer point at another trained model (or an empty
    # directory: keyword rules only) while the shipped model is being retrained.
    return nlp.load(os.environ.get("DIALOG_NLP_MODEL_DIR") or None)


@pytest.fixture(scope="session")
def city():
    return load_city(SAMPLE_CITY_FILE)


@pytest.fixture
def engine(analyzer, city):
    return Engine(analyzer=analyzer, city=city)


@dataclass
class Reply:
    messages: list[Outbound]
    state: str | None

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages if m.text is not None]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[str]:
        return [q.label for m in self.messages for q in m.quick_replies]

    @property
    def flexes(self) -> list[dict]:
        return [m.flex for m in self.messages if m.flex is not None]

    def button_data(self, label: str) -> str:
        for m in self.messages:
            for q in m.quick_replies:
                if q.label == label:
                    return q.data or q.text or label
        raise AssertionError(f"no button {label!r} in {self.buttons}")


@dataclass
class Chat:
    session_factory: object
    engine: Engine
    resident_id: int
    now: datetime
    last: Reply | None = None
    log: list[tuple[str, Reply]] = field(default_factory=list)
    line_user_id: str = ""

    def _run(self, inbound: Inbound, *, advance: timedelta) -> Reply:
        self.now = self.now + advance
        with self.session_factory() as session:
            if self.line_user_id and session.get(Resident, self.resident_id) is None:
                # 削除 deleted the resident; like the transport, the next message makes a new one.
                self.resident_id = conversations.resident_for_line_user(
                    session, line_user_id=self.line_user_id
                ).id
            fields = {**inbound.__dict__, "at": self.now, "resident_id": self.resident_id}
            out = self.engine.handle(session, inbound.__class__(**fields))
            conv = conversations.active_conversation(session, resident_id=self.resident_id)
            session.commit()
            state = conv.state if conv is not None else None
        self.last = Reply(out, state)
        self.log.append((inbound.text or inbound.data or inbound.kind, self.last))
        return self.last

    def _inbound(self, kind: str, **kw) -> Inbound:
        return Inbound(resident_id=self.resident_id, kind=kind, at=self.now, **kw)

    def say(self, text: str, *, advance: timedelta = timedelta(seconds=20)) -> Reply:
        return self._run(self._inbound("text", text=text), advance=advance)

    def tap(self, label: str, *, advance: timedelta = timedelta(seconds=5)) -> Reply:
        """Tap a quick-reply button of the last reply (postback with its data)."""
        assert self.last is not None, "nothing to tap yet"
        data = self.last.button_data(label)
        return self._run(self._inbound("postback", data=data, text=None), advance=advance)

    def postback(self, data: str, *, advance: timedelta = timedelta(seconds=5)) -> Reply:
        return self._run(self._inbound("postback", data=data), advance=advance)

    def follow(self, *, advance: timedelta = timedelta(seconds=1)) -> Reply:
        return self._run(self._inbound("follow"), advance=advance)

    def unfollow(self) -> Reply:
        return self._run(self._inbound("unfollow"), advance=timedelta(seconds=1))

    def sticker(self) -> Reply:
        return self._run(self._inbound("media", media_type="sticker"), advance=timedelta(seconds=5))

    def tick(self, *, advance: timedelta) -> list[tuple[int, list[Outbound]]]:
        self.now = self.now + advance
        with self.session_factory() as session:
            pushes = self.engine.tick(session, self.now)
            session.commit()
        return pushes

    def conversation(self):
        with self.session_factory() as session:
            return conversations.active_conversation(session, resident_id=self.resident_id)


@pytest.fixture
def make_chat(session_factory, engine):
    counter = {"n": 0}

    def _make(*, now: datetime = OFFICE_HOURS, engine_: Engine | None = None) -> Chat:
        counter["n"] += 1
        with session_factory() as session:
            line_user_id = f"U{counter['n']:032x}"
            resident = conversations.resident_for_line_user(session, line_user_id=line_user_id)
            session.commit()
            rid = resident.id
        return Chat(
            session_factory=session_factory,
            engine=engine_ or engine,
            resident_id=rid,
            now=now,
            line_user_id=line_user_id,
        )

    return _make


@pytest.fixture
def chat(make_chat) -> Chat:
    return make_chat()


# --- the whole path: webhook → inbox → worker → this engine → outbox → fake Messaging API ------

from tests.support.fixtures import app_client, fake_line, line, line_settings, make_app  # noqa: E402, F401


@pytest.fixture
def line_app(line_settings, analyzer):  # noqa: F811 (the shared fixture, with the real analyzer)
    return make_app(line_settings, analyzer=analyzer)
