"""The lexical classifier (nlp/lexical.py): trained deterministically, stored without pickle,
loaded back to the same probabilities, and blended into the shipped analyzer's scores."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy
import pytest
import spacy

import nlp
from nlp.lexical import ARRAYS_FILE, META_FILE, LexicalConfig, LexicalModel, _vectorizers, word_string
from nlp.train import MODEL_DIR

TEXTS = [
    "借金の返済が苦しいです",
    "カードローンが返せない",
    "家賃を三か月滞納しています",
    "家賃が払えず退去と言われた",
    "息子が十年ひきこもっています",
    "兄がずっと部屋から出てこない",
] * 3
GOLD = [{"income"}, {"income"}, {"housing"}, {"housing"}, {"family"}, {"family"}] * 3
LABELS = ["income", "housing", "family", "agriculture"]  # nobody has "agriculture"


@pytest.fixture(scope="module")
def tokenizer():
    from nlp import components  # noqa: F401  (registers the Sudachi tokenizer)

    config = {"nlp": {"tokenizer": {"@tokenizers": "consult.SudachiTokenizer.v1", "split_mode": "C"}}}
    return spacy.blank("ja", config=config)


def _fit(tokenizer) -> LexicalModel:
    words = [word_string(tokenizer.make_doc(t)) for t in TEXTS]
    return LexicalModel.fit(
        texts=TEXTS, words=words, gold=GOLD, labels=LABELS, config=LexicalConfig(min_df=1)
    )


def _predict(model: LexicalModel, tokenizer, texts: list[str]) -> numpy.ndarray:
    return model.predict(texts, [word_string(tokenizer.make_doc(t)) for t in texts])


def test_it_learns_the_labels_and_never_predicts_an_unseen_one(tokenizer) -> None:
    model = _fit(tokenizer)
    probs = _predict(model, tokenizer, ["リボの借金が返せなくて", "家賃をためてしまった", "ひきこもりの息子"])
    assert [LABELS[i] for i in probs.argmax(axis=1)] == ["income", "housing", "family"]
    assert probs[:, LABELS.index("agriculture")].max() < 1e-6


def test_training_is_deterministic(tokenizer) -> None:
    texts = ["借金があります", "家賃のこと"]
    assert numpy.array_equal(
        _predict(_fit(tokenizer), tokenizer, texts), _predict(_fit(tokenizer), tokenizer, texts)
    )


def test_save_and_load_give_the_same_probabilities_without_pickle(tokenizer, tmp_path: Path) -> None:
    model = _fit(tokenizer)
    model.save(tmp_path)
    loaded = LexicalModel.load(tmp_path)
    assert loaded is not None and loaded.labels == LABELS
    texts = ["借金と家賃で困っています", "テスト", ""]
    # Weights are stored in half precision: probabilities move by far less than a threshold step.
    assert numpy.allclose(_predict(model, tokenizer, texts), _predict(loaded, tokenizer, texts), atol=1e-3)
    # Plain arrays only: an object array would need pickle to load.
    with zipfile.ZipFile(tmp_path / ARRAYS_FILE) as archive:
        for name in archive.namelist():
            with archive.open(name) as member:
                assert not numpy.lib.format.read_array(member, allow_pickle=False).dtype.hasobject


def test_inference_gives_what_scikit_learn_would(analyzer: nlp.Analyzer) -> None:
    # The shipped model predicts with its own TF-IDF lookup (nlp.lexical._TfidfBlock); the
    # vectorizers it was trained with, given the same vocabulary and idf, must agree with it.
    from scipy.sparse import hstack

    lexical = analyzer._lexical
    chars, words = _vectorizers(lexical.config)
    chars.set_params(vocabulary=lexical._vocabularies[0])
    words.set_params(vocabulary=lexical._vocabularies[1])
    chars.idf_, words.idf_ = lexical._idfs
    texts = [
        "息子が10年ひきこもっています。  年金だけでは苦しい",
        "ＡＢＣ abc\n\n改行　と　全角スペース",
        "😭😭 もうむり",
        "",
        "借金" * 600,
    ]
    word_texts = [word_string(analyzer._classifier.make_doc(t)) for t in texts]
    features = hstack([chars.transform(texts), words.transform(word_texts)]).tocsr()
    expected = 1.0 / (1.0 + numpy.exp(-(features @ lexical._weights + lexical._bias)))
    assert numpy.allclose(lexical.predict(texts, word_texts), expected, atol=1e-5)


def test_load_without_a_stored_model_is_none(tmp_path: Path) -> None:
    assert LexicalModel.load(tmp_path) is None


def test_the_shipped_analyzer_blends_both_models(analyzer: nlp.Analyzer) -> None:
    assert (MODEL_DIR / META_FILE).exists() and (MODEL_DIR / ARRAYS_FILE).exists()
    lexical = analyzer._lexical
    assert lexical is not None
    text = "家賃を滞納していて、息子は仕事を辞めてずっと家にいます"
    doc = analyzer._classifier(text)
    blended = analyzer.scores(text)
    alone = lexical.predict([text], [word_string(doc)])[0]
    weight = lexical.config.textcat_weight
    for label, value in zip(lexical.labels, alone, strict=True):
        expected = weight * doc.cats[label] + (1 - weight) * float(value)
        assert blended[label] == pytest.approx(expected, abs=1e-5), label
