"""Scale-out load benchmark: N app processes on one PostgreSQL, sustained events/s and latencies.

For each process count (default 1, 2 and 4) it starts N real app processes (uvicorn, each with its
inbox/outbox workers) on a fresh PostgreSQL schema, a fake LINE Messaging API in its own process,
and sends signed text events at a fixed offered rate (open loop), spread round-robin over the
processes, then waits until every event is processed and answered. Loopback only, bounded
(rate × duration events per run).

Measures: ack latency (POST /callback answered = stored), first-reply latency (event sent → the
fake LINE API receives its reply), and sustained processing throughput (events / time from the
first send until the inbox and outbox are empty).

    .venv/bin/python benchmarks/load.py                          # 1, 2, 4 processes, 150/s for 10 s
    .venv/bin/python benchmarks/load.py --procs 1 2 --rate 300 --duration 10 --no-worker
    .venv/bin/python benchmarks/load.py --procs 1 --split 1 --rate 300 --repeat 3

`--split W`: the N processes only serve HTTP (CONSULT_RUN_WORKER=false) and W more processes run
the background work at a lower CPU priority (`--nice`, like `consult-bot worker --nice`), woken by
NOTIFY. `--repeat K` runs every setting K times and adds a median row (the machine is shared).

Writes benchmarks/results/load.md (a table row per run plus an ASCII curve) and prints the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from webhook import (  # noqa: E402
    FakeLineProcess,
    Recorder,
    cpu_seconds,
    drop_postgres_schema,
    percentile,
    postgres_schema,
    prepare_bodies,
    send_paced,
)

from tests.support import events as ev  # noqa: E402
from tests.support.fixtures import AppProcess, ensure_schema, process_env  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "load.md"


class RawPool:
    """Keep-alive HTTP/1.1 connections to one server, each request written as prepared bytes.

    httpx costs the generator ~1–2 ms of CPU per request; on a shared 2-core machine that made the
    load generator itself the bottleneck it was measuring. This costs ~0.1 ms."""

    def __init__(self, url: str, size: int) -> None:
        host_port = url.split("://", 1)[1].rstrip("/")
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.size = size
        self.idle: asyncio.Queue = asyncio.Queue()

    async def open(self) -> RawPool:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))
        return self

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        reader, writer = await self.idle.get()
        try:
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            lines = answer.decode("latin-1").split("\r\n")
            length = next(
                int(v) for k, _, v in (x.partition(":") for x in lines) if k.lower() == "content-length"
            )
            await reader.readexactly(length)
            return int(lines[0].split(" ", 2)[1])
        finally:
            self.idle.put_nowait((reader, writer))

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()


async def offer_load(urls: list[str], *, rate: float, duration: float, senders: int, users: int):
    total = int(rate * duration)
    prepared = prepare_bodies(count=total + 20 * len(urls), users=users)
    pools = [await RawPool(url, senders).open() for url in urls]
    try:

        async def post(i: int, body: bytes, headers: dict[str, str]) -> int:
            return await asyncio.wait_for(pools[i % len(pools)].post("/callback", body, headers), 30)

        rec = Recorder(prepared, senders=senders, post=post)
        await asyncio.gather(*(rec.one(total + i, measure=False) for i in range(20 * len(urls))))
        start_wall = time.time()
        elapsed = await send_paced(rec.one, total=total, rate=rate)
    finally:
        for pool in pools:
            await pool.close()
    return rec.acks, rec.statuses, rec.sent_at, elapsed, total, start_wall


def wait_drained(db_url: str, timeout: float) -> float | None:
    """Wall time when nothing is pending any more (inbox and outbox), or None on timeout."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM inbox_events WHERE status = 'pending')"
                        " + (SELECT count(*) FROM outbox_messages WHERE status = 'pending')"
                    )
                ).scalar_one()
            if pending == 0:
                return time.time()
            time.sleep(0.2)
    finally:
        engine.dispose()
    return None


def reply_latencies(fake: FakeLineProcess, sent_at: dict[str, float]) -> tuple[list[float], int]:
    reqs = fake.requests()
    answered = {
        r["replyToken"]: r["at"] for r in reqs if r["path"] == "/v2/bot/message/reply" and r["status"] == 200
    }
    lat = [answered[t] - s for t, s in sent_at.items() if t in answered]
    return lat, len(sent_at) - len(lat)


