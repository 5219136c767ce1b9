"""spaCy registry entries used by nlp/configs/textcat.cfg (imported before loading the model).

`consult.TextCatFeatureBOW.v1` is spaCy's bag-of-words text classifier with a richer, cheap
feature set for Japanese LINE writing:

- Sudachi *normalised forms* (NORM) as unigrams and bigrams, so 引きこもり / ひきこもり /
  引き籠もり are one feature;
- character 1–3-grams of the text, so kana-only writing, typos, dialect endings and words
  Sudachi splits oddly still share features with the standard spelling;
- the keyword cues of nlp/keywords.py and the risk lexicon as features, so the model learns how
  far to trust each rule instead of a hand-set weight;
- optionally (`vectors = true`) the mean of GiNZA's word vectors through a small dense layer,
  for words the corpus never used. The vectors are read from the installed `ja_ginza` package
  at run time, never copied into our model, so the shipped model stays a few MB.

Everything sparse is hashed into one linear layer (no tok2vec): inference is a few hundred hash
lookups per message.
"""

from __future__ import annotations

import threading
from functools import lru_cache, partial

import numpy
from spacy.attrs import NORM, ORTH
from spacy.ml.models.textcat import NEG_VALUE, resize_and_set_ref
from spacy.strings import hash_string
from spacy.util import registry
from thinc.api import Linear, Logistic, Model, SparseLinear_v2, add, chain, resizable, with_cpu
from thinc.layers.resizable import resize_linear_weighted

from nlp import keywords, risk

_CODEPOINTS = 0x110000
# Salts keep character n-grams of different sizes apart from each other and from token hashes.
_CHAR_SALT = numpy.uint64(1 << 62)
_CUE_KEYS = {
    **{("strong", sub): hash_string(f"__kw_strong__{sub}") for sub in keywords.STRONG},
    **{("weak", sub): hash_string(f"__kw_weak__{sub}") for sub in keywords.WEAK},
    **{("risk", flag): hash_string(f"__risk__{flag}") for flag in risk.FLAG_ORDER},
}
VECTOR_WIDTH = 300
# Seeded once; spaCy's fix_random_seed seeds numpy's global RNG, which this follows.
_RNG = numpy.random.default_rng(20260723)


def char_ngram_keys(text: str, sizes: tuple[int, ...]) -> numpy.ndarray:
    """uint64 keys for all character n-grams of the given sizes (vectorised, exact for n ≤ 3)."""
    if not text:
        return numpy.zeros((0,), dtype=numpy.uint64)
    cps = numpy.frombuffer(text.encode("utf-32-le"), dtype=numpy.uint32).astype(numpy.uint64)
    keys = []
    for n in sizes:
        if len(cps) < n:
            continue
        key = numpy.zeros(len(cps) - n + 1, dtype=numpy.uint64)
        for j in range(n):
            key = key * numpy.uint64(_CODEPOINTS) + cps[j : len(cps) - n + 1 + j]
        keys.append(key + _CHAR_SALT * numpy.uint64(n))
    return numpy.concatenate(keys) if keys else numpy.zeros((0,), dtype=numpy.uint64)


def cue_keys(text: str) -> list[int]:
    keys = [_CUE_KEYS[("strong", sub)] for sub in keywords.strong_hits(text)]
    keys += [_CUE_KEYS[("weak", sub)] for sub in keywords.weak_hits(text)]
    keys += [_CUE_KEYS[("risk", flag)] for flag in risk.detect(text)]
    return keys


def extract_features(
    token_ngrams: int, char_ngrams: tuple[int, ...], cues: bool, feature_dropout: float = 0.0
) -> Model:
    model: Model = Model("extract_features", _extract_forward)
    model.attrs["feature_dropout"] = feature_dropout
    model.attrs["token_ngrams"] = token_ngrams
    model.attrs["char_ngrams"] = tuple(char_ngrams)
    model.attrs["cues"] = cues
    return model


