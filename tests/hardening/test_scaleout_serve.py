"""`consult-bot serve --workers N` as an operator runs it: real console-script processes on one
PostgreSQL, the full NLP model, signed webhooks over real HTTP, the fake LINE API. Also the split
shape (web processes without background work + a separate `consult-bot worker`), and the refusal
on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.line.models import InboxEvent, OutboxMessage
from tests.hardening.test_scaleout import _post, _resident_texts, _wait_done
from tests.support import events as ev
from tests.support.fixtures import REPO_ROOT, ensure_schema, free_port, make_app, make_settings, process_env

CONSULT_BOT = Path(sys.executable).with_name("consult-bot")


def inherited_env() -> dict[str, str]:
    ours = ("LINE_", "CONSULT_", "DATABASE_")  # the caller's own settings must not leak in
    return {k: v for k, v in os.environ.items() if not k.startswith(ours)}


def console_env(db_url: str, var_dir: Path, fake_line, **extra: str) -> dict[str, str]:
    env = process_env(db_url, var_dir, fake_line, CONSULT_LOAD_NLP="true", **extra)
    env.pop("CONSULT_TEST_FAST_RETRIES")
    return {**inherited_env(), **env}


class Console:
    """One `consult-bot …` process (own process group, so its children go with it); `argv` is the
    command line after `consult-bot`, or a whole command line when it starts with the interpreter."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args if args[0] == sys.executable else [str(CONSULT_BOT), *args],
            env=env,
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


def wait_healthy(base_url: str, proc: Console, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.proc.poll() is None, proc.log()
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(proc.log())


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _refused(env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(CONSULT_BOT), "serve", "--workers", "2", "--port", str(free_port())],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    return done.stderr


def test_serve_workers_refuses_sqlite(tmp_path, fake_line):
    stderr = _refused(console_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "var", fake_line))
    assert "PostgreSQL" in stderr and "SQLite" in stderr


@pytest.mark.postgres
def test_serve_workers_refuses_the_in_memory_simulator(postgres_url, tmp_path):
    assert "simulator" in _refused(console_env(postgres_url, tmp_path / "var", None))


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("shape", ["serve --workers 3", "serve --workers 2 --no-background + worker"])
def test_serve_workers_share_the_work_in_order(shape, postgres_url, fake_line, tmp_path):
    ensure_schema(postgres_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = console_env(postgres_url, tmp_path / "var", fake_line)
    procs: list[Console] = []
    web_workers = 3 if shape == "serve --workers 3" else 2
    args = ["serve", "--port", str(port), "--workers", str(web_workers)]
    if "--no-background" in shape:
        args.append("--no-background")
    procs.append(Console(args, env, tmp_path / "serve.log"))
    probe = make_app(make_settings(postgres_url, fake_line, tmp_path / "var"))  # reads only
    users = [ev.new_user_id() for _ in range(5)]
    rounds = 6
    try:
        wait_healthy(base_url, procs[0])
        assert len(_children(procs[0].proc.pid)) >= web_workers, "one web process per worker"
        if "+ worker" in shape:
            # The web processes store events but must not process them.
            with httpx.Client() as client:
                u = ev.new_user_id()
                first = ev.text_event(u, "こんにちは", reply_token=fake_line.issue_reply_token(user_id=u))
                assert _post(client, base_url, [first]) == 200
            time.sleep(2)
            with probe.state.session_factory() as s:
                assert s.scalar(select(InboxEvent.status)) == "pending"
            procs.append(Console(["worker", "--nice", "10"], env, tmp_path / "worker.log"))
            users.append(u)
            assert fake_line.wait_for(lambda: fake_line.delivered(u), timeout=120), procs[-1].log()
            assert os.getpriority(os.PRIO_PROCESS, procs[-1].proc.pid) == 10
        # No keep-alive: every request is a new connection, so the kernel spreads them over the
        # processes and one user's consecutive events land on different ones.
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            for i in range(rounds):
                for u in users:
                    event = ev.text_event(u, f"{i}番目", reply_token=fake_line.issue_reply_token(user_id=u))
                    assert _post(client, base_url, [event]) == 200
        _wait_done(probe, rounds * len(users) + (1 if "+ worker" in shape else 0), timeout=180)
    finally:
        for p in procs:
            p.stop()
    with probe.state.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.attempts != 1)) == 0
        for u in users:
            texts = _resident_texts(s, u)
            assert [t for t in texts if t.endswith("番目")] == [f"{i}番目" for i in range(rounds)]
        rows = s.scalars(select(OutboxMessage)).all()
    assert rows and {r.status for r in rows} == {"sent"}
    assert len(fake_line.accepted()) == len(rows), "each message accepted once"
    for p in procs:
        for failure in ("processing failed", "not delivered", "finding work failed"):
            assert failure not in p.log(), p.log()
