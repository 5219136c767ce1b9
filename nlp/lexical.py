"""The lexical classifier: TF-IDF over character 1–3-grams and Sudachi word uni/bigrams, one
logistic regression per label (scikit-learn), trained by `nlp.train` next to the spaCy textcat.

Why a second model: the two read differently — the textcat's CNN learns from whole phrases, the
linear model weighs every n-gram of every writer evenly — and their mistakes overlap less than
either's alone. On 700 messages by a writer neither had seen (writer H, first sight), the average
of the two was better than the textcat on every measure (README, "NLP"). It costs ~1 ms.

Stored as plain arrays — the vocabularies as JSON, idf and weights in one .npz — never as a
pickle, because loading a pickle runs code and this file ships in the repo and in images.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

META_FILE = "lexical.json"
ARRAYS_FILE = "lexical.npz"


@dataclass(frozen=True)
class LexicalConfig:
    """The [lexical] section of nlp/configs/lexical.cfg."""

    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    C: float = 10.0
    balanced: bool = True
    # Share of the textcat in the blend; the lexical model gets the rest.
    textcat_weight: float = 0.4

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> LexicalConfig:
        return cls(
            char_ngrams=tuple(section["char_ngrams"]),
            word_ngrams=tuple(section["word_ngrams"]),
            min_df=int(section["min_df"]),
            C=float(section["C"]),
            balanced=bool(section["balanced"]),
            textcat_weight=float(section["textcat_weight"]),
        )


def _split(words: str) -> list[str]:
    return words.split()


def _vectorizers(config: LexicalConfig, char_vocab: dict | None = None, word_vocab: dict | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(
        analyzer="char",
        ngram_range=config.char_ngrams,
        sublinear_tf=True,
        min_df=config.min_df,
        vocabulary=char_vocab,
    )
    # The words arrive as Sudachi normalised forms joined by spaces (see `word_string`).
    words = TfidfVectorizer(
        tokenizer=_split,
        token_pattern=None,
        lowercase=False,
        ngram_range=config.word_ngrams,
        sublinear_tf=True,
        min_df=config.min_df,
        vocabulary=word_vocab,
    )
    return chars, words


def word_string(doc: Any) -> str:
    """The words the lexical model reads from a Doc made by nlp.components.SudachiTokenizer."""
    return " ".join(token.norm_ for token in doc)


class LexicalModel:
    def __init__(
        self, *, config: LexicalConfig, labels: list[str], vectorizers: tuple, weights, bias
    ) -> None:
        self.config = config
        self.labels = labels
        self._chars, self._words = vectorizers
        self._weights = weights  # (features, labels), float32
        self._bias = bias  # (labels,)

    def _features(self, texts: Sequence[str], words: Sequence[str]):
        from scipy.sparse import hstack

        return hstack([self._chars.transform(texts), self._words.transform(words)]).tocsr()

    def predict(self, texts: Sequence[str], words: Sequence[str]) -> numpy.ndarray:
        """Probabilities, one row per text and one column per label (`self.labels`)."""
        logits = self._features(texts, words) @ self._weights + self._bias
        return 1.0 / (1.0 + numpy.exp(-logits))

    @classmethod
    def fit(
        cls,
        *,
        texts: Sequence[str],
        words: Sequence[str],
        gold: Sequence[set[str]],
        labels: list[str],
        config: LexicalConfig,
    ) -> LexicalModel:
        from scipy.sparse import hstack
        from sklearn.linear_model import LogisticRegression

        chars, word_vectorizer = _vectorizers(config)
        features = hstack([chars.fit_transform(texts), word_vectorizer.fit_transform(words)]).tocsr()
        weights = numpy.zeros((features.shape[1], len(labels)), dtype=numpy.float32)
        bias = numpy.full(len(labels), -30.0, dtype=numpy.float32)  # a label nobody has: never
        for j, label in enumerate(labels):
            y = numpy.array([label in g for g in gold], dtype=int)
            if 0 < y.sum() < len(y):
                # lbfgs is deterministic: the same corpus gives the same weights.
                model = LogisticRegression(
                    C=config.C, max_iter=3000, class_weight="balanced" if config.balanced else None
                ).fit(features, y)
                weights[:, j] = model.coef_[0]
                bias[j] = model.intercept_[0]
        return cls(
            config=config, labels=labels, vectorizers=(chars, word_vectorizer), weights=weights, bias=bias
        )

    def save(self, directory: Path) -> None:
        meta = {
            "config": {**self.config.__dict__},
            "labels": self.labels,
            "char_vocabulary": {k: int(v) for k, v in self._chars.vocabulary_.items()},
            "word_vocabulary": {k: int(v) for k, v in self._words.vocabulary_.items()},
        }
        (directory / META_FILE).write_text(
            json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8"
        )
        numpy.savez_compressed(
            directory / ARRAYS_FILE,
            char_idf=self._chars.idf_.astype(numpy.float32),
            word_idf=self._words.idf_.astype(numpy.float32),
            # Half precision halves the file (~6 MB); the logits move by < 0.01.
            weights=self._weights.astype(numpy.float16),
            bias=self._bias,
        )

    @classmethod
    def load(cls, directory: Path) -> LexicalModel | None:
        """The stored model, or None when the directory has none (then the textcat reads alone)."""
        if not (directory / META_FILE).exists():
            return None
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        config = LexicalConfig.from_section(meta["config"])
        chars, words = _vectorizers(config, meta["char_vocabulary"], meta["word_vocabulary"])
        with numpy.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            chars.idf_ = arrays["char_idf"]
            words.idf_ = arrays["word_idf"]
            weights, bias = arrays["weights"].astype(numpy.float32), arrays["bias"]
        return cls(
            config=config, labels=meta["labels"], vectorizers=(chars, words), weights=weights, bias=bias
        )
