"""The API other parts code against (docs/design.md "NLP API") and the classify contract."""

from __future__ import annotations

import io
import json

import pytest

import nlp
from nlp.cli import classify_stream
from nlp.taxonomy import CATEGORIES, RISK_FLAGS, SUBCATEGORIES, parent_of


def test_analysis_shape(analyzer: nlp.Analyzer) -> None:
    a = analyzer.analyze("母が80代で、兄が8年ひきこもっています。家賃も滞納していて困っています。")
    d = a.to_dict()
    assert set(d) >= {"categories", "primary", "subcategories", "risk", "facts", "summary", "scores"}
    assert set(d["facts"]) == {"subjects", "ages", "durations", "household", "agencies", "amounts"}
    json.dumps(d, ensure_ascii=False)
    assert "family" in a.categories and "hikikomori" in a.subcategories
    assert a.primary in a.categories
    assert all(c in CATEGORIES for c in a.categories)
    assert all(s in SUBCATEGORIES and parent_of(s) in a.categories for s in a.subcategories)
    assert a.summary


@pytest.mark.parametrize(
    "text", ["こんにちは", "テスト", "test", "ゴミの日はいつですか", "どこに相談したらいいかわからない", ""]
)
def test_no_concern(analyzer: nlp.Analyzer, text: str) -> None:
    a = analyzer.analyze(text)
    assert a.categories == [] and a.primary is None and a.subcategories == []


def test_risk_flags_are_known(analyzer: nlp.Analyzer) -> None:
    assert analyzer.risk("消えたい") == ["suicide_risk"]
    assert set(analyzer.risk("夫に殴られて今トイレに隠れてる。母が倒れて意識がない")) <= set(RISK_FLAGS)


def test_classify_stream_keeps_order_and_ids(analyzer: nlp.Analyzer) -> None:
    lines = [
        {"id": "x1", "text": "息子が不登校で、借金もあって生活が苦しいです"},
        {"id": 2, "text": "こんにちは"},
        {"id": "x3", "text": "もう死にたい"},
    ]
    stdin = io.StringIO("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    stdout = io.StringIO()
    assert classify_stream(stdin, stdout, analyzer) == 3
    out = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [o["id"] for o in out] == ["x1", 2, "x3"]
    for o in out:
        assert set(o) >= {"id", "categories", "primary", "subcategories", "risk"}
    assert out[1]["categories"] == [] and out[1]["primary"] is None
    assert "suicide_risk" in out[2]["risk"]
    assert "parenting" in out[0]["categories"] and "income" in out[0]["categories"]
