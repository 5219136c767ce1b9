"""Normalisation of LINE writing: width, emoji, elongation, line breaks, long text chunks."""

from __future__ import annotations

import pytest

from nlp.normalize import chunks, normalize, sentences, to_hiragana


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ｶﾞｯｺｳ　ｲｷﾀｸﾅｲ", "ガッコウ イキタクナイ"),  # half-width kana, ideographic space
        ("３０歳", "30歳"),  # full-width digits
        ("つらい😭😭😭", "つらい"),  # emoji go
        ("しにたーーーい", "しにたーい"),  # elongation runs collapse
        ("もう無理！！！", "もう無理!"),
        ("母が倒れた\n意識がない", "母が倒れた。意識がない"),  # Enter as a full stop
        ("ね\u200bえ", "ねえ"),  # zero-width characters
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent() -> None:
    text = "ｼﾆﾀｲ😭\n\nもう　むり！！\r\nたすけて〜〜"
    assert normalize(normalize(text)) == normalize(text)


def test_sentences_and_chunks_cover_the_text() -> None:
    text = "一文目です。二文目！三文目？" * 500
    assert "".join(sentences(text)) == text
    pieces = chunks(text, 1000)
    assert "".join(pieces) == text
    assert all(len(p) <= 1000 for p in pieces)
    unbroken = "あ" * 5000  # no sentence end at all
    assert "".join(chunks(unbroken, 1000)) == unbroken


def test_to_hiragana() -> None:
    assert to_hiragana("シャッキン") == "しゃっきん"
