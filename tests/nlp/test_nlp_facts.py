"""Facts for the sheet (who, ages, durations, household, agencies, amounts) and masking."""

from __future__ import annotations

import pytest

import nlp
from nlp.facts import extract_facts
from nlp.normalize import normalize

FACTS = [
    # (text, field, expected values that must all be present)
    ("母が80代で、兄が8年ひきこもっています", "subjects", ["母", "兄"]),
    ("母が80代で、兄が8年ひきこもっています", "ages", ["80代"]),
    ("母が80代で、兄が8年ひきこもっています", "durations", ["8年"]),
    ("私は82歳、息子は53歳です", "subjects", ["本人", "息子"]),
    ("私の母が認知症で、私も仕事を辞めました", "subjects", ["本人", "母"]),
    ("私の借金のことです", "subjects", ["本人"]),
    ("私は82歳、息子は53歳です", "ages", ["82歳", "53歳"]),
    ("一人暮らしの父(78)が心配です", "ages", ["78歳"]),
    ("一人暮らしの父(78)が心配です", "household", ["一人暮らし"]),
    ("娘が不登校になって半年です", "durations", ["半年"]),
    ("10年以上引きこもっている弟がいます", "durations", ["10年以上"]),
    ("３０歳の息子が仕事を辞めて３か月", "ages", ["30歳"]),
    ("３０歳の息子が仕事を辞めて３か月", "durations", ["3か月"]),
    ("お母さんと親父と兄貴の世話をしています", "subjects", ["母", "父", "兄"]),
    ("母と兄と私の3人暮らしです", "household", ["3人暮らし", "母", "兄"]),
    ("夫と子ども二人の四人家族です", "household", ["四人家族", "夫", "子ども"]),
    ("包括とケアマネさんには相談済みです", "agencies", ["地域包括支援センター", "ケアマネジャー"]),
    ("ハローワークに通っていて、病院にもかかっています", "agencies", ["ハローワーク", "病院"]),
    ("学校の担任とスクールカウンセラーに話しました", "agencies", ["学校"]),
    ("民生委員さんと社協の人が来てくれた", "agencies", ["民生委員", "社会福祉協議会"]),
    ("借金が200万円、月5万の返済があります", "amounts", ["200万円", "月5万"]),
    ("家賃を３万円滞納しています", "amounts", ["3万円"]),
    ("小3の娘が学校に行けません", "ages", ["小3"]),
]


@pytest.mark.parametrize(("text", "field", "expected"), FACTS)
def test_facts(text: str, field: str, expected: list[str]) -> None:
    values = getattr(extract_facts(normalize(text)), field)
    for value in expected:
        assert value in values, (field, values)


@pytest.mark.parametrize(
    ("text", "field", "absent"),
    [
        ("2024年に離婚しました", "durations", "024年"),
        ("2024年に離婚しました", "durations", "2024年"),
        ("息子は53歳です", "subjects", "子ども"),
        # a parent writing about a son is not the person affected
        ("私の息子が8年部屋から出てきません", "subjects", "本人"),
        ("うちの娘が学校に行けていません", "subjects", "本人"),
        ("わたしの お母さん が たおれました", "subjects", "本人"),
        ("年金で暮らしています", "durations", "年"),
    ],
)
def test_facts_do_not_invent(text: str, field: str, absent: str) -> None:
    assert absent not in getattr(extract_facts(normalize(text)), field)


def test_analysis_carries_facts_and_summary(analyzer: nlp.Analyzer) -> None:
    a = analyzer.analyze("80代の母と、8年ひきこもっている50代の兄がいます。ケアマネさんに相談しています。")
    assert "母" in a.facts.subjects and "兄" in a.facts.subjects
    assert "80代" in a.facts.ages and "8年" in a.facts.durations
    assert "ケアマネジャー" in a.facts.agencies
    assert "ひきこもり" in a.summary and "80代" in a.summary


MASKS = [
    ("電話は090-1234-5678です", "電話は［電話］です"),
    ("固定は026-123-4567、フリーダイヤル0120-279-338", "固定は［電話］、フリーダイヤル［電話］"),
    ("メールは taro.yamada@example.co.jp まで", "メールは ［メール］ まで"),
    ("住所は長野市中央1丁目2-3です", "住所は［住所］です"),
    ("〒380-0001 長野県長野市大字長野1234番地", "［郵便番号］ ［住所］"),
    ("コーポ山田201号室です", "［住所］です"),
    ("山田太郎です", "［氏名］です"),
    ("佐藤さんに相談しました", "［氏名］さんに相談しました"),
    ("田中先生に言われた", "［氏名］先生に言われた"),
    # roles and family words are not names; amounts and dates are not phone numbers
    ("お母さんと民生委員さんとケアマネさんが来た", "お母さんと民生委員さんとケアマネさんが来た"),
    ("家賃は5万円で、2024年3月から滞納", "家賃は5万円で、2024年3月から滞納"),
    ("小3の娘と3人暮らし", "小3の娘と3人暮らし"),
]


@pytest.mark.parametrize(("text", "masked"), MASKS)
def test_mask(analyzer: nlp.Analyzer, text: str, masked: str) -> None:
    assert analyzer.mask(text) == masked


def test_mask_uses_ner_for_names_in_context(analyzer: nlp.Analyzer) -> None:
    out = analyzer.mask("息子の健太が部屋から出てこない")
    assert "健太" not in out and "［氏名］" in out
