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
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.main import create_app
from bot.migrate import upgrade
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
    """Bring the database to the migrations' head, exactly as `consult-bot serve` does."""
    upgrade(url)


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
            "api_timeout": 3.0,
            "tick_seconds": 0.5,
            # A test that kills a process mid-send must not wait a production-length lease.
            "outbox_lease": timedelta(seconds=5),
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


# ---------------------------------------------------------------- the app in a subprocess

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`python -m tests.support.serve_app` on a free port; `kill()` is SIGKILL (no clean shutdown)."""

    def __init__(self, env: dict[str, str], *, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        ours = ("LINE_", "CONSULT_", "DATABASE_")  # the caller's own settings must not leak in
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        full_env = {**inherited, "PYTHONPATH": str(REPO_ROOT), **env}
        full_env.setdefault("CONSULT_PUBLIC_BASE_URL", self.base_url)
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.serve_app", "--port", str(self.port)],
            env=full_env,
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = log_path

    def wait_ready(self, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("app process exited:\n" + self.log_path.read_text(errors="replace"))
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("app process not ready:\n" + self.log_path.read_text(errors="replace"))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._log.close()

    stop = kill


def process_env(db_url: str, var_dir: Path, fake_line: FakeLine | None, **extra: str) -> dict[str, str]:
    """Environment for AppProcess: the test channel (or simulator mode when fake_line is None)."""
    env = {
        "DATABASE_URL": db_url,
        "CONSULT_VAR_DIR": str(var_dir),
        "CONSULT_SECRET_KEY": TEST_SECRET_KEY,
        "CONSULT_LOAD_NLP": "false",
        "CONSULT_TEST_FAST_RETRIES": "1",
    }
    if fake_line is not None:
        env.update(
            LINE_CHANNEL_SECRET=ev.TEST_CHANNEL_SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=ev.TEST_ACCESS_TOKEN,
            LINE_API_BASE_URL=fake_line.base_url,
        )
    env.update(extra)
    return env
