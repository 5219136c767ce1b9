"""The lexical classifier: TF-IDF over character 1–3-grams and Sudachi word uni/bigrams, one
logistic regression per label (scikit-learn), trained by `nlp.train` next to the spaCy textcat.

Why a second model: the two read differently — the textcat's CNN learns from whole phrases, the
linear model weighs every n-gram of every writer evenly — and their mistakes overlap less than
either's alone. On six writers neither had seen (writers H–M, each at first sight), the average of
the two was better than the textcat on every measure (README, "NLP"). It costs ~0.1 ms.

Stored as plain arrays — the vocabularies as JSON, idf and weights in one .npz — never as a
pickle, because loading a pickle runs code and this file ships in the repo and in images.
"""

from __future__ import annotations

import json
import re
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


def _vectorizers(config: LexicalConfig):
    """scikit-learn's TF-IDF vectorizers, for training; `_TfidfBlock` reproduces their output."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(
        analyzer="char", ngram_range=config.char_ngrams, sublinear_tf=True, min_df=config.min_df
    )
    # The words arrive as Sudachi normalised forms joined by spaces (see `word_string`).
    words = TfidfVectorizer(
        tokenizer=_split,
        token_pattern=None,
        lowercase=False,
        ngram_range=config.word_ngrams,
        sublinear_tf=True,
        min_df=config.min_df,
    )
    return chars, words


def word_string(doc: Any) -> str:
    """The words the lexical model reads from a Doc made by nlp.components.SudachiTokenizer."""
    return " ".join(token.norm_ for token in doc)


_WHITE_SPACES = re.compile(r"\s\s+")


def char_ngrams(text: str, sizes: tuple[int, int]) -> list[str]:
    """Character n-grams as scikit-learn's analyzer="char" makes them (lowercased, runs of white
    space folded into one)."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    return [text[i : i + n] for n in range(sizes[0], sizes[1] + 1) for i in range(len(text) - n + 1)]


def word_ngrams(words: str, sizes: tuple[int, int]) -> list[str]:
    tokens = words.split()
    return [
        " ".join(tokens[i : i + n]) for n in range(sizes[0], sizes[1] + 1) for i in range(len(tokens) - n + 1)
    ]


class _TfidfBlock:
    """One fitted TF-IDF vectorizer at inference: vocabulary, idf, sublinear tf, L2 norm.

    scikit-learn's own transform costs ~0.4 ms of input checks and sparse-matrix building per
    message — most of this model's budget — for what is a dictionary lookup over ~300 n-grams.
    tests/nlp/test_nlp_lexical.py checks that both give the same vectors.
    """

    def __init__(self, vocabulary: dict[str, int], idf: numpy.ndarray, offset: int) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self.offset = offset  # where this block's columns start in the weight matrix

    def features(self, grams: list[str]) -> tuple[numpy.ndarray, numpy.ndarray]:
        counts: dict[int, int] = {}
        for gram in grams:
            column = self.vocabulary.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return numpy.zeros(0, dtype=numpy.int64), numpy.zeros(0, dtype=numpy.float32)
        columns = numpy.fromiter(counts, dtype=numpy.int64, count=len(counts))
        values = (1.0 + numpy.log(numpy.fromiter(counts.values(), dtype=numpy.float64))) * self.idf[columns]
        return columns + self.offset, (values / numpy.linalg.norm(values)).astype(numpy.float32)


class LexicalModel:
    def __init__(
        self,
        *,
        config: LexicalConfig,
        labels: list[str],
        vocabularies: tuple[dict[str, int], dict[str, int]],
        idfs: tuple[numpy.ndarray, numpy.ndarray],
        weights: numpy.ndarray,
        bias: numpy.ndarray,
    ) -> None:
        self.config = config
        self.labels = labels
        self._vocabularies = vocabularies
        self._idfs = idfs
        self._chars = _TfidfBlock(vocabularies[0], idfs[0], 0)
        self._words = _TfidfBlock(vocabularies[1], idfs[1], len(vocabularies[0]))
        self._weights = weights  # (features, labels), float32: char columns first, then words
        self._bias = bias  # (labels,)

    def predict(self, texts: Sequence[str], words: Sequence[str]) -> numpy.ndarray:
        """Probabilities, one row per text and one column per label (`self.labels`)."""
        logits = numpy.tile(self._bias.astype(numpy.float64), (len(texts), 1))
        for row, (text, word_text) in enumerate(zip(texts, words, strict=True)):
            for block, grams in (
                (self._chars, char_ngrams(text, self.config.char_ngrams)),
                (self._words, word_ngrams(word_text, self.config.word_ngrams)),
            ):
                columns, values = block.features(grams)
                if len(columns):
                    logits[row] += values @ self._weights[columns]
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
        vocabularies = tuple(
            {gram: int(column) for gram, column in fitted.vocabulary_.items()}
            for fitted in (chars, word_vectorizer)
        )
        idfs = (chars.idf_.astype(numpy.float32), word_vectorizer.idf_.astype(numpy.float32))
        return cls(
            config=config, labels=labels, vocabularies=vocabularies, idfs=idfs, weights=weights, bias=bias
        )

    def save(self, directory: Path) -> None:
        meta = {
            "config": {**self.config.__dict__},
            "labels": self.labels,
            "char_vocabulary": self._vocabularies[0],
            "word_vocabulary": self._vocabularies[1],
        }
        (directory / META_FILE).write_text(
            json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8"
        )
        numpy.savez_compressed(
            directory / ARRAYS_FILE,
            char_idf=self._idfs[0],
            word_idf=self._idfs[1],
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
        with numpy.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            idfs = (arrays["char_idf"], arrays["word_idf"])
            weights, bias = arrays["weights"].astype(numpy.float32), arrays["bias"]
        return cls(
            config=config,
            labels=meta["labels"],
            vocabularies=(meta["char_vocabulary"], meta["word_vocabulary"]),
            idfs=idfs,
            weights=weights,
            bias=bias,
        )
