"""Categories, subcategories and 主訴 for messages written for these tests (not from the corpus).

Each row: text, top-level categories that must be ticked, subcategories that must be ticked,
and the expected primary (None = don't check). Extra labels are allowed — staff can untick —
but a missing one means a need nobody sees, so the tables check inclusion.
"""

from __future__ import annotations

import pytest

import nlp

CASES = [
    # family / hikikomori, written by parents and siblings
    (
        "50歳の息子が10年以上ひきこもっていて、80代の私たちも先が不安です",
        ["family"],
        ["hikikomori"],
        "family",
    ),
    ("兄が部屋から何年も出てこない。母はもう限界みたい", ["family"], ["hikikomori"], "family"),
    ("むすこ が ずっと へや に います。しごと も しません", ["family"], [], None),
    # medical / welfare
    (
        "母の認知症がすすんで、要介護の申請をしたいです",
        ["medical_welfare"],
        ["nursing_care"],
        "medical_welfare",
    ),
    (
        "うつ病で通院していますが、気分が落ち込んで何もできません",
        ["medical_welfare"],
        ["mental_health"],
        None,
    ),
    ("障害者手帳を持っている弟の今後の生活が心配です", ["medical_welfare"], ["disability"], None),
    ("がんの治療費が高くて払えるか不安です", ["medical_welfare"], ["illness"], None),
    # income
    ("借金が300万円あって返済が追いつきません", ["income"], ["debt"], "income"),
    ("国保税を滞納してしまいました", ["income"], [], "income"),
    ("年金だけでは生活費が足りず、食費を削っています", ["income"], ["living_expenses"], "income"),
    # work
    ("残業代が払われないし、上司のパワハラもひどい", ["work"], [], "work"),
    ("失業して半年、仕事が見つかりません。ハローワークには通っています", ["work"], ["job_change"], "work"),
    # parenting
    ("中2の娘が不登校になって3か月です", ["parenting"], ["school_refusal"], "parenting"),
    ("3歳の息子の言葉が遅くて、発達が気になります", ["parenting"], ["development"], "parenting"),
    ("妊娠したけど、ひとりで育てられるか不安です", ["parenting"], ["pregnancy"], None),
    ("子どもの大学の学費が払えそうにありません", ["parenting"], ["education_funds"], None),
    # housing
    ("家賃を2か月滞納していて、大家さんから退去を求められています", ["housing"], ["rent"], None),
    ("アパートを借りたいけど保証人がいません", ["housing"], ["guarantor"], "housing"),
    # other
    ("訪問販売で高い布団を買わされました。解約できますか", ["other"], ["rights_protection"], "other"),
    ("イノシシに畑を荒らされて困っています", ["other"], ["agriculture"], "other"),
    ("近所の人とのトラブルで悩んでいます", ["other"], ["community"], None),
    # complex households: every category that applies
    (
        "80代の母の介護をしながら、50代の兄がひきこもっています。母の年金だけで生活が苦しいです",
        ["family", "income", "medical_welfare"],
        ["hikikomori"],
        None,
    ),
    (
        "シングルマザーで借金があり、小学生の息子が学校に行けなくなりました",
        ["income", "parenting"],
        ["debt", "school_refusal"],
        None,
    ),
    (
        "病気で仕事を辞めて収入がなくなり、家賃も払えていません",
        ["medical_welfare", "income", "housing"],
        ["illness"],
        None,
    ),
    # 主訴 cue
    (
        "息子の不登校のこともありますが、一番困っているのは借金の返済です",
        ["income", "parenting"],
        ["debt", "school_refusal"],
        "income",
    ),
    # dialects and LINE writing
    ("おかんの介護でもう毎日しんどいわ、仕事もやめなあかんかも", ["medical_welfare"], ["nursing_care"], None),
    ("ばあちゃんが認知症になってしまって、どうすべかね", ["medical_welfare"], ["nursing_care"], None),
    ("ｼｬｯｷﾝ ｶｴｾﾅｲ ﾀｽｹﾃ", ["income"], ["debt"], "income"),
    ("家賃\n払えない\nどうしよう😭", ["housing"], ["rent"], None),
    # professionals and neighbours write too
    (
        "民生委員です。一人暮らしの高齢の方が認知症のようで、ゴミ屋敷になっています",
        ["medical_welfare"],
        [],
        None,
    ),
    (
        "ケアマネです。担当の方の息子さんがひきこもりで、介護にも協力してもらえません",
        ["family"],
        ["hikikomori"],
        None,
    ),
]


@pytest.mark.parametrize(("text", "categories", "subcategories", "primary"), CASES)
def test_categories(
    analyzer: nlp.Analyzer, text: str, categories: list[str], subcategories: list[str], primary: str | None
) -> None:
    if not analyzer.has_model:
        pytest.skip("category tables are for the shipped model (rules alone are a fallback)")
    a = analyzer.analyze(text)
    assert set(categories) <= set(a.categories), a.to_dict()
    assert set(subcategories) <= set(a.subcategories), a.to_dict()
    if primary is not None:
        assert a.primary == primary, a.to_dict()
    assert a.primary in a.categories


NO_CONCERN = [
    "こんにちは",
    "はじめまして。よろしくお願いします",
    "テスト",
    "test",
    "ゴミの日はいつですか",
    "燃えないゴミは何曜日？",
    "市役所は何時まで開いていますか",
    "どこに相談したらいいかわからない",
    "相談したいです",
    "ありがとうございました！",
    "👍",
    "ゲームで死んだ",
]


@pytest.mark.parametrize("text", NO_CONCERN)
def test_no_concern(analyzer: nlp.Analyzer, text: str) -> None:
    a = analyzer.analyze(text)
    assert (a.categories, a.primary, a.subcategories) == ([], None, []), a.to_dict()


def test_ten_thousand_character_rant_is_handled(analyzer: nlp.Analyzer) -> None:
    rant = ("借金の返済がきつくて毎月赤字です。" * 300) + ("息子が不登校で家にいます。" * 300)
    a = analyzer.analyze(rant)
    assert "income" in a.categories
    assert a.risk == []
