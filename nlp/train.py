"""Train the shipped category model: `python -m nlp.train nlp/configs/textcat.cfg` (= `make train`).

Reproducible: a fixed seed in the config, and a deterministic train/dev split by a stable hash
of each example's id (~80/20), so adding examples never moves old ones between splits.

Steps: read nlp/data/corpus/*.jsonl → write nlp/data/splits/{train,dev}.jsonl → build spaCy
DocBins (normalised text; train also gets a kana-only copy of some examples, because residents
write in kana and the model must not depend on kanji) → `spacy train` with the config → copy the
best model to nlp/model/pipeline → tune two global thresholds on dev → evaluate on dev and write
nlp/model/metrics.json (tests/nlp re-evaluates and compares).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from nlp.analyzer import classifier_view
from nlp.lexical import LexicalConfig, LexicalModel, word_string
from nlp.normalize import normalize, to_hiragana
from nlp.taxonomy import CATEGORIES, RISK_FLAGS, SUBCATEGORIES

ROOT = Path(__file__).parent
CORPUS_DIR = ROOT / "data" / "corpus"
SPLITS_DIR = ROOT / "data" / "splits"
MODEL_DIR = ROOT / "model"
LEXICAL_CONFIG = ROOT / "configs" / "lexical.cfg"
# Multi-label outputs: categories, subcategories, risk flags, plus a one-hot view of the primary
# category ("primary_<id>", or "no_concern" when the message has none), which decides 主訴 and
# the no-concern gate from what the writer stresses rather than from a hand-written rule.
PRIMARY_LABELS = [f"primary_{c}" for c in CATEGORIES]
NO_CONCERN = "no_concern"
# "family" is both a category and a subcategory id, so subcategories get a prefix in the model.
SUB_LABELS = [f"sub_{s}" for s in SUBCATEGORIES]
LABELS = [*CATEGORIES, *SUB_LABELS, *RISK_FLAGS, *PRIMARY_LABELS, NO_CONCERN]
DEV_PERCENT = 20
KANA_AUGMENT_PERCENT = 15
TRAIN_CHARS = 4000


def bucket(key: str, salt: str = "split") -> int:
    """A stable 0–99 bucket for a string (sha1; Python's hash() is salted per process)."""
    return int(hashlib.sha1(f"{salt}:{key}".encode()).hexdigest(), 16) % 100


def is_dev(example: dict[str, Any]) -> bool:
    return bucket(str(example["id"])) < DEV_PERCENT


def read_corpus(directory: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    """All valid examples, in file order; unreadable lines and duplicate ids are skipped."""
    examples: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                ex = json.loads(line)
            except json.JSONDecodeError:
                continue  # a writer may be mid-line; the next run picks it up
            if not ex.get("text") or ex.get("id") in seen:
                continue
            if any(c not in CATEGORIES for c in ex.get("categories", [])):
                continue
            if any(s not in SUBCATEGORIES for s in ex.get("subcategories", [])):
                continue
            seen.add(ex["id"])
            examples.append(ex)
    return examples


def write_splits(examples: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    train = [e for e in examples if not is_dev(e)]
    dev = [e for e in examples if is_dev(e)]
    SPLITS_DIR.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", train), ("dev", dev)):
        with (SPLITS_DIR / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return train, dev


def kana_only(nlp: Any, text: str) -> str:
    """The text as a kana-only writer would type it (Sudachi readings, in hiragana)."""
    out = []
    for morpheme in nlp.tokenizer.morphemes(text):
        pos = morpheme.part_of_speech()[0]
        keep = pos in ("補助記号", "空白") or morpheme.surface().isdigit()
        out.append(morpheme.surface() if keep else to_hiragana(morpheme.reading_form()))
    return "".join(out)


def training_docs(nlp: Any, examples: list[dict[str, Any]], augment: bool) -> list[Any]:
    """One Doc per example (normalised, as the analyzer reads it) with its gold labels in
    `doc.cats`; with `augment`, some examples also as a kana-only copy."""
    docs = []
    for ex in examples:
        gold = set(ex.get("categories", [])) | {f"sub_{s}" for s in ex.get("subcategories", [])}
        gold |= set(ex.get("risk", []))
        gold.add(f"primary_{ex['primary']}" if ex.get("primary") else NO_CONCERN)
        cats = {label: float(label in gold) for label in LABELS}
        text = classifier_view(normalize(ex["text"])[:TRAIN_CHARS])
        variants = [text]
        if augment and bucket(str(ex["id"]), "kana") < KANA_AUGMENT_PERCENT:
            variants.append(kana_only(nlp, text))
        for variant in variants:
            doc = nlp.make_doc(variant)
            doc.cats = cats
            docs.append(doc)
    return docs


def docbin(docs: list[Any]) -> Any:
    from spacy.tokens import DocBin

    out = DocBin(store_user_data=False)
    for doc in docs:
        out.add(doc)
    return out


def train_lexical(docs: list[Any], output_dir: Path, config: LexicalConfig) -> None:
    """The second, linear model (nlp/lexical.py) on the same documents as the textcat."""
    model = LexicalModel.fit(
        texts=[doc.text for doc in docs],
        words=[word_string(doc) for doc in docs],
        gold=[{label for label, value in doc.cats.items() if value} for doc in docs],
        labels=LABELS,
        config=config,
    )
    model.save(output_dir)


def train(config_path: Path, output_dir: Path = MODEL_DIR) -> dict[str, Any]:
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.util import fix_random_seed, load_config

    from nlp import components  # noqa: F401  (registers consult.TextCatFeatureBOW.v1)

    config = load_config(config_path)
    seed = int(config["system"]["seed"])
    fix_random_seed(seed)
    examples = read_corpus()
    train_rows, dev_rows = write_splits(examples)
    print(f"corpus: {len(examples)} examples → train {len(train_rows)}, dev {len(dev_rows)}", file=sys.stderr)
    tokenizer = spacy.blank("ja", config={"nlp": {"tokenizer": dict(config["nlp"]["tokenizer"])}})
    with tempfile.TemporaryDirectory(prefix="nlp-train-") as tmp:
        work = Path(tmp)
        train_docs = training_docs(tokenizer, train_rows, augment=True)
        docbin(train_docs).to_disk(work / "train.spacy")
        docbin(training_docs(tokenizer, dev_rows, augment=False)).to_disk(work / "dev.spacy")
        spacy_train(
            config_path,
            work / "out",
            overrides={"paths.train": str(work / "train.spacy"), "paths.dev": str(work / "dev.spacy")},
        )
        pipeline_dir = output_dir / "pipeline"
        if pipeline_dir.exists():
            shutil.rmtree(pipeline_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work / "out" / "model-best", pipeline_dir)
    lexical_config = LexicalConfig.from_section(load_config(LEXICAL_CONFIG)["lexical"])
    train_lexical(train_docs, output_dir, lexical_config)
    return finish(output_dir, dev_rows, len(train_rows), seed)


def finish(output_dir: Path, dev_rows: list[dict[str, Any]], n_train: int, seed: int) -> dict[str, Any]:
    """Tune the global thresholds on dev, evaluate, and record metrics next to the model."""
    from nlp.analyzer import Thresholds, load
    from nlp.evaluate import evaluate

    thresholds_path = output_dir / "thresholds.json"
    if thresholds_path.exists():
        thresholds_path.unlink()
    analyzer = load(output_dir, ner=False)
    # Scores don't depend on thresholds: compute them once per text for the grid search.
    cache: dict[str, dict[str, float]] = {}
    model_scores = analyzer.scores

    def cached_scores(text: str) -> dict[str, float]:
        if text not in cache:
            cache[text] = model_scores(text)
        return cache[text]

    analyzer.scores = cached_scores  # type: ignore[method-assign]
    best: tuple[float, Thresholds] | None = None
    for category in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        for subcategory in (0.25, 0.3, 0.35, 0.4, 0.45):
            for no_concern in (0.3, 0.4, 0.5, 0.6):
                analyzer.thresholds = Thresholds(
                    category=category, subcategory=subcategory, no_concern=no_concern
                )
                m = evaluate(dev_rows, analyzer)
                objective = m["top_micro_f1"] + m["primary_accuracy"] + 0.5 * m["sub_micro_f1"]
                if best is None or objective > best[0] + 1e-9:
                    best = (objective, analyzer.thresholds)
    assert best is not None
    analyzer.thresholds = best[1]
    analyzer.thresholds.per_label.update(_risk_thresholds(analyzer, dev_rows))
    thresholds_path.write_text(json.dumps(best[1].__dict__, indent=2) + "\n", encoding="utf-8")
    analyzer.scores = model_scores  # type: ignore[method-assign]
    metrics = evaluate(dev_rows, analyzer)
    record = {
        "seed": seed,
        "train_examples": n_train,
        "dev_examples": len(dev_rows),
        "dev_ids_sha1": hashlib.sha1("\n".join(sorted(str(r["id"]) for r in dev_rows)).encode()).hexdigest(),
        "thresholds": best[1].__dict__,
        "dev": {k: v for k, v in metrics.items() if k not in ("risk_errors", "trap_false_alarm_ids")},
    }
    (output_dir / "metrics.json").write_text(
        json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return record


# Risk flags: the model may add a flag to the rules'. Per flag, the threshold (from the grid,
# always above the soft hint's bar) with the best F2 on dev — recall weighs four times as much as
# precision: a missed crisis is the worst bug, a false alarm only shows the numbers once more.
RISK_GRID = (0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # all above Thresholds.risk_hint
RISK_BETA = 2.0


def _f_beta(precision: float, recall: float, beta: float = RISK_BETA) -> float:
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall) if precision + recall else 0.0


def _risk_thresholds(analyzer: Any, dev_rows: list[dict[str, Any]]) -> dict[str, float]:
    from dataclasses import replace

    from nlp.evaluate import evaluate

    base = analyzer.thresholds
    best: dict[str, tuple[float, float]] = {}
    for threshold in sorted(RISK_GRID, reverse=True):  # ties keep the higher threshold
        trial = {**base.per_label, **dict.fromkeys(RISK_FLAGS, threshold)}
        analyzer.thresholds = replace(base, per_label=trial)
        risk = evaluate(dev_rows, analyzer)["risk"]
        for flag in RISK_FLAGS:
            score = _f_beta(risk[flag]["precision"], risk[flag]["recall"])
            if flag not in best or score > best[flag][0] + 1e-9:
                best[flag] = (score, threshold)
    analyzer.thresholds = base
    return {flag: threshold for flag, (_, threshold) in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="spaCy training config, e.g. nlp/configs/textcat.cfg")
    parser.add_argument("--output", type=Path, default=MODEL_DIR)
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="keep the trained model and splits; re-tune thresholds and rewrite metrics.json "
        "(after a change to rules or decision logic)",
    )
    args = parser.parse_args(argv)
    if args.rescore:
        from spacy.util import load_config

        from nlp.evaluate import read_jsonl

        seed = int(load_config(args.config)["system"]["seed"])
        n_train = len(read_jsonl(SPLITS_DIR / "train.jsonl"))
        record = finish(args.output, read_jsonl(SPLITS_DIR / "dev.jsonl"), n_train, seed)
    else:
        record = train(args.config, args.output)
    dev = record["dev"]
    print(
        f"dev: top micro-F1 {dev['top_micro_f1']:.3f}, primary {dev['primary_accuracy']:.3f}, "
        f"sub micro-F1 {dev['sub_micro_f1']:.3f}, suicide recall {dev['risk']['suicide_risk']['recall']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
