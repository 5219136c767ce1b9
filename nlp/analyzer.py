"""The analyzer: one object, loaded once, that reads a message and returns an `Analysis`.

Hot path (`analyze`): normalise → Sudachi tokens → trained textcat (nlp/configs/textcat.cfg)
→ keyword cues → decision rules for categories/subcategories/主訴 → risk lexicon over the
*whole* text (nlp/risk.py) → facts (nlp/facts.py) → a short summary. The full GiNZA pipeline
(parser, NER) is never on the hot path; only `mask` uses GiNZA's NER.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nlp import keywords, risk
from nlp.facts import Facts, extract_facts
from nlp.lexical import LexicalModel, word_string
from nlp.mask import mask as mask_text
from nlp.normalize import chunks, normalize, sentences, to_hiragana
from nlp.taxonomy import CATEGORIES, RISK_FLAGS, SUBCATEGORIES, parent_of

MODEL_DIR = Path(__file__).parent / "model"
NO_CONCERN = "no_concern"
SUB_PREFIX = "sub_"  # model label of a subcategory: "sub_family" vs the category "family"
# The classifier reads at most this many characters (in sentence-aligned chunks); risk reads all.
CLASSIFY_CHARS = 4000
CHUNK_CHARS = 1000
NER_CHARS = 1000

# "What troubles me most": the sentence carrying such a cue decides the primary category.
_PRIMARY_CUE = re.compile(
    "一番(?:困|悩|心配|つら|辛|気がかり|大き|の問題|の悩み|なんとかしたい|相談したい|の心配)"
    "|いちばん(?:困|悩|心配)|何より|なにより|特に(?:困|悩|心配)|最も(?:困|悩|心配)|とにかく"
    "|本当に困って|一番は|メインは|主に"
)


# Messages made only of greetings, thanks, tests, "I want to talk" and punctuation carry no
# concern yet, whatever a classifier thinks of their characters (テスト looks like 試験).
_NO_CONTENT = re.compile(
    "こんにちは|こんばんは|おはよう(?:ございます)?|はじめまして|初めまして|よろしく(?:お願い|おねがい)?(?:します|いたします)?"
    "|ありがと(?:う)?(?:ございました|ございます)?|どうも|すみません|すいません|ごめんなさい|お願いします|おねがいします"
    "|テスト|てすと|test|hello|hi|送信|スタンプ|画像|写真|動画|動作確認|接続確認|(?:先日|その節|いつも)は?お世話に(?:なりました|なっております)|了解(?:です|しました)?|おけ|ok|はい|いいえ"
    "|(?:ちょっと|少し)?(?:相談|そうだん)(?:したい|させて|して|が)?(?:こと)?(?:が)?(?:ある|あります|です|ください|もいいですか|いいですか)?"
    "|(?:どこ|だれ|誰)に(?:相談|そうだん)(?:したら|すれば)(?:いい|よい|ええ)(?:の|ん)?か(?:わから|分から)(?:ない|なくて|へん)(?:ねん|です)?"
    "|はじめて(?:です|つかいます|使います)?|です|ます"
    "|(?:話|はなし)を?(?:聞|き)いて(?:ほしい|ください|もらえますか)"
)
_KANA_ONLY = re.compile("[ぁ-んァ-ンー]+")
_NOISE = re.compile("[\\W_a-z0-9ー]+")


_KATAKANA = re.compile("[ァ-ヺ]")
_JAPANESE = re.compile("[ぁ-ゖァ-ヺ一-龥]")


def _mostly_katakana(text: str) -> bool:
    japanese = len(_JAPANESE.findall(text))
    return japanese > 0 and len(_KATAKANA.findall(text)) / japanese > 0.6


_SPACE_BETWEEN_JAPANESE = re.compile("(?<=[ぁ-ゖァ-ヺー一-龥、。]) (?=[ぁ-ゖァ-ヺー一-龥、。])")


def classifier_view(norm: str) -> str:
    """What the classifier reads: no spaces between Japanese words (やさしい日本語 writers put
    one after every word: わたし の おとうと は), and text written all in katakana (ｼｬｯｷﾝ
    ｶｴｾﾅｲ) as hiragana, which the kana-only training copies cover."""
    view = _SPACE_BETWEEN_JAPANESE.sub("", norm)
    return to_hiragana(view) if _mostly_katakana(view) else view


def has_no_content(norm: str) -> bool:
    """True when nothing is left after greetings, thanks, tests, "I want to consult", idioms
    (ゲームで死んだ) and noise."""
    residue = _NOISE.sub("", _NO_CONTENT.sub("", risk.strip_idioms(norm.replace(" ", ""))))
    return not residue or (len(residue) <= 2 and _KANA_ONLY.fullmatch(residue) is not None)


@dataclass
class Analysis:
    categories: list[str]
    primary: str | None
    subcategories: list[str]
    risk: list[str]
    facts: Facts
    summary: str
    scores: dict[str, float] = field(default_factory=dict)
    # A soft signal, never a flag: no flag fired but the message may still be about a crisis.
    # Only used to show the safety numbers gently; never on the sheet or in the urgent queue.
    risk_hint: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["facts"] = self.facts.to_dict()
        return data


@dataclass
class Thresholds:
    """Decision thresholds, stored with the model in thresholds.json.

    `python -m nlp.train` picks the three global values on the dev split (a small grid), and
    per risk flag the model threshold with the best F2 on dev (nlp.train.RISK_BETA)
    (stored in `per_label` under the flag's id): the model only ever *adds* a flag to the
    rules', and on writing the rules have never seen it is the model that finds the crisis.
    `per_label` can override one label ("income", "sub_rent") without retraining.
    """

    category: float = 0.5
    subcategory: float = 0.5
    no_concern: float = 0.5
    risk_model: float = 0.9
    # Lower bar for the soft hint (see Analyzer.risk_hint), picked on dev: with it 238 of 246 dev
    # crises get the numbers (234 at 0.25) while it fires on 2.5% of dev messages without a flag
    # (and on 12% of the deliberately tricky unseen traps).
    risk_hint: float = 0.2
    per_label: dict[str, float] = field(default_factory=dict)

    def of_cat(self, category: str) -> float:
        return self.per_label.get(category, self.category)

    def of_sub(self, subcategory: str) -> float:
        return self.per_label.get(SUB_PREFIX + subcategory, self.subcategory)

    def of_risk(self, flag: str) -> float:
        return self.per_label.get(flag, self.risk_model)


class Analyzer:
    """Holds the loaded pipelines; load once per process and share it.

    Calls are safe from several threads as far as the GIL serialises SudachiPy and spaCy
    inference; the analyzer keeps no per-call state of its own.
    """

    def __init__(
        self,
        *,
        tokenizer: Any,
        classifier: Any | None,
        ner: Any | None,
        thresholds: Thresholds,
        lexical: LexicalModel | None = None,
    ):
        self._tokenizer = tokenizer  # a spaCy Language whose tokenizer is nlp.components.SudachiTokenizer
        self._classifier = classifier  # trained pipeline with a textcat_multilabel, or None
        self._lexical = lexical  # the second, linear model averaged with the textcat (nlp/lexical.py)
        self._ner = ner  # ja_ginza with tok2vec+ner, for masking names; optional
        self.thresholds = thresholds

    @property
    def has_model(self) -> bool:
        return self._classifier is not None

    # -- public API -------------------------------------------------------------------------

    def crisis(self, text: str) -> tuple[list[str], bool]:
        """The check the dialogue runs on every message: the risk flags — the rules over the whole
        text (no length cap) plus the flags the model adds, as `analyze` returns them — and the
        soft hint (see `Analysis.risk_hint`), which is False whenever a flag fires."""
        norm = normalize(text)
        scores = self.scores(classifier_view(norm[:CLASSIFY_CHARS]))
        flags = self._flags(norm, scores)
        return [f for f in risk.FLAG_ORDER if f in flags], self._hint(norm, scores, flags=flags)

    def risk(self, text: str) -> list[str]:
        return self.crisis(text)[0]

    def risk_hint(self, text: str) -> bool:
        return self.crisis(text)[1]

    def _hint(self, norm: str, scores: dict[str, float], *, flags: set[str]) -> bool:
        # Hint and flags never both: a flag already brings the crisis numbers and the offer.
        if flags:
            return False
        # A flag the rules read and discarded (negated, over now, an idiom or lyrics) must not
        # come back as a hint either: 死にたいとは思っていない gets no numbers. An idiom the rules
        # blanked may still hint when the model reads danger (息ができない感じがする).
        discarded = risk.discarded_flags(norm, idioms=False)
        model_hint = not risk.only_idioms(norm) and any(
            scores.get(flag, 0.0) >= self.thresholds.risk_hint for flag in RISK_FLAGS if flag not in discarded
        )
        return model_hint or bool(risk.hint_roots(norm))

    def analyze(self, text: str) -> Analysis:
        norm = normalize(text)
        head = norm[:CLASSIFY_CHARS]
        scores = self.scores(classifier_view(head))
        categories, subcategories, primary = self._decide(head, scores)
        flags = self._flags(norm, scores)
        risk_flags = [f for f in risk.FLAG_ORDER if f in flags]
        categories, subcategories, primary = _with_risk_categories(
            categories, subcategories, primary, risk_flags
        )
        facts = extract_facts(norm[:20000])
        return Analysis(
            categories=categories,
            primary=primary,
            subcategories=subcategories,
            risk=risk_flags,
            facts=facts,
            summary=summarize(categories, subcategories, primary, risk_flags, facts),
            scores={k: round(v, 4) for k, v in scores.items()},
            risk_hint=self._hint(norm, scores, flags=flags),
        )

    def _flags(self, norm: str, scores: dict[str, float]) -> set[str]:
        flags = set(risk.detect(norm))  # the whole message, however long
        if risk.only_idioms(norm):
            return flags  # スマホの電池が死んだ: the model would read only the idiom's words
        discarded = risk.discarded_flags(norm)
        for flag in RISK_FLAGS:
            # The model may add a flag (OR, for recall), never remove one found by the rules,
            # and never bring back one the rules read and set aside (殴られたことはありません,
            # 消えたいって歌詞).
            if scores.get(flag, 0.0) >= self.thresholds.of_risk(flag) and flag not in discarded:
                flags.add(flag)
        return flags

    def mask(self, text: str) -> str:
        return mask_text(text, self._name_spans)

    # -- internals --------------------------------------------------------------------------

    def scores(self, norm: str) -> dict[str, float]:
        """Label → probability from the models (max over chunks), or keyword scores without one.

        With a lexical model, each label's probability is the weighted mean of the two models'."""
        if self._classifier is None:
            return _keyword_scores(norm)
        pieces = chunks(norm, CHUNK_CHARS) or [""]
        docs = list(self._classifier.pipe(pieces))
        per_piece = [dict(doc.cats) for doc in docs]
        if self._lexical is not None:
            weight = self._lexical.config.textcat_weight
            lexical = self._lexical.predict(pieces, [word_string(doc) for doc in docs])
            for cats, row in zip(per_piece, lexical, strict=True):
                for label, value in zip(self._lexical.labels, row, strict=True):
                    cats[label] = weight * cats.get(label, 0.0) + (1 - weight) * float(value)
        scores: dict[str, float] = {}
        for cats in per_piece:
            for label, value in cats.items():
                scores[label] = max(scores.get(label, 0.0), float(value))
        return scores

    def _decide(self, norm: str, scores: dict[str, float]) -> tuple[list[str], list[str], str | None]:
        th = self.thresholds
        if has_no_content(norm):
            return [], [], None
        strong = keywords.strong_hits(to_hiragana(norm) if _mostly_katakana(norm) else norm)
        strong = {**keywords.strong_hits(norm), **strong}
        # Categories and subcategories live in separate score tables: "family" is both a
        # category id and a subcategory id; the model names subcategories "sub_<id>".
        cat = {c: scores.get(c, 0.0) for c in CATEGORIES}
        sub = {s: scores.get(SUB_PREFIX + s, 0.0) for s in SUBCATEGORIES}
        primary_scores = {c: scores.get(f"primary_{c}", 0.0) for c in CATEGORIES}
        if self._classifier is not None:
            # The model's own "no concern" reading wins over keywords: 引きこもりの家族会はどこ？
            # asked for a friend is a question, not a consultation.
            no_concern = scores.get(NO_CONCERN, 0.0)
            if no_concern >= th.no_concern and no_concern > max(primary_scores.values()):
                return [], [], None
            # Keywords that name a subcategory outright lift it (and its parent) over the line.
            for s in strong:
                if s in keywords.TRUSTED:
                    sub[s] = max(sub[s], th.subcategory + 0.01)
                    cat[parent_of(s)] = max(cat[parent_of(s)], th.category + 0.01)
        subs = [s for s in SUBCATEGORIES if sub[s] >= th.of_sub(s)]
        cats = [c for c in CATEGORIES if cat[c] >= th.of_cat(c)]
        cats += [parent_of(s) for s in subs if parent_of(s) not in cats]
        if not cats and self._classifier is not None:
            best = max(CATEGORIES, key=lambda c: primary_scores[c])
            if primary_scores[best] >= th.category:
                cats = [best]
            elif strong:
                # The model hesitates but the message names a need (ノルマがきつい, 市営住宅):
                # a consultation with a keyword is not "no concern".
                named = max(strong, key=lambda s: (strong[s], sub[s]))
                subs.append(named)
                cats = [parent_of(named)]
        cats = [c for c in CATEGORIES if c in cats]
        # Every ticked category needs a subcategory: a keyword-backed one first, else the
        # best-scoring one.
        for c in cats:
            if not any(parent_of(s) == c for s in subs):
                children = [s for s in SUBCATEGORIES if parent_of(s) == c]
                subs.append(max(children, key=lambda s: (strong.get(s, 0), sub[s])))
        subs = [s for s in SUBCATEGORIES if s in subs]
        primary = self._primary(norm, cats, cat, sub, primary_scores) if cats else None
        return cats, subs, primary

    def _primary(
        self,
        norm: str,
        cats: list[str],
        cat: dict[str, float],
        sub: dict[str, float],
        primary_scores: dict[str, float],
    ) -> str:
        if len(cats) == 1:
            return cats[0]
        cued = self._cued_primary(norm, cats)
        if cued:
            return cued
        if self._classifier is not None:
            return max(cats, key=lambda c: (primary_scores[c], cat[c]))

        def strength(c: str) -> float:
            best_sub = max((sub[s] for s in SUBCATEGORIES if parent_of(s) == c), default=0.0)
            return cat[c] + 0.5 * best_sub

        return max(cats, key=strength)

    def _cued_primary(self, norm: str, cats: list[str]) -> str | None:
        """The category named where the writer says what troubles them most (一番困っているのは…)."""
        for sentence in sentences(norm):
            cue = _PRIMARY_CUE.search(sentence)
            if not cue:
                continue
            # 一番困っているのは借金です (topic after the cue) / 借金が一番困っています (before it,
            # within the same clause).
            after = sentence[cue.start() :]
            before = re.split("[、,]|けど|けれど|が、", sentence[: cue.start()])[-1]
            for window in (after, before):
                hits = keywords.strong_hits(window)
                named = [c for c in cats if any(parent_of(sub) == c for sub in hits)]
                if named:
                    return max(named, key=lambda c: sum(n for sub, n in hits.items() if parent_of(sub) == c))
            local = self.scores(classifier_view(after))
            best = max(cats, key=lambda c: local.get(c, 0.0))
            if local.get(best, 0.0) >= 0.5:
                return best
        return None

    def _name_spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = list(self._tokenizer.tokenizer.person_name_spans(text))
        if self._ner is not None:
            # GiNZA's NER costs ~50 ms per 1,000 characters: run it in sentence-aligned pieces
            # over the first NER_CHARS only; Sudachi's 人名 tags and the honorific patterns
            # still cover the rest of a long text.
            offset = 0
            for piece in chunks(text[:NER_CHARS], CHUNK_CHARS):
                with _register_architectures().SUDACHI_LOCK:  # GiNZA shares our Sudachi tokenizer
                    ents = self._ner(piece).ents
                for ent in ents:
                    if ent.label_ == "Person":
                        spans.append((offset + ent.start_char, offset + ent.end_char))
                offset += len(piece)
        return spans


# A crisis is also a consultation: staff tick メンタルヘルス for suicidal thoughts (always, as
# in the corpus), DV・虐待 or 病名・医療 when nothing else describes the message.
_RISK_ALWAYS = {risk.SUICIDE: "mental_health"}
_RISK_IF_EMPTY = {risk.VIOLENCE: "dv_abuse", risk.MEDICAL: "illness"}


def _with_risk_categories(
    categories: list[str], subcategories: list[str], primary: str | None, risk_flags: list[str]
) -> tuple[list[str], list[str], str | None]:
    subs = set(subcategories)
    for flag in risk_flags:
        if flag in _RISK_ALWAYS:
            subs.add(_RISK_ALWAYS[flag])
        elif flag in _RISK_IF_EMPTY and not subs:
            subs.add(_RISK_IF_EMPTY[flag])
    cats = set(categories) | {parent_of(s) for s in subs}
    ordered_cats = [c for c in CATEGORIES if c in cats]
    ordered_subs = [s for s in SUBCATEGORIES if s in subs]
    if primary is None and ordered_cats:
        primary = parent_of(ordered_subs[0]) if len(ordered_cats) > 1 else ordered_cats[0]
    return ordered_cats, ordered_subs, primary


def _keyword_scores(norm: str) -> dict[str, float]:
    """Rule-only scores (no shipped model): strong cues count fully, weak cues a little."""
    scores: dict[str, float] = {}
    strong = keywords.strong_hits(norm)
    weak = keywords.weak_hits(norm)
    for sub, n in strong.items():
        scores[SUB_PREFIX + sub] = min(0.99, 0.6 + 0.1 * n)
    for sub, n in weak.items():
        if SUB_PREFIX + sub not in scores and strong:
            scores[SUB_PREFIX + sub] = min(0.45, 0.2 + 0.05 * n)
    for label, value in list(scores.items()):
        parent = parent_of(label.removeprefix(SUB_PREFIX))
        scores[parent] = max(scores.get(parent, 0.0), value)
    return scores


_SUMMARY_PEOPLE_MAX = 4


def summarize(
    categories: list[str], subcategories: list[str], primary: str | None, risk_flags: list[str], facts: Facts
) -> str:
    """A short neutral summary for staff, built from labels and facts (no resident wording)."""
    if not categories and not risk_flags:
        return "具体的な相談内容はまだありません。"
    parts: list[str] = []
    if risk_flags:
        parts.append("【要確認】" + "・".join(RISK_FLAGS[f] for f in risk_flags) + "の兆候あり。")
    if facts.subjects:
        parts.append("対象: " + "・".join(facts.subjects[:_SUMMARY_PEOPLE_MAX]) + "。")
    if primary:
        subs = [SUBCATEGORIES[s][1] for s in subcategories if parent_of(s) == primary]
        parts.append(f"主訴: {CATEGORIES[primary]}（{'・'.join(subs)}）。")
    others = [c for c in categories if c != primary]
    if others:
        described = []
        for c in others:
            subs = [SUBCATEGORIES[s][1] for s in subcategories if parent_of(s) == c]
            described.append(f"{CATEGORIES[c]}（{'・'.join(subs)}）")
        parts.append("ほかに: " + "、".join(described) + "。")
    details = []
    if facts.ages:
        details.append("年齢: " + "・".join(facts.ages[:4]))
    if facts.durations:
        details.append("期間: " + "・".join(facts.durations[:3]))
    if facts.household:
        details.append("世帯: " + "・".join(facts.household[:5]))
    if facts.amounts:
        details.append("金額: " + "・".join(facts.amounts[:3]))
    if facts.agencies:
        details.append("関係機関: " + "・".join(facts.agencies[:5]))
    if details:
        parts.append("／".join(details) + "。")
    return "".join(parts)


def load(model_dir: Path | str | None = None, *, ner: bool = True) -> Analyzer:
    """Load the analyzer once (offline). Uses the shipped model under nlp/model/ when present.

    `ner=False` skips GiNZA's NER (names are then masked from Sudachi's 人名 tags only), which
    saves ~300 MB for batch jobs like `classify` that never mask.
    """
    import spacy

    directory = Path(model_dir) if model_dir else MODEL_DIR
    pipeline_dir = directory / "pipeline"
    components = _register_architectures()
    ner_pipeline = None
    if ner:
        ner_pipeline = spacy.load(
            "ja_ginza", exclude=["parser", "morphologizer", "compound_splitter", "bunsetu_recognizer"]
        )
        # One copy of GiNZA's word vectors in memory, not two.
        components.share_vectors(ner_pipeline.vocab.vectors)
    thresholds = Thresholds()
    classifier = lexical = None
    if (pipeline_dir / "config.cfg").exists():
        classifier = spacy.load(pipeline_dir)
        lexical = LexicalModel.load(directory)
        settings = directory / "thresholds.json"
        if settings.exists():
            thresholds = Thresholds(**json.loads(settings.read_text(encoding="utf-8")))
    tokenizer = classifier if classifier is not None else spacy.blank("ja", config=_TOKENIZER_CONFIG)
    if ner_pipeline is not None:
        # ... and one Sudachi dictionary (GiNZA's tokenizer wraps a SudachiPy tokenizer).
        tokenizer.tokenizer.share(ner_pipeline.tokenizer.tokenizer)
    return Analyzer(
        tokenizer=tokenizer, classifier=classifier, ner=ner_pipeline, thresholds=thresholds, lexical=lexical
    )


_TOKENIZER_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "consult.SudachiTokenizer.v1", "split_mode": "C"}}}


def _register_architectures() -> Any:
    # The trained config names our registered functions; importing registers them.
    from nlp import components

    return components
