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


def test_classify_stream_survives_bad_lines(analyzer: nlp.Analyzer) -> None:
    stdin = io.StringIO('{"id": "a", "text": "借金が返せない"}\nnot json\n\n{"id": "b"}\n')
    stdout = io.StringIO()
    assert classify_stream(stdin, stdout, analyzer) == 3  # blank lines are skipped
    out = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert out[0]["id"] == "a" and "income" in out[0]["categories"]
    assert out[1]["id"] is None and "error" in out[1] and out[1]["categories"] == []
    assert out[2] == {**out[2], "id": "b", "categories": [], "primary": None}


def test_evaluate_main_prints_the_metrics(tmp_path, capsys) -> None:
    from nlp.evaluate import main

    rows = [
        {
            "id": "1",
            "text": "借金が返せなくて、もう死にたい",
            "categories": ["income", "medical_welfare"],
            "primary": "income",
            "subcategories": ["debt", "mental_health"],
            "risk": ["suicide_risk"],
        },
        {
            "id": "2",
            "text": "死ぬほど忙しい",
            "categories": [],
            "primary": None,
            "subcategories": [],
            "risk": [],
            "trap": True,
        },
    ]
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert main(str(path)) == 0
    out = capsys.readouterr().out
    for needle in (
        "top-level micro-F1",
        "macro-F1",
        "primary accuracy",
        "subcategory micro-F1",
        "suicide_risk",
        "violence_risk",
        "false alarms on traps: 0 of 1",
    ):
        assert needle in out
    assert main(str(tmp_path / "missing.jsonl")) == 2
