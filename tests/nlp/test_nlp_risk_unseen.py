"""Crisis recall on phrasings written apart from the lexicon (tests/nlp/data/risk_unseen.jsonl).

The file was written before reading nlp/risk.py, so it measures how well the rules generalise
to a new writer rather than how well they remember their own corpus. A missed crisis is the
worst bug, so recall is held to 0.95 per flag; traps (idioms, negation, past-and-over, news,
hobbies) must stay quiet at least 90% of the time. Misses are printed to guide the lexicon.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nlp

DATA = Path(__file__).parent / "data" / "risk_unseen.jsonl"
FLAGS = ("suicide_risk", "violence_risk", "medical_emergency")
MIN_RECALL = 0.95
MIN_TRAP_QUIET = 0.90


def _rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def predictions(analyzer: nlp.Analyzer) -> list[tuple[dict, set[str]]]:
    return [(row, set(analyzer.analyze(row["text"]).risk)) for row in _rows()]


def test_file_is_balanced_enough_to_mean_something() -> None:
    rows = _rows()
    assert len({r["id"] for r in rows}) == len(rows)
    for flag in FLAGS:
        assert sum(flag in r["risk"] for r in rows) >= 30, flag
    assert sum(r["trap"] for r in rows) >= 80
    assert all(not r["risk"] for r in rows if r["trap"])


@pytest.mark.parametrize("flag", FLAGS)
def test_recall_per_flag(predictions: list[tuple[dict, set[str]]], flag: str) -> None:
    gold = [(row, got) for row, got in predictions if flag in row["risk"]]
    misses = [row for row, got in gold if flag not in got]
    recall = 1 - len(misses) / len(gold)
    for row in misses:
        print(f"MISS {flag} {row['id']}: {row['text']}")
    print(f"{flag}: recall {recall:.3f} ({len(gold) - len(misses)}/{len(gold)})")
    assert recall >= MIN_RECALL


def test_traps_stay_quiet(predictions: list[tuple[dict, set[str]]]) -> None:
    traps = [(row, got) for row, got in predictions if row["trap"]]
    alarms = [(row, got) for row, got in traps if got]
    quiet = 1 - len(alarms) / len(traps)
    for row, got in alarms:
        print(f"FALSE ALARM {sorted(got)} {row['id']}: {row['text']}")
    print(f"traps quiet {quiet:.3f} ({len(traps) - len(alarms)}/{len(traps)})")
    assert quiet >= MIN_TRAP_QUIET
