"""The soft risk hint: a second, lower bar that only shows the safety numbers gently.

The rule: `risk_hint` is true only when no flag fired, and either the model's risk score for a
flag passes `Thresholds.risk_hint` (unless the rules read that flag's phrase and set it aside as
negated or over), or a crisis root (死にたい, 消えたい, 殴られ …) survives idiom removal, negation
and "over now". Flags and hint are never both true.
"""

from __future__ import annotations

import pytest

from nlp import risk

# Indirect phrasings no lexicon phrase catches; the hint must (model-read).
HINTED = [
    "家に帰るのが怖い。夫の機嫌が悪いと何をされるかわからない",
    "もう疲れた。何のために頑張ってるのかわからない",
    "胸がぎゅっとなって息ができない感じがする",
    "夫が怒鳴ると子どもが震えて隠れる",
    "このまま眠って起きなければいいのに",
    "いっそ全部なくなればいいのに",
    "もう頑張れない",
]

QUIET = [
    # idioms and hyperbole
    "お腹すいて死にそう",
    "暑くて死ぬ〜",
    "スマホの電池が死んだ",
    "消えたいって歌詞の曲が好き",
    "首を長くして待っています",
    # negation and "over now"
    "死にたいとは思っていない",
    "死にたいわけじゃないけど、仕事がつらい",
    "以前は死にたいと思っていたが、今は落ち着いています",
    "夫に殴られたことはありません",
    # greetings and plain welfare questions
    "こんにちは",
    "よろしくお願いします",
    "児童手当の申請はどこですか",
    "息子が10年ひきこもっています。",
    "家賃の支払いが遅れそうで、相談できる窓口を知りたいです",
    "母の介護認定の更新について教えてください",
]


@pytest.mark.parametrize("text", HINTED)
def test_indirect_phrasings_get_the_numbers(analyzer, text):
    # No lexicon phrase catches these; the model reads them — as a flag when it is sure, else
    # as the hint. Either way the numbers are shown; never both signals at once.
    result = analyzer.analyze(text)
    assert bool(result.risk) != result.risk_hint
    assert analyzer.risk_hint(text) is result.risk_hint
    assert result.to_dict()["risk_hint"] is result.risk_hint


@pytest.mark.parametrize("text", QUIET)
def test_no_hint_on_idioms_negations_greetings_and_questions(analyzer, text):
    result = analyzer.analyze(text)
    assert result.risk == [] and result.risk_hint is False
    assert analyzer.risk_hint(text) is False


@pytest.mark.parametrize(
    "text", ["もう死にたいです", "夫に殴られて、今も怖いです", "父が倒れて息をしていません"]
)
def test_flags_and_hint_are_never_both(analyzer, text):
    result = analyzer.analyze(text)
    assert result.risk and result.risk_hint is False
    assert analyzer.risk_hint(text) is False


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("夫に殴られたことはありません", risk.VIOLENCE),  # negated
        ("死にたいとは思っていない", risk.SUICIDE),  # negated
        ("以前は死にたいと思っていたが、今は落ち着いています", risk.SUICIDE),  # over now
    ],
)
def test_model_cannot_bring_back_a_flag_the_rules_set_aside(analyzer, text, flag):
    assert flag in risk.discarded_flags(text)
    assert analyzer.analyze(text).risk == []


def test_model_flags_still_add_when_the_rules_saw_nothing(analyzer):
    # The model adds a flag only where no phrase was set aside: recall is kept.
    text = "体が重くて、このまま目が覚めなければ楽なのに"
    assert risk.discarded_flags(text) == set()
    assert analyzer.analyze(text).risk == [risk.SUICIDE]


@pytest.mark.parametrize(
    "text",
    ["死にたい", "消えてしまいたい", "彼に殴られそう", "手首を切ってしまう", "血が止まらない", "息が苦しい"],
)
def test_crisis_roots_hint(text):
    assert risk.hint_roots(text)


@pytest.mark.parametrize(
    "text",
    [
        "死にたいとは思っていない",
        "消えたいとかじゃないよ",
        "以前は死にたいと思っていたが、今は落ち着いています",
        "暑くて死にそう",
        "殺虫剤を買った",
        "血圧が高めです",
        "意識しすぎて緊張する",
        "自殺対策の講座に出ました",
    ],
)
def test_crisis_roots_quiet_on_negation_past_and_idioms(text):
    assert risk.hint_roots(text) == []


def test_threshold_is_between_the_hint_and_the_flag(analyzer):
    for flag in ("suicide_risk", "violence_risk", "medical_emergency"):
        assert 0.0 < analyzer.thresholds.risk_hint < analyzer.thresholds.of_risk(flag)
