"""Table-driven transcripts: each branch of the guided dialogue, from follow to handed off.

Each row: (action, argument, expected state, buttons that must be offered, phrases the reply must
contain). The analyzer is the real one; texts are chosen so the topics are unambiguous.
"""

from __future__ import annotations

import pytest
from dialog_support import cases_of

from bot.conversations import service as conversations
from handoff import service as handoff
from handoff.models import ConsentRecord

GREETING = [
    (
        "follow",
        None,
        "greeted",
        ["相談する"],
        ["福祉まるごと相談窓口", "無料", "お名前は聞きません", "0120-279-338"],
    ),
    (
        "tap",
        "相談する",
        "about_whom",
        ["自分のこと", "家族のこと", "知り合い・近所の人のこと", "仕事で関わっている人"],
        [],
    ),
]
CONSENT_AND_CONTACT = [
    ("tap", "同意する", "contact", ["このままLINEで", "電話がほしい", "窓口に行きたい"], []),
]

TRANSCRIPTS = {
    "self": [
        *GREETING,
        ("tap", "自分のこと", "telling", ["以上です"], ["どんなことでお困りですか"]),
        ("say", "仕事をやめてから生活費が足りません。", "telling", ["以上です"], ["受け取りました"]),
        ("say", "家賃も2か月払えていません。", "telling", ["以上です"], []),
        ("say", "以上です", "reflect", ["合っている", "直したい"], ["お金のこと", "住まいのこと"]),
        ("tap", "合っている", "followup", ["30代", "とばす"], ["とばす", "あなたの年代"]),
        ("tap", "40代", "followup", ["ひとり暮らし", "とばす"], ["一緒に暮らしている方"]),
        ("say", "ひとりです", "followup", ["最近", "とばす"], ["いつ頃から"]),
        ("tap", "とばす", "followup", ["特にない", "ある（書きます）"], ["関わっている所"]),
        ("tap", "特にない", "followup", ["今日・明日に困る", "急ぎではない"], ["今日・明日中"]),
        (
            "tap",
            "今日・明日に困る",
            "preview",
            ["同意する", "同意しない"],
            ["急ぎのこと", "相談員に伝わる内容", "同意"],
        ),
        *CONSENT_AND_CONTACT,
        (
            "tap",
            "このままLINEで",
            "handed_off",
            [],
            ["急ぎの相談として", "連絡はこのLINEでします", "受付時間中"],
        ),
    ],
    "family": [
        *GREETING,
        ("tap", "家族のこと", "telling", ["以上です"], ["ご家族のことで"]),
        ("say", "母の介護で毎日くたくたです。", "telling", ["以上です"], []),
        ("tap", "以上です", "reflect", ["合っている", "直したい"], ["介護"]),
        ("say", "はい", "followup", ["80代以上"], ["その方の年代"]),
        ("tap", "80代以上", "followup", ["配偶者・パートナーと"], ["どなたと暮らしていますか"]),
        ("tap", "とばす", "followup", ["数年"], []),
        ("tap", "数年", "followup", ["ある（書きます）"], []),
        ("tap", "ある（書きます）", "followup", ["とばす"], ["わかる範囲で書いてください"]),
        ("say", "ケアマネさん", "followup", ["急ぎではない"], []),
        ("tap", "急ぎではない", "preview", ["同意する"], ["つなぐシート"]),
        *CONSENT_AND_CONTACT,
        ("tap", "電話がほしい", "phone", ["書かずに進む"], ["電話番号"]),
        ("say", "でんわ", "phone", ["書かずに進む"], ["読み取れませんでした"]),
        ("say", "０９０-１２３４-５６７８", "handed_off", [], ["お電話でのご連絡をご希望と伝えました"]),
    ],
    "family_hikikomori": [
        *GREETING,
        ("tap", "家族のこと", "telling", ["以上です"], []),
        ("say", "息子が10年ひきこもっています。", "telling", ["以上です"], []),
        ("say", "本人と話もできません。", "telling", ["以上です"], []),
        ("tap", "以上です", "reflect", ["合っている"], ["ひきこもりのこと"]),
        (
            "tap",
            "合っている",
            "followup",
            ["40代", "60代以上", "とばす"],
            ["とてもよくあること", "今おいくつ"],
        ),
        ("tap", "40代", "followup", ["10年以上"], ["どのくらい"]),
        ("tap", "10年以上", "followup", ["知っている", "知らない", "わからない"], ["知っていますか"]),
        ("tap", "知らない", "followup", ["とても疲れている", "大丈夫"], ["疲れていませんか"]),
        ("tap", "とても疲れている", "followup", ["親と"], ["ご家族ご自身のつらさも"]),
        ("tap", "親と", "followup", ["特にない"], []),
        ("tap", "とばす", "followup", ["急ぎではない"], []),
        (
            "tap",
            "急ぎではない",
            "preview",
            ["同意する", "同意しない"],
            ["家族学習会", "さくらの会", "アウトリーチ"],
        ),
        *CONSENT_AND_CONTACT,
        ("tap", "窓口に行きたい", "handed_off", [], ["窓口でのご相談をご希望", "窓口は"]),
    ],
    "acquaintance": [
        *GREETING,
        ("tap", "知り合い・近所の人のこと", "telling", ["以上です"], ["わかる範囲で"]),
        ("say", "近所の高齢の方が、家賃を払えず家を追い出されそうだと話していました。", "telling", [], []),
        ("tap", "以上です", "reflect", ["合っている"], ["住まいのこと"]),
        ("tap", "合っている", "followup", ["70代"], ["その方の年代"]),
        ("tap", "70代", "followup", ["ひとり暮らし"], ["わかる範囲で"]),
        ("tap", "ひとり暮らし", "followup", ["今日・明日に困る"], []),
        ("tap", "とばす", "preview", ["同意する", "同意しない"], []),
        *CONSENT_AND_CONTACT,
        ("tap", "このままLINEで", "handed_off", [], ["相談員に伝えました"]),
    ],
    "professional": [
        *GREETING,
        ("tap", "仕事で関わっている人", "telling", ["以上です"], ["お名前などは書かなくて大丈夫"]),
        ("say", "担当している方が借金の返済に困っていて、家賃も滞納しています。", "telling", [], []),
        ("say", "以上", "reflect", ["合っている"], ["お金のこと"]),
        ("tap", "合っている", "followup", ["50代"], ["その方の年代"]),
        ("tap", "50代", "followup", [], []),
        ("tap", "とばす", "followup", [], []),
        ("tap", "とばす", "followup", ["急ぎではない"], []),
        ("tap", "急ぎではない", "preview", ["同意する"], []),
        *CONSENT_AND_CONTACT,
        ("tap", "このままLINEで", "handed_off", [], ["相談員に伝えました"]),
    ],
}


