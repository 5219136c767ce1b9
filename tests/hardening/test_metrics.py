"""/metrics: Prometheus text format, numbers that follow what really happened, content-free."""

from __future__ import annotations

import re

from tests.support import events as ev

LINE_RE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')


def _parse(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        assert LINE_RE.match(line), line
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return values


def test_metrics_follow_the_traffic(line, app_client, fake_line):
    r = app_client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    before = _parse(r.text)
    assert before["consult_database_up"] == 1
    assert before["consult_inbox_events_received_total"] == 0

    users = [ev.new_user_id() for _ in range(3)]
    for u in users:
        line.say(u, "家賃が払えなくて困っています", wait=False)
    line.settle()
    after = _parse(app_client.get("/metrics").text)
    assert after["consult_inbox_events_received_total"] == 3
    assert after['consult_inbox_events{status="done"}'] == 3
    assert after['consult_inbox_events{status="pending"}'] == 0
    assert after["consult_inbox_lag_seconds"] == 0
    assert after['consult_outbox_messages{status="sent"}'] >= 3
    assert after['consult_outbox_messages{status="pending"}'] == 0
    assert 'consult_cases{status="waiting"}' in after

    # LINE refuses for a while: the messages wait, and the metrics say so.
    fake_line.fail_next(10_000, status=503)
    line.say(users[0], "もう一度書きます", wait=False)
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        during = _parse(app_client.get("/metrics").text)
        if during['consult_outbox_send_failures{state="retrying"}'] >= 1:
            break
        time.sleep(0.1)
    assert during['consult_outbox_messages{status="pending"}'] >= 1
    assert during['consult_outbox_send_failures{state="retrying"}'] >= 1
    assert during["consult_outbox_lag_seconds"] > 0
    with fake_line.state.lock:
        fake_line.state.failures.clear()
    line.settle(30)
    drained = _parse(app_client.get("/metrics").text)
    assert drained['consult_outbox_messages{status="pending"}'] == 0
    assert drained['consult_outbox_send_failures{state="retrying"}'] == 0

    assert users[0] not in r.text + app_client.get("/metrics").text