def run(n_procs: int, args, tmp: Path) -> dict:
    schema, db_url = postgres_schema()
    ensure_schema(db_url)
    fake = FakeLineProcess(tmp / f"fake-{n_procs}.log")
    # The fake stands for LINE's servers, which are not on our machine: it gets what CPU is left.
    os.setpriority(os.PRIO_PROCESS, fake.proc.pid, args.nice)
    env = process_env(db_url, tmp / "var", None, CONSULT_LOAD_NLP="false")
    env.update(
        LINE_CHANNEL_SECRET=ev.TEST_CHANNEL_SECRET,
        LINE_CHANNEL_ACCESS_TOKEN=ev.TEST_ACCESS_TOKEN,
        LINE_API_BASE_URL=fake.base_url,
        CONSULT_TEST_FAST_RETRIES="0",
    )
    web_env = dict(env)
    if args.no_worker or args.split:
        web_env["CONSULT_RUN_WORKER"] = "false"
    procs = [AppProcess(web_env, log_path=tmp / f"app-{n_procs}-{i}.log") for i in range(n_procs)]
    # Background-only processes: no traffic is sent to their HTTP port.
    # Like `consult-bot worker`: no webhook to yield to, so no ack-priority pauses.
    worker_env = {**env, "CONSULT_TEST_ACK_PRIORITY_SHARE": "0"}
    workers = [AppProcess(worker_env, log_path=tmp / f"worker-{n_procs}-{i}.log") for i in range(args.split)]
    try:
        for p in procs + workers:
            p.wait_ready(timeout=180)
        for w in workers:
            os.setpriority(os.PRIO_PROCESS, w.proc.pid, args.nice)
        cpu_before = sum(cpu_seconds(p.proc.pid) for p in procs + workers)
        load_before = os.getloadavg()[0]
        gen_before = time.process_time()
        acks, statuses, sent_at, elapsed, total, start_wall = asyncio.run(
            offer_load(
                [p.base_url for p in procs],
                rate=args.rate,
                duration=args.duration,
                senders=args.senders,
                users=args.users,
            )
        )
        gen_ms = (time.process_time() - gen_before) * 1000 / max(1, total)
        drained_at = None if args.no_worker else wait_drained(db_url, timeout=args.drain_timeout)
        e2e, not_by_reply = ([], 0) if args.no_worker else reply_latencies(fake, sent_at)
        cpu_ms = (sum(cpu_seconds(p.proc.pid) for p in procs + workers) - cpu_before) * 1000 / max(1, total)
        load_after = os.getloadavg()[0]
    finally:
        for p in procs + workers:
            p.kill()
        fake.stop()
        drop_postgres_schema(schema)
    ms = [a * 1000 for a in acks]
    e2e_ms = [x * 1000 for x in e2e]
    sustained = total / (drained_at - start_wall) if drained_at else float("nan")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "procs": n_procs,
        "worker": "off" if args.no_worker else f"+{args.split} nice {args.nice}" if args.split else "on",
        "offered/s": f"{args.rate:g}",
        "events": total,
        "acked/s": f"{len(acks) / elapsed:.0f}",
        "non-200": sum(n for s, n in statuses.items() if s != 200),
        "ack p50 ms": f"{percentile(ms, 50):.1f}",
        "ack p99 ms": f"{percentile(ms, 99):.1f}",
        "processed/s (sustained)": "-" if args.no_worker else f"{sustained:.0f}",
        "1st reply p50 ms": "-" if args.no_worker else f"{percentile(e2e_ms, 50):.0f}",
        "1st reply p95 ms": "-" if args.no_worker else f"{percentile(e2e_ms, 95):.0f}",
        "not by reply": not_by_reply,
        "app CPU ms/event": f"{cpu_ms:.2f}",
        "generator CPU ms/event": f"{gen_ms:.2f}",
        "load avg before/after": f"{load_before:.1f}/{load_after:.1f}",
    }


def median_row(runs: list[dict]) -> dict:
    """The median of each numeric column over repeated runs of one setting (same precision)."""
    row = dict(runs[0], date="median")
    row["load avg before/after"] = "-"
    for key, first in runs[0].items():
        try:
            values = sorted(float(r[key]) for r in runs)
        except (TypeError, ValueError):
            continue
        decimals = len(first.split(".")[1]) if isinstance(first, str) and "." in first else 0
        row[key] = (
            first if isinstance(first, int) and key == "procs" else f"{values[len(values) // 2]:.{decimals}f}"
        )
    return row


def curve(rows: list[dict], key: str, width: int = 40) -> str:
    values = [(int(r["procs"]), float(r[key])) for r in rows if r[key] not in ("-", "nan")]
    if not values:
        return ""
    top = max(v for _, v in values) or 1
    lines = [f"{key} by process count:"]
    for n, v in values:
        lines.append(
            f"  {n} proc{'s' if n > 1 else ' '} |{'#' * max(1, round(v / top * width)):<{width}}| {v:g}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rate", type=float, default=150.0, help="offered events per second")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=16, help="concurrent connections")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--drain-timeout", type=float, default=240.0)
    parser.add_argument("--no-worker", action="store_true", help="ack path only")
    parser.add_argument("--split", type=int, default=0, help="separate background-only processes")
    parser.add_argument("--nice", type=int, default=10, help="CPU niceness of the --split processes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting (adds a median row)")
    parser.add_argument("--note", default="", help="what else was running on the machine")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    rows, medians = [], []
    for n in args.procs:
        runs = []
        for _ in range(args.repeat):
            row = run(n, args, tmp)
            runs.append(row)
            print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        rows.extend(runs)
        medians.append(median_row(runs) if args.repeat > 1 else runs[0])
        if args.repeat > 1:
            rows.append(medians[-1])
    pictures = "\n\n".join(
        c
        for c in (
            curve(medians, "acked/s"),
            curve(medians, "processed/s (sustained)"),
            curve(medians, "ack p99 ms"),
        )
        if c
    )
    print(pictures)
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        header = list(rows[0])
        new = not RESULTS.exists()
        with RESULTS.open("a") as f:
            if new:
                f.write(
                    "# Scale-out load benchmark (benchmarks/load.py)\n\n"
                    "N app processes (uvicorn + inbox/outbox workers each) on one PostgreSQL, fake LINE API "
                    "in its own process, load generator round-robin over the processes; loopback only; "
                    "NLP = rules only (light analyzer).\n"
                )
            f.write(f"\n## Run {rows[0]['date']} UTC{(' — ' + args.note) if args.note else ''}\n\n")
            f.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
            for r in rows:
                cells = [f"**{r[k]}**" if r["date"] == "median" else str(r[k]) for k in header]
                f.write("| " + " | ".join(cells) + " |\n")
            f.write("\n```\n" + pictures + "\n```\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
