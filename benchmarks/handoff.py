"""Staff side benchmark: what a busy queue costs, in-process (no network), on SQLite or PostgreSQL.

Seeds N consented cases with sheets and chats, then measures, warm:
- GET /staff/ (queue page, 未対応 tab and すべて tab) and the SSE poll query (`queue_signature`),
  which every open staff tab runs once a second;
- GET /staff/cases/{id} (case page: sheet, chat, notes; audited);
- claim + commit, and a claim race: T threads claiming the same C cases at once (exactly one
  winner per case is checked, not assumed);
- the つなぐシート PDF (WeasyPrint, Noto CJK) and the cases CSV.

    .venv/bin/python benchmarks/handoff.py                  # SQLite, 1000 cases
    .venv/bin/python benchmarks/handoff.py --db postgres --cases 2000

Bounded; prints a Markdown table and appends it to benchmarks/results/handoff.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "handoff.md"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "sakura-queue-passphrase"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p * (len(s) - 1)))]


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--race-threads", type=int, default=8)
    ap.add_argument("--race-cases", type=int, default=50)
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from bot.conversations import service as conversations
    from bot.db import Base, import_all_models, make_engine
    from bot.main import create_app
    from bot.migrate import upgrade_engine
    from bot.settings import Settings
    from handoff import accounts, service
    from handoff.models import StaffUser
    from handoff.web.pages import queue_signature
    from tests.handoff.handoff_support import CONSENT_TEXT, make_sheet

    tmp = tempfile.mkdtemp(prefix="bench-handoff-")
    schema = None
    if args.db == "postgres":
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp}/bench.db"
    try:
        settings = Settings(
            DATABASE_URL=url,
            CONSULT_SECRET_KEY="benchmark-secret-key-0123456789abcdef-xyz",
            CONSULT_VAR_DIR=tmp,
            CONSULT_LOAD_NLP=False,
            CONSULT_RUN_WORKER=False,
        )
        engine = make_engine(url)
        try:
            upgrade_engine(engine)  # Alembic, once revisions exist
        finally:
            # Until the initial revision is cut, the models are the schema (as in tests/conftest.py).
            import_all_models()
            Base.metadata.create_all(engine)
            engine.dispose()
        app = create_app(settings)
        factory = app.state.session_factory
        city = app.state.city
        from handoff.directory import load_directory

        directory = load_directory(city.agency_directory)
        rows: list[tuple[str, str]] = []

        t0 = time.perf_counter()
        with factory() as s:
            accounts.create_staff(s, username="bench", password=PASSWORD, role="supervisor")
            for i in range(args.cases):
                r = conversations.resident_for_line_user(s, line_user_id=f"U{i:032x}")
                conv = conversations.start_conversation(s, resident_id=r.id, state="handed_off")
                for j in range(6):
                    conversations.append_event(
                        s,
                        conversation_id=conv.id,
                        author="resident" if j % 2 == 0 else "bot",
                        kind="text",
                        text=f"メッセージ {j}：家族のことで相談があります。",
                    )
                service.request_handoff(
                    s,
                    resident_id=r.id,
                    conversation_id=conv.id,
                    sheet=make_sheet(city, directory, now=datetime.now(UTC)),
                    consent_text_version="v1",
                    consent_text=CONSENT_TEXT,
                    urgent=(i % 10 == 0),
                )
                if i % 200 == 199:
                    s.commit()
            s.commit()
            staff_id = s.query(StaffUser.id).scalar()
        rows.append(
            (
                "seed (handoff per case, incl. sheet + consent + audit)",
                f"{(time.perf_counter() - t0) * 1000 / args.cases:.2f} ms/case",
            )
        )

        with TestClient(app) as client:
            page = client.get("/staff/login")
            import re

            tok = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
            client.post("/staff/login", data={"username": "bench", "password": PASSWORD, "login_csrf": tok})

            def measure(label, fn, repeat=args.repeat):
                ms = timed(fn, repeat)
                rows.append((label, f"p50 {statistics.median(ms):.1f} ms · p95 {pct(ms, 0.95):.1f} ms"))

            measure(
                "GET /staff/ (未対応 tab)", lambda: client.get("/staff/?tab=unassigned").raise_for_status()
            )
            measure(
                "GET /staff/?tab=all (≤500 rows shown)",
                lambda: client.get("/staff/?tab=all").raise_for_status(),
            )
            measure("SSE poll: queue_signature", lambda: queue_signature(factory, staff_id), args.repeat * 3)
            measure(
                "GET /staff/cases/{id} (audited)", lambda: client.get("/staff/cases/5").raise_for_status()
            )
            measure(
                "PDF つなぐシート (WeasyPrint)",
                lambda: client.get("/staff/cases/5/sheet.pdf").raise_for_status(),
                max(5, args.repeat // 5),
            )
            measure(
                "CSV of all cases",
                lambda: client.get("/staff/export/cases.csv").raise_for_status(),
                max(5, args.repeat // 5),
            )

        # claim latency and the race
        with factory() as s:
            users = [
                accounts.create_staff(s, username=f"racer{i}", password=PASSWORD, role="staff")
                for i in range(args.race_threads)
            ]
            s.commit()
            user_ids = [u.id for u in users]
        case_ids = list(range(1, 1 + args.race_cases))
        wins: dict[int, list[int]] = {c: [] for c in case_ids}
        lat: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(args.race_threads)

        def racer(uid: int) -> None:
            with factory() as s:
                me = s.get(StaffUser, uid)
                barrier.wait()
                for cid in case_ids:
                    t = time.perf_counter()
                    try:
                        service.claim(s, case_id=cid, staff=me)
                        s.commit()
                        with lock:
                            wins[cid].append(uid)
                    except service.CaseConflict:
                        s.rollback()
                    with lock:
                        lat.append((time.perf_counter() - t) * 1000)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=racer, args=(u,)) for u in user_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        exact = all(len(w) == 1 for w in wins.values())
        rows.append(
            (
                f"claim race: {args.race_threads} threads × {args.race_cases} cases",
                f"exactly one winner per case: {'yes' if exact else 'NO'} · "
                f"{len(lat) / elapsed:.0f} attempts/s · "
                f"p50 {statistics.median(lat):.1f} ms · p95 {pct(lat, 0.95):.1f} ms",
            )
        )
        app.state.engine.dispose()
    finally:
        if schema:
            import psycopg

            with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')

    header = (
        f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {args.db} · {args.cases} cases · "
        f"{platform.processor() or platform.machine()} · Python {platform.python_version()}\n\n"
        "| measure | result |\n| --- | --- |\n"
    )
    table = header + "".join(f"| {a} | {b} |\n" for a, b in rows)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(table)
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
