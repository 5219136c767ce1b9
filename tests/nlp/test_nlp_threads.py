"""One analyzer shared by the worker's threads: every call must work and give the same answer.

SudachiPy's tokenizer raises "Already borrowed" when two threads tokenise at once; the dialogue's
crisis check runs the classifier (and so the tokenizer) on every message, so an unguarded
tokenizer would turn a crisis into an exception under load. nlp.components.SUDACHI_LOCK guards it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import nlp

TEXTS = [
    "もう死にたい。息子が8年部屋から出てこなくて、私も限界です",
    "家賃を3か月滞納していて、大家さんから出て行ってと言われました",
    "夫に殴られて顔が腫れています。今トイレに隠れています",
    "山田太郎さん（090-1234-5678）から相談がありました",
    "母が倒れて意識がない",
    "こんにちは",
    "ばあちゃんの介護で夜ねれない イライラしてどなってしまう 自分がいや " * 20,
    "くすり\nためてある",
]


def _all(analyzer: nlp.Analyzer, text: str) -> tuple:
    analysis = analyzer.analyze(text)
    return (
        tuple(analysis.categories),
        analysis.primary,
        tuple(analysis.risk),
        analysis.risk_hint,
        tuple(analyzer.risk(text)),
        analyzer.risk_hint(text),
        analyzer.mask(text),
    )


def test_threads_sharing_one_analyzer_get_the_sequential_answers(analyzer: nlp.Analyzer) -> None:
    expected = {text: _all(analyzer, text) for text in TEXTS}
    work = TEXTS * 25
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda text: (text, _all(analyzer, text)), work))
    assert len(results) == len(work)
    for text, got in results:
        assert got == expected[text], text