def _extract_forward(model: Model, docs, is_train: bool):
    ops = model.ops
    batch_keys = []
    for doc in docs:
        unigrams = numpy.asarray(doc.to_array([NORM]), dtype=numpy.uint64)
        parts = [unigrams]
        for n in range(2, model.attrs["token_ngrams"] + 1):
            if len(unigrams) >= n:
                parts.append(numpy.asarray(ops.ngrams(n, unigrams), dtype=numpy.uint64))
        parts.append(char_ngram_keys(doc.text, model.attrs["char_ngrams"]))
        if model.attrs["cues"]:
            parts.append(numpy.asarray(cue_keys(doc.text), dtype=numpy.uint64))
        # Presence, not counts: a long rant should not outweigh a short message.
        keys = numpy.unique(numpy.concatenate(parts))
        if is_train and model.attrs["feature_dropout"] and len(keys) > 1:
            # Feature dropout: the model may not lean on any single n-gram, so it generalises
            # to phrasings the corpus writers did not use.
            keep = _RNG.random(len(keys)) >= model.attrs["feature_dropout"]
            keys = keys[keep] if keep.any() else keys
        batch_keys.append(keys)
    lengths = ops.asarray([len(k) for k in batch_keys], dtype="int32")
    keys_out = numpy.concatenate(batch_keys) if batch_keys else numpy.zeros((0,), dtype=numpy.uint64)
    vals_out = ops.asarray(numpy.ones(len(keys_out), dtype="f"), dtype="f")

    def backprop(dY):
        return []

    return (keys_out, vals_out, lengths), backprop


# SudachiPy's tokenizer is not thread-safe: two threads inside tokenize() at once raise "Already
# borrowed" — and the worker's threads share one analyzer, so a crisis check could fail. Every
# use of a Sudachi tokenizer in this process (ours and GiNZA's, which shares it) takes this lock;
# tokenising costs ~0.6 ms, far less than the rest of a dialogue step.
SUDACHI_LOCK = threading.RLock()


class SudachiTokenizer:
    """Sudachi (split mode C) straight into a Doc whose NORM is Sudachi's normalised form.

    spaCy's own Japanese tokenizer also builds tags, morphology, readings and sub-tokens for
    every token; the classifier needs none of them, and skipping them halves tokenisation time
    (~0.6 ms instead of ~1.6 ms per message here).
    """

    # Sudachi refuses inputs over ~49 kB; cut well below that.
    MAX_CHARS = 4000

    def __init__(self, vocab, split_mode: str = "C") -> None:
        from sudachipy import tokenizer as sudachi_tokenizer

        self.vocab = vocab
        self.split_mode = split_mode
        self._sudachi = None  # created on first use, or shared with GiNZA's (see `share`)
        self._mode = getattr(sudachi_tokenizer.Tokenizer.SplitMode, split_mode)

    def share(self, sudachi) -> None:
        """Use an existing SudachiPy tokenizer (GiNZA's) instead of opening the dictionary again."""
        self._sudachi = sudachi

    def morphemes(self, text: str) -> list:
        if self._sudachi is None:
            from sudachipy import dictionary

            self._sudachi = dictionary.Dictionary(dict="core").create()
        out = []
        with SUDACHI_LOCK:
            for start in range(0, len(text), self.MAX_CHARS):
                piece = text[start : start + self.MAX_CHARS]
                out += [m for m in self._sudachi.tokenize(piece, self._mode) if m.surface()]
        return out

    def __call__(self, text: str):
        from spacy.tokens import Doc

        with SUDACHI_LOCK:  # read the morphemes before another thread tokenises
            morphemes = self.morphemes(text)
            words = [m.surface() for m in morphemes]
            norms = [m.normalized_form() for m in morphemes]
        doc = Doc(self.vocab, words=words, spaces=[False] * len(words))
        for token, norm in zip(doc, norms, strict=True):
            token.norm_ = norm
        return doc

    def person_name_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans Sudachi tags as personal names (名詞-固有名詞-人名)."""
        spans = []
        with SUDACHI_LOCK:
            morphemes = [(m.part_of_speech(), m.begin(), m.end()) for m in self.morphemes(text)]
        for pos, begin, end in morphemes:
            if pos[1] == "固有名詞" and pos[2] == "人名":
                spans.append((begin, end))
        return spans

    # Nothing to save: the dictionary comes from the installed sudachidict-core package.
    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> SudachiTokenizer:
        return self

    def to_disk(self, path, **kwargs) -> None:
        return None

    def from_disk(self, path, **kwargs) -> SudachiTokenizer:
        return self


@registry.tokenizers("consult.SudachiTokenizer.v1")
def create_sudachi_tokenizer(split_mode: str = "C"):
    def factory(nlp):
        return SudachiTokenizer(nlp.vocab, split_mode)

    return factory


_SHARED_VECTORS: list = []


def share_vectors(vectors) -> None:
    """Use the vectors of an already loaded ja_ginza pipeline instead of reading them again."""
    _SHARED_VECTORS[:] = [vectors]


@lru_cache(maxsize=1)
def _vectors_from_package():
    from spacy.util import get_package_path
    from spacy.vectors import Vectors

    base = get_package_path("ja_ginza")
    vocab_dir = next(base.glob("ja_ginza-*/vocab"))
    return Vectors().from_disk(vocab_dir)


def ginza_vectors():
    """GiNZA's word vectors (20k rows, 480k keys), from the installed package, read once."""
    return _SHARED_VECTORS[0] if _SHARED_VECTORS else _vectors_from_package()