def play(chat, script):
    for action, arg, state, buttons, phrases in script:
        if action == "follow":
            reply = chat.follow()
        elif action == "tap":
            reply = chat.tap(arg)
        else:
            reply = chat.say(arg)
        where = f"after {action} {arg!r}: {reply.text[:400]!r} {reply.buttons}"
        assert reply.state == state, where
        for b in buttons:
            assert b in reply.buttons, f"missing button {b!r} {where}"
        for p in phrases:
            assert p in reply.text, f"missing {p!r} {where}"
        assert len(reply.messages) <= 5, where  # one reply request carries at most five
    return chat.last


@pytest.mark.parametrize("branch", list(TRANSCRIPTS))
def test_branch_transcript(branch, chat, session_factory, city):
    play(chat, TRANSCRIPTS[branch])
    (case,) = cases_of(session_factory, chat.resident_id)
    assert case.status == "waiting"
    expected_writer = "family" if branch == "family_hikikomori" else branch
    assert case.writer_type == expected_writer
    with session_factory() as session:
        sheet = handoff.latest_sheet(session, case_id=case.id)
        consent = session.query(ConsentRecord).filter_by(case_id=case.id).one()
        events = conversations.list_events(session, conversation_id=case.conversation_id)
    assert consent.text_version == "2026-11-v1"
    assert sheet.consent.given and sheet.writer_type == expected_writer
    assert sheet.resident_words and all(w in sheet.resident_words for w in sheet.resident_words)
    # Both sides of the conversation are in the log staff read, in order.
    authors = {e.author for e in events}
    assert {"resident", "bot"} <= authors


def test_self_branch_sheet_carries_answers_and_urgency(chat, session_factory):
    play(chat, TRANSCRIPTS["self"])
    (case,) = cases_of(session_factory, chat.resident_id)
    assert case.priority == "urgent"  # 今日・明日に困る
    with session_factory() as session:
        sheet = handoff.latest_sheet(session, case_id=case.id)
    assert sheet.person.age_band == "40代"
    assert sheet.household == ["ひとりです"]  # free text answers are kept as written
    assert sheet.urgency == "今日・明日に困る"
    assert sheet.agencies_involved == ["なし"]
    assert {"income", "housing"} <= set(sheet.categories)
    assert sheet.contact_preference == "line"


