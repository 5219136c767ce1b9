"""The LINE transport's tests use the shared fixtures (fake LINE server, app client)."""

from tests.support.fixtures import app_client, fake_line, line, line_app, line_settings  # noqa: F401
