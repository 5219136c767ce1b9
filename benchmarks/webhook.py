"""Webhook benchmark: ack latency and throughput of POST /callback, and event → first reply latency.

Starts the real app in its own process (uvicorn, SQLite file or PostgreSQL), a fake LINE Messaging
API (tests/support/fake_line.py, real HTTP) in a third process, and sends signed text events over
loopback at a fixed rate (open loop: the schedule does not wait for slow answers) from N concurrent
connections. Bounded: it sends exactly rate × duration events and stops.

    .venv/bin/python benchmarks/webhook.py                       # SQLite, 300 events/s for 10 s
    .venv/bin/python benchmarks/webhook.py --db postgres --rate 300 --duration 10 --senders 16

Writes benchmarks/results/webhook.md (appends a row per run) and prints the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.support import events as ev  # noqa: E402
from tests.support.fixtures import AppProcess, free_port, process_env  # noqa: E402

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESULTS = REPO / "benchmarks" / "results" / "webhook.md"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def prepare_bodies(*, count: int, users: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """Signed webhook bodies (reply token, body, headers), made up front so the generator spends its
    CPU on sending. Events cycle over `users` distinct LINE users."""
    user_ids = [ev.new_user_id() for _ in range(users)]
    prepared = []
    for i in range(count):
        token = uuid.uuid4().hex
        body = ev.webhook_body(
            [ev.text_event(user_ids[i % users], f"相談のメッセージ {i}", reply_token=token)]
        )
        prepared.append(
            (token, body, {"Content-Type": "application/json", "X-Line-Signature": ev.sign(body)})
        )
    return prepared


async def send_paced(one, *, total: int, rate: float) -> float:
    """Start `one(i)` for i in 0..total-1 at `rate` per second (open loop: a slow answer never
    delays the next send), wait for all, and return the elapsed seconds."""
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


class Recorder:
    """Sends prepared events through `post` (at most `senders` at once) and records, per measured
    event, the send time by token, the ack latency and the HTTP status."""

    def __init__(self, prepared: list[tuple[str, bytes, dict[str, str]]], *, senders: int, post) -> None:
        self.prepared = prepared
        self.post = post  # async (i, body, headers) -> HTTP status
        self.sem = asyncio.Semaphore(senders)
        self.acks: list[float] = []
        self.statuses: dict[int, int] = {}
        self.sent_at: dict[str, float] = {}

    async def one(self, i: int, measure: bool = True) -> None:
        token, body, headers = self.prepared[i]
        async with self.sem:
            t0 = time.perf_counter()
            if measure:
                self.sent_at[token] = time.time()
            status = await self.post(i, body, headers)
            if measure:
                self.acks.append(time.perf_counter() - t0)
        if measure:
            self.statuses[status] = self.statuses.get(status, 0) + 1


async def send_load(base_url: str, *, rate: float, duration: float, senders: int, users: int):
    total = int(rate * duration)
    prepared = prepare_bodies(count=total + 20, users=users)
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:

        async def post(i: int, body: bytes, headers: dict[str, str]) -> int:
            return (await client.post("/callback", content=body, headers=headers)).status_code

        rec = Recorder(prepared, senders=senders, post=post)
        # Warm-up (connections, first queries), not measured.
        await asyncio.gather(*(rec.one(total + i, measure=False) for i in range(20)))

        elapsed = await send_paced(rec.one, total=total, rate=rate)
    return rec.acks, rec.statuses, rec.sent_at, elapsed, total


class FakeLineProcess:
    """The fake Messaging API in its own process, so its work does not slow the load generator."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fake_line", str(self.port)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base_url + "/__fake/requests", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("fake LINE server did not start")

    def requests(self) -> list[dict]:
        return httpx.get(self.base_url + "/__fake/requests", timeout=30).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self._log.close()


