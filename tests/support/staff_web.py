"""Signing in to the staff web UI the way a browser does (login page token, then the form)."""

from __future__ import annotations

import re


def form_value(page: str, name: str) -> str:
    """The value of a hidden form field on a rendered page."""
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def post_login(client, username: str, password: str):
    """Fetch the login page (its double-submit token) and post the form; the raw response."""
    client.cookies.clear()
    token = form_value(client.get("/staff/login").text, "login_csrf")
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "login_csrf": token},
        follow_redirects=False,
    )


def sign_in(client, username: str, password: str) -> str:
    """Sign in (asserting it worked) and return the session's CSRF token for staff forms."""
    r = post_login(client, username, password)
    assert r.status_code == 303 and r.headers["location"] == "/staff/", r.text[:300]
    return form_value(client.get("/staff/").text, "csrf_token")
