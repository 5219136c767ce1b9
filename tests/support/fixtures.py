"""Pytest fixtures for driving the whole app over the real LINE path. Import them in your part's
conftest.py (pytest only allows `pytest_plugins` in the root conftest):

    from tests.support.fixtures import app_client, fake_line, line, line_app, line_settings  # noqa: F401

Then:

- `fake_line`: a FakeLine (real HTTP, strict like LINE) the app sends to.
- `line_settings`: Settings for the app on `db_url` (both databases), pointed at `fake_line`, NLP off.
  Override this fixture to change settings (e.g. `make_settings(db_url, fake_line, tmp_path, load_nlp=True)`).
- `line_app`: the FastAPI app (schema created); `app_client`: a TestClient with the app's lifespan
  running (workers started). `LineDriver(app_client, fake_line)` (fixture `line`) sends a resident's
  words and waits for the bot's answer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.main import create_app
from bot.migrate import MIGRATIONS, upgrade
from bot.settings import Settings
from tests.support import events as ev
from tests.support.fake_line import FakeLine

TEST_SECRET_KEY = "test-only-secret-key-0123456789abcdef-0123456789"


def make_settings(db_url: str, fake_line: FakeLine | None, var_dir, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": db_url,
        "LINE_CHANNEL_SECRET": ev.TEST_CHANNEL_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": ev.TEST_ACCESS_TOKEN,
        "CONSULT_SECRET_KEY": TEST_SECRET_KEY,
        "CONSULT_VAR_DIR": var_dir,
        "CONSULT_LOAD_NLP": False,
    }
    if fake_line is not None:
        values["LINE_API_BASE_URL"] = fake_line.base_url
    aliases = {
        "load_nlp": "CONSULT_LOAD_NLP",
        "run_worker": "CONSULT_RUN_WORKER",
        "database_url": "DATABASE_URL",
        "line_api_base_url": "LINE_API_BASE_URL",
    }
    for key, value in overrides.items():
        values[aliases.get(key, key)] = value
    return Settings(**values)


def ensure_schema(url: str) -> None:
    upgrade(url)
    if not any((MIGRATIONS / "versions").glob("*.py")):
        # Until the first Alembic revision is cut, the models are the schema.
        from bot.db import Base, import_all_models, make_engine

        import_all_models()
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()


@functools.cache
def light_analyzer():
    """The real nlp.Analyzer without the trained model and NER: rule-based risk, fast to load.

    Enough for transport tests (the dialogue needs *an* analyzer); tests of triage quality load
    the full model with `load_nlp=True` instead.
    """
    import tempfile

    import nlp

    return nlp.load(tempfile.mkdtemp(prefix="no-model-"), ner=False)


def make_app(settings: Settings, *, fast_retries: bool = True, analyzer=None) -> FastAPI:
    """create_app on a migrated database. `fast_retries` shortens back-off so tests don't wait.

    Without `load_nlp`, the app gets `analyzer` (default: `light_analyzer()`).
    """
    ensure_schema(settings.effective_database_url)
    app = create_app(settings)
    if not settings.load_nlp:
        app.state.analyzer = analyzer or light_analyzer()
    if fast_retries:
        app.state.line_worker_options = {
            "inbox_backoff": (0.05, 0.2),
            "outbox_backoff": (0.05, 0.3),
            "api_timeout": 1.0,
            "tick_seconds": 0.5,
        }
    return app


@pytest.fixture
def fake_line() -> Iterator[FakeLine]:
    fake = FakeLine().start()
    yield fake
    fake.stop()


@pytest.fixture
def line_settings(db_url, fake_line, tmp_path) -> Settings:
    return make_settings(db_url, fake_line, tmp_path / "var")


@pytest.fixture
def line_app(line_settings) -> FastAPI:
    return make_app(line_settings)


@pytest.fixture
def app_client(line_app) -> Iterator[TestClient]:
    with TestClient(line_app) as client:
        yield client


class LineDriver:
    """A resident talking to the bot through the real webhook, and what LINE delivered back."""

    def __init__(self, client: TestClient, fake: FakeLine) -> None:
        self.client = client
        self.fake = fake

    @property
    def worker(self):
        return self.client.app.state.line_worker

    def send(self, events: list[dict[str, Any]]) -> None:
        response = ev.post_webhook(self.client, events)
        assert response.status_code == 200, response.text

    def say(self, user_id: str, text: str, *, wait: bool = True) -> list[dict[str, Any]]:
        """Send text with a fresh reply token; return the messages delivered to the user since."""
        before = len(self.fake.delivered(user_id))
        token = self.fake.issue_reply_token(user_id=user_id)
        self.send([ev.text_event(user_id, text, reply_token=token)])
        if wait:
            self.settle()
        return self.fake.delivered(user_id)[before:]

    def postback(self, user_id: str, data: str) -> list[dict[str, Any]]:
        before = len(self.fake.delivered(user_id))
        token = self.fake.issue_reply_token(user_id=user_id)
        self.send([ev.postback_event(user_id, data, reply_token=token)])
        self.settle()
        return self.fake.delivered(user_id)[before:]

    def follow(self, user_id: str) -> list[dict[str, Any]]:
        before = len(self.fake.delivered(user_id))
        token = self.fake.issue_reply_token(user_id=user_id)
        self.send([ev.follow_event(user_id, reply_token=token)])
        self.settle()
        return self.fake.delivered(user_id)[before:]

    def settle(self, timeout: float = 15.0) -> None:
        assert self.worker.wait_idle(timeout), "inbox/outbox still busy"


@pytest.fixture
def line(app_client, fake_line) -> LineDriver:
    return LineDriver(app_client, fake_line)
