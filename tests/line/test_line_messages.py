"""Outbound → LINE message JSON: splitting long text, quick replies, sender, Flex (pure functions)."""

from __future__ import annotations

from linebot.v3.messaging import PushMessageRequest

from bot.line.outbound import chunk_messages, split_text, to_line_messages, utf16_len
from bot.line.webhook import WebhookRejected, verify
from bot.messages import Outbound, QuickReply, Sender


def test_sdk_signature_vector_is_accepted_and_a_forgery_is_not():
    # The known vector from line-platform.md: secret "channel_secret", body "bodybodybodybody".
    verify("channel_secret", b"bodybodybodybody", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k=")
    for bad in (None, "", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7K=", "garbage"):
        try:
            verify("channel_secret", b"bodybodybodybody", bad)
        except WebhookRejected as exc:
            assert exc.status == 400
        else:
            raise AssertionError(f"signature {bad!r} accepted")


def test_long_text_is_split_at_line_boundaries_within_5000_utf16_units():
    paragraph = "相談の内容をここに書きます。" * 30 + "\n"
    text = paragraph * 40  # ~17,000 characters
    parts = split_text(text)
    assert len(parts) >= 4
    assert "".join(parts) == text
    assert all(utf16_len(p) <= 5000 for p in parts)
    assert all(p.endswith("\n") for p in parts[:-1])


def test_emoji_count_twice_and_are_never_cut_in_half():
    text = "😀" * 4000  # 8,000 UTF-16 units, no boundaries at all
    parts = split_text(text)
    assert "".join(parts) == text
    assert [utf16_len(p) for p in parts] == [5000, 3000]


def test_quick_replies_go_on_the_last_piece_as_postback_or_message_actions():
    out = Outbound(
        text="あ" * 6000,
        quick_replies=[
            QuickReply(label="はい", data="consent=yes"),
            QuickReply(label="いいえ", text="いいえ"),
        ],
        sender=Sender(name="相談員 さとう", icon_url="https://example.org/icon.png"),
    )
    messages = to_line_messages(out)
    assert len(messages) == 2
    assert "quickReply" not in messages[0]
    items = messages[1]["quickReply"]["items"]
    assert items[0]["action"] == {
        "type": "postback",
        "label": "はい",
        "data": "consent=yes",
        "displayText": "はい",
    }
    assert items[1]["action"] == {"type": "message", "label": "いいえ", "text": "いいえ"}
    assert all(
        m["sender"] == {"name": "相談員 さとう", "iconUrl": "https://example.org/icon.png"} for m in messages
    )
    # line-bot-sdk's own models accept the shape.
    assert PushMessageRequest.from_dict({"to": "U" + "0" * 32, "messages": messages}) is not None


def test_flex_carries_alt_text_and_chunks_hold_at_most_five_messages():
    bubble = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "窓口のご案内"}]},
    }
    flex = to_line_messages(Outbound(flex=bubble, alt_text="窓口のご案内"))
    assert flex == [{"type": "flex", "altText": "窓口のご案内", "contents": bubble}]
    assert PushMessageRequest.from_dict({"to": "U" + "0" * 32, "messages": flex}) is not None
    twelve = [m for i in range(12) for m in to_line_messages(Outbound(text=f"{i}"))]
    assert [len(c) for c in chunk_messages(twelve)] == [5, 5, 2]
