"""Crisis recall on a held-out set nobody trained or tuned on (tests/nlp/data/risk_heldout_g.jsonl).

Writer G wrote 510 training examples and then, apart from them, these 152 messages in new
situations and new wording (very indirect farewells, plans, third-party reports; idioms such as
自殺点, 死海, 殺陣). Neither the lexicon nor the thresholds were ever fitted to this file, so its
numbers are the honest estimate of how the bot does on a new writer. The floors sit just under
what the shipped analyzer measured (README, "NLP"): they catch a regression, they are not a
target to tune to.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nlp

DATA = Path(__file__).parent / "data" / "risk_heldout_g.jsonl"
# flag -> minimum recall (measured with the shipped model, rounded down).
MIN_RECALL = {"suicide_risk": 0.65, "violence_risk": 0.80, "medical_emergency": 0.85}
MIN_TRAP_QUIET = 0.85
# Every message with any flag must get the safety numbers in the next reply: a flag, or at least
# the soft hint (Analysis.risk_hint).
MIN_NUMBERS_SHOWN = 0.85


def _rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def analyses(analyzer: nlp.Analyzer) -> list[tuple[dict, nlp.Analysis]]:
    return [(row, analyzer.analyze(row["text"])) for row in _rows()]


def test_file_is_held_out_and_balanced() -> None:
    rows = _rows()
    assert len({r["id"] for r in rows}) == len(rows) >= 150
    assert all(r["id"].startswith("gh-") for r in rows)
    for flag in MIN_RECALL:
        assert sum(flag in r["risk"] for r in rows) >= 20, flag
    assert all(not r["risk"] for r in rows if r["trap"])
    # not in the training corpus
    corpus = Path(nlp.__file__).parent / "data" / "corpus"
    trained = {json.loads(line)["text"] for p in corpus.glob("*.jsonl") for line in p.open(encoding="utf-8")}
    assert not trained & {r["text"] for r in rows}


@pytest.mark.parametrize("flag", sorted(MIN_RECALL))
def test_recall_per_flag(analyses: list[tuple[dict, nlp.Analysis]], flag: str) -> None:
    gold = [(row, a) for row, a in analyses if flag in row["risk"]]
    misses = [row for row, a in gold if flag not in a.risk]
    recall = 1 - len(misses) / len(gold)
    for row in misses:
        print(f"MISS {flag} {row['id']}: {row['text'][:80]}")
    print(f"{flag}: recall {recall:.3f} ({len(gold) - len(misses)}/{len(gold)})")
    assert recall >= MIN_RECALL[flag]


def test_crises_get_the_numbers(analyses: list[tuple[dict, nlp.Analysis]]) -> None:
    crises = [(row, a) for row, a in analyses if row["risk"]]
    shown = sum(1 for _, a in crises if a.risk or a.risk_hint)
    print(f"numbers shown for {shown}/{len(crises)} crises")
    assert shown / len(crises) >= MIN_NUMBERS_SHOWN


def test_traps_stay_quiet(analyses: list[tuple[dict, nlp.Analysis]]) -> None:
    traps = [(row, a) for row, a in analyses if row["trap"]]
    alarms = [(row, a) for row, a in traps if a.risk]
    quiet = 1 - len(alarms) / len(traps)
    for row, a in alarms:
        print(f"FALSE ALARM {a.risk} {row['id']}: {row['text'][:80]}")
    print(f"traps quiet {quiet:.3f} ({len(traps) - len(alarms)}/{len(traps)})")
    assert quiet >= MIN_TRAP_QUIET