def test_hikikomori_branch_fills_the_hikikomori_section(chat, session_factory):
    play(chat, TRANSCRIPTS["family_hikikomori"])
    (case,) = cases_of(session_factory, chat.resident_id)
    with session_factory() as session:
        sheet = handoff.latest_sheet(session, case_id=case.id)
    assert sheet.hikikomori is not None
    assert sheet.hikikomori.person_age == "40代"
    assert sheet.hikikomori.duration == "10年以上"
    assert sheet.hikikomori.person_knows == "知らない"
    assert sheet.hikikomori.family_tiredness == "とても疲れている"
    assert "hikikomori" in sheet.subcategories
    assert sheet.contact_preference == "visit"


def test_family_branch_keeps_phone_only_when_asked_for(chat, session_factory):
    play(chat, TRANSCRIPTS["family"])
    (case,) = cases_of(session_factory, chat.resident_id)
    assert case.contact_preference == "phone"
    assert case.contact_phone == "090-1234-5678"
    with session_factory() as session:
        sheet = handoff.latest_sheet(session, case_id=case.id)
    assert sheet.agencies_involved == ["ケアマネさん"]


def test_first_message_is_kept_and_the_greeting_still_comes(chat):
    reply = chat.say("母の介護がつらいです")
    assert reply.state == "about_whom"
    assert "福祉まるごと相談窓口" in reply.text and "どなたのこと" in reply.text
    reply = chat.tap("家族のこと")
    assert "最初に書いてくださったことも" in reply.text
    reply = chat.tap("以上です")
    assert reply.state == "reflect" and "介護" in reply.text


def test_free_text_instead_of_who_is_it_about_moves_on(chat):
    chat.follow()
    chat.tap("相談する")
    reply = chat.say("夫の借金のことで悩んでいます")
    assert reply.state == "telling" and "以上です" in reply.buttons
    with chat.session_factory() as s:
        conv = conversations.active_conversation(s, resident_id=chat.resident_id)
        assert conv.data["writer"] == "family"


def test_correction_toggles_topics_then_adds_words(chat, session_factory):
    chat.follow()
    chat.tap("相談する")
    chat.tap("自分のこと")
    chat.say("家賃が払えません")
    reply = chat.tap("以上です")
    assert reply.state == "reflect" and "住まいのこと" in reply.text
    reply = chat.tap("直したい")
    assert reply.state == "correct_topics"
    assert "－住まい" in reply.buttons and "＋仕事" in reply.buttons and "これでよい" in reply.buttons
    reply = chat.tap("＋仕事")
    assert "・仕事のこと" in reply.text and "－仕事" in reply.buttons
    reply = chat.tap("－住まい")
    assert "住まいのこと" not in reply.text and "＋住まい" in reply.buttons
    reply = chat.say("住まい")  # typing a topic's name toggles it too
    assert "住まいのこと" in reply.text
    reply = chat.tap("これでよい")
    assert reply.state == "correct_text" and "特にない" in reply.buttons
    reply = chat.say("子どもが不登校で学校に行けていません")
    assert reply.state == "followup" and "書き足しました" in reply.text
    with session_factory() as s:
        conv = conversations.active_conversation(s, resident_id=chat.resident_id)
        topics = conv.data["topics"]
    assert "work" in topics and "housing" in topics and "parenting" in topics
    reply = chat.say("人と話したい")
    assert reply.state == "preview"
    flex = reply.flexes[0]
    shown = str(flex)
    assert (
        "仕事のこと" in shown
        and "子育てや子どものこと" in shown
        and "子どもが不登校で学校に行けていません" in shown
    )


def test_nothing_understood_goes_straight_to_topic_buttons(chat):
    chat.follow()
    chat.tap("相談する")
    chat.tap("自分のこと")
    chat.say("あの")
    reply = chat.tap("以上です")
    assert reply.state == "correct_topics"
    assert "うまく読み取れなかった" in reply.text
    assert len(reply.buttons) == 9 and all(len(b) <= 20 for b in reply.buttons)


def test_tapped_buttons_are_logged_with_their_words(chat, session_factory):
    chat.follow()
    chat.tap("相談する")
    chat.tap("家族のこと")
    with session_factory() as s:
        conv = conversations.active_conversation(s, resident_id=chat.resident_id)
        said = [
            e.text for e in conversations.list_events(s, conversation_id=conv.id) if e.author == "resident"
        ]
    assert said == [None, "相談する", "家族のこと"]
