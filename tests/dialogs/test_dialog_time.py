"""Time: office hours and holidays, a pause while telling, long silences, restarts, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dialog_clock import AFTER_HOURS, HOLIDAY, OFFICE_HOURS
from dialog_support import cases_of, walk

from bot.conversations import service as conversations
from bot.dialogs.retention import purge_unconsented
from bot.engine import Engine


@pytest.mark.parametrize(
    ("now", "phrases", "absent"),
    [
        (OFFICE_HOURS, ["今は受付時間中です"], ["受付時間外"]),
        (AFTER_HOURS, ["今は受付時間外です", "明日（11月25日（水））の8時30分以降"], ["受付時間中"]),
        (HOLIDAY, ["今は受付時間外です", "明日（11月24日（火））の8時30分以降"], ["受付時間中"]),
    ],
    ids=["office-hours", "after-hours", "holiday"],
)
def test_handoff_says_honestly_when_staff_will_read_it(now, phrases, absent, make_chat):
    chat = make_chat(now=now)
    reply = walk(chat, "handed_off")
    for p in phrases:
        assert p in reply.text
    for a in absent:
        assert a not in reply.text


def test_after_hours_greeting_says_when_it_will_be_read(make_chat):
    chat = make_chat(now=AFTER_HOURS)
    reply = chat.follow()
    assert "今は受付時間外です" in reply.text and "明日（11月25日（水））の8時30分以降" in reply.text
    reply = make_chat(now=OFFICE_HOURS).follow()
    assert "受付時間外" not in reply.text


def test_queue_position_is_told(make_chat):
    first = make_chat()
    walk(first, "handed_off")
    second = make_chat()
    reply = walk(second, "handed_off")
    assert "あなたの前に1件の相談があります" in reply.text


def test_a_pause_while_telling_moves_on_by_itself(chat):
    walk(chat, "telling")
    chat.say("息子が10年ひきこもっています")
    assert chat.tick(advance=timedelta(seconds=30)) == []  # still writing, perhaps
    pushes = chat.tick(advance=timedelta(minutes=3))
    assert len(pushes) == 1
    resident_id, messages = pushes[0]
    assert resident_id == chat.resident_id
    text = "\n".join(m.text for m in messages if m.text)
    assert "少し間があいたので" in text and "ひきこもりのこと" in text
    assert chat.conversation().state == "reflect"
    assert chat.tick(advance=timedelta(minutes=10)) == []  # once only


def test_no_pause_push_before_anything_was_told(chat):
    walk(chat, "telling")
    assert chat.tick(advance=timedelta(hours=1)) == []
    assert chat.conversation().state == "telling"


def test_restart_of_the_service_mid_dialogue_resumes(make_chat, analyzer, city):
    chat = make_chat()
    walk(chat, "followup")
    chat.tap("40代")
    # A new engine (as after a restart of the process) on the same database carries on.
    chat.engine = Engine(analyzer=analyzer, city=city)
    reply = chat.tap("10年以上")
    assert reply.state == "followup" and "知っていますか" in reply.text
    with chat.session_factory() as s:
        conv = conversations.active_conversation(s, resident_id=chat.resident_id)
        assert conv.data["answers"]["hikikomori"] == {"person_age": "40代", "duration": "10年以上"}


def test_long_silence_asks_continue_or_start_over(chat):
    walk(chat, "followup")
    reply = chat.say("こんにちは", advance=timedelta(hours=25))
    assert reply.state == "resume" and reply.buttons == ["続きから", "最初から"]
    reply = chat.tap("続きから")
    assert reply.state == "followup"


def test_long_silence_start_over_keeps_what_they_just_wrote(chat):
    walk(chat, "telling")
    chat.say("母のことです")
    reply = chat.say("やっぱり自分の仕事のことです", advance=timedelta(days=3))
    assert reply.state == "resume"
    reply = chat.tap("最初から")
    assert reply.state == "about_whom"
    assert chat.conversation().data["words"] == ["やっぱり自分の仕事のことです"]


def test_short_silence_does_not_interrupt(chat):
    walk(chat, "followup")
    reply = chat.tap("40代", advance=timedelta(hours=23))
    assert reply.state == "followup"


def test_purge_deletes_only_old_unconsented_conversations(make_chat, session_factory, city):
    old = make_chat()
    walk(old, "reflect")
    consented = make_chat()
    walk(consented, "handed_off")
    later = OFFICE_HOURS + timedelta(days=city.retention_days_unconsented + 1)
    recent = make_chat(now=later - timedelta(days=1))
    walk(recent, "telling")
    with session_factory() as s:
        deleted = purge_unconsented(s, now=later, city=city)
        s.commit()
    assert deleted == 1
    assert old.conversation() is None
    assert consented.conversation() is not None and cases_of(session_factory, consented.resident_id)
    assert recent.conversation() is not None