def mean_vectors() -> Model:
    return Model("mean_vectors", _mean_vectors_forward, dims={"nO": VECTOR_WIDTH})


def _mean_vectors_forward(model: Model, docs, is_train: bool):
    table = ginza_vectors()
    out = numpy.zeros((len(docs), VECTOR_WIDTH), dtype="f")
    for i, doc in enumerate(docs):
        if not len(doc):
            continue
        rows = table.find(keys=doc.to_array(ORTH).tolist())
        missing = rows < 0
        if missing.any():
            rows[missing] = table.find(keys=doc.to_array(NORM)[missing].tolist())
        rows = rows[rows >= 0]
        if len(rows):
            mean = table.data[rows].mean(axis=0)
            norm = numpy.linalg.norm(mean)
            out[i] = mean / norm if norm else mean
    out = model.ops.asarray(out)

    def backprop(dY):
        return []

    return out, backprop


@registry.architectures("consult.TextCatFeatureBOW.v1")
def build_feature_bow_classifier(
    exclusive_classes: bool,
    token_ngrams: int = 2,
    char_ngrams: list[int] | tuple[int, ...] = (1, 2, 3),
    cues: bool = True,
    vectors: bool = False,
    feature_dropout: float = 0.0,
    length: int = 65536,
    nO: int | None = None,
) -> Model:
    if exclusive_classes:
        raise ValueError("consult.TextCatFeatureBOW.v1 is for textcat_multilabel")
    length = 2 ** (length - 1).bit_length()
    fill_defaults = {"b": NEG_VALUE, "W": 0}
    sparse_linear = SparseLinear_v2(nO=nO, length=length)
    resizable_layer = resizable(
        sparse_linear, resize_layer=partial(resize_linear_weighted, fill_defaults=fill_defaults)
    )
    sparse = with_cpu(
        chain(extract_features(token_ngrams, tuple(char_ngrams), cues, feature_dropout), resizable_layer),
        sparse_linear.ops,
    )
    scores = add(sparse, chain(mean_vectors(), Linear(nO=nO, nI=VECTOR_WIDTH))) if vectors else sparse
    model = chain(scores, Logistic())
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = True
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=resizable_layer)
    return model
