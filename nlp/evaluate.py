"""`consult-bot nlp-eval FILE.jsonl`: how well the analyzer matches a labelled file.

    python -m nlp.evaluate [FILE.jsonl ...]     (default: the dev split, nlp/data/splits/dev.jsonl)

Prints top-level micro/macro F1, primary accuracy, subcategory micro-F1, per-category F1, risk
recall/precision per flag, false alarms on traps, and the misses that matter most (risk).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nlp.taxonomy import CATEGORIES, RISK_FLAGS, SUBCATEGORIES

DEFAULT_DEV = Path(__file__).parent / "data" / "splits" / "dev.jsonl"


def read_jsonl(path: Path | str) -> list[dict[str, Any]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _multilabel(golds: list[set[str]], preds: list[set[str]], labels: Iterable[str]) -> dict[str, Any]:
    per: dict[str, dict[str, float]] = {}
    TP = FP = FN = 0
    for label in labels:
        tp = sum(1 for g, p in zip(golds, preds, strict=True) if label in g and label in p)
        fp = sum(1 for g, p in zip(golds, preds, strict=True) if label not in g and label in p)
        fn = sum(1 for g, p in zip(golds, preds, strict=True) if label in g and label not in p)
        TP, FP, FN = TP + tp, FP + fp, FN + fn
        p, r, f = _f1(tp, fp, fn)
        per[label] = {"precision": p, "recall": r, "f1": f, "support": tp + fn}
    supported = [v["f1"] for v in per.values() if v["support"]]
    return {
        "micro_f1": _f1(TP, FP, FN)[2],
        "macro_f1": sum(supported) / len(supported) if supported else 0.0,
        "per_label": per,
    }


def score(examples: list[dict[str, Any]], predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics for predictions (dicts with categories/primary/subcategories/risk) against gold."""
    gold_cats = [set(e.get("categories", [])) for e in examples]
    pred_cats = [set(p["categories"]) for p in predictions]
    top = _multilabel(gold_cats, pred_cats, CATEGORIES)
    subs = _multilabel(
        [set(e.get("subcategories", [])) for e in examples],
        [set(p["subcategories"]) for p in predictions],
        SUBCATEGORIES,
    )
    primary_hits = [e.get("primary") == p["primary"] for e, p in zip(examples, predictions, strict=True)]
    with_concern = [hit for e, hit in zip(examples, primary_hits, strict=True) if e.get("primary")]
    risk: dict[str, dict[str, float]] = {}
    misses: list[dict[str, Any]] = []
    for flag in RISK_FLAGS:
        tp = fp = fn = 0
        for e, p in zip(examples, predictions, strict=True):
            g, r = flag in e.get("risk", []), flag in p["risk"]
            tp += g and r
            fp += (not g) and r
            fn += g and not r
            if g != r:
                misses.append(
                    {
                        "id": e.get("id"),
                        "flag": flag,
                        "kind": "missed" if g else "false alarm",
                        "text": e.get("text", "")[:120],
                    }
                )
        precision, recall, _ = _f1(tp, fp, fn)
        risk[flag] = {
            "recall": recall if tp + fn else 1.0,
            "precision": precision if tp + fp else 1.0,
            "support": tp + fn,
            "false_alarms": fp,
            "missed": fn,
        }
    traps = [(e, p) for e, p in zip(examples, predictions, strict=True) if e.get("trap")]
    trap_alarms = [e.get("id") for e, p in traps if set(p["risk"]) - set(e.get("risk", []))]
    none_gold = [p for e, p in zip(examples, predictions, strict=True) if not e.get("categories")]
    return {
        "examples": len(examples),
        "top_micro_f1": top["micro_f1"],
        "top_macro_f1": top["macro_f1"],
        "primary_accuracy": sum(primary_hits) / len(primary_hits) if primary_hits else 0.0,
        "primary_accuracy_with_concern": sum(with_concern) / len(with_concern) if with_concern else 0.0,
        "sub_micro_f1": subs["micro_f1"],
        "sub_macro_f1": subs["macro_f1"],
        "no_concern_correct": sum(1 for p in none_gold if not p["categories"]) / len(none_gold)
        if none_gold
        else 1.0,
        "per_category": {k: v for k, v in top["per_label"].items()},
        "per_subcategory": {k: v for k, v in subs["per_label"].items()},
        "risk": risk,
        "traps": len(traps),
        "trap_false_alarms": len(trap_alarms),
        "trap_false_alarm_ids": trap_alarms,
        "risk_errors": misses,
    }


def evaluate(examples: list[dict[str, Any]], analyzer: Any) -> dict[str, Any]:
    predictions = [analyzer.analyze(e["text"]).to_dict() for e in examples]
    return score(examples, predictions)


def report(metrics: dict[str, Any]) -> str:
    lines = [
        f"examples: {metrics['examples']}",
        f"top-level micro-F1: {metrics['top_micro_f1']:.3f}   macro-F1: {metrics['top_macro_f1']:.3f}",
        f"primary accuracy: {metrics['primary_accuracy']:.3f}   "
        f"(on examples with a concern: {metrics['primary_accuracy_with_concern']:.3f})",
        f"subcategory micro-F1: {metrics['sub_micro_f1']:.3f}   macro-F1: {metrics['sub_macro_f1']:.3f}",
        f"no-concern messages left empty: {metrics['no_concern_correct']:.3f}",
        "",
        "per category            P      R      F1   support",
    ]
    for label, v in metrics["per_category"].items():
        lines.append(
            f"  {label:20s} {v['precision']:.3f}  {v['recall']:.3f}  {v['f1']:.3f}  {v['support']:5d}"
        )
    lines.append("")
    lines.append("risk flag               recall  precision  support  missed  false alarms")
    for flag, v in metrics["risk"].items():
        lines.append(
            f"  {flag:20s} {v['recall']:.3f}   {v['precision']:.3f}     {v['support']:5d}  {v['missed']:6d}  "
            f"{v['false_alarms']:6d}"
        )
    lines.append(f"false alarms on traps: {metrics['trap_false_alarms']} of {metrics['traps']} traps")
    errors = metrics["risk_errors"]
    if errors:
        lines.append("")
        lines.append("risk errors:")
        for err in errors[:40]:
            lines.append(f"  [{err['kind']}] {err['flag']} {err['id']}: {err['text']}")
    return "\n".join(lines)


def main(path: str | None = None) -> int:
    """Evaluate the shipped analyzer on a labelled JSONL file; prints a report, returns 0."""
    from nlp.analyzer import load

    target = Path(path) if path else DEFAULT_DEV
    if not target.exists():
        print(f"no such file: {target}", file=sys.stderr)
        return 2
    examples = read_jsonl(target)
    metrics = evaluate(examples, load(ner=False))
    print(report(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
