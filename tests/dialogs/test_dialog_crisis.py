"""Safety first: a risk message gets the right numbers in the very next reply, at every state."""

from __future__ import annotations

import pytest
from dialog_support import PATHS, SUICIDE_TEXT, WITH_CASE, YORISOI, cases_of, walk

from bot.conversations import service as conversations
from handoff import accounts
from handoff import service as handoff


@pytest.mark.parametrize("state", list(PATHS))
def test_suicide_risk_gets_numbers_first_at_every_state(state, chat, session_factory):
    walk(chat, state)
    before = cases_of(session_factory, chat.resident_id)
    reply = chat.say(SUICIDE_TEXT)

    first = reply.messages[0].text
    assert YORISOI in first and "いのちの電話" in first and "0570-783-556" in first
    assert "ひとりで抱えないでください" in first
    if state in WITH_CASE:
        # Already in the queue: numbers, a note that staff will see it, no second consent.
        assert "担当の相談員にも伝わります" in first
        assert "今すぐ相談員につなぐ" not in reply.buttons
        assert reply.state == state
        (case,) = cases_of(session_factory, chat.resident_id)
        assert case.priority == "urgent" and "suicide_risk" in case.risk
    else:
        assert reply.state == "crisis"
        assert reply.buttons == ["今すぐ相談員につなぐ", "このまま続ける"]
        # Without the tap nothing reaches staff.
        assert cases_of(session_factory, chat.resident_id) == before == []
    # The message is in the log, flagged, so staff would see it once consented.
    with session_factory() as s:
        conv = conversations.active_conversation(s, resident_id=chat.resident_id)
        events = conversations.list_events(s, conversation_id=conv.id)
    flagged = [e for e in events if e.author == "resident" and (e.meta or {}).get("risk")]
    assert flagged and flagged[-1].text == SUICIDE_TEXT


@pytest.mark.parametrize(
    ("text", "number", "name"),
    [("夫に殴られて、今も怖いです", "110", "DV相談＋"), ("父が倒れて息をしていません", "119", "救急車")],
)
def test_each_flag_gets_its_own_numbers(text, number, name, chat):
    walk(chat, "telling")
    reply = chat.say(text)
    assert reply.state == "crisis"
    assert number in reply.messages[0].text and name in reply.messages[0].text
    assert YORISOI not in reply.messages[0].text  # the numbers that fit, not all of them


def test_one_tap_connects_as_urgent_with_consent(chat, session_factory):
    walk(chat, "telling")
    chat.say("母の介護で疲れました")
    reply = chat.say(SUICIDE_TEXT)
    assert "急ぎの相談として" in reply.text  # the one-tap consent is stated before the tap
    reply = chat.tap("今すぐ相談員につなぐ")
    assert reply.state == "handed_off"
    assert "急ぎの相談として、相談員に伝えました" in reply.text
    (case,) = cases_of(session_factory, chat.resident_id)
    assert case.priority == "urgent" and case.status == "waiting"
    assert "suicide_risk" in case.risk
    with session_factory() as s:
        sheet = handoff.latest_sheet(s, case_id=case.id)
    assert sheet.consent.given and sheet.consent.text_version == "2026-11-v1"
    assert SUICIDE_TEXT in sheet.resident_words and "母の介護で疲れました" in sheet.resident_words


def test_continue_after_crisis_returns_to_the_same_step(chat, session_factory):
    walk(chat, "followup")
    reply = chat.say(SUICIDE_TEXT)
    assert reply.state == "crisis"
    reply = chat.tap("このまま続ける")
    assert reply.state == "followup"
    assert "いつでも「緊急」" in reply.text and "今おいくつ" in reply.text
    assert cases_of(session_factory, chat.resident_id) == []


def test_writing_on_after_crisis_carries_on_where_they_were(chat):
    walk(chat, "telling")
    chat.say(SUICIDE_TEXT)
    reply = chat.say("息子のことも心配です")
    assert reply.state == "telling" and "以上です" in reply.buttons


def test_after_hours_crisis_says_when_staff_read_it(make_chat):
    from dialog_clock import AFTER_HOURS

    chat = make_chat(now=AFTER_HOURS)
    reply = chat.say(SUICIDE_TEXT)
    assert reply.state == "crisis"
    assert YORISOI in reply.messages[0].text
    assert "受付時間外" in reply.text and "明日" in reply.text


def test_staff_owned_case_bot_is_silent_but_numbers_still_go_out(chat, session_factory):
    walk(chat, "handed_off")
    (case,) = cases_of(session_factory, chat.resident_id)
    with session_factory() as s:
        staff = accounts.create_staff(s, username="tanaka", password="correct-horse-battery", role="staff")
        handoff.claim(s, case_id=case.id, staff=staff)
        s.commit()
    reply = chat.say("こんにちは、よろしくお願いします")
    assert reply.messages == []  # staff answer themselves
    assert chat.sticker().messages == []
    reply = chat.say(SUICIDE_TEXT)
    assert YORISOI in reply.messages[0].text and "今すぐ相談員につなぐ" not in reply.buttons
    with session_factory() as s:
        events = conversations.list_events(s, conversation_id=case.conversation_id)
    texts = [e.text for e in events if e.author == "resident"]
    assert "こんにちは、よろしくお願いします" in texts and SUICIDE_TEXT in texts


def test_a_failing_model_check_still_finds_the_crisis_by_the_rules(chat, analyzer, monkeypatch, caplog):
    # Fault injection: the full check (model + rules) raises, as an unguarded tokenizer once did
    # under concurrent threads. The reply must still carry the numbers, from the rules alone.
    def broken(text):
        raise RuntimeError("Already borrowed")

    monkeypatch.setattr(analyzer, "crisis", broken)
    walk(chat, "telling")
    reply = chat.say(SUICIDE_TEXT)
    assert reply.state == "crisis"
    assert YORISOI in reply.messages[0].text
    assert "risk check failed" in caplog.text
