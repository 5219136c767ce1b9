"""Global words (最初から, やめる, 人と話したい, 緊急, ヘルプ, 削除), stickers, and deletion."""

from __future__ import annotations

from dialog_support import YORISOI, cases_of, walk
from sqlalchemy import func, select

from bot.conversations import service as conversations
from bot.conversations.models import Conversation, ConversationEvent
from handoff.models import ConsentRecord, ReferralSheet


def _count(session_factory, model, **where):
    with session_factory() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def test_delete_before_handoff_removes_every_conversation(chat, session_factory):
    walk(chat, "reflect")
    reply = chat.say("削除")
    assert reply.state == "confirm_delete" and reply.buttons == ["削除する", "削除しない"]
    reply = chat.tap("削除する")
    assert "削除しました" in reply.text
    assert _count(session_factory, Conversation, resident_id=chat.resident_id) == 0
    assert _count(session_factory, ConversationEvent) == 0
    # The next message starts a brand-new conversation.
    reply = chat.say("こんにちは")
    assert reply.state == "about_whom"


def test_delete_can_be_cancelled(chat):
    walk(chat, "followup")
    chat.postback("g:delete")
    reply = chat.tap("削除しない")
    assert reply.state == "followup" and "削除はしませんでした" in reply.text and "今おいくつ" in reply.text


def test_delete_after_handoff_withdraws_the_case_without_content(chat, session_factory):
    walk(chat, "handed_off")
    (case,) = cases_of(session_factory, chat.resident_id)
    case_id = case.id
    chat.say("削除")
    chat.tap("削除する")
    assert _count(session_factory, Conversation, resident_id=chat.resident_id) == 0
    with session_factory() as s:
        from handoff.models import Case

        case = s.get(Case, case_id)
        assert case.status == "withdrawn" and case.resident_id is None and case.conversation_id is None
        sheets = s.scalars(select(ReferralSheet).where(ReferralSheet.case_id == case_id)).all()
        assert sheets and all(r.content is None for r in sheets)
        assert s.scalars(select(ConsentRecord).where(ConsentRecord.case_id == case_id)).one().withdrawn_at


def test_restart_begins_a_new_conversation(chat, session_factory):
    walk(chat, "followup")
    old = chat.conversation().id
    reply = chat.say("最初から")
    assert reply.state == "about_whom" and "最初からやり直します" in reply.text
    new = chat.conversation()
    assert new.id != old and new.data.get("words") == []


def test_quit_ends_and_nothing_is_shared(chat, session_factory):
    walk(chat, "reflect")
    reply = chat.say("やめる")
    assert "誰にも伝わっていません" in reply.text
    assert chat.conversation() is None
    assert cases_of(session_factory, chat.resident_id) == []


def test_human_skips_to_preview_and_consent(chat):
    walk(chat, "telling")
    chat.say("家賃が払えません")
    reply = chat.postback("g:human")
    assert reply.state == "preview"
    assert reply.flexes and reply.buttons == ["同意する", "同意しない"]
    assert "家賃が払えません" in str(reply.flexes[0]) and "住まいのこと" in str(reply.flexes[0])


def test_emergency_and_help_keep_the_state(chat):
    walk(chat, "followup")
    reply = chat.say("緊急")
    assert reply.state == "followup"
    assert YORISOI in reply.texts[0] and "110" in reply.texts[0] and "119" in reply.texts[0]
    assert "今おいくつ" in reply.text  # the open question comes back
    reply = chat.say("ヘルプ")
    assert reply.state == "followup" and "「削除」" in reply.texts[0]


def test_sticker_gets_a_nudge_and_the_state_is_unchanged(chat):
    walk(chat, "about_whom")
    reply = chat.sticker()
    assert reply.state == "about_whom"
    assert "言葉で書いて" in reply.texts[0] and "家族のこと" in reply.buttons


def test_waiting_case_acknowledges_and_logs_new_messages(chat, session_factory):
    walk(chat, "handed_off")
    reply = chat.say("追加で、母も入院しました")
    assert reply.state == "handed_off" and "相談員も読みます" in reply.text
    reply = chat.say("最初から")  # with a case in the queue this is words for staff, not a restart
    assert reply.state == "handed_off"
    (case,) = cases_of(session_factory, chat.resident_id)
    with session_factory() as s:
        texts = [e.text for e in conversations.list_events(s, conversation_id=case.conversation_id)]
    assert "追加で、母も入院しました" in texts


def test_closed_case_means_the_next_message_starts_fresh(chat, session_factory):
    from handoff import accounts
    from handoff import service as handoff

    walk(chat, "handed_off")
    (case,) = cases_of(session_factory, chat.resident_id)

    from bot.line.outbound import LineNotifier

    with session_factory() as s:
        staff = accounts.create_staff(s, username="sato", password="correct-horse-battery", role="staff")
        handoff.claim(s, case_id=case.id, staff=staff)
        handoff.close(
            s, case_id=case.id, staff=staff, outcome=next(iter(_outcomes())), notifier=LineNotifier()
        )
        s.commit()
    reply = chat.say("また相談したいです")
    assert reply.state == "about_whom" and "またご連絡ありがとうございます" in reply.text
    assert chat.conversation().id != case.conversation_id


def _outcomes():
    from handoff.models import OUTCOME_LABELS

    return OUTCOME_LABELS


def test_rich_menu_postbacks_work_like_the_words(chat):
    walk(chat, "telling")
    assert chat.postback("g:emergency").state == "telling"
    assert "使い方" in chat.postback("g:help").text
    assert chat.postback("g:delete").state == "confirm_delete"
    assert chat.postback("delete:no").state == "telling"
    assert chat.postback("g:restart").state == "about_whom"
    reply = chat.postback("g:quit")
    assert "やめますね" in reply.text and chat.conversation() is None


def test_blocking_and_coming_back_asks_to_continue(chat):
    walk(chat, "followup")
    assert chat.unfollow().messages == []
    reply = chat.follow()
    assert reply.state == "resume" and "続きから" in reply.buttons


def test_typed_answers_work_where_buttons_are_offered(chat, session_factory):
    walk(chat, "preview")
    reply = chat.say("はい")  # typed instead of 同意する
    assert reply.state == "contact"
    reply = chat.say("電話でお願いします。03-1234-5678です")
    assert reply.state == "handed_off" and "お電話でのご連絡" in reply.text
    (case,) = cases_of(session_factory, chat.resident_id)
    assert case.contact_phone == "03-1234-5678"


def test_delete_stops_anything_still_queued_for_the_resident(chat, session_factory):
    from bot.line import outbound
    from bot.line.models import OutboxMessage
    from bot.messages import Outbound

    walk(chat, "telling")
    with session_factory() as s:
        # A push the transport has not sent yet (e.g. the reflection after a pause).
        outbound.enqueue(
            s,
            to="U" + "f" * 32,
            outbounds=[Outbound(text="ここまでの内容です")],
            resident_id=chat.resident_id,
        )
        s.commit()
    chat.say("削除")
    chat.tap("削除する")
    with session_factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.resident_id == chat.resident_id)).all()
    # Deleted with everything else of theirs (bot.line.service.delete_resident_traffic): nothing pending.
    assert not [r for r in rows if r.status == "pending"]
