"""The shipped model reproduces the dev metrics recorded when it was trained.

`python -m nlp.train` writes nlp/model/metrics.json (and the dev split it used); this test
re-evaluates the shipped analyzer on that split and expects the same numbers — so a changed
rule, threshold or feature extractor that silently moves quality shows up here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import nlp
from nlp.evaluate import evaluate, read_jsonl
from nlp.train import MODEL_DIR, SPLITS_DIR, is_dev

METRICS = MODEL_DIR / "metrics.json"
DEV = SPLITS_DIR / "dev.jsonl"

pytestmark = pytest.mark.skipif(not METRICS.exists(), reason="no shipped model")


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(METRICS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dev_rows() -> list[dict]:
    return read_jsonl(DEV)


def test_dev_split_is_the_recorded_one(recorded: dict, dev_rows: list[dict]) -> None:
    digest = hashlib.sha1("\n".join(sorted(str(r["id"]) for r in dev_rows)).encode()).hexdigest()
    assert digest == recorded["dev_ids_sha1"]
    assert len(dev_rows) == recorded["dev_examples"]
    assert all(is_dev(r) for r in dev_rows)  # the split rule is the stable id hash


def test_shipped_model_reproduces_dev_metrics(
    analyzer: nlp.Analyzer, recorded: dict, dev_rows: list[dict]
) -> None:
    assert analyzer.has_model
    metrics = evaluate(dev_rows, analyzer)
    dev = recorded["dev"]
    for key in ("top_micro_f1", "top_macro_f1", "primary_accuracy", "sub_micro_f1", "no_concern_correct"):
        assert metrics[key] == pytest.approx(dev[key], abs=1e-9), key
    for flag, values in dev["risk"].items():
        assert metrics["risk"][flag]["recall"] == pytest.approx(values["recall"], abs=1e-9), flag
        assert metrics["risk"][flag]["precision"] == pytest.approx(values["precision"], abs=1e-9), flag
    assert metrics["trap_false_alarms"] == dev["trap_false_alarms"]


# The bar is suicide recall 1.00 and violence 0.95. Since the dev split holds ten writers
# the rules were never fitted to, the shipped analyzer is below it (README, "NLP"); these floors
# are what it measured, so a retrain or rule change that loses crises fails here.
RISK_RECALL_FLOOR = {"suicide_risk": 0.90, "violence_risk": 0.88, "medical_emergency": 0.90}


@pytest.mark.parametrize("flag", sorted(RISK_RECALL_FLOOR))
def test_recorded_risk_recall_has_not_regressed(recorded: dict, flag: str) -> None:
    assert recorded["dev"]["risk"][flag]["recall"] >= RISK_RECALL_FLOOR[flag]


def test_model_is_small() -> None:
    size = sum(p.stat().st_size for p in Path(MODEL_DIR).rglob("*") if p.is_file())
    assert size < 20 * 1024 * 1024  # textcat ~6 MB + lexical ~10 MB (float16; grows with the vocabulary)
