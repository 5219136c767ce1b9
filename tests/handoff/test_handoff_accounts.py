"""Staff accounts: hashing, weak passwords, lockout, and the `consult-bot staff add` command."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.db import utcnow
from handoff import accounts
from handoff.models import StaffUser


def test_create_and_authenticate(session, db_engine):
    accounts.create_staff(session, username="yamada", password="long-enough-pass", role="staff")
    session.commit()
    with db_engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM staff_users")).scalar_one()
    assert stored.startswith("$argon2") and "long-enough" not in stored
    user, why = accounts.authenticate(session, username="YAMADA", password="long-enough-pass")
    assert user is not None and why == "ok"
    assert accounts.authenticate(session, username="yamada", password="wrong")[0] is None
    assert accounts.authenticate(session, username="nobody", password="x") == (None, "bad_credentials")


@pytest.mark.parametrize("password", ["short", "password123", "aaaaaaaaaaaa", "xx-yamada-xx"])
def test_weak_passwords_are_refused(session, password):
    with pytest.raises(accounts.AccountError):
        accounts.create_staff(session, username="yamada", password=password, role="staff")


def test_duplicate_and_bad_role_are_refused(session):
    accounts.create_staff(session, username="kato", password="long-enough-pass", role="staff")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_staff(session, username="Kato", password="long-enough-pass", role="staff")
    with pytest.raises(accounts.AccountError, match="role"):
        accounts.create_staff(session, username="kimura", password="long-enough-pass", role="root")


def test_lockout_after_repeated_failures(session):
    accounts.create_staff(session, username="ito", password="long-enough-pass", role="staff")
    for _ in range(accounts.MAX_FAILED_LOGINS):
        assert accounts.authenticate(session, username="ito", password="nope")[1] == "bad_credentials"
    # Locked: even the right password is refused for a while.
    assert accounts.authenticate(session, username="ito", password="long-enough-pass") == (None, "locked")
    later = utcnow() + accounts.LOCKOUT + timedelta(seconds=1)
    user, why = accounts.authenticate(session, username="ito", password="long-enough-pass", now=later)
    assert user is not None and why == "ok"


def test_first_admin_only_on_empty_install(session):
    name, password = accounts.ensure_first_admin(session)
    assert name == "admin" and accounts.authenticate(session, username=name, password=password)[0]
    assert accounts.ensure_first_admin(session) is None


def test_cli_staff_add(db_url, db_engine, monkeypatch, session):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("CONSULT_SECRET_KEY", "x" * 40)
    runner = CliRunner()
    ok = runner.invoke(
        cli_app, ["staff", "add", "nakamura", "--role", "supervisor", "--password", "a-good-passphrase"]
    )
    assert ok.exit_code == 0, ok.output
    assert session.scalars(select(StaffUser)).one().role == "supervisor"
    dup = runner.invoke(
        cli_app, ["staff", "add", "nakamura", "--role", "staff", "--password", "another-passphrase"]
    )
    assert dup.exit_code != 0 and "already exists" in dup.output
    weak = runner.invoke(cli_app, ["staff", "add", "newbie", "--role", "staff", "--password", "short"])
    assert weak.exit_code != 0 and "10" in weak.output
    prompted = runner.invoke(
        cli_app,
        ["staff", "add", "asked", "--role", "staff"],
        input="prompted-passphrase\nprompted-passphrase\n",
    )
    assert prompted.exit_code == 0, prompted.output
