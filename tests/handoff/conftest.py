"""Fixtures for the staff side: a city, its directory, residents with conversations, staff users."""

from __future__ import annotations

import pytest
from handoff_support import CONSENT_TEXT, PASSWORD, RecordingNotifier, make_sheet

from bot.city import load_city
from bot.conversations import service as conversations
from bot.settings import SAMPLE_CITY_FILE
from handoff import accounts
from handoff.directory import load_directory


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture(scope="session")
def city():
    return load_city(SAMPLE_CITY_FILE)


@pytest.fixture(scope="session")
def directory(city):
    return load_directory(city.agency_directory)


@pytest.fixture
def make_case(session, city, directory):
    """Create a resident + conversation and hand it off; returns the Case."""
    from handoff import service

    counter = {"n": 0}

    def _make(*, urgent=False, analysis=None, words=None):
        counter["n"] += 1
        resident = conversations.resident_for_line_user(session, line_user_id=f"U{counter['n']:032x}")
        conv = conversations.start_conversation(session, resident_id=resident.id, state="consent")
        conversations.append_event(
            session,
            conversation_id=conv.id,
            author="resident",
            kind="text",
            text=(words or ["息子が10年ひきこもっています"])[0],
        )
        conversations.append_event(
            session,
            conversation_id=conv.id,
            author="bot",
            kind="text",
            text="話してくださって、ありがとうございます。",
        )
        case = service.request_handoff(
            session,
            resident_id=resident.id,
            conversation_id=conv.id,
            sheet=make_sheet(city, directory, analysis=analysis, words=words),
            consent_text_version="v1",
            consent_text=CONSENT_TEXT,
            urgent=urgent,
        )
        session.commit()
        return case

    return _make


@pytest.fixture
def make_staff(session):
    def _make(username, role="staff", display_name=None):
        user = accounts.create_staff(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            display_name=display_name or f"{username}さん",
        )
        session.commit()
        return user

    return _make


# The real app over the real LINE path (fake Messaging API over HTTP), from the transport's fixtures.
from tests.support.fixtures import app_client, fake_line, line_app, line_settings  # noqa: E402, F401
