"""Preview and consent: exactly what is shared, the versioned text, and 同意しない."""

from __future__ import annotations

import json

from dialog_support import HIKIKOMORI_TEXT, cases_of, walk

from bot.dialogs.copy import Copy


def test_preview_shows_the_sheet_and_a_versioned_consent_text(chat, session_factory):
    reply = walk(chat, "preview")
    assert [m.flex is not None for m in reply.messages].count(True) == 1
    bubble = reply.flexes[0]
    assert bubble["type"] == "bubble"
    shown = json.dumps(bubble, ensure_ascii=False)
    assert HIKIKOMORI_TEXT in shown and "ご家族から" in shown and "ひきこもりのこと" in shown
    consent = reply.texts[-1]
    for part in ("伝える内容", "伝える相手", "目的", "取り消せます"):
        assert part in consent
    assert reply.buttons == ["同意する", "同意しない"]
    assert cases_of(session_factory, chat.resident_id) == []  # nothing before consent
    # What was previewed is exactly what is handed off.
    previewed = chat.conversation().data["sheet"]
    chat.tap("同意する")
    from handoff import service as handoff

    (case,) = cases_of(session_factory, chat.resident_id)
    with session_factory() as s:
        revisions = handoff.sheet_revisions(s, case_id=case.id)
    first = revisions[0].content
    for key in ("resident_words", "categories", "subcategories", "hikikomori", "summary"):
        assert first[key] == previewed[key]


def test_declined_shares_nothing_and_shows_where_to_go(chat, session_factory, city):
    reply = walk(chat, "declined")
    assert "誰にも伝わりません" in reply.text
    carousels = [f for f in reply.flexes if f["type"] == "carousel"]
    assert len(carousels) == 1
    bubbles = carousels[0]["contents"]
    assert 1 <= len(bubbles) <= 12
    shown = json.dumps(carousels[0], ensure_ascii=False)
    assert "ひきこもり" in shown and "電話" in shown and "受付" in shown
    assert f"{city.retention_days_unconsented}日" in reply.text and "「削除」" in reply.text
    assert cases_of(session_factory, chat.resident_id) == []
    assert chat.conversation().consented is False


def test_declined_then_changes_mind(chat, session_factory):
    walk(chat, "declined")
    reply = chat.tap("やっぱり相談員につなぐ")
    assert reply.state == "contact"
    assert len(cases_of(session_factory, chat.resident_id)) == 1


def test_adding_words_at_the_preview_redrafts_it(chat):
    walk(chat, "preview")
    reply = chat.say("夫も病気で働けません")
    assert reply.state == "preview"
    assert "夫も病気で働けません" in json.dumps(reply.flexes[0], ensure_ascii=False)


def test_every_label_fits_and_no_question_asks_for_a_name(city):
    copy = Copy.load(city)

    def walk_tree(node, path=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk_tree(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk_tree(v, f"{path}[{i}]")
        else:
            yield path, str(node)

    for path, value in walk_tree(copy.raw):
        if path.endswith("label") or ".options" in path or path.startswith("topic_labels"):
            assert len(value) <= 20, path
        assert "お名前を" not in value and "名前を教えて" not in value, path
        filled = copy.fill(value, **{k: "x" for k in ("next_opening", "count", "topic", "value")})
        for placeholder in ("{city_name}", "{desk_name}", "{hours}", "{desk_phone}"):
            assert placeholder not in filled, path


def test_flex_messages_are_valid_for_the_line_sdk(chat):
    """Both Flex messages parse with line-bot-sdk's own models (what LINE accepts)."""
    from linebot.v3.messaging import FlexMessage

    preview = walk(chat, "preview")
    declined = chat.tap("同意しない")
    flexes = [m for m in preview.messages + declined.messages if m.flex is not None]
    assert {m.flex["type"] for m in flexes} == {"bubble", "carousel"}
    for m in flexes:
        parsed = FlexMessage.from_dict({"type": "flex", "altText": m.alt_text, "contents": m.flex})
        assert parsed is not None and parsed.contents is not None
        assert parsed.to_dict()["contents"]["type"] == m.flex["type"]


def test_long_writing_is_cut_in_the_preview_and_says_so(chat):
    walk(chat, "telling")
    long_text = "毎日のことがつらくて、" * 60  # 660 characters
    chat.say(long_text)
    reply = chat.say("人と話したい")
    shown = json.dumps(reply.flexes[0], ensure_ascii=False)
    assert long_text not in shown and long_text[:400] in shown
    assert "全文が伝わります" in shown
    assert chat.conversation().data["sheet"]["resident_words"][-1] == long_text
