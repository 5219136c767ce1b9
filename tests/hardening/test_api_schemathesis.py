"""Schemathesis against the app's own OpenAPI schema for /api: generated requests with a valid
bearer token (admin: every route is open to it) never get a 5xx. Bounded examples per operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from handoff import accounts
from handoff.models import Case

PASSWORD = "correct horse battery 9"


@pytest.fixture
def api_schema(app_client):
    app = app_client.app
    with app.state.session_factory() as s:
        accounts.create_staff(s, username="fuzzadmin", password=PASSWORD, role="admin")
        s.add(Case(status="waiting", categories=["poverty"]))
        s.commit()
    r = app_client.post("/api/auth/token", data={"username": "fuzzadmin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    app.state.fuzz_token = r.json()["access_token"]
    return schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/api/")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_answers_5xx(case):
    token = case.operation.schema.app.state.fuzz_token
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (
        case.method,
        case.formatted_path,
        response.status_code,
        response.text[:300],
    )
