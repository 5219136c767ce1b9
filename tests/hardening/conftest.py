"""Hardening tests drive the whole app over the real LINE path (shared fixtures)."""

from tests.support.fixtures import app_client, fake_line, line, line_app, line_settings  # noqa: F401
