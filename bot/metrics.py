"""GET /metrics in the Prometheus text format (no client library needed).

Everything is read from the database, so every process answers the same numbers and nothing is
lost on a restart; the queries are a handful of GROUP BYs over indexed status columns, cheap
enough for a 15 s scrape. Content-free by construction: counts and ages only.

If CONSULT_METRICS_TOKEN is set, a scrape must send `Authorization: Bearer <token>`; otherwise
restrict /metrics at the reverse proxy (docs/production.md).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

INBOX_STATUSES = ("pending", "done", "failed")
OUTBOX_STATUSES = ("pending", "sent", "failed", "cancelled")
CASE_STATUSES = ("waiting", "in_progress", "referred", "closed", "withdrawn")


class Family:
    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name, self.kind, self.help = name, kind, help_text
        self.samples: list[tuple[dict[str, str], float]] = []

    def add(self, value: float, **labels: str) -> Family:
        self.samples.append((labels, float(value)))
        return self

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        for labels, value in self.samples:
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
            number = repr(value) if value != int(value) else str(int(value))
            yield f"{self.name}{{{label_text}}} {number}" if labels else f"{self.name} {number}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _by_status(session, column, statuses, name: str, help_text: str) -> tuple[Family, dict[str, int]]:
    """A gauge of rows per status (0 for a status with no rows), and the counts themselves."""
    counts = dict(session.execute(select(column, func.count()).group_by(column)).all())
    fam = Family(name, "gauge", help_text)
    for status in statuses:
        fam.add(counts.get(status, 0), status=status)
    return fam, counts


def _oldest_pending_age(session, status_column, time_column, now: datetime) -> float:
    oldest = session.scalar(select(func.min(time_column)).where(status_column == "pending"))
    return _age_seconds(oldest, now)


def _age_seconds(oldest: datetime | None, now: datetime) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, round((now - oldest).total_seconds(), 3))


def collect(session: Session, now: datetime | None = None) -> list[Family]:
    from bot.line.models import InboxEvent, OutboxMessage
    from handoff.models import Case

    now = now or utcnow()
    families: list[Family] = []

    # Inbox ids only grow, so the highest id is the number of events ever received (a counter
    # that survives the purge of old rows and restarts).
    received = session.scalar(select(func.max(InboxEvent.id))) or 0
    families.append(
        Family("consult_inbox_events_received_total", "counter", "Webhook events stored.").add(received)
    )
    fam, _ = _by_status(
        session,
        InboxEvent.status,
        INBOX_STATUSES,
        "consult_inbox_events",
        "Inbox rows by status (finished rows kept 7 days).",
    )
    families.append(fam)
    families.append(
        Family(
            "consult_inbox_lag_seconds", "gauge", "Age of the oldest event not yet processed (0 when none)."
        ).add(_oldest_pending_age(session, InboxEvent.status, InboxEvent.received_at, now))
    )
    families.append(
        Family(
            "consult_inbox_retrying", "gauge", "Pending events that failed at least once and wait to retry."
        ).add(
            session.scalar(
                select(func.count())
                .select_from(InboxEvent)
                .where(InboxEvent.status == "pending", InboxEvent.attempts > 0)
            )
            or 0
        )
    )

    fam, outbox = _by_status(
        session,
        OutboxMessage.status,
        OUTBOX_STATUSES,
        "consult_outbox_messages",
        "Outbox rows by status (finished rows kept 7 days).",
    )
    families.append(fam)
    families.append(
        Family("consult_outbox_lag_seconds", "gauge", "Age of the oldest message not yet delivered.").add(
            _oldest_pending_age(session, OutboxMessage.status, OutboxMessage.created_at, now)
        )
    )
    retrying = (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.last_error.is_not(None))
        )
        or 0
    )
    families.append(
        Family("consult_outbox_send_failures", "gauge", "Messages whose last attempt to reach LINE failed.")
        .add(retrying, state="retrying")
        .add(outbox.get("failed", 0), state="given_up")
    )

    fam, _ = _by_status(session, Case.status, CASE_STATUSES, "consult_cases", "Cases by status.")
    families.append(fam)
    urgent = (
        session.scalar(
            select(func.count()).select_from(Case).where(Case.status == "waiting", Case.priority == "urgent")
        )
        or 0
    )
    families.append(
        Family("consult_cases_urgent_waiting", "gauge", "Urgent cases nobody has claimed.").add(urgent)
    )
    oldest_case = session.scalar(select(func.min(Case.waiting_since)).where(Case.status == "waiting"))
    families.append(
        Family(
            "consult_cases_oldest_waiting_seconds", "gauge", "How long the longest-waiting case waits."
        ).add(_age_seconds(oldest_case, now))
    )
    return families


def render(families: list[Family]) -> str:
    return "\n".join(line for fam in families for line in fam.render()) + "\n"


def install(app: FastAPI) -> None:
    token = os.environ.get("CONSULT_METRICS_TOKEN", "")

    def metrics(request: Request) -> Response:
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse("unauthorized\n", status_code=401)
        try:
            with app.state.session_factory() as session:
                families = collect(session)
        except Exception as exc:  # the scrape itself must say the database is gone
            body = render([Family("consult_database_up", "gauge", "Database reachable.").add(0)])
            return PlainTextResponse(
                body, status_code=503, media_type=CONTENT_TYPE, headers={"x-error": type(exc).__name__}
            )
        families.append(Family("consult_database_up", "gauge", "Database reachable.").add(1))
        listener = getattr(app.state, "notify_listener", None)
        if listener is not None:  # PostgreSQL; per process (which one answered depends on the proxy)
            families.append(
                Family(
                    "consult_notify_listener_up",
                    "gauge",
                    "1 while this process's LISTEN connection is up; 0 = it polls until reconnected.",
                ).add(1 if listener.connected else 0)
            )
        return PlainTextResponse(render(families), media_type=CONTENT_TYPE)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