def first_reply_latencies(fake: FakeLineProcess, sent_at: dict[str, float], timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        replies = [r for r in fake.requests() if r["path"] == "/v2/bot/message/reply" and r["status"] == 200]
        answered = {r["replyToken"]: r["at"] for r in replies}
        if all(t in answered for t in sent_at) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    latencies = [answered[t] - sent for t, sent in sent_at.items() if t in answered]
    # Events whose reply token went stale in the backlog are answered by push instead.
    pushed = sum(1 for r in fake.requests() if r["path"] == "/v2/bot/message/push" and r["status"] == 200)
    return latencies, len(sent_at) - len(latencies), pushed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to show cost per event on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_schema() -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_postgres_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, default=300.0, help="events per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    parser.add_argument("--senders", type=int, default=16, help="concurrent connections")
    parser.add_argument("--users", type=int, default=200, help="distinct LINE users")
    parser.add_argument("--nlp", action="store_true", help="load the full NLP model in the app")
    parser.add_argument(
        "--no-worker", action="store_true", help="ack path only: events are stored, not processed"
    )
    parser.add_argument(
        "--ack-priority-share",
        type=float,
        default=None,
        help="pause after each worker step under ack pressure, × step time (0 = off; app default 3)",
    )
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    schema = None
    if args.db == "postgres":
        schema, db_url = postgres_schema()
    else:
        db_url = f"sqlite:///{tmp / 'bench.db'}"
    fake = FakeLineProcess(tmp / "fake.log")
    env = process_env(db_url, tmp / "var", None, CONSULT_LOAD_NLP="true" if args.nlp else "false")
    env.update(
        LINE_CHANNEL_SECRET=ev.TEST_CHANNEL_SECRET,
        LINE_CHANNEL_ACCESS_TOKEN=ev.TEST_ACCESS_TOKEN,
        LINE_API_BASE_URL=fake.base_url,
    )
    env["CONSULT_TEST_FAST_RETRIES"] = "0"
    if args.no_worker:
        env["CONSULT_RUN_WORKER"] = "false"
    if args.ack_priority_share is not None:
        env["CONSULT_TEST_ACK_PRIORITY_SHARE"] = str(args.ack_priority_share)
    app = AppProcess(env, log_path=tmp / "app.log")
    try:
        app.wait_ready(timeout=180)
        cpu_before = cpu_seconds(app.proc.pid)
        load_before = os.getloadavg()[0]
        acks, statuses, sent_at, elapsed, total = asyncio.run(
            send_load(
                app.base_url,
                rate=args.rate,
                duration=args.duration,
                senders=args.senders,
                users=args.users,
            )
        )
        e2e, unanswered, pushed = (
            ([], 0, 0) if args.no_worker else first_reply_latencies(fake, sent_at, timeout=180)
        )
        app_cpu_ms = (cpu_seconds(app.proc.pid) - cpu_before) * 1000 / max(1, total)
        load_after = os.getloadavg()[0]
    finally:
        app.kill()
        fake.stop()
        if schema:
            drop_postgres_schema(schema)

    ms = [a * 1000 for a in acks]
    e2e_ms = [x * 1000 for x in e2e]
    row = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "db": args.db,
        "nlp": "full" if args.nlp else "rules only",
        "worker": "off" if args.no_worker else "on",
        "ack priority": "-"
        if args.no_worker
        else f"{args.ack_priority_share if args.ack_priority_share is not None else 3:g}",
        "target/s": f"{args.rate:g}",
        "senders": args.senders,
        "events": total,
        "acked/s": f"{len(acks) / elapsed:.0f}",
        "non-200": sum(n for s, n in statuses.items() if s != 200),
        "ack p50 ms": f"{percentile(ms, 50):.1f}",
        "ack p95 ms": f"{percentile(ms, 95):.1f}",
        "ack p99 ms": f"{percentile(ms, 99):.1f}",
        "ack max ms": f"{max(ms):.1f}",
        "1st reply p50 ms": f"{percentile(e2e_ms, 50):.0f}",
        "1st reply p95 ms": f"{percentile(e2e_ms, 95):.0f}",
        "1st reply p99 ms": f"{percentile(e2e_ms, 99):.0f}",
        "not by reply": unanswered,
        "pushes": pushed,
        "app CPU ms/event": f"{app_cpu_ms:.2f}",
        "load avg before/after": f"{load_before:.1f}/{load_after:.1f}",
    }
    width = max(len(k) for k in row)
    for k, v in row.items():
        print(f"{k:>{width}}  {v}")
    if statistics.mean(ms) and not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        header = "| " + " | ".join(row) + " |\n|" + "---|" * len(row) + "\n"
        if not RESULTS.exists():
            RESULTS.write_text(
                "# Webhook benchmark (benchmarks/webhook.py)\n\n"
                f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
                "App in its own process (uvicorn, one worker process with its inbox/outbox threads), "
                "fake LINE API and load generator in another; loopback only. Ack = POST /callback "
                "answered (events durably stored); 1st reply = event sent → the fake LINE API "
                "receives the reply.\n\n" + header
            )
        with RESULTS.open("a") as f:
            f.write("| " + " | ".join(str(v) for v in row.values()) + " |\n")
    return 0 if not row["non-200"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
