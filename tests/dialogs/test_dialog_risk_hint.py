"""The soft hint: a message that may be about a crisis but raises no flag gets one gentle message
with the main numbers at the end of the usual reply — no crisis state, no handoff, no urgency."""

from __future__ import annotations

import pytest
from dialog_support import HIKIKOMORI_TEXT, YORISOI, cases_of, walk

HINT_INTRO = "つらい気持ちが続くときや、身の危険を感じるときは、24時間こちらにも相談できます："
# No lexicon phrase, but the model reads danger (checked below, so a retrained model that stops
# hinting on them fails here rather than silently).
HINTED = [
    "ここにいていいのかわからない",
    "もう頑張れない気がする",
]
# No lexicon phrase either, but the model is sure enough to raise the flag itself: the full crisis
# reply, as for a phrase the rules know.
MODEL_FLAGGED = "もう疲れた。何のために頑張ってるのかわからない"


@pytest.fixture(scope="module", autouse=True)
def _texts_really_hint(analyzer):
    for text in HINTED:
        assert analyzer.risk(text) == [] and analyzer.risk_hint(text), text
    assert not analyzer.risk_hint(HIKIKOMORI_TEXT)


def _gentle(reply) -> list[str]:
    return [t for t in reply.texts if t.startswith(HINT_INTRO)]


@pytest.mark.parametrize("text", HINTED)
@pytest.mark.parametrize("state", ["telling", "handed_off"])
def test_hinted_message_gets_the_gentle_numbers_and_the_state_stays(state, text, chat, session_factory):
    walk(chat, state)
    cases_before = [
        (c.id, c.priority, list(c.risk or [])) for c in cases_of(session_factory, chat.resident_id)
    ]
    reply = chat.say(text)

    assert reply.state == state  # not the crisis state
    (gentle,) = _gentle(reply)
    assert reply.texts[-1] == gentle  # one extra message, at the end
    assert YORISOI in gentle and "110" in gentle and "119" in gentle
    assert "いのちの電話" not in gentle  # the main numbers only, not the whole list
    assert "今すぐ相談員につなぐ" not in reply.buttons  # no urgent handoff offer
    after = [(c.id, c.priority, list(c.risk or [])) for c in cases_of(session_factory, chat.resident_id)]
    assert after == cases_before  # no new case, no urgency, no flag on the sheet


def test_plain_message_gets_no_numbers(chat):
    walk(chat, "telling")
    reply = chat.say(HIKIKOMORI_TEXT)
    assert reply.state == "telling"
    assert _gentle(reply) == [] and YORISOI not in reply.text


def test_buttons_stay_under_the_last_message(chat):
    walk(chat, "reflect")
    reply = chat.say(HINTED[0])
    assert _gentle(reply)
    # LINE shows quick replies only under the last message, so they move to the gentle one.
    assert all(not m.quick_replies for m in reply.messages[:-1])
    assert reply.messages[-1].quick_replies  # the step's buttons are still there to tap


@pytest.mark.parametrize("text", ["もう死にたいです", MODEL_FLAGGED])
def test_a_flag_brings_the_crisis_reply_not_the_hint(chat, analyzer, text):
    assert analyzer.risk(text) == ["suicide_risk"]
    walk(chat, "telling")
    reply = chat.say(text)
    assert reply.state == "crisis"
    assert _gentle(reply) == []


def test_a_flag_only_the_model_raises_is_not_in_the_lexicon():
    from nlp import risk

    assert risk.detect(MODEL_FLAGGED) == []


def test_command_words_get_no_hint(chat, analyzer):
    # 人と話したい can read a little like loneliness to a model, but here it is a command. With
    # the hint bar at zero every message would hint, so only the command rule keeps it quiet.
    from dataclasses import replace

    shipped = analyzer.thresholds
    analyzer.thresholds = replace(shipped, risk_hint=0.0)
    try:
        assert analyzer.risk_hint("人と話したい")
        walk(chat, "reflect")
        reply = chat.say("人と話したい")
    finally:
        analyzer.thresholds = shipped
    assert reply.state == "preview" and _gentle(reply) == []
