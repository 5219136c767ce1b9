"""Text normalisation for LINE writing.

Residents write on phones: full-width digits, half-width katakana, emoji, line breaks in the
middle of a sentence, repeated marks (！！！, ーーー), kana where a dictionary expects kanji.
Everything downstream (risk lexicon, keywords, facts, the trained model) sees the same
normalised text, so one place decides what "the same" means.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and variation selectors that break substring matches (emoji sequences, copy/paste).
_INVISIBLE = re.compile("[\u200b-\u200f\u2028\u2029\u2060-\u206f\ufe00-\ufe0f\ufeff]")
# Emoji and pictographs carry feeling but no words; they become a soft boundary.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b00-\u2bff\u3030\u303d]+"
)
# Tildes, long-vowel runs and elongation marks: 死にたい〜〜 / しにたーーい / つらぁぁい.
_TILDES = re.compile("[~〜～]+")
_LONG_RUN = re.compile("ー{2,}")
_SMALL_VOWEL_RUN = re.compile("([ぁぃぅぇぉァィゥェォっッ])\\1+")
_REPEAT_PUNCT = re.compile("([!?！？。、…・.])\\1+")
_SPACES = re.compile("[ \t\u3000]+")
_NEWLINES = re.compile("\\s*\n[\\s\n]*")
# Kaomoji and ASCII decoration add noise to keyword windows.
_WWW = re.compile("(?<=[^a-z])w{2,}|草{2,}")

_HIRA_TO_KATA = {c: c + 0x60 for c in range(ord("ぁ"), ord("ゖ") + 1)}
_KATA_TO_HIRA = {c + 0x60: c for c in range(ord("ぁ"), ord("ゖ") + 1)}


def normalize(text: str) -> str:
    """Return the canonical form used by every matcher: NFKC, lower-case, tidy whitespace.

    Line breaks become "。" when they end a clause without punctuation, because LINE users use
    the Enter key as a full stop and the negation/context windows must not run across them.
    """
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", text)
    out = _INVISIBLE.sub("", out)
    out = out.lower()
    out = _EMOJI.sub(" ", out)
    out = _TILDES.sub("", out)
    out = _LONG_RUN.sub("ー", out)
    out = _SMALL_VOWEL_RUN.sub("\\1", out)
    out = _REPEAT_PUNCT.sub("\\1", out)
    out = _WWW.sub(" ", out)
    out = out.replace("\r\n", "\n").replace("\r", "\n")
    out = _NEWLINES.sub("\n", out)
    out = re.sub("(?<=[^。、!?！？.\n])\n", "。", out)
    out = out.replace("\n", "")
    out = _SPACES.sub(" ", out)
    return out.strip()


def to_hiragana(text: str) -> str:
    return text.translate(_KATA_TO_HIRA)


def to_katakana(text: str) -> str:
    return text.translate(_HIRA_TO_KATA)


_SENTENCE_END = re.compile("(?<=[。!?！？])")


def sentences(text: str) -> list[str]:
    """Split normalised text into sentences (cheap; good enough for cue windows)."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def chunks(text: str, size: int = 2000) -> list[str]:
    """Cut long text into pieces of about `size` characters at sentence ends.

    Sudachi refuses inputs over ~49 kB and costs grow with length; risk detection runs over
    every chunk, the classifier only over the first few.
    """
    if len(text) <= size:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for sentence in sentences(text):
        while len(sentence) > size:  # a 5,000-character sentence without a full stop
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:size])
            sentence = sentence[size:]
        if len(current) + len(sentence) > size and current:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces
