"""The shared foundation: encryption at rest, keyed lookup, settings rules, both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot import crypto
from bot.conversations import service as conversations
from bot.settings import ConfigError, Settings

LINE_ID = "U" + "0123456789abcdef" * 2


def test_resident_id_and_text_are_encrypted_at_rest(session, db_engine):
    resident = conversations.resident_for_line_user(session, line_user_id=LINE_ID)
    conv = conversations.start_conversation(session, resident_id=resident.id, state="start")
    conversations.append_event(
        session, conversation_id=conv.id, author="resident", kind="text", text="息子が10年ひきこもっています"
    )
    session.commit()

    with db_engine.connect() as conn:
        raw_id = conn.execute(text("SELECT line_user_id, user_hash FROM residents")).one()
        raw_text = conn.execute(text("SELECT text FROM conversation_events")).scalar_one()
    assert LINE_ID not in raw_id[0] and LINE_ID not in raw_id[1]
    assert "ひきこもり" not in raw_text and "息子" not in raw_text

    again = conversations.resident_for_line_user(session, line_user_id=LINE_ID)
    assert again.id == resident.id and again.line_user_id == LINE_ID
    events = conversations.list_events(session, conversation_id=conv.id)
    assert events[0].text == "息子が10年ひきこもっています"


def test_old_key_still_decrypts_after_rotation():
    crypto.configure("old-secret-" * 4)
    token = crypto.encrypt("相談内容")
    crypto.configure("new-secret-" * 4, ["old-secret-" * 4])
    assert crypto.decrypt(token) == "相談内容"
    assert crypto.encrypt("x").split(":")[0] != token.split(":")[0]
    crypto.configure("another-secret-" * 4)
    with pytest.raises(ValueError):
        crypto.decrypt(token)


@pytest.mark.parametrize("secret", ["changeme", "channel_secret", "short"])
def test_placeholder_channel_secret_is_refused(secret, monkeypatch):
    monkeypatch.setenv("LINE_CHANNEL_SECRET", secret)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "token-value")
    with pytest.raises((ConfigError, ValueError)):
        Settings()


def test_simulator_mode_without_credentials_generates_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("LINE_CHANNEL_SECRET", raising=False)
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("CONSULT_SECRET_KEY", raising=False)
    s = Settings(CONSULT_VAR_DIR=tmp_path)
    assert s.simulator_mode
    key = s.effective_secret_key
    assert len(key) >= 32 and (tmp_path / "secret_key").read_text() == key
    assert Settings(CONSULT_VAR_DIR=tmp_path).effective_secret_key == key  # reused on the next run
